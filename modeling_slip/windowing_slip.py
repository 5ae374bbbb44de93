"""Recordings as users hold them, and their overlapping windows, for the SLIP pipelines.

Hub-shipped file, loaded with `trust_remote_code`: it imports only numpy, torch and the standard library. pandas is
never imported: a DataFrame is recognised by what it has (`columns`, `index`, `to_numpy`).

A recording is read into `{"sensors": [channels, time], ...}` with, where the input tells them, `sampling_rate`
(Hz), `channel_names` and `start_time` (`numpy.datetime64`, from a DataFrame's datetime index or time column).
Windows follow the chunking of transformers' `AutomaticSpeechRecognitionPipeline`: `chunk_length_s` long, and
consecutive windows share `stride_left + stride_right` seconds, so a window starts every
`chunk_length_s - stride_left - stride_right` seconds.
"""

import math
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch

# Column names that hold a DataFrame's timestamps rather than a channel.
TIME_COLUMNS = ("time", "timestamp")
# Sampling intervals within this fraction of their median count as regular (clock jitter).
IRREGULAR_TOLERANCE = 0.01
# When resampling, a grid point between two samples further apart than this many periods is missing, not interpolated.
MAX_INTERPOLATED_GAP = 2.0


def is_dataframe(inputs: Any) -> bool:
    """Duck-typed `pandas.DataFrame` check (pandas is not a dependency of the Hub code)."""
    return all(hasattr(inputs, name) for name in ("columns", "index", "to_numpy", "dtypes"))


def read_recording(inputs: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    """One pipeline input → `{"sensors": array or tensor [channels, time] or [time], ...}` holding the keys the
    input gives (`keys` are those a dict input may hold besides `sensors`; `channel_names` is always allowed).

    Accepted: an array or tensor; a nested list (a `datasets` list column value); a DataFrame (columns = channels,
    a DatetimeIndex or a `time`/`timestamp` column gives the sampling rate and `start_time`); a dict with `sensors`
    (any of these, or a mapping of channel name → 1-D series); a corpus row as stored (`sensor` channels first,
    `sampling_rate`, `channel_names`, `patch_size`; its other columns are ignored).
    """
    if is_dataframe(inputs):
        return read_dataframe(inputs)
    if isinstance(inputs, Mapping) and "sensor" in inputs and "sensors" not in inputs:  # a corpus row
        row = {key: inputs.get(key) for key in ("sampling_rate", "channel_names", "patch_size")}
        return {"sensors": to_array(inputs["sensor"], "the corpus row's sensor"), **_given(row)}
    if not isinstance(inputs, Mapping):
        return {"sensors": to_array(inputs, "the input") if isinstance(inputs, (list, tuple)) else inputs}
    allowed = ("sensors", *keys, "channel_names")
    unknown = set(inputs) - set(allowed)
    if inputs.get("sensors") is None or unknown:
        raise ValueError(
            f"A dict input needs `sensors` and may also hold {', '.join(allowed[1:])} (or be a corpus row with "
            f"`sensor`); got keys {sorted(inputs)}"
        )
    sample = _given(inputs)
    sensors = sample["sensors"]
    if is_dataframe(sensors):
        sample = {**read_dataframe(sensors), **{key: value for key, value in sample.items() if key != "sensors"}}
    elif isinstance(sensors, Mapping):  # named channels
        names = [str(name) for name in sensors]
        channels = [to_array(series, f"channel {name!r}") for name, series in zip(names, sensors.values())]
        shapes = {name: channel.shape for name, channel in zip(names, channels)}
        if len({shape for shape in shapes.values()}) != 1 or channels[0].ndim != 1:
            raise ValueError(f"Named channels must be 1-D series of one length; got shapes {shapes}")
        sample = {"channel_names": names, **sample, "sensors": np.stack(channels)}
    elif isinstance(sensors, (list, tuple)):
        sample["sensors"] = to_array(sensors, "sensors")
    return sample


def read_dataframe(frame: Any) -> dict[str, Any]:
    """A DataFrame → `{"sensors": float32 [channels, time], "channel_names", ["sampling_rate", "start_time"]}`.
    Irregular timestamps are resampled to their median rate, with a warning."""
    columns = list(frame.columns)
    time_columns = [column for column in columns if str(column).lower() in TIME_COLUMNS]
    channels = [column for column in columns if column not in time_columns]
    if not channels:
        raise ValueError(f"The DataFrame has no channel column besides its time column; columns: {columns}")
    not_numeric = [str(column) for column in channels if getattr(frame[column].dtype, "kind", "O") not in "biuf"]
    if not_numeric:
        raise ValueError(
            f"DataFrame columns must be numeric channels (or a `time`/`timestamp` column); not numeric: {not_numeric}"
        )
    values = frame[channels].to_numpy(dtype=np.float32, na_value=np.nan).T
    sample = {"sensors": np.ascontiguousarray(values), "channel_names": [str(column) for column in channels]}
    if time_columns:
        times = frame[time_columns[0]]
    elif hasattr(frame.index, "tz"):  # a DatetimeIndex
        times = frame.index
    else:
        return sample
    seconds, start_time = _time_axis(times)
    sample["sampling_rate"], sample["sensors"] = _regular_rate(seconds, sample["sensors"])
    if start_time is not None:
        sample["start_time"] = start_time
    return sample


def _time_axis(times: Any) -> tuple[np.ndarray, np.datetime64 | None]:
    """Timestamps (datetimes, timezone-aware or not, or numbers of seconds) → float64 seconds since the first, and
    the first as a naive `datetime64` (UTC for timezone-aware times; `None` for numeric times)."""
    accessor = getattr(times, "dt", times)  # a Series holds datetime methods under .dt, an index holds them itself
    if getattr(accessor, "tz", None) is not None:
        times = accessor.tz_convert(None)
    values = np.asarray(times)
    if values.dtype.kind == "M":
        values = values.astype("datetime64[ns]")
        if np.isnat(values).any():
            raise ValueError("The DataFrame's timestamps hold missing values (NaT)")
        return (values - values[0]).astype(np.int64) / 1e9, values[0]
    if values.dtype.kind not in "iuf" or not np.isfinite(values).all():
        raise ValueError(f"DataFrame timestamps must be datetimes or finite numbers of seconds; got {values.dtype}")
    return values.astype(np.float64) - values[0], None


def _regular_rate(seconds: np.ndarray, sensors: np.ndarray) -> tuple[float | None, np.ndarray]:
    """The sampling rate of increasing timestamps, and the series on a regular grid at that rate: irregular
    intervals are resampled to the median rate by linear interpolation between neighbours, with a warning."""
    if len(seconds) < 2:
        return None, sensors
    intervals = np.diff(seconds)
    if (intervals <= 0).any():
        raise ValueError("The DataFrame's timestamps must strictly increase (sort it and drop duplicate times)")
    period = round(float(np.median(intervals)), 9)  # the nanosecond clock of datetimes, without float noise
    if np.abs(intervals - period).max() <= IRREGULAR_TOLERANCE * period:
        return 1.0 / period, sensors
    grid = np.arange(math.floor(seconds[-1] / period + 1e-9) + 1) * period
    left = np.clip(np.searchsorted(seconds, grid, side="right") - 1, 0, len(seconds) - 2)
    weight = np.clip((grid - seconds[left]) / intervals[left], 0.0, 1.0)
    interpolated = sensors[:, left] * (1 - weight) + sensors[:, left + 1] * weight
    # An exact hit keeps its sample; a point inside a long gap has no neighbours to interpolate: missing (NaN).
    interpolated = np.where(weight == 0, sensors[:, left], interpolated)
    interpolated[:, (weight > 0) & (intervals[left] > MAX_INTERPOLATED_GAP * period)] = np.nan
    warnings.warn(
        f"The DataFrame's timestamps are irregular (intervals from {intervals.min():.6g} s to {intervals.max():.6g} "
        f"s): resampled to the median rate {1 / period:.6g} Hz by linear interpolation between neighbouring samples; "
        f"points inside gaps longer than {MAX_INTERPOLATED_GAP:g} periods are missing (NaN)",
        UserWarning,
        stacklevel=4,
    )
    return 1.0 / period, interpolated.astype(np.float32)


def to_array(values: Any, what: str) -> np.ndarray:
    """Nested lists (python or the numpy format of `datasets`: one array per channel) or an array → float32 array."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().float().numpy()
    if isinstance(values, np.ndarray) and values.dtype == object:
        values = list(values)
    try:
        return np.asarray(values, dtype=np.float32)
    except (ValueError, TypeError) as error:  # ragged nesting, strings
        raise ValueError(f"{what} cannot be read as a numeric [channels, time] array: {error}") from None


def _given(mapping: Mapping) -> dict[str, Any]:
    """The entries that hold a value: not None, nor a float NaN (a null in the numpy format of `datasets`)."""
    return {
        key: value
        for key, value in mapping.items()
        if value is not None and not (isinstance(value, (float, np.floating)) and math.isnan(value))
    }


def window_params(chunk_length_s: Any, stride_length_s: Any) -> dict[str, Any]:
    """Checks the windowing arguments; the stride defaults to `chunk_length_s / 6` on each side, as in the ASR
    pipeline. Returns `{"chunk_length_s": float, "stride_length_s": (left, right)}`."""
    if not _positive(chunk_length_s):
        raise ValueError(f"chunk_length_s must be a positive number of seconds, got {chunk_length_s!r}")
    if stride_length_s is None:
        stride_length_s = chunk_length_s / 6
    stride = tuple(stride_length_s) if isinstance(stride_length_s, (list, tuple)) else (stride_length_s,) * 2
    if len(stride) != 2 or not all(_positive(side) or side == 0 for side in stride):
        raise ValueError(
            f"stride_length_s must be seconds >= 0, one number or (left, right), got {stride_length_s!r}"
        )
    if sum(stride) >= chunk_length_s:
        raise ValueError(
            f"stride_length_s {stride} leaves no step: left + right must be shorter than chunk_length_s "
            f"({chunk_length_s})"
        )
    return {"chunk_length_s": float(chunk_length_s), "stride_length_s": tuple(float(side) for side in stride)}


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and 0 < value < math.inf


def window_spans(length: int, sampling_rate: float, chunk_length_s: float, stride_length_s: tuple[float, float]):
    """Start indices `[N]`, the window length and the step, in samples, of a `length`-sample recording: windows
    start every step until one reaches the end (the last may be shorter); a recording no longer than a window is
    one window."""
    chunk = max(1, round(chunk_length_s * sampling_rate))
    step = chunk - round(stride_length_s[0] * sampling_rate) - round(stride_length_s[1] * sampling_rate)
    if step < 1:
        raise ValueError(
            f"At {sampling_rate:g} Hz, chunk_length_s={chunk_length_s} and stride_length_s={stride_length_s} leave "
            "no step between windows; make the strides shorter"
        )
    count = 1 if length <= chunk else -(-(length - chunk) // step) + 1
    return np.arange(count) * step, chunk, step


def iter_windows(sensors: np.ndarray, chunk: int, step: int, count: int) -> Iterator[np.ndarray]:
    """The windows `[channels, ≤ chunk]` of `sensors` `[channels, time]` as views (no copy): the full windows come
    from one strided view, the shorter last one, if any, from a slice."""
    length = sensors.shape[-1]
    full = 0 if length < chunk else (length - chunk) // step + 1
    if full:
        strided = np.lib.stride_tricks.sliding_window_view(sensors, chunk, axis=-1)[:, ::step]  # [C, full, chunk]
        yield from strided.transpose(1, 0, 2)
    if count > full:
        yield sensors[:, full * step :]


def format_time(seconds: float) -> str:
    """`H:MM:SS` (with the fraction of a second when there is one), as in the window captions' time spans."""
    whole = math.floor(seconds + 1e-9)
    hours, rest = divmod(whole, 3600)
    text = f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    fraction = round(seconds - whole, 3)
    return text + f"{fraction:.3f}"[1:].rstrip("0") if fraction >= 0.001 else text


__all__ = [
    "format_time",
    "is_dataframe",
    "iter_windows",
    "read_dataframe",
    "read_recording",
    "to_array",
    "window_params",
    "window_spans",
]
