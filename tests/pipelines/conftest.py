"""A tiny SLIP model (random weights, seed 0) behind the three pipelines."""

import pytest
from transformers import pipeline

from slip_sensor.hub_export import preset_model


@pytest.fixture(scope="session")
def pipelines() -> dict:
    model, processor = preset_model("slip-tiny", seed=0)
    return {
        "captioning": pipeline("sensor-captioning", model=model, processor=processor),
        "zero-shot": pipeline("zero-shot-sensor-classification", model=model.slip, processor=processor),
        "features": pipeline("sensor-feature-extraction", model=model.slip, processor=processor),
    }
