"""Fine-tuning a pretrained SLIP sensor tower for classification: `finetune_classification(...)`.

    from slip_sensor.training.classification import finetune_classification

    run = finetune_classification("slip-tiny", "basicmotions", output_dir="runs/basicmotions")
    run.results["test"]["accuracy"]

The data is a built-in labelled dataset name (`slip_sensor.data.list_labelled_datasets()`), a `datasets` folder
(`load_from_disk`), or a `Dataset`/`DatasetDict` with a sensor column (`[channel][time]`, NaN = missing), a label
column (a `ClassLabel`, integers or strings) and optionally `sampling_rate` and `patch_size`. A `DatasetDict` gives
`train` and, when present, `test`. The validation split that picks the epoch (early stopping on accuracy, the best
epoch's weights reloaded) is carved from train, stratified, as the linear probe carves it
(`slip_sensor.evaluation.linear_probe.stratified_split`), so the two are compared on the same splits; the test split is
scored once, after training. `training/finetune_classification.py` is the command line.
"""

import json
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from transformers import EarlyStoppingCallback, Trainer, TrainingArguments, set_seed

from slip_sensor.errors import UserError
from slip_sensor.evaluation.classification import classification_scores
from slip_sensor.evaluation.linear_probe import stratified_split
from slip_sensor.modeling_slip.classification_slip import SlipForSensorClassification
from slip_sensor.processors import SlipProcessor

from .collator import rows_to_inputs

CLASS_WEIGHTS = ("balanced",)
# LoRA adapts the sensor encoder's attention and MLP projections (the pooler's are unused by the classifier); the
# head trains in full.
LORA_TARGET_MODULES = r".*sensor_model\.layers\.\d+\..*(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"
RESULTS_FILE = "classification_results.json"


@dataclass
class ClassificationArguments:
    model_name_or_path: str = field(
        default="slip-tiny", metadata={"help": "Pretrained SLIP folder, Hub id, or shipped model name (slip-tiny)."}
    )
    dataset: str = field(
        default="basicmotions", metadata={"help": "Built-in labelled dataset name, or a `datasets` save_to_disk folder."}
    )
    sensor_column: str = field(default="sensor", metadata={"help": "Column of the series, [channel][time]."})
    label_column: str = field(default="label", metadata={"help": "Column of the class (ClassLabel, int or string)."})
    sampling_rate: float | None = field(default=None, metadata={"help": "Hz, for rows without a sampling_rate."})
    validation_fraction: float = field(default=0.2, metadata={"help": "Share of each train class held out."})
    class_weights: str | None = field(
        default=None, metadata={"help": "'balanced': weight each class's loss by n / (classes * n_class)."}
    )
    early_stopping_patience: int = field(
        default=10, metadata={"help": "Stop after this many epochs without a better validation accuracy."}
    )
    use_lora: bool = field(default=False, metadata={"help": "Train LoRA adapters on the encoder (merged on save)."})
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0


# The Trainer settings of the method: evaluate and keep a checkpoint every epoch, reload the most accurate one.
CLASSIFICATION_DEFAULTS = dict(
    output_dir="slip-classifier",
    num_train_epochs=30,
    per_device_train_batch_size=8,
    per_device_eval_batch_size=32,
    learning_rate=1e-3,
    weight_decay=0.05,
    warmup_steps=0.1,
    lr_scheduler_type="cosine",
    eval_strategy="epoch",
    save_strategy="epoch",
    save_total_limit=1,
    load_best_model_at_end=True,
    metric_for_best_model="accuracy",
    greater_is_better=True,
    logging_strategy="epoch",
    remove_unused_columns=False,
    report_to="none",
    dataloader_num_workers=0,
    dataloader_pin_memory=False,
    seed=0,
)


class ClassificationRun(NamedTuple):
    """The trainer (best model loaded), the processor saved beside it, and the results written to
    `RESULTS_FILE`: the selected epoch's validation scores and, with a test split, the test scores."""

    trainer: Trainer
    processor: SlipProcessor
    results: dict[str, Any]


def finetune_classification(
    model_name_or_path: str = "slip-tiny", dataset: Any = "basicmotions", **arguments: Any
) -> ClassificationRun:
    """Fine-tunes `SlipForSensorClassification` from a pretrained SLIP checkpoint and saves model and processor in
    `output_dir`.

    Args:
        model_name_or_path (`str`): a SLIP folder or Hub id, or the name of a shipped model.
        dataset (`str`, `Dataset` or `DatasetDict`): see the module docstring.
        arguments: fields of `ClassificationArguments` and of transformers' `TrainingArguments` (over
            `CLASSIFICATION_DEFAULTS`).
    """
    names = {f.name for f in fields(ClassificationArguments)}
    method = ClassificationArguments(
        model_name_or_path=model_name_or_path,
        **{key: value for key, value in arguments.items() if key in names},
    )
    training_args = TrainingArguments(
        **{**CLASSIFICATION_DEFAULTS, **{key: value for key, value in arguments.items() if key not in names}}
    )
    return run_classification(method, training_args, dataset)


def run_classification(
    method: ClassificationArguments, training_args: TrainingArguments, dataset: Any = None
) -> ClassificationRun:
    """`finetune_classification` on parsed arguments; `dataset` overrides `method.dataset`."""
    if method.class_weights not in (None, *CLASS_WEIGHTS):
        raise UserError(f"--class-weights must be one of {CLASS_WEIGHTS}, got {method.class_weights!r}")
    splits, class_names = load_classification_splits(method.dataset if dataset is None else dataset, method)
    labels = np.asarray(splits["train"]["label"], dtype=np.int64)
    fit, validation = stratified_split(labels, method.validation_fraction, training_args.seed)
    if not len(validation):
        raise UserError("No validation samples: every class has a single training sample")

    folder = resolve_model(method.model_name_or_path)
    processor = SlipProcessor.from_pretrained(folder)
    set_seed(training_args.seed)  # the new head's initialisation, whatever drew random numbers before
    model = SlipForSensorClassification.from_pretrained(
        folder,
        num_labels=len(class_names),
        id2label=dict(enumerate(class_names)),
        label2id={name: index for index, name in enumerate(class_names)},
    )
    if method.use_lora:
        model = with_lora(model, method)
    loss_func = None
    if method.class_weights == "balanced":
        counts = np.bincount(labels[fit], minlength=len(class_names))
        weights = len(fit) / (len(class_names) * np.maximum(counts, 1))
        loss_func = partial(weighted_cross_entropy, weight=torch.tensor(weights, dtype=torch.float32))

    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=splits["train"].select(fit),
        eval_dataset=splits["train"].select(validation),
        data_collator=partial(classification_collator, processor),
        compute_metrics=accuracy_metrics,
        compute_loss_func=loss_func,
        callbacks=[EarlyStoppingCallback(method.early_stopping_patience)],
    )
    trainer.train()
    results = {"validation": trainer.evaluate(), "class_names": class_names}
    if "test" in splits:
        prediction = trainer.predict(splits["test"])
        results["test"] = classification_scores(prediction.label_ids, prediction.predictions.argmax(-1))

    if trainer.is_world_process_zero():
        model = trainer.model.merge_and_unload() if method.use_lora else trainer.model
        model.save_pretrained(training_args.output_dir)
        processor.save_pretrained(training_args.output_dir)
        (Path(training_args.output_dir) / RESULTS_FILE).write_text(json.dumps(results, indent=2) + "\n")
    return ClassificationRun(trainer, processor, results)


def resolve_model(model_name_or_path: str) -> str:
    """A shipped model's folder for its name; anything else as given."""
    from slip_sensor.shipped_models import available, pretrained

    return str(pretrained(model_name_or_path)) if model_name_or_path in available() else model_name_or_path


def load_classification_splits(dataset: Any, method: ClassificationArguments) -> tuple[dict[str, Any], list[str]]:
    """`{"train": Dataset[, "test": Dataset]}` with columns `sensor`, `label` (int), `sampling_rate` and the class
    names, from any form `finetune_classification` takes."""
    from datasets import ClassLabel, Dataset, DatasetDict, load_from_disk

    from slip_sensor.data import list_labelled_datasets, load_labelled_dataset

    if isinstance(dataset, str) and dataset.lower() in {name.lower() for name in list_labelled_datasets()}:
        return labelled_to_splits(load_labelled_dataset(dataset))
    if isinstance(dataset, (str, Path)):
        if not Path(dataset).is_dir():
            raise UserError(
                f"{dataset} is neither a built-in labelled dataset ({', '.join(list_labelled_datasets())}) nor a "
                "datasets folder"
            )
        dataset = load_from_disk(str(dataset))
    splits = dict(dataset) if isinstance(dataset, DatasetDict) else {"train": dataset}
    if "train" not in splits:
        raise UserError(f"The dataset has no train split (splits: {', '.join(splits)})")
    splits = {name: split for name, split in splits.items() if name in ("train", "test")}
    for name, split in splits.items():
        missing = {method.sensor_column, method.label_column} - set(split.column_names)
        if missing:
            raise UserError(f"The {name} split has no column {', '.join(sorted(missing))} ({split.column_names})")

    feature = splits["train"].features[method.label_column]
    if isinstance(feature, ClassLabel):
        class_names = list(feature.names)
    else:
        values = sorted({value for split in splits.values() for value in split[method.label_column]})
        class_names = [str(value) for value in values]
        index = {value: position for position, value in enumerate(values)}

    def to_row(row: dict) -> dict:
        label = row[method.label_column]
        rate = row.get("sampling_rate", method.sampling_rate) or method.sampling_rate
        return {
            "sensor": row[method.sensor_column],
            "label": label if isinstance(feature, ClassLabel) else index[label],
            "sampling_rate": rate,
            "patch_size": row.get("patch_size"),
        }

    return {
        name: Dataset.from_list([to_row(row) for row in split]) for name, split in splits.items()
    }, class_names


def labelled_to_splits(data) -> tuple[dict[str, Any], list[str]]:
    """A `LabelledSensorDataset` as the `datasets` splits `load_classification_splits` returns."""
    from datasets import Dataset

    def split(sensors: list[np.ndarray], labels: np.ndarray) -> Dataset:
        rows = {
            "sensor": [sensor.tolist() for sensor in sensors],
            "label": labels.tolist(),
            "sampling_rate": [data.sampling_rate] * len(labels),
        }
        return Dataset.from_dict(rows)

    splits = {"train": split(data.train_sensors, data.train_labels), "test": split(data.test_sensors, data.test_labels)}
    return splits, list(data.class_names)


def classification_collator(processor: SlipProcessor, rows: list[dict]) -> dict[str, torch.Tensor]:
    """Rows → the processor's sensor inputs plus `labels` `[B]`."""
    return {**rows_to_inputs(processor, rows), "labels": torch.tensor([row["label"] for row in rows])}


def accuracy_metrics(prediction) -> dict[str, float]:
    """`compute_metrics` of the Trainer: accuracy and macro-F1 of the argmax."""
    return classification_scores(prediction.label_ids, prediction.predictions.argmax(-1))


def weighted_cross_entropy(
    outputs, labels: torch.Tensor, num_items_in_batch: int | torch.Tensor | None = None, weight: torch.Tensor = None
) -> torch.Tensor:
    """Cross-entropy with per-class weights, as the Trainer's `compute_loss_func`: the sum of each sample's weighted
    loss over the samples of the (accumulated) batch. Balanced weights average 1 over the training samples, so the
    loss keeps the scale of the unweighted mean."""
    logits = outputs["logits"]
    losses = torch.nn.functional.cross_entropy(logits, labels, weight=weight.to(logits.device), reduction="none")
    return losses.sum() / (num_items_in_batch if num_items_in_batch is not None else len(labels))


def with_lora(model: SlipForSensorClassification, method: ClassificationArguments):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=method.lora_r,
        lora_alpha=method.lora_alpha,
        lora_dropout=method.lora_dropout,
        target_modules=LORA_TARGET_MODULES,
        modules_to_save=["classifier"],
    )
    return get_peft_model(model, config)


__all__ = [
    "CLASSIFICATION_DEFAULTS",
    "ClassificationArguments",
    "ClassificationRun",
    "finetune_classification",
    "load_classification_splits",
    "run_classification",
]
