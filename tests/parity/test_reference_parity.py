"""The reference parity fixture reproduces through our converter, processor and model; tampering is caught."""

import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from tests.parity.check_fixture import main as check_fixture

FIXTURE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "reference_parity"

pytestmark = pytest.mark.skipif(not FIXTURE.exists(), reason=f"reference fixture not found at {FIXTURE}")


def test_reference_fixture_passes(capsys):
    assert check_fixture([str(FIXTURE)]) == 0
    assert "MISMATCH" not in capsys.readouterr().out


def test_tampered_weights_fail(tmp_path, capsys):
    fixture = tmp_path / "fixture"
    shutil.copytree(FIXTURE, fixture)
    weights = load_file(fixture / "weights.safetensors")
    weights["sensor_encoder.blocks.1.ffn_layer.up_proj.weight"][0, :4] += 0.05
    save_file(weights, fixture / "weights.safetensors")
    assert check_fixture([str(fixture)]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH  sensor_hidden" in out and "ok        sensor_patch_tokens" in out
