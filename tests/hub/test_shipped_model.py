"""The slip-tiny that ships inside the package: loadable by the installed classes, the pipelines' default model, and
the measured results in its card."""

import json

import numpy as np
import pytest
from transformers import AutoModel, AutoProcessor, pipeline

import slip_sensor
from slip_sensor.shipped_models import available, pretrained


def test_shipped_folder_loads_with_the_installed_classes():
    folder = slip_sensor.pretrained("slip-tiny")
    assert "slip-tiny" in available()
    assert sum(path.stat().st_size for path in folder.iterdir()) < 25 * 2**20
    assert not list(folder.glob("*.py"))  # no code copies that could go stale: the package's classes load it
    model = AutoModel.from_pretrained(folder)
    processor = AutoProcessor.from_pretrained(folder)
    assert isinstance(model, slip_sensor.SlipModel) and isinstance(processor, slip_sensor.SlipProcessor)
    assert processor.caption_eos and model.config.text_pooling == "mean"
    recording = np.sin(np.linspace(0, 20, 200, dtype=np.float32))[None]
    embedding = model.get_sensor_features(**processor(sensors=[recording], sampling_rate=10.0, return_tensors="pt"))
    assert embedding.shape == (1, model.config.projection_dim) and bool(embedding.isfinite().all())


def test_unknown_name_lists_what_ships():
    with pytest.raises(ValueError, match="slip-tiny"):
        pretrained("slip-huge")


def test_pipelines_default_to_the_shipped_model():
    recording = np.sin(np.linspace(0, 20, 200, dtype=np.float32))[None].repeat(2, axis=0)
    captioner = pipeline("sensor-captioning")
    assert str(pretrained()) == captioner.model.name_or_path
    caption = captioner({"sensors": recording, "sampling_rate": 10.0}, max_new_tokens=8)
    assert isinstance(caption[0]["generated_text"], str)
    classifier = pipeline("zero-shot-sensor-classification")
    scores = classifier(recording, candidate_labels=["rises", "falls"], sampling_rate=10.0)
    assert sorted(scores["labels"]) == ["falls", "rises"] and sum(scores["scores"]) == pytest.approx(1.0)


def test_model_card_reports_the_measured_results():
    card = (pretrained() / "README.md").read_text()
    results = json.loads((pretrained() / "eval_results.json").read_text())
    basic_motions = results["tasks"]["basicmotions"]["linear_probe"]["accuracy_mean"]
    assert f"{100 * basic_motions:.2f}" in card
    assert "Retrieval" in card and "Captions of 64 held-out" in card
