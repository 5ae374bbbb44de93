"""Pretraining's random channel subset: a per-sample, per-epoch seeded draw (`sample_channels`) that the collators
honour; without a draw every channel is kept."""

import pickle
from functools import partial

import numpy as np
import pytest
from datasets import Dataset

from slip_sensor.processors import SlipFeatureExtractor, SlipProcessor
from slip_sensor.training.collator import (
    SlipInstructionCollator,
    SlipPretrainingCollator,
    caption_candidates,
    sample_caption,
    sample_channels,
)
from slip_sensor.training.epoch_dataset import ComposedTransform, EpochSeededDataset

PATCH = 4
LENGTH = 24  # 6 patches of 4


def make_rows(channel_counts, seed=0):
    """Corpus-like rows: `sensor` `[channel][time]` as nested lists (as `datasets` yields them), every channel on its
    own scale so that a channel mix-up changes the normalised values."""
    rng = np.random.default_rng(seed)
    rows = []
    for index, channels in enumerate(channel_counts):
        scale, offset = rng.uniform(0.5, 20.0, (channels, 1)), rng.normal(0, 3, (channels, 1))
        sensor = rng.standard_normal((channels, LENGTH)) * scale + offset
        rows.append(
            {
                "id": f"row-{index}",
                "sensor": sensor.astype(np.float32).tolist(),
                "sampling_rate": 10.0,
                "patch_size": PATCH,
                "caption": f"caption {index}",
                "caption_statistical": f"statistics {index}",
                "caption_structural": "",
                "caption_semantic": None,
                "paraphrases": [f"paraphrase {index}a", f"paraphrase {index}b"],
            }
        )
    return rows


def expected_values(row, channels):
    """The feature extractor's mean-abs normalisation of the raw row's chosen channels, `[channels, time]`."""
    raw = np.asarray(row["sensor"], dtype=np.float32)[channels]
    return raw / (np.abs(raw).mean(axis=1, keepdims=True) + np.float32(1e-6))


def draws(dataset):
    return [dataset[i]["channels"] for i in range(len(dataset))]


@pytest.fixture
def processor(tiny_tokenizer):
    return SlipProcessor(SlipFeatureExtractor(max_channels=6), tiny_tokenizer)


def test_draw_keeps_at_most_max_channels_sorted_unique_indices():
    rows = make_rows([12, 9, 7, 40] * 10)
    dataset = EpochSeededDataset(rows, partial(sample_channels, max_channels=6), seed=0)
    seen = set()
    for row, channels in zip(rows, draws(dataset)):
        count = len(row["sensor"])
        assert len(channels) == 6 and channels == sorted(set(channels))
        assert all(isinstance(c, int) and 0 <= c < count for c in channels)
        if count == 12:
            seen.update(channels)
    assert seen == set(range(12)), "every channel of a 12-channel row should be drawn at some index"
    assert len({tuple(c) for c, row in zip(draws(dataset), rows) if len(row["sensor"]) == 12}) > 1


@pytest.mark.parametrize("count", [1, 4, 6])
def test_draw_keeps_all_channels_of_a_small_sample(count):
    dataset = EpochSeededDataset(make_rows([count] * 3), partial(sample_channels, max_channels=6), seed=5)
    for epoch in range(3):
        dataset.set_epoch(epoch)
        assert draws(dataset) == [list(range(count))] * 3


def test_draw_is_deterministic_per_seed_index_and_epoch():
    rows = make_rows([12] * 16)
    transform = partial(sample_channels, max_channels=6)
    dataset = EpochSeededDataset(rows, transform, seed=7)
    first = draws(dataset)
    assert first == draws(dataset)  # same (seed, index, epoch): same draw, however often it is read
    assert first == draws(EpochSeededDataset(rows, transform, seed=7))  # and in another dataset object (a resume)
    assert [dataset[i]["channels"] for i in reversed(range(16))] == first[::-1]  # independent of the reading order
    assert first != draws(EpochSeededDataset(rows, transform, seed=8))
    dataset.set_epoch(1)
    second = draws(dataset)
    assert second != first and sum(a != b for a, b in zip(first, second)) > 8  # a new subset each epoch
    dataset.set_epoch(0)
    assert draws(dataset) == first
    assert "channels" not in rows[0]  # the dataset's rows are not modified


def test_draw_on_a_datasets_row_and_array_rows():
    rows = make_rows([9, 3])
    hf = Dataset.from_list([{"sensor": row["sensor"]} for row in rows])
    from_lists = draws(EpochSeededDataset(hf, partial(sample_channels, max_channels=4), seed=1))
    arrays = [{"sensor": np.asarray(row["sensor"])} for row in rows]
    assert from_lists == draws(EpochSeededDataset(arrays, partial(sample_channels, max_channels=4), seed=1))
    assert len(from_lists[0]) == 4 and from_lists[1] == [0, 1, 2]


def test_draw_validates_max_channels():
    with pytest.raises(ValueError, match="max_channels must be a positive integer"):
        sample_channels(make_rows([3])[0], None, max_channels=0)


def test_composed_with_the_caption_draw_keeps_the_caption_draw_and_pickles():
    rows = make_rows([12] * 8)
    alone = EpochSeededDataset(rows, sample_caption, seed=2)
    transform = ComposedTransform(sample_caption, partial(sample_channels, max_channels=6))
    composed = EpochSeededDataset(rows, pickle.loads(pickle.dumps(transform)), seed=2)
    for i in range(len(rows)):
        row = composed[i]
        assert row["text"] == alone[i]["text"] and row["text"] in caption_candidates(rows[i])
        assert len(row["channels"]) == 6
    assert draws(composed) == draws(EpochSeededDataset(rows, transform, seed=2))


def test_pretraining_collator_selects_the_drawn_channels(processor):
    rows = make_rows([12, 9, 3])
    transform = ComposedTransform(sample_caption, partial(sample_channels, max_channels=6))
    dataset = EpochSeededDataset(rows, transform, seed=4)
    drawn = [dataset[i] for i in range(len(rows))]
    assert drawn[0]["channels"] != list(range(6))  # this seed draws something other than the first six
    batch = SlipPretrainingCollator(processor)(drawn)
    assert batch["sensor_values"].shape == (3, 6, LENGTH // PATCH, PATCH)
    for i, row in enumerate(drawn):
        channels = row["channels"]
        values = batch["sensor_values"][i, : len(channels)].reshape(len(channels), -1).numpy()
        np.testing.assert_allclose(values, expected_values(rows[i], channels), rtol=1e-5, atol=1e-6)
        assert not batch["sensor_mask"][i, len(channels) :].any()
    # another epoch draws other channels, and the batch follows
    dataset.set_epoch(1)
    again = SlipPretrainingCollator(processor)([dataset[0]])
    assert dataset[0]["channels"] != drawn[0]["channels"]
    np.testing.assert_allclose(
        again["sensor_values"][0].reshape(6, -1).numpy(), expected_values(rows[0], dataset[0]["channels"]), rtol=1e-5
    )


def test_collators_keep_all_channels_without_a_draw(processor):
    rows = make_rows([12, 2])
    for row in rows:
        row["text"] = row["caption"]
        row["prompt"], row["answer"] = "How many channels?", "Twelve."
    for collator in (SlipPretrainingCollator(processor), SlipInstructionCollator(processor)):
        batch = collator(rows)
        assert batch["sensor_values"].shape[1] == 12 > processor.feature_extractor.max_channels
        for i, row in enumerate(rows):
            count = len(row["sensor"])
            values = batch["sensor_values"][i, :count].reshape(count, -1).numpy()
            np.testing.assert_allclose(values, expected_values(row, list(range(count))), rtol=1e-5, atol=1e-6)


def test_instruction_collator_honours_a_draw(processor):
    row = make_rows([10], seed=3)[0]
    row["prompt"], row["answer"] = "Is it rising?", "Yes."
    row["channels"] = [1, 4, 8]
    batch = SlipInstructionCollator(processor)([row])
    assert batch["sensor_values"].shape[1] == 3
    np.testing.assert_allclose(
        batch["sensor_values"][0].reshape(3, -1).numpy(), expected_values(row, [1, 4, 8]), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("channels", [[0, 12], [-1], [], [[0, 1]]])
def test_collator_rejects_channels_outside_the_row(processor, channels):
    row = make_rows([12])[0]
    row["text"], row["channels"] = "x", channels
    with pytest.raises(ValueError, match=r"Row row-0: channels .* do not index its 12 channels"):
        SlipPretrainingCollator(processor)([row])
