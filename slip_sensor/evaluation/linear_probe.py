"""Linear probe on frozen features, under one of two protocols (`ProbeConfig.protocol`).

`default` (honest): a linear classifier trained 50 epochs, 5 of them linear warmup followed by a half-cosine decay to
0, AdamW, lr 0.01, weight decay 0.05, no hyperparameter search. Features are standardised with the statistics of the
fitting split. The epoch is chosen on a stratified validation split carved from the training set; the test set is
only used once, to score the selected classifier. `train_linear_probe` never receives test data at all.

`reference` (`ProbeConfig.reference()`, the SLIP authors' probe): the head BatchNorm1d(affine=False, eps 1e-6) →
Dropout 0.1 → Linear (trunc-normal std 2e-5) trains on all of train with plain cross-entropy, AdamW (default betas),
weight decay 1e-3, lr 0.01 × batch / 256, 5 warmup epochs then a half-cosine to 1e-6, shuffled batches without the
last partial one. After every epoch the head is scored on TEST, and the best test accuracy over the 50 epochs is
reported: the epoch is chosen on the test split, so the number is optimistic. The authors use a per-task batch size
(e.g. 128 for UCI-HAR, 16 for the PPG tasks); for every other task the default batch is 64 (lr 2.5e-3). The
features are computed once with the encoder in eval mode, whereas the authors keep encoder dropout active while the
head trains.

Each seed fixes the validation split (default), the initialisation, dropout and the mini-batch order, so a run is
deterministic.
"""

import contextlib
import math
from dataclasses import asdict, dataclass
from typing import Iterable, Iterator

import numpy as np
import torch

from .classification import classification_scores


PROTOCOLS = ("default", "reference")
# How each protocol picks the reported epoch (results JSON `protocol.selection`).
SELECTION = {
    "default": "epoch chosen on a stratified validation split of train; test scored once per seed",
    "reference": "reference protocol: the head trains on all of train and is scored on TEST after every epoch; the "
    "reported accuracy is the best test accuracy over the epochs (epoch chosen on test, so optimistic)",
}
REFERENCE_BATCH_SIZE = 64  # for tasks without an authors' batch size


@dataclass(frozen=True)
class ProbeConfig:
    """Hyperparameters of the probe (defaults = the paper's, selection on validation)."""

    epochs: int = 50
    warmup_epochs: int = 5
    lr: float = 0.01
    weight_decay: float = 0.05
    batch_size: int = 64
    val_fraction: float = 0.2
    min_lr: float = 0.0
    protocol: str = "default"

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"unknown probe protocol {self.protocol!r}; known: {', '.join(PROTOCOLS)}")

    @classmethod
    def reference(cls, batch_size: int = REFERENCE_BATCH_SIZE) -> "ProbeConfig":
        """The authors' probe (see module docstring); lr scales with the batch size as theirs does."""
        return cls(
            lr=0.01 * batch_size / 256, weight_decay=1e-3, batch_size=batch_size, val_fraction=0.0, min_lr=1e-6,
            protocol="reference",
        )

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
    """One seed's outcome: the selected epoch and the test scores of that selection. Default protocol: selected on
    validation (`val_accuracy`). Reference protocol: selected on test, so `val_accuracy` is None and
    `test_accuracy_by_epoch` holds the curve whose maximum is reported."""

    seed: int
    epoch: int
    val_accuracy: float | None
    accuracy: float
    macro_f1: float
    predictions: np.ndarray  # [N_test]
    test_accuracy_by_epoch: list[float] | None = None

    def row(self) -> dict:
        """The results-JSON `per_seed` entry (the test curve only where there is one)."""
        row = {k: getattr(self, k) for k in ("seed", "epoch", "val_accuracy", "accuracy", "macro_f1")}
        if self.test_accuracy_by_epoch is not None:
            row["test_accuracy_by_epoch"] = self.test_accuracy_by_epoch
        return row


@dataclass
class LinearProbeResult:
    """All seeds of one probe (same features, same data)."""

    runs: list[SeedRun]
    protocol: str = "default"

    def summary(self) -> dict:
        """The results-JSON entry: the protocol, mean and sample std (ddof=1; 0 for one seed) over seeds, plus
        per-seed rows (with the per-epoch test curve under the reference protocol)."""
        acc = np.array([r.accuracy for r in self.runs])
        f1 = np.array([r.macro_f1 for r in self.runs])
        ddof = 1 if len(self.runs) > 1 else 0
        return {
            "protocol": self.protocol,
            "accuracy_mean": float(acc.mean()),
            "accuracy_std": float(acc.std(ddof=ddof)),
            "macro_f1_mean": float(f1.mean()),
            "macro_f1_std": float(f1.std(ddof=ddof)),
            "seeds": [r.seed for r in self.runs],
            "per_seed": [r.row() for r in self.runs],
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


def lr_at(step: int, total_steps: int, warmup_steps: int, base_lr: float, min_lr: float = 0.0) -> float:
    """Linear warmup over `warmup_steps` (first step already > 0), then half-cosine decay to `min_lr` at
    `total_steps`."""
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


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
                group["lr"] = lr_at(step, total_steps, warmup_steps, config.lr, config.min_lr)
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


@_single_thread()
def reference_probe_run(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    test_labels: np.ndarray,
    num_classes: int,
    seed: int,
    config: ProbeConfig,
) -> SeedRun:
    """One seed of the reference protocol (module docstring): the head trains on all of train and is scored on test
    after every epoch; the first epoch with the best test accuracy is reported, with its macro-F1 and predictions."""
    x = torch.as_tensor(train_features, dtype=torch.float32)
    y = torch.as_tensor(np.asarray(train_labels, dtype=np.int64))
    x_test = torch.as_tensor(test_features, dtype=torch.float32)
    # a batch-size multiple of samples per epoch, as with drop_last, unless train holds less than one batch
    steps_per_epoch = max(1, len(x) // config.batch_size)
    total_steps, warmup_steps = config.epochs * steps_per_epoch, config.warmup_epochs * steps_per_epoch
    with torch.random.fork_rng(devices=[]):  # seeds dropout without touching the caller's RNG
        torch.manual_seed(seed)
        head = torch.nn.Sequential(
            torch.nn.BatchNorm1d(x.shape[1], affine=False, eps=1e-6),
            torch.nn.Dropout(0.1),
            torch.nn.Linear(x.shape[1], num_classes),
        )
        with torch.no_grad():
            torch.nn.init.trunc_normal_(head[2].weight, std=2e-5)
            head[2].bias.zero_()
        optimizer = torch.optim.AdamW(head.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        curve, best, step = [], None, 0
        for epoch in range(1, config.epochs + 1):
            head.train()
            for batch in torch.randperm(len(x)).split(config.batch_size)[:steps_per_epoch]:
                for group in optimizer.param_groups:
                    group["lr"] = lr_at(step, total_steps, warmup_steps, config.lr, config.min_lr)
                loss = torch.nn.functional.cross_entropy(head(x[batch]), y[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step += 1
            head.eval()
            with torch.no_grad():
                predictions = head(x_test).argmax(dim=-1).numpy()
            scores = classification_scores(test_labels, predictions)
            curve.append(scores["accuracy"])
            if best is None or scores["accuracy"] > best[1]["accuracy"]:
                best = (epoch, scores, predictions)
    epoch, scores, predictions = best
    return SeedRun(seed, epoch, None, scores["accuracy"], scores["macro_f1"], predictions, curve)


def linear_probe(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    test_labels: np.ndarray,
    num_classes: int | None = None,
    seeds: Iterable[int] = range(5),
    config: ProbeConfig = ProbeConfig(),
) -> LinearProbeResult:
    """Trains one probe per seed. Default protocol: selection on a validation split of train, test scored once;
    reference protocol (`config.protocol`): the best test accuracy over the epochs (`reference_probe_run`).

    Args:
        train_features: `[N, D]`; train_labels: `[N]`.
        test_features: `[M, D]`; test_labels: `[M]` (used only for scoring).
        num_classes: number of classes K (default: `max(train_labels) + 1`).
    """
    train_labels = np.asarray(train_labels, dtype=np.int64)
    num_classes = int(train_labels.max()) + 1 if num_classes is None else num_classes
    runs = []
    for seed in seeds:
        if config.protocol == "reference":
            runs.append(
                reference_probe_run(train_features, train_labels, test_features, test_labels, num_classes, seed, config)
            )
            continue
        probe = train_linear_probe(train_features, train_labels, num_classes, seed, config)
        predictions = probe.predict(test_features)
        scores = classification_scores(test_labels, predictions)
        runs.append(SeedRun(seed, probe.epoch, probe.val_accuracy, scores["accuracy"], scores["macro_f1"], predictions))
    return LinearProbeResult(runs, config.protocol)
