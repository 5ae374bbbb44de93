"""Collators: corpus rows → processor outputs the models take as `**batch`.

Rows follow the corpus schema (`slip_sensor.data.corpus_schema`): `sensor` `[channel][time]`, `sampling_rate`,
optional `patch_size`, and caption columns. Sensors may differ in length, channel count and sampling rate in one batch; the
processor pads them and picks each sample's patch size.

Random per-sample choices (which caption, which channels, which augmentation) are drawn by the dataset with an `rng`
seeded by the sample's index and epoch (`epoch_dataset.EpochSeededDataset`), so a resumed run repeats them exactly.
The collators keep every channel of a row unless a channel draw (`sample_channels`) is stored in `row["channels"]`.
"""

import random
from collections.abc import Sequence

import numpy as np
import torch

from slip_sensor.data.corpus_schema import row_sensor
from slip_sensor.data.phrasing import drop_first_sentence
from slip_sensor.evaluation.retrieval import semantic_structural_text

CAPTION_COLUMNS = ("caption", "caption_statistical", "caption_structural", "caption_semantic", "paraphrases")


def _sensor(row: dict) -> np.ndarray:
    """A row's series `[channels, time]`: the channels drawn into `row["channels"]` (see `sample_channels`), in that
    order, or all channels when no draw is present; time-reversed when its drawn augmentation says so."""
    sensor = row_sensor(row)
    channels = row.get("channels")
    if channels is not None:
        channels = np.asarray(channels, dtype=np.int64)
        if channels.ndim != 1 or not len(channels) or channels.min() < 0 or channels.max() >= len(sensor):
            raise ValueError(
                f"Row {row.get('id', '?')}: channels {channels.tolist()} do not index its {len(sensor)} channels"
            )
        sensor = sensor[channels]
    if row.get("augmentation", {}).get("flip"):
        sensor = sensor[:, ::-1].copy()
    return sensor


def rows_to_inputs(processor, rows: Sequence[dict], **kwargs) -> dict[str, torch.Tensor]:
    """Corpus rows → processor outputs (torch): each row's series (see `_sensor`), sampling rate and patch size;
    `kwargs` (e.g. `text=`, `append_eos=`) go to the processor. The one place a row becomes model inputs."""
    return dict(
        processor(
            sensors=[_sensor(row) for row in rows],
            sampling_rate=[row.get("sampling_rate") for row in rows],
            patch_size=[row.get("patch_size") for row in rows],
            return_tensors="pt",
            **kwargs,
        )
    )


def caption_labels(input_ids: torch.Tensor, attention_mask: torch.Tensor, bos_token_id: int | None) -> torch.Tensor:
    """Caption-loss targets `[B, T]`: the input ids with -100 on padding and on the leading BOS, which is an input,
    never a target (not shifted: the model shifts)."""
    labels = input_ids.masked_fill(attention_mask == 0, -100)
    if bos_token_id is not None:
        rows = torch.arange(len(labels))
        first = attention_mask.argmax(dim=1)  # first real token, wherever the padding put it
        leading_bos = (attention_mask[rows, first] == 1) & (input_ids[rows, first] == bos_token_id)
        labels[rows[leading_bos], first[leading_bos]] = -100
    return labels


CAPTION_MIXES = ("all", "short")


def caption_candidates(row: dict, mix: str = "all") -> list[str]:
    """The texts a corpus row may be paired with in pretraining, by caption mix:

    - `"all"`: every caption level and paraphrase (the full caption states the statistics with their numbers);
    - `"short"`: the semantic and the structural level, alone or joined: what was recorded and the shape of the
      signal in two to four clauses without the statistics' numbers, as the paper's captions are. A semantic level
      that is only its opening sentence is not used alone; rows whose levels are empty fall back to the full
      caption.
    """
    if mix == "all":
        candidates = []
        for column in CAPTION_COLUMNS:
            value = row.get(column)
            candidates.extend(value if isinstance(value, list) else [value])
    elif mix == "short":
        semantic, structural = row.get("caption_semantic") or "", row.get("caption_structural") or ""
        # a semantic level that is only its opening sentence (what, how long, how often) states nothing the caller
        # does not know: alone, it would teach the decoder to stop right after the known facts
        alone = semantic if drop_first_sentence(semantic) or not structural else ""
        candidates = [alone, structural, semantic_structural_text(row) if semantic and structural else ""]
        candidates = [c for c in candidates if c] or [row.get("caption")]
    else:
        raise ValueError(f"caption mix must be one of {CAPTION_MIXES}, got {mix!r}")
    return [c for c in candidates if c]


def held_out_caption(row: dict, rng: random.Random | None = None) -> dict:
    """Sets `row["text"]` to the row's semantic and structural captions joined, the text `slip evaluate --tasks
    retrieval` pairs a row with: held-out rows are scored the same way during and after training."""
    row["text"] = semantic_structural_text(row)
    return row


def sample_caption(row: dict, rng: random.Random, mix: str = "all") -> dict:
    """Sets `row["text"]` to one caption of the `mix` (see `caption_candidates`) drawn uniformly (one per sample and
    epoch)."""
    candidates = caption_candidates(row, mix)
    if not candidates:
        raise ValueError(f"Row {row.get('id', '?')} has no caption in {CAPTION_COLUMNS}")
    row["text"] = rng.choice(candidates)
    return row


def sample_channels(row: dict, rng: random.Random, max_channels: int) -> dict:
    """Sets `row["channels"]` to the indices of the channels the collators keep (one draw per sample and epoch, as
    `sample_caption`): a uniform random subset of `max_channels` channels when the row has more, all of them
    otherwise; always sorted, so the kept channels stay in their original order.

    Pretraining keeps a random `max_channels` (the feature extractor's `max_channels`) per sample, as the paper's
    authors do; evaluation and fine-tuning keep all channels (no draw). Captions are written for the whole row and
    may name channels, so a caption describing a dropped channel becomes partially unobservable for that epoch; the
    authors accept this. Use it as an `EpochSeededDataset` transform, e.g. composed after `sample_caption` with
    `epoch_dataset.ComposedTransform(sample_caption, functools.partial(sample_channels, max_channels=6))`.
    """
    if not isinstance(max_channels, int) or isinstance(max_channels, bool) or max_channels < 1:
        raise ValueError(f"max_channels must be a positive integer, got {max_channels!r}")
    num_channels = len(row["sensor"])
    if num_channels <= max_channels:
        row["channels"] = list(range(num_channels))
    else:
        row["channels"] = sorted(rng.sample(range(num_channels), max_channels))
    return row


class SlipPretrainingCollator:
    """Rows with a chosen caption in `text` (see `sample_caption`) → processor outputs. Captions follow the
    processor's caption policy (EOS-terminated by default, so generation learns to stop and texts embedded later are
    read at the same position) and labels ignore pads and BOS. Each row keeps the channels drawn into
    `row["channels"]` (see `sample_channels`), or all its channels when there is no draw."""

    def __init__(self, processor):
        self.processor = processor

    def __call__(self, rows: Sequence[dict]) -> dict[str, torch.Tensor]:
        batch = rows_to_inputs(self.processor, rows, text=[row["text"] for row in rows])
        batch["labels"] = caption_labels(
            batch["input_ids"], batch["attention_mask"], self.processor.tokenizer.bos_token_id
        )
        return batch


class SensorAugmentation:
    """The paper's SFT augmentations, each with probability `p`: time reversal of the raw series (only for rows whose
    answer does not depend on the direction of time, `time_flip_ok`), then scaling by U(1.1, 1.5) and Gaussian jitter
    with sigma ~ U(0, 0.5) on the normalised observed values the model sees.

    `draw(row, rng)` picks a row's augmentation (use it as an `EpochSeededDataset` transform); the collator applies it.
    """

    def __init__(self, p: float = 0.5, max_jitter: float = 0.5, scale_range: tuple[float, float] = (1.1, 1.5)):
        self.p = p
        self.max_jitter = max_jitter
        self.scale_range = scale_range

    def draw(self, row: dict, rng: random.Random) -> dict:
        row["augmentation"] = {
            "flip": bool(row.get("time_flip_ok", False)) and rng.random() < self.p,
            "scale": rng.uniform(*self.scale_range) if rng.random() < self.p else 1.0,
            "jitter": rng.uniform(0.0, self.max_jitter) if rng.random() < self.p else 0.0,
            "noise_seed": rng.getrandbits(32),
        }
        return row


def _scale_and_jitter(values: torch.Tensor, mask: torch.Tensor, rows: Sequence[dict]) -> torch.Tensor:
    """values/mask `[B, V, P, ps]` → values with each row's drawn scale and jitter (unobserved entries stay 0)."""
    out = values.clone()
    for i, row in enumerate(rows):
        drawn = row.get("augmentation")
        if drawn is None:
            continue
        out[i] *= drawn["scale"]
        if drawn["jitter"] > 0:
            noise = np.random.default_rng(drawn["noise_seed"]).standard_normal(values.shape[1:])
            out[i] += drawn["jitter"] * torch.from_numpy(noise).to(values.dtype)
    return out.masked_fill(~mask.bool(), 0.0)


class SlipInstructionCollator:
    """Supervised fine-tuning rows (`prompt`, `answer`) with their sensor: the model reads BOS + prompt + " " + answer
    + EOS and the loss covers the answer and EOS only (prompt, BOS and pads are -100). Prompt and answer are tokenised
    separately, so the boundary is exact whatever the tokenizer merges. Rows carrying a drawn `augmentation` (see
    `SensorAugmentation.draw`) are augmented. All channels are kept unless a channel draw is present in
    `row["channels"]` (see `sample_channels`)."""

    def __init__(self, processor, max_text_length: int = 512):
        self.processor = processor
        self.max_text_length = max_text_length

    def __call__(self, rows: Sequence[dict]) -> dict[str, torch.Tensor]:
        tokenizer = self.processor.tokenizer
        batch = rows_to_inputs(self.processor, rows)
        batch["sensor_values"] = _scale_and_jitter(batch["sensor_values"], batch["sensor_mask"], rows)
        sequences, answer_lengths = [], []
        for row in rows:
            prompt = tokenizer(row["prompt"])["input_ids"]
            answer = tokenizer(" " + row["answer"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
            ids = (prompt + answer)[-self.max_text_length :]
            sequences.append(ids)
            answer_lengths.append(min(len(answer), len(ids)))
        tokens = self.processor.pad([{"input_ids": ids} for ids in sequences])
        labels = torch.full_like(tokens["input_ids"], -100)
        length = labels.shape[1]
        for i, answer_length in enumerate(answer_lengths):  # left-padded: the answer ends every row
            labels[i, length - answer_length :] = tokens["input_ids"][i, length - answer_length :]
        # caption loss only: no contrastive term between a sensor and its question
        return {**batch, **tokens, "labels": labels, "return_loss": False}
