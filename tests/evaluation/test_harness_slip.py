"""Model glue (`SlipEncoder`, `random_encoder`, `evaluate_model`) on a tiny randomly initialised SLIP model.

Skipped until `slip_sensor` exports `SlipModel`, `SlipProcessor` and `SlipFeatureExtractor`. The processor is a
feature extractor plus a small BPE tokenizer trained on the spot (`train_caption_tokenizer`, Gemma's special ids).
"""

import json

import numpy as np
import pytest
import torch

import slip_sensor
from slip_sensor.data.labelled import LabelledSensorDataset

pytestmark = pytest.mark.skipif(
    not all(hasattr(slip_sensor, name) for name in ("SlipModel", "SlipProcessor", "SlipFeatureExtractor")),
    reason="the SLIP model and processor have not landed yet",
)


def _tiny_processor():
    from slip_sensor.processors import train_caption_tokenizer

    tokenizer = train_caption_tokenizer(["a person walking", "a sine wave", "a square wave", "sensor data"] * 10, 300)
    return slip_sensor.SlipProcessor(feature_extractor=slip_sensor.SlipFeatureExtractor(), tokenizer=tokenizer)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch.manual_seed(1)  # not 0: the random-encoder baseline is built with seed 0
    model = slip_sensor.SlipModel(slip_sensor.SlipConfig.from_preset("slip-tiny")).eval()
    processor = _tiny_processor()
    directory = tmp_path_factory.mktemp("slip-tiny")
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return model, processor, directory


def _waves(n: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Ragged 2-channel series (64–160 steps): class 0 = sine, class 1 = square wave."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    sensors = []
    for label in labels:
        t = np.arange(rng.integers(64, 161)) / 10.0
        wave = np.sin(2 * np.pi * 0.5 * t)
        wave = np.sign(wave) if label else wave
        sensors.append(np.stack([wave, 0.5 * wave + 0.1 * rng.normal(size=t.size)]).astype(np.float32))
    return sensors, labels


@pytest.fixture(scope="module")
def waves() -> LabelledSensorDataset:
    train, train_labels = _waves(12, seed=0)
    test, test_labels = _waves(8, seed=1)
    return LabelledSensorDataset(
        "waves", train, train_labels, test, test_labels, ["sine wave", "square wave"], sampling_rate=10.0,
        prompt_templates=["a {label}", "sensor data: {label}"],
    )


def test_token_features_ignore_padding(tiny, waves):
    from slip_sensor.evaluation.harness import SlipEncoder

    model, processor, _ = tiny
    encoder = SlipEncoder(model, processor, batch_size=8)
    batched = encoder.token_features(waves.train_sensors[:6], waves.sampling_rate)
    single = np.concatenate([encoder.token_features([s], waves.sampling_rate) for s in waves.train_sensors[:6]])
    assert batched.shape == (6, model.config.sensor_config.hidden_size)
    np.testing.assert_allclose(batched, single, atol=1e-4)


def test_embeddings_are_unit_norm(tiny, waves):
    from slip_sensor.evaluation.harness import SlipEncoder

    model, processor, _ = tiny
    encoder = SlipEncoder(model, processor, batch_size=4)
    sensor = encoder.sensor_embeddings(waves.test_sensors, waves.sampling_rate)
    text = encoder.text_embeddings(["a sine wave", "a square wave", "sensor data"])
    assert sensor.shape == (8, model.config.projection_dim) and text.shape == (3, model.config.projection_dim)
    np.testing.assert_allclose(np.linalg.norm(sensor, axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-4)


def test_random_encoder_is_fresh_and_leaves_the_global_rng_alone(tiny):
    from slip_sensor.evaluation.harness import SlipEncoder, random_encoder

    model, processor, _ = tiny
    state = torch.random.get_rng_state()
    first, second = random_encoder(model, processor, 4, None), random_encoder(model, processor, 4, None)
    assert torch.equal(state, torch.random.get_rng_state())
    assert first.fingerprint == second.fingerprint  # seed 0 both times
    assert first.fingerprint != SlipEncoder(model, processor).fingerprint


def test_evaluate_model_from_directory(tiny, waves, tmp_path):
    from slip_sensor.evaluation.harness import evaluate_model

    _, _, directory = tiny
    out = tmp_path / "results.json"
    results = evaluate_model(str(directory), tasks=[waves], out=out, seeds=2, batch_size=4, progress=False)
    assert json.loads(out.read_text()) == results
    assert results["model"]["name_or_path"] == str(directory) and results["model"]["num_parameters"] > 0
    assert {"torch", "transformers", "device"} <= set(results["environment"])
    task = results["tasks"]["waves"]
    assert task["linear_probe"]["seeds"] == [0, 1]
    assert set(task["baselines"]) == {"statistical_features", "random_encoder"}
    assert all((tmp_path / name).exists() for name in task["plots"].values())


def test_unsupported_task_fails_before_any_work(tiny, waves):
    from slip_sensor.evaluation.harness import check_processor_accepts

    _, processor, _ = tiny
    # 12 channels are fine; a long sample with fewer channels can be the one over the token bound
    wide = LabelledSensorDataset("wide", [np.zeros((12, 64), np.float32)], [0], [], [], ["x"], sampling_rate=1.0)
    bound = processor.feature_extractor.max_tokens_per_sample
    huge = LabelledSensorDataset(
        "huge", [np.zeros((2, 64), np.float32), np.zeros((25, 384 * 128), np.float32)], [0, 0], [], [], ["x"],
        sampling_rate=1.0,
    )
    assert 25 * 384 > bound
    check_processor_accepts(processor, {"waves": waves, "wide": wide})
    with pytest.raises(ValueError, match="task 'huge'.*max_tokens_per_sample"):
        check_processor_accepts(processor, {"waves": waves, "huge": huge})
