"""transformers conventions in the details: per-tower `output_attentions` / `output_hidden_states` (CLIP's
`text_model_output` / `vision_model_output`, here `sensor_model_output`), unknown keyword arguments refused, and the
processor's sampling-rate warning and padding/truncation arguments."""

import warnings

import numpy as np
import pytest
import torch

from slip_sensor import SlipForConditionalGeneration, SlipModel, SlipSensorModel
from slip_sensor.training.collator import rows_to_inputs
from tests.models.test_modeling_slip import SlipModelTester, build


@pytest.fixture
def tester():
    return SlipModelTester(attn_implementation="eager")


@pytest.mark.parametrize("model_class", [SlipModel, SlipForConditionalGeneration])
def test_both_towers_return_every_layer_state_and_attention(tester, model_class):
    config = tester.get_config()
    model = build(model_class, config)
    text = tester.text_inputs()
    out = model(**tester.sensor_inputs(), **text, output_attentions=True, output_hidden_states=True)

    text_out, sensor_out = out.text_model_output, out.sensor_model_output
    assert len(text_out.hidden_states) == config.split_layer + 1  # the embeddings, then every encoder layer
    assert torch.equal(text_out.hidden_states[-1], text_out.last_hidden_state)
    assert len(text_out.attentions) == config.split_layer
    batch, length = text["input_ids"].shape
    heads = config.text_config.num_attention_heads
    for attention in text_out.attentions:
        assert attention.shape == (batch, heads, length, length)
        # causal and padding-masked probabilities: rows of real tokens sum to 1, nothing after the query
        real_queries = text["attention_mask"].bool()[:, None].expand(-1, heads, -1)
        rows = attention[real_queries]
        torch.testing.assert_close(rows.sum(-1), torch.ones(len(rows)))
        assert not attention.triu(1)[real_queries].any()
    assert len(sensor_out.hidden_states) == config.sensor_config.num_hidden_layers + 1
    assert len(sensor_out.attentions) == config.sensor_config.num_hidden_layers


def test_outputs_follow_the_config_and_are_off_by_default(tester):
    config = tester.get_config()
    inputs = {**tester.sensor_inputs(), **tester.text_inputs()}
    plain = build(SlipModel, config)(**inputs)
    assert plain.text_model_output.hidden_states is None and plain.sensor_model_output.hidden_states is None
    assert plain.text_model_output.attentions is None and plain.sensor_model_output.attentions is None

    config.output_hidden_states = True
    asked = build(SlipModel, config)(**inputs)
    assert len(asked.text_model_output.hidden_states) == config.split_layer + 1
    assert len(asked.sensor_model_output.hidden_states) == config.sensor_config.num_hidden_layers + 1
    assert asked.text_model_output.attentions is None
    torch.testing.assert_close(asked.logits_per_text, plain.logits_per_text)


@pytest.mark.parametrize("model_class", [SlipSensorModel, SlipModel, SlipForConditionalGeneration])
def test_unknown_keyword_arguments_raise_a_type_error(tester, model_class):
    model = build(model_class, tester.get_config())
    inputs = tester.sensor_inputs()
    if model_class is not SlipSensorModel:
        inputs.update(tester.text_inputs())
    with pytest.raises(TypeError, match="retrun_loss"):
        model(**inputs, retrun_loss=False)  # a typo must not silently train with the default
    with pytest.raises(TypeError, match="pixel_values"):
        model(**inputs, pixel_values=inputs["sensor_values"])


def test_generate_still_reaches_forward_with_what_it_passes(tester):
    model = build(SlipForConditionalGeneration, tester.get_config())
    prompt = torch.full((tester.batch_size, 1), 2)
    generated = model.generate(**tester.sensor_inputs(), input_ids=prompt, max_new_tokens=3, do_sample=False)
    assert generated.shape[0] == tester.batch_size


# The processor: a left-out sampling rate warns as audio feature extractors warn, unsupported padding raises.


@pytest.fixture
def processor(tiny_tokenizer):
    from slip_sensor.processors import SlipFeatureExtractor, SlipProcessor

    return SlipProcessor(SlipFeatureExtractor(), tiny_tokenizer)


SERIES = np.random.default_rng(0).normal(size=(2, 300)).astype(np.float32)


def test_a_left_out_sampling_rate_warns_once_per_call_site(processor):
    with pytest.warns(UserWarning, match="sampling_rate"):
        processor.feature_extractor(SERIES)
    with pytest.warns(UserWarning, match="sampling_rate"):
        processor(sensors=SERIES, text="the heart rate rises")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's own default: once per location
        for _ in range(3):
            processor(sensors=SERIES)
    assert len([w for w in caught if "sampling_rate" in str(w.message)]) == 1


def test_a_rate_unknown_on_purpose_does_not_warn(processor):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explicit = processor(sensors=[SERIES, SERIES[:1]], sampling_rate=[50.0, None])
        unknown = processor(sensors=SERIES, sampling_rate=None)
        # corpora in the authors' layout store no rate: the training collator passes their None on
        rows_to_inputs(processor, [{"sensor": SERIES.tolist(), "caption": "flat"}])
    with pytest.warns(UserWarning, match="sampling_rate"):
        left_out = processor(sensors=SERIES)
    assert torch.equal(unknown["sensor_values"], left_out["sensor_values"])
    assert explicit["patch_size"].shape == (2,)


@pytest.mark.parametrize(
    "arguments, message",
    [({"padding": False}, "padding=False"), ({"padding": "do_not_pad"}, "padding="),
     ({"truncation": "only_second"}, "truncation='only_second'"), ({"truncation": 1.5}, "truncation=")],
)
def test_unsupported_padding_and_truncation_raise(processor, arguments, message):
    with pytest.raises(ValueError, match=message):
        processor(text=["a walk", "a long run in the park"], **arguments)


def test_supported_padding_and_truncation_are_honoured(processor):
    texts = ["a walk", "a long run in the park today"]
    padded = processor(text=texts, padding="max_length", max_length=12)
    assert padded["input_ids"].shape == (2, 12)
    kept = processor(text=texts, truncation="do_not_truncate", max_length=3)
    assert torch.equal(kept["input_ids"], processor(text=texts, truncation=False, max_length=3)["input_ids"])
    assert kept["input_ids"].shape[1] > 3
    cut = processor(text=texts, truncation="longest_first", max_length=4)
    assert torch.equal(cut["input_ids"], processor(text=texts, max_length=4)["input_ids"])


def test_text_arguments_without_text_raise(processor):
    with pytest.raises(TypeError, match="padding"):
        processor(sensors=SERIES, sampling_rate=50.0, padding="max_length")
