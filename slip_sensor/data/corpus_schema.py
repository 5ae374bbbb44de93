"""The sensor-caption corpus schema (`CORPUS_FEATURES`) and its on-disk format constants.

A corpus directory follows the Hub's parquet convention, so it loads with `datasets.load_dataset(dir)` and can be
pushed as a dataset repo unchanged:

    corpus_info.json                         written last: its presence marks a complete build; it records the
                                             build arguments (n, seed, sources, val_fraction), the row counts and
                                             each shard's sha256 (`shard_sha256`, checked by `load_corpus`)
    README.md                                dataset card whose YAML maps splits to shard patterns
    data/{split}-{i:05d}-of-{n:05d}.parquet  rows in `CORPUS_FEATURES` (Hugging Face feature metadata embedded)

Schema, one row per sample (`CORPUS_FEATURES`):

| column | feature | meaning |
|---|---|---|
| id | string | stable id: source and index |
| sensor | List(List(float32)) | `[channel][time]`, NaN = missing: channels first, as the processor and the pipelines take a sample, so a row feeds them as it is. Channel counts and lengths differ between rows, and `Array2D` fixes all but the first dimension, so a nested list is used |
| num_channels | int32 | channels of `sensor` (read without decoding the series) |
| length | int32 | time steps of `sensor` |
| sampling_rate | float64 | Hz; null when unknown (rows read from the authors' layout) |
| channel_names | List(string) | one per channel |
| channel_units | List(string) | one per channel, "" when unitless or unknown |
| domain | string | e.g. "health", "human activity recognition", "synthetic" |
| label | string | class or activity, "" if none |
| source | string | "synthetic", "physio", "aeon/<Dataset>/train", "slipdataset/<dataset>" |
| split | string | corpus split of the row ("train" or "validation") |
| caption | string | full caption |
| caption_statistical, caption_structural, caption_semantic | string | caption per level ("" when unknown) |
| paraphrases | List(string) | same facts, other wording |
| patch_size | int32 | null: the processor chooses from the sampling rate |
| facts | string | JSON of every fact the caption states (see `attributes.SeriesFacts.to_dict`) |

Evaluation data never enters a corpus: labelled datasets contribute their train split only, and each row's
`source` names where it came from, so leakage can be audited.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from datasets import Dataset, DatasetDict, Features, IterableDataset, IterableDatasetDict, List, Value

from slip_sensor.errors import UserError

CORPUS_FEATURES = Features(
    {
        "id": Value("string"),
        "sensor": List(List(Value("float32"))),
        "num_channels": Value("int32"),
        "length": Value("int32"),
        "sampling_rate": Value("float64"),
        "channel_names": List(Value("string")),
        "channel_units": List(Value("string")),
        "domain": Value("string"),
        "label": Value("string"),
        "source": Value("string"),
        "split": Value("string"),
        "caption": Value("string"),
        "caption_statistical": Value("string"),
        "caption_structural": Value("string"),
        "caption_semantic": Value("string"),
        "paraphrases": List(Value("string")),
        "patch_size": Value("int32"),
        "facts": Value("string"),
    }
)
CORPUS_SCHEMA = CORPUS_FEATURES.arrow_schema  # carries the "huggingface" metadata, so parquet readers restore features
INFO_FILE = "corpus_info.json"
DATA_DIR = "data"
FORMAT_NAME = "slip-sensor-corpus"
SHARD_CHECKSUMS = "shard_sha256"  # corpus_info.json key: shard path -> sha256; absent in corpora built before it
# 2: `sensor` is stored channels first, with `num_channels` and `length` columns (1 stored `[time][channel]`).
FORMAT_VERSION = 2

AnyDataset = Dataset | DatasetDict | IterableDataset | IterableDatasetDict


class CorpusLoadError(UserError, OSError):
    """A corpus could not be found or read (missing folder, incomplete build, corrupt shard, unreachable Hub)."""


def row_sensor(row: Mapping) -> np.ndarray:
    """A corpus row's series as float32 `[channels, time]` (NaN = missing), from python lists or the numpy format."""
    sensor = row["sensor"]
    if isinstance(sensor, np.ndarray) and sensor.dtype == object:  # numpy format: one array per channel
        sensor = list(sensor)
    array = np.asarray(sensor, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"Row {row.get('id', '?')}: sensor has shape {array.shape}; expected [channels, time]")
    return array
