"""`slip` reports problems the user can fix as one line, `slip <command>: error: ...`, with exit status 2;
`--debug` adds the traceback, and bugs keep theirs."""

import os
from pathlib import Path
import subprocess
import sys

import pytest

from slip_sensor.cli import SUBCOMMANDS, main


def slip(*argv: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "slip_sensor.cli", *argv],
        capture_output=True, text=True, timeout=300, env={**os.environ, **env},
    )


def one_line_error(stderr: str, command: str) -> str:
    """The error line; fails unless it is the only line a user error printed (progress bars aside)."""
    lines = [line for line in stderr.splitlines() if line.strip() and "Loading weights" not in line]
    assert len(lines) == 1 and lines[0].startswith(f"slip {command}: error: "), stderr
    return lines[0]


def test_an_existing_out_folder_is_a_message(tmp_path, capsys):
    assert main(["build-corpus", "--out", str(tmp_path), "--n", "4", "--workers", "1"]) == 2
    line = one_line_error(capsys.readouterr().err, "build-corpus")
    assert f"{tmp_path} exists" in line and "--overwrite" in line


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["build-corpus", "--out", "c", "--n", "0"], "argument --n: must be at least 1, got 0"),
        (["build-corpus", "--out", "c", "--sources", "synthetic,nope"], "subset of synthetic,physio,aeon"),
        (["build-corpus", "--out", "c", "--val-fraction", "1.5"], "argument --val-fraction: must be in [0, 1)"),
        (["evaluate", "--seeds", "three"], "argument --seeds: expected an integer, got 'three'"),
    ],
)
def test_refused_arguments_are_one_line(argv, expected, tmp_path):
    result = slip(*argv)
    assert result.returncode == 2
    line = one_line_error(result.stderr, argv[0])
    assert expected in line and f"slip {argv[0]} --help" in line
    assert not (tmp_path / "c").exists()


def test_an_unknown_task_lists_the_known_ones(capsys):
    assert main(["evaluate", "--tasks", "basicmotions,nosuch", "--no-progress"]) == 2
    line = one_line_error(capsys.readouterr().err, "evaluate")
    assert "unknown task 'nosuch'" in line
    assert all(task in line for task in ("BasicMotions", "synthetic-attributes", "synthetic-lead", "retrieval"))


@pytest.mark.parametrize(
    "argv, name",
    [
        (["--model", "./nope"], "model './nope'"),
        (["--model", "runs/../nope/model"], "model 'runs/../nope/model'"),
        (["--tasks", "retrieval", "--corpus", "./nope"], "corpus './nope'"),
    ],
)
def test_a_missing_local_folder_is_not_a_hub_problem(argv, name, capsys):
    assert main(["evaluate", *argv, "--no-progress"]) == 2
    line = one_line_error(capsys.readouterr().err, "evaluate")
    assert f"{name} does not exist locally (a Hub id has the form owner/name)" in line
    assert "connect" not in line and "Hub:" not in line


def test_a_hub_id_that_cannot_be_fetched_says_so(tmp_path):
    result = slip("evaluate", "--model", "nobody/no-such-model", "--no-progress",
                  HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    assert result.returncode == 2
    line = one_line_error(result.stderr, "evaluate")
    assert "'nobody/no-such-model' is no local folder and could not be loaded from the Hugging Face Hub" in line


def test_a_folder_without_a_model_says_so(tmp_path, capsys):
    assert main(["evaluate", "--model", str(tmp_path), "--no-progress"]) == 2
    assert "is not a folder written by save_pretrained" in one_line_error(capsys.readouterr().err, "evaluate")


@pytest.mark.parametrize("position", ["before", "after"])
def test_debug_shows_the_traceback_of_user_errors(position):
    command = ["evaluate", "--model", "./nope"]
    result = slip(*(["--debug", *command] if position == "before" else [*command, "--debug"]))
    assert result.returncode == 2
    assert "Traceback (most recent call last)" in result.stderr and "UserError" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("slip evaluate: error: model './nope' does not exist")


def test_bugs_keep_their_traceback(monkeypatch):
    monkeypatch.setitem(SUBCOMMANDS, "crash", "tests.reliability.crashing_command")
    with pytest.raises(KeyError, match="missing"):
        main(["crash"])


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["export", "--model", "./nope", "--out", "{tmp}/out"], "model './nope' does not exist locally"),
        (["export", "--preset", "slip-tiny", "--results", "./nope.json", "--out", "{tmp}/out"],
         "results file './nope.json' does not exist"),
        (["convert-reference", "./nope.pt", "--out", "{tmp}/out"], "nope.pt' does not exist"),
        (["build-corpus", "--sources", "aeon", "--n", "100000", "--out", "{tmp}/out"], "aeon alone has"),
        (["push", "{tmp}", "--repo-id", "me/slip", "--dry-run"], "is not ready to upload"),
    ],
)
def test_export_convert_build_and_push_report_user_errors_in_one_line(command, message, tmp_path, capsys):
    assert main([part.replace("{tmp}", str(tmp_path)) for part in command]) == 2
    assert message in one_line_error(capsys.readouterr().err, command[0])
    assert not (tmp_path / "out").exists()


def test_training_scripts_report_user_errors_in_one_line(tmp_path):
    pretrain = Path(__file__).resolve().parents[2] / "training" / "pretrain.py"
    result = subprocess.run(
        [sys.executable, str(pretrain), "--output-dir", str(tmp_path), "--resume-from-checkpoint", "last"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("pretrain.py: error: ")
