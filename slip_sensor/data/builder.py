"""Deterministic, parallel and atomic corpus builds: `build_corpus` (used by `slip build-corpus`) and `ensure_corpus`
(used by training, which builds its corpus in the output folder).

Rows are planned up front as (split, source, index); each record depends only on (seed, source, index), so two builds
with the same seed are identical whatever the worker count. Workers make records, the parent writes them in plan
order as parquet shards into a temporary folder next to the target, writes `corpus_info.json` last (with the build
arguments and each shard's sha256, which `load_corpus` checks), then renames the folder into place: a killed build
leaves only a hidden `.NAME.tmp-PID` folder that does not load (and that the next build removes).
"""

from __future__ import annotations

import importlib
import logging
import math
import multiprocessing
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
from tqdm import tqdm

from ..errors import UserError
from ..output_folders import OutputFolderError, refuse_foreign, staged_folder
from .corpus import (
    CorpusRecord,
    is_complete_corpus,
    read_corpus_info,
    records_to_table,
    shard_checksums,
    shard_path,
    write_corpus_metadata,
)
from .corpus_schema import CORPUS_SCHEMA, DATA_DIR, FORMAT_NAME, FORMAT_VERSION, SHARD_CHECKSUMS, CorpusLoadError

logger = logging.getLogger(__name__)


class BuildArgumentError(UserError, ValueError):
    """Build arguments that cannot make a corpus (row count, sources, held-out fraction)."""

SOURCE_MODULES = {  # source -> module with `make_record(index, seed) -> CorpusRecord`
    "synthetic": "slip_sensor.data.synthetic",
    "physio": "slip_sensor.data.physio",
    "aeon": "slip_sensor.data.aeon_datasets",
}
DEFAULT_SOURCES = tuple(SOURCE_MODULES)
WEIGHTS = {"synthetic": 0.6, "physio": 0.25, "aeon": 0.15}  # share of rows; aeon is capped by its train splits
VALIDATION_SOURCES = ("synthetic", "physio")  # generated on demand, so held-out rows cost nothing
CHUNK_ROWS = 32  # rows per worker task
SHARD_ROWS = 2048  # rows per parquet file (a multiple of CHUNK_ROWS, so a chunk never spans two shards)


@dataclass
class BuildSummary:
    """What a build wrote, and how long it took."""

    path: str
    rows: int
    rows_per_source: dict[str, int]
    rows_per_split: dict[str, int]
    caption_words: int  # whitespace words over all main captions
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def samples_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else math.inf


def allocate(n: int, sources: Sequence[str]) -> dict[str, int]:
    """Rows per source: WEIGHTS normalised over `sources`; aeon capped by its train samples, the rest to generators."""
    unknown = set(sources) - set(SOURCE_MODULES)
    if unknown or not sources:
        raise BuildArgumentError(f"unknown sources {sorted(unknown)}; choose from {', '.join(SOURCE_MODULES)}")
    counts: dict[str, int] = {}
    total_weight = sum(WEIGHTS[s] for s in sources)
    generated = [s for s in sources if s != "aeon"]
    if "aeon" in sources:
        from .aeon_datasets import pretraining_size

        wanted = n if not generated else round(n * WEIGHTS["aeon"] / total_weight)
        if wanted > pretraining_size():
            if not generated:
                raise BuildArgumentError(
                    f"aeon alone has {pretraining_size()} train samples; asked for {n} (add a generated source or "
                    "ask for fewer rows)"
                )
            wanted = pretraining_size()
        counts["aeon"] = wanted
    rest = n - counts.get("aeon", 0)
    weights = [WEIGHTS[s] for s in generated]
    exact = [rest * w / sum(weights) for w in weights] if generated else []
    floors = [math.floor(e) for e in exact]
    by_remainder = sorted(range(len(exact)), key=lambda k: floors[k] - exact[k])  # largest remainder first
    for k in by_remainder[: rest - sum(floors)]:
        floors[k] += 1
    counts.update(zip(generated, floors))
    return {s: counts[s] for s in sources}


def plan_rows(n: int, sources: Sequence[str], val_fraction: float) -> dict[str, list[tuple[str, int]]]:
    """split -> [(source, index)]: generated sources put their last `val_fraction` rows in "validation"."""
    plan: dict[str, list[tuple[str, int]]] = {"train": [], "validation": []}
    for source, count in allocate(n, sources).items():
        held_out = round(count * val_fraction) if source in VALIDATION_SOURCES else 0
        plan["train"] += [(source, i) for i in range(count - held_out)]
        plan["validation"] += [(source, i) for i in range(count - held_out, count)]
    return {split: rows for split, rows in plan.items() if rows}


def _make_chunk(task: tuple[int, str, list[tuple[str, int]]]) -> tuple[str, list[CorpusRecord]]:
    seed, split, rows = task
    return split, [importlib.import_module(SOURCE_MODULES[source]).make_record(index, seed) for source, index in rows]


@contextmanager
def _mapper(workers: int) -> Iterator:
    """An ordered map: in-process for one worker, else a spawn pool (fresh interpreters, no inherited threads)."""
    if workers <= 1:
        yield map
        return
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield lambda fn, tasks: pool.imap(fn, tasks, chunksize=1)


def build_corpus(
    out_dir: str | Path,
    n: int,
    seed: int = 0,
    sources: Sequence[str] = DEFAULT_SOURCES,
    workers: int = 1,
    val_fraction: float = 0.02,
    overwrite: bool = False,
    progress: bool = False,
) -> BuildSummary:
    """Build an `n`-row corpus in `out_dir` (see `corpus` for the layout and schema) and return its summary.

    `overwrite` replaces an existing corpus; a folder that is not one is never replaced (`OutputFolderError`).
    """
    if n < 1:
        raise BuildArgumentError(f"n must be >= 1, got {n}")
    if not 0 <= val_fraction < 1:
        raise BuildArgumentError(f"val_fraction must be in [0, 1), got {val_fraction}")
    out = Path(out_dir).resolve()
    refuse_foreign(out, is_complete_corpus(out), "slip build-corpus")
    if out.exists() and not overwrite:
        raise OutputFolderError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    start = time.perf_counter()
    with staged_folder(out) as tmp:
        (tmp / DATA_DIR).mkdir()
        summary = _write(tmp, plan_rows(n, list(sources), val_fraction), seed, workers, progress)
        info = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            **build_arguments(n, seed, sources, val_fraction),
            "rows": summary.rows,
            "rows_per_source": summary.rows_per_source,
            "rows_per_split": summary.rows_per_split,
            "caption_words": summary.caption_words,
            **summary.extra,
            SHARD_CHECKSUMS: shard_checksums(tmp),
        }
        write_corpus_metadata(tmp, info)
    summary.path, summary.seconds = str(out), time.perf_counter() - start
    return summary


def build_arguments(n: int, seed: int, sources: Sequence[str], val_fraction: float) -> dict:
    """The arguments that decide a corpus's rows, as `corpus_info.json` records them."""
    return {"n": n, "seed": seed, "sources": list(sources), "val_fraction": val_fraction}


def ensure_corpus(
    path: str | Path,
    n: int,
    seed: int = 0,
    sources: Sequence[str] = DEFAULT_SOURCES,
    val_fraction: float = 0.02,
    progress: bool = False,
) -> dict:
    """The info of a corpus at `path` built with these arguments: an existing one is reused only when its recorded
    arguments (and format) match, else it is rebuilt, with a logged warning saying why. Returns `corpus_info.json`."""
    wanted = build_arguments(n, seed, sources, val_fraction)
    if is_complete_corpus(path):
        try:
            info = read_corpus_info(path)
        except CorpusLoadError as error:  # an older format
            reason = str(error)
        else:
            changed = [key for key, value in wanted.items() if info.get(key) != value]
            if not changed:
                return info
            was = ", ".join(f"{key}={info.get(key)!r}" for key in changed)
            now = ", ".join(f"{key}={wanted[key]!r}" for key in changed)
            reason = f"it was built with {was}; this run asks for {now}"
        logger.warning("Rebuilding the corpus in %s: %s", path, reason)
    build_corpus(path, n=n, seed=seed, sources=sources, val_fraction=val_fraction, overwrite=True, progress=progress)
    return read_corpus_info(path)


def _write(root: Path, plan: dict[str, list[tuple[str, int]]], seed: int, workers: int, progress: bool) -> BuildSummary:
    tasks = [
        (seed, split, rows[i : i + CHUNK_ROWS]) for split, rows in plan.items() for i in range(0, len(rows), CHUNK_ROWS)
    ]
    shards = {split: math.ceil(len(rows) / SHARD_ROWS) for split, rows in plan.items()}
    written: Counter = Counter()
    per_source: Counter = Counter()
    words, univariate = 0, 0
    writer, current = None, None
    total = sum(len(rows) for rows in plan.values())
    with _mapper(workers) as ordered_map, tqdm(total=total, unit="row", disable=not progress) as bar:
        try:
            for split, records in ordered_map(_make_chunk, tasks):
                shard = (split, written[split] // SHARD_ROWS)
                if shard != current:
                    if writer is not None:
                        writer.close()
                    writer = pq.ParquetWriter(root / shard_path(split, shard[1], shards[split]), schema=CORPUS_SCHEMA)
                    current = shard
                writer.write_table(records_to_table(records, split))
                written[split] += len(records)
                per_source.update(r.source.split("/")[0] for r in records)
                words += sum(len(r.caption.caption.split()) for r in records)
                univariate += sum(r.sensor.shape[0] == 1 for r in records)
                bar.update(len(records))
        finally:
            if writer is not None:
                writer.close()
    return BuildSummary(
        path=str(root),
        rows=total,
        rows_per_source=dict(sorted(per_source.items())),
        rows_per_split=dict(written),
        caption_words=words,
        extra={"univariate_rows": univariate, "multivariate_rows": total - univariate, "shards": shards},
    )

