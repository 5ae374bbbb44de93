"""`slip build-corpus`: arguments, summary output, and a loadable corpus."""

import json

import pytest

from slip_sensor.cli import main
from slip_sensor.data import load_corpus
from slip_sensor.data.build_corpus_cli import HELP


def test_build_corpus_command_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "corpus"
    assert main(["build-corpus", "--out", str(out), "--n", "12", "--seed", "3", "--sources", "synthetic,physio",
                 "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    info = json.loads((out / "corpus_info.json").read_text())
    assert f"rows: 12 (train {info['rows_per_split']['train']}" in printed
    assert f"rows per source: physio {info['rows_per_source']['physio']}, synthetic {info['rows_per_source']['synthetic']}" in printed
    assert f"caption tokens (whitespace words): {info['caption_words']}" in printed
    assert "seconds: " in printed and "rows/s with 1 workers" in printed
    assert info["seed"] == 3 and info["sources"] == ["synthetic", "physio"]
    assert len(load_corpus(out, split="train", cache_dir=str(tmp_path / "cache"))) == info["rows_per_split"]["train"]
    assert main(["build-corpus", "--out", str(out), "--n", "4", "--workers", "1"]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_help_describes_the_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["build-corpus", "--help"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    assert HELP in printed.replace("\n", " ") or HELP.split(" (")[0] in printed
    for flag in ("--out", "--n", "--seed", "--sources", "--workers", "--overwrite"):
        assert flag in printed
