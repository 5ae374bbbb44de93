"""One SLIP training step on a fixed batch of 8, split evenly over however many processes run it.

    python tests/training/distributed_step.py OUT                      # 1 process, batch 8
    torchrun --nproc_per_node 2 tests/training/distributed_step.py OUT # 2 processes, batch 4 each

Rank 0 writes the loss terms (averaged over processes) and every parameter gradient to OUT/step.safetensors. Run under
Accelerate on CPU, the model is wrapped in DDP, so the gradients are DDP-averaged, and the captions have different
lengths on the two processes — the case where a per-process token mean would differ from the global one.
"""

import sys

import torch
from accelerate import Accelerator
from safetensors.torch import save_file

from tests.models.test_modeling_slip import SlipModelTester


def main(out_dir: str) -> None:
    accelerator = Accelerator(cpu=True)
    tester = SlipModelTester(batch_size=8, channels=2, patches=4, text_length=9)
    torch.manual_seed(0)
    config = tester.get_config(
        sensor_config=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, base_patch_size=8,
                           hidden_dropout=0.0, attention_dropout=0.0)
    )
    from slip_sensor import SlipForConditionalGeneration

    model = SlipForConditionalGeneration(config)
    generator = torch.Generator().manual_seed(1)
    shape = (8, 2, 4, 8)
    batch = dict(
        sensor_values=torch.randn(shape, generator=generator),
        sensor_mask=torch.ones(shape, dtype=torch.bool),
        sensor_time=torch.rand(shape, generator=generator),
        patch_size=torch.full((8,), 8),
        input_ids=torch.randint(4, 99, (8, 9), generator=generator),
        attention_mask=torch.ones(8, 9, dtype=torch.long),
    )
    batch["attention_mask"][:4, :5] = 0  # the first process's captions are shorter
    batch["input_ids"][:, 0] = 2
    batch["labels"] = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    per_process = 8 // accelerator.num_processes
    start = accelerator.process_index * per_process
    local = {k: v[start : start + per_process] for k, v in batch.items()}

    model = accelerator.prepare(model)
    model.train()
    out = model(**local)
    accelerator.backward(out.loss)
    terms = {name: getattr(out, name).detach() for name in ("loss", "contrastive_loss", "caption_loss")}
    terms = {name: accelerator.reduce(value, reduction="mean") for name, value in terms.items()}
    if accelerator.is_main_process:
        grads = {f"grad.{n}": p.grad.contiguous() for n, p in accelerator.unwrap_model(model).named_parameters()
                 if p.grad is not None}
        save_file({**terms, **grads}, f"{out_dir}/step.safetensors")
    accelerator.wait_for_everyone()


if __name__ == "__main__":
    main(sys.argv[1])
