"""`slip classify FILE… --labels "a,b,c"`: zero-shot label scores per window of each recording, written as NAME.json,
NAME.csv (a window per row: its top label and every label's score) and NAME.png (each window's top label under its
time span)."""

import argparse

from slip_sensor.recording_cli import add_arguments as add_recording_arguments
from slip_sensor.recording_cli import comma_list, run_windows

HELP = "Zero-shot classify recording files window by window: label scores as JSON and CSV, and a picture per file."
COMMAND = "slip classify"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_recording_arguments(parser, "runs/classify", "folder for NAME.json, NAME.csv and NAME.png per FILE")
    parser.add_argument("--labels", type=comma_list, required=True, help='comma-separated candidate labels, e.g. '
                                                                         '"walking,running,sitting"')
    parser.add_argument("--hypothesis-template", default=None,
                        help='sentence each label is written into, with one {} (default: the pipeline\'s "This '
                             'sensor recording shows {}.")')


def best(chunk: dict) -> str:
    """The window's best label; none for a window with no observed value (its scores are NaN)."""
    return chunk["labels"][0] if chunk["observed_fraction"] else ""


def best_with_score(chunk: dict) -> str:
    return f"{best(chunk)} ({chunk['scores'][0]:.2f})" if best(chunk) else ""


def run(args: argparse.Namespace) -> int:
    scores = {f"score:{label}": (lambda chunk, label=label: chunk["scores"][chunk["labels"].index(label)])
              for label in args.labels}
    call = {"candidate_labels": args.labels}
    if args.hypothesis_template is not None:
        call["hypothesis_template"] = args.hypothesis_template
    return run_windows(args, COMMAND, "zero-shot-sensor-classification", call,
                       columns={"top_label": best, **scores}, label=best_with_score)
