"""Corpus builds and loading: determinism, atomic writes, schema, streaming, the authors' layout, no eval leakage."""

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from slip_sensor.data import (
    CORPUS_FEATURES,
    CorpusLoadError,
    build_corpus,
    list_labelled_datasets,
    load_corpus,
    load_labelled_dataset,
)
from slip_sensor.data.builder import allocate, plan_rows
from slip_sensor.data.corpus_schema import INFO_FILE, row_sensor
from slip_sensor.data.aeon_datasets import pretraining_size
from slip_sensor.output_folders import OutputFolderError

N = 48


def shard_bytes(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((path / "data").glob("*.parquet"))}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "c"
    build_corpus(path, n=N, seed=0, workers=1, val_fraction=0.1)
    return path


@pytest.fixture()
def cache(tmp_path) -> str:
    return str(tmp_path / "hf-cache")


def test_same_seed_same_corpus_other_seed_other_corpus(corpus, tmp_path, cache):
    build_corpus(tmp_path / "again", n=N, seed=0, workers=1, val_fraction=0.1)
    build_corpus(tmp_path / "other", n=N, seed=1, workers=1, val_fraction=0.1)
    assert shard_bytes(tmp_path / "again") == shard_bytes(corpus)
    assert json.loads((tmp_path / "again" / "corpus_info.json").read_text()) == json.loads(
        (corpus / "corpus_info.json").read_text()
    )
    first = load_corpus(corpus, split="train", cache_dir=cache)
    other = load_corpus(tmp_path / "other", split="train", cache_dir=cache)
    assert [i for i in first["id"] if not i.startswith("aeon")] == [i for i in other["id"] if not i.startswith("aeon")]
    assert list(first["caption"]) != list(other["caption"]) and list(first["sensor"]) != list(other["sensor"])


def test_worker_count_does_not_change_the_corpus(corpus, tmp_path):
    build_corpus(tmp_path / "parallel", n=N, seed=0, workers=2, val_fraction=0.1)
    assert shard_bytes(tmp_path / "parallel") == shard_bytes(corpus)


def test_schema_rows_and_summary(corpus, cache):
    info = json.loads((corpus / "corpus_info.json").read_text())
    corpus_dict = load_corpus(corpus, cache_dir=cache)
    assert set(corpus_dict) == {"train", "validation"}
    assert {k: len(v) for k, v in corpus_dict.items()} == info["rows_per_split"]
    assert sum(info["rows_per_source"].values()) == info["rows"] == N
    train = corpus_dict["train"]
    assert train.features == CORPUS_FEATURES
    sources = [s.split("/")[0] for s in list(train["source"]) + list(corpus_dict["validation"]["source"])]
    assert {s: sources.count(s) for s in set(sources)} == info["rows_per_source"]
    assert {s.split("/")[0] for s in corpus_dict["validation"]["source"]} <= {"synthetic", "physio"}
    for row in train:
        sensor = row_sensor(row)
        assert sensor.shape == (row["num_channels"], row["length"])
        assert sensor.shape[0] == len(row["channel_names"]) == len(row["channel_units"])
        assert row["sampling_rate"] > 0 and row["split"] == "train" and row["caption"]
        assert row["caption"].startswith(row["caption_semantic"])
        assert len(row["paraphrases"]) == 3
        facts = json.loads(row["facts"])
        assert facts["length"] == sensor.shape[1] and len(facts["channels"]) == sensor.shape[0]
    words = sum(len(c.split()) for c in list(train["caption"]) + list(corpus_dict["validation"]["caption"]))
    assert words == info["caption_words"]
    for index in range(3):  # the numpy format gives the same [channels, time] array
        as_numpy = row_sensor(train.with_format("numpy")[index])
        assert as_numpy.dtype == np.float32 and np.array_equal(as_numpy, row_sensor(train[index]), equal_nan=True)


def test_streaming_reads_the_same_rows(corpus, cache):
    eager = load_corpus(corpus, split="train", cache_dir=cache)
    streamed = load_corpus(corpus, split="train", streaming=True)
    assert type(streamed).__name__ == "IterableDataset"
    rows = list(streamed)
    assert [r["id"] for r in rows] == list(eager["id"]) and [r["caption"] for r in rows] == list(eager["caption"])
    assert rows[5]["sensor"] == eager[5]["sensor"]


def test_evaluation_data_never_enters_a_corpus(tmp_path, cache):
    path = tmp_path / "real"
    build_corpus(path, n=120, seed=0, sources=["aeon"], workers=1)
    rows = load_corpus(path, split="train", cache_dir=cache)
    assert len(rows) == 120 and all(s.endswith("/train") for s in rows["source"])
    assert {s.split("/")[1] for s in rows["source"]} == set(list_labelled_datasets())  # a seeded mix of all
    seen = {row_sensor(row).tobytes() for row in rows}
    train = {x.tobytes() for name in list_labelled_datasets() for x in load_labelled_dataset(name).train_sensors}
    test = {x.tobytes() for name in list_labelled_datasets() for x in load_labelled_dataset(name).test_sensors}
    assert len(seen) == 120 and seen <= train and not seen & (test - train)


def test_allocation_and_plan():
    counts = allocate(10_000, ["synthetic", "physio", "aeon"])
    assert sum(counts.values()) == 10_000 and counts["aeon"] == pretraining_size()
    assert counts["synthetic"] > counts["physio"] > counts["aeon"]
    assert allocate(7, ["physio"]) == {"physio": 7}
    plan = plan_rows(1000, ["synthetic", "aeon"], val_fraction=0.05)
    assert {s for s, _ in plan["validation"]} == {"synthetic"}
    assert len(plan["train"]) + len(plan["validation"]) == 1000
    with pytest.raises(ValueError, match="aeon alone"):
        allocate(pretraining_size() + 1, ["aeon"])
    with pytest.raises(ValueError, match="unknown sources"):
        allocate(10, ["synthetic", "web"])


def test_existing_folder_needs_overwrite(tmp_path, cache):
    path = tmp_path / "c"
    build_corpus(path, n=6, seed=0, sources=["synthetic"])
    with pytest.raises(OutputFolderError, match="overwrite"):
        build_corpus(path, n=6, seed=1, sources=["synthetic"])
    build_corpus(path, n=8, seed=1, sources=["synthetic"], overwrite=True)
    assert len(load_corpus(path, split="train", cache_dir=cache)) == 8
    assert {p.name for p in tmp_path.iterdir()} <= {"c", "hf-cache"}  # no temporary or old folder is left


def test_a_killed_build_leaves_nothing_that_loads(tmp_path):
    path = tmp_path / "killed"
    build = multiprocessing.get_context("fork").Process(
        target=build_corpus, args=(path,), kwargs=dict(n=5000, seed=0, sources=["synthetic"], workers=1)
    )
    build.start()
    temporary = tmp_path / f".killed.tmp-{build.pid}"
    deadline = time.monotonic() + 60
    while not list(temporary.glob("data/*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(temporary.glob("data/*.parquet")), "the build should have started writing"
    build.kill()
    build.join()
    assert not path.exists()
    with pytest.raises(CorpusLoadError):
        load_corpus(path)
    with pytest.raises(CorpusLoadError, match="not a complete corpus"):
        load_corpus(temporary)
    build_corpus(path, n=4, seed=0, sources=["synthetic"])  # the next build clears the dead one's folder
    assert not temporary.exists() and len(load_corpus(path, split="train")) == 4


def write_authors_layout(root: Path) -> None:
    """A small dataset in the layout of LeoChen085/SlipDataset (column names and meta.csv as the reference reads)."""
    (root / "data").mkdir(parents=True)
    univariate = pa.table({
        "time_series": [[0.0, 1.0, 2.0, 3.0], [5.0, 4.0, 3.0]],
        "caption0": ["rises", "falls"],
        "caption1": ["goes up", ""],
        "caption2": ["climbs", None],
        "caption3": ["increases", "drops"],
        "category": ["Energy", "Health"],
        "dataset": ["ETTh1", "Unlisted"],
    })
    multivariate = pa.table({
        "time_series": [[[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]],
        "caption0": ["two channels"],
        "caption1": ["a pair"],
        "caption2": ["b pair"],
        "caption3": ["c pair"],
        "category": ["Health"],
        "dataset": ["WESAD"],
    })
    pq.write_table(univariate, root / "data" / "train-00000-of-00002.parquet")
    pq.write_table(multivariate, root / "data" / "train-00001-of-00002.parquet")
    pd.DataFrame({"Domain": ["Energy", "Health"], "Dataset": ["ETTh1", "WESAD"], "patch_size": [24, 16],
                  "Description": ["hourly load", "wearables"]}).to_csv(root / "meta.csv", index=False)


@pytest.mark.parametrize("streaming", [False, True])
def test_reader_for_the_authors_layout(tmp_path, streaming):
    write_authors_layout(tmp_path / "slip")
    rows = list(load_corpus(tmp_path / "slip", split="train", streaming=streaming, cache_dir=str(tmp_path / "cache")))
    assert [r["caption"] for r in rows] == ["rises", "falls", "two channels"]
    assert [r["paraphrases"] for r in rows] == [["goes up", "climbs", "increases"], ["drops"], ["a pair", "b pair", "c pair"]]
    assert [row_sensor(r).tolist() for r in rows] == [
        [[0.0, 1.0, 2.0, 3.0]], [[5.0, 4.0, 3.0]], [[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]
    ]
    assert [(r["num_channels"], r["length"]) for r in rows] == [(1, 4), (1, 3), (2, 3)]
    assert [r["patch_size"] for r in rows] == [24, 64, 16]  # meta.csv, else the reference's default 64
    assert [r["domain"] for r in rows] == ["Energy", "Health", "Health"]
    assert [r["source"] for r in rows] == ["slipdataset/ETTh1", "slipdataset/Unlisted", "slipdataset/WESAD"]
    assert all(r["sampling_rate"] is None and r["split"] == "train" for r in rows)
    assert len({r["id"] for r in rows}) == 3


def test_missing_paths_and_offline_hub_ids_fail_clearly(tmp_path):
    with pytest.raises(CorpusLoadError, match="neither a corpus directory nor a Hub dataset id"):
        load_corpus(tmp_path / "nothing" / "here")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    code = "from slip_sensor.data import load_corpus; load_corpus('LeoChen085/SlipDataset', split='train')"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "CorpusLoadError" in result.stderr and "could not load 'LeoChen085/SlipDataset' from the Hugging Face Hub" in result.stderr


def test_a_corpus_of_an_older_format_asks_for_a_rebuild(corpus, tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    info = json.loads((corpus / INFO_FILE).read_text())
    (old / INFO_FILE).write_text(json.dumps({**info, "version": 1}))
    with pytest.raises(CorpusLoadError, match="v1 stored series time-first.*slip build-corpus"):
        load_corpus(old)
