"""Reading recording files into what SLIP's pipelines take.

- CSV (`.csv`, `.tsv`, `.txt`) and parquet: a pandas DataFrame, columns = channels. The pipeline reads its sampling
  rate and timestamps from a DatetimeIndex or a `time`/`timestamp` column (resampling irregular sampling, with a
  warning), so the table is handed over as it is, its text timestamps parsed; `columns` picks the channels and keeps
  the time column.
- `.npy`: an array `[channels, time]` (1-D: one channel). `.npz`: a `sensors` array or a single array, and an optional
  scalar `sampling_rate`; several 1-D arrays of one length are named channels.
- WFDB records (`.hea`, `.dat`, when the optional `wfdb` package is installed): the record's signals, channel names
  and sampling rate.

Arrays come as `{"sensors": array, "sampling_rate": rate}` (rate: the file's, else `sampling_rate`). Anything a user
can fix (a missing file, an unknown format, a column or key that is not there) is a `UserError` naming it.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from slip_sensor.errors import UserError

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet")
ARRAY_SUFFIXES = (".npy", ".npz")
WFDB_SUFFIXES = (".hea", ".dat")


def _optional(module: str, needed_for: str) -> Any:
    """`module`, imported; a `UserError` naming what to install when it is missing."""
    if importlib.util.find_spec(module) is None:
        raise UserError(f"reading {needed_for} needs the `{module}` package: pip install {module}")
    return importlib.import_module(module)


def read_recording(path: str | Path, columns: list[str] | None = None, sampling_rate: float | None = None) -> Any:
    """The recording in `path` as a pipeline input: a DataFrame (tables) or `{"sensors", "sampling_rate"}` (arrays,
    WFDB). `columns` names the channels to keep (table columns, npz names or WFDB signal names; channel indices for
    an unnamed array); `sampling_rate` (Hz) is used where the file states none."""
    path = check_readable(path)
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return _read_table(path, columns)
    if suffix in ARRAY_SUFFIXES:
        return _read_array(path, columns, sampling_rate)
    return _read_wfdb(path, columns, sampling_rate)


def check_readable(path: str | Path) -> Path:
    """`path`, if it is a file of a readable format (a WFDB record: its header); else a `UserError` naming the
    problem. Cheap, so that a list of files can be checked before any is read."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (*TABLE_SUFFIXES, *ARRAY_SUFFIXES, *WFDB_SUFFIXES):
        known = ", ".join((*TABLE_SUFFIXES, *ARRAY_SUFFIXES, *WFDB_SUFFIXES))
        raise UserError(f"recording {str(path)!r} has an unknown format {suffix or '(no suffix)'!r}; readable: {known}")
    file = path.with_suffix(".hea") if suffix in WFDB_SUFFIXES else path
    if not file.is_file():
        raise UserError(f"recording {str(file)!r} does not exist (or is not a file); check the path")
    return path


def _pick(available: list[str], columns: list[str] | None, path: Path, kind: str) -> list[str]:
    """`columns`, checked against `available` (all of them when None)."""
    missing = [name for name in columns or [] if name not in available]
    if missing:
        raise UserError(
            f"{path}: no {kind} {', '.join(map(repr, missing))}; it has {', '.join(map(str, available))} "
            f"(--columns takes a comma-separated list of these)"
        )
    return list(columns) if columns else list(available)


def _read_table(path: Path, columns: list[str] | None):
    pandas = _optional("pandas", "CSV and parquet files")
    try:
        if path.suffix.lower() == ".parquet":
            _optional("pyarrow", "parquet files")
            table = pandas.read_parquet(path)
        else:
            table = pandas.read_csv(path, sep=None, engine="python")  # sniffs commas, tabs, semicolons
    except (ValueError, OSError, pandas.errors.ParserError) as error:
        raise UserError(f"{path} could not be read as a table: {error}") from None
    for name in _time_columns(table):
        if not pandas.api.types.is_numeric_dtype(table[name]):  # CSV timestamps are text; the pipeline takes datetimes or seconds
            try:
                table[name] = pandas.to_datetime(table[name])
            except (ValueError, TypeError) as error:
                raise UserError(f"{path}: its {name!r} column holds no readable timestamps ({error}); give times "
                                "as ISO dates or seconds") from None
    if columns is None:
        return table
    keep = [name for name in _time_columns(table) if name not in columns]
    picked = _pick([str(name) for name in table.columns if name not in keep], columns, path, "column")
    return table[[*keep, *picked]]


def _time_columns(table) -> list:
    """The columns the pipeline reads timestamps from (`time`, `timestamp`), kept apart from the channels."""
    from slip_sensor.modeling_slip.windowing_slip import TIME_COLUMNS

    return [name for name in table.columns if str(name).lower() in TIME_COLUMNS]


def _channels(sensors: np.ndarray, columns: list[str] | None, path: Path) -> np.ndarray:
    """Rows of an unnamed `[channels, time]` array picked by their indices."""
    sensors = np.atleast_2d(sensors)
    if sensors.ndim != 2:
        raise UserError(f"{path}: expected an array [channels, time] or [time], got shape {sensors.shape}")
    indices = _pick([str(i) for i in range(len(sensors))], columns, path, "channel index")
    return sensors[[int(index) for index in indices]]


def _read_array(path: Path, columns: list[str] | None, sampling_rate: float | None) -> dict[str, Any]:
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise UserError(f"{path} could not be read as a numpy file: {error}") from None
    if isinstance(loaded, np.ndarray):
        return {"sensors": _channels(loaded, columns, path), "sampling_rate": sampling_rate}
    with loaded:
        arrays = {name: loaded[name] for name in loaded.files}
    rate = arrays.pop("sampling_rate", None)
    rate = float(rate) if rate is not None else sampling_rate
    if "sensors" in arrays or len(arrays) == 1:
        return {"sensors": _channels(arrays.get("sensors", next(iter(arrays.values()))), columns, path),
                "sampling_rate": rate}
    if not arrays or any(array.ndim != 1 or len(array) != len(next(iter(arrays.values()))) for array in arrays.values()):
        raise UserError(
            f"{path} holds {', '.join(f'{n} {a.shape}' for n, a in arrays.items()) or 'no array'}; expected a "
            "`sensors` array [channels, time], a single array, or 1-D channels of one length (and a `sampling_rate`)"
        )
    names = _pick(list(arrays), columns, path, "channel")
    return {"sensors": np.stack([arrays[name] for name in names]), "sampling_rate": rate, "channel_names": names}


def _read_wfdb(path: Path, columns: list[str] | None, sampling_rate: float | None) -> dict[str, Any]:
    wfdb = _optional("wfdb", "WFDB records")
    record = wfdb.rdrecord(str(path.with_suffix("")))
    names = _pick(list(record.sig_name), columns, path, "signal")
    signals = record.p_signal.T[[record.sig_name.index(name) for name in names]]
    return {"sensors": signals, "sampling_rate": float(record.fs or sampling_rate), "channel_names": names}


__all__ = ["check_readable", "read_recording"]
