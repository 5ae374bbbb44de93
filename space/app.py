"""SLIP demo Space: caption a sensor recording, score zero-shot labels, search an archive of recordings.

    python app.py          # then open http://127.0.0.1:7860

Runs the model in `$SLIP_MODEL`, else this folder when it holds a model (a Space written by `slip export --space`),
else the slip-tiny shipped with the package. The app itself is `slip_sensor.space_app.build_demo`.
"""

from pathlib import Path

from slip_sensor.space_app import build_demo, default_model

HERE = Path(__file__).resolve().parent

demo = build_demo(default_model(HERE), examples=HERE / "examples", cache=HERE / "cache")

if __name__ == "__main__":
    demo.launch()
