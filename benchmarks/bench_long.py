"""Long recordings through the SLIP pipelines: windowed calls (`chunk_length_s`, batched) against the loop over
windows, one pipeline call each, that a user would otherwise write.

Runs offline on the shipped model (`slip_sensor.pretrained("slip-tiny")`) on 6-channel 50 Hz recordings of 1 hour and
24 hours (random values with a 10-minute gap of NaN every 3 hours). For each recording and task it prints one JSON
line: `{"recording_h", "task", "chunk_length_s", "windows", "batch_size", "threads", "windowed": {"seconds",
"windows_per_s", "peak_mib"}, "one_by_one": {...}, "speedup", "peak_ratio", "recording_mib"}`. Times are medians of
`--repeats` runs after a warm-up (one run for recordings longer than an hour); `peak_mib` is the peak of numpy and
Python allocations during one run (tracemalloc, in a separate untimed run), beyond the recording itself
(`recording_mib`). The 24-hour recording runs feature extraction only, so that the whole benchmark takes a few
minutes on two cores; the 1-hour recording runs all three tasks.

    python benchmarks/bench_long.py [--chunk-length-s 60] [--batch-size 32] [--repeats 3] [--threads 2]
"""

import argparse
import json
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable

import numpy as np
import torch
from transformers import AutoModel, AutoModelForCausalLM, AutoProcessor, pipeline

import slip_sensor

RATE = 50.0
CHANNELS = 6
LABELS = ["walking", "running", "sitting", "lying down", "climbing stairs"]


def recording(hours: float, seed: int = 0) -> np.ndarray:
    """`[6, hours * 3600 * 50]` float32 with a 10-minute NaN gap every 3 hours."""
    values = np.random.default_rng(seed).normal(size=(CHANNELS, int(hours * 3600 * RATE))).astype(np.float32)
    for start in range(int(2.5 * 3600 * RATE), values.shape[1], int(3 * 3600 * RATE)):
        values[:, start : start + int(600 * RATE)] = np.nan
    return values


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_mib(run: Callable[[], object]) -> float:
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-length-s", type=float, default=60.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--hours", type=float, nargs="+", default=[1.0, 24.0])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")  # the gap windows' all-NaN warnings of the one-by-one loop

    folder = slip_sensor.pretrained("slip-tiny")
    processor = AutoProcessor.from_pretrained(folder)
    pipelines = {
        "features": pipeline("sensor-feature-extraction", model=AutoModel.from_pretrained(folder), processor=processor),
        "zero-shot": pipeline(
            "zero-shot-sensor-classification", model=AutoModel.from_pretrained(folder), processor=processor
        ),
        "captioning": pipeline(
            "sensor-captioning", model=AutoModelForCausalLM.from_pretrained(folder), processor=processor
        ),
    }
    task_kwargs = {
        "features": {},
        "zero-shot": {"candidate_labels": LABELS},
        "captioning": {"max_new_tokens": args.max_new_tokens},
    }
    window = {"chunk_length_s": args.chunk_length_s, "sampling_rate": RATE}
    for hours in args.hours:
        sensors = recording(hours)
        tasks = ["features"] if hours > 1 else list(pipelines)
        for task in tasks:
            pipe, kwargs = pipelines[task], {**task_kwargs[task], "sampling_rate": RATE}

            def windowed(pipe=pipe, kwargs=kwargs):
                return pipe(sensors, chunk_length_s=args.chunk_length_s, batch_size=args.batch_size, **kwargs)

            result = windowed()  # warm-up, and the windows the loop below runs
            starts = [round(start * RATE) for start, _ in (chunk["timestamp"] for chunk in result["chunks"])]
            chunk = round(args.chunk_length_s * RATE)

            def one_by_one(pipe=pipe, kwargs=kwargs, starts=starts):
                return [pipe(sensors[:, start : start + chunk], **kwargs) for start in starts]

            timings = {}
            for name, run in (("windowed", windowed), ("one_by_one", one_by_one)):
                seconds = median_seconds(run, args.repeats if hours <= 1 else 1)
                timings[name] = {
                    "seconds": round(seconds, 2),
                    "windows_per_s": round(len(starts) / seconds, 1),
                    "peak_mib": round(peak_mib(run), 1),
                }
            line = {
                "recording_h": hours,
                "task": task,
                **window,
                "windows": len(starts),
                "batch_size": args.batch_size,
                "threads": args.threads,
                **timings,
                "speedup": round(timings["one_by_one"]["seconds"] / timings["windowed"]["seconds"], 2),
                "peak_ratio": round(timings["windowed"]["peak_mib"] / timings["one_by_one"]["peak_mib"], 2),
                "recording_mib": round(sensors.nbytes / 2**20, 1),
            }
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
