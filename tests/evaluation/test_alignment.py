import math

import numpy as np
import pytest
import torch

from slip_sensor.evaluation.alignment import alignment, uniformity


def test_alignment_of_identical_pairs_is_zero():
    x = np.random.default_rng(0).normal(size=(10, 8))
    assert alignment(x, x) == pytest.approx(0.0, abs=1e-12)


def test_alignment_of_antipodal_pairs_is_four():
    # ||x - (-x)||^2 = (2 * 1)^2 = 4 for unit x
    x = np.eye(3)
    assert alignment(x, -x) == pytest.approx(4.0)
    assert alignment(x, -x, alpha=1) == pytest.approx(2.0)


def test_alignment_normalises_rows_first():
    x = np.array([[3.0, 0.0], [0.0, 0.5]])
    y = np.array([[0.0, 2.0], [0.0, 7.0]])
    # pair 0: orthogonal unit vectors, distance^2 = 2; pair 1: identical direction, 0
    assert alignment(x, y) == pytest.approx(1.0)


def test_uniformity_of_two_antipodal_points():
    # one pair at squared distance 4: log(exp(-2 * 4)) = -8
    assert uniformity(np.array([[1.0, 0.0], [-1.0, 0.0]])) == pytest.approx(-8.0)


def test_uniformity_of_an_orthonormal_basis():
    # every pair at squared distance 2: log(exp(-4)) = -4, whatever the dimension
    assert uniformity(np.eye(5) * 3.0) == pytest.approx(-4.0)


def test_uniformity_mixed_distances():
    # pairs (0,1): d^2 = 0, (0,2) and (1,2): d^2 = 4 → log((1 + 2 e^-8) / 3)
    points = np.array([[1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    assert uniformity(points) == pytest.approx(math.log((1 + 2 * math.exp(-8)) / 3))


def test_uniformity_does_not_underflow():
    # 2 antipodal points with a large t: exp(-4000) underflows, the log-sum-exp form does not
    assert uniformity(np.array([[0.0, 1.0], [0.0, -1.0]]), t=1000) == pytest.approx(-4000.0)


def test_shape_errors():
    with pytest.raises(ValueError):
        alignment(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError):
        uniformity(np.ones((1, 2)))


def test_torch_inputs_are_detached():
    # the trainer logs these on live embeddings: no autograd graph should be built or required
    x = torch.eye(3, requires_grad=True)
    assert alignment(x, -x) == pytest.approx(4.0)
    assert uniformity(x) == pytest.approx(-4.0)
