"""`--protocol reference`, the SLIP authors' linear probe: it reports the maximum of the per-epoch TEST accuracy, its
choice depends on the test labels (the default's never does), and every output says that the epoch was chosen on
test. Features: the statistical features of real BasicMotions (aeon), so the probe runs without a model."""

import json

import numpy as np
import pytest

from slip_sensor.cli import main
from slip_sensor.data.aeon_datasets import load_labelled_dataset
from slip_sensor.evaluation.baselines import statistical_features
from slip_sensor.evaluation.classification import classification_scores
from slip_sensor.evaluation.linear_probe import ProbeConfig, linear_probe, lr_at
from slip_sensor.hub_cards.model_card import build_model_card
from slip_sensor.hub_export import preset_model

SEEDS = [0, 1, 2]


@pytest.fixture(scope="module")
def basicmotions_features():
    data = load_labelled_dataset("basicmotions")
    train = statistical_features(data.train_sensors, data.sampling_rate)
    test = statistical_features(data.test_sensors, data.sampling_rate)
    return train, data.train_labels, test, data.test_labels


def test_reference_hyperparameters():
    config = ProbeConfig.reference()
    assert (config.lr, config.weight_decay, config.batch_size, config.min_lr) == (2.5e-3, 1e-3, 64, 1e-6)
    assert (config.epochs, config.warmup_epochs, config.protocol) == (50, 5, "reference")
    assert ProbeConfig.reference(batch_size=128).lr == 5e-3  # lr = 0.01 x batch / 256
    assert lr_at(1000, 1000, 100, config.lr, config.min_lr) == pytest.approx(1e-6)  # the cosine ends at min_lr
    with pytest.raises(ValueError, match="unknown probe protocol"):
        ProbeConfig(protocol="best")


def test_the_reported_accuracy_is_the_best_test_epoch(basicmotions_features):
    train_x, train_y, test_x, test_y = basicmotions_features
    result = linear_probe(train_x, train_y, test_x, test_y, 4, SEEDS, ProbeConfig.reference())
    assert result.summary()["protocol"] == "reference"
    for run in result.runs:
        curve = run.test_accuracy_by_epoch
        assert len(curve) == 50 and len(set(curve)) > 1  # the choice of epoch matters
        assert run.accuracy == max(curve) and run.epoch == 1 + int(np.argmax(curve))
        assert run.accuracy >= curve[-1]  # never below what the last epoch gives without any choice
        assert classification_scores(test_y, run.predictions)["accuracy"] == run.accuracy
        assert run.val_accuracy is None


def test_only_the_reference_choice_depends_on_test_labels(basicmotions_features):
    """Permuting the test labels leaves the default probe's epochs and predictions unchanged, but moves the
    reference probe's: it picks its epoch on test."""
    train_x, train_y, test_x, test_y = basicmotions_features
    permuted = np.random.default_rng(0).permutation(test_y)
    for config, depends in ((ProbeConfig(), False), (ProbeConfig.reference(), True)):
        runs = [linear_probe(train_x, train_y, test_x, y, 4, SEEDS, config).runs for y in (test_y, permuted)]
        same = [a.epoch == b.epoch and np.array_equal(a.predictions, b.predictions) for a, b in zip(*runs)]
        assert not all(same) if depends else all(same)


def test_every_output_says_the_epoch_was_chosen_on_test(tmp_path, capsys):
    model, processor = preset_model("slip-tiny", seed=0)
    model.save_pretrained(tmp_path / "model")
    processor.save_pretrained(tmp_path / "model")
    out = tmp_path / "results.json"
    argv = ["evaluate", "--model", str(tmp_path / "model"), "--tasks", "basicmotions", "--seeds", "1",
            "--protocol", "reference", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    results = json.loads(out.read_text())
    assert results["protocol"]["name"] == "reference" and results["protocol"]["linear_probe"]["lr"] == 2.5e-3
    task = results["tasks"]["basicmotions"]
    probes = [task["linear_probe"], *task["baselines"].values()]
    assert all(probe["protocol"] == "reference" for probe in probes)
    note = "Reference protocol: the linear-probe epoch is chosen on the test split."
    assert note in out.with_suffix(".md").read_text() and note in capsys.readouterr().out

    card = build_model_card(model.config, model_id="me/slip-tiny", results=results)
    assert note in card.text
    probe_metrics = [r.metric_name for r in card.data.eval_results if r.metric_name.startswith("linear-probe")]
    assert probe_metrics and all("best test epoch (reference protocol)" in name for name in probe_metrics)
