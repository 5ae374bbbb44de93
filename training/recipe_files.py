"""Training recipes: YAML (or JSON) files of argument values, shipped in `training/recipes/` and named by their stem.

Light on purpose (no torch, no transformers), so that command-line help can show a recipe's values.
"""

import json
from pathlib import Path

RECIPES_DIR = Path(__file__).parent / "recipes"


def recipe_path(recipe: str | Path) -> Path:
    """A recipe's file: a YAML/JSON path, or the name of a recipe in `training/recipes/` (`"slip-tiny-cpu"`)."""
    path = Path(recipe)
    if path.is_file():
        return path
    named = RECIPES_DIR / f"{recipe}.yaml"
    if named.is_file():
        return named
    available = ", ".join(sorted(p.stem for p in RECIPES_DIR.glob("*.yaml")))
    raise FileNotFoundError(f"No recipe file {recipe!r} and no recipe of that name (available: {available})")


def read_recipe(recipe: str | Path) -> dict:
    """The argument values of a recipe (see `recipe_path`)."""
    path = recipe_path(recipe)
    if path.suffix in (".yaml", ".yml"):
        import yaml

        return yaml.safe_load(path.read_text()) or {}
    return json.loads(path.read_text())


__all__ = ["RECIPES_DIR", "read_recipe", "recipe_path"]
