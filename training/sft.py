"""Supervised fine-tuning of a pretrained SLIP model for question answering or captioning (caption loss on the
answer tokens only), full or with LoRA, from the command line.

    accelerate launch training/sft.py --model-name-or-path runs/tiny --output-dir runs/tiny-qa --use-lora true
    python training/sft.py --model-name-or-path runs/tiny --dataset my_rows/ --num-train-epochs 4

`--dataset` is a Hub dataset id, parquet/CSV/JSON files (`rows.parquet`, `train.csv,more.csv`, a glob) read by
`datasets.load_dataset`, or a folder written by `save_to_disk`. Rows need `sensor` (`[channel][time]`, as a corpus
stores it; JSON text in a CSV cell), `sampling_rate` (Hz, null when unknown), `prompt` and `answer` (plus optional
`patch_size` and `time_flip_ok`). Without `--dataset`, questions are generated from the true facts of a corpus
(`--corpus`, or one built in OUTPUT_DIR/corpus): its train split for training, its validation split held out.
Held-out rows (the corpus's, or a `--dataset` validation or test split) are answered before and after fine-tuning and
scored (QA accuracy, BLEU-4, METEOR, ROUGE-L) into `qa_results.json`. With LoRA the adapters are merged into the
saved model, or with `--merge-lora false` saved alone (the PEFT adapter folder and the processor). From Python:
`slip_sensor.training.api.sft(model_name_or_path, **arguments)`.
"""

import json
import sys

from slip_sensor.errors import exit_status
from slip_sensor.training.api import run_sft
from slip_sensor.training.arguments import (
    SFT_DEFAULTS,
    DataArguments,
    SftArguments,
    TrainingArguments,
    parse_arguments,
)


def main(argv: list[str] | None = None) -> int:
    """Fine-tunes and prints the results; a problem the user can fix (a `UserError`) is one line on stderr and exit
    status 2."""
    arguments = parse_arguments((SftArguments, DataArguments, TrainingArguments), argv, SFT_DEFAULTS)

    def fine_tune() -> None:
        run = run_sft(*arguments)
        if run.trainer.is_world_process_zero():
            print(json.dumps(run.results))

    return exit_status(fine_tune, "sft.py")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
