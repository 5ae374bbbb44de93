"""Reader for the authors' pretraining layout (`LeoChen085/SlipDataset`), converted to `CORPUS_FEATURES`.

The layout: data files (parquet or JSON lines) with columns `time_series` (a 1-D list for a univariate row, or a
`[V, L]` list of lists), `caption0` (the caption) and `caption1..caption3` (paraphrases, possibly empty), `category`
(the domain) and `dataset`; beside them `meta.csv` with columns `Domain`, `Dataset` and `patch_size`. The reference
trains each (Domain, Dataset) with that patch size and falls back to 64 when the pair is missing. Rows carry no
sampling rate, channel names or per-level captions; those columns come back null or empty.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from datasets import Dataset, DatasetDict, IterableDataset, IterableDatasetDict, concatenate_datasets, load_dataset

from .attributes import default_names
from .corpus_schema import CORPUS_FEATURES, AnyDataset, CorpusLoadError

META_FILE = "meta.csv"
SLIP_COLUMNS = ("time_series", "caption0", "caption1", "caption2", "caption3", "category", "dataset")
DEFAULT_PATCH_SIZE = 64  # the reference's fallback
_BUILDERS = {".parquet": "parquet", ".jsonl": "json", ".json": "json"}
_SPLIT_NAMES = {"train": "train", "validation": "validation", "valid": "validation", "val": "validation", "test": "test"}

PatchSizes = dict[tuple[str, str], int]


def is_authors_layout(path: Path) -> bool:
    return (Path(path) / META_FILE).is_file()


def read_patch_sizes(meta_csv: str | Path) -> PatchSizes:
    """(Domain, Dataset) -> patch size, from the layout's `meta.csv` (rows without a patch size are skipped)."""
    meta = pd.read_csv(meta_csv)
    return {
        (str(row["Domain"]), str(row["Dataset"])): int(row["patch_size"])
        for _, row in meta.iterrows()
        if not pd.isna(row["patch_size"])
    }


def _split_of(relative: Path) -> str:
    """Split named by a file or folder name (`train-00000-of-00001.parquet`, `test/part.jsonl`); default train."""
    tokens = [t for part in relative.parts for t in re.split(r"[-_.]", part.lower())]
    return next((_SPLIT_NAMES[t] for t in tokens if t in _SPLIT_NAMES), "train")


def _convert_batch(batch: dict, indices: list[int], patch_sizes: PatchSizes, split: str, prefix: str) -> dict:
    sensors, names = [], []
    for series in batch["time_series"]:
        array = np.asarray(series, dtype=np.float32)
        sensors.append(array[None, :] if array.ndim == 1 else array)  # [channels, time], as stored
        names.append(default_names(sensors[-1].shape[0], None, None)[0])
    n = len(sensors)
    paraphrases = [
        [c for c in (batch[f"caption{k}"][i] for k in (1, 2, 3)) if c] for i in range(n)
    ]
    return {
        "id": [f"{prefix}/{d}/{i}" for d, i in zip(batch["dataset"], indices)],
        "sensor": sensors,
        "num_channels": [s.shape[0] for s in sensors],
        "length": [s.shape[1] for s in sensors],
        "sampling_rate": [None] * n,
        "channel_names": names,
        "channel_units": [[""] * len(nm) for nm in names],
        "domain": [str(c) for c in batch["category"]],
        "label": [""] * n,
        "source": [f"slipdataset/{d}" for d in batch["dataset"]],
        "split": [split] * n,
        "caption": [c or "" for c in batch["caption0"]],
        "caption_statistical": [""] * n,
        "caption_structural": [""] * n,
        "caption_semantic": [""] * n,
        "paraphrases": paraphrases,
        "patch_size": [patch_sizes.get((str(c), str(d)), DEFAULT_PATCH_SIZE) for c, d in zip(batch["category"], batch["dataset"])],
        "facts": [""] * n,
    }


def convert(dataset: Dataset | IterableDataset, patch_sizes: PatchSizes, split: str, prefix: str) -> Dataset | IterableDataset:
    """Rows of the authors' layout as rows of `CORPUS_FEATURES`."""
    columns = dataset.column_names or list(SLIP_COLUMNS)
    missing = set(SLIP_COLUMNS) - set(columns)
    if missing:
        raise CorpusLoadError(f"not in the authors' layout: columns {sorted(missing)} are missing")
    return dataset.map(
        _convert_batch,
        batched=True,
        with_indices=True,
        remove_columns=columns,
        features=CORPUS_FEATURES,
        fn_kwargs={"patch_sizes": patch_sizes, "split": split, "prefix": prefix},
    )


def load_authors_layout(path: Path, split: str | None, streaming: bool, cache_dir: str | None) -> AnyDataset:
    """Load a local directory in the authors' layout; each file is converted separately (its column types may differ)."""
    path = Path(path)
    patch_sizes = read_patch_sizes(path / META_FILE)
    files: dict[str, list[Path]] = {}
    for file in sorted(p for p in path.rglob("*") if p.suffix in _BUILDERS and p.is_file()):
        files.setdefault(_split_of(file.relative_to(path)), []).append(file)
    if not files or (split is not None and split not in files):
        raise CorpusLoadError(f"{path}: no data files for split {split!r} (found {sorted(files)})")
    splits = {}
    for name, paths in files.items():
        if split is not None and name != split:
            continue
        parts = [
            convert(
                load_dataset(_BUILDERS[p.suffix], data_files=[str(p)], split="train", streaming=streaming, cache_dir=cache_dir),
                patch_sizes,
                name,
                prefix=f"slipdataset:{p.relative_to(path)}",
            )
            for p in paths
        ]
        splits[name] = concatenate_datasets(parts)
    if split is not None:
        return splits[split]
    return IterableDatasetDict(splits) if streaming else DatasetDict(splits)


def convert_if_authors_layout(loaded: AnyDataset, repo_id: str) -> AnyDataset:
    """A Hub dataset in the authors' layout, converted (patch sizes from its meta.csv when reachable)."""
    first = next(iter(loaded.values())) if isinstance(loaded, (DatasetDict, IterableDatasetDict)) else loaded
    if not set(SLIP_COLUMNS) <= set(first.column_names or []):
        return loaded
    from huggingface_hub import hf_hub_download

    try:
        patch_sizes = read_patch_sizes(hf_hub_download(repo_id, META_FILE, repo_type="dataset"))
    except OSError:  # no meta.csv (or unreachable): every pair gets the reference's default
        patch_sizes = {}
    if isinstance(loaded, (DatasetDict, IterableDatasetDict)):
        return type(loaded)({k: convert(v, patch_sizes, k, prefix=repo_id) for k, v in loaded.items()})
    split = str(getattr(loaded, "split", None) or "train")
    return convert(loaded, patch_sizes, split, prefix=repo_id)
