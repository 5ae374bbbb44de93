"""Inputs as users hold them: DataFrames (with a datetime index, a time column, irregular timestamps), named
channels, `datasets` list values and corpus rows give the same results as the equivalent array, and their channel
names reach the results."""

import numpy as np
import pytest

from slip_sensor.modeling_slip.windowing_slip import read_dataframe

pd = pytest.importorskip("pandas")
datasets = pytest.importorskip("datasets")

RATE = 50.0
NAMES = ["acc_x", "acc_y", "acc_z"]


@pytest.fixture(scope="module")
def sensors() -> np.ndarray:
    x = np.random.default_rng(3).normal(size=(3, 1500)).astype(np.float32)
    x[1, 200:260] = np.nan
    return x


@pytest.fixture(scope="module")
def expected(pipelines, sensors) -> list[float]:
    return pipelines["features"](sensors, sampling_rate=RATE)["sensor_embeds"]


def frame(sensors: np.ndarray, **kwargs):
    return pd.DataFrame(dict(zip(NAMES, sensors)), **kwargs)


def assert_same_embedding(result, expected):
    assert result["channel_names"] == NAMES and result["observed_fraction"] < 1.0
    assert np.allclose(result["sensor_embeds"], expected, atol=1e-6)


def test_dataframe_with_a_datetime_index(pipelines, sensors, expected):
    index = pd.date_range("2026-03-01 08:00", periods=sensors.shape[1], freq="20ms", tz="Europe/Berlin")
    data = frame(sensors, index=index)
    assert_same_embedding(pipelines["features"](data), expected)  # the index gives the 50 Hz
    windowed = pipelines["features"](data, chunk_length_s=10)
    assert windowed["channel_names"] == NAMES
    first, last = windowed["chunks"][0], windowed["chunks"][-1]
    start = "2026-03-01T07:00:00.000000000"  # UTC
    assert (first["start_time"], first["end_time"]) == (start, start.replace(":00:00.", ":00:10."))
    assert last["timestamp"] == (20.04, 30.0) and last["end_time"] == "2026-03-01T07:00:30.000000000"  # UTC


def test_dataframe_with_a_time_column_in_seconds(pipelines, sensors, expected):
    data = frame(sensors).assign(time=np.arange(sensors.shape[1]) / RATE + 100.0)
    assert_same_embedding(pipelines["features"](data), expected)
    assert "start_time" not in pipelines["features"](data, chunk_length_s=10)["chunks"][0]


def test_irregular_timestamps_are_resampled_to_the_median_rate_with_gaps_missing():
    times = np.array([0.0, 0.1, 0.2, 0.35, 0.4, 0.5, 1.2, 1.3])  # median 0.1 s; 0.5 → 1.2 is a gap
    values = np.array([[0.0, 1.0, 2.0, 3.5, 4.0, 5.0, 12.0, 13.0]])
    data = pd.DataFrame({"x": values[0], "timestamp": times})
    with pytest.warns(UserWarning, match="irregular .* resampled to the median rate 10 Hz"):
        sample = read_dataframe(data)
    assert sample["sampling_rate"] == pytest.approx(10.0)
    expected = [0, 1, 2, 3, 4, 5, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 12, 13]
    assert np.allclose(sample["sensors"][0], expected, equal_nan=True)


def test_named_channels(pipelines, sensors, expected):
    named = {"sensors": dict(zip(NAMES, sensors)), "sampling_rate": RATE}
    assert_same_embedding(pipelines["features"](named), expected)
    zero_shot = pipelines["zero-shot"](named, candidate_labels=["a", "b"])
    assert zero_shot["channel_names"] == NAMES
    assert all(result["channel_names"] == NAMES for result in pipelines["captioning"](named, max_new_tokens=2))


def test_datasets_list_values_and_corpus_rows(pipelines, sensors, expected):
    from slip_sensor.data.corpus_schema import CORPUS_FEATURES

    row = {name: None for name in CORPUS_FEATURES}
    row |= {"sensor": sensors.tolist(), "sampling_rate": RATE, "channel_names": NAMES, "id": "r0", "caption": "c"}
    stored = datasets.Dataset.from_list([row], features=CORPUS_FEATURES)
    assert_same_embedding(pipelines["features"](stored[0]), expected)  # a corpus row as stored (python lists)
    assert_same_embedding(pipelines["features"](stored.with_format("numpy")[0]), expected)  # one array per channel
    value = {"sensors": stored[0]["sensor"], "sampling_rate": RATE, "channel_names": NAMES}  # a list column value
    assert_same_embedding(pipelines["features"](value), expected)
    batch = pipelines["features"](list(stored["sensor"]), sampling_rate=RATE)  # the column's values: a batch
    assert np.allclose(batch[0]["sensor_embeds"], expected, atol=1e-6)


@pytest.mark.parametrize(
    "bad_input, message",
    [
        (pd.DataFrame({"x": [1.0, 2.0], "label": ["a", "b"]}), r"not numeric: \['label'\]"),
        (pd.DataFrame({"x": [1.0, 2.0], "time": [1.0, 1.0]}), "must strictly increase"),
        ({"sensors": {"a": np.zeros(10), "b": np.zeros(12)}, "sampling_rate": RATE}, "one length"),
        ({"sensors": np.zeros((2, 10)), "channel_names": ["a"]}, "1 channel_names"),
        ({"sensors": [[1.0, 2.0], [3.0]]}, "cannot be read as a numeric"),
    ],
)
def test_inputs_that_cannot_be_read_name_the_problem(pipelines, bad_input, message):
    with pytest.raises(ValueError, match=message):
        pipelines["features"](bad_input, sampling_rate=RATE)
