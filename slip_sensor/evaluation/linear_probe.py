"""Linear probe on frozen features (paper protocol), with model selection on a validation split of train.

Protocol (paper, "Evaluation protocols"): a linear classifier trained 50 epochs, 5 of them linear warmup followed by
a half-cosine decay to 0, AdamW, lr 0.01, weight decay 0.05, no hyperparameter search. Features are standardised
with the statistics of the fitting split (a BatchNorm-free equivalent of the reference's affine-free BatchNorm).

Unlike the reference, which reports the best *test* accuracy over epochs, the epoch is chosen
on a stratified validation split carved from the training set; the test set is only used once, to score the
selected classifier. `train_linear_probe` never receives test data at all.

Each seed fixes the validation split, the initialisation and the mini-batch order, so a run is deterministic.
"""

import contextlib
import math
from dataclasses import asdict, dataclass
from typing import Iterable, Iterator

import numpy as np
import torch

from .classification import classification_scores


@dataclass(frozen=True)
class ProbeConfig:
    """Hyperparameters of the probe (defaults = the paper's)."""

    epochs: int = 50
    warmup_epochs: int = 5
    lr: float = 0.01
    weight_decay: float = 0.05
    batch_size: int = 64
    val_fraction: float = 0.2

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LinearProbe:
    """A fitted probe: standardisation + linear layer from the selected epoch."""

    mean: torch.Tensor  # [D]
    scale: torch.Tensor  # [D]
    weight: torch.Tensor  # [K, D]
    bias: torch.Tensor  # [K]
    epoch: int  # selected epoch, 1-based
    val_accuracy: float

    def logits(self, features: np.ndarray) -> torch.Tensor:
        """`[N, D]` features → `[N, K]` logits."""
        x = (torch.as_tensor(features, dtype=torch.float32) - self.mean) / self.scale
        return x @ self.weight.T + self.bias

    def predict(self, features: np.ndarray) -> np.ndarray:
        """`[N, D]` features → `[N]` predicted class indices."""
        return self.logits(features).argmax(dim=-1).numpy()


@dataclass
class SeedRun:
    """One seed's outcome: what was selected on validation, and the test scores of that selection."""

    seed: int
    epoch: int
    val_accuracy: float
    accuracy: float
    macro_f1: float
    predictions: np.ndarray  # [N_test]


@dataclass
class LinearProbeResult:
    """All seeds of one probe (same features, same data)."""

    runs: list[SeedRun]

    def summary(self) -> dict:
        """The results-JSON entry: mean and sample std (ddof=1; 0 for one seed) over seeds, plus per-seed rows."""
        acc = np.array([r.accuracy for r in self.runs])
        f1 = np.array([r.macro_f1 for r in self.runs])
        ddof = 1 if len(self.runs) > 1 else 0
        return {
            "accuracy_mean": float(acc.mean()),
            "accuracy_std": float(acc.std(ddof=ddof)),
            "macro_f1_mean": float(f1.mean()),
            "macro_f1_std": float(f1.std(ddof=ddof)),
            "seeds": [r.seed for r in self.runs],
            "per_seed": [
                {k: getattr(r, k) for k in ("seed", "epoch", "val_accuracy", "accuracy", "macro_f1")}
                for r in self.runs
            ],
        }


def stratified_split(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays `(fit, val)`: each class puts `round(val_fraction * n_c)` samples (at least 1 when it has 2 or
    more, none when it has 1) in validation, chosen at random by `seed`."""
    rng = np.random.default_rng(seed)
    fit, val = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_val = 0 if len(idx) < 2 else min(len(idx) - 1, max(1, round(val_fraction * len(idx))))
        val.append(idx[:n_val])
        fit.append(idx[n_val:])
    return np.sort(np.concatenate(fit)), np.sort(np.concatenate(val))


def lr_at(step: int, total_steps: int, warmup_steps: int, base_lr: float) -> float:
    """Linear warmup over `warmup_steps` (first step already > 0), then half-cosine decay to 0 at `total_steps`."""
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))


@contextlib.contextmanager
def _single_thread() -> Iterator[None]:
    """A linear head's mini-batch ops are too small to parallelise; with several intra-op threads they mostly wait on
    each other, which is up to 10x slower on a busy machine. The caller's thread count is restored afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@_single_thread()
def train_linear_probe(
    features: np.ndarray, labels: np.ndarray, num_classes: int, seed: int, config: ProbeConfig = ProbeConfig()
) -> LinearProbe:
    """Fits the probe on training data only, selecting the epoch with the best validation accuracy (ties: lower
    validation loss, then the earlier epoch).

    Args:
        features: `[N, D]` training features.
        labels: `[N]` integer classes in `[0, num_classes)`.
    """
    labels = np.asarray(labels, dtype=np.int64)
    fit_idx, val_idx = stratified_split(labels, config.val_fraction, seed)
    if len(val_idx) == 0:
        raise ValueError("no validation samples: every class has a single training sample")
    x = torch.as_tensor(features, dtype=torch.float32)
    y = torch.as_tensor(labels)
    x_fit, y_fit, x_val, y_val = x[fit_idx], y[fit_idx], x[val_idx], y[val_idx]
    mean = x_fit.mean(dim=0)
    scale = x_fit.std(dim=0, unbiased=False).clamp_min(1e-6)  # constant features map to 0, not inf
    x_fit, x_val = (x_fit - mean) / scale, (x_val - mean) / scale

    generator = torch.Generator().manual_seed(seed)
    head = torch.nn.Linear(x.shape[1], num_classes)
    with torch.no_grad():
        # near-zero init (MAE-style probe head): the start is unbiased and the seed still matters via split/order
        torch.nn.init.trunc_normal_(head.weight, std=2e-5, generator=generator)
        head.bias.zero_()
    optimizer = torch.optim.AdamW(head.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(fit_idx) / config.batch_size)
    total_steps, warmup_steps = config.epochs * steps_per_epoch, config.warmup_epochs * steps_per_epoch

    best_key, best_state, step = None, None, 0
    for epoch in range(1, config.epochs + 1):
        order = torch.randperm(len(fit_idx), generator=generator)
        for batch in order.split(config.batch_size):
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, total_steps, warmup_steps, config.lr)
            loss = torch.nn.functional.cross_entropy(head(x_fit[batch]), y_fit[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
        with torch.no_grad():
            val_logits = head(x_val)
            val_acc = float((val_logits.argmax(-1) == y_val).float().mean())
            val_loss = float(torch.nn.functional.cross_entropy(val_logits, y_val))
        key = (val_acc, -val_loss)
        if best_key is None or key > best_key:
            best_key = key
            best_state = (epoch, head.weight.detach().clone(), head.bias.detach().clone())
    epoch, weight, bias = best_state
    return LinearProbe(mean=mean, scale=scale, weight=weight, bias=bias, epoch=epoch, val_accuracy=best_key[0])


def linear_probe(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    test_labels: np.ndarray,
    num_classes: int | None = None,
    seeds: Iterable[int] = range(5),
    config: ProbeConfig = ProbeConfig(),
) -> LinearProbeResult:
    """Trains one probe per seed on train (selection on its validation split) and scores it once on test.

    Args:
        train_features: `[N, D]`; train_labels: `[N]`.
        test_features: `[M, D]`; test_labels: `[M]` (used only for scoring).
        num_classes: number of classes K (default: `max(train_labels) + 1`).
    """
    train_labels = np.asarray(train_labels, dtype=np.int64)
    num_classes = int(train_labels.max()) + 1 if num_classes is None else num_classes
    runs = []
    for seed in seeds:
        probe = train_linear_probe(train_features, train_labels, num_classes, seed, config)
        predictions = probe.predict(test_features)
        scores = classification_scores(test_labels, predictions)
        runs.append(SeedRun(seed, probe.epoch, probe.val_accuracy, scores["accuracy"], scores["macro_f1"], predictions))
    return LinearProbeResult(runs)
