"""Classification scores shared by every classification protocol (linear probe, zero-shot)."""

import numpy as np
from sklearn.metrics import accuracy_score, f1_score


def classification_scores(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """Top-1 accuracy and macro-F1 (over the classes present in `labels` or `predictions`).

    Args:
        labels: `[N]` integer ground-truth classes.
        predictions: `[N]` integer predicted classes.
    """
    return {
        "accuracy": float(accuracy_score(labels, predictions)),
        "macro_f1": float(f1_score(labels, predictions, average="macro", zero_division=0)),
    }
