"""Windowed pipelines (`chunk_length_s`, `stride_length_s`): window placement, batch invariance, aggregates, gaps,
errors, and the advice for recordings too long for one window."""

import math
import warnings

import numpy as np
import pytest
import torch

from slip_sensor.modeling_slip.windowing_slip import iter_windows, window_spans

RATE = 50.0
LABELS = ["walking", "running", "sitting"]
TASK_KWARGS = {"captioning": {"max_new_tokens": 4}, "zero-shot": {"candidate_labels": LABELS}, "features": {}}


def recording(channels: int = 3, seconds: float = 40.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(channels, int(seconds * RATE))).astype(np.float32)


def with_gap(x: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    x = x.copy()
    x[:, int(start_s * RATE) : int(end_s * RATE)] = np.nan
    return x


def test_windows_follow_the_asr_chunking(pipelines):
    # 10 s windows with the default stride of 10/6 s per side: 83 + 83 shared samples, a window every 334 samples,
    # until one reaches the end of the 2000 samples (the last one is shorter).
    result = pipelines["features"](recording(), sampling_rate=RATE, chunk_length_s=10)
    starts = [0, 334, 668, 1002, 1336, 1670]
    assert [chunk["timestamp"] for chunk in result["chunks"]] == [(s / RATE, min(s + 500, 2000) / RATE) for s in starts]
    # (left, right) strides: consecutive windows share left + right seconds.
    result = pipelines["features"](recording(), sampling_rate=RATE, chunk_length_s=10, stride_length_s=(2, 0))
    assert [chunk["timestamp"][0] for chunk in result["chunks"]] == [0.0, 8.0, 16.0, 24.0, 32.0]
    # A recording no longer than a window is one window.
    short = pipelines["features"](recording(seconds=4), sampling_rate=RATE, chunk_length_s=10)
    assert [chunk["timestamp"] for chunk in short["chunks"]] == [(0.0, 4.0)]


def test_windows_are_views_of_the_recording():
    x = recording(seconds=100)
    starts, chunk, step = window_spans(x.shape[1], RATE, 7.0, (1.0, 0.5))
    windows = list(iter_windows(x, chunk, step, len(starts)))
    assert len(windows) == len(starts) and all(np.shares_memory(window, x) for window in windows)
    for start, window in zip(starts, windows):
        assert np.array_equal(window, x[:, start : start + chunk])
    assert windows[-1].shape[1] < chunk  # 5000 samples do not end on a window boundary


@pytest.mark.parametrize("task", ["captioning", "zero-shot", "features"])
def test_windowed_results_equal_each_window_alone(pipelines, task):
    pipe, kwargs = pipelines[task], TASK_KWARGS[task]
    recordings = [with_gap(recording(seed=1), 12, 16), recording(channels=2, seconds=23, seed=2)]
    windowed = pipe(recordings, sampling_rate=RATE, chunk_length_s=10, batch_size=4, **kwargs)
    assert len(windowed) == 2
    for x, result in zip(recordings, windowed):
        for chunk in result["chunks"]:
            start, end = (round(t * RATE) for t in chunk["timestamp"])
            alone = pipe(x[:, start:end], sampling_rate=RATE, **kwargs)
            alone = alone[0] if task == "captioning" else alone
            fields = {key: value for key, value in chunk.items() if key != "timestamp"}
            assert fields.keys() == alone.keys()
            assert fields["observed_fraction"] == pytest.approx(alone["observed_fraction"])
            if task == "features":
                assert np.allclose(fields["sensor_embeds"], alone["sensor_embeds"], atol=1e-5)
            elif task == "zero-shot":
                assert fields["labels"] == alone["labels"]
                assert np.allclose(fields["scores"], alone["scores"], atol=1e-5)
            else:
                assert fields == alone


def test_captions_are_joined_with_their_time_spans_skipping_empty_windows(pipelines):
    x = with_gap(recording(), 13, 24)  # the window 13.36-23.36 s has no observed value
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a gap inside a recording is no reason to warn
        result = pipelines["captioning"](x, sampling_rate=RATE, chunk_length_s=10, max_new_tokens=4)
    empty = [chunk for chunk in result["chunks"] if chunk["observed_fraction"] == 0.0]
    assert [chunk["timestamp"] for chunk in empty] == [(13.36, 23.36)] and empty[0]["generated_text"] == ""
    lines = result["generated_text"].split("\n")
    assert len(lines) == len(result["chunks"]) - 1
    assert lines[0] == f"[0:00:00–0:00:10] {result['chunks'][0]['generated_text']}"
    assert lines[-1] == f"[0:00:33.4–0:00:40] {result['chunks'][-1]['generated_text']}"
    assert "0:00:13.36" not in result["generated_text"]


def test_zero_shot_scores_average_the_windows_with_data(pipelines):
    x = with_gap(recording(), 13, 24)
    result = pipelines["zero-shot"](x, sampling_rate=RATE, chunk_length_s=10, candidate_labels=LABELS)
    observed = [dict(zip(c["labels"], c["scores"])) for c in result["chunks"] if c["observed_fraction"]]
    assert len(observed) == len(result["chunks"]) - 1
    expected = {label: np.mean([scores[label] for scores in observed]) for label in LABELS}
    assert result["labels"] == sorted(LABELS, key=lambda label: -expected[label])
    assert np.allclose(result["scores"], [expected[label] for label in result["labels"]])
    assert math.isclose(sum(result["scores"]), 1.0, rel_tol=1e-5)


def test_feature_extraction_aggregates_the_windows_with_data(pipelines):
    x = with_gap(recording(), 13, 24)
    result = pipelines["features"](x, sampling_rate=RATE, chunk_length_s=10, return_tensors=True)
    embeds = torch.stack([c["sensor_embeds"] for c in result["chunks"] if c["observed_fraction"]])
    expected = torch.nn.functional.normalize(embeds.mean(0), dim=-1)
    assert torch.allclose(result["sensor_embeds"], expected, atol=1e-6)
    assert result["chunks"][2]["sensor_embeds"].isnan().all()
    only_windows = pipelines["features"](x, sampling_rate=RATE, chunk_length_s=10, aggregation=None)
    assert set(only_windows) == {"chunks"} and len(only_windows["chunks"]) == len(result["chunks"])


@pytest.mark.parametrize("task", ["captioning", "zero-shot", "features"])
def test_a_recording_without_data_is_reported_not_described(pipelines, task):
    x = np.full((2, 1000), np.nan, dtype=np.float32)
    with pytest.warns(UserWarning, match="no observed value .* in any of its 3 windows"):
        result = pipelines[task](x, sampling_rate=RATE, chunk_length_s=10, **TASK_KWARGS[task])
    assert [chunk["observed_fraction"] for chunk in result["chunks"]] == [0.0, 0.0, 0.0]
    if task == "captioning":
        assert result["generated_text"] == ""
    elif task == "zero-shot":
        assert result["labels"] == LABELS and all(math.isnan(score) for score in result["scores"])
    else:
        assert all(math.isnan(value) for value in result["sensor_embeds"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"chunk_length_s": 10}, "chunk_length_s needs the sampling rate"),
        ({"chunk_length_s": -1, "sampling_rate": RATE}, "chunk_length_s must be a positive number"),
        ({"chunk_length_s": 10, "stride_length_s": 5, "sampling_rate": RATE}, "leaves no step"),
        ({"chunk_length_s": 10, "stride_length_s": (1, 2, 3), "sampling_rate": RATE}, r"one number or \(left, right\)"),
        ({"stride_length_s": 1, "sampling_rate": RATE}, "stride_length_s needs chunk_length_s"),
        ({"chunk_length_s": 0.04, "stride_length_s": 0.019, "sampling_rate": RATE}, "no step between windows"),
        ({"chunk_length_s": 10, "sampling_rate": RATE, "aggregation": "max"}, "aggregation must be one of"),
    ],
)
def test_bad_windowing_is_refused(pipelines, kwargs, message):
    with pytest.raises(ValueError, match=message):
        pipelines["features"](recording(), **kwargs)


def test_one_caption_per_window(pipelines):
    with pytest.raises(ValueError, match="num_return_sequences must be 1"):
        pipelines["captioning"](recording(), sampling_rate=RATE, chunk_length_s=10, num_return_sequences=2)


def test_the_advice_for_a_too_long_recording_works(pipelines):
    long = recording(channels=1, seconds=1000)  # 50,000 points: more than 384 patches of 128
    with pytest.warns(UserWarning, match="chunk_length_s=") as record:
        whole = pipelines["features"](long, sampling_rate=RATE)
    assert "patch_size=131 or larger" in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        windowed = pipelines["features"](long, sampling_rate=RATE, chunk_length_s=60)
    assert whole["observed_fraction"] == 1.0 and windowed["chunks"][-1]["timestamp"][1] == 1000.0
