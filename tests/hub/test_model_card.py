"""Model cards: metadata that huggingface_hub parses back, architecture from the config, measured results only."""

import copy
from pathlib import Path

import pytest
from huggingface_hub import ModelCard, metadata_load

from slip_sensor import SlipConfig, SlipForConditionalGeneration
from slip_sensor.evaluation.report import results_table
from slip_sensor.hub_cards.model_card import build_model_card, check_results, parameter_counts, validate_model_card


def probe(accuracy: float, f1: float) -> dict:
    return {
        "accuracy_mean": accuracy,
        "accuracy_std": 0.0123,
        "macro_f1_mean": f1,
        "macro_f1_std": 0.0211,
        "seeds": [0, 1, 2],
        "per_seed": [],
    }


# A results JSON in the schema of slip_sensor.evaluation.harness (values arbitrary but distinctive).
RESULTS = {
    "schema_version": 1,
    "model": {"name_or_path": "runs/slip-tiny", "fingerprint": "abc", "num_parameters": 568129},
    "tasks": {
        "basicmotions": {
            "dataset": {"name": "basicmotions", "num_train": 40, "num_test": 40, "num_classes": 4},
            "linear_probe": probe(0.8125, 0.80417),
            "zero_shot": {"accuracy": 0.3375, "macro_f1": 0.29871},
            "baselines": {"statistical_features": probe(0.775, 0.7702), "random_encoder": probe(0.525, 0.5011)},
        }
    },
    "environment": {"device": "cpu", "torch": "2.13.0+cpu", "transformers": "5.24.0", "created_utc": "2026-01-01"},
}


@pytest.fixture(scope="module")
def config() -> SlipConfig:
    return SlipConfig.from_preset("slip-tiny")


def save(card: ModelCard, tmp_path: Path) -> Path:
    path = tmp_path / "README.md"
    card.save(path)
    return path


def test_card_without_results_reports_no_evaluation(config, tmp_path):
    path = save(build_model_card(config, preset="slip-tiny", seed=0), tmp_path)
    assert validate_model_card(path) == []
    metadata = metadata_load(path)
    assert metadata["library_name"] == "transformers" and metadata["pipeline_tag"] == "feature-extraction"
    assert "custom_code" in metadata["tags"] and metadata["license"] == "apache-2.0"
    assert "model-index" not in metadata and "metrics" not in metadata and "base_model" not in metadata
    text = path.read_text()
    assert "No evaluation was run" in text and "Randomly initialised weights" in text and "%" not in text


def test_card_architecture_comes_from_the_config(config, tmp_path):
    counts = parameter_counts(config)
    model = SlipForConditionalGeneration(config)
    assert counts["total"] == model.num_parameters() == sum(value for key, value in counts.items() if key != "total")
    text = save(build_model_card(config), tmp_path).read_text()
    assert f"| total | {counts['total']:,} |" in text
    assert f"{config.sensor_config.num_hidden_layers} layers, hidden {config.sensor_config.hidden_size}" in text
    assert f"vocabulary {config.text_config.vocab_size}" in text


def test_card_reports_the_measured_results(config, tmp_path):
    path = save(build_model_card(config, model_id="me/slip-tiny", results=RESULTS), tmp_path)
    assert validate_model_card(path) == []
    text = path.read_text()
    assert results_table(RESULTS) in text and "No evaluation was run" not in text
    assert "81.25 ± 1.23" in text and "33.75" in text
    card = ModelCard.load(path)
    assert card.data.model_name == "me/slip-tiny" and card.data.metrics == ["accuracy", "f1"]
    values = {(result.task_type, result.metric_type): result.metric_value for result in card.data.eval_results}
    assert values == {
        ("zero-shot-classification", "accuracy"): 0.3375,
        ("zero-shot-classification", "f1"): 0.29871,
        ("feature-extraction", "accuracy"): 0.8125,
        ("feature-extraction", "f1"): 0.80417,
    }
    assert all(result.dataset_type == "basicmotions" for result in card.data.eval_results)


def test_results_without_the_schema_keys_are_refused(config):
    broken = copy.deepcopy(RESULTS)
    del broken["tasks"]["basicmotions"]["zero_shot"]["macro_f1"]
    with pytest.raises(ValueError, match="zero_shot"):
        build_model_card(config, results=broken)
    with pytest.raises(ValueError, match="tasks"):
        check_results({"model": {}})


def test_gemma_derived_weights_carry_the_gemma_license(config, tmp_path):
    with pytest.raises(ValueError, match="license: gemma"):
        build_model_card(config, base_model="google/gemma-3-270m", license="apache-2.0")
    card = build_model_card(
        config, base_model="google/gemma-3-270m", license="gemma", datasets=["LeoChen085/SlipDataset"]
    )
    path = save(card, tmp_path)
    assert validate_model_card(path) == []
    assert "Gemma Terms of Use" in path.read_text() and "Prohibited Use Policy" in path.read_text()


@pytest.mark.parametrize(
    "replace, problem",
    [
        (("license: apache-2.0", "license: other"), "license_name and license_link"),
        (("- custom_code\n", ""), "custom_code"),
        (("library_name: transformers", "library_name: timm"), "library_name"),
        (("pipeline_tag: feature-extraction\n", "base_model: gemma-3\npipeline_tag: feature-extraction\n"), "Hub id"),
        (("tags:", "model-index:\n- results: not-a-list\ntags:"), "does not parse"),
    ],
)
def test_validation_finds_invalid_metadata(config, tmp_path, replace, problem):
    path = save(build_model_card(config), tmp_path)
    old, new = replace
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    problems = validate_model_card(path)
    assert any(problem in found for found in problems), problems
