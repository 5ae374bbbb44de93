"""The README's long-recording picture: a day of wearable data captioned hour by hour with `slip caption`.

Writes a 24-hour, 1 Hz recording from a wrist wearable, simulated with known structure (heart rate with a circadian
rhythm, lower in sleep, raised by a morning run and an evening walk; skin temperature; movement intensity; the watch
taken off to charge for 40 minutes, so every channel is missing there) as a CSV with a `time` column, then runs

    slip caption RECORDING.csv --chunk-length-s 3600 --domain physiological --out OUT

with the shipped slip-tiny and copies the picture to `benchmarks/results/long-recording-captions.png`.

    python benchmarks/long_recording_picture.py [--out runs/long-recording] [--seed 0]
"""

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from slip_sensor.cli import main

PICTURE = Path(__file__).resolve().parent / "results" / "long-recording-captions.png"
DAY_S = 24 * 3600


def bump(seconds: np.ndarray, start_h: float, end_h: float, ramp_s: float = 300) -> np.ndarray:
    """1 between `start_h` and `end_h` (hours), with `ramp_s`-long ramps, else 0."""
    rise = np.clip((seconds - start_h * 3600) / ramp_s, 0, 1)
    fall = np.clip((end_h * 3600 - seconds) / ramp_s, 0, 1)
    return np.minimum(rise, fall)


def wearable_day(seed: int) -> pd.DataFrame:
    """A day from midnight, at 1 Hz: heart rate (bpm), skin temperature (°C) and movement (g)."""
    rng = np.random.default_rng(seed)
    seconds = np.arange(DAY_S, dtype=float)
    asleep = bump(seconds, 0, 6.5, 900) + bump(seconds, 23, 24.5, 900)
    run, walk = bump(seconds, 7.25, 8.0), bump(seconds, 18.5, 19.25)
    movement = 0.02 + 0.05 * (1 - asleep) * rng.gamma(2, 0.5, DAY_S) + 1.2 * run + 0.4 * walk
    heart_rate = (62 + 6 * np.sin(2 * np.pi * (seconds / DAY_S - 0.3)) - 8 * asleep + 85 * run + 25 * walk
                  + np.convolve(rng.normal(0, 3, DAY_S), np.ones(30) / 30 ** 0.5, "same"))
    skin_temperature = 33 + 1.2 * asleep - 1.5 * run + 0.1 * rng.normal(size=DAY_S)
    table = pd.DataFrame({"heart_rate": heart_rate, "skin_temperature": skin_temperature, "movement": movement},
                         index=pd.date_range("2024-05-01", periods=DAY_S, freq="s", name="time"))
    table.iloc[int(13.5 * 3600) : int(13.5 * 3600) + 2400] = np.nan  # off the wrist, charging
    return table


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/long-recording", help="folder for the recording and the captions")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    recording = out / "wearable-day.csv"
    wearable_day(args.seed).reset_index().to_csv(recording, index=False)
    status = main(["caption", str(recording), "--chunk-length-s", "3600", "--domain", "physiological",
                   "--out", str(out / "captions")])
    if status:
        raise SystemExit(status)
    PICTURE.parent.mkdir(exist_ok=True)
    shutil.copyfile(out / "captions" / "wearable-day.png", PICTURE)
    print(f"picture: {PICTURE}")


if __name__ == "__main__":
    main_cli()
