"""One SGD step of SLIP's training loss with the model sharded by torch's FSDP2 (`fully_shard`) over CPU processes.

    torchrun --nproc_per_node 2 tests/training/fsdp_step.py OUT

The same rows, model and optimiser as `distributed_step.py` (one `SlipTrainer` step, batch 8); here every layer of the
classes in `_no_split_modules` (the README's wrap list) and then the root are sharded, each process keeps a shard of
each parameter, and the loss is `training/losses.py`'s `SlipLoss` over the global batch. FSDP2 averages gradients
across processes as DDP does, so the step must reach the one-process weights. Rank 0 writes every parameter after the
step (shards gathered back into full tensors) to OUT/step.safetensors.

Accelerate enables FSDP only for accelerator processes (its MULTI_CPU launch keeps DDP), so on CPU the sharding is
applied here with torch's API directly, as Accelerate's FSDP2 plugin applies it.
"""

import argparse
import os

import torch
import torch.distributed as dist
from safetensors.torch import save_file
from torch.distributed.fsdp import fully_shard

from tests.training.distributed_step import ROWS, rows, stack, tiny_config


def main(out_dir: str) -> None:
    from slip_sensor import SlipForConditionalGeneration
    from slip_sensor.training.losses import SlipLoss, labelled_tokens

    dist.init_process_group("gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    model = SlipForConditionalGeneration(tiny_config())
    wrapped = set(model._no_split_modules)
    layers = [module for module in model.modules() if type(module).__name__ in wrapped]
    assert len(layers) >= 3, f"no layer of {sorted(wrapped)} found to shard"
    for layer in layers:
        fully_shard(layer)
    # FSDP2 shards no 0-d parameter. The logit scale stays whole on every process without a gradient reduction: the
    # contrastive loss is computed over the gathered global batch on every process, so its gradient is already the
    # same everywhere (the comparison with one process checks this too).
    fully_shard(model, ignored_params={model.base_model.logit_scale})
    model.train()

    all_rows = rows()
    batch = stack(all_rows[rank * ROWS // world_size : (rank + 1) * ROWS // world_size])
    num_items = labelled_tokens(stack(all_rows)["labels"])  # the whole step's tokens, as the Trainer counts them
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    labels = batch["labels"]
    outputs = model(**batch, return_loss=False)
    loss_fn = SlipLoss(model.config.contrastive_loss_weight, model.config.caption_loss_weight, world_size)
    loss_fn(outputs, labels, num_items).loss.backward()
    optimizer.step()

    weights = {f"weight.{name}": getattr(param, "full_tensor", param.detach)().detach().contiguous()
               for name, param in model.named_parameters()}
    if rank == 0:
        save_file(weights, os.path.join(out_dir, "step.safetensors"))
    dist.destroy_process_group()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    main(parser.parse_args().out_dir)
