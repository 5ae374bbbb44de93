"""`slip search INDEX "text"`: the windows of an indexed archive that best match a text, or a window of a file
(`--like FILE --window START_S`), printed as a ranked table or as JSON; `--captions` captions each hit window and
`--plot OUT.png` draws the hits."""

import argparse
import json

from slip_sensor.cli import positive_int

HELP = "Search an index built by `slip index` with a text, or with a window of a recording file (--like)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("index", metavar="INDEX", help="index folder written by `slip index`")
    parser.add_argument("query", nargs="?", default=None, help="what to find, in words (or use --like)")
    parser.add_argument("--like", metavar="FILE", default=None,
                        help="search with a window of this recording file instead of a text (\"more like this\")")
    parser.add_argument("--window", metavar="START_S", type=float, default=None,
                        help="with --like: the start of that window in seconds (the index's window nearest to it; "
                             "default: 0); the window itself is left out of the hits")
    parser.add_argument("--top-k", type=positive_int, default=10, help="number of hits (default: 10)")
    parser.add_argument("--captions", action="store_true", help="caption each hit window with the model")
    parser.add_argument("--plot", metavar="OUT.png", default=None, help="draw the hits into this PNG file")
    parser.add_argument("--json", action="store_true", help="print the hits as JSON")
    parser.add_argument("--model", default=None, help="model folder or Hub id (default: the index's)")
    parser.add_argument("--device", default=None, help="torch device (default: cpu)")


def hit_table(hits: list) -> str:
    """The hits as aligned text columns: rank, score, recording, time span, timestamps (and caption)."""
    from slip_sensor.modeling_slip.windowing_slip import format_time

    from .timestamps import clock_span

    rows = [("rank", "score", "recording", "span", "timestamps")]
    for hit in hits:
        span = f"{format_time(hit.start_s)}–{format_time(hit.end_s)}"
        rows.append((str(hit.rank), f"{hit.score:.3f}", hit.recording_id, span,
                     clock_span(hit.start_time, hit.end_time)))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if number and hits[number - 1].caption is not None:
            lines.append(f"      {hits[number - 1].caption}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from slip_sensor.errors import UserError

    from .slip_index import SlipIndex

    if (args.query is None) == (args.like is None):
        raise UserError("give either a text query or --like FILE (with --window START_S), not both or neither")
    if args.window is not None and args.like is None:
        raise UserError("--window START_S picks a window of the --like FILE; give --like too")
    index = SlipIndex.load(args.index, model=args.model, device=args.device)
    if args.like is not None:
        hits = index.search_like(args.like, args.window or 0.0, k=args.top_k, captions=args.captions)
    else:
        hits = index.search(args.query, k=args.top_k, captions=args.captions)
    if args.plot:
        index.plot(hits, args.plot)
    if args.json:
        print(json.dumps([hit.to_dict() for hit in hits], indent=2))
    else:
        print(hit_table(hits))
        if args.plot:
            print(f"picture: {args.plot}")
    return 0
