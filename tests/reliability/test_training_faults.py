"""Training faults end to end: a diverged run stops (or skips the steps it may skip) and never saves non-finite
weights; a kill while a checkpoint is written leaves no partial `checkpoint-N`, and `--resume-from-checkpoint last`
resumes from the newest complete checkpoint, or says there is none."""

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from slip_sensor.errors import UserError
from slip_sensor.training.api import pretrain
from slip_sensor.training.trainer import TrainingDivergedError

ROOT = Path(__file__).resolve().parents[2]
PRETRAIN = ROOT / "training" / "pretrain.py"
TINY = dict(preset="slip-tiny", per_device_train_batch_size=8, learning_rate=2e-3, logging_steps=1, seed=0,
            use_cpu=True)
# The second step's update at this rate blows the weights up, so the third step's loss is NaN.
DIVERGING = {**TINY, "learning_rate": 1e10}

# Run in a child: pretraining whose checkpoint save of step 4 stops once the weights, optimiser and RNG states are
# written and before the trainer state is, writing the folder it saves into to the path in argv[2].
STALLED_SAVE = """
import json, sys, time
from pathlib import Path
from slip_sensor.training.api import pretrain
from slip_sensor.training.trainer import SlipTrainer

def stalled(self, output_dir, save=SlipTrainer._save_rng_state):
    save(self, output_dir)
    if self.state.global_step == 4:
        Path(sys.argv[2]).write_text(output_dir)
        time.sleep(600)

SlipTrainer._save_rng_state = stalled
pretrain(**json.loads(sys.argv[1]))
"""


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from slip_sensor.data import build_corpus

    path = tmp_path_factory.mktemp("corpus") / "corpus"
    build_corpus(path, n=64, seed=0, sources=["synthetic"])
    return path


def _all_finite(checkpoint: Path) -> bool:
    return all(tensor.isfinite().all() for tensor in load_file(checkpoint / "model.safetensors").values())


def test_diverged_run_stops_naming_the_step_and_term(corpus, tmp_path):
    out = tmp_path / "run"
    flags = ["--preset", "slip-tiny", "--per-device-train-batch-size", "8", "--learning-rate", "1e10",
             "--logging-steps", "1", "--use-cpu", "true", "--max-steps", "6", "--save-steps", "2",
             "--corpus", str(corpus), "--output-dir", str(out)]
    result = subprocess.run([sys.executable, str(PRETRAIN), *flags], env=_env(), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode != 0, result.stdout[-2000:]
    assert "Training diverged: the contrastive loss, caption loss and gradient norm of step 3 are not finite" in \
        result.stderr, result.stderr[-3000:]
    assert not (out / "model.safetensors").exists()
    assert [path.name for path in out.glob("checkpoint-*")] == ["checkpoint-2"]
    assert _all_finite(out / "checkpoint-2")


def test_nonfinite_steps_are_skipped_up_to_the_allowed_number(corpus, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(TrainingDivergedError, match=r"of step 5 are not finite \(3 such steps, 2 allowed\)"):
        pretrain(**DIVERGING, corpus=str(corpus), output_dir=str(out), max_steps=8, save_steps=2,
                 skip_nonfinite_steps=2)
    # steps 3 and 4 were skipped: neither the weights nor the optimiser moved
    before, after = out / "checkpoint-2", out / "checkpoint-4"
    expected, skipped = load_file(before / "model.safetensors"), load_file(after / "model.safetensors")
    for name in expected:
        torch.testing.assert_close(skipped[name], expected[name], rtol=0, atol=0, msg=name)
    steps = [torch.load(folder / "optimizer.pt")["state"][0]["step"] for folder in (before, after)]
    assert steps == [2, 2]
    logs = json.loads((after / "trainer_state.json").read_text())["log_history"]
    assert [entry["nonfinite_steps"] for entry in logs] == [0, 0, 1, 2]
    # a window of skipped steps logs no loss of 0 and no diagnostics of the skipped steps
    assert all(entry["loss"] != entry["loss"] and "contrastive_loss" not in entry for entry in logs[2:])
    assert logs[1]["loss"] == pytest.approx(logs[1]["contrastive_loss"] + logs[1]["caption_loss"], abs=1e-3)


def test_nonfinite_weights_are_never_saved(corpus, tmp_path):
    # one update at this rate overflows float32: the step's loss and gradients were finite, its weights are not
    out = tmp_path / "run"
    with pytest.raises(TrainingDivergedError, match="Refusing to save the checkpoint of step 1: its weights hold NaN"):
        pretrain(**TINY | {"learning_rate": 1e40, "warmup_steps": 0}, corpus=str(corpus), output_dir=str(out),
                 max_steps=1, save_steps=1)
    assert not list(out.glob("*checkpoint-*"))

    with pytest.raises(TrainingDivergedError, match="Refusing to save the trained model"):
        pretrain(**TINY | {"learning_rate": 1e40, "warmup_steps": 0}, corpus=str(corpus), output_dir=str(out),
                 max_steps=1, save_strategy="no")
    assert not (out / "model.safetensors").exists()


def test_kill_while_saving_leaves_the_previous_checkpoint_to_resume_from(corpus, tmp_path, caplog):
    out, marker = tmp_path / "run", tmp_path / "saving"
    arguments = {**TINY, "corpus": str(corpus), "output_dir": str(out), "max_steps": 6, "save_steps": 2}
    process = subprocess.Popen([sys.executable, "-c", STALLED_SAVE, json.dumps(arguments), str(marker)], env=_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not marker.exists():
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.time() < deadline, "the save of step 4 never began"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()

    assert (Path(marker.read_text()) / "model.safetensors").exists()  # killed mid-save: weights written, state not
    assert not (out / "checkpoint-4").exists()
    assert (out / "checkpoint-2" / "trainer_state.json").exists()
    # a checkpoint folder with missing files, as an interrupted copy leaves one
    shutil.copytree(out / "checkpoint-2", out / "checkpoint-3")
    (out / "checkpoint-3" / "trainer_state.json").unlink()

    with caplog.at_level(logging.WARNING, logger="slip_sensor"):
        run = pretrain(**arguments, resume_from_checkpoint="last")
    assert f"Resuming from {out / 'checkpoint-2'}" in caplog.text
    assert "checkpoint-3 (no readable trainer_state.json)" in caplog.text
    assert ".partial-checkpoint-4: the save of this checkpoint was interrupted" in caplog.text
    assert [entry["step"] for entry in run.trainer.state.log_history if "loss" in entry] == [1, 2, 3, 4, 5, 6]
    assert (out / "checkpoint-4" / "trainer_state.json").exists()
    assert not (out / ".partial-checkpoint-4").exists()  # the new save of step 4 replaced the interrupted one


def test_resume_last_without_a_checkpoint(corpus, tmp_path, caplog):
    arguments = {**TINY, "corpus": str(corpus), "output_dir": str(tmp_path / "run"), "max_steps": 2,
                 "resume_from_checkpoint": "last"}
    with pytest.raises(UserError, match="no complete checkpoint in .*--resume-if-possible"):
        pretrain(**arguments)

    with caplog.at_level(logging.WARNING, logger="slip_sensor"):
        run = pretrain(**arguments, resume_if_possible=True)
    assert "training starts fresh" in caplog.text
    assert run.trainer.state.global_step == 2
