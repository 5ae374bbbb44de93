"""SLIP pretraining (contrastive + captioning) with the Hugging Face Trainer.

    accelerate launch training/pretrain.py --preset slip-tiny --max-steps 50 --output-dir runs/tiny
    python training/pretrain.py --config my_run.yaml                      # plain python works too
    torchrun --nproc_per_node 2 training/pretrain.py --use-cpu ...        # two CPU processes (DDP)
    accelerate launch --config_file fsdp.yaml training/pretrain.py ...    # FSDP, see README "Distributed training"

Without `--corpus`, a small corpus (synthetic, physiological and aeon train splits) is built in
`OUTPUT_DIR/corpus` first. Without `--text-backbone`, the text side starts random and a tokenizer is trained on the
corpus captions. The output folder holds the model, processor and tokenizer (loadable with
`AutoModel.from_pretrained(OUTPUT_DIR, trust_remote_code=True)`), checkpoints, and `training_curves.png`.
`--resume-from-checkpoint last` continues from the newest checkpoint in OUTPUT_DIR.
"""

import sys
from functools import partial
from pathlib import Path

import torch
from transformers import AutoTokenizer, TrainerCallback
from transformers.trainer_utils import get_last_checkpoint

from slip_sensor import SlipConfig, SlipForConditionalGeneration
from slip_sensor.data import build_corpus, load_corpus
from slip_sensor.processors import SlipFeatureExtractor, SlipProcessor, train_caption_tokenizer
from slip_sensor.training.arguments import (
    TRAINING_DEFAULTS,
    DataArguments,
    ModelArguments,
    TrainingArguments,
    parse_arguments,
)
from slip_sensor.training.collator import (
    SlipPretrainingCollator,
    caption_candidates,
    held_out_caption,
    sample_caption,
    sample_channels,
)
from slip_sensor.training.epoch_dataset import ComposedTransform, EpochCallback, EpochSeededDataset
from slip_sensor.training.plots import TrainingCurvesCallback
from slip_sensor.training.sampler import sensor_shape_keys
from slip_sensor.training.trainer import SlipTrainer


def corpus_path(data_args: DataArguments, training_args: TrainingArguments) -> str:
    """The given corpus, or one built (once, by the main process) in OUTPUT_DIR/corpus."""
    if data_args.corpus is not None:
        return data_args.corpus
    path = str(Path(training_args.output_dir) / "corpus")
    with training_args.main_process_first(desc="building the corpus"):
        if training_args.process_index == 0 and not (Path(path) / "corpus_info.json").exists():
            build_corpus(path, n=data_args.corpus_size, seed=data_args.corpus_seed, sources=data_args.corpus_sources.split(","))
    return path


def caption_texts(corpus, mix: str) -> list[str]:
    return [text for row in corpus.remove_columns("sensor") for text in caption_candidates(row, mix)]


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
    if model_args.model_name_or_path:
        model = SlipForConditionalGeneration.from_pretrained(
            model_args.model_name_or_path, attn_implementation=model_args.attn_implementation
        )
        return model, SlipProcessor.from_pretrained(model_args.model_name_or_path)
    overrides = {"text_pooling": model_args.text_pooling} if model_args.text_pooling else {}
    config = SlipConfig.from_preset(model_args.preset, attn_implementation=model_args.attn_implementation, **overrides)
    if model_args.text_backbone:
        model = SlipForConditionalGeneration.from_text_backbone(model_args.text_backbone, config=config)
        tokenizer = AutoTokenizer.from_pretrained(model_args.text_backbone, padding_side="left")
    else:
        torch.manual_seed(0)
        model = SlipForConditionalGeneration(config)
        tokenizer = train_caption_tokenizer(caption_texts(corpus, caption_mix), vocab_size=config.text_config.vocab_size)
    if len(tokenizer) > model.config.text_config.vocab_size:
        raise ValueError(f"The tokenizer has {len(tokenizer)} tokens but the model only {model.config.text_config.vocab_size}")
    sensor = model.config.sensor_config
    feature_extractor = SlipFeatureExtractor()
    return model, SlipProcessor(feature_extractor, tokenizer)


def main(argv: list[str] | None = None, callbacks: list[TrainerCallback] | None = None) -> SlipTrainer:
    """Parses `argv` (command-line flags or a config file), trains, saves; `callbacks` are added to the Trainer's."""
    model_args, data_args, training_args = parse_arguments(
        (ModelArguments, DataArguments, TrainingArguments), argv, TRAINING_DEFAULTS
    )
    path = corpus_path(data_args, training_args)
    corpus = oversampled(load_corpus(path, split="train"), data_args.oversample_labelled)
    model, processor = build_model_and_processor(model_args, corpus, data_args.caption_mix)
    draws = ComposedTransform(
        partial(sample_caption, mix=data_args.caption_mix),
        partial(sample_channels, max_channels=processor.feature_extractor.max_channels),
    )
    train_dataset = EpochSeededDataset(corpus, draws, seed=training_args.seed)
    eval_dataset = None
    if training_args.eval_strategy != "no":  # the held-out split, all channels, paired as `slip evaluate` pairs it
        eval_dataset = EpochSeededDataset(load_corpus(path, split="validation"),
                                          held_out_caption, seed=training_args.seed)
    trainer = SlipTrainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        data_collator=SlipPretrainingCollator(processor),
        callbacks=[TrainingCurvesCallback(), EpochCallback(train_dataset), *(callbacks or [])],
        shape_keys=sensor_shape_keys(corpus, processor.feature_extractor) if data_args.group_by_shape else None,
        shape_group_batches=data_args.shape_group_batches,
    )
    resume = training_args.resume_from_checkpoint
    if resume == "last":
        resume = get_last_checkpoint(training_args.output_dir)
    trainer.train(resume_from_checkpoint=resume)
    trainer.save_model(training_args.output_dir)
    if trainer.is_world_process_zero():
        processor.save_pretrained(training_args.output_dir)
    return trainer


if __name__ == "__main__":
    main(sys.argv[1:])
