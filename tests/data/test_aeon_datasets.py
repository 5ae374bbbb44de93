"""Bundled real datasets (aeon wheel): labelled evaluation sets, and train-only captions for pretraining."""

import numpy as np
import pytest

from slip_sensor.data import LabelledSensorDataset, list_labelled_datasets, load_labelled_dataset
from slip_sensor.data import aeon_datasets

EXPECTED = {  # name: (channels, train, test, classes, Hz)
    "BasicMotions": (6, 40, 40, 4, 10.0),
    "GunPoint": (1, 50, 150, 2, 30.0),
    "ItalyPowerDemand": (1, 67, 1029, 2, 1 / 3600),
    "JapaneseVowels": (12, 270, 370, 9, 156.25),
    "PickupGestureWiimoteZ": (1, 50, 50, 10, 100.0),
}


def test_list_matches_the_registry():
    assert list_labelled_datasets() == list(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_load_labelled_dataset(name):
    channels, n_train, n_test, n_classes, hz = EXPECTED[name]
    data = load_labelled_dataset(name.lower())  # case-insensitive
    assert isinstance(data, LabelledSensorDataset) and data.name == name
    assert (len(data.train_sensors), len(data.test_sensors), len(data.class_names)) == (n_train, n_test, n_classes)
    assert data.sampling_rate == pytest.approx(hz)
    assert len(data.channel_names) == channels
    assert all(x.dtype == np.float32 and x.ndim == 2 and x.shape[0] == channels for x in data.train_sensors)
    assert set(np.unique(data.train_labels)) == set(range(n_classes))
    assert len(data.prompt_templates) >= 3 and all("{label}" in t for t in data.prompt_templates)
    assert data.domain and data.description


def test_basic_motions_classes_and_fresh_arrays():
    data = load_labelled_dataset("BasicMotions")
    assert data.class_names == ["playing badminton", "running", "standing", "walking"]
    assert data.channel_names == ["accel x", "accel y", "accel z", "gyro x", "gyro y", "gyro z"]
    data.train_sensors[0][:] = 0  # callers may modify what they get ...
    assert load_labelled_dataset("BasicMotions").train_sensors[0].any()  # ... without touching the next caller's copy
    with pytest.raises(KeyError, match="available"):
        load_labelled_dataset("UCI-HAR")


def test_pretraining_records_come_from_train_splits_only():
    test_bytes = {
        x.tobytes() for name in list_labelled_datasets() for x in load_labelled_dataset(name).test_sensors
    }
    records = [aeon_datasets.make_record(i, seed=0) for i in range(0, aeon_datasets.pretraining_size(), 7)]
    assert {r.source.split("/")[1] for r in records} == set(EXPECTED)
    for record in records:
        assert record.source.endswith("/train")
        assert record.sensor.tobytes() not in test_bytes
        card = aeon_datasets.dataset_card(record.source.split("/")[1])
        assert record.label in card.labels.values() and record.label in record.caption.semantic
    with pytest.raises(IndexError):
        aeon_datasets.make_record(aeon_datasets.pretraining_size(), seed=0)


def test_basic_motions_running_caption_reads_the_cadence_from_the_data():
    data = load_labelled_dataset("BasicMotions")
    running = data.class_names.index("running")
    index = int(np.flatnonzero(data.train_labels == running)[0])
    from slip_sensor.data import caption_sensor

    result = caption_sensor(
        data.train_sensors[index], data.sampling_rate, channel_names=data.channel_names, domain=data.domain,
        label="running",
    )
    periods = [c["periods"][0]["seconds"] for c in result.facts["channels"] if c["periods"]]
    assert periods and "per minute" in result.semantic and "running" in result.semantic
