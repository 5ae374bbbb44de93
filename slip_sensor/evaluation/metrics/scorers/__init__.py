"""Caption-metric implementations (plain functions); `metrics/<name>/<name>.py` wraps each as an `evaluate` module.

Every scorer takes N predictions and their references (one string, or a list of strings, per prediction) and returns
a dict holding the corpus score(s) and a provenance string saying which implementation or model produced them. With
several references, a prediction's score is its best over them (the usual rule of each metric's implementation).
"""

from typing import Sequence


def reference_lists(predictions: Sequence[str], references: Sequence[str] | Sequence[Sequence[str]]) -> list[list[str]]:
    """The references of each prediction as a list; raises ValueError unless there are references for every
    prediction, at least one pair, and only strings."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if not predictions:
        raise ValueError("no predictions to score")
    groups = [[group] if isinstance(group, str) else list(group) for group in references]
    if not all(isinstance(text, str) for text in predictions) or not all(
        group and all(isinstance(text, str) for text in group) for group in groups
    ):
        raise ValueError("predictions must be strings, references strings or non-empty lists of strings")
    return groups


def flatten(groups: list[list[str]]) -> tuple[list[str], list[int]]:
    """All references in one list, and the index of the prediction each belongs to."""
    return [text for group in groups for text in group], [i for i, group in enumerate(groups) for _ in group]


def best_per_prediction(scores, owners: list[int], num_predictions: int):
    """Per prediction, the maximum of `scores` (a tensor, one row per reference) over its references."""
    import torch

    index = torch.tensor(owners, device=scores.device).view(-1, *([1] * (scores.dim() - 1))).expand_as(scores)
    best = torch.full((num_predictions, *scores.shape[1:]), -torch.inf, dtype=scores.dtype, device=scores.device)
    return best.scatter_reduce(0, index, scores, reduce="amax")
