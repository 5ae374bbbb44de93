"""The picture of a captioned recording: its signal, and under it each window's text below the window's time span.

One function draws a single caption (`slip demo`) and a day of window captions or labels (`slip caption`,
`slip classify`) alike, legibly: a long signal is drawn as its min/max envelope per pixel column (a plot of millions
of points is a solid block, and slow to write), at most `max_labels` windows are labelled, evenly chosen over the
recording, each in its own slot joined to its span by a line, and the time axis reads in clock units (h:mm for hours).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

ENVELOPE_COLUMNS = 2000  # drawn points per channel: about one per pixel column of the saved picture
TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
FIGURE_WIDTH_IN = 16.0
CHARS_PER_INCH = 15  # of 7-pt text, to wrap each label to its slot's width


def clock(seconds: float, span_s: float) -> str:
    """`seconds` from the start as h:mm (spans of hours), m:ss (minutes) or seconds."""
    if span_s >= 2 * 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}"
    if span_s >= 120:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:g} s"


def envelope(values: np.ndarray, columns: int = ENVELOPE_COLUMNS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bucket indices, minima, maxima) of `values` over `columns` equal buckets; an all-NaN bucket stays NaN (a
    gap in the drawing). A series shorter than `columns` is its own envelope."""
    if len(values) <= columns:
        return np.arange(len(values)), values, values
    edges = np.linspace(0, len(values), columns + 1).astype(int)
    buckets = np.full((columns, int(np.diff(edges).max())), np.nan)
    for row, (start, stop) in enumerate(zip(edges[:-1], edges[1:])):
        buckets[row, : stop - start] = values[start:stop]
    observed = ~np.isnan(buckets).all(axis=1)
    low, high = np.full(columns, np.nan), np.full(columns, np.nan)
    low[observed], high[observed] = np.nanmin(buckets[observed], 1), np.nanmax(buckets[observed], 1)
    return (edges[:-1] + edges[1:]) / 2, low, high


def plot_captions(
    sensors: np.ndarray,
    sampling_rate: float,
    channel_names: list[str],
    windows: list[tuple[float, float, str]],
    title: str,
    path: str | Path,
    max_labels: int = 12,
) -> Path:
    """Draws `sensors` `[channels, time]` (NaN = missing), one panel per channel, over a band holding the text of
    each `(start_s, end_s, text)` window under its span; writes a PNG to `path` and returns it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    sensors = np.atleast_2d(np.asarray(sensors, dtype=float))
    span_s = sensors.shape[1] / sampling_rate
    chosen = np.unique(np.linspace(0, len(windows) - 1, min(len(windows), max_labels)).round().astype(int))
    labelled = [windows[i] for i in chosen] if windows else []
    slot_in = FIGURE_WIDTH_IN / max(len(labelled), 1)
    texts = [f"{clock(start, span_s)}–{clock(end, span_s)}: {text.strip() or '(no observed value)'}"
             for start, end, text in labelled]
    wrapped = ["\n".join(textwrap.wrap(text, max(int(slot_in * CHARS_PER_INCH) - 2, 12))) for text in texts]
    band_in = 0.3 + 0.13 * max((text.count("\n") + 1 for text in wrapped), default=1)
    panel_in = 1.1 if len(sensors) > 1 else 2.2
    figure, axes = plt.subplots(
        len(sensors) + 1, 1, sharex=True, figsize=(FIGURE_WIDTH_IN, 0.8 + panel_in * len(sensors) + band_in),
        gridspec_kw={"height_ratios": [panel_in] * len(sensors) + [band_in], "hspace": 0.08}, layout="constrained",
    )
    *panels, band = axes
    for panel, values, name in zip(panels, sensors, channel_names):
        index, low, high = envelope(values)
        seconds = index / sampling_rate
        if low is high:
            panel.plot(seconds, values, linewidth=0.8)
        else:
            panel.fill_between(seconds, low, high, linewidth=0.4)
        panel.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
        panel.tick_params(labelsize=7)
        for number, (start, end, _) in enumerate(labelled):
            panel.axvspan(start, end, color=f"C{number % 2 + 1}", alpha=0.08, linewidth=0)
    panels[0].set_title(title, fontsize=10)
    band.set_xlim(0, span_s)
    band.set_ylim(0, 1)
    band.set_yticks([])
    for side in ("left", "right", "bottom"):
        band.spines[side].set_visible(False)
    for number, ((start, end, _), text) in enumerate(zip(labelled, wrapped)):
        slot = (number + 0.5) / len(labelled) * span_s  # each text centred in its own slot, joined to its span
        band.plot([start, end], [0.97, 0.97], color=f"C{number % 2 + 1}", linewidth=3, solid_capstyle="butt")
        band.plot([(start + end) / 2, slot], [0.95, 0.85], color="0.6", linewidth=0.6)
        band.text(slot, 0.82, text, ha="center", va="top", fontsize=7, linespacing=1.15)
    step = next((s for s in TICK_STEPS_S if span_s / s <= 12), TICK_STEPS_S[-1])
    band.xaxis.set_major_locator(MultipleLocator(step))
    band.xaxis.set_major_formatter(FuncFormatter(lambda seconds, _: clock(seconds, span_s)))
    band.tick_params(axis="x", bottom=False, labelbottom=False)
    panels[-1].tick_params(axis="x", labelsize=7, labelbottom=True)
    unit = "h:mm" if span_s >= 2 * 3600 else "m:ss" if span_s >= 120 else "s"
    panels[-1].set_xlabel(f"time ({unit})", fontsize=8)
    if len(windows) > len(labelled):
        band.set_title(f"{len(labelled)} of {len(windows)} windows labelled", fontsize=7, loc="right", color="0.4")
    path = Path(path)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


__all__ = ["clock", "envelope", "plot_captions"]
