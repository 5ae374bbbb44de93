"""Checkpoints that ship inside the package, so that the pipelines and the CLI work offline with no download.

`pretrained("slip-tiny")` returns the folder of the shipped slip-tiny: a complete Hub folder (weights, config with
`auto_map`, processor, tokenizer, flat code files, model card with its measured results), pretrained with the main job's
recipe (`training/recipes/slip-tiny-cpu.yaml`) and exported with `slip_sensor.hub_export`. Load it like any Hub folder:

    from transformers import AutoModel, pipeline
    model = AutoModel.from_pretrained(slip_sensor.pretrained("slip-tiny"), trust_remote_code=True)
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
