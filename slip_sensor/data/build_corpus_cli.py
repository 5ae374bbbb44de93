"""`slip build-corpus`: build a sensor-caption pretraining corpus (routed here by `slip_sensor.cli`)."""

from __future__ import annotations

import argparse
import os

from slip_sensor.cli import positive_int

from .builder import DEFAULT_SOURCES, build_corpus

HELP = "Build a sensor-caption pretraining corpus (synthetic, physiological, bundled real data) as parquet shards."


def _sources(value: str) -> list[str]:
    sources = [source.strip() for source in value.split(",") if source.strip()]
    if not sources or not set(sources) <= set(DEFAULT_SOURCES):
        choices = ",".join(DEFAULT_SOURCES)
        raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {choices}, got {value!r}")
    return sources


def _fraction(value: str) -> float:
    try:
        fraction = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not 0 <= fraction < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {fraction}")
    return fraction


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="target folder; built next to it and renamed into place")
    parser.add_argument("--n", type=positive_int, default=10_000, help="number of rows (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same corpus (default 0)")
    parser.add_argument(
        "--sources",
        type=_sources,
        default=list(DEFAULT_SOURCES),
        help=f"comma-separated subset of {','.join(DEFAULT_SOURCES)} (default: all)",
    )
    parser.add_argument(
        "--workers", type=positive_int, default=os.cpu_count() or 1, help="processes (default: all cores)"
    )
    parser.add_argument("--val-fraction", type=_fraction, default=0.02, help="share of generated rows held out")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing corpus at --out")


def run(args: argparse.Namespace) -> int:
    summary = build_corpus(
        args.out,
        n=args.n,
        seed=args.seed,
        sources=args.sources,
        workers=args.workers,
        val_fraction=args.val_fraction,
        overwrite=args.overwrite,
        progress=True,
    )
    per_source = ", ".join(f"{source} {count}" for source, count in summary.rows_per_source.items())
    per_split = ", ".join(f"{split} {count}" for split, count in summary.rows_per_split.items())
    print(f"corpus: {summary.path}")
    print(f"rows: {summary.rows} ({per_split})")
    print(f"rows per source: {per_source}")
    print(f"caption tokens (whitespace words): {summary.caption_words} ({summary.caption_words / summary.rows:.1f} per row)")
    print(f"seconds: {summary.seconds:.1f} ({summary.samples_per_second:.1f} rows/s with {args.workers} workers)")
    return 0
