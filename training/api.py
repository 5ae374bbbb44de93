"""Pretraining and supervised fine-tuning as functions: `pretrain(...)` and `sft(...)`.

    from slip_sensor.training.api import pretrain, sft

    run = pretrain("slip-tiny-cpu", output_dir="runs/tiny", max_steps=50)   # a recipe, keywords override it
    run.trainer.state.log_history, run.processor
    qa = sft("runs/tiny", output_dir="runs/tiny-qa", use_lora=True, max_steps=20)
    qa.results["after"]["accuracy"]

Keywords are the fields of `training.arguments` (`ModelArguments`, `DataArguments`, `TrainingArguments`, and for
`sft` `SftArguments`); `training/pretrain.py` and `training/sft.py` parse the same fields from the command line and
call `run_pretraining` / `run_sft`.
"""

import json
import logging
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import torch
from transformers import AutoTokenizer, TrainerCallback

from slip_sensor.convert_text_backbone import from_text_backbone
from slip_sensor.data import load_corpus
from slip_sensor.data.builder import ensure_corpus
from slip_sensor.errors import UserError
from slip_sensor.hub_export import write_hub_folder
from slip_sensor.modeling_slip.configuration_slip import SlipConfig
from slip_sensor.modeling_slip.modeling_slip import SlipForConditionalGeneration
from slip_sensor.processors import SlipFeatureExtractor, SlipProcessor, train_caption_tokenizer

from .arguments import (
    SFT_DEFAULTS,
    TRAINING_DEFAULTS,
    DataArguments,
    ModelArguments,
    SftArguments,
    TrainingArguments,
    resolve_arguments,
)
from .checkpoints import last_complete_checkpoint
from .collator import (
    SensorAugmentation,
    SlipInstructionCollator,
    SlipPretrainingCollator,
    caption_candidates,
    held_out_caption,
    sample_caption,
    sample_channels,
)
from .epoch_dataset import ComposedTransform, EpochCallback, EpochSeededDataset
from .freezing import freeze_text_encoder_layers
from .plots import TrainingCurvesCallback
from .sampler import sensor_shape_keys
from .trainer import SlipTrainer

logger = logging.getLogger(__name__)

# Attention and MLP projections of the text stack, the decoder cross-attention and the sensor encoder.
LORA_TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


class TrainingRun(NamedTuple):
    """What a training function returns: the trainer (model, state, logs), the processor saved beside the model, and
    the run's results (the Trainer's train metrics; for `sft` also the held-out scores before and after)."""

    trainer: SlipTrainer
    processor: SlipProcessor
    results: dict[str, Any]


def pretrain(
    recipe: str | Path | None = None, callbacks: list[TrainerCallback] | None = None, **arguments: Any
) -> TrainingRun:
    """Pretrains a SLIP model (contrastive + captioning) and saves it with its processor in `output_dir`.

    Args:
        recipe (`str` or `Path`, *optional*):
            A recipe file or the name of one in `training/recipes/` (`"slip-tiny-cpu"`, `"slip-base-paper"`).
        callbacks (`list[TrainerCallback]`, *optional*):
            Added to the Trainer's callbacks.
        arguments:
            Any field of `ModelArguments`, `DataArguments` or `TrainingArguments`, overriding the recipe.
    """
    model_args, data_args, training_args = resolve_arguments(
        (ModelArguments, DataArguments, TrainingArguments), TRAINING_DEFAULTS, recipe, **arguments
    )
    return run_pretraining(model_args, data_args, training_args, callbacks)


def sft(
    model_name_or_path: str,
    recipe: str | Path | None = None,
    callbacks: list[TrainerCallback] | None = None,
    **arguments: Any,
) -> TrainingRun:
    """Fine-tunes a pretrained SLIP model on question/answer (or caption) rows, scoring held-out rows before and
    after; saves the model (LoRA adapters merged, or with `merge_lora=False` the adapter folder alone) and processor
    in `output_dir`.

    Args:
        model_name_or_path (`str`): the pretrained SLIP folder or Hub id.
        recipe, callbacks: as for `pretrain`.
        arguments: any field of `SftArguments`, `DataArguments` or `TrainingArguments`.
    """
    sft_args, data_args, training_args = resolve_arguments(
        (SftArguments, DataArguments, TrainingArguments),
        SFT_DEFAULTS,
        recipe,
        model_name_or_path=model_name_or_path,
        **arguments,
    )
    return run_sft(sft_args, data_args, training_args, callbacks)


def prepare_corpus(data_args: DataArguments, training_args: TrainingArguments) -> str:
    """The given corpus (used as it is), or one built by the main process in OUTPUT_DIR/corpus, reused by later runs
    only while its recorded size, seed and sources match the arguments (else rebuilt, with a warning)."""
    if data_args.corpus is not None:
        return data_args.corpus
    path = str(Path(training_args.output_dir) / "corpus")
    with training_args.main_process_first(desc="building the corpus"):
        if training_args.process_index == 0:
            ensure_corpus(
                path,
                n=data_args.corpus_size,
                seed=data_args.corpus_seed,
                sources=data_args.corpus_sources.split(","),
                progress=True,
            )
    return path


def oversampled(corpus, factor: int):
    """The corpus with every row of a labelled real dataset (source `aeon/...`) repeated `factor` times."""
    if factor < 1:
        raise ValueError(f"oversample_labelled must be >= 1, got {factor}")
    if factor == 1:
        return corpus
    indices = [i for i, source in enumerate(corpus["source"]) for _ in range(factor if source.startswith("aeon/") else 1)]
    return corpus.select(indices)


def build_model_and_processor(
    model_args: ModelArguments, corpus, caption_mix: str = "all"
) -> tuple[SlipForConditionalGeneration, SlipProcessor]:
    """The model to pretrain and its processor: loaded from `model_name_or_path`, or new from a preset (with the
    Gemma text side of `text_backbone` and its tokenizer, or a random text side and a tokenizer trained on the
    corpus captions). The freezing policy is applied here."""
    if model_args.model_name_or_path:
        model = SlipForConditionalGeneration.from_pretrained(
            model_args.model_name_or_path, attn_implementation=model_args.attn_implementation
        )
        processor = SlipProcessor.from_pretrained(model_args.model_name_or_path)
    else:
        overrides = {"text_pooling": model_args.text_pooling} if model_args.text_pooling else {}
        config = SlipConfig.from_preset(model_args.preset, attn_implementation=model_args.attn_implementation, **overrides)
        if model_args.text_backbone:
            model = from_text_backbone(SlipForConditionalGeneration, model_args.text_backbone, config=config)
            tokenizer = AutoTokenizer.from_pretrained(model_args.text_backbone, padding_side="left")
        else:
            torch.manual_seed(0)
            model = SlipForConditionalGeneration(config)
            captions = [text for row in corpus.remove_columns("sensor") for text in caption_candidates(row, caption_mix)]
            tokenizer = train_caption_tokenizer(captions, vocab_size=config.text_config.vocab_size)
        vocab_size = model.config.text_config.vocab_size
        if len(tokenizer) > vocab_size:
            raise ValueError(f"The tokenizer has {len(tokenizer)} tokens but the model only {vocab_size}")
        processor = SlipProcessor(SlipFeatureExtractor(), tokenizer)
    freeze_text_encoder_layers(model, model_args.num_trainable_text_encoder_layers)
    return model, processor


def run_pretraining(
    model_args: ModelArguments,
    data_args: DataArguments,
    training_args: TrainingArguments,
    callbacks: list[TrainerCallback] | None = None,
) -> TrainingRun:
    """`pretrain` with its arguments already resolved."""
    resume = _resume_point(training_args)  # before any work: a missing checkpoint stops the run at once
    path = prepare_corpus(data_args, training_args)
    corpus = oversampled(load_corpus(path, split="train"), data_args.oversample_labelled)
    model, processor = build_model_and_processor(model_args, corpus, data_args.caption_mix)
    draws = ComposedTransform(
        partial(sample_caption, mix=data_args.caption_mix),
        partial(sample_channels, max_channels=processor.feature_extractor.max_channels),
    )
    train_dataset = EpochSeededDataset(corpus, draws, seed=training_args.seed)
    eval_dataset = None
    if training_args.eval_strategy != "no":  # the held-out split, all channels, paired as `slip evaluate` pairs it
        eval_dataset = EpochSeededDataset(
            load_corpus(path, split="validation"), held_out_caption, seed=training_args.seed
        )
    trainer = SlipTrainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        data_collator=SlipPretrainingCollator(processor),
        processing_class=processor,  # written into every checkpoint, which makes each a Hub folder
        callbacks=[TrainingCurvesCallback(), EpochCallback(train_dataset), *(callbacks or [])],
        shape_keys=sensor_shape_keys(corpus, processor.feature_extractor) if data_args.group_by_shape else None,
        shape_group_batches=data_args.shape_group_batches,
    )
    output = trainer.train(resume_from_checkpoint=resume)
    trainer.save_model(training_args.output_dir)
    return TrainingRun(trainer, processor, dict(output.metrics))


DATA_FILE_BUILDERS = {".parquet": "parquet", ".csv": "csv", ".json": "json", ".jsonl": "json"}


def load_rows(dataset: str):
    """`--dataset` as a `Dataset` or `DatasetDict`: a folder written by `save_to_disk`, parquet/CSV/JSON files
    (comma-separated paths or globs, one format), or anything else `datasets.load_dataset` takes (a Hub id, a folder
    of data files whose names give the splits). A CSV cell holds `sensor` as JSON text: it is parsed."""
    from datasets import load_dataset, load_from_disk

    folder = Path(dataset)
    if (folder / "dataset_dict.json").is_file() or (folder / "state.json").is_file():
        return load_from_disk(dataset)
    files = [part.strip() for part in dataset.split(",") if part.strip()]
    formats = {DATA_FILE_BUILDERS.get(Path(file).suffix.lower()) for file in files}
    if len(formats) == 1 and None not in formats:
        loaded = load_dataset(formats.pop(), data_files=files)
    elif len(files) == 1:
        loaded = load_dataset(dataset)
    else:
        raise UserError(f"--dataset {dataset}: comma-separated files must all be parquet, CSV or JSON files")
    sensor = next(iter(loaded.values())).features.get("sensor")
    return loaded.map(_parsed_sensor) if getattr(sensor, "dtype", None) in ("string", "large_string") else loaded


def _parsed_sensor(row: dict) -> dict:
    return {"sensor": json.loads(row["sensor"])}


def held_out_rows(sft_args: SftArguments, data_args: DataArguments, training_args: TrainingArguments):
    """(train rows, held-out rows or None): the `dataset` rows (a validation or test split held out), or questions
    over a corpus's train and validation splits."""
    if sft_args.dataset:
        from datasets import DatasetDict

        loaded = load_rows(sft_args.dataset)
        if not isinstance(loaded, DatasetDict):
            return loaded, None
        held_out = loaded.get("validation", loaded.get("test"))
    else:
        from slip_sensor.data.questions import build_qa_dataset

        path = prepare_corpus(data_args, training_args)
        loaded = {"train": build_qa_dataset(load_corpus(path, split="train"), seed=training_args.seed)}
        held_out = build_qa_dataset(load_corpus(path, split="validation"), seed=training_args.seed + 1)
    if held_out is not None:
        held_out = held_out.select(range(min(sft_args.eval_questions, len(held_out))))
    return loaded["train"], held_out


def with_lora(model, sft_args: SftArguments):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=sft_args.lora_r,
        lora_alpha=sft_args.lora_alpha,
        lora_dropout=sft_args.lora_dropout,
        target_modules=LORA_TARGET_MODULES,
    )
    return get_peft_model(model, config)


def run_sft(
    sft_args: SftArguments,
    data_args: DataArguments,
    training_args: TrainingArguments,
    callbacks: list[TrainerCallback] | None = None,
) -> TrainingRun:
    """`sft` with its arguments already resolved. Held-out results go to OUTPUT_DIR/qa_results.json."""
    from slip_sensor.evaluation.answer_generation import answer_scores, generate_answers

    resume = _resume_point(training_args)  # before any work: a missing checkpoint stops the run at once
    model = SlipForConditionalGeneration.from_pretrained(sft_args.model_name_or_path)
    processor = SlipProcessor.from_pretrained(sft_args.model_name_or_path)
    train_rows, held_out = held_out_rows(sft_args, data_args, training_args)
    results = {}
    if held_out is not None:
        results["before"] = answer_scores(held_out, generate_answers(model, processor, held_out))
    if sft_args.use_lora:
        model = with_lora(model, sft_args)
    draw = SensorAugmentation().draw if sft_args.augment else _unchanged
    train_dataset = EpochSeededDataset(train_rows, draw, seed=training_args.seed)
    trainer = SlipTrainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        data_collator=SlipInstructionCollator(processor),
        processing_class=processor,
        callbacks=[TrainingCurvesCallback(), EpochCallback(train_dataset), *(callbacks or [])],
    )
    output = trainer.train(resume_from_checkpoint=resume)
    adapters_only = sft_args.use_lora and not sft_args.merge_lora
    model = trainer.model.merge_and_unload() if sft_args.use_lora and sft_args.merge_lora else trainer.model
    if held_out is not None:
        results["after"] = answer_scores(held_out, generate_answers(model, processor, held_out))
    if trainer.is_world_process_zero() and adapters_only:  # the PEFT adapter folder, for the base model it names
        model.save_pretrained(training_args.output_dir)
        processor.save_pretrained(training_args.output_dir)
    elif trainer.is_world_process_zero():
        write_hub_folder(model, processor, training_args.output_dir)  # the merged model when trained with LoRA
    if trainer.is_world_process_zero() and results:
        (Path(training_args.output_dir) / "qa_results.json").write_text(json.dumps(results, indent=2))
    return TrainingRun(trainer, processor, {**output.metrics, **results})


def _unchanged(row: dict, rng) -> dict:
    return row


def _resume_point(training_args: TrainingArguments) -> str | bool | None:
    """`resume_from_checkpoint`, with `"last"` read as the newest complete checkpoint in OUTPUT_DIR; without one the
    run stops, or with `resume_if_possible` starts fresh."""
    resume = training_args.resume_from_checkpoint
    if resume != "last":
        return resume
    checkpoint = last_complete_checkpoint(training_args.output_dir)
    if checkpoint is not None:
        logger.warning("Resuming from %s", checkpoint)
        return str(checkpoint)
    if not training_args.resume_if_possible:
        raise UserError(
            f"--resume-from-checkpoint last: there is no complete checkpoint in {training_args.output_dir}. Leave "
            f"the option out to start a new run, or add --resume-if-possible to start fresh when there is none."
        )
    logger.warning("No complete checkpoint in %s: training starts fresh", training_args.output_dir)
    return None


__all__ = ["TrainingRun", "pretrain", "run_pretraining", "run_sft", "sft"]
