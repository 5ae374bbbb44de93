"""`slip index` / `slip search` / `SlipIndex` on small CSV archives with the shipped slip-tiny: searching through the
CLI, text queries embedded as zero-shot prompts, "more like this", incremental runs, a run killed by SIGKILL and
resumed, two accelerate processes against one, dataset sources, and the refusals."""

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from slip_sensor.cli import main
from slip_sensor.errors import UserError
from slip_sensor.search import SearchHit, SlipIndex

RATE = 10.0  # Hz
WINDOW = ["--chunk-length-s", "10", "--no-progress"]


def write_recording(folder: Path, name: str, seconds: float = 60.0, seed: int = 0) -> Path:
    """A two-channel 10 Hz CSV recording with a time column; `name` picks its pattern."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    noise = rng.normal(0, 0.05, (2, len(t)))
    heart_rate, acc = {
        "cycling": (120 + 15 * np.sin(2 * np.pi * t / 2), np.sin(2 * np.pi * t)),  # period 2 s: all windows alike
        "resting": (60 + 10 * noise[0], noise[1]),
        "climbing": (60 + 1.5 * t, 0.1 * noise[1]),
        "spiky": (70 + 30 * (t % 7 < 0.3), noise[1]),
        "walking": (95 + 5 * np.sin(2 * np.pi * t / 30), 0.5 * np.sin(2 * np.pi * 1.8 * t)),
        "gap": (80 + noise[0], noise[1]),
    }[name]
    heart_rate, acc = heart_rate + noise[0], acc + noise[1]
    if name == "gap":  # no observed value from 20 s to 30 s: one window without data
        heart_rate[200:300] = acc[200:300] = np.nan
    times = pd.date_range("2024-05-01 08:00", periods=len(t), freq="100ms")
    path = folder / f"{name}.csv"
    pd.DataFrame({"time": times.strftime("%Y-%m-%dT%H:%M:%S.%f"), "heart_rate": heart_rate, "acc": acc}).to_csv(
        path, index=False)
    return path


def write_archive(folder: Path, names=("cycling", "resting", "climbing", "spiky", "gap")) -> Path:
    folder.mkdir(parents=True)
    for seed, name in enumerate(names):
        write_recording(folder, name, seed=seed)
    return folder


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(arg) for arg in argv])
    return status, out.getvalue(), err.getvalue()


def windows_of(index_dir: Path) -> tuple[list[tuple[str, float]], np.ndarray]:
    """(recording id, window start) of every indexed window, sorted, and their embeddings in that order."""
    windows = SlipIndex.load(index_dir).windows
    keys = list(zip(windows["recording_id"], windows["start_s"]))
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return [keys[i] for i in order], np.array(windows["embedding"], dtype=np.float32)[order]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def subprocess_env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return write_archive(tmp_path_factory.mktemp("archive") / "recordings")


@pytest.fixture(scope="module")
def built(archive, tmp_path_factory) -> tuple[Path, str]:
    """The archive indexed by `slip index` in this process, and what the command printed."""
    index_dir = tmp_path_factory.mktemp("index") / "index"
    status, out, err = run_cli("index", archive, "--out", index_dir, *WINDOW)
    assert status == 0, err
    return index_dir, out


def test_index_and_search_a_csv_folder_through_the_cli(built, tmp_path):
    index_dir, printed = built
    assert "5 recording(s), 29 windows indexed (1 without data left out" in printed
    assert "this run embedded 5 new or changed recording(s) (30 windows)" in printed
    assert len(SlipIndex.load(index_dir)) == 29

    status, out, _ = run_cli("search", index_dir, "the heart rate rises steadily", "--top-k", "4", "--json",
                             "--plot", tmp_path / "hits.png")
    assert status == 0
    hits = json.loads(out)
    assert [hit["rank"] for hit in hits] == [1, 2, 3, 4]
    assert [hit["score"] for hit in hits] == sorted((hit["score"] for hit in hits), reverse=True)
    for hit in hits:
        assert hit["end_s"] - hit["start_s"] == pytest.approx(10.0)
        assert hit["channel_names"] == ["heart_rate", "acc"] and hit["caption"] is None
        assert hit["start_time"].startswith("2024-05-01T08:") and hit["source"].endswith(hit["recording_id"])
    assert (tmp_path / "hits.png").stat().st_size > 20_000

    status, table, _ = run_cli("search", index_dir, "the heart rate rises steadily", "--top-k", "2", "--captions")
    lines = table.splitlines()
    assert lines[0].split() == ["rank", "score", "recording", "span", "timestamps"]
    assert lines[1].split()[2] == hits[0]["recording_id"] and lines[2].strip()  # the first hit, then its caption


def test_text_queries_score_windows_as_the_zero_shot_pipeline_does(built):
    """A hit's score is the cosine the zero-shot pipeline computes between that window and the query as a
    hypothesis: the text is embedded exactly as zero-shot prompts are."""
    from slip_sensor.recording_cli import drawn_signal, load_pipeline
    from slip_sensor.recordings import read_recording

    index = SlipIndex.load(built[0])
    query = "the heart rate stays flat while the person rests"
    hits = index.search(query, k=3)
    assert all(isinstance(hit, SearchHit) for hit in hits)
    classifier = load_pipeline("zero-shot-sensor-classification")
    for hit in hits:
        signal = drawn_signal(read_recording(hit.source), None)
        window = signal["sensors"][:, round(hit.start_s * RATE) : round(hit.end_s * RATE)]
        result = classifier({"sensors": window, "sampling_rate": RATE}, candidate_labels=[query],
                            hypothesis_template="{}", multi_label=True)
        assert 2 * result["scores"][0] - 1 == pytest.approx(hit.score, abs=1e-5)


def test_more_like_a_window_finds_the_other_windows_of_its_recording(built, archive):
    """The windows of the periodic recording are near-identical signals: a window of it finds its 5 siblings first,
    never itself."""
    status, out, _ = run_cli("search", built[0], "--like", archive / "cycling.csv", "--window", "20", "--top-k", "5",
                             "--json")
    assert status == 0
    hits = json.loads(out)
    assert [hit["recording_id"] for hit in hits] == ["cycling.csv"] * 5
    assert sorted(hit["start_s"] for hit in hits) == [0.0, 10.0, 30.0, 40.0, 50.0]
    status, _, err = run_cli("search", built[0], "--like", archive / "cycling.csv", "--window", "60")
    assert status == 2 and "--window 60 is outside" in err
    # the same through the API, with a recording as the query: the window itself now comes first
    index = SlipIndex.load(built[0])
    frame = pd.read_csv(archive / "cycling.csv", parse_dates=["time"]).iloc[200:300]
    best = index.search(frame, k=1)[0]
    assert (best.recording_id, best.start_s, best.score) == ("cycling.csv", 20.0, pytest.approx(1.0, abs=1e-5))


@pytest.mark.parametrize("index_type", ["ivf", "hnsw"])
def test_another_index_type_is_merged_from_the_same_shards(built, archive, tmp_path, index_type):
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(built[0], copy)
    index = SlipIndex.build(archive, copy, chunk_length_s=10.0, progress=False, index_type=index_type)
    assert index.report["index_type"] == index_type and index.report["last_run"]["embedded_recordings"] == 0
    assert type(index.windows.get_index("embedding").faiss_index).__name__ == {"ivf": "IndexIVFFlat",
                                                                               "hnsw": "IndexHNSWFlat"}[index_type]
    flat = SlipIndex.load(built[0])
    query = "a heart rate with regular spikes"
    assert [(h.recording_id, h.start_s) for h in index.search(query, k=5)] == \
        [(h.recording_id, h.start_s) for h in flat.search(query, k=5)]


def test_a_grown_or_changed_archive_embeds_only_what_is_new(tmp_path):
    archive = write_archive(tmp_path / "recordings", names=("cycling", "resting", "climbing"))
    out = tmp_path / "index"
    build = dict(chunk_length_s=10.0, progress=False)
    assert SlipIndex.build(archive, out, **build).report["last_run"]["embedded_recordings"] == 3
    marker = (out / ".slip-output.json").stat()
    marker = (marker.st_ino, marker.st_mtime_ns)

    write_recording(archive, "walking", seed=7)
    run = SlipIndex.build(archive, out, **build).report["last_run"]
    assert run == {"embedded_recordings": 1, "embedded_windows": 6, "unchanged_recordings": 3, "removed_recordings": 0,
                   "processes": 1}

    write_recording(archive, "climbing", seconds=40.0, seed=9)  # changed: its 6 old windows give way to 4 new ones
    (archive / "resting.csv").unlink()
    index = SlipIndex.build(archive, out, **build)
    assert index.report["last_run"] == {"embedded_recordings": 1, "embedded_windows": 4, "unchanged_recordings": 2,
                                        "removed_recordings": 1, "processes": 1}
    keys, _ = windows_of(out)
    assert len(keys) == len(set(keys)) == len(index) == 6 + 6 + 4
    assert sorted({key[0] for key in keys}) == ["climbing.csv", "cycling.csv", "walking.csv"]
    assert len(list((out / "shards").iterdir())) == 3
    assert SlipIndex.build(archive, out, **build).report["last_run"]["embedded_recordings"] == 0
    # the marker is written once: later runs leave it alone (other processes may be reading it)
    now = (out / ".slip-output.json").stat()
    assert (now.st_ino, now.st_mtime_ns) == marker and not list(out.glob(".*.tmp-*"))


def test_a_recording_that_cannot_be_read_is_skipped_and_named(tmp_path):
    archive = write_archive(tmp_path / "recordings", names=("resting",))
    (archive / "no-rate.csv").write_text("heart_rate,acc\n60,0.1\n61,0.2\n")  # no time column: no sampling rate
    out = tmp_path / "index"
    status, printed, err = run_cli("index", archive, "--out", out, *WINDOW)
    assert status == 0, err
    assert "1 recording(s), 6 windows indexed" in printed
    assert "skipped 1 recording(s) that could not be indexed (tried again on the next run): no-rate.csv: " in printed
    assert "needs the sampling rate" in printed
    report = json.loads((out / "windows" / "windows.json").read_text())
    assert [skip["recording_id"] for skip in report["skipped"]] == ["no-rate.csv"]
    assert report["last_run"]["embedded_recordings"] == 1

    write_recording(archive, "walking", seed=3).rename(archive / "no-rate.csv")  # fixed: the next run embeds it
    index = SlipIndex.build(archive, out, chunk_length_s=10.0, progress=False)
    assert index.report["skipped"] == [] and index.report["last_run"]["embedded_recordings"] == 1
    assert len(index) == 12

    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "no-rate.csv").write_text("heart_rate\n60\n")
    status, _, err = run_cli("index", tmp_path / "bad", "--out", tmp_path / "bad-index", *WINDOW)
    assert status == 2 and "none of the 1 recording(s) could be indexed: no-rate.csv" in err


def test_bad_build_arguments_are_refused_before_anything_is_embedded(archive, tmp_path):
    out = tmp_path / "index"
    for arguments, message in [({"stride_length_s": (1.0, 2.0)}, "give stride_length_s as one number"),
                               ({"stride_length_s": "1"}, "stride_length_s must be seconds"),
                               ({"chunk_length_s": None}, "chunk_length_s must be a positive number"),
                               ({"index_type": "annoy"}, "must be one of flat, ivf, hnsw")]:
        with pytest.raises(UserError, match=message):
            SlipIndex.build(archive, out, **{"chunk_length_s": 10.0, "progress": False, **arguments})
        assert not out.exists()


def test_a_mistyped_relative_path_is_not_mistaken_for_a_hub_dataset(tmp_path):
    result = subprocess.run([sys.executable, "-m", "slip_sensor.cli", "index", "data/recs", "--out", "index"],
                            cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "source 'data/recs': no such folder or file, and not a loadable Hub dataset" in result.stderr


def test_a_model_folder_without_weights_is_compared_by_its_path(tmp_path):
    from slip_sensor.search.slip_index import model_identity

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text("{}")
    first, second = model_identity(tmp_path / "a"), model_identity(tmp_path / "b")
    assert first == {"model": str((tmp_path / "a").resolve()), "model_sha256": None}
    assert second["model_sha256"] is None and second["model"] != first["model"]
    shipped = model_identity(None)
    assert shipped["model"] is None and len(shipped["model_sha256"]) == 64
def test_a_killed_run_resumes_without_embedding_a_window_twice(tmp_path):
    archive = write_archive(tmp_path / "recordings", names=("cycling", "resting", "climbing", "spiky"))
    options = ["--chunk-length-s", "2", "--batch-size", "1", "--no-progress"]  # 30 model calls per recording
    full, killed = tmp_path / "full", tmp_path / "killed"
    assert run_cli("index", archive, "--out", full, *options)[0] == 0

    process = subprocess.Popen([sys.executable, "-m", "slip_sensor.cli", "index", str(archive), "--out", str(killed),
                                *options], env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not list((killed / "shards").glob("*.parquet")) and time.time() < deadline:
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()
    finished = len(list((killed / "shards").glob("*.parquet")))
    assert 1 <= finished < 4 and not (killed / "windows").exists(), "the run was not killed mid-way"
    with pytest.raises(Exception, match="no merged windows yet"):
        SlipIndex.load(killed)

    status, out, _ = run_cli("index", archive, "--out", killed, *options)
    assert status == 0
    assert f"this run embedded {4 - finished} new or changed recording(s) ({(4 - finished) * 30} windows); " \
           f"{finished} unchanged" in out
    (keys, vectors), (expected_keys, expected) = windows_of(killed), windows_of(full)
    assert keys == expected_keys and len(keys) == len(set(keys)) == 4 * 30
    np.testing.assert_allclose(vectors, expected, atol=1e-6)


def test_two_accelerate_processes_index_what_one_process_does(built, archive, tmp_path):
    import shutil

    out = tmp_path / "index"
    archive = shutil.copytree(archive, tmp_path / "recordings")
    (archive / "zz-no-rate.csv").write_text("heart_rate,acc\n60,0.1\n")  # sorted last: the second process's
    # --multi_gpu is accelerate's torchrun launcher, which also starts CPU processes (--cpu starts only one)
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port",
               str(free_port()), "-m", "slip_sensor.cli", "index", str(archive), "--out", str(out), *WINDOW]
    result = subprocess.run(command, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("29 windows indexed") == 1  # the main process reports once
    assert "(30 windows) on 2 processes" in result.stdout
    assert "skipped 1 recording(s) that could not be indexed (tried again on the next run): zz-no-rate.csv" in \
        result.stdout
    (keys, vectors), (expected_keys, expected) = windows_of(out), windows_of(built[0])
    assert keys == expected_keys
    np.testing.assert_allclose(vectors, expected, atol=1e-6)


def test_a_datasets_dataset_is_indexed_row_by_row(archive, tmp_path):
    import datasets

    rows = {"name": [], "signal": []}
    for path in sorted(archive.glob("*.csv"))[:3]:
        rows["name"].append(path.stem)
        rows["signal"].append(pd.read_csv(path)[["heart_rate", "acc"]].to_numpy().T[:, :100].tolist())  # 10 s each
    datasets.Dataset.from_dict(rows).save_to_disk(str(tmp_path / "dataset"))
    index = SlipIndex.build(tmp_path / "dataset", tmp_path / "index", sampling_rate=RATE, chunk_length_s=10.0,
                            progress=False, sensor_column="signal", id_column="name")
    assert len(index) == 3 and index.report["last_run"]["embedded_windows"] == 3
    best = index.search({"sensors": np.array(rows["signal"][1]), "sampling_rate": RATE}, k=1)[0]
    assert (best.recording_id, best.source, best.score) == (rows["name"][1], "train[1]", pytest.approx(1.0, abs=1e-5))
    best.caption = None
    assert index.hit_signal(best)["sensors"].shape == (2, 100)

    # the rows reordered: every shard is reused, and each window points at its recording's new row
    import shutil

    reordered = {key: values[::-1] for key, values in rows.items()}
    datasets.Dataset.from_dict(reordered).save_to_disk(str(tmp_path / "reordered"))
    shutil.rmtree(tmp_path / "dataset")
    (tmp_path / "reordered").rename(tmp_path / "dataset")
    index = SlipIndex.build(tmp_path / "dataset", tmp_path / "index", sampling_rate=RATE, chunk_length_s=10.0,
                            progress=False, sensor_column="signal", id_column="name")
    assert index.report["last_run"]["embedded_recordings"] == 0
    best = index.search({"sensors": np.array(rows["signal"][0]), "sampling_rate": RATE}, k=1)[0]
    assert (best.recording_id, best.source) == (rows["name"][0], "train[2]")
    np.testing.assert_allclose(index.hit_signal(best)["sensors"], np.array(rows["signal"][0]), rtol=1e-6)


def test_a_slip_corpus_is_indexed_with_its_ids_and_rates(tmp_path):
    from slip_sensor.data import build_corpus, load_corpus

    build_corpus(tmp_path / "corpus", n=6, seed=0, sources=["synthetic"], workers=1)
    rows = load_corpus(tmp_path / "corpus", split="train")
    # one window per series, whatever its rate (the corpus holds daily to 100 Hz series)
    index = SlipIndex.build(tmp_path / "corpus", tmp_path / "index", chunk_length_s=1e9, progress=False)
    assert len(index) + index.report["windows_without_data"] == index.report["recordings"] == 6
    row = rows[0]
    best = index.search(row, k=1)[0]
    assert (best.recording_id, best.score) == (row["id"], pytest.approx(1.0, abs=1e-5))
    assert best.channel_names == row["channel_names"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model", "{other_model}"], "was built with the model the shipped slip-tiny"),
        (["--chunk-length-s", "5"], "was built with --chunk-length-s 10, not 5"),
        (["--stride-length-s", "2"], "was built with --stride-length-s 0, not 2"),
        (["--columns", "acc"], "an index follows one source"),
    ],
)
def test_an_index_is_extended_only_with_its_model_windows_and_source(built, archive, tiny_model_dir, argv, message):
    argv = [arg.format(other_model=tiny_model_dir) for arg in argv]
    status, _, err = run_cli("index", archive, "--out", built[0], "--chunk-length-s", "10", "--no-progress", *argv)
    assert status == 2 and message in err, err
    assert SlipIndex.load(built[0]).report["last_run"]["embedded_recordings"] == 5  # unchanged


def test_searching_with_another_model_is_refused(built, tiny_model_dir):
    status, _, err = run_cli("search", built[0], "walking", "--model", tiny_model_dir)
    assert status == 2 and "was built with the model" in err


def test_sources_and_folders_that_cannot_be_indexed_are_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.xyz").write_text("1,2,3\n")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "mine.txt").write_text("keep me\n")
    archive = write_archive(tmp_path / "recordings", names=("resting",))
    cases = [
        ([tmp_path / "empty", "--out", tmp_path / "i1"], "no recordings in"),
        ([tmp_path / "notes", "--out", tmp_path / "i2"], "it holds only .xyz files"),
        ([tmp_path / "notes" / "a.xyz", "--out", tmp_path / "i3"], "has an unknown format '.xyz'"),
        ([tmp_path / "missing", "--out", tmp_path / "i4"], "does not exist"),
        ([archive, "--out", tmp_path / "foreign"], "did not write"),
        ([archive, "--out", tmp_path / "i5", "--id-column", "name"], "--id-column and --rate-column name dataset"),
    ]
    for argv, message in cases:
        status, _, err = run_cli("index", *argv, *WINDOW)
        assert status == 2 and message in err, (argv, err)
    assert (tmp_path / "foreign" / "mine.txt").read_text() == "keep me\n"
    assert run_cli("search", tmp_path / "empty", "walking")[2].count("is not a SLIP index") == 1
    assert "not both or neither" in run_cli("search", tmp_path / "empty")[2]
    assert "give --like too" in run_cli("search", tmp_path / "empty", "walking", "--window", "10")[2]
