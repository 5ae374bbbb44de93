"""A tiny saved SLIP model (random weights) for commands that need one."""

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    from slip_sensor.hub_export import preset_model

    model, processor = preset_model("slip-tiny", seed=0)
    directory = tmp_path_factory.mktemp("slip-tiny")
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory
