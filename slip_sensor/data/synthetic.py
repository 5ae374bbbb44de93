"""Attribute-driven synthetic series whose captions state the attributes they were generated from.

`sample_spec` draws the attributes (sampling regime from daily to 100 Hz, length, trend with optional piecewise
segments, one or two cycles, noise, spikes, level shifts, a stuck-sensor stretch, missing stretches, and channels
that follow another with a delay); `render` draws the series; `true_facts` turns the spec into `SeriesFacts`, so the
caption states the true attributes (statistics, which are exact anyway, and cross-channel facts are measured).
Univariate and multivariate series come at a 1:2 ratio. Magnitudes are chosen so every stated attribute is visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .attributes import (
    ChannelFacts,
    LevelShift,
    Period,
    SeriesFacts,
    Span,
    Trend,
    TrendSegment,
    channel_stats,
    default_names,
    describe_pairs,
    fill_gaps,
    overall_direction,
    periodic_strength,
)
from .captions import render_caption
from .corpus import CorpusRecord, record_rng

SOURCE = "synthetic"
DOMAIN = "synthetic"
_DAY, _HOUR = 86400.0, 3600.0


@dataclass(frozen=True)
class Regime:
    """A sampling rate with the cycle lengths (seconds) natural at that rate."""

    name: str
    sampling_rate: float
    natural_periods: tuple[float, ...]


REGIMES = (
    Regime("daily", 1 / _DAY, (7 * _DAY, 30.44 * _DAY, 365.25 * _DAY)),
    Regime("hourly", 1 / _HOUR, (24 * _HOUR, 12 * _HOUR, 168 * _HOUR)),
    Regime("15-minute", 1 / 900, (24 * _HOUR, 12 * _HOUR, 6 * _HOUR)),
    Regime("minute", 1 / 60, (60 * 60.0, 30 * 60.0, 10 * 60.0)),
    Regime("1 Hz", 1.0, (10.0, 60.0, 5.0)),
    Regime("10 Hz", 10.0, (1.0, 2.0, 5.0)),
    Regime("50 Hz", 50.0, (0.5, 1.0, 2.0)),
    Regime("100 Hz", 100.0, (0.25, 0.5, 1.0)),
)
MIN_LENGTH, MAX_LENGTH = 64, 2048
MULTIVARIATE_SHARE = 2 / 3  # univariate : multivariate = 1 : 2
MAX_CHANNELS = 6
MIN_PERIOD_SAMPLES = 4
MIN_CYCLES = 4  # every stated cycle is seen at least four times
SHAPES = ("sine", "triangle", "pulse")
_PULSE_MEAN = float(np.exp(-4.0) * np.i0(4.0))  # cycle mean of exp(4 (cos - 1))


@dataclass
class Cycle:
    period: float  # samples
    amplitude: float
    shape: str
    phase: float  # radians


@dataclass
class ChannelSpec:
    """True attributes of one channel, in raw units."""

    level: float
    knots: list[tuple[int, float]] = field(default_factory=list)  # piecewise-linear trend; [] = no trend
    cycles: list[Cycle] = field(default_factory=list)  # strongest first
    noise_std: float = 0.0
    spikes: list[tuple[int, float]] = field(default_factory=list)
    shifts: list[tuple[int, float]] = field(default_factory=list)
    flat: list[Span] = field(default_factory=list)
    missing: list[Span] = field(default_factory=list)


@dataclass
class SyntheticSpec:
    sampling_rate: float
    length: int
    channels: list[ChannelSpec]


def sample_spec(rng: np.random.Generator) -> SyntheticSpec:
    """Draw the attributes of one synthetic sample."""
    regime = REGIMES[int(rng.integers(len(REGIMES)))]
    n = int(np.exp(rng.uniform(np.log(MIN_LENGTH), np.log(MAX_LENGTH + 1))))
    n_channels = int(rng.integers(2, MAX_CHANNELS + 1)) if rng.random() < MULTIVARIATE_SHARE else 1
    channels: list[ChannelSpec] = []
    for _ in range(n_channels):
        if channels and rng.random() < 0.3:  # a delayed, rescaled copy of an earlier channel: a lead/lag relation
            channels.append(_follower(channels[int(rng.integers(len(channels)))], n, rng))
        else:
            channels.append(_channel(regime, n, rng))
    return SyntheticSpec(regime.sampling_rate, n, channels)


def _loguniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _periods(regime: Regime, n: int, rng: np.random.Generator) -> list[float]:
    """One or two cycle lengths in samples: natural ones for the regime when they fit, otherwise free ones."""
    longest = n / MIN_CYCLES
    natural = [p * regime.sampling_rate for p in regime.natural_periods]
    natural = [p for p in natural if MIN_PERIOD_SAMPLES <= p <= longest]
    count = int(rng.choice([0, 1, 2], p=[0.3, 0.45, 0.25]))
    periods: list[float] = []

    def distinct(p: float) -> bool:  # two cycles differ by at least 1.8x, so both stay recognisable
        return all(max(p, q) / min(p, q) >= 1.8 for q in periods)

    for _ in range(count):
        options = [p for p in natural if distinct(p)]
        if options and rng.random() < 0.7:
            periods.append(float(options[int(rng.integers(len(options)))]))
            continue
        for _attempt in range(10):
            p = _loguniform(rng, MIN_PERIOD_SAMPLES, max(longest, MIN_PERIOD_SAMPLES + 1))
            if p <= longest and distinct(p):
                periods.append(p)
                break
    return periods


def _channel(regime: Regime, n: int, rng: np.random.Generator) -> ChannelSpec:
    """An independent channel; every attribute is drawn large enough next to the noise to be visible."""
    unit = _loguniform(rng, 0.01, 1000.0)  # overall scale, so captions meet many orders of magnitude
    periods = _periods(regime, n, rng)
    main = rng.uniform(0.5, 2.0)
    cycles = [
        Cycle(p, unit * (main if k == 0 else main * rng.uniform(0.3, 0.6)), str(rng.choice(SHAPES, p=[0.6, 0.25, 0.15])),
              rng.uniform(0, 2 * np.pi))
        for k, p in enumerate(periods)
    ]
    base = unit * (main if cycles else 0.5)  # reference magnitude for the other attributes
    spec = ChannelSpec(level=unit * rng.uniform(-2.0, 8.0), cycles=cycles, noise_std=base * _loguniform(rng, 0.01, 0.3))
    spec.knots = _knots(n, base, rng)
    occupied = np.zeros(n, dtype=bool)  # events never overlap, so each stays visible and true
    for _ in range(int(rng.choice([0, 1, 2], p=[0.75, 0.2, 0.05]))):
        index = _free_index(occupied, int(0.15 * n), int(0.85 * n), margin=max(n // 8, 4), rng=rng)
        if index is not None:
            spec.shifts.append((index, float(rng.choice([-1, 1]) * base * rng.uniform(1.5, 3.0))))
    if rng.random() < 0.1:
        span = _free_span(occupied, int(rng.uniform(0.05, 0.12) * n), margin=4, rng=rng)
        if span is not None:
            spec.flat.append(span)
    for _ in range(int(rng.choice([0, 1, 2, 3], p=[0.7, 0.2, 0.07, 0.03]))):
        span = _free_span(occupied, int(rng.integers(1, max(2, int(0.08 * n)))), margin=4, rng=rng)
        if span is not None:
            spec.missing.append(span)
    clean_range = 2 * sum(c.amplitude for c in cycles) + sum(abs(v) for _, v in spec.shifts) + _trend_range(spec.knots)
    spikes = int(rng.choice([0, 1, 2, 3, 4, 5], p=[0.55, 0.15, 0.1, 0.08, 0.07, 0.05]))
    for _ in range(min(spikes, max(1, n // 50))):  # spikes stay rare: at most one per 50 samples
        index = _free_index(occupied, 2, n - 3, margin=4, rng=rng)
        if index is not None:
            height = (clean_range + 8 * spec.noise_std + base) * rng.uniform(1.0, 1.5)
            spec.spikes.append((index, float(rng.choice([-1, 1]) * height)))
    spec.shifts.sort()
    spec.spikes.sort()
    spec.flat.sort(key=lambda s: s.start)
    spec.missing.sort(key=lambda s: s.start)
    return spec


def _knots(n: int, base: float, rng: np.random.Generator) -> list[tuple[int, float]]:
    kind = rng.choice(["none", "linear", "piecewise"], p=[0.35, 0.4, 0.25])
    if kind == "none":
        return []
    if kind == "linear":
        return [(0, 0.0), (n - 1, float(rng.choice([-1, 1]) * base * rng.uniform(1.5, 4.0)))]
    segments = int(rng.integers(2, 4))
    inner = np.sort(rng.choice(np.arange(1, segments * 5), size=segments - 1, replace=False)) / (segments * 5)
    positions = [0] + [int(p * (n - 1)) for p in inner] + [n - 1]
    sign, value, knots = float(rng.choice([-1, 1])), 0.0, [(0, 0.0)]
    for position in positions[1:]:
        value += sign * base * rng.uniform(1.5, 3.0)
        knots.append((position, value))
        sign = -sign  # alternate, so the direction changes at every knot
    return knots


def _trend_range(knots: list[tuple[int, float]]) -> float:
    values = [v for _, v in knots]
    return max(values) - min(values) if values else 0.0


def _free_index(occupied: np.ndarray, low: int, high: int, margin: int, rng: np.random.Generator) -> int | None:
    for _ in range(20):
        index = int(rng.integers(low, max(high, low + 1)))
        window = slice(max(index - margin, 0), index + margin + 1)
        if not occupied[window].any():
            occupied[window] = True
            return index
    return None


def _free_span(occupied: np.ndarray, length: int, margin: int, rng: np.random.Generator) -> Span | None:
    n = len(occupied)
    length = max(1, min(length, n // 4))
    for _ in range(20):
        start = int(rng.integers(margin, max(n - length - margin, margin + 1)))
        window = slice(start - margin, start + length + margin)
        if not occupied[window].any():
            occupied[window] = True
            return Span(start, start + length - 1)
    return None


def _follower(leader: ChannelSpec, n: int, rng: np.random.Generator) -> ChannelSpec:
    """Leader's trend, cycles and shifts, delayed by a lag shorter than half its shortest cycle, rescaled."""
    shortest = min((c.period for c in leader.cycles), default=n / 4)
    lag = int(rng.integers(1, max(2, int(min(shortest / 2, n / 8)))))
    gain = float(rng.choice([-1, 1]) * _loguniform(rng, 0.2, 5.0))
    knots = []
    if leader.knots:  # the leader's trend seen `lag` samples later, cut at the end of the series
        end = float(_trend_values(leader.knots, n)[n - 1 - lag])
        knots = [(i + lag, v * gain) for i, v in leader.knots if i + lag < n - 1] + [(n - 1, end * gain)]
    return ChannelSpec(
        level=leader.level * gain + rng.normal(0, abs(gain) * max(abs(leader.level), 1e-3)),
        knots=knots,
        cycles=[Cycle(c.period, c.amplitude * abs(gain), c.shape, c.phase - 2 * np.pi * lag / c.period + (gain < 0) * np.pi)
                for c in leader.cycles],
        noise_std=leader.noise_std * abs(gain) * rng.uniform(0.5, 1.5),
        shifts=[(i + lag, v * gain) for i, v in leader.shifts if i + lag < n - 1],
    )


def _waveform(shape: str, phase: np.ndarray) -> np.ndarray:
    """Zero-mean unit-amplitude periodic shapes."""
    if shape == "sine":
        return np.sin(phase)
    if shape == "triangle":
        return 2 / np.pi * np.arcsin(np.sin(phase))
    return 2 * (np.exp(4 * (np.cos(phase) - 1)) - _PULSE_MEAN)  # a narrow peak once per cycle, like a heartbeat


def _trend_values(knots: list[tuple[int, float]], n: int) -> np.ndarray:
    if not knots:
        return np.zeros(n)
    xs, ys = zip(*knots)
    return np.interp(np.arange(n), xs, ys)


def _components(spec: ChannelSpec, n: int) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """(trend + level, each cycle, steps) of a channel without noise and events."""
    t = np.arange(n, dtype=np.float64)
    cycles = [c.amplitude * _waveform(c.shape, 2 * np.pi * t / c.period + c.phase) for c in spec.cycles]
    steps = sum((v * (t >= i) for i, v in spec.shifts), np.zeros(n))
    return spec.level + _trend_values(spec.knots, n), cycles, steps


def render(spec: SyntheticSpec, rng: np.random.Generator) -> np.ndarray:
    """The `[channels, time]` float32 series of a spec."""
    out = np.empty((len(spec.channels), spec.length), dtype=np.float32)
    for k, ch in enumerate(spec.channels):
        trend, cycles, steps = _components(ch, spec.length)
        x = trend + sum(cycles, np.zeros(spec.length)) + steps + rng.normal(0.0, ch.noise_std, spec.length)
        for index, height in ch.spikes:
            x[index] += height
        for span in ch.flat:
            x[span.start : span.end + 1] = x[span.start]
        for span in ch.missing:
            x[span.start : span.end + 1] = np.nan
        out[k] = x
    return out


def true_facts(spec: SyntheticSpec, sensor: np.ndarray) -> SeriesFacts:
    """Caption facts from the spec; statistics and cross-channel relations measured on the rendered series."""
    names, _ = default_names(len(spec.channels), None, None)
    channels = [_channel_facts(ch, row, name, spec.length) for ch, row, name in zip(spec.channels, sensor, names)]
    filled = [fill_gaps(row.astype(np.float64)) for row in sensor]
    return SeriesFacts(spec.sampling_rate, spec.length, channels, describe_pairs(filled, channels), domain=DOMAIN)


def _channel_facts(ch: ChannelSpec, row: np.ndarray, name: str, n: int) -> ChannelFacts:
    stats = channel_stats(row)
    amplitude = stats.amplitude
    trend_part, _, steps = _components(ch, n)
    change = ch.knots[-1][1] - ch.knots[0][1] if ch.knots else 0.0
    segments = _true_segments(ch.knots, amplitude) if len(ch.knots) > 2 else []
    # Cycle strength: variance share in the series without trend, steps and spikes (noise stays: it hides cycles).
    detrended = fill_gaps(row.astype(np.float64)) - trend_part - steps
    for index, height in ch.spikes:
        detrended[index] -= height
    periods = [Period(c.period, periodic_strength(detrended, c.period)) for c in ch.cycles]
    return ChannelFacts(
        name=name,
        unit="",
        length=n,
        stats=stats,
        missing=list(ch.missing),
        trend=Trend(overall_direction(change, amplitude), float(change), segments),
        periods=periods,
        noise_std=ch.noise_std,
        spikes=[i for i, _ in ch.spikes],
        level_shifts=[LevelShift(i, v) for i, v in ch.shifts],
        flat=list(ch.flat),
    )


def _true_segments(knots: list[tuple[int, float]], amplitude: float) -> list[TrendSegment]:
    """Knot-to-knot pieces, merged while the direction holds; stated only when the direction changes."""
    segments: list[TrendSegment] = []
    for (i0, v0), (i1, v1) in zip(knots, knots[1:]):
        direction = "increasing" if v1 > v0 else "decreasing"
        if segments and segments[-1].direction == direction:
            segments[-1].end, segments[-1].change = i1, segments[-1].change + (v1 - v0)
        else:
            segments.append(TrendSegment(direction, i0, i1, v1 - v0))
    return segments if len(segments) > 1 else []


def make_record(index: int, seed: int) -> CorpusRecord:
    """The `index`-th synthetic corpus record for `seed`."""
    rng = record_rng(seed, SOURCE, index)
    spec = sample_spec(rng)
    sensor = render(spec, rng)
    facts = true_facts(spec, sensor)
    caption = render_caption(facts, seed=int(rng.integers(2**31)))
    channels = facts.channels
    return CorpusRecord(
        id=f"{SOURCE}-{index:07d}",
        sensor=sensor,
        sampling_rate=spec.sampling_rate,
        channel_names=[c.name for c in channels],
        channel_units=[c.unit for c in channels],
        domain=DOMAIN,
        label="",
        source=SOURCE,
        caption=caption,
    )
