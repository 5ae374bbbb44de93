"""Command-line and config-file arguments shared by the pretraining and fine-tuning scripts.

Every field can be given on the command line (`--max-steps 50` or `--max_steps 50`) or in a YAML/JSON file passed
with `--config FILE`; the command line wins over the file, the file over the defaults.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser
from transformers import TrainingArguments as HfTrainingArguments


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
    attn_implementation: str = field(default="sdpa", metadata={"help": "eager, sdpa or flash_attention_2."})
    text_pooling: str | None = field(
        default=None,
        metadata={"help": "Text embedding of a new model: last_token, penultimate_token or mean (default: the "
                  "preset's)."},
    )


@dataclass
class DataArguments:
    corpus: str | None = field(
        default=None, metadata={"help": "Corpus folder or Hub id. Default: build a small corpus in OUTPUT_DIR/corpus."}
    )
    corpus_size: int = field(default=2000, metadata={"help": "Rows of the corpus built when --corpus is not given."})
    corpus_seed: int = field(default=0, metadata={"help": "Seed of the built corpus."})
    corpus_sources: str = field(default="synthetic,physio,aeon", metadata={"help": "Sources of the built corpus."})
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


def parse_arguments(dataclass_types: tuple, argv: list[str] | None, defaults: dict) -> tuple:
    """Parses `--config FILE` (YAML or JSON) plus command-line flags into the given dataclasses.

    `defaults` are the script's own TrainingArguments defaults (they differ from the Trainer's)."""
    parser = HfArgumentParser(dataclass_types)
    parser.add_argument("--config", default=None, help="YAML or JSON file with any of these arguments")
    parser.set_defaults(**defaults)
    namespace, _ = parser.parse_known_args(argv)
    if namespace.config:
        path = Path(namespace.config)
        if path.suffix in (".yaml", ".yml"):
            import yaml

            values = yaml.safe_load(path.read_text())
        else:
            values = json.loads(path.read_text())
        parser.set_defaults(**values)
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

__all__ = ["DataArguments", "ModelArguments", "TRAINING_DEFAULTS", "TrainingArguments", "parse_arguments"]
