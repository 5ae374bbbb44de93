"""`slip export` writes a complete Hub folder, `validate_hub_folder` finds what would break loading, and
`slip push --dry-run` checks and lists a folder without network access."""

import json
import shutil
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelCard
from transformers import AutoConfig, AutoFeatureExtractor, AutoModel, AutoModelForCausalLM, AutoProcessor, pipeline

from slip_sensor import (
    SensorCaptioningPipeline,
    SlipConfig,
    SlipFeatureExtractor,
    SlipForConditionalGeneration,
    SlipModel,
    SlipProcessor,
    cli,
)
from slip_sensor.auto_registration import auto_classes, config_auto_map, custom_pipelines
from slip_sensor.hub_export import default_base_model
from slip_sensor.hub_folder import DATA_FILES, code_files, validate_hub_folder
from slip_sensor.output_folders import MARKER


def copy_folder(folder: Path, tmp_path: Path) -> Path:
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    return copy


def test_export_writes_the_complete_flat_folder(exported_folder: Path):
    names = {path.name for path in exported_folder.iterdir()}
    assert names == {*DATA_FILES, *code_files(), "model.safetensors", MARKER}
    config = json.loads((exported_folder / "config.json").read_text())
    assert config["auto_map"] == config_auto_map() == {
        "AutoConfig": "configuration_slip.SlipConfig",
        "AutoModel": "modeling_slip.SlipModel",
        "AutoModelForCausalLM": "modeling_slip.SlipForConditionalGeneration",
        "AutoModelForSensorClassification": "classification_slip.SlipForSensorClassification",
    }
    assert config["custom_pipelines"] == custom_pipelines()
    assert config["custom_pipelines"]["sensor-captioning"] == {
        "impl": "pipeline_slip.SensorCaptioningPipeline",
        "pt": ["AutoModelForCausalLM"],
        "type": "multimodal",
    }
    preprocessor = json.loads((exported_folder / "preprocessor_config.json").read_text())
    processor = json.loads((exported_folder / "processor_config.json").read_text())
    assert preprocessor["auto_map"]["AutoFeatureExtractor"] == "feature_extraction_slip.SlipFeatureExtractor"
    assert processor["auto_map"]["AutoProcessor"] == "processing_slip.SlipProcessor"
    assert json.loads((exported_folder / "tokenizer_config.json").read_text())["tokenizer_class"] == (
        "PreTrainedTokenizerFast"
    )
    for name, source in code_files().items():
        assert (exported_folder / name).read_bytes() == source.read_bytes()
    assert validate_hub_folder(exported_folder) == []


def test_export_leaves_classes_unmarked(exported_folder: Path):
    # Ordinary save_pretrained calls must not start writing auto_map and code files after an export.
    assert all(cls._auto_class is None for cls in auto_classes().values())


def test_pip_users_load_the_folder_without_remote_code(exported_folder: Path):
    loaded = {
        "config": AutoConfig.from_pretrained(exported_folder),
        "model": AutoModel.from_pretrained(exported_folder),
        "causal": AutoModelForCausalLM.from_pretrained(exported_folder),
        "feature_extractor": AutoFeatureExtractor.from_pretrained(exported_folder),
        "processor": AutoProcessor.from_pretrained(exported_folder),
    }
    assert {name: type(obj) for name, obj in loaded.items()} == {
        "config": SlipConfig,
        "model": SlipModel,
        "causal": SlipForConditionalGeneration,
        "feature_extractor": SlipFeatureExtractor,
        "processor": SlipProcessor,
    }
    captioner = pipeline("sensor-captioning", model=loaded["causal"], processor=loaded["processor"])
    assert type(captioner) is SensorCaptioningPipeline


def test_preset_export_is_seeded_and_weights_round_trip(exported_folder: Path, tiny_model_and_processor):
    model, _ = tiny_model_and_processor
    loaded = SlipForConditionalGeneration.from_pretrained(exported_folder)
    expected = model.state_dict()
    assert loaded.state_dict().keys() == expected.keys()
    assert all(torch.equal(loaded.state_dict()[key], value) for key, value in expected.items())


def test_export_from_a_saved_model_folder(exported_folder: Path, tmp_path: Path):
    out = tmp_path / "from-dir"
    assert cli.main(["export", "--model", str(exported_folder), "--out", str(out), "--repo-id", "me/slip-tiny"]) == 0
    assert validate_hub_folder(out) == []
    assert (out / "model.safetensors").read_bytes() == (exported_folder / "model.safetensors").read_bytes()
    card = ModelCard.load(out / "README.md")
    # A trained checkpoint is described as such; its tiny text stack cannot come from Gemma-3-270M.
    assert card.data.base_model is None and card.data.datasets is None and card.data.license == "apache-2.0"
    assert "me/slip-tiny" in card.text and "Randomly initialised" not in card.text


def test_gemma_derived_export_carries_the_gemma_license(exported_folder: Path, tmp_path: Path):
    out = tmp_path / "gemma"
    args = ["export", "--model", str(exported_folder), "--out", str(out), "--base-model", "google/gemma-3-270m"]
    assert cli.main([*args, "--datasets", "LeoChen085/SlipDataset"]) == 0
    card = ModelCard.load(out / "README.md")
    assert card.data.base_model == "google/gemma-3-270m" and card.data.license == "gemma"
    assert card.data.datasets == ["LeoChen085/SlipDataset"]
    assert "Gemma Terms of Use" in card.text
    assert default_base_model(SlipConfig.from_preset("slip-base")) == "google/gemma-3-270m"
    assert default_base_model(SlipConfig.from_preset("slip-tiny")) is None


def test_overwrite_replaces_an_earlier_export_as_a_whole(exported_folder: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    args = ["export", "--model", str(exported_folder), "--out", str(out)]
    assert cli.main(args) == 0
    (out / "model-00001-of-00002.safetensors").write_bytes(b"stale")
    assert cli.main(args) == 2
    assert f"{out} holds an earlier export; pass --overwrite" in capsys.readouterr().err
    assert cli.main([*args, "--overwrite"]) == 0
    assert not (out / "model-00001-of-00002.safetensors").exists() and validate_hub_folder(out) == []


def test_export_refuses_a_checkpoint_without_the_decoder(exported_folder: Path, tmp_path: Path, capsys):
    two_tower = tmp_path / "two-tower"
    SlipModel.from_pretrained(exported_folder).save_pretrained(two_tower)
    assert cli.main(["export", "--model", str(two_tower), "--out", str(tmp_path / "out")]) == 2
    assert "not a full SLIP captioning checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def replace_in(name: str, old: str, new: str):
    def edit(folder: Path) -> None:
        text = (folder / name).read_text()
        assert old in text
        (folder / name).write_text(text.replace(old, new))

    return edit


def delete(name: str):
    return lambda folder: (folder / name).unlink()


@pytest.mark.parametrize(
    "break_folder, problem",
    [
        (delete("text_slip.py"), "missing text_slip.py"),
        (delete("preprocessor_config.json"), "missing preprocessor_config.json"),
        (delete("model.safetensors"), "missing weights"),
        (replace_in("loss_slip.py", "import torch\n", "import scipy\nimport torch\n"), "imports ['scipy']"),
        # transformers 4.57 would not copy attention_slip.py, imported only by other siblings, from a local folder
        (
            replace_in("modeling_slip.py", "from .attention_slip import", "from .configuration_slip import"),
            "modeling_slip.py must import ['attention_slip'] directly",
        ),
        (
            replace_in("tokenizer_config.json", "PreTrainedTokenizerFast", "TokenizersBackend"),
            "transformers 4.57 cannot load",
        ),
        (replace_in("config.json", "SensorCaptioningPipeline", "MissingPipeline"), "custom_pipelines"),
        (replace_in("README.md", "- custom_code\n", ""), "README.md: tags lack `custom_code`"),
    ],
)
def test_validation_finds_broken_folders(exported_folder: Path, tmp_path: Path, break_folder, problem: str):
    folder = copy_folder(exported_folder, tmp_path)
    break_folder(folder)
    problems = validate_hub_folder(folder)
    assert any(problem in found for found in problems), problems


def test_push_dry_run_lists_the_files_offline(exported_folder: Path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    args = ["push", str(exported_folder), "--repo-id", "me/slip-tiny", "--revision", "v1", "--private", "--dry-run"]
    assert cli.main(args) == 0
    output = capsys.readouterr().out
    expected = {*DATA_FILES, *code_files(), "model.safetensors"}
    assert {path.name for path in exported_folder.iterdir()} == {*expected, MARKER}  # the marker stays local
    assert f"Would upload {len(expected)} files to me/slip-tiny@v1 (private)" in output
    assert all(name in output for name in expected) and MARKER not in output


def test_push_refuses_an_incomplete_folder(exported_folder: Path, tmp_path: Path, capsys):
    folder = copy_folder(exported_folder, tmp_path)
    (folder / "pipeline_slip.py").unlink()
    assert cli.main(["push", str(folder), "--repo-id", "me/slip-tiny", "--dry-run"]) == 2
    assert "missing pipeline_slip.py" in capsys.readouterr().err
