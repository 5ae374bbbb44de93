"""The demo app behind its user interface (`build_demo`'s app, not launched, and its `SlipDemo`): one model in memory
for the three tabs, one archive index per model in a shared cache folder, so that switching models starts cleanly,
and one picture file per tab in a folder that goes with the app."""

import gc
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gradio", reason="the Space needs gradio (pip install -e '.[space]')")

from slip_sensor.recording_cli import load_pipeline  # noqa: E402
from slip_sensor.recordings import read_recording  # noqa: E402
from slip_sensor.space_app import SlipDemo, build_demo, index_folder  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "space" / "examples"
EXAMPLE = EXAMPLES / "resting-ecg.csv"
CHUNK_S = 10


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("space-cache")


@pytest.fixture(scope="module")
def shipped(cache) -> SlipDemo:
    """The app on the shipped slip-tiny, its index written into `cache`."""
    return build_demo(None, EXAMPLES, cache).slip_demo


def test_another_model_on_the_same_cache_gets_its_own_index(cache, shipped, tiny_model_dir):
    other = build_demo(tiny_model_dir, EXAMPLES, cache).slip_demo  # the shipped model's index is already there
    assert other.index.path == index_folder(cache, tiny_model_dir) != shipped.index.path
    assert sorted(cache.iterdir()) == sorted([shipped.index.path, other.index.path])
    assert other.index.report["last_run"]["embedded_recordings"] == len(list(EXAMPLES.iterdir()))
    assert other.search("an ECG at rest", 2)[0]["recording"].tolist()  # searches with its own model
    back = build_demo(None, EXAMPLES, cache).slip_demo  # and back: the shipped model's index is reused as it is
    assert back.index.path == shipped.index.path
    assert back.index.report["last_run"]["embedded_recordings"] == 0


def test_the_tabs_share_one_model_and_score_as_the_model_loaded_alone(shipped):
    assert shipped.classifier.model is shipped.captioner.model
    assert shipped.index.pipeline("sensor-feature-extraction").model is shipped.captioner.model
    recording, labels = read_recording(EXAMPLE), ["resting", "walking", "running"]
    shared = shipped.classifier(recording, candidate_labels=labels, chunk_length_s=CHUNK_S)
    alone = load_pipeline("zero-shot-sensor-classification")(recording, candidate_labels=labels,
                                                              chunk_length_s=CHUNK_S)
    assert shared["labels"] == alone["labels"]
    np.testing.assert_allclose(shared["scores"], alone["scores"], rtol=1e-5, atol=1e-6)


def test_each_tab_overwrites_its_own_picture_in_a_folder_that_goes_with_the_app(cache, tmp_path):
    demo = SlipDemo(None, EXAMPLES, cache)
    pictures = demo.pictures
    shown = [demo.search("an ECG at rest", 2)[1], demo.search("running", 3)[1],
             demo.classify(str(EXAMPLE), 0, CHUNK_S, "resting, walking")[2]]
    assert shown == [str(pictures / "hits.png"), str(pictures / "hits.png"), str(pictures / "labels.png")]
    assert sorted(path.name for path in pictures.iterdir()) == ["hits.png", "labels.png"]
    del demo
    gc.collect()
    assert not pictures.exists()
