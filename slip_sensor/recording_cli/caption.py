"""`slip caption FILE…`: a caption per window of each recording, written as NAME.json, NAME.csv and NAME.png.

The picture draws the signal with each window's caption under its time span, titled with what is known of the
recording (length, rate, channels, `--domain`).
"""

import argparse

from slip_sensor.cli import positive_int
from slip_sensor.recording_cli import add_arguments as add_recording_arguments
from slip_sensor.recording_cli import run_windows

HELP = "Caption recording files (CSV, parquet, npy/npz, WFDB) window by window: JSON, CSV and a picture per file."
COMMAND = "slip caption"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_recording_arguments(parser, "runs/caption", "folder for NAME.json, NAME.csv and NAME.png per FILE")
    parser.add_argument("--max-new-tokens", type=positive_int, default=60, help="caption length bound (default: 60)")


def run(args: argparse.Namespace) -> int:
    return run_windows(
        args, COMMAND, "sensor-captioning", {"max_new_tokens": args.max_new_tokens},
        columns={"generated_text": lambda chunk: chunk["generated_text"].strip()},
        label=lambda chunk: chunk["generated_text"],
    )
