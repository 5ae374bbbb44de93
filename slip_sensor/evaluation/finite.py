"""Evaluation numbers are finite: a NaN or infinity in a results JSON or a model card is a bug upstream (an empty
mean, a division by zero), so writers refuse it and name where it is instead of publishing it."""

import math
from typing import Any


def non_finite_fields(value: Any, path: str = "") -> list[str]:
    """Dotted paths (list items as `[i]`) of every NaN or infinite float in nested dicts, lists and tuples."""
    if isinstance(value, float):  # numpy float64 is a float subclass too
        return [] if math.isfinite(value) else [f"{path or 'value'} = {value}"]
    if isinstance(value, dict):
        return [field for key, item in value.items() for field in non_finite_fields(item, f"{path}.{key}".lstrip("."))]
    if isinstance(value, (list, tuple)):
        return [field for i, item in enumerate(value) for field in non_finite_fields(item, f"{path}[{i}]")]
    return []
