"""`slip caption`, `slip classify`, `slip embed`: SLIP's pipelines over recording files, window by window.

Each command reads its FILEs (`slip_sensor.recordings`: CSV, parquet, npy/npz, WFDB), hands each recording to its
pipeline with `chunk_length_s`/`stride_length_s` (the pipeline cuts the windows and infers rates and timestamps), and
writes one result per window with its time span. This module holds what the three share: the options, loading the
model into a pipeline, the run over the files, and where outputs may go; `caption`, `classify` and `embed` (one
module each, as the `slip` router needs) say what their pipeline is called with and what they write.
The demo Space (`slip_sensor.space_app`) runs an uploaded file through the same loading, windowed run and
picture.

Outputs never replace what the commands did not write: `caption` and `classify` write into an `--out` folder that is
new, empty or an earlier output of the same command (a marker file, `slip_sensor.output_folders`); `embed` writes a
parquet file that is new or an earlier `slip embed` output (marked in the file's metadata).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from slip_sensor.cli import positive_int
from slip_sensor.errors import UserError

DEFAULT_CHUNK_LENGTH_S = 60.0


def positive_float(value: str) -> float:
    """argparse type: a number > 0 (seconds, Hz)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not number > 0 or math.isinf(number):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {value}")
    return number


def comma_list(value: str) -> list[str]:
    """argparse type: a non-empty comma-separated list."""
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def add_arguments(parser: argparse.ArgumentParser, out_default: str, out_help: str) -> None:
    """The options the three commands share."""
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="recordings: .csv/.tsv/.txt, .parquet, .npy, .npz, or WFDB .hea (with the wfdb package)")
    parser.add_argument("--out", default=out_default, help=f"{out_help} (default: {out_default})")
    add_window_options(parser)
    parser.add_argument("--domain", default="", help="what the recordings are (e.g. physiological), stated with "
                                                     "their length, rate and channels in the results")


def add_window_options(parser: argparse.ArgumentParser) -> None:
    """The options of a windowed run of a model over recordings (also `slip index`'s): model, rate, channels,
    windows, batch size, device, progress bar."""
    parser.add_argument("--model", default=None, help="model folder or Hub id (default: the shipped slip-tiny)")
    parser.add_argument("--sampling-rate", type=positive_float, default=None,
                        help="Hz, for files that state none (no timestamps, no rate in the file)")
    parser.add_argument("--columns", type=comma_list, default=None,
                        help="comma-separated channels to use: table columns, npz or WFDB names, or array row indices "
                             "(default: all; a time/timestamp column is kept for the timestamps)")
    parser.add_argument("--chunk-length-s", type=positive_float, default=DEFAULT_CHUNK_LENGTH_S,
                        help=f"window length in seconds (default: {DEFAULT_CHUNK_LENGTH_S:g})")
    parser.add_argument("--stride-length-s", type=float, default=0.0,
                        help="seconds each window shares with each neighbour (default: 0, windows tile the recording "
                             "so that every span is described once)")
    parser.add_argument("--batch-size", type=positive_int, default=8, help="windows per model call (default: 8)")
    parser.add_argument("--device", default=None, help="torch device, e.g. cpu, cuda, cuda:1, mps (default: cpu)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")


def output_names(paths: list[Path]) -> dict[Path, str]:
    """Each input's output name (its file stem); two inputs with one stem would write over each other's outputs."""
    names: dict[str, Path] = {}
    for path in paths:
        if path.stem in names:
            raise UserError(f"{names[path.stem]} and {path} would write the same outputs ({path.stem}.*); "
                            "rename one or run them with different --out")
        names[path.stem] = path
    return {path: name for name, path in names.items()}


def output_folder(out: str | Path, command: str) -> Path:
    """`out`, created and marked as `command`'s, unless it holds files that `command` did not write."""
    from slip_sensor.output_folders import mark_folder, refuse_foreign, written_by

    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--out {folder} is a file; `{command}` writes a folder there: choose a new folder name")
    refuse_foreign(folder, written_by(folder) == command, command)
    folder.mkdir(parents=True, exist_ok=True)
    mark_folder(folder, command)
    return folder


def load_pipeline(task: str, model: str | Path | None = None, device: str | None = None):
    """The `task` pipeline on the `model` folder or Hub id (default: the shipped slip-tiny) and `device`."""
    from transformers import AutoModel, AutoModelForCausalLM, AutoProcessor, pipeline

    from slip_sensor import register_auto_classes
    from slip_sensor.loading import load_pretrained
    from slip_sensor.shipped_models import pretrained

    register_auto_classes()
    model_path = str(model or pretrained())
    loaded = load_pretrained(AutoModelForCausalLM if task == "sensor-captioning" else AutoModel, model_path)
    processor = load_pretrained(AutoProcessor, model_path, what="processor")
    return pipeline(task, model=loaded.eval(), processor=processor, device=device)


def run_windowed(pipe, path: Path, recording: Any, windowing: dict[str, Any], **call_kwargs: Any) -> dict:
    """`pipe`'s result on `recording`, read from `path`, cut into windows by `windowing` (`chunk_length_s`,
    `stride_length_s`, `batch_size`, `sampling_rate`; None values are left to the pipeline). The pipeline's refusal
    of this input (no rate, too short, ...) is a `UserError` naming `path`."""
    try:
        return pipe(recording, **{k: v for k, v in windowing.items() if v is not None}, **call_kwargs)
    except ValueError as error:
        raise UserError(f"{path}: {error}") from None


def windowed_results(task: str, args: argparse.Namespace, **call_kwargs: Any) -> Iterator[tuple[Path, Any, dict]]:
    """(path, recording, `task` pipeline result) per FILE, windowed by `--chunk-length-s`/`--stride-length-s`, under
    a progress bar over the files. Every path is checked before the model loads, so that a typo fails at once."""
    from tqdm.auto import tqdm

    from slip_sensor.recordings import check_readable, read_recording

    paths = [check_readable(path) for path in args.files]
    pipe = load_pipeline(task, args.model, args.device)
    windowing = {"chunk_length_s": args.chunk_length_s, "stride_length_s": args.stride_length_s,
                 "batch_size": args.batch_size, "sampling_rate": args.sampling_rate}
    for path in tqdm(paths, desc="recordings", unit="file", disable=not args.progress):
        recording = read_recording(path, columns=args.columns, sampling_rate=args.sampling_rate)
        yield path, recording, run_windowed(pipe, path, recording, windowing, **call_kwargs)


def drawn_signal(recording: Any, sampling_rate: float | None) -> dict[str, Any]:
    """The recording as the pipeline reads it (`sensors` `[channels, time]`, `sampling_rate`, `channel_names`, and
    `start_time` when timestamped), to draw under its windows; `sampling_rate` is the rate given on the command line."""
    import numpy as np

    from slip_sensor.modeling_slip.windowing_slip import read_recording

    sample = read_recording(recording, ("sampling_rate",))
    sensors = np.atleast_2d(np.asarray(sample["sensors"], dtype=float))
    names = sample.get("channel_names") or [f"channel {index}" for index in range(len(sensors))]
    return {**sample, "sensors": sensors, "channel_names": names,
            "sampling_rate": sample.get("sampling_rate") or sampling_rate}


def plot_windows(
    recording: Any, result: dict, sampling_rate: float | None, domain: str, label: Callable[[dict], str], name: str,
    path: str | Path,
) -> str:
    """Draws `recording` with each window's `label` under its span (`plot_captions`) to the PNG `path`, titled
    `name` and what is known of the recording (length, rate, channels, `domain`, start time); returns what is known."""
    import numpy as np

    from slip_sensor.caption_plot import plot_captions
    from slip_sensor.data.semantics import known_facts_prompt

    signal = drawn_signal(recording, sampling_rate)
    sensors, rate, channel_names = signal["sensors"], signal["sampling_rate"], signal["channel_names"]
    known = known_facts_prompt(sensors.shape[1], rate, len(sensors), channel_names, domain)
    windows = [(*chunk["timestamp"], label(chunk)) for chunk in result["chunks"]]
    start = signal.get("start_time")
    started = f", from {np.datetime_as_string(start, unit='s')}" if start is not None else ""
    plot_captions(sensors, rate, channel_names, windows, f"{name}{started}: {known}", path)
    return known


def json_ready(value: Any) -> Any:
    """`value` with tuples as lists and NaN as null, so that the file is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    return value


def write_windows(folder: Path, name: str, header: dict, result: dict, columns: dict[str, Callable[[dict], Any]]) -> None:
    """`NAME.json` (`header` and the pipeline's result) and `NAME.csv` (one row per window: its span, observed
    fraction and `columns`, each computed from the window's result)."""
    (folder / f"{name}.json").write_text(json.dumps(json_ready({**header, **result}), indent=2) + "\n",
                                         encoding="utf-8")
    with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["start_s", "end_s", "observed_fraction", *columns])
        for chunk in result["chunks"]:
            start, end = chunk["timestamp"]
            writer.writerow([start, end, chunk["observed_fraction"], *(cell(chunk) for cell in columns.values())])


def run_windows(
    args: argparse.Namespace,
    command: str,
    task: str,
    call_kwargs: dict[str, Any],
    columns: dict[str, Callable[[dict], Any]],
    label: Callable[[dict], str],
) -> int:
    """`slip caption` and `slip classify`: per FILE, `NAME.json`, `NAME.csv` (one row per window, `columns`) and
    `NAME.png` (the signal, each window's `label` under its span) in the `--out` folder."""
    names = output_names([Path(path) for path in args.files])
    folder = output_folder(args.out, command)
    header = {"command": command, "model": args.model or "slip-tiny (shipped)", "chunk_length_s": args.chunk_length_s,
              "stride_length_s": args.stride_length_s}
    for path, recording, result in windowed_results(task, args, **call_kwargs):
        name = names[path]
        known = plot_windows(recording, result, args.sampling_rate, args.domain, label, path.name,
                             folder / f"{name}.png")
        write_windows(folder, name, {"file": str(path), **header, "known_facts": known}, result, columns)
    print(f"{len(names)} recording(s): {', '.join(f'{name}.json/.csv/.png' for name in names.values())} in {folder}")
    return 0


__all__ = ["add_arguments", "add_window_options", "comma_list", "load_pipeline", "output_folder", "output_names",
           "plot_windows", "positive_float", "run_windowed", "run_windows", "windowed_results", "write_windows"]
