"""Importing the package and running `slip --help` stay light (no torch), and the first use of a SLIP name registers
the classes with transformers' Auto classes and pipeline tasks. Each check runs in a fresh interpreter, so that
nothing this test session has imported or registered can make it pass."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from slip_sensor.cli import SUBCOMMANDS


def run_python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def loaded_modules(code: str) -> set[str]:
    """Top-level names in `sys.modules` after running `code`."""
    modules = run_python(f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))").splitlines()[-1]
    return {name.split(".")[0] for name in json.loads(modules)}


def test_importing_the_package_and_its_namespaces_loads_neither_torch_nor_transformers_nor_gradio():
    code = "\n".join(
        f"import {name}"
        for name in (
            "slip_sensor",
            "slip_sensor.cli",
            "slip_sensor.modeling_slip",
            "slip_sensor.processors",
            "slip_sensor.training",
            "slip_sensor.data",
            "slip_sensor.evaluation",
            "slip_sensor.evaluation.cli",
            "slip_sensor.hub_cards",
            "slip_sensor.search",
            "slip_sensor.space_app",
            "slip_sensor.space_export",
        )
    )
    assert not {"torch", "transformers", "gradio"} & loaded_modules(code)


def test_slip_help_lists_the_subcommands_without_loading_torch():
    script = Path(sys.executable).with_name("slip")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "slip_sensor.cli"]
    help_text = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60, check=True).stdout
    assert all(name in help_text for name in SUBCOMMANDS)
    # the same entry point in a fresh interpreter that reports what `--help` imported
    code = """
import sys
from slip_sensor.cli import main
try:
    main(["--help"])
finally:
    print("torch" in sys.modules)
"""
    assert run_python(code).splitlines()[-1] == "False"


def test_dir_and_all_list_the_lazy_names_without_importing_them():
    code = (
        "import json, sys, slip_sensor\n"
        "print(json.dumps([sorted(slip_sensor.__all__), 'SlipModel' in dir(slip_sensor), 'torch' in sys.modules]))"
    )
    names, in_dir, torch_loaded = json.loads(run_python(code))
    assert {"SlipModel", "SlipProcessor", "pretrained", "register_auto_classes"} <= set(names)
    assert in_dir and not torch_loaded


REGISTRATION_CHECK = """
import json
from slip_sensor.shipped_models import pretrained
{first_use}
from transformers import AutoConfig, AutoModel, AutoProcessor, pipeline
from transformers.pipelines import PIPELINE_REGISTRY
folder = pretrained("slip-tiny")
model = AutoModel.from_pretrained(folder)
print(json.dumps({{
    "config": type(AutoConfig.from_pretrained(folder)).__name__,
    "model": type(model).__module__ + "." + type(model).__name__,
    "processor": type(AutoProcessor.from_pretrained(folder)).__name__,
    "pipeline": type(pipeline("sensor-captioning", model=str(folder))).__name__,
    "tasks": sorted(task for task in PIPELINE_REGISTRY.get_supported_tasks() if "sensor" in task),
}}))
"""


@pytest.mark.parametrize(
    "first_use",
    [
        "import slip_sensor\nslip_sensor.SlipModel",
        "from slip_sensor.modeling_slip import SlipConfig",
        "from slip_sensor.processors import SlipProcessor",
        "import slip_sensor\nslip_sensor.register_auto_classes()",
    ],
)
def test_first_use_of_a_slip_name_registers_auto_classes_and_pipeline_tasks(first_use):
    resolved = json.loads(run_python(REGISTRATION_CHECK.format(first_use=first_use)).splitlines()[-1])
    assert resolved == {
        "config": "SlipConfig",
        "model": "slip_sensor.modeling_slip.modeling_slip.SlipModel",  # the installed class, without remote code
        "processor": "SlipProcessor",
        "pipeline": "SensorCaptioningPipeline",
        "tasks": [
            "sensor-captioning",
            "sensor-classification",
            "sensor-feature-extraction",
            "zero-shot-sensor-classification",
        ],
    }


def test_import_alone_registers_nothing():
    code = """
import slip_sensor
from transformers import AutoConfig
try:
    AutoConfig.for_model("slip")
except ValueError:
    print("unregistered")
"""
    assert run_python(code).strip() == "unregistered"
