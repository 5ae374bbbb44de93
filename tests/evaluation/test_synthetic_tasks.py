"""Held-out synthetic attribute tasks: truth from the generator, balance, determinism, disjointness from corpora,
task-name resolution and the synthetic summary of the results JSON."""

import hashlib

import numpy as np
import pytest

from slip_sensor.data import synthetic
from slip_sensor.data.attributes import describe_series
from slip_sensor.evaluation import synthetic_tasks as st
from slip_sensor.evaluation.baselines import statistical_features
from slip_sensor.evaluation.harness import evaluate_tasks, resolve_tasks

SMALL = dict(train_per_class=8, test_per_class=8)


def _samples(name: str, count: int, split: str = "test") -> list[st.SyntheticSample]:
    return [st.generate_sample(name, split, i) for i in range(count)]


@pytest.mark.parametrize("name", st.TASK_NAMES)
def test_labels_are_the_generators_truth(name):
    task = st.TASKS[name]
    for sample in _samples(name, 3 * len(task.class_names)):
        assert sample.label == st.true_label(name, sample.facts)  # what a corpus caption of the series would state
        assert sample.sensor.shape == (task.channels, sample.spec.length)
        assert st.MIN_LENGTH <= sample.spec.length <= st.MAX_LENGTH
        channel = sample.spec.channels[0]
        if name == "synthetic-trend":  # linear knots in the stated direction, or no trend at all
            change = channel.knots[-1][1] - channel.knots[0][1] if channel.knots else 0.0
            assert np.sign(change) == {0: 1, 1: -1, 2: 0}[sample.label] and not channel.shifts
        elif name == "synthetic-periodicity":
            assert bool(channel.cycles) == (sample.label == 0)
        elif name == "synthetic-spikes":
            assert bool(channel.spikes) == (sample.label == 0)
        elif name == "synthetic-level-shift":
            assert bool(channel.shifts) == (sample.label == 0)


def test_noise_classes_differ_in_the_specs_noise():
    samples = _samples("synthetic-noise", 20)
    ratio = {0: [], 1: []}
    for sample in samples:
        channel = sample.facts.channels[0]
        ratio[sample.label].append(channel.noise_std / channel.stats.amplitude)
    assert max(ratio[0]) < 0.1 <= 0.2 <= min(ratio[1])  # "low noise" / "high noise" in the captions' thresholds


def test_lead_classes_are_the_same_pairs_in_swapped_order():
    samples = _samples("synthetic-lead", 12)
    for sample in samples:
        (pair,) = [p for p in sample.facts.pairs if (p.first, p.second) == (0, 1)]
        assert (pair.lag > 0) == (sample.label == 0)  # lag > 0: channel 2 follows channel 1
        follower = sample.spec.channels[1 - sample.label]
        leader = sample.spec.channels[sample.label]
        assert [c.period for c in follower.cycles] == [c.period for c in leader.cycles]


@pytest.mark.parametrize("name", ["synthetic-trend", "synthetic-spikes"])
def test_truth_agrees_with_the_data_based_description(name):
    """The detector that captions real data (describe_series) mostly reads the same class from the series."""
    samples = _samples(name, 30)
    agree = [st.true_label(name, describe_series(s.sensor, st.SAMPLING_RATE)) == s.label for s in samples]
    assert np.mean(agree) >= 0.9


@pytest.mark.parametrize("name", st.TASK_NAMES)
def test_balanced_deterministic_datasets(name):
    first = st.load_synthetic_task(name, **SMALL)
    second = st.load_synthetic_task(name, **SMALL)
    k = len(first.class_names)
    assert first.name == name and first.sampling_rate == st.SAMPLING_RATE and first.domain == "synthetic"
    assert 2 <= len(first.prompt_templates) <= 4 and all("{label}" in t for t in first.prompt_templates)
    for labels in (first.train_labels, first.test_labels):
        assert np.bincount(labels, minlength=k).tolist() == [8] * k
    for a, b in zip(first.train_sensors + first.test_sensors, second.train_sensors + second.test_sensors):
        np.testing.assert_array_equal(a, b)
    first.train_sensors[0][...] = 0  # fresh arrays per call: the cache cannot be corrupted
    assert not np.array_equal(first.train_sensors[0], st.load_synthetic_task(name, **SMALL).train_sensors[0])
    train = {s.tobytes() for s in second.train_sensors}
    assert not any(s.tobytes() in train for s in second.test_sensors)  # train and test are different draws


def test_default_size_is_60_per_class_and_a_different_seed_gives_other_data():
    dataset = st.load_synthetic_task("synthetic-spikes")
    assert len(dataset.train_labels) == len(dataset.test_labels) == 120
    other = st.load_synthetic_task("synthetic-spikes", seed=st.EVAL_SEED + 1, **SMALL)
    assert not any(np.array_equal(a, b) for a, b in zip(dataset.test_sensors, other.test_sensors))


def test_disjoint_from_corpus_records():
    corpus = [synthetic.make_record(i, seed) for seed in range(10) for i in range(5)]
    corpus_ids = {r.id for r in corpus}
    corpus_hashes = {hashlib.sha256(np.ascontiguousarray(r.sensor, np.float32).tobytes()).hexdigest() for r in corpus}
    for name in st.TASK_NAMES:
        for split in ("train", "test"):
            for sample in (st.generate_sample(name, split, i) for i in range(5)):
                assert sample.id.startswith(f"{st.SOURCE}/{name}/{split}/") and sample.id not in corpus_ids
                digest = hashlib.sha256(np.ascontiguousarray(sample.sensor, np.float32).tobytes()).hexdigest()
                assert digest not in corpus_hashes
    # the evaluation seed is not a corpus seed, and its streams differ from the corpus streams at the same index
    from slip_sensor.data.corpus import record_rng

    corpus_draws = {record_rng(seed, synthetic.SOURCE, 0).random() for seed in range(10)}
    assert record_rng(st.EVAL_SEED, f"{st.SOURCE}/synthetic-trend/test", 0).random() not in corpus_draws


def test_task_names_resolve_and_expand():
    assert st.expand_task_names(["GunPoint", "synthetic-attributes", "synthetic-trend"]) == [
        "GunPoint", *st.TASK_NAMES
    ]
    resolved = resolve_tasks(["synthetic-lead"])
    assert list(resolved) == ["synthetic-lead"] and resolved["synthetic-lead"].class_names == [
        "channel 1 leads channel 2", "channel 2 leads channel 1"
    ]
    with pytest.raises(KeyError, match="synthetic-nope"):
        st.load_synthetic_task("synthetic-nope")
    with pytest.raises(ValueError, match="corpus"):
        resolve_tasks(["retrieval"])


class StatisticalEncoder:
    """A deterministic encoder: statistical features as sensor features, text embeddings seeded by the text."""

    fingerprint = "statistical-test-encoder"

    def token_features(self, sensors, sampling_rate):
        return statistical_features(sensors, sampling_rate)

    def sensor_embeddings(self, sensors, sampling_rate):
        features = statistical_features(sensors, sampling_rate)
        return features @ np.random.default_rng(0).normal(size=(features.shape[1], 8))

    def text_embeddings(self, texts):
        seeds = [int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little") for t in texts]
        return np.stack([np.random.default_rng(s).normal(size=8) for s in seeds])


def test_results_carry_chance_and_the_synthetic_summary():
    datasets = {name: st.load_synthetic_task(name, **SMALL) for name in st.TASK_NAMES}
    encoder = StatisticalEncoder()
    results = evaluate_tasks(encoder, encoder, datasets, seeds=1, progress=False)
    chances = [results["tasks"][name]["zero_shot"]["chance"] for name in st.TASK_NAMES]
    assert chances == [1 / 3, 0.5, 0.5, 0.5, 0.5, 0.5]
    summary = results["summary"]["synthetic_attributes"]
    accuracy = np.mean([results["tasks"][name]["zero_shot"]["accuracy"] for name in st.TASK_NAMES])
    assert summary["tasks"] == list(st.TASK_NAMES)
    assert summary["zero_shot_mean"] == pytest.approx(accuracy)
    assert summary["chance_mean"] == pytest.approx(np.mean(chances))
    assert summary["ratio_to_chance"] == pytest.approx(accuracy / np.mean(chances))
    only_real = {"tasks": {"x": {"dataset": {"name": "x"}, "zero_shot": {"accuracy": 1.0, "chance": 0.5}}}}
    assert st.summarise(only_real["tasks"]) is None

