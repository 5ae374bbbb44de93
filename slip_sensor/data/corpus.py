"""The sensor-caption corpus on disk: schema, records, parquet shards, and `load_corpus`.

A corpus directory follows the Hub's parquet convention, so it loads with `datasets.load_dataset(dir)` and can be
pushed as a dataset repo unchanged:

    corpus_info.json                         written last: its presence marks a complete build
    README.md                                dataset card whose YAML maps splits to shard patterns
    data/{split}-{i:05d}-of-{n:05d}.parquet  rows in `CORPUS_FEATURES` (Hugging Face feature metadata embedded)

Schema, one row per sample (`CORPUS_FEATURES`):

| column | feature | meaning |
|---|---|---|
| id | string | stable id: source and index |
| sensor | List(List(float32)) | `[time][channel]`, NaN = missing. Channel counts differ between rows, and `Array2D` fixes all but the first dimension, so a nested list is used; in numpy format a row comes back as a `[time, channels]` array |
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

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from datasets import Dataset, DatasetDict, Features, IterableDataset, IterableDatasetDict, List, Value, load_dataset

from .captions import SensorCaption

CORPUS_FEATURES = Features(
    {
        "id": Value("string"),
        "sensor": List(List(Value("float32"))),
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
FORMAT_VERSION = 1

AnyDataset = Dataset | DatasetDict | IterableDataset | IterableDatasetDict


class CorpusLoadError(OSError):
    """A corpus could not be found or read (missing folder, incomplete build, unreachable Hub)."""


@dataclass
class CorpusRecord:
    """One sample before it is written: a `[channels, time]` array, its metadata and its caption."""

    id: str
    sensor: np.ndarray
    sampling_rate: float | None
    channel_names: list[str]
    channel_units: list[str]
    domain: str
    label: str
    source: str
    caption: SensorCaption
    patch_size: int | None = None


def record_rng(seed: int, source: str, index: int) -> np.random.Generator:
    """Generator for one record: depends only on (seed, source, index), so output ignores worker count and order."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(source.encode()), index)))


def to_channels_first(sensor) -> np.ndarray:
    """A row's `sensor` value (`[time][channel]`) as a float32 `[channels, time]` array, the model's layout."""
    return np.asarray(sensor, dtype=np.float32).reshape(len(sensor), -1).T


def records_to_table(records: list[CorpusRecord], split: str) -> pa.Table:
    """Rows in `CORPUS_SCHEMA`; the sensor column is built from flat buffers (no per-value Python objects)."""
    arrays = [np.ascontiguousarray(np.asarray(r.sensor, dtype=np.float32).T) for r in records]  # [time, channels]
    lengths = np.array([a.shape[0] for a in arrays], dtype=np.int64)
    widths = np.repeat([a.shape[1] for a in arrays], lengths)
    inner = pa.ListArray.from_arrays(
        pa.array(np.concatenate([[0], np.cumsum(widths)]).astype(np.int32)),
        pa.array(np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(0, np.float32)),
    )
    sensor = pa.ListArray.from_arrays(pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)), inner)
    columns = {
        "id": [r.id for r in records],
        "sensor": sensor,
        "sampling_rate": [r.sampling_rate for r in records],
        "channel_names": [list(r.channel_names) for r in records],
        "channel_units": [list(r.channel_units) for r in records],
        "domain": [r.domain for r in records],
        "label": [r.label for r in records],
        "source": [r.source for r in records],
        "split": [split] * len(records),
        "caption": [r.caption.caption for r in records],
        "caption_statistical": [r.caption.statistical for r in records],
        "caption_structural": [r.caption.structural for r in records],
        "caption_semantic": [r.caption.semantic for r in records],
        "paraphrases": [list(r.caption.paraphrases) for r in records],
        "patch_size": [r.patch_size for r in records],
        "facts": [json.dumps(r.caption.facts, sort_keys=True) for r in records],
    }
    return pa.Table.from_arrays(
        [c if isinstance(c, pa.Array) else pa.array(c, type=CORPUS_SCHEMA.field(k).type) for k, c in columns.items()],
        schema=CORPUS_SCHEMA,
    )


def shard_path(split: str, index: int, count: int) -> str:
    """Relative path of a shard, in the Hub's `data/{split}-xxxxx-of-yyyyy.parquet` convention."""
    return f"{DATA_DIR}/{split}-{index:05d}-of-{count:05d}.parquet"


def write_corpus_metadata(root: Path, info: dict) -> None:
    """Write the dataset card, then `corpus_info.json` (last, as the completion marker)."""
    splits = sorted(info["rows_per_split"])
    card = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in splits:
        card += [f"  - split: {split}", f"    path: {DATA_DIR}/{split}-*.parquet"]
    card += ["---", "", "# SLIP sensor-caption corpus", "",
             "Built by `slip build-corpus`; schema and provenance in `slip_sensor/data/corpus.py`.", "",
             "```json", json.dumps(info, indent=2, sort_keys=True), "```", ""]
    (root / "README.md").write_text("\n".join(card), encoding="utf-8")
    (root / INFO_FILE).write_text(json.dumps(info, indent=2, sort_keys=True), encoding="utf-8")


def read_corpus_info(path: str | Path) -> dict:
    """The build summary of a complete corpus directory."""
    info_file = Path(path) / INFO_FILE
    if not info_file.is_file():
        raise CorpusLoadError(f"{path} is not a complete corpus (no {INFO_FILE}; the build may have been interrupted)")
    info = json.loads(info_file.read_text(encoding="utf-8"))
    if info.get("format") != FORMAT_NAME or info.get("version") != FORMAT_VERSION:
        raise CorpusLoadError(f"{info_file}: unsupported corpus format {info.get('format')!r} v{info.get('version')}")
    return info


def load_corpus(
    path_or_repo_id: str | Path,
    split: str | None = None,
    streaming: bool = False,
    cache_dir: str | None = None,
) -> AnyDataset:
    """Load a corpus as `datasets` objects in `CORPUS_FEATURES`.

    `path_or_repo_id` is a directory built by `build_corpus`, a directory in the authors' `LeoChen085/SlipDataset`
    layout (a `meta.csv` beside the data files), or a Hub dataset id (loaded by `datasets`, converted when it is in
    the authors' layout). With `split` a `Dataset` (`IterableDataset` when `streaming`) is returned, otherwise a
    `DatasetDict` (`IterableDatasetDict`) of all splits, as `datasets.load_dataset` does. Streaming reads shards
    lazily, for corpora larger than memory.
    """
    from . import authors_layout  # the authors' layout is an adapter on top of this module

    path = Path(path_or_repo_id)
    if path.is_dir():
        if authors_layout.is_authors_layout(path):
            return authors_layout.load_authors_layout(path, split=split, streaming=streaming, cache_dir=cache_dir)
        info = read_corpus_info(path)
        data_files = {s: sorted(str(p) for p in path.glob(f"{DATA_DIR}/{s}-*.parquet")) for s in info["rows_per_split"]}
        if split is not None and split not in data_files:
            raise CorpusLoadError(f"{path} has no split {split!r}; it has {sorted(data_files)}")
        return load_dataset(
            "parquet", data_files=data_files, split=split, streaming=streaming, features=CORPUS_FEATURES,
            cache_dir=cache_dir,
        )
    if path.exists() or path.is_absolute() or str(path_or_repo_id).count("/") != 1:
        raise CorpusLoadError(f"{path_or_repo_id} is neither a corpus directory nor a Hub dataset id (owner/name)")
    repo_id = str(path_or_repo_id)
    try:
        loaded = load_dataset(repo_id, split=split, streaming=streaming, cache_dir=cache_dir)
    except OSError as error:  # ConnectionError (offline, unreachable) and not-found errors are OSErrors
        raise CorpusLoadError(
            f"could not load {repo_id!r} from the Hugging Face Hub: {error}. Offline (HF_HUB_OFFLINE=1) only cached "
            "datasets load; pass a local corpus directory instead."
        ) from error
    return authors_layout.convert_if_authors_layout(loaded, repo_id)
