"""What the ONNX export and int8 quantisation cost in accuracy: the shipped slip-tiny through the evaluation harness as
PyTorch, ONNX Runtime fp32 and ONNX Runtime int8, with the same protocol and data.

    slip build-corpus --out corpus --n 3000 --seed 0        # the main job's corpus (format v2)
    python benchmarks/bench_onnx_accuracy.py --corpus corpus [--seeds 5] [--out FILE]

The model is exported with `slip_sensor.onnx.export_onnx(..., int8=True)` into a temporary folder; the ONNX encoders
are `slip_sensor.onnx.OnnxSensorTextEncoder` (the harness's `SensorTextEncoder` over the runner). Tasks: the five
public labelled sets and the six synthetic attribute tasks (linear probe over `--seeds` seeds, zero-shot), and
caption↔sensor retrieval on the validation split of `--corpus` when it is given (e.g. a corpus built with the main
job's size and seed, as above). One JSON line per encoder with every task's probe and zero-shot
accuracy, the retrieval recalls and the means, then one line with each ONNX encoder's differences to PyTorch in
points (the largest absolute one too). Lines are printed and appended to `--out` (default
`benchmarks/results/onnx-accuracy-<date>.jsonl`).
"""

import argparse
import datetime
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from slip_sensor import SlipModel, SlipProcessor
from slip_sensor.evaluation.harness import SlipEncoder, evaluate_tasks, random_encoder, resolve_tasks
from slip_sensor.evaluation.retrieval import evaluate_retrieval
from slip_sensor.onnx import OnnxSensorTextEncoder, export_onnx
from slip_sensor.shipped_models import pretrained

TASKS = [
    "basicmotions", "gunpoint", "italypowerdemand", "japanesevowels", "pickupgesturewiimotez", "synthetic-attributes"
]
RECALLS = ("recall_at_1", "recall_at_5", "recall_at_10")


def scores(results: dict, retrieval: dict | None) -> dict:
    """Accuracies (fractions) of one encoder: per task, the means, and the retrieval recalls."""
    tasks = results["tasks"]
    record = {
        "linear_probe": {name: task["linear_probe"]["accuracy_mean"] for name, task in tasks.items()},
        "zero_shot": {name: task["zero_shot"]["accuracy"] for name, task in tasks.items()},
    }
    record["linear_probe_mean"] = statistics.mean(record["linear_probe"].values())
    record["zero_shot_mean"] = statistics.mean(record["zero_shot"].values())
    if retrieval is not None:
        record["retrieval"] = {
            f"{direction}_{recall}": retrieval[direction][recall]
            for direction in ("text_to_sensor", "sensor_to_text")
            for recall in RECALLS
        }
    return record


def flatten(record: dict) -> dict[str, float]:
    flat = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update({f"{key}/{name}": number for name, number in value.items()})
        else:
            flat[key] = value
    return flat


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=None, help="corpus folder for the retrieval task (none: no retrieval)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default=None, help="JSONL file to append to")
    args = parser.parse_args(argv)
    out = Path(args.out or Path(__file__).parent / "results" / f"onnx-accuracy-{datetime.date.today()}.jsonl")

    def emit(record: dict) -> None:
        line = json.dumps({**record, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                           "loadavg": [round(value, 2) for value in os.getloadavg()]})
        print(line, flush=True)
        with out.open("a", encoding="utf-8") as file:
            file.write(line + "\n")

    model = SlipModel.from_pretrained(pretrained("slip-tiny")).eval()
    processor = SlipProcessor.from_pretrained(pretrained("slip-tiny"))
    datasets = resolve_tasks(TASKS)
    corpus = args.corpus
    with tempfile.TemporaryDirectory() as folder:
        onnx_dir = export_onnx(model, processor, Path(folder) / "slip-tiny-onnx", int8=True)
        cache_dir = Path(folder) / "feature_cache"  # shared: the baselines are computed once
        baseline = random_encoder(model, processor, args.batch_size, None)
        encoders = {
            "pytorch": SlipEncoder(model, processor, args.batch_size),
            "ort-fp32": OnnxSensorTextEncoder(onnx_dir, "fp32", args.batch_size),
            "ort-int8": OnnxSensorTextEncoder(onnx_dir, "int8", args.batch_size),
        }
        records = {}
        for name, encoder in encoders.items():
            start = time.perf_counter()
            results = evaluate_tasks(encoder, baseline, datasets, args.seeds, cache_dir=cache_dir, progress=False)
            retrieval = evaluate_retrieval(encoder, corpus) if corpus else None
            records[name] = scores(results, retrieval)
            emit({"model": "slip-tiny (shipped)", "encoder": name, "seeds": args.seeds, "corpus": corpus,
                  **records[name], "seconds": round(time.perf_counter() - start, 1)})
    reference = flatten(records["pytorch"])
    for name in ("ort-fp32", "ort-int8"):
        points = {key: round(100 * (value - reference[key]), 2) for key, value in flatten(records[name]).items()}
        emit({"model": "slip-tiny (shipped)", "encoder": name, "points_vs_pytorch": points,
              "max_abs_points": max(abs(value) for value in points.values())})


if __name__ == "__main__":
    main()
