"""Shared fixtures: real BasicMotions (from aeon, bundled offline) as a LabelledSensorDataset."""

import numpy as np
import pytest

from slip_sensor.data.labelled import LabelledSensorDataset


@pytest.fixture(scope="session")
def basicmotions() -> LabelledSensorDataset:
    """UEA BasicMotions: smartwatch accelerometer + gyroscope, 6 channels x 100 steps at 10 Hz, 4 classes, 40/40."""
    aeon_datasets = pytest.importorskip("aeon.datasets")
    x_train, y_train = aeon_datasets.load_classification("BasicMotions", split="train")
    x_test, y_test = aeon_datasets.load_classification("BasicMotions", split="test")
    class_names = sorted(set(y_train))
    return LabelledSensorDataset(
        name="basicmotions",
        train_sensors=[x.astype(np.float32) for x in x_train],
        train_labels=np.array([class_names.index(y) for y in y_train]),
        test_sensors=[x.astype(np.float32) for x in x_test],
        test_labels=np.array([class_names.index(y) for y in y_test]),
        class_names=[str(c) for c in class_names],
        sampling_rate=10.0,
        channel_names=["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"],
        prompt_templates=["a person {label}", "smartwatch data of someone {label}"],
    )
