"""Fine-tuning the shipped slip-tiny as a classifier on BasicMotions (aeon, 40 train / 40 test recordings) beats the
linear probe on the same encoder's frozen features and the same validation split; the saved classifier serves the
`sensor-classification` pipeline."""

import numpy as np
from transformers import pipeline

import slip_sensor
from slip_sensor import SlipModel, SlipProcessor
from slip_sensor.data import load_labelled_dataset
from slip_sensor.evaluation.harness import SlipEncoder
from slip_sensor.evaluation.linear_probe import linear_probe
from slip_sensor.training.classification import finetune_classification


def test_fine_tuned_classifier_beats_the_linear_probe(tmp_path):
    data = load_labelled_dataset("basicmotions")
    folder = slip_sensor.pretrained("slip-tiny")
    encoder = SlipEncoder(SlipModel.from_pretrained(folder), SlipProcessor.from_pretrained(folder))
    features = [encoder.token_features(sensors, data.sampling_rate) for sensors in (data.train_sensors, data.test_sensors)]
    # seed 0 carves the same stratified validation split as the fine-tuning below
    probe = linear_probe(features[0], data.train_labels, features[1], data.test_labels, 4, seeds=[0]).summary()

    run = finetune_classification(
        "slip-tiny", "basicmotions", output_dir=str(tmp_path), num_train_epochs=20, early_stopping_patience=8,
        disable_tqdm=True,
    )
    assert run.results["test"]["accuracy"] > probe["accuracy_mean"], (run.results, probe)

    classifier = pipeline("sensor-classification", model=str(tmp_path))
    results = classifier(data.test_sensors, sampling_rate=data.sampling_rate, top_k=1, batch_size=8)
    predicted = [data.class_names.index(result["labels"][0]) for result in results]
    assert np.mean(np.array(predicted) == data.test_labels) == run.results["test"]["accuracy"]
