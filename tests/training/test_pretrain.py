"""Pretraining end to end: `accelerate launch training/pretrain.py` lowers the loss and leaves a loadable folder; a
run killed mid-way resumes to the same weights as an uninterrupted run; two CPU processes train together."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from slip_sensor.data import load_corpus

ROOT = Path(__file__).resolve().parents[2]
PRETRAIN = ROOT / "training" / "pretrain.py"
TINY_RUN = ["--preset", "slip-tiny", "--per-device-train-batch-size", "8", "--learning-rate", "2e-3",
            "--logging-steps", "2", "--seed", "0", "--use-cpu", "true"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def _run(command: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from slip_sensor.data import build_corpus

    path = tmp_path_factory.mktemp("corpus") / "corpus"
    build_corpus(path, n=96, seed=0, sources=["synthetic"], workers=1)
    return path


def _losses(output_dir: Path) -> list[float]:
    state = json.loads((output_dir / "trainer_state.json").read_text()) if (output_dir / "trainer_state.json").exists() \
        else json.loads(sorted(output_dir.glob("checkpoint-*/trainer_state.json"))[-1].read_text())
    return [entry["loss"] for entry in state["log_history"] if "loss" in entry]


def test_accelerate_launch_lowers_loss_and_leaves_a_loadable_folder(corpus, tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "1", "--cpu", str(PRETRAIN),
               *TINY_RUN, "--max-steps", "30", "--save-steps", "30", "--output-dir", str(out), "--corpus", str(corpus),
               "--eval-strategy", "steps", "--eval-steps", "15"]
    _run(command, tmp_path)
    state = json.loads(sorted(out.glob("checkpoint-*/trainer_state.json"))[-1].read_text())
    logs = [entry for entry in state["log_history"] if "loss" in entry]
    evaluations = [entry for entry in state["log_history"] if "eval_loss" in entry]
    assert [entry["step"] for entry in evaluations] == [15, 30]
    for entry in evaluations:  # retrieval over the held-out split, beside the evaluation loss
        assert {"eval_retrieval/text_to_sensor/recall_at_5", "eval_retrieval/sensor_to_text/mean_rank"} <= entry.keys()
        assert entry["eval_retrieval/num_pairs"] == len(load_corpus(corpus, split="validation"))
    first, last = logs[0], logs[-1]
    assert last["loss"] < first["loss"] - 0.5, logs
    assert {"contrastive_loss", "caption_loss", "contrastive_accuracy", "alignment", "uniformity_sensor"} <= last.keys()
    assert (out / "training_curves.png").stat().st_size > 10_000

    import slip_sensor
    from transformers import AutoModel

    # a training folder has no `auto_map`: AutoModel loads it with the installed classes once they are registered
    slip_sensor.register_auto_classes()
    model = AutoModel.from_pretrained(out)
    assert type(model) is slip_sensor.SlipModel
    saved = load_file(out / "model.safetensors")
    torch.testing.assert_close(model.logit_scale.detach(), saved["slip.logit_scale"])


def test_killed_run_resumes_to_the_same_weights(corpus, tmp_path):
    args = [*TINY_RUN, "--max-steps", "12", "--save-steps", "4", "--corpus", str(corpus)]
    full = tmp_path / "full"
    _run([sys.executable, str(PRETRAIN), *args, "--output-dir", str(full)], tmp_path)

    killed = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, str(PRETRAIN), *args, "--output-dir", str(killed)], cwd=tmp_path,
                               env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (killed / "checkpoint-4" / "trainer_state.json").exists() and time.time() < deadline:
        assert process.poll() is None, "the run ended before it could be killed"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (killed / "checkpoint-12").exists(), "the run finished before it was killed"
    _run([sys.executable, str(PRETRAIN), *args, "--output-dir", str(killed), "--resume-from-checkpoint", "last"], tmp_path)

    expected, resumed = load_file(full / "model.safetensors"), load_file(killed / "model.safetensors")
    assert expected.keys() == resumed.keys()
    for name in expected:
        torch.testing.assert_close(resumed[name], expected[name], atol=1e-5, rtol=1e-4, msg=name)
    assert _losses(killed)[-1] == pytest.approx(_losses(full)[-1], rel=1e-4)


def test_two_cpu_processes_train_together(corpus, tmp_path):
    out = tmp_path / "ddp"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port())]
    result = _run([*torchrun, str(PRETRAIN), *TINY_RUN, "--max-steps", "4", "--output-dir", str(out),
                   "--corpus", str(corpus)], tmp_path)
    assert (out / "model.safetensors").exists(), result.stderr[-2000:]
    state = json.loads(sorted(out.glob("checkpoint-*/trainer_state.json"))[-1].read_text())
    assert state["global_step"] == 4
