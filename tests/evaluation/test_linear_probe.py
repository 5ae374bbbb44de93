import math

import numpy as np
import pytest
import torch

from slip_sensor.evaluation.linear_probe import (
    linear_probe,
    lr_at,
    stratified_split,
    train_linear_probe,
)


def _clusters(n_per_class: int, num_classes: int = 4, dim: int = 16, seed: int = 0):
    """Well-separated Gaussian clusters: class c centred at 6 * e_c."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(num_classes), n_per_class)
    features = rng.normal(size=(len(labels), dim)).astype(np.float32)
    features[np.arange(len(labels)), labels] += 6.0
    return features, labels


@pytest.fixture(scope="module")
def separable():
    # enough samples for several optimiser steps per epoch at the default batch size of 64
    train_x, train_y = _clusters(200, seed=0)
    test_x, test_y = _clusters(100, seed=1)
    return train_x, train_y, test_x, test_y


def test_separable_features_are_learned(separable):
    summary = linear_probe(*separable, num_classes=4).summary()
    assert summary["accuracy_mean"] >= 0.99
    assert summary["macro_f1_mean"] >= 0.99
    assert summary["seeds"] == [0, 1, 2, 3, 4]
    assert len(summary["per_seed"]) == 5


def test_shuffled_labels_give_chance(separable):
    """The same features with labels shuffled (train and test), so they carry no information about the label."""
    train_x, train_y, test_x, test_y = separable
    rng = np.random.default_rng(0)
    summary = linear_probe(train_x, rng.permutation(train_y), test_x, rng.permutation(test_y), num_classes=4).summary()
    assert abs(summary["accuracy_mean"] - 0.25) < 0.08  # chance for 4 balanced classes; 400 test samples


def test_selection_never_sees_test_labels(separable):
    """Permuting the test labels changes only the reported scores: the selected epoch, the validation accuracy and
    the test predictions are identical, so no choice depends on test labels."""
    train_x, train_y, test_x, test_y = separable
    permuted = np.random.default_rng(1).permutation(test_y)
    original = linear_probe(train_x, train_y, test_x, test_y, num_classes=4, seeds=[0, 1])
    shuffled = linear_probe(train_x, train_y, test_x, permuted, num_classes=4, seeds=[0, 1])
    for a, b in zip(original.runs, shuffled.runs):
        assert (a.epoch, a.val_accuracy) == (b.epoch, b.val_accuracy)
        np.testing.assert_array_equal(a.predictions, b.predictions)
        assert a.accuracy != b.accuracy


def test_deterministic_per_seed(separable):
    train_x, train_y, test_x, _ = separable
    a = train_linear_probe(train_x, train_y, 4, seed=3)
    b = train_linear_probe(train_x, train_y, 4, seed=3)
    assert a.epoch == b.epoch
    assert np.array_equal(a.weight.numpy(), b.weight.numpy())
    c = train_linear_probe(train_x, train_y, 4, seed=4)
    assert not np.array_equal(a.weight.numpy(), c.weight.numpy())


def test_summary_statistics():
    train_x, train_y = _clusters(10, dim=4, seed=2)
    noise = np.random.default_rng(3).normal(size=train_x.shape).astype(np.float32) * 3
    result = linear_probe(train_x + noise, train_y, train_x, train_y, num_classes=4, seeds=[0, 1, 2])
    accuracies = [r.accuracy for r in result.runs]
    summary = result.summary()
    assert summary["accuracy_mean"] == pytest.approx(np.mean(accuracies))
    assert summary["accuracy_std"] == pytest.approx(np.std(accuracies, ddof=1))
    assert linear_probe(train_x, train_y, train_x, train_y, seeds=[0]).summary()["accuracy_std"] == 0.0


def test_stratified_split_keeps_every_class():
    labels = np.array([0] * 10 + [1] * 5 + [2] * 2 + [3])
    fit, val = stratified_split(labels, val_fraction=0.2, seed=0)
    assert sorted(np.concatenate([fit, val]).tolist()) == list(range(len(labels)))
    assert np.bincount(labels[val], minlength=4).tolist() == [2, 1, 1, 0]  # a singleton class stays in fit
    other_fit, _ = stratified_split(labels, val_fraction=0.2, seed=1)
    assert not np.array_equal(fit, other_fit)


def test_no_validation_possible():
    with pytest.raises(ValueError):
        train_linear_probe(np.eye(3, dtype=np.float32), np.arange(3), 3, seed=0)


def test_warmup_then_cosine_schedule():
    total, warmup, base = 50, 5, 0.01
    lrs = [lr_at(step, total, warmup, base) for step in range(total)]
    assert lrs[0] == pytest.approx(base / 5)
    assert lrs[4] == pytest.approx(base)
    assert lrs[5] == pytest.approx(base)  # cosine starts at the peak
    assert lrs[27] == pytest.approx(base * 0.5 * (1 + np.cos(np.pi * 22 / 45)))
    assert all(a >= b for a, b in zip(lrs[5:], lrs[6:]))
    assert lr_at(total, total, warmup, base) == pytest.approx(0.0)


def test_default_probe_trains_with_the_paper_schedule(separable, monkeypatch):
    # what the optimiser sees during a default fit: 50 epochs, 5 of linear warmup to lr 0.01, then decay; wd 0.05
    train_x, train_y, _, _ = separable
    seen = []
    step = torch.optim.AdamW.step

    def recording_step(self, *args, **kwargs):
        seen.append((self.param_groups[0]["lr"], self.param_groups[0]["weight_decay"]))
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", recording_step)
    train_linear_probe(train_x, train_y, num_classes=4, seed=0)
    lrs = [lr for lr, _ in seen]
    steps_per_epoch = math.ceil(len(train_x) * (1 - 0.2) / 64)  # 20 % held out for validation, batches of 64
    assert len(lrs) == 50 * steps_per_epoch
    warmup = 5 * steps_per_epoch  # the last warmup step and the first decay step run at the peak
    assert lrs[warmup - 1] == pytest.approx(0.01) and max(lrs) == pytest.approx(0.01)
    assert all(a < b for a, b in zip(lrs[: warmup - 1], lrs[1:warmup]))
    assert all(a >= b for a, b in zip(lrs[warmup:], lrs[warmup + 1 :])) and lrs[-1] < 1e-4
    assert {weight_decay for _, weight_decay in seen} == {0.05}
