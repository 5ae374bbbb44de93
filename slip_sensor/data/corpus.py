"""The sensor-caption corpus on disk: records, parquet shards, and `load_corpus` (schema: `corpus_schema`)."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from datasets import load_dataset

from ..file_hash import file_sha256
from . import authors_layout
from .captions import SensorCaption
from .corpus_schema import (
    CORPUS_FEATURES,
    CORPUS_SCHEMA,
    DATA_DIR,
    FORMAT_NAME,
    FORMAT_VERSION,
    INFO_FILE,
    SHARD_CHECKSUMS,
    AnyDataset,
    CorpusLoadError,
)


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


def records_to_table(records: list[CorpusRecord], split: str) -> pa.Table:
    """Rows in `CORPUS_SCHEMA`; the sensor column is built from flat buffers (no per-value Python objects)."""
    arrays = [np.ascontiguousarray(r.sensor, dtype=np.float32) for r in records]  # [channels, time]
    num_channels = np.array([a.shape[0] for a in arrays], dtype=np.int32)
    lengths = np.array([a.shape[1] for a in arrays], dtype=np.int32)
    channel_lengths = np.repeat(lengths, num_channels)
    channels = pa.ListArray.from_arrays(
        pa.array(np.concatenate([[0], np.cumsum(channel_lengths)]).astype(np.int32)),
        pa.array(np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(0, np.float32)),
    )
    sensor = pa.ListArray.from_arrays(pa.array(np.concatenate([[0], np.cumsum(num_channels)]).astype(np.int32)), channels)
    columns = {
        "id": [r.id for r in records],
        "sensor": sensor,
        "num_channels": num_channels,
        "length": lengths,
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
             "Built by `slip build-corpus`; schema and provenance in `slip_sensor/data/corpus_schema.py`.", "",
             "```json", json.dumps(info, indent=2, sort_keys=True), "```", ""]
    (root / "README.md").write_text("\n".join(card), encoding="utf-8")
    (root / INFO_FILE).write_text(json.dumps(info, indent=2, sort_keys=True), encoding="utf-8")


def shard_checksums(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every shard under `root`, as `corpus_info.json` records them."""
    return {shard.relative_to(root).as_posix(): file_sha256(shard) for shard in sorted(root.glob(f"{DATA_DIR}/*.parquet"))}


def verify_shards(root: Path, info: dict) -> None:
    """Raise `CorpusLoadError` naming the first shard that is missing or differs from its recorded sha256 (parquet
    has no checksum of its own, so zeroed or overwritten bytes would otherwise load as plausible values)."""
    for shard, checksum in info.get(SHARD_CHECKSUMS, {}).items():  # none recorded before checksums: unverified
        path = root / shard
        if not path.is_file():
            problem = "is missing"
        elif file_sha256(path) != checksum:
            problem = "is corrupt: its sha256 differs from the one recorded when the corpus was built"
        else:
            continue
        raise CorpusLoadError(
            f"{path} {problem}; rebuild the corpus (`slip build-corpus --overwrite`), or read it unchecked with "
            "load_corpus(..., verify=False)"
        )


def is_complete_corpus(path: str | Path) -> bool:
    """Whether `path` holds a finished build (its `corpus_info.json` is written last)."""
    return (Path(path) / INFO_FILE).is_file()


def read_corpus_info(path: str | Path) -> dict:
    """The build summary of a complete corpus directory."""
    if not is_complete_corpus(path):
        raise CorpusLoadError(f"{path} is not a complete corpus (no {INFO_FILE}; the build may have been interrupted)")
    info_file = Path(path) / INFO_FILE
    info = json.loads(info_file.read_text(encoding="utf-8"))
    if info.get("format") != FORMAT_NAME:
        raise CorpusLoadError(f"{info_file}: not a SLIP corpus (format {info.get('format')!r})")
    if info.get("version") != FORMAT_VERSION:
        raise CorpusLoadError(
            f"{info_file}: corpus format v{info.get('version')}, this version of slip-sensor reads v{FORMAT_VERSION} "
            "(v1 stored series time-first); rebuild it with `slip build-corpus`"
        )
    return info


def load_corpus(
    path_or_repo_id: str | Path,
    split: str | None = None,
    streaming: bool = False,
    cache_dir: str | None = None,
    verify: bool = True,
) -> AnyDataset:
    """Load a corpus as `datasets` objects in `CORPUS_FEATURES`.

    `path_or_repo_id` is a directory built by `build_corpus`, a directory in the authors' `LeoChen085/SlipDataset`
    layout (a `meta.csv` beside the data files), or a Hub dataset id (loaded by `datasets`, converted when it is in
    the authors' layout). With `split` a `Dataset` (`IterableDataset` when `streaming`) is returned, otherwise a
    `DatasetDict` (`IterableDatasetDict`) of all splits, as `datasets.load_dataset` does. Streaming reads shards
    lazily, for corpora larger than memory.

    `verify` checks a built corpus's shards against the sha256 of each recorded at build time (reading every shard
    once, about a second per GB); corpora built before checksums were recorded load unverified.
    """
    path = Path(path_or_repo_id)
    if path.is_dir():
        if authors_layout.is_authors_layout(path):
            return authors_layout.load_authors_layout(path, split=split, streaming=streaming, cache_dir=cache_dir)
        info = read_corpus_info(path)
        if verify:
            verify_shards(path, info)
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
