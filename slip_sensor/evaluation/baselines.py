"""Statistical-feature baseline: a fixed, model-free feature vector per sample for the linear probe.

Per channel: mean, std, min, max, the 10/25/50/75/90 % quantiles, mean absolute first difference, and the dominant
frequency (Hz) of the mean-removed spectrum (0 for a flat series). Missing values (NaN) are ignored; a channel with
no observed value, or a channel a sample lacks (channel counts may differ), contributes zeros.
"""

from typing import Sequence

import numpy as np

QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
STATISTICAL_FEATURE_NAMES = (
    ["mean", "std", "min", "max"] + [f"q{round(q * 100)}" for q in QUANTILES] + ["mean_abs_diff", "dominant_freq_hz"]
)


def _channel_features(x: np.ndarray, sampling_rate: float) -> np.ndarray:
    """`[T]` series (may hold NaN) → `[F]` features."""
    observed = x[~np.isnan(x)]
    if observed.size == 0:
        return np.zeros(len(STATISTICAL_FEATURE_NAMES))
    diffs = np.diff(x)
    diffs = diffs[~np.isnan(diffs)]
    # missing points become the mean, i.e. 0 after centring, so they add no spectral energy
    centred = np.where(np.isnan(x), 0.0, x - observed.mean())
    spectrum = np.abs(np.fft.rfft(centred))
    frequencies = np.fft.rfftfreq(len(x), d=1.0 / sampling_rate)
    # a flat (or too short) series has no dominant frequency: report 0 rather than the first bin
    dominant = frequencies[1 + spectrum[1:].argmax()] if len(spectrum) > 1 and np.ptp(observed) > 0 else 0.0
    return np.concatenate(
        [
            [observed.mean(), observed.std(), observed.min(), observed.max()],
            np.quantile(observed, QUANTILES),
            [np.abs(diffs).mean() if diffs.size else 0.0, dominant],
        ]
    )


def statistical_features(sensors: Sequence[np.ndarray], sampling_rate: float) -> np.ndarray:
    """`N` arrays `[C_i, T_i]` → `[N, C_max * F]` float32 features, channel-major.

    `F = len(STATISTICAL_FEATURE_NAMES)`; feature `f` of channel `c` is column `c * F + f`.
    """
    num_channels = max(np.atleast_2d(s).shape[0] for s in sensors)
    num_features = len(STATISTICAL_FEATURE_NAMES)
    out = np.zeros((len(sensors), num_channels, num_features))
    for i, sample in enumerate(sensors):
        for c, channel in enumerate(np.atleast_2d(np.asarray(sample, dtype=np.float64))):
            out[i, c] = _channel_features(channel, sampling_rate)
    return out.reshape(len(sensors), num_channels * num_features).astype(np.float32)
