"""A labelled sensor dataset: the common shape of every evaluation set (built-in or user-provided)."""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LabelledSensorDataset:
    """Arrays, labels and the metadata evaluation needs.

    Each sensor sample is a float32 array `[channels, time]` (lengths and channel counts may differ between samples;
    NaN marks a missing value). Labels are integer class indices into `class_names`. `prompt_templates` are
    zero-shot class prompts with a `{label}` placeholder (several per dataset; their embeddings are averaged), filled
    with `label_texts` (one text per class, e.g. user-written class descriptions) or else the class names.
    """

    name: str
    train_sensors: list[np.ndarray]
    train_labels: np.ndarray
    test_sensors: list[np.ndarray]
    test_labels: np.ndarray
    class_names: list[str]
    sampling_rate: float
    channel_names: list[str] = field(default_factory=list)
    prompt_templates: list[str] = field(default_factory=lambda: ["{label}"])
    domain: str = ""
    description: str = ""
    label_texts: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.train_labels = np.asarray(self.train_labels, dtype=np.int64)
        self.test_labels = np.asarray(self.test_labels, dtype=np.int64)
        for split, sensors, labels in (
            ("train", self.train_sensors, self.train_labels),
            ("test", self.test_sensors, self.test_labels),
        ):
            if len(sensors) != len(labels):
                raise ValueError(f"{self.name}: {len(sensors)} {split} samples but {len(labels)} labels")
            if len(labels) and (labels.min() < 0 or labels.max() >= len(self.class_names)):
                raise ValueError(f"{self.name}: {split} labels outside [0, {len(self.class_names)})")
        if self.sampling_rate <= 0:
            raise ValueError(f"{self.name}: sampling_rate must be > 0 Hz, got {self.sampling_rate}")
        if self.label_texts and len(self.label_texts) != len(self.class_names):
            raise ValueError(f"{self.name}: {len(self.label_texts)} label texts for {len(self.class_names)} classes")
        if not all("{label}" in t for t in self.prompt_templates):
            raise ValueError(f"{self.name}: every prompt template needs a {{label}} placeholder")
