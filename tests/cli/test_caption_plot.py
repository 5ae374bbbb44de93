"""The recording picture stays legible and true for a day-long recording: the drawn envelope keeps every extreme and
every gap, and a day of windows writes a PNG quickly with at most `max_labels` texts."""

import time

import numpy as np

from slip_sensor.caption_plot import clock, envelope, plot_captions


def test_the_envelope_keeps_extremes_and_gaps():
    values = np.sin(np.arange(100_000) / 50.0)
    values[10_000] = 9.0
    values[50_000:60_000] = np.nan
    _, low, high = envelope(values, columns=100)
    assert len(low) == 100 and np.nanmax(high) == 9.0 and np.nanmin(low) == values[~np.isnan(values)].min()
    assert np.isnan(high[51:59]).all() and not np.isnan(high[:50]).any()


def test_a_day_of_windows_is_drawn_with_a_clock_axis(tmp_path):
    rate, day = 10, 24 * 3600
    sensors = np.random.default_rng(0).normal(size=(2, rate * day))
    windows = [(start, start + 600.0, f"window at {start}") for start in range(0, day, 600)]
    started = time.perf_counter()
    path = plot_captions(sensors, rate, ["a", "b"], windows, "a day", tmp_path / "day.png", max_labels=8)
    assert time.perf_counter() - started < 20 and path.read_bytes()[:4] == b"\x89PNG"
    assert clock(13.5 * 3600, day) == "13:30" and clock(90, 600) == "1:30" and clock(2.5, 10) == "2.5 s"
