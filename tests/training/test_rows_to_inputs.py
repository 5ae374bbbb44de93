"""Corpus rows → model inputs on the training side: one helper for every row, labels built here only."""

import numpy as np
import pytest
import torch

from slip_sensor.processors import SlipFeatureExtractor, SlipProcessor
from slip_sensor.training.collator import (
    SlipInstructionCollator,
    SlipPretrainingCollator,
    caption_labels,
    rows_to_inputs,
)

BOS, PAD = 2, 0
TEXTS = ["The heart rate rises steadily.", "Flat.", "Air temperature oscillates with a clear daily cycle, then falls."]


@pytest.fixture
def processor(tiny_tokenizer):
    return SlipProcessor(SlipFeatureExtractor(), tiny_tokenizer)


def rows(count: int = 3) -> list[dict]:
    rng = np.random.default_rng(0)
    shapes = [(2, 120), (1, 300), (3, 64)][:count]
    return [
        {"id": str(i), "sensor": rng.normal(size=shape).astype(np.float32).tolist(), "sampling_rate": 10.0,
         "patch_size": None, "text": TEXTS[i], "prompt": "Question: trend?", "answer": "a"}
        for i, shape in enumerate(shapes)
    ]


@pytest.mark.parametrize("padding_side", ["left", "right"])
@pytest.mark.parametrize("append_eos", [False, True])
def test_caption_labels_mask_padding_and_leading_bos(processor, padding_side, append_eos):
    batch = processor(text=TEXTS, append_eos=append_eos, padding_side=padding_side, return_tensors="pt")
    input_ids, attention_mask = batch["input_ids"], batch["attention_mask"]
    labels = caption_labels(input_ids, attention_mask, BOS)
    assert labels.shape == input_ids.shape and labels.dtype == torch.int64
    for row in range(len(TEXTS)):
        real = torch.nonzero(attention_mask[row]).flatten()
        assert input_ids[row, real[0]] == BOS and labels[row, real[0]] == -100
        assert torch.equal(labels[row, real[1:]], input_ids[row, real[1:]])
        assert (labels[row, attention_mask[row] == 0] == -100).all()
    assert (labels != -100).sum() == attention_mask.sum() - len(TEXTS)


def test_caption_labels_keep_a_bos_that_is_not_leading(processor):
    # only the leading BOS is masked: one written inside the text (here the literal special token) stays a target
    batch = processor(text=["a <bos> b"], return_tensors="pt")
    labels = caption_labels(batch["input_ids"], batch["attention_mask"], BOS)
    assert (labels[0] == BOS).sum() == 1 and labels[0, 0] == -100


def test_rows_feed_the_processor_as_stored_channels_first(processor):
    batch = rows_to_inputs(processor, rows())
    direct = processor(sensors=[np.asarray(row["sensor"], dtype=np.float32) for row in rows()], sampling_rate=10.0)
    assert batch.keys() == direct.keys()
    for key in direct:
        assert torch.equal(batch[key], direct[key]), key


def test_rows_keep_their_drawn_channels_and_flip(processor):
    row = rows(1)[0] | {"channels": [1], "augmentation": {"flip": True}}
    batch = rows_to_inputs(processor, [row])
    expected = processor(sensors=[np.asarray(row["sensor"], dtype=np.float32)[[1], ::-1].copy()], sampling_rate=10.0)
    assert torch.equal(batch["sensor_values"], expected["sensor_values"])
    with pytest.raises(ValueError, match="do not index its 2 channels"):
        rows_to_inputs(processor, [row | {"channels": [2]}])


def test_pretraining_collator_labels_are_the_captions(processor):
    batch = SlipPretrainingCollator(processor)(rows())
    assert torch.equal(batch["labels"], caption_labels(batch["input_ids"], batch["attention_mask"], BOS))
    assert (batch["input_ids"][:, -1] == processor.tokenizer.eos_token_id).all()  # captions end with EOS


def test_instruction_collator_targets_only_the_answer_and_pads_like_the_processor(processor):
    tokenizer = processor.tokenizer
    batch = SlipInstructionCollator(processor)(rows())
    answer = tokenizer(" a", add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    prompt = tokenizer("Question: trend?")["input_ids"]
    for row in range(3):
        targets = batch["labels"][row][batch["labels"][row] != -100].tolist()
        assert targets == answer
        real = batch["input_ids"][row][batch["attention_mask"][row] == 1].tolist()
        assert real == prompt + answer
    assert (batch["attention_mask"][:, -1] == 1).all()  # left-padded, as the processor pads
    assert batch["return_loss"] is False
