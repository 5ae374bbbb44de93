"""Evaluation numbers are real numbers: arguments that would yield NaN (no seeds) or cannot run are refused up front,
the results JSON is strict, and neither it nor a model card ever carries a NaN."""

import copy
import json
import math

import pytest
from huggingface_hub import ModelCard

from slip_sensor import SlipConfig
from slip_sensor.cli import main
from slip_sensor.errors import UserError
from slip_sensor.evaluation.harness import EvaluationInputError, evaluate_model, write_results
from slip_sensor.hub_cards.model_card import ResultsError, build_model_card, validate_model_card

NAN_FIELD = "tasks.synthetic-lead.linear_probe.accuracy_std"


def strict_json(text: str):
    def refuse(constant: str):
        raise AssertionError(f"{constant} in the results JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def evaluated(tiny_model_dir, tmp_path_factory):
    """A real `slip evaluate` run: its results JSON path."""
    out = tmp_path_factory.mktemp("evaluated") / "results.json"
    argv = ["evaluate", "--model", str(tiny_model_dir), "--tasks", "synthetic-lead", "--seeds", "2", "--out", str(out)]
    assert main([*argv, "--no-progress"]) == 0
    return out


def with_nan(results: dict) -> dict:
    broken = copy.deepcopy(results)
    broken["tasks"]["synthetic-lead"]["linear_probe"]["accuracy_std"] = math.nan
    return broken


@pytest.mark.parametrize("option", ["--seeds", "--batch-size", "--caption-samples", "--retrieval-max-rows"])
def test_counts_must_be_at_least_one(option, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", option, "0"])
    assert exit_info.value.code == 2
    assert f"slip evaluate: error: argument {option}: must be at least 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    "device, problem",
    [("nosuch", "unknown torch device 'nosuch'"), ("cuda:99", "device 'cuda:99' does not exist on this machine")],
)
def test_devices_must_be_known_and_present(device, problem, capsys):
    assert main(["evaluate", "--device", device, "--no-progress"]) == 2
    assert problem in capsys.readouterr().err


@pytest.mark.parametrize("seeds", [0, []])
def test_the_api_refuses_no_seeds(tiny_model_dir, seeds):
    with pytest.raises(EvaluationInputError, match="at least one seed"):
        evaluate_model(tiny_model_dir, tasks=["synthetic-lead"], seeds=seeds, progress=False)


def test_the_results_json_is_strict(evaluated):
    results = strict_json(evaluated.read_text())
    assert results["tasks"]["synthetic-lead"]["linear_probe"]["seeds"] == [0, 1]
    assert "nan" not in evaluated.with_suffix(".md").read_text()


def test_a_nan_is_refused_not_written(evaluated, tmp_path):
    out = tmp_path / "results.json"
    with pytest.raises(ValueError, match=f"not written: \\['{NAN_FIELD} = nan'\\]"):
        write_results(with_nan(strict_json(evaluated.read_text())), out)
    assert not out.exists() and not out.with_suffix(".md").exists()


def test_the_model_card_refuses_a_nan(evaluated):
    with pytest.raises(ResultsError, match=f"not finite: \\['{NAN_FIELD} = nan'\\]") as error_info:
        build_model_card(SlipConfig.from_preset("slip-tiny"), results=with_nan(strict_json(evaluated.read_text())))
    assert isinstance(error_info.value, UserError)  # `slip export --results` prints it as one line


def test_card_validation_names_a_non_finite_metric(evaluated, tmp_path):
    card = build_model_card(SlipConfig.from_preset("slip-tiny"), results=strict_json(evaluated.read_text()))
    path = tmp_path / "README.md"
    card.save(path)
    assert validate_model_card(path) == []
    card = ModelCard.load(path)
    card.data.eval_results[0].metric_value = math.inf
    card.save(path)
    field = "model-index[0].results[0].metrics[0].value = inf"
    assert validate_model_card(path) == [f"metadata {field} is not a finite number"]
