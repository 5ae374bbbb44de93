"""What `slip export --space` adds to a Hub folder to make it a Hugging Face Space that runs its model anywhere.

- the demo app (`app.py`), its `examples/` and the Space's `README.md` (its metadata), read with `importlib.resources`
  from `slip_sensor.space`: the repository's `space/` folder, installed as package data, so any installation of the
  package (a wheel or an editable checkout) can write a Space;
- the installed `slip_sensor` package itself, as source: the `.py` files of the namespace root and of its
  subpackages, laid out as in an installed package under `slip_sensor/`, without the shipped checkpoints (the Space
  carries its own model). The package is not on PyPI, so the Space's `app.py` imports it from the Space's folder;
- `requirements.txt`: the third-party requirements of the package and of its `space` and `search` extras, read from
  the installed distribution's metadata (setup.py is their one source), with gradio pinned to the installed version,
  which the Space's README also declares as its `sdk_version` (the Space runs the Gradio it was written with).

The model card moves to `MODEL_CARD.md`: a Space's `README.md` holds the Space's metadata.
"""

import importlib.util
import os
import re
import shutil
from importlib import metadata, resources
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

DISTRIBUTION = "slip-sensor"
NAMESPACE = "slip_sensor"
SPACE_PACKAGE = f"{NAMESPACE}.space"  # the repository's space/ folder, installed as package data
SPACE_APP = "app.py"
SPACE_EXAMPLES = "examples"
SPACE_MODEL_CARD = "MODEL_CARD.md"  # where a Space keeps the model card (its README.md holds the Space's metadata)
SPACE_EXTRAS = ("space", "search")  # what the app needs beyond the package's own requirements
SDK = "gradio"  # the Space's SDK: its README's `sdk_version` and requirements.txt name its installed version
# setup.py's MAPPED_FOLDERS that the app's code lives in: an editable install leaves them in top-level folders, not
# under the namespace root, so each is found on its own. (`space` is not vendored: the Space folder is its content.)
MAPPED_SUBPACKAGES = ("modeling_slip", "processors", "training", "hub_cards")
# Not vendored from the namespace root: the shipped checkpoints and the Space's own files.
SKIPPED_FOLDERS = ("models", "space")


def space_requirements() -> list[str]:
    """The Space's `requirements.txt` lines: the installed package's requirements and those of `SPACE_EXTRAS`, each
    once (by project name), without their markers; `SDK` pinned to its installed version."""
    requirements: dict[str, str] = {SDK: f"{SDK}=={metadata.version(SDK)}"}
    for line in metadata.requires(DISTRIBUTION) or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in SPACE_EXTRAS):
            requirement.marker = None
            requirements.setdefault(canonicalize_name(requirement.name), str(requirement))
    return sorted(requirements.values(), key=str.lower)


def package_folder(name: str) -> Path:
    """The folder that the installed package `name` is imported from."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{name} is not an installed package; reinstall {DISTRIBUTION}")
    return Path(next(iter(spec.submodule_search_locations)))


def package_sources() -> dict[Path, Path]:
    """Every `.py` file of the installed package: path in the Space (`slip_sensor/...`, an installed package's
    layout) → source file."""
    folders = {Path(NAMESPACE): package_folder(NAMESPACE)}
    folders.update({Path(NAMESPACE, name): package_folder(f"{NAMESPACE}.{name}") for name in MAPPED_SUBPACKAGES})
    skipped_in_root = {*SKIPPED_FOLDERS, *MAPPED_SUBPACKAGES}  # in a wheel install the mapped ones sit in the root
    sources = {}
    for target, folder in folders.items():
        for path in folder.rglob("*.py"):
            relative = path.relative_to(folder)
            if "__pycache__" in relative.parts or (target == Path(NAMESPACE) and relative.parts[0] in skipped_in_root):
                continue
            sources[target / relative] = path
    return sources


def write_space_files(folder: Path, license: str) -> None:
    """Makes the Hub folder `folder` a Space that runs its model: the demo app, its examples and the Space's
    README.md (its metadata, with the model's `license` and the installed `SDK` version) in place of the model card,
    which is kept as `SPACE_MODEL_CARD`; the package's source and the requirements of its dependencies."""
    os.replace(folder / "README.md", folder / SPACE_MODEL_CARD)
    space = resources.files(SPACE_PACKAGE)
    (folder / SPACE_APP).write_bytes((space / SPACE_APP).read_bytes())
    (folder / SPACE_EXAMPLES).mkdir()
    for example in (space / SPACE_EXAMPLES).iterdir():
        if example.is_file():
            (folder / SPACE_EXAMPLES / example.name).write_bytes(example.read_bytes())
    readme = (space / "README.md").read_text(encoding="utf-8")
    for key, value in (("license", license), ("sdk_version", metadata.version(SDK))):
        readme = re.sub(rf"^{key}: .*$", f"{key}: {value}", readme, count=1, flags=re.MULTILINE)
    (folder / "README.md").write_text(readme, encoding="utf-8")
    for target, source in package_sources().items():
        (folder / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / target)
    header = (f"# {DISTRIBUTION}'s requirements and those of its {' and '.join(SPACE_EXTRAS)} extras, {SDK} at "
              f"README.md's sdk_version; the package itself is in {NAMESPACE}/\n")
    (folder / "requirements.txt").write_text(header + "\n".join(space_requirements()) + "\n", encoding="utf-8")


__all__ = ["SPACE_MODEL_CARD", "package_sources", "space_requirements", "write_space_files"]
