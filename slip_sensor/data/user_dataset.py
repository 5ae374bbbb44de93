"""A user's labelled sensor table (parquet/CSV file or folder, or a Hub dataset) as a `LabelledSensorDataset`.

Each row holds one sample: a sensor column of `[channels][time]` lists (a 1-D list is one channel; a CSV cell holds
the same list as JSON text) and a label column. Train and test come from the dataset's `train`/`test` splits, else
from a split column (`train`/`test` values), else from a stratified, seeded `test_size` split of all rows. Classes
are the sorted distinct labels. The sampling rate is given, or read from a rate column holding one rate.
"""

import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from slip_sensor.errors import UserError
from slip_sensor.loading import HUB_ID

from .labelled import LabelledSensorDataset

FILE_FORMATS = {".parquet": "parquet", ".csv": "csv"}


def load_table(path_or_hub_id: str | os.PathLike) -> Any:
    """A `datasets.DatasetDict` of the file, folder or Hub dataset (without `datasets`' per-split progress bars,
    which would interleave with the command's own output)."""
    import datasets

    path = Path(path_or_hub_id)
    if path.is_file():
        if path.suffix.lower() not in FILE_FORMATS:
            raise UserError(f"dataset {str(path)!r}: expected a .parquet or .csv file, a folder of them, or a Hub id")
        source = {"path": FILE_FORMATS[path.suffix.lower()], "data_files": str(path)}
    elif path.is_dir():
        source = {"path": str(path)}
    elif HUB_ID.fullmatch(str(path_or_hub_id)):
        source = {"path": str(path_or_hub_id)}
    else:
        raise UserError(f"dataset {str(path_or_hub_id)!r} does not exist locally (a Hub id has the form owner/name)")
    bars_were_on = not datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        return datasets.load_dataset(**source)
    except (OSError, ValueError) as error:  # missing/unreachable data (OSError), no readable data files (ValueError)
        raise UserError(
            f"could not load dataset {str(path_or_hub_id)!r}: {error}. Offline (HF_HUB_OFFLINE=1) only Hub datasets "
            "already in the local cache load."
        ) from error
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()


def table_column(table: Any, column: str, option: str) -> list:
    if column not in table.column_names:
        columns = ", ".join(table.column_names)
        raise UserError(f"the dataset has no column {column!r} ({option}); its columns: {columns}")
    return table[column]


def sensor_array(value: Any, row: int, column: str) -> np.ndarray:
    """One cell → float32 `[channels, time]` (None inside the lists becomes NaN, a missing value)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise UserError(f"row {row} of {column!r} is text that is not a JSON list: {value[:40]!r}") from None
    if value is None:
        raise UserError(f"row {row} of {column!r} has no sensor values")
    try:
        array = np.array(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise UserError(f"row {row} of {column!r} is not a [channels][time] list of numbers of one length") from None
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] == 0:
        raise UserError(f"row {row} of {column!r} has shape {array.shape}; expected [channels][time] or [time]")
    return array


def _sampling_rate(table: Any, sampling_rate: float | None, rate_column: str | None) -> float:
    if (sampling_rate is None) == (rate_column is None):
        raise UserError("give the sampling rate: either --sampling-rate HZ or --rate-column COL")
    if rate_column is None:
        rate = float(sampling_rate)
    else:
        rates = {float(rate) for rate in table_column(table, rate_column, "--rate-column") if rate is not None}
        if len(rates) != 1:
            found = sorted(rates)[:5]
            raise UserError(f"rate column {rate_column!r} must hold one sampling rate for all rows; found {found}")
        rate = rates.pop()
    if rate <= 0:
        raise UserError(f"the sampling rate must be > 0 Hz, got {rate}")
    return rate


def _train_test(
    dataset: Any, table: Any, split_column: str, test_size: float | None, label_column: str
) -> tuple[Any, Any]:
    """(train, test) tables: the dataset's splits, else the split column of `table` (all rows), else a stratified
    `test_size` split of `table`."""
    from sklearn.model_selection import train_test_split

    if {"train", "test"} <= set(dataset):
        if test_size is not None:
            raise UserError("the dataset has its own train and test splits; leave out --test-size")
        return dataset["train"], dataset["test"]
    if split_column in table.column_names:
        if test_size is not None:
            raise UserError(f"the dataset has a {split_column!r} column that splits it; leave out --test-size")
        splits = np.array([str(value) for value in table[split_column]])
        if not {"train", "test"} <= set(splits):
            found = sorted(set(splits))
            raise UserError(f"split column {split_column!r} needs rows marked 'train' and 'test'; found {found}")
        return table.select(np.flatnonzero(splits == "train")), table.select(np.flatnonzero(splits == "test"))
    if test_size is None:
        raise UserError(
            f"the dataset has no train/test splits and no {split_column!r} column; pass --test-size (e.g. 0.2) for a "
            "stratified split"
        )
    try:
        train, test = train_test_split(
            np.arange(len(table)), test_size=test_size, random_state=0, stratify=table[label_column]
        )
    except ValueError as error:  # a class too small to stratify, or a test size that leaves a split empty
        raise UserError(f"cannot split the dataset with --test-size {test_size}: {error}") from error
    return table.select(np.sort(train)), table.select(np.sort(test))


def _prompts(prompts: str | Sequence[str] | None, class_names: list[str]) -> dict[str, list[str]]:
    """`LabelledSensorDataset` prompt fields: a template holding `{label}`, or one text per class (sorted order)."""
    if prompts is None:
        return {}
    if isinstance(prompts, str):
        if "{label}" in prompts:
            return {"prompt_templates": [prompts]}
        prompts = [text.strip() for text in prompts.split(",")]
    if len(prompts) != len(class_names):
        raise UserError(
            f"{len(prompts)} prompts for {len(class_names)} classes; give one per class in this order: "
            f"{', '.join(class_names)} (or one template with {{label}})"
        )
    return {"label_texts": list(prompts)}


def load_user_dataset(
    path_or_hub_id: str | os.PathLike,
    sensor_column: str,
    label_column: str,
    sampling_rate: float | None = None,
    rate_column: str | None = None,
    split_column: str = "split",
    test_size: float | None = None,
    prompts: str | Sequence[str] | None = None,
    name: str | None = None,
) -> LabelledSensorDataset:
    """Loads a labelled sensor table (module docstring) for `slip evaluate --dataset`.

    Args:
        path_or_hub_id: a .parquet/.csv file, a folder of them (split files named as `datasets` expects, e.g.
            `train.parquet`, `test.parquet`), or a Hub dataset id (offline, only a cached one).
        sampling_rate / rate_column: the rate in Hz, or the column that holds it (exactly one of the two).
        test_size: fraction of rows held out for test (stratified by label, seed 0) when the dataset has neither
            splits nor `split_column`.
        prompts: zero-shot prompts: a template with `{label}`, or one text per class in sorted class order (a list,
            or comma-separated); default: the class names themselves.
        name: the task name (default: the file or folder name, or the Hub id).
    """
    from datasets import concatenate_datasets

    dataset = load_table(path_or_hub_id)
    table = concatenate_datasets(list(dataset.values()))
    table_column(table, sensor_column, "--sensor-column")
    labels = table_column(table, label_column, "--label-column")
    missing = [row for row, label in enumerate(labels) if label is None or label != label or label == ""]  # NaN != NaN
    if missing:
        raise UserError(
            f"{len(missing)} rows have no label in {label_column!r} (first: row {missing[0]}); drop or label them"
        )
    rate = _sampling_rate(table, sampling_rate, rate_column)
    train, test = _train_test(dataset, table, split_column, test_size, label_column)
    classes = sorted(set(labels))
    class_names = [str(c) for c in classes]

    def samples(split: Any) -> tuple[list[np.ndarray], np.ndarray]:
        sensors = [sensor_array(value, row, sensor_column) for row, value in enumerate(split[sensor_column])]
        return sensors, np.array([classes.index(label) for label in split[label_column]], dtype=np.int64)

    (train_sensors, train_labels), (test_sensors, test_labels) = samples(train), samples(test)
    path = Path(path_or_hub_id)
    return LabelledSensorDataset(
        name=name or (path.stem if path.is_file() else path.name if path.is_dir() else str(path_or_hub_id)),
        train_sensors=train_sensors,
        train_labels=train_labels,
        test_sensors=test_sensors,
        test_labels=test_labels,
        class_names=class_names,
        sampling_rate=rate,
        description=f"user dataset {path_or_hub_id}",
        **_prompts(prompts, class_names),
    )
