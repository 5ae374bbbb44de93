"""A tiny SLIP model (random weights) in memory and behind the three pipelines (saved: `tiny_model_dir`, tests/conftest.py)."""

import pytest
from transformers import pipeline

from slip_sensor.hub_export import preset_model


@pytest.fixture(scope="session")
def model_and_processor():
    return preset_model("slip-tiny", seed=0)


@pytest.fixture(scope="session")
def pipelines(model_and_processor) -> dict:
    model, processor = model_and_processor
    return {
        "captioning": pipeline("sensor-captioning", model=model, processor=processor),
        "zero-shot": pipeline("zero-shot-sensor-classification", model=model.slip, processor=processor),
        "features": pipeline("sensor-feature-extraction", model=model.slip, processor=processor),
    }


