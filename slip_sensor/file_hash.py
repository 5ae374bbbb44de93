"""The sha256 of a file, read in 1 MiB chunks (`hashlib.file_digest` needs Python 3.11; the package supports 3.10)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

CHUNK_BYTES = 1 << 20


def file_sha256(path: str | os.PathLike) -> str:
    """The hex sha256 of the file at `path`, without holding it in memory."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as file:
        for chunk in iter(lambda: file.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


__all__ = ["file_sha256"]
