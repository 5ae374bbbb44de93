"""`slip evaluate --dataset`: a user's parquet file (real BasicMotions, written with sensor/label/split columns) is
evaluated like a built-in task, and its mistakes are one-line errors."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from slip_sensor.cli import main
from slip_sensor.data.aeon_datasets import load_labelled_dataset
from slip_sensor.data.user_dataset import load_user_dataset
from slip_sensor.errors import UserError


@pytest.fixture(scope="module")
def basicmotions():
    return load_labelled_dataset("basicmotions")


@pytest.fixture(scope="module")
def parquet_file(basicmotions, tmp_path_factory):
    """BasicMotions as one table: `sensor` ([6][100] lists), `activity` (class name), `split` (train/test)."""
    rows = [
        (sensor.tolist(), basicmotions.class_names[label], split)
        for split, sensors, labels in (
            ("train", basicmotions.train_sensors, basicmotions.train_labels),
            ("test", basicmotions.test_sensors, basicmotions.test_labels),
        )
        for sensor, label in zip(sensors, labels)
    ]
    sensor, activity, split = zip(*rows)
    path = tmp_path_factory.mktemp("user") / "motions.parquet"
    pq.write_table(pa.table({"sensor": list(sensor), "activity": list(activity), "split": list(split)}), path)
    return path


def test_the_loader_gives_back_the_same_data(parquet_file, basicmotions):
    loaded = load_user_dataset(parquet_file, "sensor", "activity", sampling_rate=10.0)
    assert loaded.name == "motions"
    assert loaded.class_names == sorted(basicmotions.class_names)
    assert len(loaded.train_sensors) == len(basicmotions.train_sensors) == 40
    np.testing.assert_array_equal(loaded.test_sensors[3], basicmotions.test_sensors[3])
    names = [loaded.class_names[i] for i in loaded.train_labels]
    assert names == [basicmotions.class_names[i] for i in basicmotions.train_labels]


def test_prompts_one_per_class_or_a_template(parquet_file):
    texts = "a person playing badminton,a person running,a person standing,a person walking"
    loaded = load_user_dataset(parquet_file, "sensor", "activity", sampling_rate=10.0, prompts=texts)
    assert loaded.label_texts[1] == "a person running" and loaded.prompt_templates == ["{label}"]
    template = load_user_dataset(parquet_file, "sensor", "activity", sampling_rate=10.0, prompts="someone {label}, outdoors")
    assert template.prompt_templates == ["someone {label}, outdoors"] and not template.label_texts
    with pytest.raises(UserError, match="2 prompts for 4 classes; give one per class in this order: playing badminton"):
        load_user_dataset(parquet_file, "sensor", "activity", sampling_rate=10.0, prompts="a,b")


def test_test_size_splits_stratified_and_seeded(parquet_file, tmp_path):
    unsplit = tmp_path / "unsplit.parquet"
    pq.write_table(pq.read_table(parquet_file).drop(["split"]), unsplit)
    with pytest.raises(UserError, match="pass --test-size"):
        load_user_dataset(unsplit, "sensor", "activity", sampling_rate=10.0)
    first = load_user_dataset(unsplit, "sensor", "activity", sampling_rate=10.0, test_size=0.25)
    again = load_user_dataset(unsplit, "sensor", "activity", sampling_rate=10.0, test_size=0.25)
    assert len(first.test_labels) == 20 and np.bincount(first.test_labels).tolist() == [5, 5, 5, 5]
    np.testing.assert_array_equal(first.test_sensors[0], again.test_sensors[0])


def test_evaluate_a_parquet_file_under_both_protocols(parquet_file, tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "results.json"
    common = ["evaluate", "--model", str(tiny_model_dir), "--dataset", str(parquet_file), "--sensor-column", "sensor",
              "--label-column", "activity", "--sampling-rate", "10", "--seeds", "2", "--no-progress"]
    assert main([*common, "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    assert list(results["tasks"]) == ["motions"]
    task = results["tasks"]["motions"]
    assert task["dataset"]["num_train"] == 40 and task["dataset"]["num_test"] == 40
    assert 0 <= task["linear_probe"]["accuracy_mean"] <= 1 and len(task["linear_probe"]["per_seed"]) == 2
    assert 0 <= task["zero_shot"]["accuracy"] <= 1 and task["zero_shot"]["chance"] == 0.25
    assert results["protocol"]["name"] == task["linear_probe"]["protocol"] == "default"
    assert (tmp_path / task["plots"]["zero_shot_confusion"]).is_file()
    assert "| motions |" in out.with_suffix(".md").read_text()

    reference = tmp_path / "reference.json"  # same features (cache beside the JSON), the authors' probe
    assert main([*common, "--out", str(reference), "--protocol", "reference"]) == 0
    results = json.loads(reference.read_text())
    probe = results["tasks"]["motions"]["linear_probe"]
    assert results["protocol"]["name"] == probe["protocol"] == "reference"
    assert "chosen on test" in results["protocol"]["selection"]
    for row in probe["per_seed"]:
        assert row["val_accuracy"] is None and row["accuracy"] == max(row["test_accuracy_by_epoch"])
    assert "epoch is chosen on the test split" in reference.with_suffix(".md").read_text()
    capsys.readouterr()


@pytest.mark.parametrize(
    "options, problem",
    [
        (["--sensor-column", "acc", "--label-column", "activity", "--sampling-rate", "10"],
         "the dataset has no column 'acc' (--sensor-column); its columns: sensor, activity, split"),
        (["--sensor-column", "sensor", "--label-column", "label", "--sampling-rate", "10"],
         "the dataset has no column 'label' (--label-column)"),
        (["--sensor-column", "sensor", "--label-column", "activity"],
         "give the sampling rate: either --sampling-rate HZ or --rate-column COL"),
        (["--sensor-column", "sensor"], "--dataset needs --sensor-column COL and --label-column COL"),
    ],
)
def test_bad_columns_are_one_line_errors(parquet_file, options, problem, capsys):
    assert main(["evaluate", "--dataset", str(parquet_file), *options, "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("slip evaluate: error: ") and problem in err[0]


def test_missing_labels_are_one_line_errors(parquet_file, tmp_path, capsys):
    table = pq.read_table(parquet_file)
    activity = table["activity"].to_pylist()
    activity[7] = None
    holed = tmp_path / "holed.parquet"
    pq.write_table(table.set_column(1, "activity", pa.array(activity)), holed)
    argv = ["evaluate", "--dataset", str(holed), "--sensor-column", "sensor", "--label-column", "activity",
            "--sampling-rate", "10", "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["slip evaluate: error: 1 rows have no label in 'activity' (first: row 7); drop or label them"]


def test_a_hub_id_that_is_not_cached_says_so(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("datasets.config.HF_HUB_OFFLINE", True)
    with pytest.raises(UserError, match="only Hub datasets already in the local cache load"):
        load_user_dataset("nobody/no-such-sensor-dataset", "sensor", "label", sampling_rate=10.0)
