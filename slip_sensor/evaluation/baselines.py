"""Statistical-feature baseline: a fixed, model-free feature vector per sample for the linear probe, and the same
features mapped linearly into a text tower's embedding space for retrieval (`StatisticalFeatureEncoder`).

Per channel: mean, std, min, max, the 10/25/50/75/90 % quantiles, mean absolute first difference, and the dominant
frequency (Hz) of the mean-removed spectrum (0 for a flat series). Missing values (NaN) are ignored; a channel with
no observed value, or a channel a sample lacks (channel counts may differ), contributes zeros.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from .harness import SensorTextEncoder

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


class StatisticalFeatureEncoder:
    """A `SensorTextEncoder` for retrieval baselines: the statistical features of a sample (plus the log of its
    sampling rate and duration, which any model is given too), signed-log compressed and standardised, mapped by
    ridge regression onto the text embeddings of its caption; texts are embedded by `text_encoder`.

    It is what "no learned sensor encoder, but supervision from the same captions" reaches: fitted on a training
    split (`fit`), scored on held-out pairs. `ridge` is fixed, not tuned on any split.

    Args:
        text_encoder: embeds the texts (the evaluated model's own text tower, so the map targets its space).
        num_channels: features are kept for this many channels (zeros for channels a sample lacks; more are cut).
    """

    def __init__(self, text_encoder: "SensorTextEncoder", num_channels: int, ridge: float = 1.0):
        self.text_encoder = text_encoder
        self.num_channels = num_channels
        self.ridge = ridge
        self._mean = self._std = self._weights = self._intercept = None

    def _features(self, sensors: Sequence[np.ndarray], sampling_rate: float | None) -> np.ndarray:
        rate = sampling_rate or 1.0
        width = self.num_channels * len(STATISTICAL_FEATURE_NAMES)
        features = np.zeros((len(sensors), width + 2))
        for i, sample in enumerate(sensors):
            row = statistical_features([sample], rate)[0][:width]
            features[i, : len(row)] = row
            features[i, width:] = np.log10(rate), np.log10(np.atleast_2d(sample).shape[-1] / rate)
        return np.sign(features) * np.log1p(np.abs(features))  # values span many orders of magnitude

    def fit(
        self, sensors: Sequence[np.ndarray], rates: Sequence[float | None], texts: Sequence[str]
    ) -> "StatisticalFeatureEncoder":
        """Fits the map on training pairs (sample i is described by text i)."""
        features = np.concatenate([self._features([sample], rate) for sample, rate in zip(sensors, rates)])
        self._mean, self._std = features.mean(0), features.std(0) + 1e-6
        x = (features - self._mean) / self._std
        y = np.asarray(self.text_encoder.text_embeddings(list(texts)), dtype=np.float64)
        self._intercept = y.mean(0)  # text embeddings share a direction that centred features cannot predict
        self._weights = np.linalg.solve(x.T @ x + self.ridge * np.eye(x.shape[1]), x.T @ (y - self._intercept))
        return self

    def sensor_embeddings(self, sensors: Sequence[np.ndarray], sampling_rate: float | None) -> np.ndarray:
        if self._weights is None:
            raise RuntimeError("fit the statistical-feature map on training pairs before embedding")
        x = (self._features(sensors, sampling_rate) - self._mean) / self._std
        return (x @ self._weights + self._intercept).astype(np.float32)

    def text_embeddings(self, texts: Sequence[str]) -> np.ndarray:
        return self.text_encoder.text_embeddings(texts)
