"""Alignment and uniformity of embeddings on the unit hypersphere (Wang & Isola, ICML 2020).

Both are computed on L2-normalised rows, as defined in the paper: lower alignment means paired embeddings are
closer; lower (more negative) uniformity means the embeddings spread more evenly over the sphere.
"""

import math

import numpy as np
import torch


def _normalised(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    # a diagnostic, never a loss: detached, and in float64 so the hand-checked values hold exactly
    return torch.nn.functional.normalize(torch.as_tensor(x).detach().to(torch.float64), dim=-1)


def alignment(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, alpha: float = 2.0) -> float:
    """Mean `||x_i - y_i||^alpha` over paired rows after L2 normalisation.

    Args:
        x: `[N, D]` embeddings (e.g. sensor side).
        y: `[N, D]` embeddings paired row by row with `x` (e.g. the matching text).
    """
    x, y = _normalised(x), _normalised(y)
    if x.shape != y.shape:
        raise ValueError(f"alignment needs paired rows of equal shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    return float((x - y).norm(dim=-1).pow(alpha).mean())


def uniformity(x: np.ndarray | torch.Tensor, t: float = 2.0) -> float:
    """`log mean_{i<j} exp(-t ||x_i - x_j||^2)` over all pairs of L2-normalised rows of `x` (`[N, D]`, N >= 2)."""
    x = _normalised(x)
    if x.shape[0] < 2:
        raise ValueError("uniformity needs at least 2 embeddings")
    # logsumexp avoids underflow of exp(-t d^2) for well-spread embeddings
    scaled = -t * torch.pdist(x, p=2).pow(2)
    return float(torch.logsumexp(scaled, dim=0) - math.log(scaled.numel()))
