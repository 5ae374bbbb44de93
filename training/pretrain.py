"""SLIP pretraining (contrastive + captioning) with the Hugging Face Trainer, from the command line.

    accelerate launch training/pretrain.py --preset slip-tiny --max-steps 50 --output-dir runs/tiny
    python training/pretrain.py --config slip-tiny-cpu --output-dir runs/tiny    # a recipe (name or file)
    torchrun --nproc_per_node 2 training/pretrain.py --use-cpu ...               # two CPU processes (DDP)
    accelerate launch --config_file fsdp.yaml training/pretrain.py ...           # FSDP, see README "Distributed training"

Without `--corpus`, a small corpus (synthetic, physiological and aeon train splits) is built in
`OUTPUT_DIR/corpus` first. Without `--text-backbone`, the text side starts random and a tokenizer is trained on the
corpus captions. The output folder holds the model, processor and tokenizer (loadable with
`AutoModel.from_pretrained(OUTPUT_DIR, trust_remote_code=True)`), checkpoints, and `training_curves.png`.
`--resume-from-checkpoint last` continues from the newest checkpoint in OUTPUT_DIR. From Python:
`slip_sensor.training.api.pretrain(recipe, **arguments)`.
"""

import sys

from slip_sensor.errors import exit_status
from slip_sensor.training.api import run_pretraining
from slip_sensor.training.arguments import (
    TRAINING_DEFAULTS,
    DataArguments,
    ModelArguments,
    TrainingArguments,
    parse_arguments,
)


def main(argv: list[str] | None = None) -> int:
    """Trains; a problem the user can fix (a `UserError`) is one line on stderr and exit status 2."""
    arguments = parse_arguments((ModelArguments, DataArguments, TrainingArguments), argv, TRAINING_DEFAULTS)

    def train() -> None:
        run_pretraining(*arguments)

    return exit_status(train, "pretrain.py")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
