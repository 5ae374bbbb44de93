"""Training writes Hub folders: a checkpoint of a tiny real pretraining run, and its output folder, pass
`validate_hub_folder`, and the checkpoint loads in a fresh offline process without `slip_sensor` (AutoConfig,
AutoModel, AutoModelForCausalLM, AutoProcessor and the three pipelines, `sensor-captioning` included, all through
`trust_remote_code=True`), reproducing the installed package's outputs exactly, under transformers 5 and 4.57."""

import os
import sys
from pathlib import Path

import pytest

from slip_sensor.hub_folder import validate_hub_folder

from .test_remote_load import expected_file, run_check  # noqa: F401  (expected_file: a fixture over `exported_folder`)

STEPS = 2


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-step pretraining run of slip-tiny on a small synthetic corpus, checkpointing at its last step."""
    from slip_sensor.data import build_corpus
    from slip_sensor.training.api import pretrain

    root = tmp_path_factory.mktemp("training")
    build_corpus(root / "corpus", n=32, seed=0, sources=["synthetic"], workers=1)
    out = root / "run"
    pretrain(
        preset="slip-tiny", corpus=str(root / "corpus"), output_dir=str(out), max_steps=STEPS, save_steps=STEPS,
        per_device_train_batch_size=8, logging_steps=1, seed=0, use_cpu=True,
    )
    return out


@pytest.fixture(scope="module")
def exported_folder(run_dir: Path) -> Path:
    """The checkpoint, in place of `slip export`'s folder for `expected_file`."""
    return run_dir / f"checkpoint-{STEPS}"


def test_checkpoint_and_output_folder_are_hub_folders(run_dir: Path, exported_folder: Path):
    assert validate_hub_folder(exported_folder) == []
    assert validate_hub_folder(run_dir) == []


def test_checkpoint_loads_through_remote_code(exported_folder: Path, expected_file: Path, tmp_path: Path):
    report = run_check(sys.executable, exported_folder, expected_file, tmp_path)
    assert report["mismatches"] == [] and report["not_remote_code"] == []
    assert report["classes"]["AutoProcessor"].endswith("processing_slip.SlipProcessor")
    assert report["classes"]["sensor-captioning"].endswith("pipeline_slip.SensorCaptioningPipeline")


def test_checkpoint_loads_in_compat_environment(exported_folder: Path, expected_file: Path, tmp_path: Path):
    python = os.environ.get("SLIP_COMPAT_PYTHON")
    if not python:
        pytest.skip("set SLIP_COMPAT_PYTHON to an interpreter with transformers 4.57.x to run this check")
    report = run_check(python, exported_folder, expected_file, tmp_path)
    assert report["transformers"].startswith("4.57.")
    assert report["mismatches"] == [] and report["not_remote_code"] == []
