import numpy as np
import pytest

from slip_sensor.evaluation.zero_shot import class_prompts, class_prototypes, zero_shot, zero_shot_predict


def test_class_prompts_are_class_major():
    prompts = class_prompts(["walking", "running"], ["a person {label}", "{label} {json: 1}"])
    assert prompts == ["a person walking", "walking {json: 1}", "a person running", "running {json: 1}"]


def test_prototypes_average_normalised_prompt_embeddings():
    # class 0: a long and a short prompt vector; normalising first means neither dominates
    prompt_embeddings = np.array([[100.0, 0, 0], [0, 1, 0], [0, 0, 2], [0, 0, 5]])
    prototypes = class_prototypes(prompt_embeddings, num_classes=2)
    np.testing.assert_allclose(prototypes, [[2**-0.5, 2**-0.5, 0], [0, 0, 1]])


def test_prototype_count_must_divide():
    with pytest.raises(ValueError):
        class_prototypes(np.ones((5, 3)), num_classes=2)


def test_constructed_embeddings_are_classified_exactly():
    # prompts of class k are e_k ± a symmetric perturbation, so the prototypes are exactly e_k
    basis = np.eye(3)
    perturbation = np.array([[0, 0.3, -0.3], [-0.3, 0, 0.3], [0.3, -0.3, 0]])
    prompts = np.stack([basis + perturbation, basis - perturbation], axis=1).reshape(6, 3)
    prototypes = class_prototypes(prompts, num_classes=3)
    np.testing.assert_allclose(prototypes, basis, atol=1e-12)

    labels = np.array([0, 1, 2, 2, 1, 0])
    sensors = 5.0 * basis[labels] + 0.1  # scaled and shifted: cosine still picks the right class
    result = zero_shot(sensors, labels, prototypes)
    assert result.accuracy == 1.0 and result.macro_f1 == 1.0
    np.testing.assert_array_equal(result.predictions, labels)


def test_known_mistake_gives_known_scores():
    prototypes = np.eye(2)
    sensors = np.array([[1.0, 0.1], [0.2, 1.0], [1.0, 0.9], [0.1, 3.0]])  # the third is closer to class 0
    labels = np.array([0, 1, 1, 1])
    result = zero_shot(sensors, labels, prototypes)
    np.testing.assert_array_equal(result.predictions, [0, 1, 0, 1])
    assert result.accuracy == pytest.approx(3 / 4)
    # F1: class 0 = 2·1·0.5/(1+0.5)... precision 1/2, recall 1 → 2/3; class 1: precision 1, recall 2/3 → 0.8
    assert result.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)


def test_cosine_not_dot_product():
    # the dot product would prefer the long prototype; cosine prefers the aligned one
    prototypes = np.array([[1.0, 0.0], [10.0, 10.0]])
    assert zero_shot_predict(np.array([[1.0, 0.1]]), prototypes).tolist() == [0]
