"""Physiological simulations (neurokit2) captioned from their true parameters.

A spec picks a scenario (resting, light activity, exercise) that sets the heart and breathing rates, one signal or a
bundle of 2-4 simultaneous signals (univariate : multivariate = 1 : 2), a sampling rate, a length, Gaussian noise of
known std, and sometimes a sensor dropout (missing stretch). The caption states the true heart rate, breathing rate,
skin conductance responses, muscle bursts, cycles and noise; statistics are measured on the simulated data.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .attributes import ChannelFacts, Period, SeriesFacts, Span, channel_stats, describe_pairs, fill_gaps, periodic_strength
from .captions import render_caption
from .corpus import CorpusRecord, record_rng

SOURCE = "physio"
DOMAIN = "health"
SIGNALS = ("ecg", "ppg", "rsp", "eda", "emg")
CHANNELS = {  # signal -> (channel name, unit)
    "ecg": ("ECG", "mV"),
    "ppg": ("PPG", "a.u."),
    "rsp": ("respiration", "a.u."),
    "eda": ("EDA", "µS"),
    "emg": ("EMG", "mV"),
}
SCENARIOS = {  # label -> (heart rate range bpm, breathing rate range per minute)
    "resting": ((52.0, 78.0), (10.0, 16.0)),
    "doing light activity": ((80.0, 105.0), (15.0, 22.0)),
    "exercising": ((115.0, 175.0), (22.0, 40.0)),
}
LABEL_TEMPLATES = ("The subject is {label}.", "Recorded while the subject was {label}.", "The subject was {label} during this recording.")
BUNDLES = (("ecg", "ppg"), ("ecg", "rsp"), ("ppg", "eda"), ("ecg", "ppg", "rsp"), ("ecg", "ppg", "rsp", "eda"), ("ecg", "emg"), ("ppg", "rsp", "eda"))
SINGLE_WEIGHTS = (0.3, 0.25, 0.2, 0.15, 0.1)  # over SIGNALS
MULTIVARIATE_SHARE = 2 / 3
MIN_LENGTH, MAX_LENGTH = 256, 2048
_RATES = {"default": (50, 100, 128, 250), "eda": (4, 8, 16, 32), "emg": (250, 500)}  # Hz
_CYCLES_NEEDED = 3  # visible heartbeats / breaths


@dataclass
class PhysioSpec:
    signals: tuple[str, ...]
    sampling_rate: float
    length: int
    scenario: str
    heart_rate: float  # bpm
    respiratory_rate: float  # breaths per minute
    scr_number: int  # skin conductance responses (EDA)
    burst_number: int  # muscle bursts (EMG)
    eda_level: float  # tonic skin conductance, µS
    noise: float  # Gaussian noise std as a fraction of each signal's robust range
    dropout: Span | None  # samples lost in every channel
    ecg_method: str  # neurokit2 "simple" (fast template) or "ecgsyn" (dynamical model)


def sample_spec(rng: np.random.Generator) -> PhysioSpec:
    """Draw a physiological recording."""
    if rng.random() < MULTIVARIATE_SHARE:
        signals = BUNDLES[int(rng.integers(len(BUNDLES)))]
    else:
        signals = (SIGNALS[int(rng.choice(len(SIGNALS), p=SINGLE_WEIGHTS))],)
    scenario = list(SCENARIOS)[int(rng.integers(len(SCENARIOS)))]
    (hr_low, hr_high), (rr_low, rr_high) = SCENARIOS[scenario]
    heart_rate, respiratory_rate = float(rng.uniform(hr_low, hr_high)), float(rng.uniform(rr_low, rr_high))
    needed = _CYCLES_NEEDED * 60.0 / (respiratory_rate if "rsp" in signals else heart_rate)  # seconds
    needed = max(needed, 20.0) if "eda" in signals else needed
    group = "emg" if "emg" in signals else "eda" if signals == ("eda",) else "default"
    rates = [r for r in _RATES[group] if r * needed <= MAX_LENGTH] or [min(_RATES[group])]
    sampling_rate = float(rates[int(rng.integers(len(rates)))])
    length = int(rng.integers(min(max(MIN_LENGTH, math.ceil(needed * sampling_rate)), MAX_LENGTH), MAX_LENGTH + 1))
    dropout = None
    if rng.random() < 0.1:
        size = int(rng.uniform(0.02, 0.1) * length)
        start = int(rng.integers(1, length - size - 1))
        dropout = Span(start, start + size - 1)
    return PhysioSpec(
        signals=signals,
        sampling_rate=sampling_rate,
        length=length,
        scenario=scenario,
        heart_rate=heart_rate,
        respiratory_rate=respiratory_rate,
        scr_number=int(rng.integers(1, max(2, int(length / sampling_rate / 15)) + 1)),
        burst_number=int(rng.integers(1, 4)),
        eda_level=float(rng.uniform(1.0, 10.0)),
        noise=float(np.exp(rng.uniform(np.log(0.01), np.log(0.15)))),
        dropout=dropout,
        ecg_method="ecgsyn" if sampling_rate >= 128 and rng.random() < 0.15 else "simple",
    )


def _simulate(signal: str, spec: PhysioSpec, seed: int) -> np.ndarray:
    """One clean neurokit2 signal of exactly `spec.length` samples (noise is added separately, with a known std)."""
    import neurokit2 as nk  # imported here: ~2 s, and only physio records need it

    # neurokit2 mis-sizes some outputs when given `length` or a fractional duration, and ecgsyn stops after its last
    # whole beat: simulate 20% more whole seconds than needed, then cut.
    duration = math.ceil(1.2 * spec.length / spec.sampling_rate) + 2
    # Integer rates: rsp_simulate slices with duration * sampling_rate, which must be an int.
    common = {"duration": duration, "sampling_rate": int(spec.sampling_rate), "random_state": seed}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # neurokit2 warns about short durations and low rates
        if signal == "ecg":
            x = nk.ecg_simulate(noise=0.0, heart_rate=spec.heart_rate, heart_rate_std=1.0, method=spec.ecg_method, **common)
        elif signal == "ppg":
            x = nk.ppg_simulate(heart_rate=spec.heart_rate, frequency_modulation=0.1, ibi_randomness=0.05, drift=0.0,
                                motion_amplitude=0.0, powerline_amplitude=0.0, **common)
        elif signal == "rsp":
            x = nk.rsp_simulate(noise=0.0, respiratory_rate=spec.respiratory_rate, method="breathmetrics", **common)
        elif signal == "eda":
            x = nk.eda_simulate(noise=0.0, scr_number=spec.scr_number, drift=0.0, **common) + spec.eda_level
        else:
            x = nk.emg_simulate(burst_number=spec.burst_number, burst_duration=0.5, **common)
    x = np.asarray(x, dtype=np.float64)[: spec.length]
    if len(x) != spec.length:
        raise RuntimeError(f"neurokit2 returned {len(x)} {signal} samples, {spec.length} were needed")
    return x


def render(spec: PhysioSpec, rng: np.random.Generator) -> tuple[np.ndarray, list[float | None]]:
    """The `[channels, time]` float32 recording and each channel's true noise std (None where none was added)."""
    out = np.empty((len(spec.signals), spec.length), dtype=np.float32)
    noise_stds: list[float | None] = []
    for k, signal in enumerate(spec.signals):
        x = _simulate(signal, spec, int(rng.integers(2**31)))
        if signal == "emg":  # an EMG is itself noise-like: its bursts are the content, no extra noise is defined
            noise_stds.append(None)
        else:
            q05, q95 = np.percentile(x, [5, 95])
            std = spec.noise * float(q95 - q05)
            x = x + rng.normal(0.0, std, len(x))
            noise_stds.append(std)
        if spec.dropout is not None:
            x[spec.dropout.start : spec.dropout.end + 1] = np.nan
        out[k] = x
    return out, noise_stds


def true_facts(spec: PhysioSpec, sensor: np.ndarray, noise_stds: list[float | None]) -> SeriesFacts:
    """Facts from the simulation parameters; statistics and channel relations measured on the data."""
    channels = []
    for signal, row, noise in zip(spec.signals, sensor, noise_stds):
        name, unit = CHANNELS[signal]
        per_minute = {"ecg": spec.heart_rate, "ppg": spec.heart_rate, "rsp": spec.respiratory_rate}.get(signal)
        periods = None
        if per_minute is not None:
            samples = 60.0 / per_minute * spec.sampling_rate
            filled = fill_gaps(row.astype(np.float64))
            periods = [Period(samples, periodic_strength(filled - filled.mean(), samples))]
        channels.append(ChannelFacts(
            name=name, unit=unit, length=spec.length, stats=channel_stats(row),
            missing=[spec.dropout] if spec.dropout is not None else [], periods=periods, noise_std=noise,
        ))
    filled = [fill_gaps(row.astype(np.float64)) for row in sensor]
    facts = SeriesFacts(spec.sampling_rate, spec.length, channels, describe_pairs(filled, channels), DOMAIN, spec.scenario)
    if {"ecg", "ppg"} & set(spec.signals):
        facts.extras["heart_rate_bpm"] = spec.heart_rate
    if "rsp" in spec.signals:
        facts.extras["respiratory_rate_bpm"] = spec.respiratory_rate
    if "eda" in spec.signals:
        facts.extras["scr_count"] = spec.scr_number
    if "emg" in spec.signals:
        facts.extras["emg_bursts"] = spec.burst_number
    return facts


def make_record(index: int, seed: int) -> CorpusRecord:
    """The `index`-th physiological corpus record for `seed`."""
    rng = record_rng(seed, SOURCE, index)
    spec = sample_spec(rng)
    sensor, noise_stds = render(spec, rng)
    facts = true_facts(spec, sensor, noise_stds)
    caption = render_caption(facts, seed=int(rng.integers(2**31)), label_templates=LABEL_TEMPLATES)
    return CorpusRecord(
        id=f"{SOURCE}-{index:07d}",
        sensor=sensor,
        sampling_rate=spec.sampling_rate,
        channel_names=[c.name for c in facts.channels],
        channel_units=[c.unit for c in facts.channels],
        domain=DOMAIN,
        label=spec.scenario,
        source=SOURCE,
        caption=caption,
    )
