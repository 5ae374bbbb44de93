"""`slip convert-reference` on the public fixture's weights, sized by `--config`, writes a Hub folder whose model,
loaded back by class and through remote code, reproduces the fixture's reference outputs (check_fixture's
tolerance); without a tokenizer it writes weights and config that load by class."""

import json

import pytest
from transformers import AutoModelForCausalLM

from slip_sensor import SlipForConditionalGeneration, SlipProcessor, cli
from slip_sensor.hub_folder import validate_hub_folder
from slip_sensor.processors import train_caption_tokenizer
from tests.conftest import CAPTIONS
from tests.parity.check_fixture import compare, config_from_fixture, run_model
from tests.parity.test_reference_parity import FIXTURE

pytestmark = pytest.mark.skipif(not FIXTURE.exists(), reason=f"reference fixture not found at {FIXTURE}")


@pytest.fixture
def config_file(tmp_path):
    """The fixture's sizes as a SlipConfig JSON, what `--config` takes."""
    path = tmp_path / "slip_config.json"
    config_from_fixture(json.loads((FIXTURE / "config.json").read_text())).to_json_file(path)
    return path


def test_converted_hub_folder_reproduces_the_fixture(tmp_path, config_file, capsys):
    tokenizer_dir, out = tmp_path / "tokenizer", tmp_path / "converted"
    train_caption_tokenizer(CAPTIONS, vocab_size=512).save_pretrained(tokenizer_dir)  # the fixture ships none
    argv = ["convert-reference", str(FIXTURE / "weights.safetensors"), "--config", str(config_file),
            "--tokenizer", str(tokenizer_dir), "--out", str(out)]
    assert cli.main(argv) == 0
    assert validate_hub_folder(out) == []
    assert SlipProcessor.from_pretrained(out).caption_eos is False
    for model in (
        SlipForConditionalGeneration.from_pretrained(out),
        AutoModelForCausalLM.from_pretrained(out, trust_remote_code=True),
    ):
        assert compare(*run_model(FIXTURE, model))
    assert "MISMATCH" not in capsys.readouterr().out


def test_without_tokenizer_writes_weights_and_config(tmp_path, config_file):
    out = tmp_path / "converted"
    assert cli.main(["convert-reference", str(FIXTURE / "weights.safetensors"), "--config", str(config_file),
                     "--out", str(out)]) == 0
    assert compare(*run_model(FIXTURE, SlipForConditionalGeneration.from_pretrained(out)))


def test_sizes_that_do_not_match_are_refused(tmp_path):
    assert cli.main(["convert-reference", str(FIXTURE / "weights.safetensors"), "--preset", "slip-tiny",
                     "--out", str(tmp_path / "converted")]) == 2
