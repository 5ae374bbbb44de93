"""`SlipForSensorClassification`: loads the sensor tower of a pretrained SLIP checkpoint, computes the loss, and
loads through `AutoModelForSensorClassification` from a saved folder and, with remote code, from a Hub folder."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import slip_sensor
from slip_sensor import SlipModel, SlipProcessor
from slip_sensor.auto_models import AutoModelForSensorClassification
from slip_sensor.modeling_slip.classification_slip import SlipForSensorClassification
from tests.hub.conftest import exported_folder  # noqa: F401  (the fixture)

LABELS = {0: "walking", 1: "running", 2: "sitting"}


@pytest.fixture(scope="module")
def classifier() -> SlipForSensorClassification:
    label2id = {name: index for index, name in LABELS.items()}
    return SlipForSensorClassification.from_pretrained(
        slip_sensor.pretrained("slip-tiny"), num_labels=3, id2label=LABELS, label2id=label2id
    )


def inputs(batch: int = 4) -> dict:
    rng = np.random.default_rng(0)
    processor = SlipProcessor.from_pretrained(slip_sensor.pretrained("slip-tiny"))
    return dict(processor(sensors=[rng.normal(size=(3, 200)) for _ in range(batch)], sampling_rate=50.0, return_tensors="pt"))


def test_takes_the_sensor_tower_of_a_captioning_checkpoint(classifier):
    tower = SlipModel.from_pretrained(slip_sensor.pretrained("slip-tiny")).sensor_model.state_dict()
    loaded = classifier.sensor_model.state_dict()
    assert tower.keys() == loaded.keys()
    assert all(torch.equal(tower[key], loaded[key]) for key in tower)
    assert classifier.config.id2label == LABELS and classifier.config.label2id == {v: k for k, v in LABELS.items()}


def test_logits_loss_and_missing_samples(classifier):
    batch = inputs()
    output = classifier(**batch, labels=torch.tensor([0, 1, 2, 0]))
    assert output.logits.shape == (4, 3) and output.loss.ndim == 0
    assert classifier.config.problem_type == "single_label_classification"
    expected = torch.nn.functional.cross_entropy(output.logits, torch.tensor([0, 1, 2, 0]))
    torch.testing.assert_close(output.loss, expected)
    batch["sensor_mask"][1] = False  # a sample with no observed value
    logits = classifier(**batch).logits
    assert logits[1].isnan().all() and logits[[0, 2, 3]].isfinite().all()
    with pytest.raises(ValueError, match="no observed value"):
        classifier(**batch, labels=torch.tensor([0, 1, 2, 0]))


def test_auto_class_loads_a_saved_classifier(classifier, tmp_path):
    classifier.save_pretrained(tmp_path)
    loaded = AutoModelForSensorClassification.from_pretrained(tmp_path)
    assert type(loaded) is SlipForSensorClassification
    batch = inputs(2)
    torch.testing.assert_close(loaded.eval()(**batch).logits, classifier.eval()(**batch).logits)


REMOTE = """
import json, sys
sys.modules["slip_sensor"] = None
from transformers.dynamic_module_utils import get_class_from_dynamic_module
folder = sys.argv[1]
config = json.load(open(folder + "/config.json"))
cls = get_class_from_dynamic_module(config["auto_map"]["AutoModelForSensorClassification"], folder)
model = cls.from_pretrained(folder, num_labels=3)
print(json.dumps([cls.__module__, model.config.num_labels, sorted(model.state_dict())[0]]))
"""


@pytest.mark.parametrize("python", [sys.executable, os.environ.get("SLIP_COMPAT_PYTHON")])
def test_hub_folder_loads_the_classifier_with_remote_code(exported_folder, tmp_path, python):
    if python is None:
        pytest.skip("SLIP_COMPAT_PYTHON is not set")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [python, "-c", REMOTE, str(exported_folder)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    module, num_labels, first_key = json.loads(result.stdout.splitlines()[-1])
    assert module.startswith("transformers_modules.") and module.endswith("classification_slip")
    assert num_labels == 3 and first_key.startswith("classifier.")
