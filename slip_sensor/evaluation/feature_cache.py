"""On-disk cache of computed features: one `.npz` per (encoder, dataset, feature kind) key.

Encoders are slow and probes are cheap, so features are computed once and every probe seed and re-run reuses them.
The key is a dict of strings (e.g. encoder fingerprint, dataset fingerprint, feature kind); its SHA-256 names the
file, so any change to the weights, the preprocessing or the data gives a new entry instead of a stale one.
"""

import hashlib
import json
import os
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from slip_sensor.output_folders import write_atomically


def fingerprint(parts: Iterable[bytes | str]) -> str:
    """Hex SHA-256 of a sequence of byte strings / strings (each length-prefixed so boundaries count)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def arrays_fingerprint(arrays: Iterable[np.ndarray]) -> str:
    """Fingerprint of arrays' dtypes, shapes and contents."""
    return fingerprint(
        part
        for array in arrays
        for part in (str(np.asarray(array).dtype), str(np.shape(array)), np.ascontiguousarray(array).tobytes())
    )


class FeatureCache:
    """`get(key, compute)` returns cached arrays for `key`, computing and storing them on a miss.

    With `directory=None` nothing is stored (every `get` computes).
    """

    def __init__(self, directory: str | os.PathLike | None):
        self.directory = Path(directory) if directory is not None else None

    def path(self, key: dict[str, str]) -> Path | None:
        if self.directory is None:
            return None
        digest = fingerprint([json.dumps(key, sort_keys=True)])[:16]
        readable = "-".join(str(key[k]) for k in ("dataset", "kind") if k in key)
        return self.directory / f"{readable}-{digest}.npz".lstrip("-")

    def get(self, key: dict[str, str], compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        path = self.path(key)
        if path is not None and path.exists():
            with np.load(path) as stored:
                return {name: stored[name] for name in stored.files}
        arrays = compute()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # an interrupted run never leaves a truncated cache entry
            write_atomically(path, lambda staged: _save_npz(staged, arrays))
        return arrays


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as file:  # a file object: np.savez adds no ".npz" to the staged name
        np.savez(file, **arrays)
