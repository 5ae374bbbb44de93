"""Throughput of the SLIP processor: raw numpy arrays -> model-ready torch tensors.

Cases (batch of `--batch-size` samples each):
- `uniform`: 6 channels x 512 points at 50 Hz, as a list of arrays (the common pretraining shape);
- `ragged`: 1-6 channels, 16-4096 points, sampling rates across all four bands, 10% of the points NaN in half the
  samples: several patch sizes per batch;
- `uniform_with_text`: `uniform` plus one caption per sample through the processor (tokenizer trained on the fly).

Prints one JSON line: per case the median wall-clock seconds per batch over `--repeats` timed calls (after warm-up),
the samples per second that gives, and the median process-CPU seconds per batch (stable on a busy machine).

    python benchmarks/bench_processor.py [--batch-size 64] [--repeats 30]
"""

import argparse
import json
import platform
import statistics
import time

import numpy as np
import torch

from slip_sensor.processors import SlipFeatureExtractor, SlipProcessor, train_caption_tokenizer

RATES = (1 / 86400, 1 / 3600, 1 / 60, 1.0, 50.0, 1000.0)


def make_ragged(rng: np.random.Generator, batch_size: int) -> tuple[list[np.ndarray], list[float]]:
    samples = []
    for index in range(batch_size):
        sample = rng.standard_normal((rng.integers(1, 7), rng.integers(16, 4097))).astype(np.float32)
        if index % 2:
            sample[rng.random(sample.shape) < 0.1] = np.nan
        samples.append(sample)
    return samples, [float(rng.choice(RATES)) for _ in range(batch_size)]


def time_call(call, repeats: int, warmup: int = 3) -> tuple[float, float]:
    """Median wall-clock and median process-CPU seconds per call (CPU time is robust to a shared, busy machine)."""
    for _ in range(warmup):
        call()
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    feature_extractor = SlipFeatureExtractor()
    uniform = list(rng.standard_normal((args.batch_size, 6, 512)).astype(np.float32))
    ragged, ragged_rates = make_ragged(rng, args.batch_size)
    words = ["signal", "rises", "falls", "steadily", "sharply", "flat", "daily", "cycle", "peak", "noise", "heart"]
    captions = [" ".join(rng.choice(words, size=rng.integers(8, 40))) + "." for _ in range(args.batch_size)]
    processor = SlipProcessor(feature_extractor, train_caption_tokenizer(captions))

    cases = {
        "uniform": lambda: feature_extractor(uniform, sampling_rate=50.0, return_tensors="pt"),
        "ragged": lambda: feature_extractor(ragged, sampling_rate=ragged_rates, return_tensors="pt"),
        "uniform_with_text": lambda: processor(
            sensors=uniform, text=captions, sampling_rate=50.0, append_eos=True, return_labels=True
        ),
    }
    results = {"batch_size": args.batch_size, "repeats": args.repeats, "torch_threads": torch.get_num_threads()}
    results["platform"] = platform.processor() or platform.machine()
    for name, call in cases.items():
        output = call()
        seconds, cpu_seconds = time_call(call, args.repeats)
        results[name] = {
            "median_s_per_batch": round(seconds, 6),
            "samples_per_s": round(args.batch_size / seconds, 1),
            "median_cpu_s_per_batch": round(cpu_seconds, 6),
            "sensor_shape": list(output["sensor_values"].shape),
            "patch_sizes": sorted(set(output["patch_size"].tolist())),
        }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
