"""Ground truth for the fact extractor: constructed series with known trend, period, spikes, shifts and gaps."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slip_sensor.data.attributes import describe_series


def channel(x: np.ndarray, fs: float = 1.0) -> dict:
    return describe_series(np.atleast_2d(x), fs).to_dict()["channels"][0]


def sine(n: int, period: float, amplitude: float = 1.0) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * np.arange(n) / period + 0.3)


@pytest.mark.parametrize("slope, expected", [(0.01, "increasing"), (-0.01, "decreasing"), (0.0, "none")])
def test_trend_direction(slope, expected):
    rng = np.random.default_rng(1)
    x = 5 + slope * np.arange(600) + sine(600, 40, 0.5) + 0.2 * rng.normal(size=600)
    facts = channel(x)
    assert facts["trend"]["direction"] == expected
    if slope:
        assert facts["trend"]["change"] == pytest.approx(slope * 599, rel=0.1)


def test_tent_shaped_series_reports_both_segments():
    rng = np.random.default_rng(2)
    x = np.concatenate([np.linspace(0, 5, 300), np.linspace(5, 0, 300)]) + 0.2 * rng.normal(size=600)
    segments = channel(x)["trend"]["segments"]
    assert [s["direction"] for s in segments] == ["increasing", "decreasing"]
    assert abs(segments[0]["end"] - 299) <= 30


@pytest.mark.parametrize(
    "fs, period_s",
    [(100.0, 0.5), (50.0, 1.3), (10.0, 3.7), (1.0, 60.0), (1 / 60, 1800.0), (1 / 3600, 86400.0), (1 / 86400, 7 * 86400.0)],
)
def test_dominant_period_in_seconds(fs, period_s):
    rng = np.random.default_rng(3)
    samples = period_s * fs
    n = int(min(2048, max(256, 8 * samples)))
    x = sine(n, samples) + 0.002 * np.arange(n) / n + 0.3 * rng.normal(size=n)
    periods = channel(x, fs)["periods"]
    assert periods, "a clear cycle must be found"
    assert periods[0]["seconds"] == pytest.approx(period_s, rel=0.1)


def test_daily_and_weekly_cycles_of_hourly_data():
    rng = np.random.default_rng(4)
    x = 10 + sine(2016, 24, 1.0) + sine(2016, 168, 0.6) + 0.2 * rng.normal(size=2016)
    periods = [p["seconds"] / 3600 for p in channel(x, 1 / 3600)["periods"]]
    assert len(periods) == 2
    assert periods[0] == pytest.approx(24, rel=0.1)
    assert periods[1] == pytest.approx(168, rel=0.1)


@pytest.mark.parametrize("noise", ["white", "random walk"])
def test_no_period_in_aperiodic_noise(noise):
    rng = np.random.default_rng(5)
    x = rng.normal(size=500)
    assert channel(np.cumsum(x) if noise == "random walk" else x)["periods"] == []


@pytest.mark.parametrize("count", [0, 1, 3, 5])
def test_spike_count_and_positions(count):
    rng = np.random.default_rng(10 + count)
    x = sine(800, 50) + 0.05 * rng.normal(size=800)
    positions = np.sort(rng.choice(np.arange(20, 780, 40), size=count, replace=False))
    x[positions] += rng.choice([-1, 1], size=count) * 6
    spikes = channel(x, 100.0)["spikes"]
    assert [s["index"] for s in spikes] == positions.tolist()
    assert [s["time_s"] for s in spikes] == pytest.approx((positions / 100.0).tolist())


def test_missing_stretches_are_reported_and_statistics_ignore_them():
    rng = np.random.default_rng(6)
    x = 3 + rng.normal(size=400)
    x[0:4] = np.nan
    x[120:150] = np.nan
    x[300] = np.nan
    facts = channel(x, 2.0)
    assert [(m["start"], m["end"]) for m in facts["missing"]] == [(0, 3), (120, 149), (300, 300)]
    assert facts["missing"][1]["start_s"] == 60.0 and facts["missing"][1]["end_s"] == 75.0
    assert facts["stats"]["mean"] == pytest.approx(np.nanmean(x))
    assert facts["stats"]["max"] == pytest.approx(np.nanmax(x))
    assert facts["spikes"] == []


def test_level_shift_is_not_a_trend():
    rng = np.random.default_rng(7)
    x = sine(600, 30, 0.5) + 0.1 * rng.normal(size=600)
    x[250:] += 3
    facts = channel(x)
    [shift] = facts["level_shifts"]
    assert abs(shift["index"] - 250) <= 2
    assert shift["change"] == pytest.approx(3, rel=0.1)
    assert facts["trend"]["direction"] == "none"


def test_flat_stretch_and_constant_channel():
    rng = np.random.default_rng(8)
    x = rng.normal(size=300)
    x[100:140] = x[100]
    assert [(f["start"], f["end"]) for f in channel(x)["flat"]] == [(100, 139)]
    constant = channel(np.full(50, 2.5))
    assert constant["flat"] == [{"start": 0, "end": 49, "start_s": 0.0, "end_s": 50.0}]
    assert constant["trend"]["direction"] == "none" and constant["periods"] == []


def test_lead_lag_and_correlation_between_channels():
    rng = np.random.default_rng(9)
    base = sine(612, 100)
    lead = base[12:] + 0.05 * rng.normal(size=600)
    follow = base[:600] + 0.05 * rng.normal(size=600)  # follow[t] = lead[t - 12]
    inverse = -lead + 0.05 * rng.normal(size=600)
    facts = describe_series(np.stack([lead, follow, inverse]), 10.0).to_dict()
    pairs = {(p["first"], p["second"]): p for p in facts["pairs"]}
    assert pairs[(0, 1)]["lag_samples"] == pytest.approx(12, abs=1)
    assert pairs[(0, 1)]["lag_s"] == pytest.approx(1.2, abs=0.1)
    assert pairs[(1, 2)]["lag_samples"] == pytest.approx(-12, abs=1)  # channel 2 (= -lead) leads channel 1
    assert pairs[(0, 2)]["lag_samples"] == 0 and pairs[(0, 2)]["correlation"] < -0.95


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    period=st.floats(5, 80),
    trend=st.sampled_from([-1, 0, 1]),
    noise=st.floats(0.01, 0.25),
    n_spikes=st.integers(0, 4),
    gap=st.booleans(),
    fs=st.sampled_from([1 / 86400, 1 / 3600, 1.0, 25.0, 100.0]),
    seed=st.integers(0, 2**16),
)
def test_known_attributes_are_recovered(period, trend, noise, n_spikes, gap, fs, seed):
    """Series built from known attributes: the extracted facts agree with every one of them."""
    rng = np.random.default_rng(seed)
    n = int(max(6 * period, 300))
    x = 10 + sine(n, period) + trend * 3 * np.arange(n) / n + noise * rng.normal(size=n)
    slots = rng.choice(np.arange(1, n // 25 - 1), size=n_spikes, replace=False) * 25  # >= 25 samples apart
    x[slots] += rng.choice([-1, 1], size=n_spikes) * 8
    spans = []
    if gap:
        start = int(rng.integers(5, n - 40))
        start += 12 if np.any(np.abs(slots - start) < 12) or np.any(np.abs(slots - start - 20) < 12) else 0
        x[start : start + 10] = np.nan
        spans = [(start, start + 9)]
    facts = channel(x, fs)
    assert facts["trend"]["direction"] == {-1: "decreasing", 0: "none", 1: "increasing"}[trend]
    assert facts["periods"][0]["seconds"] == pytest.approx(period / fs, rel=0.1)
    expected_spikes = sorted(int(s) for s in slots if not any(a <= s <= b for a, b in spans))
    assert [s["index"] for s in facts["spikes"]] == expected_spikes
    assert [(m["start"], m["end"]) for m in facts["missing"]] == spans
