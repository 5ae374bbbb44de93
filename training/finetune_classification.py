"""Fine-tunes a pretrained SLIP sensor tower as a classifier (`SlipForSensorClassification`), full or with LoRA.

    python training/finetune_classification.py --model-name-or-path slip-tiny --dataset basicmotions \
        --output-dir runs/basicmotions --class-weights balanced
    python training/finetune_classification.py --dataset my_rows/ --label-column activity --use-lora true

See `training/classification.py` for the data and the method; prints the results JSON (also written to the output
folder beside the model and processor).
"""

import json
import sys

from slip_sensor.errors import exit_status
from slip_sensor.training.arguments import parse_arguments
from slip_sensor.training.classification import CLASSIFICATION_DEFAULTS, ClassificationArguments, run_classification
from transformers import TrainingArguments


def main(argv: list[str] | None = None) -> int:
    method, training_args = parse_arguments((ClassificationArguments, TrainingArguments), argv, CLASSIFICATION_DEFAULTS)

    def fine_tune() -> None:
        run = run_classification(method, training_args)
        if run.trainer.is_world_process_zero():
            print(json.dumps(run.results))

    return exit_status(fine_tune, "finetune_classification.py")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
