"""Shape-grouped random batches: samples of similar channel count and patch count share a batch.

A batch is padded to its largest channel count and patch count, so a univariate 300-patch series next to a
6-channel one costs 6 x 300 tokens. Grouping similar shapes (within random mega-batches, as transformers'
LengthGroupedSampler does for text) removes most of that padding while the order stays random. The permutation is
seeded by (seed, epoch), so every process and every resumed run sees the same order.
"""

import torch
from torch.utils.data import Sampler


def sensor_shape_keys(corpus, feature_extractor) -> list[tuple[int, int, int]]:
    """Sort key per corpus row: the feature extractor's `shape_key` of the row as pretraining feeds it (a random
    `max_channels` of wider rows, see `collator.sample_channels`), read from the row's `num_channels` and `length`
    columns without decoding its series."""
    columns = corpus.select_columns(["num_channels", "length", "sampling_rate", "patch_size"])
    return [
        feature_extractor.shape_key(
            min(row["num_channels"], feature_extractor.max_channels),
            row["length"],
            sampling_rate=row["sampling_rate"],
            patch_size=row["patch_size"],
        )
        for row in columns
    ]


class ShapeGroupedSampler(Sampler[int]):
    """Random mega-batches of `batch_size * mega_batches` samples, each sorted by key and cut into batches; the
    batches are then shuffled. Yields indices (the Trainer cuts them into batches of `batch_size`)."""

    def __init__(self, keys: list, batch_size: int, seed: int = 0, mega_batches: int = 50):
        self.keys = keys
        self.batch_size = batch_size
        self.seed = seed
        self.mega_batches = mega_batches
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(len(self.keys), generator=generator).tolist()
        span = self.batch_size * self.mega_batches
        batches = []
        for start in range(0, len(order), span):
            group = sorted(order[start : start + span], key=self.keys.__getitem__)
            batches += [group[i : i + self.batch_size] for i in range(0, len(group), self.batch_size)]
        full = [b for b in batches if len(b) == self.batch_size]
        partial = [b for b in batches if len(b) < self.batch_size]  # last, so later batches stay aligned
        for index in torch.randperm(len(full), generator=generator).tolist():
            yield from full[index]
        for batch in partial:
            yield from batch
