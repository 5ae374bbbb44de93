"""Caption-metric implementations (plain functions); `metrics/<name>/<name>.py` wraps each as an `evaluate` module.

Every scorer takes N predictions and N references (one reference per prediction) and returns a dict holding the
corpus score(s) and a provenance string saying which implementation or model produced them.
"""

from typing import Sequence


def check_pairs(predictions: Sequence[str], references: Sequence[str]) -> None:
    """Raises ValueError unless there is one string reference per prediction and at least one pair."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if not predictions:
        raise ValueError("no predictions to score")
    if not all(isinstance(text, str) for text in [*predictions, *references]):
        raise ValueError("predictions and references must be strings (one reference per prediction)")
