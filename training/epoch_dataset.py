"""Per-sample random choices that survive interruption: an RNG seeded by (seed, epoch, index).

Random draws made while batches are assembled (which caption level or paraphrase, which channels, which augmentation)
cannot use a global RNG if a resumed run is to repeat the uninterrupted one: batches are fetched ahead of the step that
uses them, so the Trainer restores its saved RNG state only after the first resumed batch has been drawn. Seeding each
sample's draws from its index and the epoch makes them independent of how far the loader ran ahead, of the process
that reads the row, and of restarts.
"""

import random
from collections.abc import Callable

from torch.utils.data import Dataset
from transformers import TrainerCallback


class EpochSeededDataset(Dataset):
    """`transform(row, rng)` applied to each row of `dataset` with `rng = random.Random((seed, epoch, index))`."""

    def __init__(self, dataset, transform: Callable[[dict, random.Random], dict], seed: int = 0):
        self.dataset = dataset
        self.transform = transform
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        rng = random.Random(f"{self.seed}:{self.epoch}:{index}")
        return self.transform(dict(self.dataset[index]), rng)


class ComposedTransform:
    """`transform(row, rng)` applying `transforms` in order with the same `rng` (e.g. a caption draw, then a channel
    draw); picklable, for data-loader worker processes, when its parts are (module-level functions, `partial`s)."""

    def __init__(self, *transforms: Callable[[dict, random.Random], dict]):
        self.transforms = transforms

    def __call__(self, row: dict, rng: random.Random) -> dict:
        for transform in self.transforms:
            row = transform(row, rng)
        return row


class EpochCallback(TrainerCallback):
    """Tells an `EpochSeededDataset` which epoch starts (also the resumed one, mid-epoch)."""

    def __init__(self, dataset: EpochSeededDataset):
        self.dataset = dataset

    def on_epoch_begin(self, args, state, control, **kwargs):
        self.dataset.set_epoch(int(state.epoch or 0))
