"""Loading a model, processor or corpus named by the user, with the problems a user can fix reported as such.

transformers raises the same `OSError` for a mistyped local folder, a folder without a model and an unreachable
Hub repo; these helpers tell them apart and raise a `UserError` that names the case.
"""

import os
import re
from pathlib import Path
from typing import Any

from slip_sensor.errors import UserError

HUB_ID = re.compile(r"\w[\w.-]*/\w[\w.-]*")  # owner/name; anything else can only be a local path


def check_local_or_hub_id(name_or_path: str | os.PathLike, what: str) -> None:
    """Raises a `UserError` when `name_or_path` is not a Hub id (owner/name) and nothing is at that local path, so
    that a mistyped folder is reported as missing rather than as a failed Hub download."""
    if not Path(name_or_path).exists() and not HUB_ID.fullmatch(str(name_or_path)):
        raise UserError(f"{what} {str(name_or_path)!r} does not exist locally (a Hub id has the form owner/name)")


def load_pretrained(cls: type, name_or_path: str | os.PathLike, what: str = "model", **kwargs: Any) -> Any:
    """`cls.from_pretrained(name_or_path, **kwargs)`, with a missing local folder, a folder that `cls` cannot load
    and a Hub id that cannot be fetched each reported as a `UserError`."""
    check_local_or_hub_id(name_or_path, what)
    try:
        return cls.from_pretrained(name_or_path, **kwargs)
    except OSError as error:
        if Path(name_or_path).is_dir():
            problem = "is not a folder written by save_pretrained"
        else:
            problem = "is no local folder and could not be loaded from the Hugging Face Hub"
        raise UserError(f"{what} {str(name_or_path)!r} {problem}: {error}") from error


__all__ = ["HUB_ID", "check_local_or_hub_id", "load_pretrained"]
