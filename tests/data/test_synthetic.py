"""Synthetic corpus samples: captions state the true attributes, and the data does not contradict them."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slip_sensor.data import synthetic
from slip_sensor.data.attributes import describe_series
from slip_sensor.data.corpus import record_rng
from slip_sensor.data.phrasing import Clock, duration, plural


def sample(index: int, seed: int = 0):
    rng = record_rng(seed, synthetic.SOURCE, index)
    spec = synthetic.sample_spec(rng)
    return spec, synthetic.render(spec, rng)


def test_spec_ranges_and_the_one_to_two_univariate_ratio():
    specs = [sample(i)[0] for i in range(300)]
    rates = {s.sampling_rate for s in specs}
    assert min(rates) == pytest.approx(1 / 86400) and max(rates) == 100.0
    assert all(synthetic.MIN_LENGTH <= s.length <= synthetic.MAX_LENGTH for s in specs)
    univariate = sum(len(s.channels) == 1 for s in specs) / len(specs)
    assert univariate == pytest.approx(1 / 3, abs=0.07)
    assert max(len(s.channels) for s in specs) == synthetic.MAX_CHANNELS
    two_cycles = [c for s in specs for c in s.channels if len(c.cycles) == 2]
    assert two_cycles and all(abs(np.log(c.cycles[0].period / c.cycles[1].period)) >= np.log(1.8) - 1e-9 for c in two_cycles)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, 10_000))
def test_record_facts_are_the_spec_and_the_caption_states_them(index):
    record = synthetic.make_record(index, seed=3)
    spec, sensor = sample(index, seed=3)
    np.testing.assert_array_equal(record.sensor, sensor)
    facts = record.caption.facts
    assert json.loads(json.dumps(facts)) == facts  # JSON-ready, as stored in the corpus
    clock = Clock(facts["duration_s"])
    for truth, channel in zip(spec.channels, facts["channels"][: 6]):
        assert [p["samples"] for p in channel["periods"]] == pytest.approx([c.period for c in truth.cycles])
        assert [s["index"] for s in channel["spikes"]] == [i for i, _ in truth.spikes]
        assert [(s["index"], s["change"]) for s in channel["level_shifts"]] == [(i, pytest.approx(v)) for i, v in truth.shifts]
        assert [(m["start"], m["end"]) for m in channel["missing"]] == [(m.start, m.end) for m in truth.missing]
        assert channel["noise"]["std"] == pytest.approx(truth.noise_std)
        if truth.knots:
            assert channel["trend"]["change"] == pytest.approx(truth.knots[-1][1] - truth.knots[0][1])
        # The caption carries each fact in words and numbers.
        caption = record.caption.caption
        for period in channel["periods"]:
            assert duration(period["seconds"]) in caption
        if channel["spikes"]:
            assert plural(len(channel["spikes"]), "isolated spike") in caption
        for missing in channel["missing"][:3]:
            assert clock.span(missing["start_s"], missing["end_s"]) in caption
    for text in record.caption.paraphrases:
        for channel in facts["channels"][:6]:
            for period in channel["periods"]:
                assert duration(period["seconds"]) in text


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, 100_000))
def test_the_data_never_contradicts_the_stated_attributes(index):
    """The analyser, run blind on a generated series, finds what the true-attribute caption states."""
    spec, sensor = sample(index, seed=11)
    measured = describe_series(sensor, spec.sampling_rate).to_dict()["channels"]
    for truth, found in zip(spec.channels, measured):
        # gaps: exactly where they were made
        assert [(m["start"], m["end"]) for m in found["missing"]] == [(m.start, m.end) for m in truth.missing]
        # every stated spike is seen in the data
        assert {i for i, _ in truth.spikes} <= {s["index"] for s in found["spikes"]}
        # a straight-line trend without steps, larger than the cycles riding on it, points the way the caption says
        # (a rise of 14 under cycles of amplitude 6 + 3 over four periods can measure as a fall: index 1123)
        if len(truth.knots) == 2 and not truth.shifts and abs(truth.knots[1][1]) > 2 * sum(c.amplitude for c in truth.cycles):
            change = truth.knots[1][1]
            assert found["trend"]["direction"] == ("increasing" if change > 0 else "decreasing")
        # a dominant sine cycle is found at the stated period
        if truth.cycles and truth.cycles[0].shape == "sine" and not truth.shifts and not truth.knots and len(truth.cycles) == 1:
            assert found["periods"][0]["samples"] == pytest.approx(truth.cycles[0].period, rel=0.1)
        # a stated step is seen as a step near its position
        for index_, change in truth.shifts if not truth.cycles and len(truth.knots) <= 2 else []:
            assert any(abs(s["index"] - index_) <= 3 and np.sign(s["change"]) == np.sign(change) for s in found["level_shifts"])
