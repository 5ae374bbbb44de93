"""Figures written next to the results JSON: a zero-shot confusion matrix and a 2-D PCA map of features.

Figures are drawn on a bare `matplotlib.figure.Figure`, so no pyplot state or GUI backend is involved.
"""

from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from sklearn.decomposition import PCA
from sklearn.metrics import confusion_matrix


def plot_confusion_matrix(
    labels: np.ndarray, predictions: np.ndarray, class_names: Sequence[str], path: Path, title: str
) -> Path:
    """Saves the `[K, K]` confusion matrix (rows: true class, columns: predicted) of `[N]` labels/predictions."""
    k = len(class_names)
    counts = confusion_matrix(labels, predictions, labels=np.arange(k))
    fig = Figure(figsize=(max(4.5, 1.5 + 0.6 * k), max(4.0, 1.2 + 0.6 * k)), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(counts, cmap="Blues")
    for (i, j), n in np.ndenumerate(counts):
        ax.text(j, i, str(n), ha="center", va="center", color="white" if n > counts.max() / 2 else "black")
    ax.set(xticks=range(k), yticks=range(k), xlabel="predicted", ylabel="true", title=title)
    ax.set_xticklabels(class_names, rotation=45, ha="right")
    ax.set_yticklabels(class_names)
    fig.savefig(path, dpi=120)
    return path


def plot_embedding_map(
    features: np.ndarray, labels: np.ndarray, class_names: Sequence[str], path: Path, title: str
) -> Path:
    """Saves a scatter of the first two principal components of standardised `[N, D]` features, coloured by class."""
    standardised = (features - features.mean(axis=0)) / np.clip(features.std(axis=0), 1e-6, None)
    points = PCA(n_components=2, random_state=0).fit_transform(standardised)
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.add_subplot()
    for c, name in enumerate(class_names):
        chosen = labels == c
        if chosen.any():
            ax.scatter(points[chosen, 0], points[chosen, 1], s=12, label=name)
    ax.set(xlabel="PC 1", ylabel="PC 2", title=title)
    ax.legend(fontsize="small", markerscale=1.5)
    fig.savefig(path, dpi=120)
    return path
