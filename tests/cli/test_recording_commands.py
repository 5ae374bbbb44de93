"""`slip caption`, `slip classify` and `slip embed` on real files (CSV with a time column and a NaN gap, parquet
with a DatetimeIndex, npy): per-window results with their time spans in JSON, CSV, PNG and parquet; user mistakes
are one line with exit status 2, and outputs never replace files the commands did not write."""

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from slip_sensor.cli import main
from tests.reliability.test_cli_errors import one_line_error

RATE, SECONDS, CHUNK_S = 20, 12, 4  # three 4-s windows (the commands' windows tile by default)
CHANNELS = ["heart_rate", "accel_x", "accel_y"]


@pytest.fixture(scope="module")
def model_dir(tiny_model_dir):
    return str(tiny_model_dir)


def signals() -> np.ndarray:
    t = np.arange(RATE * SECONDS) / RATE
    values = np.stack([70 + 5 * np.sin(2 * np.pi * t / SECONDS), np.sin(2 * np.pi * 2 * t), np.cos(2 * np.pi * t)])
    values[1, 5 * RATE : 7 * RATE] = np.nan  # a sensor dropout in the second window
    return values


def table() -> pd.DataFrame:
    index = pd.date_range("2024-05-01 08:00", periods=RATE * SECONDS, freq=f"{1000 // RATE}ms")
    return pd.DataFrame(dict(zip(CHANNELS, signals())), index=pd.DatetimeIndex(index, name="time"))


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "walk.csv"
    table().reset_index().to_csv(path, index=False)  # a `time` column of timestamps
    return path


def check_spans(chunks: list) -> None:
    spans = [tuple(chunk["timestamp"]) for chunk in chunks]
    assert len(spans) == SECONDS // CHUNK_S
    expected = [(start, start + CHUNK_S) for start in range(0, SECONDS, CHUNK_S)]
    assert np.allclose(np.asarray(spans, dtype=float), expected, atol=1e-6)


def slip(*argv) -> int:
    return main([*map(str, argv), "--no-progress"])


def test_caption_writes_a_caption_per_window_as_json_csv_and_picture(csv_file, model_dir, tmp_path):
    out = tmp_path / "captions"
    assert slip("caption", csv_file, "--model", model_dir, "--out", out, "--chunk-length-s", CHUNK_S,
                "--max-new-tokens", 4) == 0
    result = json.loads((out / "walk.json").read_text())
    assert result["channel_names"] == CHANNELS and result["file"] == str(csv_file)
    check_spans(result["chunks"])
    with open(out / "walk.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    check_spans([{"timestamp": (float(row["start_s"]), float(row["end_s"]))} for row in rows])
    assert [row["generated_text"] for row in rows] == [chunk["generated_text"].strip() for chunk in result["chunks"]]
    assert float(rows[1]["observed_fraction"]) < 1 == float(rows[2]["observed_fraction"])  # the dropout's window
    assert (out / "walk.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_classify_scores_each_window_of_a_parquet_or_csv_file(suffix, model_dir, tmp_path):
    path = tmp_path / f"day{suffix}"
    if suffix == ".parquet":
        table().to_parquet(path)  # the DatetimeIndex gives the rate
    else:
        table().reset_index().to_csv(path, index=False)  # the `time` column gives it
    out = tmp_path / "classes"
    assert slip("classify", path, "--model", model_dir, "--out", out, "--chunk-length-s", CHUNK_S,
                "--labels", "walking,running,sitting", "--columns", "heart_rate,accel_y") == 0
    result = json.loads((out / "day.json").read_text())
    assert result["channel_names"] == ["heart_rate", "accel_y"]
    check_spans(result["chunks"])
    rows = list(csv.DictReader(open(out / "day.csv", newline="")))
    for row in rows:
        scores = {label: float(row[f"score:{label}"]) for label in ("walking", "running", "sitting")}
        assert sum(scores.values()) == pytest.approx(1, abs=1e-4) and row["top_label"] == max(scores, key=scores.get)
    assert (out / "day.png").is_file()


def test_embed_writes_one_parquet_row_per_window_of_every_file(csv_file, model_dir, tmp_path):
    array = tmp_path / "ecg.npy"
    np.save(array, signals())  # no timestamps: --sampling-rate gives the rate
    out = tmp_path / "emb.parquet"
    argv = ["embed", csv_file, array, "--model", model_dir, "--out", out, "--chunk-length-s", CHUNK_S,
            "--sampling-rate", RATE]
    assert slip(*argv) == 0
    rows = pq.read_table(out).to_pandas()
    assert list(rows.columns) == ["file", "start_s", "end_s", "observed_fraction", "embedding"]
    for path in (csv_file, array):
        windows = rows[rows.file == str(path)]
        check_spans([{"timestamp": span} for span in zip(windows.start_s, windows.end_s)])
    embeddings = np.stack(rows.embedding)
    assert embeddings.shape[1] == json.loads((Path(model_dir) / "config.json").read_text())["projection_dim"] and np.isfinite(embeddings).all()
    assert slip(*argv) == 0  # its own earlier output is replaced


def test_outputs_never_replace_files_the_commands_did_not_write(csv_file, model_dir, tmp_path, capsys):
    notes = tmp_path / "notes.parquet"
    notes.write_text("my notes")
    assert slip("embed", csv_file, "--model", model_dir, "--out", notes) == 2
    assert "was not written by `slip embed`" in one_line_error(capsys.readouterr().err, "embed")
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "walk.json").write_text("{}")
    assert slip("caption", csv_file, "--model", model_dir, "--out", folder) == 2
    assert "did not write" in one_line_error(capsys.readouterr().err, "caption")
    assert notes.read_text() == "my notes" and (folder / "walk.json").read_text() == "{}"


@pytest.mark.parametrize("command", [["caption"], ["classify", "--labels", "a,b"], ["embed"]])
def test_a_missing_file_or_column_is_one_line(command, csv_file, model_dir, tmp_path, capsys):
    common = ["--model", model_dir, "--out", tmp_path / "out.parquet" if command[0] == "embed" else tmp_path / "out"]
    assert slip(*command, tmp_path / "nope.csv", *common) == 2
    assert "nope.csv' does not exist" in one_line_error(capsys.readouterr().err, command[0])
    assert slip(*command, csv_file, "--columns", "heart_rate,pulse", *common) == 2
    line = one_line_error(capsys.readouterr().err, command[0])
    assert "no column 'pulse'" in line and "accel_x" in line and "--columns" in line
