"""Folders the package writes (a corpus, `slip export --out`, `slip demo --out`): never over files it did not write.

An output is written into a hidden sibling `.NAME.tmp-PID` and renamed into place when complete (`staged_folder`), so
the target holds either the whole old output or the whole new one, and a failure leaves it untouched. Replacing a
non-empty folder needs `--overwrite` and proof that the folder is an earlier output of the same kind: a corpus has
its `corpus_info.json`, an export or a demo run carries `MARKER` naming the command (`mark_folder`, `written_by`).
Anything else is refused with an `OutputFolderError` before a file is touched. A single file is replaced the same
way (`write_atomically`).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import UserError

MARKER = ".slip-output.json"


class OutputFolderError(UserError):
    """An output folder that must not be written or replaced (it exists, or holds files the package did not write)."""


def write_atomically(path: Path, write: Callable[[Path], Any]) -> Path:
    """Call `write(staged)` to write the file `path` under a hidden sibling name `.NAME.tmp-PID`, then rename it into
    place: a reader (another process, a later run after a kill) sees the whole old file or the whole new one, never
    a part. Returns `path`."""
    staged = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        write(staged)
        os.replace(staged, path)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return path


def mark_folder(folder: Path, command: str) -> None:
    """Record in `folder` that `command` wrote it, so that a later `--overwrite` may replace it. The marker is
    replaced atomically, and left as it is when it already names `command` (other processes may be reading it)."""
    if written_by(folder) != command:
        write_atomically(folder / MARKER,
                         lambda staged: staged.write_text(json.dumps({"written_by": command}) + "\n", encoding="utf-8"))


def written_by(folder: Path) -> str | None:
    """The command whose output `folder` holds, or None when it carries no (readable) marker."""
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8")).get("written_by")
    except (OSError, ValueError, AttributeError):  # no marker, not JSON, not an object
        return None


def is_empty(folder: Path) -> bool:
    """Whether `folder` does not exist or is an empty directory."""
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


def refuse_foreign(folder: Path, ours: bool, command: str) -> None:
    """Raise `OutputFolderError` unless `folder` is missing, empty, or `ours` (an earlier output of `command`)."""
    if not ours and not is_empty(folder):
        raise OutputFolderError(
            f"{folder} holds files that `{command}` did not write, so it will neither write into nor replace it "
            f"(nothing was changed); choose a new or empty folder, or delete {folder} yourself"
        )


def check_replaceable(folder: Path, command: str, overwrite: bool, what: str) -> None:
    """Raise `OutputFolderError` unless `folder` is missing, empty, or an earlier output of `command` (named `what`
    in the message) that `overwrite` allows to replace."""
    refuse_foreign(folder, written_by(folder) == command, command)
    if not (overwrite or is_empty(folder)):
        raise OutputFolderError(f"{folder} holds an earlier {what}; pass --overwrite (overwrite=True) to replace it")


def remove_stale_temporaries(folder: Path, *patterns: str) -> None:
    """Delete the files and folders of `folder` matching `patterns` (temporaries named `...-PID`, as
    `write_atomically` and `staged_folder` name them) whose process is gone (killed mid-write or mid-swap)."""
    for stale in [path for pattern in patterns for path in folder.glob(pattern)]:
        try:
            os.kill(int(stale.name.rsplit("-", 1)[1]), 0)
        except (ValueError, ProcessLookupError):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
        except PermissionError:  # alive, owned by someone else
            pass


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """Yield an empty temporary sibling of `out` to write into; when the block succeeds it replaces `out` (two
    renames), when it fails it is deleted and `out` is as it was. Callers check first that `out` may be replaced."""
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out.parent, f".{out.name}.tmp-*", f".{out.name}.old-*")
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    tmp.mkdir()
    try:
        yield tmp
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


__all__ = ["MARKER", "OutputFolderError", "check_replaceable", "mark_folder", "refuse_foreign", "remove_stale_temporaries", "staged_folder",
           "write_atomically", "written_by"]
