"""Files the package writes and reads: a corpus is reused only when it matches the run, a corrupt shard is named
instead of loading as zeros, an output folder is replaced only when it holds an earlier output of ours (and never
half-written), and non-finite weights never reach a Hub folder."""

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from slip_sensor import cli
from slip_sensor.data.builder import build_corpus, ensure_corpus
from slip_sensor.data.corpus import load_corpus, read_corpus_info
from slip_sensor.data.corpus_schema import INFO_FILE, SHARD_CHECKSUMS, CorpusLoadError, row_sensor
from slip_sensor.errors import UserError
from slip_sensor.hub_export import export_hub_folder, preset_model
from slip_sensor.hub_folder import validate_hub_folder
from slip_sensor.output_folders import OutputFolderError
from slip_sensor.training.api import prepare_corpus
from slip_sensor.training.arguments import DataArguments, TrainingArguments

SOURCES = ["synthetic"]  # generated on demand: the fastest source


def unrelated_file(folder: Path) -> Path:
    """A file of the user's in `folder`, which no command of ours may delete."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("my notes")
    return folder / "notes.txt"


def siblings(folder: Path) -> set[str]:
    return {path.name for path in folder.parent.iterdir()}


def run_arguments(output_dir: Path, **data) -> tuple[DataArguments, TrainingArguments]:
    return DataArguments(corpus_sources=",".join(SOURCES), **data), TrainingArguments(str(output_dir), use_cpu=True)


# --- no stale reuse ---------------------------------------------------------------------------------------------


def test_training_rebuilds_a_corpus_built_with_other_arguments(tmp_path, caplog):
    corpus = tmp_path / "run" / "corpus"
    assert prepare_corpus(*run_arguments(tmp_path / "run", corpus_size=24)) == str(corpus)
    built = read_corpus_info(corpus)
    assert built["rows"] == built["n"] == 24 and built["sources"] == SOURCES

    prepare_corpus(*run_arguments(tmp_path / "run", corpus_size=24))  # same arguments: reused as it is
    assert read_corpus_info(corpus) == built and "Rebuilding" not in caplog.text

    with caplog.at_level(logging.WARNING):
        prepare_corpus(*run_arguments(tmp_path / "run", corpus_size=32))
    assert read_corpus_info(corpus)["rows"] == 32
    assert f"Rebuilding the corpus in {corpus}: it was built with n=24; this run asks for n=32" in caplog.text

    with caplog.at_level(logging.WARNING):
        prepare_corpus(*run_arguments(tmp_path / "run", corpus_size=32, corpus_seed=1))
    assert read_corpus_info(corpus)["seed"] == 1 and "seed=0; this run asks for seed=1" in caplog.text
    assert siblings(corpus) == {"corpus"}  # no temporary or replaced folder is left


def test_a_corpus_passed_explicitly_is_never_rebuilt(tmp_path):
    mine = tmp_path / "mine"
    build_corpus(mine, n=24, seed=0, sources=SOURCES)
    data_args, training_args = run_arguments(tmp_path / "run", corpus=str(mine), corpus_size=32, corpus_seed=5)
    assert prepare_corpus(data_args, training_args) == str(mine)
    assert read_corpus_info(mine)["rows"] == 24 and not (tmp_path / "run" / "corpus").exists()


def test_a_corpus_of_an_older_format_is_rebuilt(tmp_path, caplog):
    corpus = tmp_path / "corpus"
    info = ensure_corpus(corpus, n=24, seed=0, sources=SOURCES)
    (corpus / INFO_FILE).write_text(json.dumps({**info, "version": 1}))
    with caplog.at_level(logging.WARNING):
        assert ensure_corpus(corpus, n=24, seed=0, sources=SOURCES)["version"] == info["version"]
    assert "Rebuilding" in caplog.text and "v1" in caplog.text


def test_the_training_corpus_folder_is_never_a_folder_of_other_files(tmp_path):
    notes = unrelated_file(tmp_path / "run" / "corpus")
    with pytest.raises(OutputFolderError, match="did not write"):
        prepare_corpus(*run_arguments(tmp_path / "run", corpus_size=24))
    with pytest.raises(OutputFolderError, match="did not write"):
        build_corpus(notes.parent, n=24, sources=SOURCES, overwrite=True)
    assert notes.read_text() == "my notes" and siblings(notes.parent) == {"corpus"}


# --- corpus integrity -------------------------------------------------------------------------------------------


@pytest.fixture()
def corpus(tmp_path) -> Path:
    path = tmp_path / "corpus"
    build_corpus(path, n=24, seed=0, sources=SOURCES)
    return path


def zero_bytes(shard: Path, count: int = 512) -> None:
    """Overwrite `count` bytes a quarter into `shard` with zeros, as a failing disk or a truncated copy does."""
    data = bytearray(shard.read_bytes())
    start = len(data) // 4
    data[start : start + count] = bytes(count)
    shard.write_bytes(bytes(data))


def test_a_shard_with_zeroed_bytes_is_named_instead_of_loading_as_zeros(corpus, tmp_path):
    shard = corpus / "data" / "train-00000-of-00001.parquet"
    assert list(read_corpus_info(corpus)[SHARD_CHECKSUMS]) == ["data/train-00000-of-00001.parquet"]
    intact = [row_sensor(row) for row in load_corpus(corpus, split="train", cache_dir=str(tmp_path / "cache-1"))]
    zero_bytes(shard)
    with pytest.raises(CorpusLoadError, match=f"{shard} is corrupt.*rebuild the corpus"):
        load_corpus(corpus, split="train", cache_dir=str(tmp_path / "cache-2"))
    # unchecked, the same shard loads without a complaint, some values silently zero
    unchecked = load_corpus(corpus, split="train", cache_dir=str(tmp_path / "cache-3"), verify=False)
    changed = [(a, row_sensor(b)) for a, b in zip(intact, unchecked) if not np.array_equal(a, row_sensor(b), equal_nan=True)]
    assert changed and all((b == 0).sum() > (a == 0).sum() for a, b in changed)


def test_a_missing_shard_is_named(corpus):
    shard = corpus / "data" / "train-00000-of-00001.parquet"
    shard.unlink()
    with pytest.raises(CorpusLoadError, match=f"{shard} is missing"):
        load_corpus(corpus, split="train")


def test_a_corpus_built_before_checksums_loads_unverified(corpus, tmp_path):
    info = read_corpus_info(corpus)
    (corpus / INFO_FILE).write_text(json.dumps({key: value for key, value in info.items() if key != SHARD_CHECKSUMS}))
    assert len(load_corpus(corpus, split="train", cache_dir=str(tmp_path / "cache"))) == info["rows_per_split"]["train"]


# --- never delete what we did not make --------------------------------------------------------------------------


def export(out: Path, *extra: str) -> int:
    return cli.main(["export", "--preset", "slip-tiny", "--out", str(out), *extra])


def contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.mark.parametrize("flags", [[], ["--overwrite"]])
def test_export_never_writes_into_or_replaces_a_folder_it_did_not_write(tmp_path, capsys, flags):
    notes = unrelated_file(tmp_path / "out")
    assert export(notes.parent, *flags) == 2
    error = capsys.readouterr().err
    assert f"{notes.parent} holds files that `slip export` did not write" in error and "nothing was changed" in error
    assert contents(notes.parent) == {"notes.txt": b"my notes"} and siblings(notes.parent) == {"out"}


def test_a_failed_export_leaves_the_earlier_one_as_it_was(tmp_path):
    out = tmp_path / "out"
    assert export(out) == 0
    earlier = contents(out)
    # the folder check at the very end refuses the card (a base model that is not a Hub id): all else is written
    with pytest.raises(RuntimeError, match="base_model entry 'not a hub id'"):
        export(out, "--overwrite", "--base-model", "not a hub id")
    assert contents(out) == earlier and siblings(out) == {"out"}
    with pytest.raises(RuntimeError):
        export(tmp_path / "new", "--base-model", "not a hub id")
    assert siblings(out) == {"out"}  # no half-written folder


@pytest.mark.parametrize("flags", [[], ["--overwrite"]])
def test_demo_never_writes_into_or_deletes_a_folder_it_did_not_write(tmp_path, capsys, flags):
    notes = unrelated_file(tmp_path / "runs")
    assert cli.main(["demo", "--out", str(notes.parent), *flags]) == 2
    assert f"{notes.parent} holds files that `slip demo` did not write" in capsys.readouterr().err
    assert contents(notes.parent) == {"notes.txt": b"my notes"}


# --- export and push refuse non-finite weights ------------------------------------------------------------------

TENSOR = "slip.sensor_model.embeddings.hidden_proj.weight"


def test_export_refuses_a_model_with_non_finite_weights(tmp_path):
    model, processor = preset_model("slip-tiny", seed=0)
    with torch.no_grad():
        model.get_parameter(TENSOR)[0, :3] = torch.tensor([float("nan"), float("inf"), 1.0])
    with pytest.raises(UserError, match=f"Nothing was exported.*tensor {TENSOR} has 2 NaN or infinite values"):
        export_hub_folder(model, processor, tmp_path / "out", {})
    assert not (tmp_path / "out").exists()


def test_check_and_push_refuse_a_folder_with_non_finite_weights(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "hub"
    assert export(folder) == 0
    weights = folder / "model.safetensors"
    with safe_open(weights, framework="pt") as file:
        metadata, tensors = file.metadata(), {key: file.get_tensor(key) for key in file.keys()}
    tensors[TENSOR][0, 0] = float("nan")
    save_file(tensors, weights, metadata=metadata)
    assert any(f"model.safetensors: weights are not finite: tensor {TENSOR}" in p for p in validate_hub_folder(folder))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert cli.main(["push", str(folder), "--repo-id", "me/slip-tiny", "--dry-run"]) == 2
    assert f"tensor {TENSOR} has 1 NaN or infinite values" in capsys.readouterr().err
