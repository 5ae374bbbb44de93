"""Fixtures of the Hub tests: a tiny random model with its processor, and its exported Hub folder."""

from pathlib import Path

import pytest

from slip_sensor import SlipForConditionalGeneration, SlipProcessor, cli
from slip_sensor.hub_export import preset_model

PRESET = "slip-tiny"


@pytest.fixture(scope="session")
def tiny_model_and_processor() -> tuple[SlipForConditionalGeneration, SlipProcessor]:
    """The model and processor `slip export --preset slip-tiny` writes (seed 0)."""
    return preset_model(PRESET, seed=0)


@pytest.fixture(scope="session")
def exported_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`slip export --preset slip-tiny --out DIR`, run once for the session (outside the repository)."""
    folder = tmp_path_factory.mktemp("hub") / PRESET
    assert cli.main(["export", "--preset", PRESET, "--out", str(folder)]) == 0
    return folder
