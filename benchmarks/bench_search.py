"""Archive search on this CPU: how fast `slip index` embeds windows, and how fast and how exactly a query is answered
at 10^4 and 10^5 windows with each FAISS index type (`slip_sensor.search.vector_index`).

1. Indexing: `SlipIndex.build` on a folder of CSV recordings (6 channels at 50 Hz, 10 minutes each, 60 s windows) with
   the shipped slip-tiny, end to end (reading, windowing, the model, shards, the merge): windows per second.
2. Queries: archives of 10^4 and 10^5 vectors made from the embedded windows (each a real window embedding plus a
   little noise, renormalised, so that the vectors cluster as real ones do), indexed as `flat` (exact), `ivf` and
   `hnsw`. For each: build seconds, index bytes (FAISS's serialised size), the search latency of one query (p50/p95
   over `--queries` text queries, k = 10), recall@10 against the exact top 10, and the mean score of the top 10 below
   the exact one's (copies of one window are near-ties, so an approximate index may return equally good windows that
   are not the exact top 10: the score gap says how much worse its hits are, in cosine). The text embedding of a
   query is timed apart (it is the same for every index). One process with `--threads` torch/FAISS threads; the
   indexing time includes loading the model.

Prints one JSON line per measurement and appends them to `--out`:

    python benchmarks/bench_search.py [--recordings 16] [--queries 200] [--threads 2]
        [--out benchmarks/results/search-cpu-2026-11-30.jsonl]
"""

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

RATE = 50.0
CHANNELS = 6
MINUTES = 10
CHUNK_LENGTH_S = 60.0
SIZES = (10_000, 100_000)
NOISE = 0.05  # per-dimension noise added to a real window embedding before renormalising
QUERIES = [
    "The signal shows an upward trend.",
    "The signal has a strong cycle.",
    "There are isolated spikes in the signal.",
    "The signal carries a lot of noise.",
    "A level shift occurs in the signal.",
    "The heart rate climbs while the person stands still.",
]


def write_archive(folder: Path, recordings: int) -> None:
    """`recordings` CSV files of 6 channels: slow cycles, a trend and noise, different per file."""
    t = np.arange(int(MINUTES * 60 * RATE)) / RATE
    for i in range(recordings):
        rng = np.random.default_rng(i)
        period = rng.uniform(2, 120)
        values = {f"ch{c}": np.sin(2 * np.pi * t / period + c) * rng.uniform(0.2, 2) + rng.normal(0, 0.3, t.size)
                  + t * rng.normal(0, 1e-3) for c in range(CHANNELS)}
        pd.DataFrame(values).to_csv(folder / f"recording-{i:03d}.csv", index=False)


def percentile_ms(times: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(times) * 1e3, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=16)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default="benchmarks/results/search-cpu-2026-11-30.jsonl")
    args = parser.parse_args()

    import faiss

    from slip_sensor.search import SlipIndex
    from slip_sensor.search.vector_index import INDEX_TYPES, build_faiss_index

    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    common = {"cpu": platform.processor() or platform.machine(), "threads": args.threads,
              "loadavg_1min": round(os.getloadavg()[0], 2), "model": "slip-tiny (shipped)"}
    lines = []

    def emit(record: dict) -> None:
        line = json.dumps({**record, **common})
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "archive"
        archive.mkdir()
        write_archive(archive, args.recordings)
        start = time.perf_counter()
        index = SlipIndex.build(archive, Path(scratch) / "index", sampling_rate=RATE, chunk_length_s=CHUNK_LENGTH_S,
                                batch_size=args.batch_size, progress=False)
        seconds = time.perf_counter() - start
        windows = np.asarray(index.windows["embedding"], dtype=np.float32)
        emit({"measure": "indexing", "recordings": args.recordings, "windows": len(windows),
              "recording_minutes": MINUTES, "channels": CHANNELS, "sampling_rate": RATE,
              "chunk_length_s": CHUNK_LENGTH_S, "batch_size": args.batch_size, "seconds": round(seconds, 2),
              "windows_per_s": round(len(windows) / seconds, 1)})

        queries = [QUERIES[i % len(QUERIES)] for i in range(args.queries)]
        text_times, query_vectors = [], []
        for text in queries:
            start = time.perf_counter()
            query_vectors.append(index.embed_text(text))
            text_times.append(time.perf_counter() - start)
        query_vectors = np.stack(query_vectors).astype(np.float32)
        emit({"measure": "text_query_embedding", "queries": len(queries),
              "p50_ms": round(percentile_ms(text_times, 50), 2), "p95_ms": round(percentile_ms(text_times, 95), 2)})

    rng = np.random.default_rng(0)
    for size in SIZES:
        vectors = windows[rng.integers(len(windows), size=size)] + rng.normal(0, NOISE, (size, windows.shape[1]))
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        exact = None
        for index_type in INDEX_TYPES:
            start = time.perf_counter()
            faiss_index = build_faiss_index(vectors, index_type)
            build_seconds = time.perf_counter() - start
            times, found, scores = [], [], []
            for vector in query_vectors:
                start = time.perf_counter()
                top_scores, ids = faiss_index.search(vector[None], 10)
                times.append(time.perf_counter() - start)
                found.append(ids[0])
                scores.append(top_scores[0].mean())
            found, scores = np.stack(found), np.asarray(scores)
            if index_type == "flat":
                exact, exact_scores = found, scores
            recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact)]))
            emit({"measure": "query", "windows": size, "index_type": index_type, "dim": int(vectors.shape[1]),
                  "build_s": round(build_seconds, 3), "index_mib": round(faiss.serialize_index(faiss_index).nbytes
                                                                         / 2**20, 2),
                  "search_p50_ms": round(percentile_ms(times, 50), 3),
                  "search_p95_ms": round(percentile_ms(times, 95), 3), "recall_at_10_vs_flat": round(recall, 3),
                  "score_gap_at_10_vs_flat": round(float(np.mean(exact_scores - scores)), 5)})

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "a", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
