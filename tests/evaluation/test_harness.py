"""The model-independent harness (orchestration, results JSON, cache, plots, CLI) on real BasicMotions.

`SlipEncoder` (the model glue) is tested in test_harness_slip.py once the model lands. Here the encoders are small,
fully deterministic feature maps that follow the same `SensorTextEncoder` protocol.
"""

import argparse
import hashlib
import json

import numpy as np
import pytest

from slip_sensor.evaluation.baselines import statistical_features
from slip_sensor.evaluation.cli import add_arguments
from slip_sensor.evaluation.harness import evaluate_tasks, resolve_tasks, write_results
from slip_sensor.evaluation.linear_probe import linear_probe

LP_KEYS = {"protocol", "accuracy_mean", "accuracy_std", "macro_f1_mean", "macro_f1_std", "seeds", "per_seed"}


class ProjectionEncoder:
    """Statistical features as token features; a fixed random projection of them as sensor embeddings; text
    embeddings seeded by a hash of the text. Counts calls so cache reuse can be checked."""

    def __init__(self, seed: int, dim: int = 16):
        self.fingerprint = f"projection-{seed}"
        self.seed, self.dim, self.calls = seed, dim, 0

    def token_features(self, sensors, sampling_rate):
        self.calls += 1
        features = statistical_features(sensors, sampling_rate)
        return features @ np.random.default_rng(self.seed).normal(size=(features.shape[1], 32))

    def sensor_embeddings(self, sensors, sampling_rate):
        self.calls += 1
        return self.token_features(sensors, sampling_rate)[:, : self.dim]

    def text_embeddings(self, texts):
        seeds = [int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little") for t in texts]
        return np.stack([np.random.default_rng(s).normal(size=self.dim) for s in seeds])


@pytest.fixture(scope="module")
def evaluated(basicmotions, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "results.json"
    encoder, baseline = ProjectionEncoder(seed=1), ProjectionEncoder(seed=2)
    results = evaluate_tasks(encoder, baseline, {"basicmotions": basicmotions}, seeds=3, out=out, progress=False)
    write_results(results, out)
    return results, out, encoder


def test_results_schema(evaluated):
    results, _, _ = evaluated
    assert results["schema_version"] == 1
    assert results["protocol"]["linear_probe"]["epochs"] == 50
    task = results["tasks"]["basicmotions"]
    assert set(task) == {"dataset", "linear_probe", "zero_shot", "baselines", "plots"}
    assert task["dataset"]["num_train"] == 40 and task["dataset"]["class_names"] == [
        "badminton", "running", "standing", "walking"
    ]
    assert set(task["linear_probe"]) == LP_KEYS and task["linear_probe"]["seeds"] == [0, 1, 2]
    assert set(task["baselines"]) == {"statistical_features", "random_encoder"}
    for lp in (task["linear_probe"], *task["baselines"].values()):
        assert set(lp) == LP_KEYS and 0 <= lp["accuracy_mean"] <= 1 and lp["accuracy_std"] >= 0
    zs = task["zero_shot"]
    assert {"accuracy", "macro_f1", "alignment", "uniformity_sensor", "uniformity_text"} <= set(zs)
    assert 0 <= zs["accuracy"] <= 1 and 0 <= zs["alignment"] <= 4 and zs["uniformity_sensor"] <= 0


def test_baseline_row_is_the_plain_probe(evaluated, basicmotions):
    results, _, _ = evaluated
    train = statistical_features(basicmotions.train_sensors, 10.0)
    test = statistical_features(basicmotions.test_sensors, 10.0)
    direct = linear_probe(train, basicmotions.train_labels, test, basicmotions.test_labels, 4, seeds=range(3))
    assert results["tasks"]["basicmotions"]["baselines"]["statistical_features"] == direct.summary()


def test_files_written_next_to_json(evaluated):
    results, out, _ = evaluated
    assert json.loads(out.read_text()) == results
    table = out.with_suffix(".md").read_text()
    assert "| basicmotions |" in table and "±" in table
    for name in results["tasks"]["basicmotions"]["plots"].values():
        assert (out.parent / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any((out.parent / "feature_cache").glob("basicmotions-token_mean-*.npz"))


def test_second_run_reuses_cached_features(evaluated, basicmotions):
    results, out, _ = evaluated
    encoder, baseline = ProjectionEncoder(seed=1), ProjectionEncoder(seed=2)
    again = evaluate_tasks(encoder, baseline, {"basicmotions": basicmotions}, seeds=3, out=out, progress=False)
    assert encoder.calls == 0 and baseline.calls == 0
    assert again["tasks"] == results["tasks"]


def test_resolve_tasks(basicmotions):
    data = pytest.importorskip("slip_sensor.data")
    if not hasattr(data, "load_labelled_dataset"):
        pytest.skip("slip_sensor.data.load_labelled_dataset has not landed yet")
    resolved = resolve_tasks([basicmotions, "GunPoint"])
    assert list(resolved) == ["basicmotions", "GunPoint"]
    assert resolved["basicmotions"] is basicmotions
    assert resolved["GunPoint"].name == "GunPoint" and len(resolved["GunPoint"].class_names) == 2


def test_cli_arguments():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--model", "m", "--tasks", "basicmotions, gunpoint", "--seeds", "3", "--batch-size", "8"])
    assert (args.model, args.tasks, args.seeds, args.batch_size, args.out) == (
        "m", ["basicmotions", "gunpoint"], 3, 8, "results.json"
    )
    assert parser.parse_args(["--tasks", "basicmotions"]).model is None  # the shipped slip-tiny is used
    with pytest.raises(SystemExit):
        parser.parse_args(["--seeds", "three"])
