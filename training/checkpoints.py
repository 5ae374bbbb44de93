"""Checkpoints that are complete or absent, and the one `--resume-from-checkpoint last` resumes from.

The Trainer (transformers 4.57 and 5.x alike) writes a checkpoint's files straight into `checkpoint-N`, so a run killed
while saving leaves a folder that looks like a checkpoint but lacks files. `SlipTrainer` writes each checkpoint into
`.partial-checkpoint-N/checkpoint-N` and renames it to `checkpoint-N` once every process has written its part; a kill leaves only
the `.partial-` folder, which nothing resumes from. The Trainer writes `trainer_state.json` last, so a `checkpoint-N`
without a readable one (from an interrupted copy, or an older writer) is incomplete.
"""

import json
import logging
import os
import re
import shutil
from pathlib import Path

from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

logger = logging.getLogger(__name__)

STAGING_PREFIX = ".partial-"
TRAINER_STATE_NAME = "trainer_state.json"
WEIGHTS_NAMES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "adapter_model.safetensors",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
_CHECKPOINT = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")


def staging_dir(checkpoint: str | Path) -> Path:
    """The folder standing in for the run folder while `checkpoint` is written (the Trainer names the checkpoint
    folder inside it)."""
    checkpoint = Path(checkpoint)
    return checkpoint.parent / f"{STAGING_PREFIX}{checkpoint.name}"


def publish(checkpoint: Path) -> None:
    """Renames the fully written staged `checkpoint` into place, replacing an older one of the same step."""
    staging = staging_dir(checkpoint)
    if checkpoint.exists():
        shutil.rmtree(checkpoint)
    os.replace(staging / checkpoint.name, checkpoint)
    shutil.rmtree(staging)


def incompleteness(checkpoint: Path) -> str | None:
    """Why `checkpoint` cannot be resumed from, or None when it is complete."""
    if not any((checkpoint / name).exists() for name in WEIGHTS_NAMES):
        return "no model weights"
    try:
        json.loads((checkpoint / TRAINER_STATE_NAME).read_text())
    except (OSError, ValueError):
        return f"no readable {TRAINER_STATE_NAME}"
    return None


def last_complete_checkpoint(output_dir: str | Path) -> Path | None:
    """The newest complete `checkpoint-N` in `output_dir`, warning about the incomplete ones and interrupted saves
    passed over."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return None
    for interrupted in sorted(folder.glob(f"{STAGING_PREFIX}{PREFIX_CHECKPOINT_DIR}-*")):
        logger.warning("Ignoring %s: the save of this checkpoint was interrupted", interrupted)
    steps = {int(match[1]): path for path in folder.iterdir() if path.is_dir() and (match := _CHECKPOINT.match(path.name))}
    for step in sorted(steps, reverse=True):
        problem = incompleteness(steps[step])
        if problem is None:
            return steps[step]
        logger.warning("Skipping the incomplete checkpoint %s (%s)", steps[step], problem)
    return None


__all__ = ["incompleteness", "last_complete_checkpoint", "publish", "staging_dir"]
