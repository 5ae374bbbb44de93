"""`slip embed FILE… --out emb.parquet`: SLIP sensor embeddings of each window of each recording, in one parquet file
with a row per window: file, start_s, end_s, observed_fraction, embedding (a list of floats; NaN for a window with no
observed value).

The file's metadata records that `slip embed` wrote it; an existing `--out` without that mark is refused, so that a
mistyped path replaces nothing else. The file is written beside `--out` and renamed into place when complete.
"""

import argparse
from pathlib import Path

from slip_sensor.errors import UserError
from slip_sensor.output_folders import write_atomically
from slip_sensor.recording_cli import add_arguments as add_recording_arguments
from slip_sensor.recording_cli import windowed_results

HELP = "Embed recording files window by window into one parquet file (a row per window)."
COMMAND = "slip embed"
MARK = b"written_by"  # key of the parquet schema metadata naming the command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_recording_arguments(parser, "runs/embeddings.parquet", "parquet file")


def check_out(out: Path) -> None:
    """Refuse an `--out` that exists and is not a parquet file written by `slip embed`."""
    if not out.exists():
        return
    import pyarrow.parquet as pq

    try:
        ours = out.is_file() and (pq.read_schema(out).metadata or {}).get(MARK) == COMMAND.encode()
    except (OSError, ValueError):  # not a parquet file (pyarrow's errors derive from these)
        ours = False
    if not ours:
        raise UserError(f"--out {out} exists and was not written by `{COMMAND}`, so it is not replaced (nothing was "
                        "changed); choose a new file name, or delete it yourself")


def run(args: argparse.Namespace) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(args.out)
    if out.suffix.lower() != ".parquet":
        raise UserError(f"--out {out} should name a .parquet file")
    check_out(out)
    rows = {"file": [], "start_s": [], "end_s": [], "observed_fraction": [], "embedding": []}
    for path, _, result in windowed_results("sensor-feature-extraction", args, aggregation=None):
        for chunk in result["chunks"]:
            start, end = chunk["timestamp"]
            for key, value in zip(rows, (str(path), start, end, chunk["observed_fraction"], chunk["sensor_embeds"])):
                rows[key].append(value)
    table = pa.table({**rows, "embedding": pa.array(rows["embedding"], type=pa.list_(pa.float32()))})
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(out, lambda staged: pq.write_table(table.replace_schema_metadata({MARK: COMMAND}), staged))
    print(f"{len(table)} windows of {len(args.files)} recording(s) in {out}")
    return 0
