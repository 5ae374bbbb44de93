"""One `SlipTrainer` optimiser step (plain SGD) on a fixed set of 8 rows, however it is split.

    python tests/training/distributed_step.py OUT                        # 1 process, batch 8
    python tests/training/distributed_step.py OUT --accumulation 2       # 1 process, 2 accumulation steps of 4
    torchrun --nproc_per_node 2 tests/training/distributed_step.py OUT   # 2 processes, batch 4 each

Rank 0 writes the logged loss terms and every parameter after the step to OUT/step.safetensors. SGD makes the weight
change proportional to the gradient, so equal weights mean equal gradients. Captions have different lengths, so a
per-process or per-micro-batch token mean would differ from the global one. `--contrastive-weight 0` leaves the
caption loss alone (accumulation adds steps, not contrastive negatives).
"""

import argparse
import tempfile

import torch
from safetensors.torch import save_file

from tests.models.test_modeling_slip import SlipModelTester

ROWS = 8
LOGGED = ("loss", "contrastive_loss", "caption_loss", "contrastive_accuracy")


def rows() -> list[dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(1)
    shape = (ROWS, 2, 4, 8)
    batch = dict(
        sensor_values=torch.randn(shape, generator=generator),
        sensor_mask=torch.ones(shape, dtype=torch.bool),
        sensor_time=torch.rand(shape, generator=generator),
        patch_size=torch.full((ROWS,), 8),
        input_ids=torch.randint(4, 99, (ROWS, 9), generator=generator),
        attention_mask=torch.ones(ROWS, 9, dtype=torch.long),
    )
    for i in range(ROWS):  # left padding of different lengths
        batch["attention_mask"][i, : i % 5] = 0
    batch["input_ids"][:, 0] = 2
    batch["input_ids"] = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, 0)
    batch["labels"] = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    batch["labels"][:, 0] = -100
    return [{name: value[i] for name, value in batch.items()} for i in range(ROWS)]


def stack(features: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {name: torch.stack([f[name] for f in features]) for name in features[0]}


def tiny_config(contrastive_weight: float = 1.0):
    """The model trained by the step: small, without dropout, so that every split computes the same function."""
    return SlipModelTester().get_config(
        sensor_config=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, base_patch_size=8,
                           hidden_dropout=0.0, attention_dropout=0.0),
        contrastive_loss_weight=contrastive_weight,
    )


def main(out_dir: str, accumulation: int, contrastive_weight: float) -> None:
    from slip_sensor import SlipForConditionalGeneration
    from slip_sensor.training.arguments import TrainingArguments
    from slip_sensor.training.trainer import SlipTrainer

    torch.manual_seed(0)
    model = SlipForConditionalGeneration(tiny_config(contrastive_weight))
    with tempfile.TemporaryDirectory() as scratch:
        args = TrainingArguments(
            output_dir=scratch, use_cpu=True, report_to="none", save_strategy="no", seed=0,
            per_device_train_batch_size=ROWS // accumulation, gradient_accumulation_steps=accumulation,
            max_steps=1, optim="sgd", learning_rate=0.5, lr_scheduler_type="constant", weight_decay=0.0,
            max_grad_norm=0.0, logging_steps=1, remove_unused_columns=False, average_tokens_across_devices=True,
            disable_tqdm=True,
        )
        if args.world_size > 1:
            args.per_device_train_batch_size = ROWS // args.world_size
        trainer = SlipTrainer(model=model, args=args, train_dataset=rows(), data_collator=stack)
        trainer.train()
    if trainer.is_world_process_zero():
        logged = trainer.state.log_history[0]
        terms = {f"log.{name}": torch.tensor(float(logged[name])) for name in LOGGED if name in logged}
        weights = {f"weight.{n}": p.detach().contiguous() for n, p in trainer.model.named_parameters()}
        save_file({**terms, **weights}, f"{out_dir}/step.safetensors")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--accumulation", type=int, default=1)
    parser.add_argument("--contrastive-weight", type=float, default=1.0)
    cli = parser.parse_args()
    main(cli.out_dir, cli.accumulation, cli.contrastive_weight)
