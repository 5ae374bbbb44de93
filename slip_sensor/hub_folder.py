"""What a SLIP Hub folder holds, and an offline check of one (run by `slip export` and `slip push --dry-run`).

A Hub folder is flat: weights, JSON configs, tokenizer files, the model card, and the `trust_remote_code` modules with
relative imports only. The check reads the code the way transformers' loader does (`dynamic_module_utils`), so a
folder that passes loads with `trust_remote_code=True` in transformers 4.57 and 5.x.
"""

import importlib
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import torch
from safetensors import safe_open
from transformers.dynamic_module_utils import get_imports, get_relative_import_files, get_relative_imports

from .auto_registration import config_auto_map, custom_pipelines
from .hub_cards.model_card import validate_model_card
from .modeling_slip.configuration_slip import SlipConfig
from .output_folders import MARKER

# Every module the Hub folder ships, copied flat under its file name.
CODE_MODULES = (
    "slip_sensor.modeling_slip.configuration_slip",
    "slip_sensor.modeling_slip.modeling_slip",
    "slip_sensor.modeling_slip.classification_slip",
    "slip_sensor.modeling_slip.attention_slip",
    "slip_sensor.modeling_slip.sensor_encoder_slip",
    "slip_sensor.modeling_slip.cache_slip",
    "slip_sensor.modeling_slip.compat_slip",
    "slip_sensor.modeling_slip.generation_slip",
    "slip_sensor.modeling_slip.text_slip",
    "slip_sensor.modeling_slip.loss_slip",
    "slip_sensor.modeling_slip.pipeline_slip",
    "slip_sensor.modeling_slip.windowing_slip",
    "slip_sensor.processors.feature_extraction_slip",
    "slip_sensor.processors.processing_slip",
)
DATA_FILES = (
    "config.json",
    "generation_config.json",
    "preprocessor_config.json",
    "processor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "README.md",
)
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")  # single file or sharded
# What remote code may import besides the standard library (anything else must sit in a try/except block).
ALLOWED_PACKAGES = frozenset({"torch", "transformers", "numpy", "huggingface_hub"})
# transformers 5 saves fast tokenizers under this name, which transformers 4.57 does not know.
V5_ONLY_TOKENIZER_CLASS = "TokenizersBackend"


def non_finite_weights(tensors: Iterable[tuple[str, torch.Tensor]]) -> str | None:
    """A sentence naming the tensors that hold NaN or infinite values (the first in full), or None when all are
    finite: such weights come from a diverged run, and every output of the model would be NaN."""
    counts = [(name, int((~t.isfinite()).sum()), t.numel()) for name, t in tensors if t.is_floating_point()]
    bad = [(name, count, size) for name, count, size in counts if count]
    if not bad:
        return None
    name, count, size = bad[0]
    more = f" and {len(bad) - 1} more tensors" if len(bad) > 1 else ""
    return (
        f"weights are not finite: tensor {name} has {count} NaN or infinite values of {size}{more}; export a "
        "checkpoint saved before training diverged"
    )


def upload_files(folder: Path) -> list[Path]:
    """The files of a Hub folder that belong in the repository: all but `slip export`'s marker."""
    return sorted(path for path in folder.rglob("*") if path.is_file() and path.name != MARKER)


def code_files() -> dict[str, Path]:
    """File name in the Hub folder → source file in the package."""
    paths = [Path(importlib.import_module(module).__file__) for module in CODE_MODULES]
    return {path.name: path for path in paths}


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _class_references(folder: Path) -> set[str]:
    """Every `module.Class` named by the folder's `auto_map` entries and `custom_pipelines`."""
    references = set()
    for name in ("config.json", "preprocessor_config.json", "processor_config.json", "tokenizer_config.json"):
        if (folder / name).is_file():
            data = _read_json(folder / name)
            for value in data.get("auto_map", {}).values():
                references.update(value if isinstance(value, list) else [value])
            references.update(task["impl"] for task in data.get("custom_pipelines", {}).values())
    return {reference for reference in references if reference}


def _code_problems(folder: Path) -> list[str]:
    problems, unresolved = [], []
    for path in sorted(folder.glob("*.py")):
        foreign = {name for name in get_imports(str(path)) if name not in ALLOWED_PACKAGES}
        foreign -= set(sys.stdlib_module_names)
        if foreign:
            problems.append(f"{path.name} imports {sorted(foreign)} outside a try/except block")
        missing = [module for module in get_relative_imports(str(path)) if not (folder / f"{module}.py").is_file()]
        unresolved += [f"{path.name} imports .{module}, which is not a file of the folder" for module in missing]
    problems += unresolved
    for reference in sorted(_class_references(folder)):
        module, class_name = reference.rsplit(".", 1)
        path = folder / f"{module}.py"
        if not path.is_file() or not re.search(rf"^class {class_name}\b", path.read_text(encoding="utf-8"), re.M):
            problems.append(f"{reference} is referenced but {path.name} does not define {class_name}")
        elif not unresolved:
            # transformers 4.57 copies only the direct relative imports of a module loaded from a local folder.
            direct = set(get_relative_imports(str(path)))
            indirect = {Path(file).stem for file in get_relative_import_files(str(path))} - direct
            if indirect:
                problems.append(f"{path.name} must import {sorted(indirect)} directly (transformers 4.57 loader)")
    return problems


def _weight_problems(folder: Path) -> list[str]:
    """Weight files listed by the shard index but missing, unreadable, or holding non-finite values."""
    single, index_name = WEIGHT_FILES
    index = folder / index_name
    names = sorted(set(_read_json(index)["weight_map"].values())) if index.is_file() else [single]
    problems = []
    for name in names:
        if not (folder / name).is_file():
            problems.append(f"missing {name} (listed in {index.name})")
            continue
        try:
            with safe_open(folder / name, framework="pt") as weights:
                problem = non_finite_weights((key, weights.get_tensor(key)) for key in weights.keys())
        except Exception as error:  # a truncated or foreign file is a finding, not a crash
            problem = f"does not load: {error}"
        if problem:
            problems.append(f"{name}: {problem}")
    return problems


def validate_hub_folder(folder: str | Path) -> list[str]:
    """Checks an exported SLIP Hub folder offline; returns the problems found (empty when it is complete).

    Checked: required files, weights (readable and finite), `auto_map` and `custom_pipelines` in `config.json` and
    that every class they name exists, the imports of every code file, that the config loads, that the tokenizer
    config loads in transformers 4.57, and the model card's metadata.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return [f"{folder} is not a directory"]
    expected = [*DATA_FILES, *code_files()]
    problems = [f"missing {name}" for name in expected if not (folder / name).is_file()]
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        problems.append(f"missing weights ({' or '.join(WEIGHT_FILES)})")
    else:
        problems += _weight_problems(folder)
    if (folder / "config.json").is_file():
        config = _read_json(folder / "config.json")
        if config.get("auto_map") != config_auto_map():
            problems.append(f"config.json auto_map is {config.get('auto_map')}, expected {config_auto_map()}")
        if config.get("custom_pipelines") != custom_pipelines():
            problems.append(f"config.json custom_pipelines is {config.get('custom_pipelines')}")
        try:
            SlipConfig.from_pretrained(folder)
        except Exception as error:  # any failure to load is a finding, not a crash
            problems.append(f"config.json does not load: {error}")
    if (folder / "tokenizer_config.json").is_file():
        tokenizer_class = _read_json(folder / "tokenizer_config.json").get("tokenizer_class")
        if tokenizer_class == V5_ONLY_TOKENIZER_CLASS:
            problems.append(f"tokenizer_config.json names {tokenizer_class}, which transformers 4.57 cannot load")
    problems += _code_problems(folder)
    if (folder / "README.md").is_file():
        problems += [f"README.md: {problem}" for problem in validate_model_card(folder / "README.md")]
    return problems


__all__ = ["CODE_MODULES", "code_files", "non_finite_weights", "upload_files", "validate_hub_folder"]
