"""Supervised fine-tuning of a pretrained SLIP model for question answering or captioning (caption loss on the
answer tokens only), full or with LoRA.

    accelerate launch training/sft.py --model-name-or-path runs/tiny --output-dir runs/tiny-qa --use-lora
    python training/sft.py --model-name-or-path runs/tiny --dataset my_qa_rows/ --num-train-epochs 4

Rows need `sensor` (`[time][channel]`), `sampling_rate`, `prompt` and `answer` (plus optional `patch_size` and
`time_flip_ok`). Without `--dataset`, questions are generated from the true facts of a corpus (`--corpus`, or one
built in OUTPUT_DIR/corpus): its train split for training, its validation split held out for the QA accuracy
reported before and after fine-tuning (`qa_results.json`). With LoRA the adapters are merged into the saved model.
"""

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from transformers.trainer_utils import get_last_checkpoint

from slip_sensor import SlipForConditionalGeneration
from slip_sensor.evaluation.answer_generation import generate_answers, qa_scores
from slip_sensor.processors import SlipProcessor
from slip_sensor.training.arguments import TRAINING_DEFAULTS, DataArguments, TrainingArguments, parse_arguments
from slip_sensor.training.collator import SensorAugmentation, SlipInstructionCollator
from slip_sensor.training.epoch_dataset import EpochCallback, EpochSeededDataset
from slip_sensor.training.plots import TrainingCurvesCallback
from slip_sensor.training.pretrain import corpus_path
from slip_sensor.training.trainer import SlipTrainer

# Attention and MLP projections of the text stack, the decoder cross-attention and the sensor encoder.
LORA_TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class SftArguments:
    model_name_or_path: str = field(metadata={"help": "Pretrained SLIP folder or Hub id."})
    dataset: str | None = field(default=None, metadata={"help": "Folder of QA/caption rows (datasets format)."})
    use_lora: bool = field(default=False, metadata={"help": "Train LoRA adapters instead of all weights."})
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    augment: bool = field(default=True, metadata={"help": "Jitter, scaling and (where allowed) time reversal."})
    eval_questions: int = field(default=200, metadata={"help": "Held-out questions scored before and after."})


SFT_DEFAULTS = {**TRAINING_DEFAULTS, "learning_rate": 5e-4, "adam_beta2": 0.999, "num_train_epochs": 4}


def qa_datasets(sft_args: SftArguments, data_args: DataArguments, training_args: TrainingArguments):
    """(train rows, held-out rows): from `--dataset`, or questions over the corpus's train / validation splits."""
    from datasets import load_from_disk

    from slip_sensor.data import load_corpus
    from slip_sensor.data.questions import build_qa_dataset

    if sft_args.dataset:
        return load_from_disk(sft_args.dataset), None
    path = corpus_path(data_args, training_args)
    train = build_qa_dataset(load_corpus(path, split="train"), seed=training_args.seed)
    held_out = build_qa_dataset(load_corpus(path, split="validation"), seed=training_args.seed + 1)
    return train, held_out.select(range(min(sft_args.eval_questions, len(held_out))))


def with_lora(model, sft_args: SftArguments):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=sft_args.lora_r,
        lora_alpha=sft_args.lora_alpha,
        lora_dropout=sft_args.lora_dropout,
        target_modules=LORA_TARGET_MODULES,
    )
    return get_peft_model(model, config)


def main(argv: list[str] | None = None) -> dict:
    sft_args, data_args, training_args = parse_arguments((SftArguments, DataArguments, TrainingArguments), argv, SFT_DEFAULTS)
    model = SlipForConditionalGeneration.from_pretrained(sft_args.model_name_or_path)
    processor = SlipProcessor.from_pretrained(sft_args.model_name_or_path)
    train_rows, held_out = qa_datasets(sft_args, data_args, training_args)
    results = {}
    if held_out is not None:
        results["before"] = qa_scores(held_out, generate_answers(model, processor, held_out))
    if sft_args.use_lora:
        model = with_lora(model, sft_args)
    draw = SensorAugmentation().draw if sft_args.augment else (lambda row, rng: row)
    train_dataset = EpochSeededDataset(train_rows, draw, seed=training_args.seed)
    trainer = SlipTrainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        data_collator=SlipInstructionCollator(processor),
        callbacks=[TrainingCurvesCallback(), EpochCallback(train_dataset)],
    )
    resume = training_args.resume_from_checkpoint
    trainer.train(resume_from_checkpoint=get_last_checkpoint(training_args.output_dir) if resume == "last" else resume)
    model = trainer.model.merge_and_unload() if sft_args.use_lora else trainer.model
    if held_out is not None:
        results["after"] = qa_scores(held_out, generate_answers(model, processor, held_out))
    if trainer.is_world_process_zero():
        model.save_pretrained(training_args.output_dir)
        processor.save_pretrained(training_args.output_dir)
        if results:
            (Path(training_args.output_dir) / "qa_results.json").write_text(json.dumps(results, indent=2))
            print(json.dumps(results))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
