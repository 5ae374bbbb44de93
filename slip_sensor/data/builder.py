"""Deterministic, parallel and atomic corpus builds: `build_corpus` (used by `slip build-corpus`).

Rows are planned up front as (split, source, index); each record depends only on (seed, source, index), so two builds
with the same seed are identical whatever the worker count. Workers make records, the parent writes them in plan
order as parquet shards into a temporary folder next to the target, writes `corpus_info.json` last, then renames the
folder into place: a killed build leaves only a hidden `.NAME.tmp-PID` folder that does not load (and that the next
build removes).
"""

from __future__ import annotations

import importlib
import math
import multiprocessing
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
from tqdm import tqdm

from .corpus import CorpusRecord, records_to_table, shard_path, write_corpus_metadata
from .corpus_schema import CORPUS_SCHEMA, DATA_DIR, FORMAT_NAME, FORMAT_VERSION

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
        raise ValueError(f"unknown sources {sorted(unknown)}; choose from {', '.join(SOURCE_MODULES)}")
    counts: dict[str, int] = {}
    total_weight = sum(WEIGHTS[s] for s in sources)
    generated = [s for s in sources if s != "aeon"]
    if "aeon" in sources:
        from .aeon_datasets import pretraining_size

        wanted = n if not generated else round(n * WEIGHTS["aeon"] / total_weight)
        if wanted > pretraining_size():
            if not generated:
                raise ValueError(f"aeon alone has {pretraining_size()} train samples; asked for {n}")
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


def _remove_stale_temporaries(out: Path) -> None:
    """Delete folders of earlier builds of `out` whose process is gone (killed builds)."""
    for tmp in out.parent.glob(f".{out.name}.tmp-*"):
        try:
            os.kill(int(tmp.name.rsplit("-", 1)[1]), 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(tmp, ignore_errors=True)
        except PermissionError:  # alive, owned by someone else
            pass


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
    """Build an `n`-row corpus in `out_dir` (see `corpus` for the layout and schema) and return its summary."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    out = Path(out_dir).resolve()
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(out)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    start = time.perf_counter()
    try:
        (tmp / DATA_DIR).mkdir(parents=True)
        summary = _write(tmp, plan_rows(n, list(sources), val_fraction), seed, workers, progress)
        info = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "n": n,
            "seed": seed,
            "sources": list(sources),
            "val_fraction": val_fraction,
            "rows": summary.rows,
            "rows_per_source": summary.rows_per_source,
            "rows_per_split": summary.rows_per_split,
            "caption_words": summary.caption_words,
            **summary.extra,
        }
        write_corpus_metadata(tmp, info)
        if out.exists():  # overwrite: swap, so a complete corpus is in place at every moment but one rename
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary.path, summary.seconds = str(out), time.perf_counter() - start
    return summary


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

