"""Per-sample latency of the three SLIP pipelines, one by one (`batch_size=1`) against batched (`--batch-size`).

Runs offline on a randomly initialised preset model (default `slip-tiny`) on 3-channel recordings at 50 Hz, either all
500 points long (`fixed`, as windowed datasets are) or 450-550 points long (`mixed`, so that samples differ in patch
size and count), and prints one JSON line: `{"preset", "num_samples", "batch_size", "threads", "device",
"<task>": {"fixed" | "mixed": {"one_by_one_ms", "batched_ms", "speedup"}}}`, where the times are milliseconds per
sample (median of `--repeats` runs after a warm-up).

    python benchmarks/bench_pipeline.py [--preset slip-tiny] [--num-samples 32] [--batch-size 8] [--threads 1]
"""

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from transformers import pipeline

from slip_sensor.hub_export import preset_model

SAMPLING_RATE = 50.0
LABELS = ["walking", "running", "sitting", "lying down", "climbing stairs"]


def per_sample_ms(run: Callable[[], object], num_samples: int, repeats: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times) / num_samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="slip-tiny")
    parser.add_argument("--num-samples", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    # One thread by default: on a shared CPU, OpenMP threads competing for cores dominate small-model timings.
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    model, processor = preset_model(args.preset, seed=0)
    rng = np.random.default_rng(0)
    workloads = {
        "fixed": [500] * args.num_samples,
        "mixed": rng.integers(450, 550, args.num_samples).tolist(),
    }
    workloads = {
        name: [rng.normal(size=(3, length)).astype(np.float32) for length in lengths]
        for name, lengths in workloads.items()
    }
    tasks = {
        "sensor-captioning": (
            pipeline("sensor-captioning", model=model, processor=processor),
            dict(max_new_tokens=args.max_new_tokens, min_new_tokens=args.max_new_tokens),
        ),
        "zero-shot-sensor-classification": (
            pipeline("zero-shot-sensor-classification", model=model.slip, processor=processor),
            dict(candidate_labels=LABELS),
        ),
        "sensor-feature-extraction": (
            pipeline("sensor-feature-extraction", model=model.slip, processor=processor),
            {},
        ),
    }
    report = {
        "preset": args.preset,
        "num_samples": args.num_samples,
        "batch_size": args.batch_size,
        "threads": torch.get_num_threads(),
        "device": "cpu",
    }
    for task, (pipe, kwargs) in tasks.items():
        report[task] = {}
        for workload, samples in workloads.items():
            timings = {
                name: per_sample_ms(
                    lambda samples=samples, size=size: pipe(
                        samples, sampling_rate=SAMPLING_RATE, batch_size=size, **kwargs
                    ),
                    args.num_samples,
                    args.repeats,
                )
                for name, size in (("one_by_one_ms", 1), ("batched_ms", args.batch_size))
            }
            timings["speedup"] = timings["one_by_one_ms"] / timings["batched_ms"]
            report[task][workload] = {key: round(value, 3) for key, value in timings.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
