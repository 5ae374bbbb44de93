"""A text embedded for zero-shot or retrieval is tokenised exactly as a training caption, and its embedding is read
at the same position (the EOS that ends every training caption)."""

import numpy as np
import pytest
import torch

from slip_sensor import SlipConfig, SlipModel
from slip_sensor.evaluation.harness import SlipEncoder
from slip_sensor.modeling_slip.modeling_slip import pool_text_states
from slip_sensor.processors import SlipFeatureExtractor, SlipProcessor, train_caption_tokenizer
from slip_sensor.training.collator import SlipPretrainingCollator

CAPTIONS = ["The person is walking.", "Overall, the signal rises steadily with low noise.", "A flat signal."]


@pytest.fixture(scope="module")
def processor():
    tokenizer = train_caption_tokenizer(CAPTIONS * 20, vocab_size=300)
    return SlipProcessor(SlipFeatureExtractor(), tokenizer)


def _rows():
    rng = np.random.default_rng(0)
    return [{"sensor": rng.standard_normal((40, 2)).astype(np.float32), "sampling_rate": 10.0, "text": text}
            for text in CAPTIONS]


def _tokens(batch, row: int) -> list[int]:
    return batch["input_ids"][row][batch["attention_mask"][row].bool()].tolist()


def test_embedded_text_has_the_training_caption_tokens_and_pooled_position(processor):
    training = SlipPretrainingCollator(processor)(_rows())
    embedded = processor(text=CAPTIONS, return_tensors="pt")
    eos = processor.tokenizer.eos_token_id
    for row in range(len(CAPTIONS)):
        assert _tokens(embedded, row) == _tokens(training, row)
        assert _tokens(embedded, row)[-1] == eos
    # the pooled state is the EOS's in both batches (left padding differs only by the batch's longest text)
    states = torch.arange(training["input_ids"].shape[1]).float()[None, :, None].expand(len(CAPTIONS), -1, 1)
    pooled = pool_text_states(states, training["attention_mask"], offset=0).squeeze(-1).long()
    assert (training["input_ids"][torch.arange(len(CAPTIONS)), pooled] == eos).all()


def test_zero_shot_embeddings_equal_the_training_text_embeddings(processor):
    config = SlipConfig.from_preset("slip-tiny", text_config=dict(vocab_size=320))
    torch.manual_seed(0)
    model = SlipModel(config).eval()
    training = SlipPretrainingCollator(processor)(_rows())
    with torch.no_grad():
        trained_on = model.get_text_features(training["input_ids"], training["attention_mask"]).numpy()
    zero_shot = SlipEncoder(model, processor).text_embeddings(CAPTIONS)
    np.testing.assert_allclose(zero_shot, trained_on, atol=1e-5)


def test_generation_prompts_and_reference_processors_have_no_eos(processor):
    eos = processor.tokenizer.eos_token_id
    assert _tokens(processor(text=CAPTIONS[:1], append_eos=False), 0)[-1] != eos
    reference = SlipProcessor(processor.feature_extractor, processor.tokenizer, caption_eos=False)
    assert eos not in _tokens(reference(text=CAPTIONS[:1]), 0)


def test_caption_policy_survives_save_and_load(processor, tmp_path):
    SlipProcessor(processor.feature_extractor, processor.tokenizer, caption_eos=False).save_pretrained(tmp_path)
    assert SlipProcessor.from_pretrained(tmp_path).caption_eos is False
