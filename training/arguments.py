"""Arguments of pretraining and fine-tuning, and the recipes that set them.

Every field can be given to `training.api.pretrain`/`sft` as a keyword, on the scripts' command line
(`--max-steps 50` or `--max_steps 50`), or in a recipe: a YAML/JSON file, or the name of one in `training/recipes/`
(`slip-tiny-cpu`). Keywords and the command line win over the recipe, the recipe over the defaults.
"""

from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser
from transformers import TrainingArguments as HfTrainingArguments

from slip_sensor.data.builder import DEFAULT_SOURCES

from .recipe_files import read_recipe


@dataclass
class ModelArguments:
    preset: str = field(default="slip-tiny", metadata={"help": "SlipConfig preset for a new model."})
    model_name_or_path: str | None = field(
        default=None, metadata={"help": "Start from this SLIP folder or Hub id instead of a new model."}
    )
    text_backbone: str | None = field(
        default=None,
        metadata={"help": "Gemma-3 causal LM (folder or Hub id) for the text side and tokenizer. Without it the text "
                  "side starts random and a tokenizer is trained on the corpus captions."},
    )
    attn_implementation: str = field(default="sdpa", metadata={"help": "eager or sdpa."})
    text_pooling: str | None = field(
        default=None,
        metadata={"help": "Text embedding of a new model: last_token, penultimate_token or mean (default: the "
                  "preset's)."},
    )
    num_trainable_text_encoder_layers: int | None = field(
        default=None,
        metadata={"help": "Freeze the token embedding and all but this many top text-encoder layers (the paper "
                  "trains 4 of Gemma's 12); default: everything trains."},
    )


@dataclass
class DataArguments:
    corpus: str | None = field(
        default=None, metadata={"help": "Corpus folder or Hub id. Default: build a small corpus in OUTPUT_DIR/corpus."}
    )
    corpus_size: int = field(default=2000, metadata={"help": "Rows of the corpus built when --corpus is not given."})
    corpus_seed: int = field(default=0, metadata={"help": "Seed of the built corpus."})
    corpus_sources: str = field(default=",".join(DEFAULT_SOURCES), metadata={"help": "Sources of the built corpus."})
    group_by_shape: bool = field(
        default=True, metadata={"help": "Batch samples of similar channel and patch counts together (less padding)."}
    )
    shape_group_batches: int = field(
        default=50,
        metadata={"help": "Batches per shape-sorted random group: fewer keep more varied shapes in a batch (easier "
                  "contrastive negatives, more padding)."},
    )
    caption_mix: str = field(
        default="all",
        metadata={"help": "Texts paired with a sensor: 'all' (every caption level and paraphrase) or 'short' (the "
                  "semantic and structural levels, alone or joined; no statistics)."},
    )
    oversample_labelled: int = field(
        default=1,
        metadata={"help": "Repeat each row of a labelled real dataset (source 'aeon/...') this many times per epoch."},
    )


@dataclass
class TrainingArguments(HfTrainingArguments):
    """The Trainer's arguments plus SLIP's optimiser policy."""

    sensor_encoder_lr_scale: float = field(
        default=1.0,
        metadata={"help": "Learning-rate multiplier of the sensor encoder's patch embedding and transformer layers "
                  "(the pooler, projections and text side keep the full rate)."},
    )
    skip_nonfinite_steps: int = field(
        default=0,
        metadata={"help": "Optimiser steps with a non-finite loss or gradient norm to skip (no update; counted as "
                  "`nonfinite_steps` in the logs) before the run stops. With 0 the first one stops it."},
    )
    resume_if_possible: bool = field(
        default=False,
        metadata={"help": "With `--resume-from-checkpoint last` and no complete checkpoint in OUTPUT_DIR, start "
                  "fresh instead of stopping."},
    )


@dataclass
class SftArguments:
    model_name_or_path: str = field(metadata={"help": "Pretrained SLIP folder or Hub id."})
    dataset: str | None = field(
        default=None,
        metadata={"help": "QA/caption rows: a Hub dataset id, parquet/CSV/JSON files (comma-separated paths or a glob, "
                  "read by `datasets.load_dataset`), or a folder written by `save_to_disk`. A validation (or test) "
                  "split is held out. Rows need `sensor`, `sampling_rate`, `prompt` and `answer`. Default: questions "
                  "generated over a corpus."},
    )
    use_lora: bool = field(default=False, metadata={"help": "Train LoRA adapters instead of all weights."})
    merge_lora: bool = field(
        default=True,
        metadata={"help": "With --use-lora: save the model with the adapters merged in (true), or only the PEFT "
                  "adapter folder and the processor (false), loaded with `peft.PeftModel.from_pretrained("
                  "SlipForConditionalGeneration.from_pretrained(base), folder)`."},
    )
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    augment: bool = field(default=True, metadata={"help": "Jitter, scaling and (where allowed) time reversal."})
    eval_questions: int = field(default=200, metadata={"help": "Held-out rows scored before and after."})


def resolve_arguments(dataclass_types: tuple, defaults: dict, recipe: str | Path | None = None, **arguments) -> tuple:
    """The given dataclasses filled from `defaults`, then the recipe's values, then `arguments` (keyword form of
    any field); an unknown name raises."""
    values = {**defaults, **(read_recipe(recipe) if recipe is not None else {}), **arguments}
    return HfArgumentParser(dataclass_types).parse_dict(values, allow_extra_keys=False)


def parse_arguments(dataclass_types: tuple, argv: list[str] | None, defaults: dict) -> tuple:
    """Parses `--config RECIPE` (a file or a recipe name) plus command-line flags into the given dataclasses.

    `defaults` are the script's own TrainingArguments defaults (they differ from the Trainer's)."""
    parser = HfArgumentParser(dataclass_types)
    parser.add_argument("--config", default=None, help="recipe: a YAML or JSON file, or a name in training/recipes/")
    parser.set_defaults(**defaults)
    namespace, _ = parser.parse_known_args(argv)
    if namespace.config:
        parser.set_defaults(**read_recipe(namespace.config))
    *parsed, _ = parser.parse_args_into_dataclasses(args=argv, return_remaining_strings=False, look_for_args_file=False)
    return tuple(parsed)


TRAINING_DEFAULTS = dict(
    output_dir="slip-output",
    per_device_train_batch_size=16,
    learning_rate=5e-4,
    weight_decay=0.05,
    adam_beta2=0.95,
    lr_scheduler_type="cosine",
    warmup_steps=0.05,
    max_grad_norm=1.0,
    logging_steps=10,
    save_steps=500,
    save_total_limit=3,
    remove_unused_columns=False,
    report_to="none",
    dataloader_num_workers=0,
    average_tokens_across_devices=True,  # the caption loss is the token mean of the whole global batch
)

SFT_DEFAULTS = {**TRAINING_DEFAULTS, "learning_rate": 5e-4, "adam_beta2": 0.999, "num_train_epochs": 4}

__all__ = [
    "DataArguments",
    "ModelArguments",
    "SFT_DEFAULTS",
    "SftArguments",
    "TRAINING_DEFAULTS",
    "TrainingArguments",
    "parse_arguments",
    "resolve_arguments",
]
