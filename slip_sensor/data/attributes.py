"""Facts about a sensor series, computed from the data: the only source of what a caption may state.

`describe_series` turns a `[channels, time]` array and its sampling rate into a `SeriesFacts`: per-channel statistics
and structure (trend, periodicity, noise, spikes, level shifts, flat and missing stretches) plus cross-channel
correlation and lead/lag. Positions are sample indices; `SeriesFacts.to_dict` adds seconds and the values the model
sees after its per-channel normalisation (division by the channel's mean |x|).

Unlike the reference generator, periods are searched freely in samples (no snapping to a daily grid), overlapping
trend windows are merged into segments, and missing values are reported instead of silently imputed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Thresholds. Amplitudes are relative to the channel's robust range (5th-95th percentile), so they do not depend on units.
MIN_POINTS = 8  # fewer valid samples than this: statistics only
MIN_PERIOD_POINTS = 16  # shorter series are never called periodic
PERIOD_MIN_CYCLES = 3.0  # a cycle must be seen three times: two "cycles" of a random walk are not periodicity
PERIOD_MIN_ACF = 0.3  # autocorrelation at the period lag
PERIOD_MIN_DIP = 0.3  # the autocorrelation must dip by this much before the peak (an oscillation, not a slow drift)
PERIOD_MIN_STRENGTH = 0.2  # share of variance the periodic fit must explain
SECOND_PERIOD_MIN_STRENGTH = 0.1
PERIOD_HARMONICS = 3
GOLDEN_STEPS = 12  # golden-section iterations refining a period (the 1.5% bracket shrinks below 0.01%)
TREND_MIN_STRENGTH = 0.2  # |total change| / robust range
TREND_MIN_T = 4.0  # t statistic of the slope
SEGMENT_MIN_STRENGTH = 0.15  # |change within one window| / robust range
SEGMENT_KEEP_STRENGTH = 0.2  # |change over a merged segment| / robust range
SPIKE_K = 6.0  # robust standard deviations
SPIKE_MIN = 0.2  # fraction of the robust range
SPIKE_MAX_WIDTH = 3  # samples; anything wider is a burst or a level change, not a spike
SHIFT_K = 6.0  # robust standard deviations of a window median difference
SHIFT_MIN = 0.2  # fraction of the robust range
FLAT_MIN_SAMPLES = 5
FLAT_MIN_FRACTION = 0.05
CORRELATION_MIN = 0.4  # |r| worth stating
LAG_MIN_CORRELATION = 0.5
LAG_MIN_GAIN = 0.1  # a lag must beat zero-lag correlation by this much
MAX_PAIRS = 5
NOISE_LEVELS = ((0.05, "almost no noise"), (0.1, "low noise"), (0.2, "moderate noise"), (np.inf, "high noise"))


@dataclass
class Span:
    """Inclusive sample range [start, end]."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


@dataclass
class TrendSegment:
    direction: str  # "increasing" or "decreasing"
    start: int
    end: int
    change: float  # raw units over the segment


@dataclass
class Trend:
    direction: str  # "increasing", "decreasing" or "none"
    change: float  # change of the fitted trend over the whole series, raw units
    segments: list[TrendSegment] = field(default_factory=list)  # stated only when the direction changes


@dataclass
class Period:
    samples: float  # period length in samples
    strength: float  # share of the (detrended) variance the cycle explains, 0..1


@dataclass
class LevelShift:
    index: int  # first sample at the new level
    change: float  # raw units


@dataclass
class ChannelStats:
    """Statistics over the valid (non-NaN) samples, in raw units."""

    mean: float
    std: float
    minimum: float
    maximum: float
    argmin: int
    argmax: int
    scale: float  # mean |x|: what the model divides by
    amplitude: float  # 95th minus 5th percentile


@dataclass
class ChannelFacts:
    """Everything known about one channel. `None` means "not assessed" (nothing is stated), `[]` means "none found"."""

    name: str
    unit: str
    length: int
    stats: ChannelStats | None  # None when every sample is missing
    missing: list[Span]
    trend: Trend | None = None
    periods: list[Period] | None = None
    noise_std: float | None = None
    spikes: list[int] | None = None
    level_shifts: list[LevelShift] | None = None
    flat: list[Span] | None = None


@dataclass
class ChannelPair:
    first: int
    second: int
    correlation: float  # Pearson r at zero lag
    lag: int  # samples by which `second` follows `first` (negative: it leads); 0 when no lag is stated
    lag_correlation: float


@dataclass
class SeriesFacts:
    sampling_rate: float  # Hz
    length: int
    channels: list[ChannelFacts]
    pairs: list[ChannelPair]
    domain: str = ""
    label: str = ""
    extras: dict = field(default_factory=dict)  # semantic facts (e.g. a heart rate) added by the caption's producer

    @property
    def duration(self) -> float:
        return self.length / self.sampling_rate

    def seconds(self, samples: float) -> float:
        return float(samples) / self.sampling_rate

    def to_dict(self) -> dict:
        """JSON-ready facts, with times in seconds and values also on the model's normalised scale."""
        return {
            "sampling_rate": self.sampling_rate,
            "length": self.length,
            "duration_s": self.duration,
            "domain": self.domain,
            "label": self.label,
            "channels": [self._channel_dict(c) for c in self.channels],
            "pairs": [
                {
                    "first": p.first,
                    "second": p.second,
                    "correlation": p.correlation,
                    "lag_samples": p.lag,
                    "lag_s": self.seconds(p.lag),
                    "lag_correlation": p.lag_correlation,
                }
                for p in self.pairs
            ],
            "extras": dict(self.extras),
        }

    def _span_dict(self, s: Span) -> dict:
        return {"start": s.start, "end": s.end, "start_s": self.seconds(s.start), "end_s": self.seconds(s.end + 1)}

    def _channel_dict(self, c: ChannelFacts) -> dict:
        st = c.stats
        scale = st.scale if st is not None and st.scale > 0 else 1.0
        out: dict = {"name": c.name, "unit": c.unit, "length": c.length}
        if st is not None:
            out["stats"] = {
                "mean": st.mean,
                "std": st.std,
                "min": st.minimum,
                "max": st.maximum,
                "argmin": st.argmin,
                "argmax": st.argmax,
                "argmin_s": self.seconds(st.argmin),
                "argmax_s": self.seconds(st.argmax),
                "scale": st.scale,
                "amplitude": st.amplitude,
                "normalised": {"mean": st.mean / scale, "std": st.std / scale, "min": st.minimum / scale,
                               "max": st.maximum / scale},
            }
        out["missing"] = [self._span_dict(s) for s in c.missing]
        if c.trend is not None:
            out["trend"] = {
                "direction": c.trend.direction,
                "change": c.trend.change,
                "change_normalised": c.trend.change / scale,
                "segments": [
                    {"direction": g.direction, "change": g.change, **self._span_dict(Span(g.start, g.end))}
                    for g in c.trend.segments
                ],
            }
        if c.periods is not None:
            out["periods"] = [
                {"samples": p.samples, "seconds": self.seconds(p.samples), "strength": p.strength} for p in c.periods
            ]
        if c.noise_std is not None:
            amplitude = st.amplitude if st is not None else 0.0
            out["noise"] = {"std": c.noise_std, "std_normalised": c.noise_std / scale,
                            "level": noise_level(c.noise_std, amplitude)}
        if c.spikes is not None:
            out["spikes"] = [{"index": i, "time_s": self.seconds(i)} for i in c.spikes]
        if c.level_shifts is not None:
            out["level_shifts"] = [
                {"index": s.index, "time_s": self.seconds(s.index), "change": s.change,
                 "change_normalised": s.change / scale}
                for s in c.level_shifts
            ]
        if c.flat is not None:
            out["flat"] = [self._span_dict(s) for s in c.flat]
        return out


def noise_level(noise_std: float, amplitude: float) -> str:
    """Word for the noise level: noise std relative to the robust range of the channel."""
    ratio = noise_std / amplitude if amplitude > 0 else 0.0
    return next(label for bound, label in NOISE_LEVELS if ratio < bound)


def overall_direction(change: float, amplitude: float) -> str:
    """Direction word for a total change, or "none" when it is small next to the channel's robust range."""
    if abs(change) < TREND_MIN_STRENGTH * amplitude or change == 0:
        return "none"
    return "increasing" if change > 0 else "decreasing"


def runs(mask: np.ndarray) -> list[Span]:
    """Maximal runs of True in a 1-D boolean array."""
    edges = np.diff(np.concatenate(([0], np.asarray(mask, dtype=np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [Span(int(s), int(e)) for s, e in zip(starts, ends)]


def channel_stats(x: np.ndarray) -> ChannelStats | None:
    """Statistics of one channel over its finite samples (None when there are none)."""
    finite = np.isfinite(x)
    if not finite.any():
        return None
    valid = x[finite].astype(np.float64)
    idx = np.flatnonzero(finite)
    q05, q95 = np.percentile(valid, [5, 95])
    return ChannelStats(
        mean=float(valid.mean()),
        std=float(valid.std()),
        minimum=float(valid.min()),
        maximum=float(valid.max()),
        argmin=int(idx[valid.argmin()]),
        argmax=int(idx[valid.argmax()]),
        scale=float(np.abs(valid).mean()),
        amplitude=float(q95 - q05) if q95 > q05 else float(valid.max() - valid.min()),
    )


def describe_series(
    sensor: np.ndarray,
    sampling_rate: float,
    channel_names: list[str] | None = None,
    units: list[str] | None = None,
) -> SeriesFacts:
    """Compute every caption fact of a `[channels, time]` array sampled at `sampling_rate` Hz (NaN = missing)."""
    x = _as_channels_first(sensor)
    if sampling_rate <= 0:
        raise ValueError(f"sampling_rate must be > 0 Hz, got {sampling_rate}")
    names, unit_list = default_names(x.shape[0], channel_names, units)
    channels, filled = [], []
    for row, name, unit in zip(x, names, unit_list):
        facts, y = describe_channel(row, name, unit)
        channels.append(facts)
        filled.append(y)
    return SeriesFacts(float(sampling_rate), x.shape[1], channels, describe_pairs(filled, channels))


def default_names(n: int, channel_names: list[str] | None, units: list[str] | None) -> tuple[list[str], list[str]]:
    """Channel names ("signal" / "channel k" when not given) and units ("" when not given), validated against n."""
    names = list(channel_names) if channel_names else (["signal"] if n == 1 else [f"channel {i + 1}" for i in range(n)])
    unit_list = list(units) if units else [""] * n
    if len(names) != n or len(unit_list) != n:
        raise ValueError(f"{n} channels but {len(names)} names and {len(unit_list)} units")
    return names, unit_list


def _as_channels_first(sensor: np.ndarray) -> np.ndarray:
    x = np.asarray(sensor, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"expected a [channels, time] array, got shape {x.shape}")
    return x


def describe_channel(x: np.ndarray, name: str = "signal", unit: str = "") -> tuple[ChannelFacts, np.ndarray | None]:
    """Facts of one channel, plus the gap-filled, spike-free series used for cross-channel analysis (None if unusable)."""
    n = len(x)
    finite = np.isfinite(x)
    stats = channel_stats(x)
    facts = ChannelFacts(name=name, unit=unit, length=n, stats=stats, missing=runs(~finite))
    if stats is None or finite.sum() < MIN_POINTS:
        return facts, None
    facts.flat = _flat_stretches(x, stats.amplitude)
    t = np.arange(n, dtype=np.float64)
    y = fill_gaps(x)
    if stats.amplitude == 0:  # constant channel: nothing moves
        facts.trend, facts.periods, facts.noise_std = Trend("none", 0.0), [], 0.0
        facts.spikes, facts.level_shifts = [], []
        return facts, None

    # Pass 1: remove trend and cycles, then find isolated outliers so they cannot distort the fits of pass 2.
    line = _line(t, y)
    periods = _find_periods(_winsorised(y - _slow_part(y)), y - line)
    baseline = line + _fit(t, _winsorised(y - line), periods, shifts=[]).seasonal  # fitted on clipped data
    facts.spikes = _spikes(y - baseline, stats.amplitude, finite)
    clean = y.copy()
    if facts.spikes:
        keep = np.ones(n, dtype=bool)
        for i in facts.spikes:
            keep[max(0, i - 1) : i + 2] = False
        clean = np.interp(t, t[keep], y[keep])

    # Pass 2: cycles, level shifts, trend and noise of the spike-free series.
    periods = _find_periods(clean - _slow_part(clean), clean - _line(t, clean))
    fit = _fit(t, clean, periods, shifts=[])
    deseasonalised = clean - fit.seasonal
    window = _shift_window(n, periods)
    candidates = _level_shifts(deseasonalised, window, stats.amplitude, _noise_std(deseasonalised, finite))
    fit = _fit(t, clean, periods, shifts=[s.index for s in candidates])
    # Steps are re-estimated jointly with trend and cycles; those that shrink below the threshold were not steps.
    kept = [s for s, c in zip(candidates, fit.steps) if abs(c) >= SHIFT_MIN * stats.amplitude]
    if len(kept) < len(candidates):
        fit = _fit(t, clean, periods, shifts=[s.index for s in kept])
    shifts = [LevelShift(s.index, float(c)) for s, c in zip(kept, fit.steps)]
    steps = sum((s.change * (t >= s.index) for s in shifts), np.zeros(n))
    noise = _noise_std(clean - fit.seasonal - fit.trend_line - steps, finite)
    facts.periods, facts.level_shifts, facts.noise_std = periods, shifts, noise
    facts.trend = _trend(t, fit.slope, noise, stats.amplitude, clean - fit.seasonal - steps)
    return facts, clean


def _line(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    slope, intercept = np.polyfit(t, y, 1)
    return intercept + slope * t


def _robust_std(r: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(r - np.median(r))))


def _noise_std(r: np.ndarray, finite: np.ndarray) -> float:
    """White-noise std from first differences of observed neighbours: blind to slow structure the fit missed."""
    both = finite[1:] & finite[:-1]
    return _robust_std(np.diff(r)[both]) / np.sqrt(2) if both.sum() >= 2 else 0.0


def _harmonics(t: np.ndarray, period: float, n_harmonics: int = PERIOD_HARMONICS) -> list[np.ndarray]:
    n_harmonics = max(1, min(n_harmonics, int(period // 2.5)))  # stay below the Nyquist frequency
    w = 2 * np.pi * t / period
    return [f(h * w) for h in range(1, n_harmonics + 1) for f in (np.cos, np.sin)]


def _solve(design: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares via the normal equations with a tiny ridge: fast for few columns, never singular."""
    gram = design.T @ design
    gram[np.diag_indices_from(gram)] += 1e-10 * np.trace(gram) / len(gram)
    return np.linalg.solve(gram, design.T @ y)


@dataclass
class _Fit:
    slope: float  # per sample
    steps: np.ndarray  # one change per requested level shift
    seasonal: np.ndarray
    trend_line: np.ndarray


def _fit(t: np.ndarray, y: np.ndarray, periods: list[Period], shifts: list[int]) -> _Fit:
    """Joint least squares of intercept + slope + level steps + harmonics of every period."""
    half = max((t[-1] - t[0]) / 2, 1.0)
    ts = (t - t.mean()) / half  # centred and scaled, for a well-conditioned system
    base = [np.ones_like(t), ts] + [(t >= i).astype(np.float64) for i in shifts]
    cyc = [col for p in periods for col in _harmonics(t, p.samples)]
    design = np.column_stack(base + cyc)
    coef = _solve(design, y)
    nb = len(base)
    seasonal = design[:, nb:] @ coef[nb:] if cyc else np.zeros_like(y)
    return _Fit(float(coef[1] / half), coef[2:nb], seasonal, coef[0] + coef[1] * ts)


def _autocorrelation(y: np.ndarray) -> np.ndarray:
    """Unbiased autocorrelation for lags 0..n-1 (each lag normalised by its own overlap)."""
    n = len(y)
    spectrum = np.fft.rfft(y, 1 << (2 * n - 1).bit_length())
    acf = np.fft.irfft(spectrum * spectrum.conj())[:n]
    acf = acf / acf[0] * n / (n - np.arange(n))
    return acf


def periodic_strength(y: np.ndarray, period: float) -> float:
    """Share of the variance of a detrended series explained by a cycle of `period` samples (with harmonics)."""
    return _explained(np.arange(len(y), dtype=np.float64), y, period)


def fill_gaps(x: np.ndarray) -> np.ndarray:
    """Bridge NaN gaps linearly (ends are held constant); for analysis only, gaps are still reported as missing."""
    finite = np.isfinite(x)
    t = np.arange(len(x), dtype=np.float64)
    return np.interp(t, t[finite], x[finite])


def _explained(t: np.ndarray, y: np.ndarray, period: float, n_harmonics: int = PERIOD_HARMONICS) -> float:
    """Share of the variance of y explained by a cycle of this period (with harmonics)."""
    design = np.column_stack([np.ones_like(t)] + _harmonics(t, period, n_harmonics))
    return max(0.0, 1.0 - float(np.var(y - design @ _solve(design, y)) / np.var(y)))


def _coarse_period(t: np.ndarray, y: np.ndarray, lag: float) -> float:
    """Period near `lag` with the largest harmonic power on a 0.75% grid, interpolated between grid points."""
    grid = lag * np.linspace(0.85, 1.15, 41)
    phase = 2 * np.pi * np.outer(t, 1.0 / grid)
    power = np.zeros(len(grid))
    for h in range(1, max(1, min(PERIOD_HARMONICS, int(lag // 2.5))) + 1):
        power += (y @ np.cos(h * phase)) ** 2 + (y @ np.sin(h * phase)) ** 2
    k = int(np.clip(power.argmax(), 1, len(grid) - 2))
    a, b, c = power[k - 1 : k + 2]
    offset = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else 0.0
    return float(grid[k] + np.clip(offset, -1, 1) * (grid[1] - grid[0]))


def _refine_period(t: np.ndarray, y: np.ndarray, period: float) -> float:
    """Golden-section search of the least-squares period within one grid step: with many visible cycles the fit is
    very sensitive to the period, and a slightly wrong one leaves a large residual (hiding spikes and steps)."""
    low, high = period * (1 - 0.0075), period * (1 + 0.0075)
    ratio = (np.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa, fb = _explained(t, y, a), _explained(t, y, b)
    for _ in range(GOLDEN_STEPS):
        if fa >= fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = _explained(t, y, a)
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = _explained(t, y, b)
    return float((low + high) / 2)


def _find_period(y: np.ndarray) -> Period | None:
    """Dominant period of a detrended series: the first strong autocorrelation peak, refined by least squares."""
    n = len(y)
    y = y - y.mean()
    if n < MIN_PERIOD_POINTS or np.var(y) <= 1e-24:
        return None
    acf = _autocorrelation(y)
    max_lag = int(n / PERIOD_MIN_CYCLES)
    lags = np.arange(2, max_lag)
    if len(lags) == 0:
        return None
    peak = (acf[lags] > acf[lags - 1]) & (acf[lags] >= acf[lags + 1])
    dip = acf[lags] - np.minimum.accumulate(acf[: max_lag + 1])[lags]
    threshold = np.maximum(PERIOD_MIN_ACF, 2.5 / np.sqrt(n - lags))
    good = lags[peak & (acf[lags] >= threshold) & (dip >= PERIOD_MIN_DIP)]
    if len(good) == 0:
        return None
    lag = int(good[acf[good] >= 0.8 * acf[good].max()][0])  # the first strong peak: the fundamental, not a multiple
    if acf[2 * lag - 2 : 2 * lag + 3].max() < 0.5 * acf[lag]:  # a real cycle also repeats at twice its lag
        return None
    t = np.arange(n, dtype=np.float64)
    # On a coarse sampling grid a short cycle can peak at a multiple of its period. Compared with the same highest
    # frequency (k times the harmonics for the k-fold period), a fraction that fits as well is the fundamental.
    coarse = _coarse_period(t, y, lag)
    for k in (3, 2):
        if lag / k >= 2.5:
            short = _coarse_period(t, y, lag / k)
            if _explained(t, y, short) >= 0.97 * _explained(t, y, coarse, k * PERIOD_HARMONICS):
                coarse = short
                break
    period = _refine_period(t, y, coarse)
    strength = _explained(t, y, period)
    if strength < PERIOD_MIN_STRENGTH or period > n / PERIOD_MIN_CYCLES:
        return None
    return Period(period, strength)


def _find_periods(search: np.ndarray, detrended: np.ndarray) -> list[Period]:
    """Up to two periods, strongest first, searched on a high-passed series; the second must not be a harmonic of the
    first. Strengths are shares of the variance of the linearly detrended series."""
    first = _find_period(search)
    if first is None:
        return []
    t = np.arange(len(search), dtype=np.float64)
    rest = search - _fit(t, search, [first], shifts=[]).seasonal
    periods = [first]
    second = _find_period(rest)
    if second is not None:
        ratio = first.samples / second.samples
        # A shorter cycle at an integer fraction of the first is one of its harmonics, already part of its fit.
        harmonic = round(ratio) <= PERIOD_HARMONICS and abs(ratio - round(ratio)) < 0.1 * ratio
        if not harmonic:
            periods.append(second)
    strengths = [periodic_strength(detrended - detrended.mean(), p.samples) for p in periods]
    return [Period(p.samples, s) for p, s in zip(periods, strengths) if s >= SECOND_PERIOD_MIN_STRENGTH or p is first]


def _slow_part(y: np.ndarray) -> np.ndarray:
    """A running median over a sixth of the series (on a coarse grid, interpolated): removes any slow trend, linear
    or not, so cycles stand out for the period search."""
    n = len(y)
    width = max(9, n // 6)
    centres = np.arange(0, n, max(1, width // 4))
    medians = [np.median(y[max(0, c - width // 2) : c + width // 2 + 1]) for c in centres]
    return np.interp(np.arange(n), centres, medians)


def _rolling_median(y: np.ndarray, width: int) -> np.ndarray:
    half = width // 2
    padded = np.pad(y, half, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, width), axis=1)


def _winsorised(y: np.ndarray) -> np.ndarray:
    """y clipped to median +- 3 IQR-sigmas: before spikes are known, they must not create autocorrelation peaks."""
    q25, q50, q75 = np.percentile(y, [25, 50, 75])
    bound = 3 * (q75 - q25) / 1.349
    return np.clip(y, q50 - bound, q50 + bound) if bound > 0 else y


def _spikes(r: np.ndarray, amplitude: float, finite: np.ndarray) -> list[int]:
    """Isolated outliers of a detrended, deseasonalised series (at most SPIKE_MAX_WIDTH samples wide)."""
    local = r - _rolling_median(r, 2 * SPIKE_MAX_WIDTH + 1)  # a median filter keeps steps, so they are not spikes
    # Measured on observed samples only (bridged gaps would shrink it); 1.19 corrects the MAD of a median-filter residual.
    sigma = 1.19 * _robust_std(local[finite])
    outlier = (np.abs(local) > max(SPIKE_K * sigma, SPIKE_MIN * amplitude)) & finite
    return [
        int(s.start + np.abs(local[s.start : s.end + 1]).argmax())
        for s in runs(outlier)
        if s.length <= SPIKE_MAX_WIDTH
    ]


def _shift_window(n: int, periods: list[Period]) -> int:
    """Window for level-shift medians: long enough to average out a cycle, short enough to localise the step."""
    longest = max((p.samples for p in periods), default=0.0)
    return int(min(max(n // 32, int(np.ceil(longest)), 8), n // 6))


def _level_shifts(z: np.ndarray, window: int, amplitude: float, noise: float) -> list[LevelShift]:
    """Steps in a deseasonalised series: the median of the window after each sample minus the median before it,
    less what the local trend explains (the mean slope of the two windows, which a step does not change)."""
    n = len(z)
    if window < 4:
        return []
    views = np.lib.stride_tricks.sliding_window_view(z, window)  # views[i] = z[i:i+window]
    medians = np.median(views, axis=1)
    tc = np.arange(window) - (window - 1) / 2
    slopes = views @ tc / np.sum(tc**2)
    taus = np.arange(window, n - window + 1)
    local_slope = (slopes[taus - window] + slopes[taus]) / 2
    jump = medians[taus] - medians[taus - window] - local_slope * window
    # Noise of that difference: two window medians ((pi / 2) sigma^2 / w each) and two window slopes (x w).
    threshold = max(SHIFT_K * noise * np.sqrt((np.pi + 6) / window), SHIFT_MIN * amplitude)
    shifts: list[LevelShift] = []
    for k in np.argsort(-np.abs(jump)):
        if abs(jump[k]) < threshold:
            break
        tau = int(taus[k])
        if all(abs(tau - s.index) >= 2 * window for s in shifts):
            shifts.append(LevelShift(_best_split(z, tau, window), float(jump[k])))
    return sorted(shifts, key=lambda s: s.index)


def _best_split(z: np.ndarray, tau: int, window: int) -> int:
    """Exact step position near tau: the split minimising the squared error of two constant levels."""
    lo, hi = max(tau - window, 0), min(tau + window, len(z))
    seg = z[lo:hi]
    cs, cs2 = np.cumsum(seg), np.cumsum(seg**2)
    k = np.arange(1, len(seg))
    left = cs2[k - 1] - cs[k - 1] ** 2 / k
    right = (cs2[-1] - cs2[k - 1]) - (cs[-1] - cs[k - 1]) ** 2 / (len(seg) - k)
    return lo + int(k[np.argmin(left + right)])


def _flat_stretches(x: np.ndarray, amplitude: float) -> list[Span]:
    """Runs where consecutive valid samples stay equal (a stuck or saturated sensor)."""
    n = len(x)
    tolerance = 1e-9 * max(amplitude, float(np.nanmax(np.abs(x))), 1e-12)
    same = np.abs(np.diff(x)) <= tolerance  # NaN compares False, so gaps break a run
    min_len = max(FLAT_MIN_SAMPLES, int(FLAT_MIN_FRACTION * n))
    return [Span(s.start, s.end + 1) for s in runs(same) if s.length + 1 >= min_len]


def _trend(t: np.ndarray, slope: float, noise: float, amplitude: float, detrendable: np.ndarray) -> Trend:
    """Overall direction from the joint fit's slope; piecewise segments from merged sliding windows."""
    n = len(t)
    change = float(slope * (n - 1))
    spread = np.sqrt(np.sum((t - t.mean()) ** 2))
    t_stat = abs(slope) * spread / noise if noise > 0 else np.inf
    direction = overall_direction(change, amplitude) if t_stat >= TREND_MIN_T else "none"
    segments = _segments(detrendable, noise, amplitude)
    covers_all = len(segments) == 1 and segments[0].direction == direction and segments[0].end - segments[0].start >= 0.7 * n
    return Trend(direction, change, [] if covers_all or not segments else segments)


def _segments(v: np.ndarray, noise: float, amplitude: float) -> list[TrendSegment]:
    """Merge significant same-direction sliding windows into segments; opposite neighbours split their overlap."""
    n = len(v)
    width = max(8, n // 5)
    if n < 2 * width:
        return []
    stride = max(1, width // 4)
    starts = np.arange(0, n - width + 1, stride)
    windows = np.lib.stride_tricks.sliding_window_view(v, width)[starts]
    tc = np.arange(width) - (width - 1) / 2
    slopes = windows @ tc / np.sum(tc**2)
    t_stat = np.abs(slopes) * np.sqrt(np.sum(tc**2)) / noise if noise > 0 else np.full(len(slopes), np.inf)
    strong = (np.abs(slopes) * (width - 1) >= SEGMENT_MIN_STRENGTH * amplitude) & (t_stat >= TREND_MIN_T)
    signs = np.where(strong, np.sign(slopes), 0).astype(int)
    raw: list[list[int]] = []  # [sign, start, end]
    for s, sign in zip(starts, signs):
        if sign == 0:
            continue
        if raw and raw[-1][0] == sign and s <= raw[-1][2] + 1:
            raw[-1][2] = int(s + width - 1)
        else:
            raw.append([int(sign), int(s), int(s + width - 1)])
    for a, b in zip(raw, raw[1:]):  # opposite directions overlapping: cut in the middle of the overlap
        if b[1] <= a[2]:
            a[2] = b[1] = int((a[2] + b[1]) // 2)
            b[1] += 1
    segments = []
    for sign, s, e in raw:
        change = float(np.polyfit(np.arange(e - s + 1), v[s : e + 1], 1)[0] * (e - s))
        if abs(change) >= SEGMENT_KEEP_STRENGTH * amplitude and np.sign(change) == sign:
            segments.append(TrendSegment("increasing" if sign > 0 else "decreasing", s, e, change))
    return segments


def describe_pairs(filled: list[np.ndarray | None], channels: list[ChannelFacts]) -> list[ChannelPair]:
    """Notable channel pairs: |r| >= CORRELATION_MIN or a clear lead/lag, strongest first, at most MAX_PAIRS."""
    pairs = []
    for i in range(len(filled)):
        for j in range(i + 1, len(filled)):
            a, b = filled[i], filled[j]
            if a is None or b is None or np.std(a) == 0 or np.std(b) == 0:
                continue
            shortest = min((p.samples for c in (channels[i], channels[j]) for p in (c.periods or [])), default=np.inf)
            pair = _pair(i, j, a, b, int(min(len(a) // 4, shortest // 2)))
            if abs(pair.correlation) >= CORRELATION_MIN or pair.lag != 0:
                pairs.append(pair)
    pairs.sort(key=lambda p: -max(abs(p.correlation), abs(p.lag_correlation)))
    return pairs[:MAX_PAIRS]


def _pair(i: int, j: int, a: np.ndarray, b: np.ndarray, max_lag: int) -> ChannelPair:
    n = len(a)
    a = (a - a.mean()) / a.std()
    b = (b - b.mean()) / b.std()
    r0 = float(np.mean(a * b))
    if max_lag < 1:
        return ChannelPair(i, j, r0, 0, r0)
    size = 1 << (2 * n - 1).bit_length()
    cross = np.fft.irfft(np.fft.rfft(a, size).conj() * np.fft.rfft(b, size), size)  # cross[k] = sum a[t] b[t+k]
    lags = np.arange(-max_lag, max_lag + 1)
    values = cross[lags % size] / (n - np.abs(lags))
    k = int(np.argmax(np.abs(values)))
    lag, value = int(lags[k]), float(values[k])
    if lag == 0 or abs(value) < LAG_MIN_CORRELATION or abs(value) - abs(r0) < LAG_MIN_GAIN:
        return ChannelPair(i, j, r0, 0, r0)
    return ChannelPair(i, j, r0, lag, value)
