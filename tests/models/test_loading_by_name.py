"""A name that is neither a folder nor on the Hub (the design card's `"slip-base"`) gets an error saying what it
could be, instead of transformers' bare "no folder, not on the Hub"."""

import os
import subprocess
import sys

import pytest

CODE = """
import sys
from slip_sensor import SlipForConditionalGeneration, SlipModel, SlipProcessor
for cls in (SlipModel, SlipForConditionalGeneration, SlipProcessor):
    try:
        cls.from_pretrained(sys.argv[1])
    except OSError as error:
        print(error)
"""


@pytest.mark.parametrize("name", ["slip-base", "/no/such/folder"])
def test_an_unknown_name_says_what_it_could_be(name, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}  # no network retries, empty cache
    result = subprocess.run([sys.executable, "-c", CODE, name], env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    messages = result.stdout.strip().splitlines()
    assert len(messages) == 3, result.stdout
    for message in messages:
        assert message.startswith(f"{name!r} is no local folder and could not be loaded from the Hub")
    for cls, message in zip(("SlipModel", "SlipForConditionalGeneration"), messages):
        assert f"`{cls}(SlipConfig.from_preset('slip-base'))`" in message
        assert f"slip convert-reference CHECKPOINT --out {name}" in message
    assert "A SLIP processor is saved with its model" in messages[2]


def test_a_folder_that_is_not_a_model_keeps_transformers_error(tmp_path):
    from slip_sensor import SlipModel

    with pytest.raises(OSError) as raised:
        SlipModel.from_pretrained(tmp_path)
    assert "could be a preset" not in str(raised.value)


def test_a_folder_without_a_processor_keeps_transformers_error(tmp_path):
    from slip_sensor import SlipProcessor

    with pytest.raises(OSError) as raised:
        SlipProcessor.from_pretrained(tmp_path)
    assert "is no local folder" not in str(raised.value)
