"""Writes the demo Space's example recordings into `space/examples/` (run once; the files are committed).

Three short wearable recordings with known structure, in the CSV layouts the Space reads:

- `morning-run.csv`: 20 minutes at 1 Hz from a wrist wearable (heart rate, skin temperature, movement) with a
  `time` column; rest, then a run from minute 6 to minute 14 (heart rate up by 80 bpm, skin cooler), then rest.
- `walking-accelerometer.csv`: 60 s of a 3-axis accelerometer at 25 Hz during a steady walk (about 1.8 steps/s),
  with a `time` column in seconds;
- `resting-ecg.csv`: 30 s of a single ECG lead at 100 Hz at rest (70 bpm), with a `time` column in seconds.

Every example states its own timing, so that the folder can be indexed as one archive of recordings at different
rates.

    python space/make_examples.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

EXAMPLES = Path(__file__).resolve().parent / "examples"


def morning_run(rng: np.random.Generator) -> pd.DataFrame:
    seconds = np.arange(20 * 60, dtype=float)
    running = np.clip(np.minimum(seconds - 6 * 60, 14 * 60 - seconds) / 90, 0, 1)  # 90-s ramps
    heart_rate = 64 + 80 * running + np.convolve(rng.normal(0, 2, seconds.size), np.ones(20) / 20**0.5, "same")
    skin_temperature = 33.2 - 1.4 * running + 0.05 * rng.normal(size=seconds.size)
    movement = 0.03 + 0.02 * rng.gamma(2, 0.5, seconds.size) + 1.1 * running * (1 + 0.1 * rng.normal(size=seconds.size))
    time = pd.date_range("2024-05-01 07:00", periods=seconds.size, freq="s")
    return pd.DataFrame({"time": time.strftime("%Y-%m-%d %H:%M:%S"), "heart_rate": heart_rate.round(1),
                         "skin_temperature": skin_temperature.round(2), "movement": movement.round(3)})


def walking_accelerometer(rng: np.random.Generator) -> pd.DataFrame:
    t = np.arange(60 * 25) / 25
    step = 2 * np.pi * 1.8 * t
    return pd.DataFrame({
        "time": t,
        "acc_x": 0.35 * np.sin(step) + 0.05 * rng.normal(size=t.size),
        "acc_y": 0.15 * np.sin(step / 2 + 0.4) + 0.04 * rng.normal(size=t.size),
        "acc_z": 1.0 + 0.3 * np.abs(np.sin(step)) + 0.05 * rng.normal(size=t.size),
    }).round(3)


def resting_ecg(rng: np.random.Generator) -> pd.DataFrame:
    t = np.arange(30 * 100) / 100
    phase = (t * 70 / 60) % 1  # beat phase at 70 bpm
    waves = ((0.12, 0.10, 0.025), (-0.1, 0.17, 0.008), (1.0, 0.19, 0.01), (-0.2, 0.21, 0.008), (0.3, 0.45, 0.04))
    ecg = sum(height * np.exp(-((phase - centre) ** 2) / (2 * width**2)) for height, centre, width in waves)
    return pd.DataFrame({"time": t, "ecg": (ecg + 0.02 * rng.normal(size=t.size)).round(3)})


def main() -> None:
    EXAMPLES.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for name, table in (("morning-run", morning_run(rng)), ("walking-accelerometer", walking_accelerometer(rng)),
                        ("resting-ecg", resting_ecg(rng))):
        path = EXAMPLES / f"{name}.csv"
        table.to_csv(path, index=False)
        print(f"{path}: {len(table)} rows, {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
