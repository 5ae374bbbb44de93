"""Checkpoints that ship inside the package, so that the pipelines and the CLI work offline with no download.

`pretrained("slip-tiny")` returns the folder of the shipped slip-tiny, pretrained with the main job's recipe
(`training/recipes/slip-tiny-cpu.yaml`): weights, config, processor, tokenizer, and a model card and
`eval_results.json` with its measured results. The flat code files of a Hub folder are left out, so that no copy of
the model code can go stale: the installed package's classes load it (`slip export --model FOLDER` writes the
complete Hub folder for an upload).

    from transformers import AutoModel, pipeline
    model = AutoModel.from_pretrained(slip_sensor.pretrained("slip-tiny"))
    captioner = pipeline("sensor-captioning")          # the shipped slip-tiny is the default model
"""

from pathlib import Path

SHIPPED_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL = "slip-tiny"


def available() -> list[str]:
    """Names of the shipped checkpoints."""
    return sorted(p.name for p in SHIPPED_DIR.iterdir() if (p / "config.json").is_file()) if SHIPPED_DIR.is_dir() else []


def pretrained(name: str = DEFAULT_MODEL) -> Path:
    """The folder of the shipped checkpoint `name`."""
    folder = SHIPPED_DIR / name
    if not (folder / "config.json").is_file():
        raise ValueError(f"No shipped checkpoint {name!r}; shipped: {', '.join(available()) or 'none'}")
    return folder


__all__ = ["DEFAULT_MODEL", "available", "pretrained"]
