"""`slip export --space` writes a Hugging Face Space that runs the exported model anywhere: the demo app, its examples
and the Space's README metadata (package data of `slip_sensor.space`), the model's files, the package's own source
and the requirements of its dependencies; its `app.py` builds the app in an interpreter that sees neither the
repository nor the installed package."""

import ast
import json
import os
import site
import subprocess
import sys
from importlib import resources
from importlib.metadata import requires
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

gradio = pytest.importorskip("gradio", reason="the Space needs gradio (pip install -e '.[space]')")

from slip_sensor.cli import main  # noqa: E402
from slip_sensor.hub_folder import DATA_FILES  # noqa: E402
from slip_sensor.shipped_models import pretrained  # noqa: E402
from slip_sensor.space_app import MODEL_ENV, default_model, index_folder  # noqa: E402
from slip_sensor.space_export import (  # noqa: E402
    MAPPED_SUBPACKAGES,
    SPACE_MODEL_CARD,
    SPACE_PACKAGE,
    package_sources,
    space_requirements,
)

REPO = Path(__file__).resolve().parents[2]

# Run in the Space's folder: builds the app (app.py's `demo`, not launched) and reports where `slip_sensor` came from.
BUILD_APP = """
import json, runpy, sys
import gradio
demo = runpy.run_path("app.py")["demo"]
print(json.dumps({
    "blocks": isinstance(demo, gradio.Blocks),
    "title": demo.config["components"][0]["props"]["value"],
    "package_files": [getattr(module, "__file__", None) or "" for name, module in sys.modules.items()
                      if name.split(".")[0] == "slip_sensor"],
    "editable_finder": [name for name in sys.modules if name.startswith("__editable__")],
}))
"""


def space_extra_allows_gradio(version: str) -> bool:
    """Whether setup.py's `space` extra (read from the installed distribution) allows gradio `version`."""
    lines = [Requirement(line) for line in requires("slip-sensor")]
    gradio_requirement = next(requirement for requirement in lines if requirement.name == "gradio")
    assert gradio_requirement.marker.evaluate({"extra": "space"})
    return gradio_requirement.specifier.contains(version)


def front_matter(readme: Path) -> dict:
    _, metadata, _ = readme.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(metadata)


@pytest.fixture(scope="module")
def space_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "space"
    assert main(["export", "--model", str(pretrained()), "--out", str(out), "--space"]) == 0
    return out


def test_export_space_writes_the_app_its_metadata_examples_and_the_model(space_folder):
    space = resources.files(SPACE_PACKAGE)  # what any installation of the package holds
    assert (space_folder / "app.py").read_bytes() == (space / "app.py").read_bytes()
    examples = sorted(example.name for example in (space / "examples").iterdir())
    assert examples and sorted(path.name for path in (space_folder / "examples").iterdir()) == examples
    metadata = front_matter(space_folder / "README.md")
    assert metadata["sdk"] == "gradio" and metadata["app_file"] == "app.py"
    assert metadata["sdk_version"] == gradio.__version__  # the version the app was written (and tested) with
    assert metadata["license"] == "apache-2.0" and len(metadata["short_description"]) <= 60
    assert "pipeline_tag" in front_matter(space_folder / SPACE_MODEL_CARD)  # the model card, kept beside it
    model_files = {"model.safetensors", *DATA_FILES} - {"README.md"}  # weights, configs, processor, tokenizer
    assert not {name for name in model_files if not (space_folder / name).is_file()}


def test_the_space_requires_the_package_dependencies_not_the_unpublished_package(space_folder):
    lines = (space_folder / "requirements.txt").read_text(encoding="utf-8").splitlines()
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert requirements == space_requirements()
    names = {canonicalize_name(Requirement(line).name) for line in requirements}
    assert {"torch", "transformers", "safetensors", "gradio", "faiss-cpu", "pandas"} <= names
    assert not names & {"slip-sensor", "playwright", "pytest"}  # the package travels as source; no test tools
    # the Space runs the gradio its README declares, one that the space extra allows
    assert f"gradio=={gradio.__version__}" in requirements
    assert space_extra_allows_gradio(front_matter(space_folder / "README.md")["sdk_version"])


def test_the_space_template_declares_a_gradio_that_the_space_extra_allows():
    """The repository's space/README.md is a Space too (`space/app.py` runs the shipped slip-tiny); an export
    replaces its `sdk_version` with the installed gradio's."""
    assert space_extra_allows_gradio(front_matter(REPO / "space" / "README.md")["sdk_version"])


def test_the_space_carries_the_package_source_without_the_shipped_checkpoints(space_folder):
    vendored = {path.relative_to(space_folder) for path in (space_folder / "slip_sensor").rglob("*") if path.is_file()}
    assert vendored == set(package_sources())
    assert all(path.suffix == ".py" and "__pycache__" not in path.parts for path in vendored)
    for module in ("__init__.py", "space_app.py", "modeling_slip/modeling_slip.py", "processors/__init__.py",
                   "search/__init__.py", "hub_cards/__init__.py"):
        assert Path("slip_sensor", module) in vendored
    assert not {path for path in vendored if path.parts[1] in ("models", "space")}


def test_the_mapped_subpackages_are_setup_pys():
    setup = ast.parse((REPO / "setup.py").read_text(encoding="utf-8"))
    mapped = next(node.value for node in setup.body
                  if isinstance(node, ast.Assign) and node.targets[0].id == "MAPPED_FOLDERS")
    assert set(ast.literal_eval(mapped)) == {*MAPPED_SUBPACKAGES, "space"}  # space/ is the Space itself


def test_the_exported_app_builds_from_its_own_folder_alone(space_folder, monkeypatch):
    """`python -S` skips site-packages' .pth files, so the editable install's import hook never runs; the third-party
    libraries come from the site-packages folders on PYTHONPATH, after the Space's folder."""
    env = {key: value for key, value in os.environ.items() if key not in (MODEL_ENV, "PYTHONPATH", "PYTHONHOME")}
    env.update(PYTHONPATH=os.pathsep.join([str(space_folder), *site.getsitepackages()]), PYTHONNOUSERSITE="1",
               GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    result = subprocess.run([sys.executable, "-S", "-c", BUILD_APP], cwd=space_folder, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    built = json.loads(result.stdout.splitlines()[-1])
    assert built["blocks"] and str(space_folder) in built["title"]  # "Model: <folder>": the Space's own model
    assert built["package_files"] and not built["editable_finder"]
    assert all(Path(file).is_relative_to(space_folder / "slip_sensor") for file in built["package_files"])
    assert (space_folder / "cache" / index_folder("cache", space_folder).name).is_dir()
    monkeypatch.delenv(MODEL_ENV, raising=False)
    assert default_model(space_folder) == str(space_folder)


def test_the_app_model_is_slip_model_when_set(tmp_path, monkeypatch):
    monkeypatch.setenv(MODEL_ENV, "someone/slip-small")
    assert default_model(tmp_path) == "someone/slip-small"
    monkeypatch.delenv(MODEL_ENV)
    assert default_model(tmp_path) is None  # no model in the folder: the shipped slip-tiny
