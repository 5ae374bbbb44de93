"""An exported Hub folder loads through remote code alone, in a fresh offline process, and reproduces the installed
package's outputs exactly: AutoConfig, AutoModel, AutoModelForCausalLM, AutoProcessor and the three pipelines.

The child is `check_remote_load.py`, run with this interpreter and, when `SLIP_COMPAT_PYTHON` names one, with a second
interpreter (transformers 4.57.x).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from slip_sensor import (
    SensorCaptioningPipeline,
    SensorFeatureExtractionPipeline,
    SlipForConditionalGeneration,
    SlipModel,
    SlipProcessor,
    ZeroShotSensorClassificationPipeline,
)

from .check_remote_load import collect_outputs, make_inputs

CHECK_SCRIPT = Path(__file__).with_name("check_remote_load.py")


@pytest.fixture(scope="module")
def expected_file(exported_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Outputs of the installed (pip) classes loaded from the exported folder, written for the child to compare."""
    model = SlipModel.from_pretrained(exported_folder).eval()
    causal_model = SlipForConditionalGeneration.from_pretrained(exported_folder).eval()
    processor = SlipProcessor.from_pretrained(exported_folder)
    pipelines = {
        "sensor-captioning": SensorCaptioningPipeline(model=causal_model, processor=processor),
        "zero-shot-sensor-classification": ZeroShotSensorClassificationPipeline(model=model, processor=processor),
        "sensor-feature-extraction": SensorFeatureExtractionPipeline(model=model, processor=processor),
    }
    inputs = make_inputs()
    outputs = collect_outputs(model, causal_model, processor, pipelines, inputs)
    path = tmp_path_factory.mktemp("expected") / "expected.json"
    path.write_text(json.dumps({"inputs": inputs, "outputs": outputs}), encoding="utf-8")
    return path


def run_check(python: str, folder: Path, expected_file: Path, workdir: Path) -> dict:
    """Runs the child offline, outside the repository, with an empty HF home and no PYTHONPATH."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(workdir / "hf_home"))
    result = subprocess.run(
        [python, str(CHECK_SCRIPT), str(folder), str(expected_file)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-6000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_remote_code_reproduces_installed_package(exported_folder: Path, expected_file: Path, tmp_path: Path):
    report = run_check(sys.executable, exported_folder, expected_file, tmp_path)
    assert report["mismatches"] == [] and report["not_remote_code"] == []
    assert report["classes"]["AutoModel"].endswith("modeling_slip.SlipModel")
    assert report["classes"]["AutoModelForCausalLM"].endswith("modeling_slip.SlipForConditionalGeneration")
    assert report["classes"]["sensor-captioning"].endswith("pipeline_slip.SensorCaptioningPipeline")


def test_remote_code_loads_in_compat_environment(exported_folder: Path, expected_file: Path, tmp_path: Path):
    python = os.environ.get("SLIP_COMPAT_PYTHON")
    if not python:
        pytest.skip("set SLIP_COMPAT_PYTHON to an interpreter with transformers 4.57.x to run this check")
    report = run_check(python, exported_folder, expected_file, tmp_path)
    assert report["transformers"].startswith("4.57.")
    assert report["mismatches"] == [] and report["not_remote_code"] == []
