"""Per-recording shards of an index: the window embeddings and metadata of one recording in one parquet file.

A shard is written to a hidden temporary name and renamed into place when complete, so a shard that exists is whole:
a run killed mid-way loses at most the recordings it was embedding, and a re-run finds every finished one. Its name
holds a hash of the recording's id and one of its fingerprint, so a changed recording gets a new shard and the old
one, no longer named by the source, is removed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from slip_sensor.output_folders import write_atomically

from .sources import Recording

SHARDS_DIR = "shards"
SHARD_SCHEMA = pa.schema(
    {
        "recording_id": pa.string(),
        "source": pa.string(),  # the recording's locator: a file path, or `split[row]` of a dataset
        "channel_names": pa.list_(pa.string()),
        "start_s": pa.float64(),
        "end_s": pa.float64(),
        "start_time": pa.string(),  # ISO-8601 when the recording is timestamped, else null
        "end_time": pa.string(),
        "observed_fraction": pa.float64(),
        "embedding": pa.list_(pa.float32()),  # L2-normalised; NaN for a window with no observed value
    }
)


def shard_name(recording: Recording) -> str:
    """The shard file name of `recording` in its current state."""
    def digest(text: str, length: int) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:length]

    return f"{digest(recording.id, 20)}-{digest(recording.fingerprint, 8)}.parquet"


def shard_rows(recording: Recording, channel_names: list[str], chunks: list[dict[str, Any]]) -> pa.Table:
    """The shard table of `recording` from the windowed feature-extraction pipeline's `chunks`."""
    columns = {name: [] for name in SHARD_SCHEMA.names}
    for chunk in chunks:
        start, end = chunk["timestamp"]
        row = {"recording_id": recording.id, "source": recording.locator, "channel_names": channel_names,
               "start_s": start, "end_s": end, "start_time": chunk.get("start_time"), "end_time": chunk.get("end_time"),
               "observed_fraction": chunk["observed_fraction"], "embedding": chunk["sensor_embeds"]}
        for name, value in row.items():
            columns[name].append(value)
    return pa.table(columns, schema=SHARD_SCHEMA)


def write_shard(folder: Path, recording: Recording, table: pa.Table) -> Path:
    """Writes `table` as `recording`'s shard in `folder`, staged under a hidden name and renamed into place."""
    return write_atomically(folder / shard_name(recording), lambda staged: pq.write_table(table, staged))


def read_shards(folder: Path, names: list[str]) -> pa.Table:
    """The named shards of `folder`, concatenated in the order given."""
    tables = [pq.read_table(folder / name, schema=SHARD_SCHEMA) for name in names]
    return pa.concat_tables(tables) if tables else SHARD_SCHEMA.empty_table()


__all__ = ["SHARDS_DIR", "SHARD_SCHEMA", "read_shards", "shard_name", "shard_rows", "write_shard"]
