"""`slip export --space` writes a Hugging Face Space that runs the exported model: the demo app, its requirements
and examples, the Space's README metadata and the model's files; its `app.py` builds the app from that folder."""

import runpy
from pathlib import Path

import pytest
import yaml

gradio = pytest.importorskip("gradio", reason="the Space needs gradio (pip install -e '.[space]')")

from slip_sensor.cli import main  # noqa: E402
from slip_sensor.hub_export import SPACE_MODEL_CARD, SPACE_SOURCE  # noqa: E402
from slip_sensor.hub_folder import DATA_FILES  # noqa: E402
from slip_sensor.shipped_models import pretrained  # noqa: E402
from slip_sensor.space_app import MODEL_ENV, default_model  # noqa: E402


def front_matter(readme: Path) -> dict:
    _, metadata, _ = readme.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(metadata)


@pytest.fixture(scope="module")
def space_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "space"
    assert main(["export", "--model", str(pretrained()), "--out", str(out), "--space"]) == 0
    return out


def test_export_space_writes_the_app_its_metadata_examples_and_the_model(space_folder):
    for name in ("app.py", "requirements.txt"):
        assert (space_folder / name).read_text() == (SPACE_SOURCE / name).read_text()
    examples = sorted(path.name for path in (SPACE_SOURCE / "examples").iterdir())
    assert sorted(path.name for path in (space_folder / "examples").iterdir()) == examples
    metadata = front_matter(space_folder / "README.md")
    assert metadata["sdk"] == "gradio" and metadata["app_file"] == "app.py"
    assert metadata["sdk_version"] == gradio.__version__  # the version the app is tested with
    assert metadata["license"] == "apache-2.0" and len(metadata["short_description"]) <= 60
    assert "pipeline_tag" in front_matter(space_folder / SPACE_MODEL_CARD)  # the model card, kept beside it
    model_files = {"model.safetensors", *DATA_FILES} - {"README.md"}  # weights, configs, processor, tokenizer
    assert not {name for name in model_files if not (space_folder / name).is_file()}


def test_the_exported_app_builds_on_the_model_in_its_folder(space_folder, monkeypatch):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    assert default_model(space_folder) == str(space_folder)
    app = runpy.run_path(str(space_folder / "app.py"))  # builds, does not launch (that is under __main__)
    assert isinstance(app["demo"], gradio.Blocks)
    assert str(space_folder) in app["demo"].config["components"][0]["props"]["value"]  # "Model: <folder>"
    assert (space_folder / "cache" / "archive-index").is_dir()


def test_the_app_model_is_slip_model_when_set(tmp_path, monkeypatch):
    monkeypatch.setenv(MODEL_ENV, "someone/slip-small")
    assert default_model(tmp_path) == "someone/slip-small"
    monkeypatch.delenv(MODEL_ENV)
    assert default_model(tmp_path) is None  # no model in the folder: the shipped slip-tiny
