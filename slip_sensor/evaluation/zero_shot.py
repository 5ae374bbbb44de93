"""Zero-shot classification by nearest class prototype (cosine) in the shared sensor–text embedding space.

Each class gets one prototype: its prompts (every template with `{label}` filled in; all classes' prompts are
embedded once, in one list) are L2-normalised, averaged, and re-normalised (CLIP-style prompt ensembling). A sensor
sample is assigned the class whose prototype has the highest cosine similarity with its embedding.
"""

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .classification import classification_scores


def _l2_normalise(x: np.ndarray) -> np.ndarray:
    return x / np.clip(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12, None)


def class_prompts(class_names: Sequence[str], templates: Sequence[str]) -> list[str]:
    """All prompts, class-major: `[class_0 × templates..., class_1 × templates..., ...]` (K·T strings)."""
    # replace, not str.format: templates may contain other braces
    return [template.replace("{label}", name) for name in class_names for template in templates]


def class_prototypes(prompt_embeddings: np.ndarray, num_classes: int) -> np.ndarray:
    """`[K, E]` unit-norm class prototypes from the `[K·T, E]` embeddings of `class_prompts(...)` (class-major):
    each prompt embedding is L2-normalised, the T of a class are averaged, and the mean is re-normalised."""
    embeddings = _l2_normalise(np.asarray(prompt_embeddings, dtype=np.float64))
    if len(embeddings) % num_classes:
        raise ValueError(f"{len(embeddings)} prompt embeddings do not split into {num_classes} classes")
    return _l2_normalise(embeddings.reshape(num_classes, len(embeddings) // num_classes, -1).mean(axis=1))


def zero_shot_predict(sensor_embeddings: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """`[N, E]` sensor embeddings, `[K, E]` prototypes → `[N]` index of the most cosine-similar prototype."""
    similarity = _l2_normalise(np.asarray(sensor_embeddings, dtype=np.float64)) @ _l2_normalise(prototypes).T
    return similarity.argmax(axis=1)


@dataclass
class ZeroShotResult:
    accuracy: float
    macro_f1: float
    predictions: np.ndarray  # [N]


def zero_shot(sensor_embeddings: np.ndarray, labels: np.ndarray, prototypes: np.ndarray) -> ZeroShotResult:
    """Scores nearest-prototype predictions of `[N, E]` embeddings against `[N]` labels (indices into prototypes)."""
    predictions = zero_shot_predict(sensor_embeddings, prototypes)
    return ZeroShotResult(**classification_scores(labels, predictions), predictions=predictions)
