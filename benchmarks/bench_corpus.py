"""Corpus build throughput (rows/s): synthetic + physiological + bundled real data, printed as one JSON line.

    python benchmarks/bench_corpus.py                      # 10,000 rows on 2 worker processes
    python benchmarks/bench_corpus.py --n 1000 --workers 1

The corpus is built into a temporary folder (deleted afterwards); the timing covers the whole `build_corpus` call:
planning, worker start-up, record generation and captioning, parquet writing and the final rename.
"""

import argparse
import json
import os
import tempfile
from pathlib import Path

from slip_sensor.data import build_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sources", default="synthetic,physio,aeon")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        summary = build_corpus(
            Path(tmp) / "corpus", n=args.n, seed=args.seed, sources=args.sources.split(","), workers=args.workers
        )
        size = sum(p.stat().st_size for p in (Path(tmp) / "corpus").rglob("*") if p.is_file())
    print(json.dumps({
        "benchmark": "corpus_build",
        "n": summary.rows,
        "workers": args.workers,
        "cpu_count": os.cpu_count(),
        "seconds": round(summary.seconds, 2),
        "samples_per_s": round(summary.samples_per_second, 1),
        "rows_per_source": summary.rows_per_source,
        "caption_words_per_row": round(summary.caption_words / summary.rows, 1),
        "corpus_mb": round(size / 2**20, 1),
    }))


if __name__ == "__main__":
    main()
