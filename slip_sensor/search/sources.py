"""The recordings of an archive to index: a folder of recording files, a `datasets` dataset, or a SLIP corpus.

A source lists its recordings in a fixed order (`Source.recordings`, run by the main process only: a dataset hashes
every row), each with a stable id, a locator
that reads it again later (for captions and pictures of search hits) and a fingerprint that changes when the
recording does, so that an index embeds only what is new or changed:

- a folder (searched recursively, hidden files and folders skipped) or a single file of the formats
  `slip_sensor.recordings` reads: id = the path relative to the folder, fingerprint = size and modification time;
- a `datasets` dataset (a `save_to_disk` folder, parquet/CSV file(s) or a Hub id, through
  `slip_sensor.data.user_dataset`) whose sensor column holds `[channels][time]` lists: one recording per row,
  id = the id column's value (default: `split/row`), fingerprint = a hash of the row's values and rate;
- a SLIP corpus (`slip build-corpus`, or the authors' layout): a dataset whose columns are known (`sensor`, `id`,
  `sampling_rate`, `channel_names`).

`Source.describe()` is what an index records, and `open_source(**description)` opens the same source again.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from slip_sensor.errors import UserError
from slip_sensor.loading import HUB_ID

DEFAULT_SENSOR_COLUMN = "sensor"  # the corpus schema's name, also the default for other datasets
ROW_LOCATOR = re.compile(r"(?P<split>.*)\[(?P<row>\d+)\]")


@dataclass(frozen=True)
class Recording:
    """One recording of a source: `id` (unique in the source), `locator` (where `Source.read` finds it: a file path,
    or `split[row]` of a dataset) and `fingerprint` (changes when the recording does)."""

    id: str
    locator: str
    fingerprint: str


class Source:
    """An archive of recordings (module docstring)."""

    def recordings(self) -> list[Recording]:
        raise NotImplementedError

    def read(self, locator: str) -> Any:
        """The recording at `locator` as a pipeline input."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """The keyword arguments of `open_source` that open this source again."""
        raise NotImplementedError


class FileSource(Source):
    """A folder of recording files (recursively) or one recording file."""

    def __init__(self, path: Path, columns: list[str] | None, sampling_rate: float | None, exclude: Path | None):
        self.path, self.columns, self.sampling_rate, self.exclude = path.resolve(), columns, sampling_rate, exclude

    def _files(self) -> list[Path]:
        from slip_sensor.recordings import ARRAY_SUFFIXES, TABLE_SUFFIXES, check_readable

        if self.path.is_file():
            return [check_readable(self.path)]
        readable = (*TABLE_SUFFIXES, *ARRAY_SUFFIXES, ".hea")  # a WFDB record is named by its header
        files, others = [], set()
        for file in sorted(self.path.rglob("*")):
            relative = file.relative_to(self.path)
            if not file.is_file() or any(part.startswith(".") for part in relative.parts):
                continue
            if self.exclude is not None and file.resolve().is_relative_to(self.exclude):
                continue  # the index itself, when it lies inside the archive
            if file.suffix.lower() in readable:
                files.append(file)
            elif file.suffix.lower() != ".dat":  # WFDB signal files come with their header
                others.add(file.suffix.lower() or "(no suffix)")
        if not files:
            found = f"; it holds only {', '.join(sorted(others))} files" if others else ""
            raise UserError(f"no recordings in {self.path}{found} (readable: {', '.join(readable)}); give a folder of "
                            "recording files, or a dataset with --sensor-column")
        return files

    def recordings(self) -> list[Recording]:
        root = self.path.parent if self.path.is_file() else self.path
        recordings = []
        for file in self._files():
            stat = file.stat()
            fingerprint = f"{stat.st_size}-{stat.st_mtime_ns}"
            recordings.append(Recording(file.relative_to(root).as_posix(), str(file), fingerprint))
        return recordings

    def read(self, locator: str) -> Any:
        from slip_sensor.recordings import read_recording

        return read_recording(locator, columns=self.columns, sampling_rate=self.sampling_rate)

    def describe(self) -> dict[str, Any]:
        return {"source": str(self.path), "columns": self.columns, "sampling_rate": self.sampling_rate}


class DatasetSource(Source):
    """The rows of a `datasets` dataset (every split, in order), one recording per row."""

    def __init__(self, name: str, splits: dict[str, Any], sensor_column: str, id_column: str | None,
                 rate_column: str | None, sampling_rate: float | None, options: dict[str, Any]):
        from slip_sensor.data.user_dataset import table_column

        self.name, self.splits, self.options = name, splits, options
        self.sensor_column, self.id_column, self.rate_column = sensor_column, id_column, rate_column
        self.sampling_rate = sampling_rate
        for table in splits.values():
            for column, option in ((sensor_column, "--sensor-column"), (id_column, "--id-column"),
                                   (rate_column, "--rate-column")):
                if column is not None:
                    table_column(table, column, option)

    def _row(self, split: str, row: int) -> dict[str, Any]:
        """A row as a pipeline input dict: `sensors` `[channels, time]`, `sampling_rate`, `channel_names`."""
        from slip_sensor.data.user_dataset import sensor_array

        table = self.splits[split]
        values = table[row]
        rate = values.get(self.rate_column) if self.rate_column else values.get("sampling_rate")
        names = values.get("channel_names") or None
        return {"sensors": sensor_array(values[self.sensor_column], row, self.sensor_column),
                "sampling_rate": float(rate) if rate is not None else self.sampling_rate, "channel_names": names}

    def recordings(self) -> list[Recording]:
        recordings, seen = [], {}
        for split, table in self.splits.items():
            ids = table[self.id_column] if self.id_column else None
            for row in range(len(table)):
                recording_id = str(ids[row]) if ids is not None else f"{split}/{row}"
                if recording_id in seen:
                    raise UserError(f"{self.name}: id {recording_id!r} is in two rows ({seen[recording_id]} and "
                                    f"{split}[{row}]); give an --id-column whose values are unique")
                seen[recording_id] = f"{split}[{row}]"
                sample = self._row(split, row)
                digest = hashlib.sha256(np.ascontiguousarray(sample["sensors"]).tobytes())
                digest.update(json.dumps([list(sample["sensors"].shape), sample["sampling_rate"],
                                          sample["channel_names"]]).encode())
                recordings.append(Recording(recording_id, f"{split}[{row}]", digest.hexdigest()[:16]))
        if not recordings:
            raise UserError(f"the dataset {self.name} has no rows")
        return recordings

    def read(self, locator: str) -> Any:
        match = ROW_LOCATOR.fullmatch(locator)
        if match is None or match["split"] not in self.splits or int(match["row"]) >= len(self.splits[match["split"]]):
            raise UserError(f"the dataset {self.name} has no row {locator}; it changed since it was indexed: run "
                            "`slip index` on it again")
        return self._row(match["split"], int(match["row"]))

    def describe(self) -> dict[str, Any]:
        return self.options


def is_saved_dataset(path: Path) -> bool:
    """Whether `path` is a folder written by `Dataset.save_to_disk` or `DatasetDict.save_to_disk`."""
    return (path / "dataset_dict.json").is_file() or (path / "state.json").is_file()


def open_source(
    source: str | Path,
    sensor_column: str | None = None,
    id_column: str | None = None,
    rate_column: str | None = None,
    columns: list[str] | None = None,
    sampling_rate: float | None = None,
    exclude: str | Path | None = None,
) -> Source:
    """The archive at `source` (module docstring). `sensor_column`, `id_column` and `rate_column` name a dataset's
    columns (giving `sensor_column` reads files as a dataset table rather than as recordings); `columns` picks the
    channels of recording files; `sampling_rate` (Hz) is used where a recording states none; files under `exclude`
    are not recordings (the index's own folder)."""
    from slip_sensor.data.corpus import is_complete_corpus, load_corpus
    from slip_sensor.data.authors_layout import is_authors_layout

    path = Path(source)
    options = {"source": str(path.resolve()) if path.exists() else str(source), "sensor_column": sensor_column,
               "id_column": id_column, "rate_column": rate_column, "sampling_rate": sampling_rate}
    if path.is_dir() and (is_complete_corpus(path) or is_authors_layout(path)):
        loaded = load_corpus(path)
        return DatasetSource(str(path), dict(loaded), sensor_column or DEFAULT_SENSOR_COLUMN, id_column or "id",
                             rate_column, sampling_rate, options)
    if path.is_dir() and is_saved_dataset(path):
        import datasets

        loaded = datasets.load_from_disk(str(path))
        splits = dict(loaded) if isinstance(loaded, datasets.DatasetDict) else {"train": loaded}
        return DatasetSource(str(path), splits, sensor_column or DEFAULT_SENSOR_COLUMN, id_column, rate_column,
                             sampling_rate, options)
    if sensor_column is not None or (not path.exists() and HUB_ID.fullmatch(str(source))):
        from slip_sensor.data.user_dataset import load_table

        try:
            table = load_table(source)
        except UserError as error:
            if path.exists():
                raise
            # a mistyped relative path (data/recs) has the form of a Hub id too
            raise UserError(f"source {str(source)!r}: no such folder or file, and not a loadable Hub dataset "
                            f"({error})") from None
        return DatasetSource(str(source), dict(table), sensor_column or DEFAULT_SENSOR_COLUMN, id_column,
                             rate_column, sampling_rate, options)
    if not path.exists():
        raise UserError(f"source {str(source)!r} does not exist: give a folder of recordings, a recording file, a "
                        "dataset (save_to_disk folder, parquet/CSV with --sensor-column) or a Hub id (owner/name)")
    if any(value is not None for value in (id_column, rate_column)):
        raise UserError("--id-column and --rate-column name dataset columns; for a dataset table give --sensor-column "
                        f"too (without it {source} is read as recording files)")
    return FileSource(path, columns, sampling_rate, Path(exclude).resolve() if exclude is not None else None)


__all__ = ["DatasetSource", "FileSource", "Recording", "Source", "open_source"]
