"""The benchmark scripts run on this machine and print what their docstrings promise."""

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run_script(name: str, *args: str) -> list[dict]:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *args], capture_output=True, text=True, timeout=600, cwd=BENCHMARKS
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{\"")]


def test_bench_model_cpu_prints_one_line_per_workload():
    records = run_script(
        "bench_model.py", "--preset", "slip-tiny", "--device", "cpu", "--warmup", "1", "--repeats", "2"
    )
    assert [(r["workload"], r.get("cache")) for r in records] == [
        ("train", None), ("train-long", None), ("embedding", None), ("captioning", "dynamic"), ("captioning", "static")
    ]
    for record in records:
        assert record["median_s"] > 0 and record["device"] == "cpu"
        assert record.get("samples_per_s", record.get("tokens_per_s")) > 0
    assert all(r["tflop_per_call"] > 0 for r in records if r["workload"] != "captioning")


def test_memory_estimate_counts_activations_and_checkpointing_lowers_it():
    plain, = run_script("estimate_memory.py", "--preset", "slip-tiny", "--workloads", "train", "--top", "3")
    checkpointed, = run_script(
        "estimate_memory.py", "--preset", "slip-tiny", "--workloads", "train", "--gradient-checkpointing"
    )
    assert plain["estimated_peak_bytes"] > plain["resident_bytes"] > 0
    assert checkpointed["estimated_peak_bytes"] < plain["estimated_peak_bytes"]
    assert len(plain["largest_at_peak"]) == 3


def test_pretraining_profile_reports_input_and_step_time(tmp_path):
    record, = run_script(
        "profile_pretrain.py", "--corpus-size", "120", "--steps", "8", "--batch-size", "4", "--warmup-steps", "2",
        "--profile-steps", "2", "--out", str(tmp_path),
    )
    assert record["step_ms"] > 0 and record["dataloader_alone_ms_per_batch"] > 0
    assert 0 < record["input_share"] < 1
