"""The picture of search hits: one row per hit, the signal around the hit window with the window highlighted.

Each row draws one window length of context on each side of the hit (clipped to the recording), every channel
scaled to its own range over the drawn stretch (channels of different units share the row), long stretches as their
per-pixel min/max envelope, and the time axis in clock units from the recording's start (`caption_plot`).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from slip_sensor.caption_plot import FIGURE_WIDTH_IN, clock, envelope

from .timestamps import clock_span

ROW_HEIGHT_IN = 1.9
TITLE_CHARS = 150  # per line of a row's title at 9 pt on the figure's width


def plot_hits(hits: list[tuple[Any, dict[str, Any]]], chunk_length_s: float, path: str | Path) -> Path:
    """Draws each `(hit, signal)` pair (a `SearchHit` and its recording as `drawn_signal` reads it: `sensors`
    `[channels, time]`, `sampling_rate`, `channel_names`) as one row; writes a PNG to `path` and returns it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    figure, axes = plt.subplots(len(hits), 1, figsize=(FIGURE_WIDTH_IN, 0.4 + ROW_HEIGHT_IN * len(hits)),
                                squeeze=False, layout="constrained")
    for panel, (hit, signal) in zip(axes[:, 0], hits):
        sensors, rate = np.atleast_2d(signal["sensors"]), signal["sampling_rate"]
        duration = sensors.shape[1] / rate
        first, last = max(0.0, hit.start_s - chunk_length_s), min(duration, hit.end_s + chunk_length_s)
        stretch = sensors[:, int(first * rate) : int(np.ceil(last * rate))]
        for number, (values, name) in enumerate(zip(stretch, signal["channel_names"])):
            if np.isnan(values).all():
                continue
            low, high = np.nanmin(values), np.nanmax(values)
            scaled = (values - low) / (high - low) if high > low else values - low + 0.5
            index, lower, upper = envelope(scaled)
            seconds = first + index / rate
            if lower is upper:
                panel.plot(seconds, scaled, linewidth=0.8, color=f"C{number}", label=name)
            else:
                panel.fill_between(seconds, lower, upper, linewidth=0.4, color=f"C{number}", label=name)
        panel.axvspan(hit.start_s, hit.end_s, color="gold", alpha=0.3, linewidth=0)
        span = f"{clock(hit.start_s, duration)}–{clock(hit.end_s, duration)}"
        when = f" ({clock_span(hit.start_time, hit.end_time)})" if hit.start_time else ""
        title = f"#{hit.rank}  {hit.recording_id}  score {hit.score:.3f}  {span}{when}"
        if hit.caption:
            title += f"\n{hit.caption}"
        lines = [line for part in title.split("\n") for line in textwrap.wrap(part, TITLE_CHARS)]
        panel.set_title("\n".join(lines), fontsize=9, loc="left")
        panel.set_xlim(first, last)
        panel.set_yticks([])
        panel.xaxis.set_major_locator(MaxNLocator(10))
        panel.xaxis.set_major_formatter(FuncFormatter(lambda seconds, _, span_s=duration: clock(seconds, span_s)))
        panel.tick_params(labelsize=7)
        panel.legend(loc="upper right", fontsize=6, ncols=min(len(stretch), 6), framealpha=0.6)
    path = Path(path)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


__all__ = ["plot_hits"]
