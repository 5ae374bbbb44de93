"""Static-cache decoding: same tokens as the dynamic cache, fixed shapes, one compiled graph for every step."""

import pytest
import torch
from torch._dynamo.testing import CompileCounter
from transformers import GenerationConfig

from slip_sensor import SlipForConditionalGeneration, SlipStaticCache
from slip_sensor.modeling_slip.compat_slip import CACHE_FIELD

from .test_modeling_slip import SlipModelTester, build


@pytest.fixture
def model_and_inputs():
    tester = SlipModelTester()
    # a 4-token sliding window, shorter than prompt + new tokens, so the windowed masks are exercised
    model = build(SlipForConditionalGeneration, tester.get_config())
    return model, tester.sensor_inputs(), tester.text_inputs()


@pytest.mark.parametrize(
    "search", [dict(), dict(num_beams=3, num_return_sequences=2), dict(do_sample=True, top_k=10)], ids=str
)
def test_static_cache_generates_the_same_tokens(model_and_inputs, search):
    model, sensors, text = model_and_inputs
    outputs = []
    for cache_implementation in (None, "static", "static"):
        torch.manual_seed(3)
        outputs.append(
            model.generate(
                **sensors, **text, max_new_tokens=7, min_new_tokens=7, cache_implementation=cache_implementation,
                **{"do_sample": False, **search},
            )
        )
    assert torch.equal(outputs[0], outputs[1]) and torch.equal(outputs[0], outputs[2])


def test_static_cache_passed_back_is_reused_and_the_model_keeps_none(model_and_inputs):
    model, sensors, _ = model_and_inputs
    first = model.generate(
        **sensors, max_new_tokens=5, do_sample=False, cache_implementation="static", return_dict_in_generate=True
    )
    cache = getattr(first, CACHE_FIELD)
    assert isinstance(cache, SlipStaticCache) and not any(isinstance(v, SlipStaticCache) for v in vars(model).values())
    pointers = [key.data_ptr() for key in cache.keys]
    again = model.generate(**sensors, max_new_tokens=5, do_sample=False, **{CACHE_FIELD: cache})
    assert torch.equal(again, first.sequences) and [key.data_ptr() for key in cache.keys] == pointers
    # BOS + 5 new tokens fit; the last new token is never fed back
    assert cache.keys[0].shape[2] == cache.max_length == 6 and cache.get_seq_length() == 5


def test_cross_attention_context_is_computed_once_with_a_static_cache(model_and_inputs):
    model, sensors, _ = model_and_inputs
    calls = []
    for block in model.text_decoder.cross_attention_layers:
        block.context_norm.register_forward_hook(lambda *args: calls.append(1))
    model.generate(**sensors, max_new_tokens=5, do_sample=False, cache_implementation="static")
    assert len(calls) == len(model.text_decoder.cross_attention_layers)


def test_decoding_step_is_one_graph_compiled_once(model_and_inputs):
    """What CUDA graphs need: no graph break in a decoding step and no recompilation from one step to the next."""
    model, sensors, text = model_and_inputs
    steps = 6
    with torch.no_grad():
        new_tokens = dict(max_new_tokens=steps + 1, min_new_tokens=steps + 1)
        expected = model.generate(**sensors, **text, **new_tokens, do_sample=False)
        sensor_tokens = model.slip.sensor_model(**sensors).pooler_output
        cache = SlipStaticCache.for_config(model.config, text["input_ids"].shape[1] + steps + 1)
        ids, mask = text["input_ids"], text["attention_mask"]
        prefill = model(ids, mask, sensor_tokens=sensor_tokens, cache=cache, logits_to_keep=1, return_loss=False)
        ids = torch.cat([ids, prefill.logits[:, -1].argmax(-1, keepdim=True)], dim=1)
        counter = CompileCounter()
        step = torch.compile(model, backend=counter, fullgraph=True)
        for _ in range(steps):
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            inputs = model.prepare_inputs_for_generation(
                ids, mask, sensor_tokens=sensor_tokens, cache=cache, next_sequence_length=1
            )
            logits = step(**inputs).logits
            ids = torch.cat([ids, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert counter.frame_count == 1
    assert torch.equal(ids, expected)


def test_static_cache_too_short_is_a_clear_error(model_and_inputs):
    model, sensors, text = model_and_inputs
    cache = SlipStaticCache.for_config(model.config, max_length=text["input_ids"].shape[1] - 1)
    with pytest.raises(ValueError, match="max_length"):
        model(**text, **sensors, cache=cache)


def test_static_cache_from_the_generation_config(model_and_inputs):
    model, sensors, _ = model_and_inputs
    expected = model.generate(**sensors, max_new_tokens=5, do_sample=False)
    config = GenerationConfig(
        cache_implementation="static", max_new_tokens=5, do_sample=False, return_dict_in_generate=True
    )
    generated = model.generate(**sensors, generation_config=config)
    assert torch.equal(generated.sequences, expected) and getattr(generated, CACHE_FIELD).max_length == 6
    assert config.cache_implementation == "static"  # the caller's config is intact
    model.generation_config.cache_implementation = "static"
    generated = model.generate(**sensors, max_new_tokens=5, do_sample=False, return_dict_in_generate=True)
    assert torch.equal(generated.sequences, expected) and isinstance(getattr(generated, CACHE_FIELD), SlipStaticCache)
    assert model.generation_config.cache_implementation == "static"  # the model's too


def test_forward_with_sensors_and_a_static_cache_keeps_the_contrastive_outputs(model_and_inputs):
    model, sensors, text = model_and_inputs
    cache = SlipStaticCache.for_config(model.config, max_length=text["input_ids"].shape[1] + 4)
    with torch.no_grad():
        plain = model(**sensors, **text, return_logits=True)
        cached = model(**sensors, **text, cache=cache, return_logits=True)
    torch.testing.assert_close(cached.logits, plain.logits)
    torch.testing.assert_close(cached.text_embeds, plain.text_embeds)


def test_static_cache_errors_name_the_problem(model_and_inputs):
    model, sensors, _ = model_and_inputs
    model.generation_config.max_length = None
    with pytest.raises(ValueError, match="max_new_tokens or max_length"):
        model.generate(**sensors, cache_implementation="static")
    with pytest.raises(ValueError, match="'static' and 'dynamic'"):
        model.generate(**sensors, max_new_tokens=2, cache_implementation="offloaded")
    with pytest.raises(NotImplementedError, match="beam search"):
        SlipStaticCache.for_config(model.config, 8).crop(4)
