"""Physiological simulations: captions state the simulated rates, and the signals carry them."""

import numpy as np
import pytest

from slip_sensor.data import physio
from slip_sensor.data.attributes import describe_series
from slip_sensor.data.corpus import record_rng
from slip_sensor.data.phrasing import number


def spec_and_data(index: int, seed: int = 0):
    rng = record_rng(seed, physio.SOURCE, index)
    spec = physio.sample_spec(rng)
    sensor, noise = physio.render(spec, rng)
    return spec, sensor, noise


@pytest.mark.parametrize("index", range(6))
def test_caption_states_the_true_parameters(index):
    record = physio.make_record(index, seed=0)
    spec, sensor, noise = spec_and_data(index)
    np.testing.assert_array_equal(record.sensor, sensor)
    assert record.sensor.shape == (len(spec.signals), spec.length)
    assert physio.MIN_LENGTH <= spec.length <= physio.MAX_LENGTH
    facts, caption = record.caption.facts, record.caption.caption
    assert record.label == spec.scenario and spec.scenario in caption
    if {"ecg", "ppg"} & set(spec.signals):
        assert facts["extras"]["heart_rate_bpm"] == spec.heart_rate
        assert number(spec.heart_rate) in record.caption.semantic
    if "rsp" in spec.signals:
        assert number(spec.respiratory_rate) in record.caption.semantic
    for signal, channel, std in zip(spec.signals, facts["channels"], noise):
        assert channel["name"] == physio.CHANNELS[signal][0]
        if std is not None:
            assert channel["noise"]["std"] == pytest.approx(std)
    if spec.dropout is not None:
        assert all(np.isnan(sensor[:, spec.dropout.start : spec.dropout.end + 1]).all(axis=1))


def test_scenarios_bundles_and_the_one_to_two_ratio():
    specs = [physio.sample_spec(record_rng(1, physio.SOURCE, i)) for i in range(300)]
    assert {s.scenario for s in specs} == set(physio.SCENARIOS)
    assert sum(len(s.signals) == 1 for s in specs) / len(specs) == pytest.approx(1 / 3, abs=0.07)
    for s in specs:
        low, high = physio.SCENARIOS[s.scenario][0]
        assert low <= s.heart_rate <= high


@pytest.mark.parametrize("method", ["simple", "ecgsyn"])
def test_simulated_ecg_beats_at_the_stated_rate(method):
    """The analyser, blind to the parameters, measures the heart rate the caption states (within 10%)."""
    spec = physio.PhysioSpec(
        signals=("ecg",), sampling_rate=128.0, length=1800, scenario="resting", heart_rate=66.0,
        respiratory_rate=12.0, scr_number=1, burst_number=1, eda_level=5.0, noise=0.02, dropout=None,
        ecg_method=method,
    )
    sensor, _ = physio.render(spec, np.random.default_rng(0))
    [channel] = describe_series(sensor, spec.sampling_rate, ["ECG"]).to_dict()["channels"]
    assert 60.0 / channel["periods"][0]["seconds"] == pytest.approx(spec.heart_rate, rel=0.1)
