"""SLIP models: the sensor tower, the two-tower contrastive model, and the captioning (pretraining) model."""

import copy
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch._subclasses.fake_tensor import is_fake
from transformers import GenerationConfig, GenerationMixin, PreTrainedModel
from transformers.cache_utils import Cache, DynamicCache
from transformers.models.gemma3.modeling_gemma3 import Gemma3RMSNorm, Gemma3TextScaledWordEmbedding
from transformers.modeling_outputs import CausalLMOutputWithPast
from transformers.utils import ModelOutput

from .attention_slip import SlipCrossAttentionBlock  # noqa: F401  (4.57 copies direct relative imports only)
from .cache_slip import SlipStaticCache
from .configuration_slip import SlipConfig
from .loss_slip import caption_cross_entropy, contrastive_loss
from .sensor_encoder_slip import SlipAttentionPooler, SlipFlexPatchEmbedding, SlipRotary2D, SlipSensorEncoderLayer
from .text_slip import SlipTextDecoder, SlipTextEncoder, SlipTextLayerInputs

# transformers 5 renamed the cache output field (and rejects the old name next to the new one)
_CACHE_OUTPUT_FIELD = "cache" if "cache" in CausalLMOutputWithPast.__dataclass_fields__ else "past_key_values"

try:  # transformers 5: init functions that leave weights loaded from a checkpoint untouched
    from transformers import initialization as init
except ImportError:  # transformers 4.57
    from torch.nn import init


@dataclass
class SlipSensorModelOutput(ModelOutput):
    """
    Args:
        last_hidden_state (`torch.FloatTensor` of shape `[B, V * P, D]`): encoder token states after the final
            LayerNorm, channel-major (token index `v * P + p`). Padded tokens hold meaningless values.
        patch_mask (`torch.BoolTensor` of shape `[B, V, P]`): True for patches with at least one observed value.
        pooler_output (`torch.FloatTensor` of shape `[B, 1 + num_query_tokens, C]`): pooled tokens, CLS first; the
            decoder's cross-attention context.
        hidden_states (`tuple(torch.FloatTensor)`, *optional*): input of every layer plus the final output.
        attentions (`tuple(torch.FloatTensor)`, *optional*): attention probabilities of every layer (eager only).
    """

    last_hidden_state: torch.FloatTensor | None = None
    patch_mask: torch.BoolTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class SlipOutput(ModelOutput):
    """
    Args:
        loss (`torch.FloatTensor`, *optional*): weighted contrastive loss, when `return_loss`.
        contrastive_loss (`torch.FloatTensor`, *optional*): unweighted contrastive loss.
        logits_per_sensor (`torch.FloatTensor` of shape `[B, B]`): scaled cosine similarities of this batch's sensors
            (rows) and texts (columns). Local to the process: training gathers other processes' embeddings itself.
        logits_per_text (`torch.FloatTensor` of shape `[B, B]`): the transpose.
        sensor_embeds (`torch.FloatTensor` of shape `[B, projection_dim]`): L2-normalised sensor embeddings.
        text_embeds (`torch.FloatTensor` of shape `[B, projection_dim]`): L2-normalised text embeddings.
        logit_scale (`torch.FloatTensor` of shape `[]`): the clamped, exponentiated scale of the logits.
        sensor_model_output ([`SlipSensorModelOutput`]): the sensor tower's output.
    """

    loss: torch.FloatTensor | None = None
    contrastive_loss: torch.FloatTensor | None = None
    logits_per_sensor: torch.FloatTensor | None = None
    logits_per_text: torch.FloatTensor | None = None
    sensor_embeds: torch.FloatTensor | None = None
    text_embeds: torch.FloatTensor | None = None
    logit_scale: torch.FloatTensor | None = None
    sensor_model_output: SlipSensorModelOutput | None = None

    def to_tuple(self) -> tuple[Any, ...]:
        return tuple(v.to_tuple() if isinstance(v, ModelOutput) else v for v in self.values())


@dataclass
class SlipCaptioningOutput(SlipOutput):
    """[`SlipOutput`] plus the captioning head.

    Args:
        loss (`torch.FloatTensor`, *optional*): `contrastive_loss_weight * contrastive_loss + caption_loss_weight *
            caption_loss` over the terms that were computed.
        caption_loss (`torch.FloatTensor`, *optional*): next-token cross-entropy over the labelled tokens.
        logits (`torch.FloatTensor` of shape `[B, T, vocab]`, *optional*): caption logits (not materialised when
            `labels` are given, unless `return_logits=True`).
        sensor_tokens (`torch.FloatTensor` of shape `[B, 1 + num_query_tokens, C]`): the decoder's context.
        cache / past_key_values ([`Cache`], *optional*): the decoding cache, under the name the installed
            transformers reads (`cache` in 5.x, `past_key_values` in 4.x).
    """

    caption_loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    sensor_tokens: torch.FloatTensor | None = None
    if _CACHE_OUTPUT_FIELD == "cache":
        cache: Cache | None = None
    else:
        past_key_values: Cache | None = None


class SlipPreTrainedModel(PreTrainedModel):
    config_class = SlipConfig
    config: SlipConfig
    base_model_prefix = "slip"
    main_input_name = "sensor_values"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_flash_attn_2 = True
    _no_split_modules = ["SlipSensorEncoderLayer", "Gemma3DecoderLayer", "SlipCrossAttentionBlock"]

    @torch.no_grad()
    def _init_weights(self, module: nn.Module):
        text_std = self.config.text_config.initializer_range
        if isinstance(module, nn.Linear):
            init.xavier_uniform_(module.weight)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, Gemma3RMSNorm):
            init.zeros_(module.weight)  # Gemma's RMSNorm scales by (1 + weight)
        elif isinstance(module, Gemma3TextScaledWordEmbedding):
            init.normal_(module.weight, mean=0.0, std=text_std)
            module.weight[module.padding_idx].zero_()
            # transformers 5 rebuilds this non-persistent buffer here; 4.57 sets it in __init__
            if hasattr(module, "scalar_embed_scale"):
                init.constant_(module.embed_scale, module.scalar_embed_scale)
        elif isinstance(module, SlipAttentionPooler):
            init.xavier_uniform_(module.queries)
        elif isinstance(module, SlipModel):
            init.constant_(module.logit_scale, self.config.logit_scale_init_value)

    @classmethod
    def from_text_backbone(cls, text_backbone: str, config: SlipConfig | None = None, **backbone_kwargs):
        """A SLIP model whose text side starts from a Gemma-3 causal LM (a local folder or a Hub id).

        Layers below `split_layer` become the text encoder, the rest the decoder; the token embedding (also the LM
        head) and the final norm are copied too. Everything else (sensor tower, pooler, cross-attention,
        projections) keeps its fresh initialisation. `config` supplies the non-text fields (default: slip-base's);
        its `text_config` is replaced by the backbone's.
        """
        from transformers import AutoModelForCausalLM

        backbone = AutoModelForCausalLM.from_pretrained(text_backbone, **backbone_kwargs)
        text_config = backbone.config.get_text_config()
        values = (config or SlipConfig()).to_dict()
        values["text_config"] = text_config.to_dict()
        values.pop("sensor_config", None)
        config = SlipConfig(sensor_config=(config or SlipConfig()).sensor_config, **values)
        model = cls(config)
        backbone_state = {
            key.split("model.", 1)[1]: value
            for key, value in backbone.state_dict().items()
            if key.startswith(("model.", "model.language_model.")) and not key.startswith("model.vision")
        }
        own = model.state_dict()
        split = config.split_layer
        mapped = {}
        for key, value in backbone_state.items():
            key = key.removeprefix("language_model.")
            layer = key.split(".")[1] if key.startswith("layers.") else None
            if layer is None:
                name = f"text_encoder.{key}" if key.startswith("embed_tokens") else f"text_decoder.{key}"
            elif int(layer) < split:
                name = f"text_encoder.{key}"
            else:
                name = f"text_decoder.layers.{int(layer) - split}.{key.split('.', 2)[2]}"
            for candidate in (name, f"slip.{name}"):
                if candidate in own:
                    mapped[candidate] = value
        expected = {k for k in own if k.startswith(("text_encoder.", "slip.text_encoder.")) or
                    (k.startswith("text_decoder.") and ".cross_attention_layers." not in k)}
        if missing := sorted(expected - set(mapped)):
            raise ValueError(f"{text_backbone} does not provide {missing[:5]}{'...' if len(missing) > 5 else ''}")
        model.load_state_dict(mapped, strict=False)
        return model


class SlipSensorModel(SlipPreTrainedModel):
    """The sensor tower: FlexMLP patch embedding → Pre-LN transformer with 2D RoPE over all patch tokens of all
    channels → attention pooler (1 CLS + N caption queries)."""

    base_model_prefix = "sensor_model"

    def __init__(self, config: SlipConfig):
        super().__init__(config)
        sensor = config.sensor_config
        self.embeddings = SlipFlexPatchEmbedding(config)
        self.rotary = SlipRotary2D(sensor.hidden_size // sensor.num_attention_heads, sensor.rope_theta)
        self.layers = nn.ModuleList(SlipSensorEncoderLayer(config) for _ in range(sensor.num_hidden_layers))
        self.norm = nn.LayerNorm(sensor.hidden_size, eps=sensor.layer_norm_eps)
        self.pooler = SlipAttentionPooler(config)
        self.gradient_checkpointing = False
        self.post_init()

    def _attention_allowed(self, patch_mask: torch.Tensor) -> torch.Tensor | None:
        """`[B, 1, 1|L, L]` boolean mask, or None when every token is valid (so SDPA can use its fastest kernel)."""
        token_mask = patch_mask.flatten(1)
        allowed = token_mask[:, None, None, :]
        if self.config.sensor_config.channel_attention == "univariate":
            channel = torch.arange(patch_mask.shape[1], device=patch_mask.device).repeat_interleave(patch_mask.shape[2])
            return allowed & (channel[:, None] == channel[None, :])[None, None]
        # reading the mask syncs with the device once per forward; when values cannot be read (compiling, or
        # shape-only fake tensors as in memory estimates) the mask is kept
        if not torch.compiler.is_compiling() and not is_fake(token_mask) and bool(token_mask.all()):
            return None
        return allowed

    def forward(
        self,
        sensor_values: torch.Tensor,
        sensor_mask: torch.Tensor,
        sensor_time: torch.Tensor,
        patch_size: torch.Tensor,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> SlipSensorModelOutput | tuple:
        r"""
        Args:
            sensor_values (`torch.FloatTensor` of shape `[B, V, P, ps_max]`): normalised patches (see
                `SlipFeatureExtractor`); sample i uses the first `patch_size[i]` entries of each patch.
            sensor_mask (`torch.BoolTensor` of shape `[B, V, P, ps_max]`): True where a value was observed.
            sensor_time (`torch.FloatTensor` of shape `[B, V, P, ps_max]`): relative time index, 0 on padding.
            patch_size (`torch.LongTensor` of shape `[B]`): each sample's patch size.
        """
        if sensor_values.ndim != 4 or sensor_mask.shape != sensor_values.shape or sensor_time.shape != sensor_values.shape:
            raise ValueError(
                "sensor_values, sensor_mask and sensor_time must share the shape [batch, channels, patches, patch]; "
                f"got {tuple(sensor_values.shape)}, {tuple(sensor_mask.shape)}, {tuple(sensor_time.shape)}"
            )
        if patch_size.shape != sensor_values.shape[:1]:
            raise ValueError(f"patch_size must have shape [{sensor_values.shape[0]}], got {tuple(patch_size.shape)}")
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        sensor_mask = sensor_mask.bool()
        # Whatever sits at unobserved positions (NaN, stale values) must not reach the model.
        sensor_values = sensor_values.masked_fill(~sensor_mask, 0.0)
        tokens = self.embeddings(sensor_values, sensor_mask, sensor_time, patch_size)
        patch_mask = sensor_mask.any(-1)
        hidden_states = tokens.flatten(1, 2)
        rotary = self.rotary(patch_mask, hidden_states.dtype)
        allowed = self._attention_allowed(patch_mask)

        all_hidden_states = () if output_hidden_states else None
        all_attentions = () if output_attentions else None
        for layer in self.layers:
            if output_hidden_states:
                all_hidden_states += (hidden_states,)
            hidden_states, attn_weights = layer(hidden_states, allowed, rotary)
            if output_attentions:
                all_attentions += (attn_weights,)
        hidden_states = self.norm(hidden_states)
        if output_hidden_states:
            all_hidden_states += (hidden_states,)
        pooled = self.pooler(hidden_states, patch_mask.flatten(1))

        output = SlipSensorModelOutput(
            last_hidden_state=hidden_states,
            patch_mask=patch_mask,
            pooler_output=pooled,
            hidden_states=all_hidden_states,
            attentions=all_attentions,
        )
        return output if return_dict else output.to_tuple()


def pad_to_static_cache(attention_mask: torch.Tensor | None, cache: SlipStaticCache) -> torch.Tensor | None:
    """`[B, L]` padding mask → `[B, max_length]`: the slots not yet written are excluded (and causal anyway)."""
    if attention_mask is None or attention_mask.shape[1] == cache.max_length:
        return attention_mask
    if attention_mask.shape[1] > cache.max_length:
        raise ValueError(
            f"attention_mask covers {attention_mask.shape[1]} tokens, more than the static cache's "
            f"max_length={cache.max_length}"
        )
    return nn.functional.pad(attention_mask, (0, cache.max_length - attention_mask.shape[1]))


def pool_text_states(hidden_states: torch.Tensor, attention_mask: torch.Tensor | None, offset: int) -> torch.Tensor:
    """State of the last non-pad token (minus `offset`) of each row, for left or right padding. `[B, T, H] → [B, H]`."""
    positions = torch.arange(hidden_states.shape[1], device=hidden_states.device)
    if attention_mask is None:
        last = positions[-1].expand(hidden_states.shape[0])
    else:
        last = torch.where(attention_mask.bool(), positions, -1).amax(-1)
    index = (last - offset).clamp(min=0)
    return hidden_states[torch.arange(hidden_states.shape[0], device=hidden_states.device), index]


class SlipModel(SlipPreTrainedModel):
    """Two towers and the contrastive head: sensor tower + Gemma text encoder, projected into a shared space."""

    # A full captioning checkpoint also holds the decoder; the two-tower model does not use it.
    _keys_to_ignore_on_load_unexpected = [r"text_decoder\."]

    def __init__(self, config: SlipConfig):
        super().__init__(config)
        # Gemma layers read the implementation from their own config; the setter propagates it to sub-configs.
        config._attn_implementation = config._attn_implementation
        self.sensor_model = SlipSensorModel(config)
        self.text_encoder = SlipTextEncoder(config)
        self.sensor_projection = nn.Linear(config.text_config.hidden_size, config.projection_dim, bias=False)
        self.text_projection = nn.Linear(config.text_config.hidden_size, config.projection_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(config.logit_scale_init_value))
        self.post_init()
        self.freeze_text_encoder_layers()

    def freeze_text_encoder_layers(self) -> None:
        """Freezes the token embedding (and with it the tied LM head) and all but the last
        `num_trainable_text_encoder_layers` text-encoder layers, as the paper does. `None` leaves all trainable."""
        trainable = self.config.num_trainable_text_encoder_layers
        if trainable is None:
            return
        frozen_layers = self.text_encoder.layers[: max(len(self.text_encoder.layers) - trainable, 0)]
        for module in (self.text_encoder.embed_tokens, *frozen_layers):
            module.requires_grad_(False)

    def get_input_embeddings(self) -> nn.Module:
        return self.text_encoder.embed_tokens

    def sensor_embedding(self, sensor_tokens: torch.Tensor) -> torch.Tensor:
        """Pooled tokens `[B, 1 + N, C]` → L2-normalised contrastive embedding of the CLS token `[B, projection_dim]`."""
        return nn.functional.normalize(self.sensor_projection(sensor_tokens[:, 0]), dim=-1)

    def text_embedding(self, text_states: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """Text-encoder states `[B, T, H]` → L2-normalised embedding `[B, projection_dim]`."""
        if self.config.text_pooling == "mean":
            if attention_mask is None:
                pooled = text_states.mean(1)
            else:
                weights = attention_mask.to(text_states.dtype).unsqueeze(-1)
                pooled = (text_states * weights).sum(1) / weights.sum(1).clamp(min=1)
        else:
            offset = 1 if self.config.text_pooling == "penultimate_token" else 0
            pooled = pool_text_states(text_states, attention_mask, offset)
        return nn.functional.normalize(self.text_projection(pooled), dim=-1)

    def text_layer_inputs(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None,
        past_length: int | torch.Tensor = 0,
        key_length: int | None = None,
    ) -> SlipTextLayerInputs:
        """RoPE tables and masks of the Gemma layers for `input_ids` following `past_length` cached tokens, over
        `key_length` keys (default: the cached plus the new tokens)."""
        return SlipTextLayerInputs(
            self.config.text_config,
            attention_mask,
            input_ids.shape[1],
            past_length,
            past_length + input_ids.shape[1] if key_length is None else key_length,
            input_ids.shape[0],
            self.text_encoder.embed_tokens.weight.dtype,
            input_ids.device,
        )

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """Text-encoder states `[B, T, H]` (the first `split_layer` Gemma layers only)."""
        return self.text_encoder(input_ids, self.text_layer_inputs(input_ids, attention_mask))

    def get_sensor_features(
        self, sensor_values: torch.Tensor, sensor_mask: torch.Tensor, sensor_time: torch.Tensor, patch_size: torch.Tensor
    ) -> torch.Tensor:
        """L2-normalised sensor embeddings `[B, projection_dim]` (differentiable)."""
        pooled = self.sensor_model(sensor_values, sensor_mask, sensor_time, patch_size).pooler_output
        return self.sensor_embedding(pooled)

    def get_text_features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """L2-normalised text embeddings `[B, projection_dim]` from the text encoder alone (differentiable)."""
        return self.text_embedding(self.encode_text(input_ids, attention_mask), attention_mask)

    def scale(self) -> torch.Tensor:
        """The clamped, exponentiated learnable logit scale (a scalar)."""
        return self.logit_scale.clamp(max=self.config.logit_scale_max).exp()

    def contrastive_logits(self, sensor_embeds: torch.Tensor, text_embeds: torch.Tensor) -> torch.Tensor:
        """`[N_text, N_sensor]` scaled cosine similarities of the given embeddings."""
        return self.scale() * text_embeds @ sensor_embeds.T

    def forward(
        self,
        sensor_values: torch.Tensor,
        sensor_mask: torch.Tensor,
        sensor_time: torch.Tensor,
        patch_size: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        return_loss: bool = True,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> SlipOutput | tuple:
        r"""
        Args:
            sensor_values, sensor_mask, sensor_time, patch_size: see [`SlipSensorModel.forward`].
            input_ids (`torch.LongTensor` of shape `[B, T]`): text tokens (BOS first), left or right padded.
            attention_mask (`torch.LongTensor` of shape `[B, T]`, *optional*): 1 for tokens, 0 for padding.
            return_loss (`bool`, defaults to `True`): compute the contrastive loss.
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        sensor_outputs = self.sensor_model(
            sensor_values, sensor_mask, sensor_time, patch_size, output_hidden_states=output_hidden_states
        )
        sensor_embeds = self.sensor_embedding(sensor_outputs.pooler_output)
        text_embeds = self.text_embedding(self.encode_text(input_ids, attention_mask), attention_mask)
        logits_per_text = self.contrastive_logits(sensor_embeds, text_embeds)
        unweighted = contrastive_loss(logits_per_text) if return_loss else None
        output = SlipOutput(
            loss=None if unweighted is None else self.config.contrastive_loss_weight * unweighted,
            contrastive_loss=unweighted,
            logits_per_sensor=logits_per_text.T,
            logits_per_text=logits_per_text,
            sensor_embeds=sensor_embeds,
            text_embeds=text_embeds,
            logit_scale=self.scale(),
            sensor_model_output=sensor_outputs,
        )
        return output if return_dict else output.to_tuple()


class SlipForConditionalGeneration(SlipPreTrainedModel, GenerationMixin):
    """The full SLIP model (the pretraining model): two towers + the multimodal decoder. `forward` returns the
    contrastive + captioning loss; `generate` captions sensors (optionally after a text prompt)."""

    main_input_name = "input_ids"

    def __init__(self, config: SlipConfig):
        super().__init__(config)
        self.slip = SlipModel(config)
        self.text_decoder = SlipTextDecoder(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.slip.get_input_embeddings()

    @property
    def lm_head_weight(self) -> torch.Tensor:
        """The output projection is the (tied) input embedding matrix `[vocab, H]`."""
        return self.slip.text_encoder.embed_tokens.weight

    @classmethod
    def _supports_default_dynamic_cache(cls) -> bool:
        # The model builds its own cache (one full-length layer per Gemma layer plus the cross-attention keys), so
        # `generate` must not hand it a sliding-window cache whose eviction the masks would not know about.
        return False

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        sensor_values: torch.Tensor | None = None,
        sensor_mask: torch.Tensor | None = None,
        sensor_time: torch.Tensor | None = None,
        patch_size: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        sensor_tokens: torch.Tensor | None = None,
        return_loss: bool = True,
        return_logits: bool | None = None,
        logits_to_keep: int = 0,
        use_cache: bool | None = None,
        cache: Cache | None = None,
        past_key_values: Cache | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> SlipCaptioningOutput | tuple:
        r"""
        Args:
            input_ids (`torch.LongTensor` of shape `[B, T]`): caption (or prompt) tokens, BOS first.
            attention_mask (`torch.LongTensor` of shape `[B, T]`, or `[B, past + T]` with a cache, *optional*): 1 for
                tokens, 0 for padding.
            sensor_values, sensor_mask, sensor_time, patch_size: see [`SlipSensorModel.forward`].
            labels (`torch.LongTensor` of shape `[B, T]`, *optional*): targets aligned with `input_ids` (shifted
                inside), -100 where no loss is wanted (pads, prompt, BOS).
            sensor_tokens (`torch.FloatTensor` of shape `[B, 1 + N, C]`, *optional*): precomputed pooled sensor
                tokens instead of the raw sensor inputs (used by `generate`); no contrastive term then.
            return_loss (`bool`, defaults to `True`): compute the contrastive loss when sensors are given.
            return_logits (`bool`, *optional*): materialise the caption logits; defaults to `labels is None`.
            logits_to_keep (`int`): if > 0, only the logits of the last `logits_to_keep` positions.
            use_cache / cache / past_key_values: incremental decoding.
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        cache = cache if cache is not None else past_key_values
        if use_cache and cache is None:
            cache = DynamicCache()
        key_length, layer_mask = None, attention_mask
        if isinstance(cache, SlipStaticCache):
            if (self.config.text_config._attn_implementation or "").startswith("flash"):
                raise ValueError(
                    "A static cache needs attn_implementation 'sdpa' or 'eager': flash kernels align the causal mask "
                    "to the end of the keys, which here include unwritten slots"
                )
            # device-side length and full-cache keys: the same shapes at every step, no host sync
            past_length, key_length = cache.length, cache.max_length
            layer_mask = pad_to_static_cache(attention_mask, cache)
            whole_text = not cache.cross_attention_ready
        else:
            past_length = cache.get_seq_length() if cache is not None else 0
            whole_text = past_length == 0

        sensor_outputs = None
        if sensor_tokens is None:
            if sensor_values is None:
                raise ValueError("Pass the sensor inputs (sensor_values, sensor_mask, sensor_time, patch_size) or sensor_tokens")
            sensor_outputs = self.slip.sensor_model(sensor_values, sensor_mask, sensor_time, patch_size)
            sensor_tokens = sensor_outputs.pooler_output

        layer_inputs = self.slip.text_layer_inputs(input_ids, layer_mask, past_length, key_length)
        text_states = self.slip.text_encoder(input_ids, layer_inputs, cache)
        decoder_states = self.text_decoder(text_states, sensor_tokens, layer_inputs, cache)
        if isinstance(cache, SlipStaticCache):
            cache.advance(input_ids.shape[1])

        losses = {}
        contrastive = {}
        if sensor_outputs is not None and whole_text:
            sensor_embeds = self.slip.sensor_embedding(sensor_tokens)
            text_embeds = self.slip.text_embedding(text_states, attention_mask)
            logits_per_text = self.slip.contrastive_logits(sensor_embeds, text_embeds)
            contrastive = dict(
                logits_per_sensor=logits_per_text.T,
                logits_per_text=logits_per_text,
                sensor_embeds=sensor_embeds,
                text_embeds=text_embeds,
                logit_scale=self.slip.scale(),
            )
            if return_loss:
                losses["contrastive"] = contrastive_loss(logits_per_text)
        if labels is not None:
            losses["caption"] = caption_cross_entropy(decoder_states, self.lm_head_weight, labels)

        logits = None
        if return_logits if return_logits is not None else labels is None:
            kept = decoder_states[:, -logits_to_keep:] if logits_to_keep > 0 else decoder_states
            logits = nn.functional.linear(kept, self.lm_head_weight)

        loss = None
        if losses:
            weights = {"contrastive": self.config.contrastive_loss_weight, "caption": self.config.caption_loss_weight}
            loss = sum(weights[name] * value for name, value in losses.items())
        output = SlipCaptioningOutput(
            loss=loss,
            contrastive_loss=losses.get("contrastive"),
            caption_loss=losses.get("caption"),
            logits=logits,
            sensor_tokens=sensor_tokens,
            sensor_model_output=sensor_outputs,
            **{_CACHE_OUTPUT_FIELD: cache},
            **contrastive,
        )
        return output if return_dict else output.to_tuple()

    def prepare_inputs_for_generation(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        sensor_tokens: torch.Tensor | None = None,
        use_cache: bool = True,
        next_sequence_length: int | None = None,
        cache_position: torch.Tensor | None = None,
        **kwargs,
    ) -> dict[str, Any]:
        """Feeds only the tokens the cache has not seen, with the precomputed sensor tokens. With a static cache the
        mask is padded to the cache's length here, outside a compiled decoding step, so its shapes never change."""
        cache = kwargs.get("cache", kwargs.get("past_key_values"))
        if next_sequence_length is not None:  # transformers 5: the number of new tokens is known without a sync
            input_ids = input_ids[:, -next_sequence_length:]
        elif cache_position is not None:  # transformers 4
            input_ids = input_ids[:, -cache_position.shape[0] :]
        elif cache is not None:
            input_ids = input_ids[:, cache.get_seq_length() :]
        if isinstance(cache, SlipStaticCache):
            attention_mask = pad_to_static_cache(attention_mask, cache)
        return {
            "input_ids": input_ids.contiguous(),  # a slice's strides grow with the sequence: a compiled step recompiles
            "attention_mask": attention_mask,
            "sensor_tokens": sensor_tokens,
            "cache": cache,
            "use_cache": use_cache,
            "logits_to_keep": 1,
            "return_loss": False,
        }

    @torch.no_grad()
    def generate(
        self,
        sensor_values: torch.Tensor | None = None,
        sensor_mask: torch.Tensor | None = None,
        sensor_time: torch.Tensor | None = None,
        patch_size: torch.Tensor | None = None,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        sensor_tokens: torch.Tensor | None = None,
        **generate_kwargs,
    ) -> torch.LongTensor:
        """Captions (or answers about) sensors. The sensor tower runs once; its pooled tokens are passed to every
        decoding step (and expanded for beams) by `GenerationMixin`. Without `input_ids`, decoding starts from BOS.

        `cache_implementation="static"` decodes with a [`SlipStaticCache`] sized for the prompt plus `max_new_tokens`:
        every step then has the same shapes, and on a GPU transformers compiles the step (CUDA graphs). The cache is
        kept on the model (`model._static_cache`; delete it to free its memory) and its buffers are reused while the
        length, batch size, dtype and device stay the same, so the compiled step is reused too; a cache returned with
        `return_dict_in_generate=True` is overwritten by the next static call, and concurrent calls need one model
        each.

        Returns `[B, prompt + new]` token ids (the prompt included, as for decoder-only models).
        """
        if sensor_tokens is None:
            if sensor_values is None:
                raise ValueError("generate needs sensor inputs or sensor_tokens")
            sensor_tokens = self.slip.sensor_model(sensor_values, sensor_mask, sensor_time, patch_size).pooler_output
        if input_ids is None:
            input_ids = torch.full(
                (sensor_tokens.shape[0], 1), self.config.bos_token_id, dtype=torch.long, device=sensor_tokens.device
            )
            attention_mask = torch.ones_like(input_ids)
        config = generate_kwargs.get("generation_config")
        cache_implementation = generate_kwargs.pop(
            "cache_implementation", (config or self.generation_config).cache_implementation
        )
        if config is not None and config.cache_implementation is not None:
            config = generate_kwargs["generation_config"] = copy.deepcopy(config)
            config.cache_implementation = None
        if cache_implementation == "static":
            cache = self._static_cache_for(input_ids.shape[1], config or self.generation_config, generate_kwargs)
            generate_kwargs[_CACHE_OUTPUT_FIELD] = cache
        elif cache_implementation not in (None, "dynamic"):
            raise ValueError(f"cache_implementation={cache_implementation!r}: SLIP supports 'static' and 'dynamic'")
        # the model builds its caches itself, and transformers rejects a cache_implementation next to a given cache
        model_default, self.generation_config.cache_implementation = self.generation_config.cache_implementation, None
        try:
            return super().generate(
                input_ids=input_ids, attention_mask=attention_mask, sensor_tokens=sensor_tokens, **generate_kwargs
            )
        finally:
            self.generation_config.cache_implementation = model_default

    def _static_cache_for(
        self, prompt_length: int, config: GenerationConfig, generate_kwargs: dict[str, Any]
    ) -> SlipStaticCache:
        """The model's static cache, sized for the prompt plus the new tokens (rebuilt when that length changes)."""
        max_new_tokens = generate_kwargs.get("max_new_tokens", config.max_new_tokens)
        if max_new_tokens is not None:
            max_length = prompt_length + max_new_tokens
        else:
            max_length = generate_kwargs.get("max_length", config.max_length)
        if max_length is None:
            raise ValueError("cache_implementation='static' needs max_new_tokens or max_length to size the cache")
        cache = getattr(self, "_static_cache", None)
        if cache is None or cache.max_length != max_length:
            cache = self._static_cache = SlipStaticCache.for_config(self.config, max_length)
        cache.reset()
        return cache
