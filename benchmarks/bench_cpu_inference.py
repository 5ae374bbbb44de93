"""The sensor tower on CPU, side by side in one run: PyTorch eager, `torch.compile`, ONNX Runtime fp32 and int8; and
captioning tokens/s with the static cache (PyTorch).

    python benchmarks/bench_cpu_inference.py [--presets slip-tiny,slip-small] [--threads 2,1] [--out FILE]

Inputs are realistic windows: 6 channels, 10 s at 50 Hz (a noisy periodic signal with a NaN gap in one recording
of eight), preprocessed once by the model's processor (which picks patch size 12: 6 x 42 tokens); the timings cover
the tower only (inputs already patched). `slip-tiny` is the shipped checkpoint; `slip-small` is
`SlipConfig.from_preset("slip-small")` with random weights (seed 0), which changes nothing about speed. For each
preset and engine one JSON line: batch-1 latency p50/p95 (ms, over `--latency-repeats` calls) and batch-64
throughput (windows/s, the median over `--throughput-repeats` calls), after one warm-up call each; with the ONNX file
size, the compile time of `torch.compile` (or its error, recorded as is), and `os.getloadavg()` before and after,
since other processes may share the cores. Everything runs once per thread count of `--threads` (torch's and ONNX
Runtime's intra-op threads alike): on cores that other processes keep busy, PyTorch's two-thread kernels can wait
on each other far longer than they compute, and one thread shows what the code itself costs. Then one captioning
line per preset (greedy, `--new-tokens` tokens, batch 1 and 8, static cache, no compilation) and one summary line per
preset: the ratios to eager and the goals (ORT int8 at least 3x eager throughput at batch 64; batch-1 latency under
10 ms). Every line is printed and appended to `--out` (default `benchmarks/results/cpu-inference-<date>.jsonl`).
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime
import torch

from slip_sensor import SlipConfig, SlipForConditionalGeneration, SlipProcessor
from slip_sensor.onnx.export import SlipSensorEncoderForExport, export_sensor_encoder, quantize_int8
from slip_sensor.onnx.slip_onnx_runner import SENSOR_INPUTS
from slip_sensor.shipped_models import pretrained

CHANNELS, SECONDS, RATE = 6, 10, 50.0
GOAL_INT8_SPEEDUP, GOAL_LATENCY_MS = 3.0, 10.0


def windows(count: int, seed: int = 0) -> list[np.ndarray]:
    """`count` recordings `[6, 500]`: a periodic signal per channel plus noise; every eighth has a 1-s NaN gap."""
    rng = np.random.default_rng(seed)
    time_s = np.arange(int(SECONDS * RATE)) / RATE
    recordings = []
    for index in range(count):
        frequency = rng.uniform(0.5, 3.0, (CHANNELS, 1))
        values = np.sin(2 * np.pi * frequency * time_s) + 0.3 * rng.standard_normal((CHANNELS, time_s.size))
        if index % 8 == 7:
            values[:, 200:250] = np.nan
        recordings.append(values.astype(np.float32))
    return recordings


def load(preset: str) -> SlipForConditionalGeneration:
    if preset == "slip-tiny":
        return SlipForConditionalGeneration.from_pretrained(pretrained("slip-tiny")).eval()
    torch.manual_seed(0)
    return SlipForConditionalGeneration(SlipConfig.from_preset(preset)).eval()


def timed(call: Callable[[], object], repeats: int) -> list[float]:
    """Seconds of each of `repeats` calls, after one warm-up call."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def measure(engine: Callable[[dict], object], single: dict, batch: dict, args) -> dict:
    load_before = os.getloadavg()
    latency = timed(lambda: engine(single), args.latency_repeats)
    throughput = timed(lambda: engine(batch), args.throughput_repeats)
    batch_size = len(batch["patch_size"])
    return {
        "batch1_p50_ms": round(1000 * float(np.percentile(latency, 50)), 3),
        "batch1_p95_ms": round(1000 * float(np.percentile(latency, 95)), 3),
        f"batch{batch_size}_windows_per_s": round(batch_size / statistics.median(throughput), 1),
        "loadavg_before": [round(value, 2) for value in load_before],
        "loadavg_after": [round(value, 2) for value in os.getloadavg()],
    }


def torch_engine(module: torch.nn.Module) -> Callable[[dict], object]:
    def run(inputs: dict) -> object:
        with torch.inference_mode():
            return module(*(torch.from_numpy(inputs[name]) for name in SENSOR_INPUTS))

    return run


def ort_engine(path: Path, threads: int) -> Callable[[dict], object]:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda inputs: session.run(None, {name: inputs[name] for name in SENSOR_INPUTS})


def captioning(model: SlipForConditionalGeneration, processor: SlipProcessor, args) -> dict:
    """Greedy tokens/s with the static cache, sensor tower and prefill included, at batch 1 and 8."""
    record = {}
    prompt = "A 6-channel recording lasting 10 s, sampled at 50 Hz."
    for batch_size in (1, 8):
        inputs = processor(
            sensors=windows(batch_size, seed=1), text=[prompt] * batch_size, sampling_rate=RATE, append_eos=False
        )

        def generate():
            with torch.inference_mode():
                model.generate(
                    **inputs, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens, do_sample=False,
                    cache_implementation="static", disable_compile=True,
                )

        seconds = statistics.median(timed(generate, args.caption_repeats))
        record[f"batch{batch_size}_tokens_per_s"] = round(batch_size * args.new_tokens / seconds, 1)
    return record


def bench_preset(
    preset: str, threads: int, processor: SlipProcessor, args, emit: Callable[[dict], None], folder: Path
) -> None:
    torch.set_num_threads(threads)
    torch._dynamo.reset()  # compile afresh for this thread count
    model = load(preset)
    single = dict(processor(sensors=windows(1), sampling_rate=RATE, return_tensors="np"))
    batch = dict(processor(sensors=windows(args.batch_size), sampling_rate=RATE, return_tensors="np"))
    common = {
        "preset": preset,
        "weights": "shipped" if preset == "slip-tiny" else "random (seed 0)",
        "input_shape": list(batch["sensor_values"].shape),
        "threads": threads,
    }
    tower = SlipSensorEncoderForExport(model.slip).eval()
    results = {}

    results["eager"] = measure(torch_engine(tower), single, batch, args)
    emit({**common, "engine": "pytorch-eager", **results["eager"]})

    start = time.perf_counter()
    try:
        compiled = torch.compile(tower)
        torch_engine(compiled)(single)
        torch_engine(compiled)(batch)
        compile_s = round(time.perf_counter() - start, 1)
        results["compile"] = measure(torch_engine(compiled), single, batch, args)
        emit({**common, "engine": "pytorch-compile", "compile_s": compile_s, **results["compile"]})
    except Exception as error:  # recorded as is: whether inductor works on this CPU is part of the result
        emit({**common, "engine": "pytorch-compile", "error": f"{type(error).__name__}: {error}"[:500],
              "seconds_until_error": round(time.perf_counter() - start, 1)})
        traceback.print_exc()

    fp32, int8 = folder / f"{preset}.onnx", folder / f"{preset}.int8.onnx"
    if not int8.exists():  # exported once per preset
        quantize_int8(export_sensor_encoder(model.slip, processor, fp32), int8)
    for name, path in (("ort-fp32", fp32), ("ort-int8", int8)):
        results[name] = measure(ort_engine(path, threads), single, batch, args)
        emit({**common, "engine": name, "file_mib": round(path.stat().st_size / 2**20, 2), **results[name]})

    emit({**common, "workload": "captioning", "engine": "pytorch-eager", "cache": "static",
          "new_tokens": args.new_tokens, **captioning(model, processor, args), "loadavg": list(os.getloadavg())})

    throughput = f"batch{args.batch_size}_windows_per_s"
    eager = results["eager"]
    summary = {
        f"{name}_vs_eager_{throughput}": round(result[throughput] / eager[throughput], 2)
        for name, result in results.items() if name != "eager"
    }
    summary.update({
        f"{name}_vs_eager_batch1_p50": round(eager["batch1_p50_ms"] / result["batch1_p50_ms"], 2)
        for name, result in results.items() if name != "eager"
    })
    best_latency = min(result["batch1_p50_ms"] for result in results.values())
    emit({
        **common, "summary": summary,
        f"goal_ort_int8_ge_{GOAL_INT8_SPEEDUP:g}x_eager_throughput":
            summary[f"ort-int8_vs_eager_{throughput}"] >= GOAL_INT8_SPEEDUP,
        "best_batch1_p50_ms": best_latency,
        f"goal_batch1_latency_lt_{GOAL_LATENCY_MS:g}ms": best_latency < GOAL_LATENCY_MS,
    })


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="slip-tiny,slip-small")
    parser.add_argument("--threads", default="2,1", help="comma-separated torch and ORT intra-op thread counts")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latency-repeats", type=int, default=20)
    parser.add_argument("--throughput-repeats", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--caption-repeats", type=int, default=3)
    parser.add_argument("--out", default=None, help="JSONL file to append to")
    args = parser.parse_args(argv)
    out = Path(args.out or Path(__file__).parent / "results" / f"cpu-inference-{datetime.date.today()}.jsonl")
    environment = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(), "platform": platform.machine(), "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
    }

    def emit(record: dict) -> None:
        line = json.dumps({**record, **environment})
        print(line, flush=True)
        with out.open("a", encoding="utf-8") as file:
            file.write(line + "\n")

    processor = SlipProcessor.from_pretrained(pretrained("slip-tiny"))  # the feature extractor every preset shares
    with tempfile.TemporaryDirectory() as folder:
        for threads in (int(count) for count in args.threads.split(",")):
            for preset in args.presets.split(","):
                bench_preset(preset, threads, processor, args, emit, Path(folder))


if __name__ == "__main__":
    main()
