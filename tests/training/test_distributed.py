"""The training loss is a global-batch loss: 2 CPU processes × batch 4, and 2 accumulation steps × batch 4, train and
log as one process with batch 8 (`distributed_step.py` runs one SGD step through `SlipTrainer`)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "training" / "distributed_step.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _step(tmp_path: Path, name: str, *flags: str, processes: int = 1) -> dict[str, torch.Tensor]:
    out = tmp_path / name
    out.mkdir()
    launcher = [sys.executable]
    if processes > 1:
        launcher += ["-m", "torch.distributed.run", "--nproc_per_node", str(processes), "--master_port", str(free_port())]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([*launcher, str(SCRIPT), str(out), *flags], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return load_file(out / "step.safetensors")


def _assert_same(actual: dict, expected: dict, prefix: str) -> None:
    names = [name for name in expected if name.startswith(prefix)]
    assert len(names) >= 4 and set(names) <= set(actual)
    for name in names:
        torch.testing.assert_close(actual[name], expected[name], atol=1e-5, rtol=1e-4, msg=name)


@pytest.fixture(scope="module")
def one_process_batch_8(tmp_path_factory):
    return _step(tmp_path_factory.mktemp("single"), "single")


def test_two_processes_train_and_log_as_one_process_with_the_global_batch(tmp_path, one_process_batch_8):
    two = _step(tmp_path, "double", processes=2)
    _assert_same(two, one_process_batch_8, "log.")
    _assert_same(two, one_process_batch_8, "weight.")
    logged = {name: float(two[f"log.{name}"]) for name in ("loss", "contrastive_loss", "caption_loss")}
    assert logged["loss"] == pytest.approx(logged["contrastive_loss"] + logged["caption_loss"], rel=1e-4)


def test_two_accumulation_steps_equal_one_batch_for_the_caption_loss(tmp_path):
    whole = _step(tmp_path, "whole", "--contrastive-weight", "0")
    accumulated = _step(tmp_path, "accumulated", "--accumulation", "2", "--contrastive-weight", "0")
    _assert_same(accumulated, whole, "weight.")
    for name in ("log.loss", "log.caption_loss"):
        torch.testing.assert_close(accumulated[name], whole[name], atol=1e-5, rtol=1e-4, msg=name)


def test_accumulated_contrastive_loss_is_a_mean_over_micro_batches_not_a_sum(tmp_path, one_process_batch_8):
    accumulated = _step(tmp_path, "accumulated", "--accumulation", "2")
    logged = {name: float(accumulated[f"log.{name}"]) for name in ("loss", "contrastive_loss", "caption_loss")}
    assert logged["caption_loss"] == pytest.approx(float(one_process_batch_8["log.caption_loss"]), rel=1e-4)
    # 4 negatives per micro-batch instead of 8: a smaller, but not a doubled, contrastive loss
    assert logged["loss"] == pytest.approx(logged["contrastive_loss"] + logged["caption_loss"], rel=1e-4)
    assert logged["contrastive_loss"] < float(one_process_batch_8["log.contrastive_loss"]) + 0.5


def test_inference_under_a_process_group_stays_local(tmp_path):
    """Two processes in one process group run the model on different batches; each gets what a lone process gets."""
    script = ROOT / "tests" / "training" / "inference_in_process_group.py"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port())]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([*torchrun, str(script), str(tmp_path)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    from slip_sensor import SlipForConditionalGeneration
    from tests.models.test_modeling_slip import SlipModelTester

    tester = SlipModelTester(batch_size=3)
    torch.manual_seed(0)
    model = SlipForConditionalGeneration(tester.get_config()).eval()
    for rank in range(2):
        inputs = {**tester.sensor_inputs(seed=rank), **tester.text_inputs(seed=rank)}
        with torch.no_grad():
            alone = model(**inputs, labels=inputs["input_ids"])
        saved = load_file(tmp_path / f"rank{rank}.safetensors")
        assert saved["logits_per_text"].shape == (3, 3)
        for name in ("logits_per_text", "contrastive_loss", "caption_loss"):
            torch.testing.assert_close(saved[name], getattr(alone, name), msg=name)
        torch.testing.assert_close(saved["contrastive_logits"], alone.logits_per_text, msg="contrastive_logits")


def test_fsdp2_sharded_step_equals_one_process_with_the_global_batch(tmp_path, one_process_batch_8):
    """Every `_no_split_modules` layer and the root sharded with torch's `fully_shard` over 2 CPU processes (gloo):
    the step reaches the one-process weights, so the model runs sharded (no parameter is used outside a `forward`)
    and the global-batch loss holds under FSDP as under DDP."""
    out = tmp_path / "fsdp"
    out.mkdir()
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port())]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    script = ROOT / "tests" / "training" / "fsdp_step.py"
    result = subprocess.run([*torchrun, str(script), str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    sharded = load_file(out / "step.safetensors")
    _assert_same(sharded, one_process_batch_8, "weight.")
