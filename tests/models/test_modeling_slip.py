"""Model tests in the transformers style: a tester with a tiny config, shape checks, save/load, determinism,
attention-kernel equality, masking invariances, generation and the caption loss."""

import math
import tempfile

import pytest
import torch
from torch import nn

from slip_sensor import SlipConfig, SlipForConditionalGeneration, SlipModel, SlipSensorModel
from slip_sensor.modeling_slip.loss_slip import caption_cross_entropy
from slip_sensor.modeling_slip.sensor_encoder_slip import SlipFlexPatchEmbedding
from slip_sensor.training.freezing import freeze_text_encoder_layers

VOCAB = 99
BOS, EOS, PAD = 2, 1, 0


class SlipModelTester:
    def __init__(self, batch_size=3, channels=3, patches=6, text_length=9, attn_implementation="sdpa"):
        self.batch_size = batch_size
        self.channels = channels
        self.patches = patches
        self.text_length = text_length
        self.attn_implementation = attn_implementation

    def get_config(self, **overrides) -> SlipConfig:
        """slip-tiny's layout (2 + 2 Gemma layers, sliding and full), narrower, with a 4-token sliding window."""
        values = dict(
            sensor_config=dict(hidden_size=32, base_patch_size=8, mlp_ratio=2.0),
            text_config=dict(
                vocab_size=VOCAB,
                hidden_size=32,
                intermediate_size=64,
                head_dim=16,
                query_pre_attn_scalar=16,
                sliding_window=4,
                max_position_embeddings=128,
                initializer_range=0.1,
            ),
            num_query_tokens=4,
            attn_implementation=self.attn_implementation,
        )
        values.update(overrides)
        return SlipConfig.from_preset("slip-tiny", **values)

    def sensor_inputs(self, seed=0) -> dict[str, torch.Tensor]:
        """Mixed patch sizes, a missing channel, left-padded patches and a NaN-style hole."""
        generator = torch.Generator().manual_seed(seed)
        shape = (self.batch_size, self.channels, self.patches, 16)
        values = torch.randn(shape, generator=generator)
        mask = torch.ones(shape, dtype=torch.bool)
        patch_size = torch.tensor([16, 8, 4][: self.batch_size])
        for i, size in enumerate(patch_size.tolist()):
            mask[i, :, :, size:] = False
        mask[1, 2] = False  # sample 1 has two channels
        mask[2, :, :2] = False  # sample 2 has left-padded patches
        mask[0, 0, 3, 5:9] = False  # a missing stretch
        values = values.masked_fill(~mask, 0.0)
        time = torch.rand(shape, generator=generator).masked_fill(~mask, 0.0)
        return dict(sensor_values=values, sensor_mask=mask, sensor_time=time, patch_size=patch_size)

    def text_inputs(self, seed=0) -> dict[str, torch.Tensor]:
        """BOS-prefixed, EOS-terminated, left-padded token ids."""
        generator = torch.Generator().manual_seed(seed)
        ids = torch.randint(4, VOCAB, (self.batch_size, self.text_length), generator=generator)
        mask = torch.ones_like(ids)
        for i in range(self.batch_size):
            pad = i * 2
            ids[i, :pad], mask[i, :pad] = PAD, 0
            ids[i, pad] = BOS
            ids[i, -1] = EOS
        return dict(input_ids=ids, attention_mask=mask)

    def labels(self, text: dict[str, torch.Tensor]) -> torch.Tensor:
        labels = text["input_ids"].masked_fill(text["attention_mask"] == 0, -100)
        return labels.masked_fill(labels == BOS, -100)


@pytest.fixture
def tester():
    return SlipModelTester()


def build(model_class, config, seed=0):
    torch.manual_seed(seed)
    return model_class(config).eval()


def test_sensor_model_shapes(tester):
    config = tester.get_config()
    model = build(SlipSensorModel, config)
    out = model(**tester.sensor_inputs(), output_hidden_states=True, output_attentions=True)
    tokens = tester.channels * tester.patches
    assert out.last_hidden_state.shape == (tester.batch_size, tokens, 32)
    assert out.patch_mask.shape == (tester.batch_size, tester.channels, tester.patches)
    assert out.pooler_output.shape == (tester.batch_size, 1 + config.num_query_tokens, 32)
    assert len(out.hidden_states) == config.sensor_config.num_hidden_layers + 1
    assert len(out.attentions) == config.sensor_config.num_hidden_layers
    assert not out.patch_mask[1, 2].any() and not out.patch_mask[2, :, :2].any()


def test_full_model_outputs(tester):
    config = tester.get_config()
    model = build(SlipForConditionalGeneration, config)
    text = tester.text_inputs()
    out = model(**tester.sensor_inputs(), **text, labels=tester.labels(text), return_logits=True)
    assert out.logits.shape == (tester.batch_size, tester.text_length, VOCAB)
    assert out.logits_per_text.shape == (tester.batch_size, tester.batch_size)
    assert out.sensor_embeds.shape == out.text_embeds.shape == (tester.batch_size, config.projection_dim)
    torch.testing.assert_close(out.sensor_embeds.norm(dim=-1), torch.ones(tester.batch_size))
    torch.testing.assert_close(out.loss, out.contrastive_loss + out.caption_loss)
    without_logits = model(**tester.sensor_inputs(), **text, labels=tester.labels(text))
    assert without_logits.logits is None
    torch.testing.assert_close(without_logits.loss, out.loss)


def test_two_tower_model_matches_captioning_model(tester):
    config = tester.get_config()
    full = build(SlipForConditionalGeneration, config)
    text = tester.text_inputs()
    out = full(**tester.sensor_inputs(), **text)
    with tempfile.TemporaryDirectory() as directory:
        full.save_pretrained(directory)
        two_tower = SlipModel.from_pretrained(directory).eval()
    two_tower_out = two_tower(**tester.sensor_inputs(), **text)
    torch.testing.assert_close(two_tower_out.logits_per_text, out.logits_per_text)
    torch.testing.assert_close(two_tower.get_text_features(**text), out.text_embeds)
    torch.testing.assert_close(two_tower.get_sensor_features(**tester.sensor_inputs()), out.sensor_embeds)


@pytest.mark.parametrize("model_class", [SlipSensorModel, SlipModel, SlipForConditionalGeneration])
def test_save_load_round_trip(tester, model_class):
    config = tester.get_config()
    model = build(model_class, config)
    with tempfile.TemporaryDirectory() as directory:
        model.save_pretrained(directory)
        reloaded, info = model_class.from_pretrained(directory, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    reloaded.eval()
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(reloaded.state_dict()[name], tensor, rtol=0, atol=0)
    inputs = tester.sensor_inputs()
    if model_class is SlipSensorModel:
        torch.testing.assert_close(reloaded(**inputs).pooler_output, model(**inputs).pooler_output)
    else:
        text = tester.text_inputs()
        torch.testing.assert_close(reloaded(**inputs, **text).text_embeds, model(**inputs, **text).text_embeds)
    if model_class is SlipForConditionalGeneration:
        # non-persistent Gemma buffers must be rebuilt, not left as uninitialised memory
        embed = reloaded.slip.text_encoder.embed_tokens
        assert float(embed.embed_scale) == pytest.approx(math.sqrt(config.text_config.hidden_size))
        torch.testing.assert_close(reloaded.generate(**inputs, max_new_tokens=4), model.generate(**inputs, max_new_tokens=4))


def test_eval_is_deterministic_with_dropout_configured(tester):
    config = tester.get_config(sensor_config=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                                  base_patch_size=8, hidden_dropout=0.5, attention_dropout=0.5))
    model = build(SlipForConditionalGeneration, config)
    text = tester.text_inputs()
    first = model(**tester.sensor_inputs(), **text, return_logits=True)
    second = model(**tester.sensor_inputs(), **text, return_logits=True)
    assert torch.equal(first.logits, second.logits) and torch.equal(first.sensor_embeds, second.sensor_embeds)
    model.train()
    third = model(**tester.sensor_inputs(), **text, return_logits=True)
    assert not torch.equal(third.sensor_embeds, first.sensor_embeds), "dropout must act in training mode"


def test_eager_matches_sdpa(tester):
    text = tester.text_inputs()
    outputs = {}
    for implementation in ("eager", "sdpa"):
        config = SlipModelTester(attn_implementation=implementation).get_config()
        model = build(SlipForConditionalGeneration, config)
        outputs[implementation] = model(**tester.sensor_inputs(), **text, return_logits=True)
    eager, sdpa = outputs["eager"], outputs["sdpa"]
    for name in ("sensor_tokens", "sensor_embeds", "text_embeds", "logits_per_text"):
        torch.testing.assert_close(getattr(eager, name), getattr(sdpa, name), atol=1e-5, rtol=1e-5)
    real = text["attention_mask"].bool()  # a fully padded query row has no defined output
    torch.testing.assert_close(eager.logits[real], sdpa.logits[real], atol=1e-5, rtol=1e-5)


def test_padding_and_batch_mates_do_not_change_a_sample(tester):
    """A sample alone (no padding) gives the same outputs as inside a padded, mixed-patch-size batch."""
    model = build(SlipForConditionalGeneration, tester.get_config())
    sensors, text = tester.sensor_inputs(), tester.text_inputs()
    batch = model(**sensors, **text, return_logits=True)
    index = 2  # left-padded patches, patch size 4
    alone_sensors = {k: v[index : index + 1] for k, v in sensors.items()}
    alone_sensors = {
        "sensor_values": alone_sensors["sensor_values"][:, :, 2:, :4],
        "sensor_mask": alone_sensors["sensor_mask"][:, :, 2:, :4],
        "sensor_time": alone_sensors["sensor_time"][:, :, 2:, :4],
        "patch_size": alone_sensors["patch_size"],
    }
    pad = int((text["attention_mask"][index] == 0).sum())
    alone_text = {k: v[index : index + 1, pad:] for k, v in text.items()}
    alone = model(**alone_sensors, **alone_text, return_logits=True)
    torch.testing.assert_close(alone.sensor_tokens[0], batch.sensor_tokens[index], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(alone.text_embeds[0], batch.text_embeds[index], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(alone.logits[0], batch.logits[index, pad:], atol=1e-4, rtol=1e-4)


def test_masked_values_and_padded_channels_are_ignored(tester):
    model = build(SlipSensorModel, tester.get_config())
    inputs = tester.sensor_inputs()
    reference = model(**inputs).pooler_output
    corrupted = dict(inputs)
    corrupted["sensor_values"] = inputs["sensor_values"].masked_fill(~inputs["sensor_mask"], float("nan"))
    torch.testing.assert_close(model(**corrupted).pooler_output, reference)
    extra_channel = {
        k: torch.cat([v, torch.zeros_like(v[:, :1])], dim=1) if v.ndim == 4 else v for k, v in inputs.items()
    }
    extra_channel["sensor_values"][:, -1] = 123.0  # unobserved garbage
    torch.testing.assert_close(model(**extra_channel).pooler_output, reference, atol=1e-5, rtol=1e-5)


def test_text_embedding_independent_of_padding_side(tester):
    model = build(SlipModel, tester.get_config())
    left = tester.text_inputs()
    right_ids, right_mask = torch.full_like(left["input_ids"], PAD), torch.zeros_like(left["attention_mask"])
    for i in range(tester.batch_size):
        tokens = left["input_ids"][i][left["attention_mask"][i].bool()]
        right_ids[i, : len(tokens)], right_mask[i, : len(tokens)] = tokens, 1
    torch.testing.assert_close(
        model.get_text_features(right_ids, right_mask), model.get_text_features(**left), atol=1e-5, rtol=1e-5
    )


@pytest.mark.parametrize("patch_size", [4, 7, 8, 16, 25, 64])
def test_flexmlp_equals_interpolated_weights(tester, patch_size):
    """Embedding = the reference's F.interpolate-resized weights applied to [values; mask; time]."""
    config = tester.get_config()
    torch.manual_seed(0)
    embed = SlipFlexPatchEmbedding(config).eval()
    shape = (2, 3, 5, patch_size)
    values, time = torch.randn(shape), torch.rand(shape)
    mask = torch.rand(shape) > 0.2
    ours = embed(values, mask, time, torch.full((2,), patch_size))

    def resize(weight):
        return nn.functional.interpolate(weight[None], size=3 * patch_size, mode="linear", align_corners=False)[0]

    x = torch.cat([values, mask.float(), time], dim=-1)
    hidden = nn.functional.linear(x, resize(embed.hidden_proj.weight), embed.hidden_proj.bias)
    expected = embed.output_proj(nn.functional.silu(hidden)) + nn.functional.linear(
        x, resize(embed.residual_proj.weight), embed.residual_proj.bias
    )
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-5)


def test_generation_cache_and_search_modes(tester):
    model = build(SlipForConditionalGeneration, tester.get_config())
    sensors = tester.sensor_inputs()
    cached = model.generate(**sensors, max_new_tokens=6, do_sample=False)
    uncached = model.generate(**sensors, max_new_tokens=6, do_sample=False, use_cache=False)
    assert torch.equal(cached, uncached)
    assert cached.shape == (tester.batch_size, 7) and (cached[:, 0] == BOS).all()
    beams = model.generate(**sensors, max_new_tokens=5, num_beams=3, num_return_sequences=2, do_sample=False)
    assert beams.shape[0] == 2 * tester.batch_size
    torch.manual_seed(1)
    sampled = model.generate(**sensors, max_new_tokens=5, do_sample=True, top_k=10)
    torch.manual_seed(1)
    assert torch.equal(sampled, model.generate(**sensors, max_new_tokens=5, do_sample=True, top_k=10))
    text = tester.text_inputs()
    prompted = model.generate(**sensors, **text, max_new_tokens=3, do_sample=False)
    assert torch.equal(prompted[:, : tester.text_length], text["input_ids"])


def test_generation_matches_teacher_forcing(tester):
    model = build(SlipForConditionalGeneration, tester.get_config())
    sensors = tester.sensor_inputs()
    generated = model.generate(**sensors, max_new_tokens=6, do_sample=False)
    logits = model(**sensors, input_ids=generated, return_logits=True).logits
    assert torch.equal(logits[:, :-1].argmax(-1), generated[:, 1:])


def test_cross_attention_context_is_computed_once_per_sequence(tester):
    model = build(SlipForConditionalGeneration, tester.get_config())
    calls = []
    for block in model.text_decoder.cross_attention_layers:
        block.context_norm.register_forward_hook(lambda *args: calls.append(1))
    model.generate(**tester.sensor_inputs(), max_new_tokens=5, do_sample=False)
    assert len(calls) == len(model.text_decoder.cross_attention_layers)


def test_chunked_caption_loss_equals_plain_cross_entropy():
    torch.manual_seed(0)
    hidden = torch.randn(3, 11, 16, requires_grad=True)
    weight = torch.randn(50, 16, requires_grad=True)
    labels = torch.randint(0, 50, (3, 11))
    labels[0, :4] = -100
    chunked = caption_cross_entropy(hidden, weight, labels, logits_per_chunk=7 * 50)  # 7 positions per chunk
    chunked.backward()
    grads = hidden.grad.clone(), weight.grad.clone()
    hidden.grad = weight.grad = None
    logits = hidden[:, :-1] @ weight.T
    plain = nn.functional.cross_entropy(logits.reshape(-1, 50), labels[:, 1:].reshape(-1), ignore_index=-100)
    plain.backward()
    torch.testing.assert_close(chunked, plain, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grads[0], hidden.grad, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grads[1], weight.grad, atol=1e-5, rtol=1e-5)


def test_chunked_caption_loss_under_autocast_matches_and_trains_the_fp32_weight():
    torch.manual_seed(0)
    hidden = torch.randn(2, 9, 16, requires_grad=True)
    weight = torch.randn(40, 16, requires_grad=True)
    labels = torch.randint(0, 40, (2, 9))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        chunked = caption_cross_entropy(hidden, weight, labels, logits_per_chunk=3 * 40)
    plain = nn.functional.cross_entropy((hidden[:, :-1] @ weight.T).reshape(-1, 40), labels[:, 1:].reshape(-1))
    torch.testing.assert_close(chunked, plain, atol=0.05, rtol=0.02)
    chunked.backward()
    assert weight.grad is not None and weight.grad.dtype == torch.float32 and weight.grad.abs().sum() > 0


def test_logit_scale_is_clamped(tester):
    model = build(SlipModel, tester.get_config(logit_scale_max=math.log(1 / 0.07)))
    with torch.no_grad():
        model.logit_scale.fill_(5.0)
    text = tester.text_inputs()
    out = model(**tester.sensor_inputs(), **text)
    cosine = out.text_embeds @ out.sensor_embeds.T
    torch.testing.assert_close(out.logits_per_text, cosine / 0.07)


def test_models_construct_fully_trainable(tester):
    for model_class in (SlipModel, SlipForConditionalGeneration):
        assert all(p.requires_grad for p in build(model_class, tester.get_config()).parameters())


@pytest.mark.parametrize("model_class", [SlipModel, SlipForConditionalGeneration])
def test_freezing_keeps_the_last_text_encoder_layers_trainable(tester, model_class):
    model = build(model_class, tester.get_config())
    frozen = freeze_text_encoder_layers(model, num_trainable=1)
    prefix = "slip." if model_class is SlipForConditionalGeneration else ""
    assert frozen == [name for name, p in model.named_parameters() if not p.requires_grad]
    assert f"{prefix}text_encoder.embed_tokens.weight" in frozen
    assert all(name.startswith(f"{prefix}text_encoder.") for name in frozen)
    assert freeze_text_encoder_layers(build(model_class, tester.get_config()), None) == []


def test_freezing_leaves_the_decoder_and_sensor_tower_trainable(tester):
    model = build(SlipForConditionalGeneration, tester.get_config())
    freeze_text_encoder_layers(model, num_trainable=1)
    encoder = model.slip.text_encoder
    assert not encoder.embed_tokens.weight.requires_grad
    assert not any(p.requires_grad for p in encoder.layers[0].parameters())
    assert all(p.requires_grad for p in encoder.layers[1].parameters())
    assert all(p.requires_grad for p in model.text_decoder.parameters())
    assert all(p.requires_grad for p in model.slip.sensor_model.parameters())


def test_gradient_checkpointing_gives_the_same_gradients(tester):
    text = tester.text_inputs()
    grads = []
    for checkpointing in (False, True):
        model = build(SlipForConditionalGeneration, tester.get_config()).train()
        if checkpointing:
            getattr(model, "activation_checkpointing_enable", model.gradient_checkpointing_enable)()
        model(**tester.sensor_inputs(), **text, labels=tester.labels(text)).loss.backward()
        grads.append({n: p.grad for n, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], atol=1e-5, rtol=1e-4)


def test_overfits_eight_pairs_and_generates_them_back():
    """A tiny captioning model learns 8 sensor-caption pairs and then captions each sensor with its caption."""
    tester = SlipModelTester(batch_size=8, channels=2, patches=4, text_length=7)
    config = tester.get_config()
    torch.manual_seed(0)
    model = SlipForConditionalGeneration(config).train()
    generator = torch.Generator().manual_seed(3)
    shape = (8, 2, 4, 8)
    sensors = dict(
        sensor_values=torch.randn(shape, generator=generator) * 2,
        sensor_mask=torch.ones(shape, dtype=torch.bool),
        sensor_time=torch.linspace(0, 1, 32).reshape(1, 1, 4, 8).expand(shape).clone(),
        patch_size=torch.full((8,), 8),
    )
    captions = torch.randint(4, VOCAB, (8, 5), generator=generator)
    input_ids = torch.cat([torch.full((8, 1), BOS), captions, torch.full((8, 1), EOS)], dim=1)
    labels = input_ids.masked_fill(input_ids == BOS, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    for _ in range(150):
        loss = model(**sensors, input_ids=input_ids, labels=labels).caption_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05
    model.eval()
    generated = model.generate(**sensors, max_new_tokens=8, do_sample=False, eos_token_id=EOS, pad_token_id=PAD)
    assert torch.equal(generated[:, : input_ids.shape[1]], input_ids)
