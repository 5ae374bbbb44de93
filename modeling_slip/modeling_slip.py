"""SLIP models: the sensor tower, the two-tower contrastive model, and the captioning (pretraining) model."""

import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch._subclasses.fake_tensor import is_fake
from huggingface_hub.errors import HFValidationError
from transformers import PreTrainedModel
from transformers.cache_utils import Cache, DynamicCache
from transformers.modeling_outputs import BaseModelOutput
from transformers.models.gemma3.modeling_gemma3 import Gemma3RMSNorm, Gemma3TextScaledWordEmbedding
from transformers.utils import ModelOutput

from .attention_slip import SlipCrossAttentionBlock  # noqa: F401  (4.57 copies direct relative imports only)
from .cache_slip import SlipStaticCache
from .compat_slip import CACHE_FIELD, init, init_embed_scale
from .configuration_slip import SLIP_PRESETS, SlipConfig
from .generation_slip import SlipGenerationMixin
from .loss_slip import caption_cross_entropy, contrastive_loss
from .sensor_encoder_slip import SlipAttentionPooler, SlipFlexPatchEmbedding, SlipRotary2D, SlipSensorEncoderLayer
from .text_slip import SlipTextDecoder, SlipTextEncoder, SlipTextLayerInputs


@dataclass
class SlipSensorModelOutput(ModelOutput):
    """
    Args:
        last_hidden_state (`torch.FloatTensor` of shape `[B, V * P, D]`): encoder token states after the final
            LayerNorm, channel-major (token index `v * P + p`). Padded tokens hold meaningless values.
        patch_mask (`torch.BoolTensor` of shape `[B, V, P]`): True for patches with at least one observed value.
        pooler_output (`torch.FloatTensor` of shape `[B, 1 + num_query_tokens, C]`): pooled tokens, CLS first; the
            decoder's cross-attention context.
        sample_mask (`torch.BoolTensor` of shape `[B]`): True for samples with at least one observed value. A sample
            without one (an all-NaN recording) has nothing to pool: its contrastive embedding is NaN.
        hidden_states (`tuple(torch.FloatTensor)`, *optional*): input of every layer plus the final output.
        attentions (`tuple(torch.FloatTensor)`, *optional*): attention probabilities of every layer (eager only).
    """

    last_hidden_state: torch.FloatTensor | None = None
    patch_mask: torch.BoolTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    sample_mask: torch.BoolTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


def masked_token_mean(last_hidden_state: torch.Tensor, patch_mask: torch.Tensor) -> torch.Tensor:
    """The mean of a sample's token states over its observed patches: `[B, V * P, D]` and `[B, V, P]` → `[B, D]` (the
    linear probe's and the classifier's feature; 0 for a sample without an observed patch)."""
    valid = patch_mask.flatten(1).unsqueeze(-1).to(last_hidden_state.dtype)  # [B, V * P, 1]
    return (last_hidden_state * valid).sum(1) / valid.sum(1).clamp_min(1.0)


@dataclass
class SlipOutput(ModelOutput):
    """
    Args:
        loss (`torch.FloatTensor`, *optional*): weighted contrastive loss, when `return_loss`.
        contrastive_loss (`torch.FloatTensor`, *optional*): unweighted contrastive loss.
        logits_per_sensor (`torch.FloatTensor` of shape `[B, B]`): scaled cosine similarities of this batch's sensors
            (rows) and texts (columns). Local to the process: training gathers other processes' embeddings itself.
        logits_per_text (`torch.FloatTensor` of shape `[B, B]`): the transpose.
        sensor_embeds (`torch.FloatTensor` of shape `[B, projection_dim]`): L2-normalised sensor embeddings; NaN
            for a sample with no observed value (see `SlipSensorModelOutput.sample_mask`).
        text_embeds (`torch.FloatTensor` of shape `[B, projection_dim]`): L2-normalised text embeddings.
        logit_scale (`torch.FloatTensor` of shape `[]`): the clamped, exponentiated scale of the logits.
        text_model_output ([`~modeling_outputs.BaseModelOutput`]): the text encoder's output (its
            `hidden_states` and `attentions` with `output_hidden_states` / `output_attentions`).
        sensor_model_output ([`SlipSensorModelOutput`]): the sensor tower's output.
    """

    loss: torch.FloatTensor | None = None
    contrastive_loss: torch.FloatTensor | None = None
    logits_per_sensor: torch.FloatTensor | None = None
    logits_per_text: torch.FloatTensor | None = None
    sensor_embeds: torch.FloatTensor | None = None
    text_embeds: torch.FloatTensor | None = None
    logit_scale: torch.FloatTensor | None = None
    text_model_output: BaseModelOutput | None = None
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
    if CACHE_FIELD == "cache":
        cache: Cache | None = None
    else:
        past_key_values: Cache | None = None


class SlipPreTrainedModel(PreTrainedModel):
    """Weight init and loading for the SLIP models.

    Attention runs with `attn_implementation="sdpa"` (default) or `"eager"`. Flash-attention kernels are not
    supported (`from_pretrained(..., attn_implementation="flash_attention_2")` raises): they take padding masks only,
    and the sensor encoder, the pooler and the decoder's cross-attention need per-sample token masks. SDPA picks
    PyTorch's own flash kernel whenever a call needs no mask.
    """

    config_class = SlipConfig
    config: SlipConfig
    base_model_prefix = "slip"
    main_input_name = "sensor_values"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = False
    _supports_flash_attn_2 = False
    _no_split_modules = ["SlipSensorEncoderLayer", "Gemma3DecoderLayer", "SlipCrossAttentionBlock"]

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        """`PreTrainedModel.from_pretrained`; a name that is neither a folder nor on the Hub (such as the preset name
        `"slip-base"`) gets an error saying what it could be."""
        try:
            return super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        except (OSError, HFValidationError) as error:  # transformers only says: no folder, not on the Hub
            if os.path.isdir(pretrained_model_name_or_path):
                raise
            name, reason = str(pretrained_model_name_or_path), " ".join(str(error).split())
            preset = name if name in SLIP_PRESETS else "slip-base"
            raise OSError(
                f"{name!r} is no local folder and could not be loaded from the Hub ({reason}). It could be a preset "
                f"({', '.join(SLIP_PRESETS)}): `{cls.__name__}(SlipConfig.from_preset({preset!r}))` builds one with "
                f"random weights; the authors' checkpoint, converted with `slip convert-reference CHECKPOINT --out "
                f"{name}`; or a folder written by `save_pretrained`, training or `slip export`, given by its path."
            ) from error

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
            init_embed_scale(module)
        elif isinstance(module, SlipAttentionPooler):
            init.xavier_uniform_(module.queries)
        elif isinstance(module, SlipModel):
            init.constant_(module.logit_scale, self.config.logit_scale_init_value)


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

    def _attention_allowed(self, patch_mask: torch.Tensor, all_tokens_valid: bool) -> torch.Tensor | None:
        """`[B, 1, 1|L, L]` boolean mask, or None when every token is valid (so SDPA can use its fastest kernel)."""
        allowed = patch_mask.flatten(1)[:, None, None, :]
        if self.config.sensor_config.channel_attention == "univariate":
            channel = torch.arange(patch_mask.shape[1], device=patch_mask.device).repeat_interleave(patch_mask.shape[2])
            return allowed & (channel[:, None] == channel[None, :])[None, None]
        return None if all_tokens_valid else allowed

    @staticmethod
    def _check_values(
        sensor_values: torch.Tensor,
        sensor_mask: torch.Tensor,
        sensor_time: torch.Tensor,
        patch_size: torch.Tensor,
        patch_mask: torch.Tensor,
        sample_mask: torch.Tensor,
        require_observed: bool,
    ) -> bool:
        """Checks the input values and returns whether every token is valid. All checks are read in one device sync
        per forward; when values cannot be read (compiling, or shape-only fake tensors as in memory estimates) nothing
        is checked and the attention mask is kept."""
        if _is_traced(sensor_values):
            return False
        observed_finite, time_finite, sizes_fit, all_observed, all_tokens_valid = torch.stack(
            [
                (sensor_values.isfinite() | ~sensor_mask).all(),
                sensor_time.isfinite().all(),
                ((patch_size >= 1) & (patch_size <= sensor_values.shape[-1])).all(),
                sample_mask.all(),
                patch_mask.all(),
            ]
        ).tolist()
        if not observed_finite:
            samples = (~sensor_values.isfinite() & sensor_mask).flatten(1).any(-1).nonzero().flatten().tolist()
            raise ValueError(
                "sensor_values holds NaN or infinite values where sensor_mask marks them observed (samples "
                f"{samples}); a missing value must have sensor_mask False (the processor does this for NaN)"
            )
        if not time_finite:
            raise ValueError("sensor_time holds NaN or infinite values; padding and missing values take time 0")
        if not sizes_fit:
            raise ValueError(
                f"patch_size must lie in 1..{sensor_values.shape[-1]} (the last dimension of sensor_values); got "
                f"{patch_size.tolist()}"
            )
        if require_observed and not all_observed:
            raise ValueError(
                f"Samples {(~sample_mask).nonzero().flatten().tolist()} have no observed value (sensor_mask is all "
                "False): their embeddings are NaN and would make the contrastive loss NaN; drop them from the batch "
                "or pass return_loss=False"
            )
        return all_tokens_valid

    def forward(
        self,
        sensor_values: torch.Tensor,
        sensor_mask: torch.Tensor,
        sensor_time: torch.Tensor,
        patch_size: torch.Tensor,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        require_observed: bool = False,
    ) -> SlipSensorModelOutput | tuple:
        r"""
        Args:
            sensor_values (`torch.FloatTensor` of shape `[B, V, P, ps_max]`): normalised patches (see
                `SlipFeatureExtractor`); sample i uses the first `patch_size[i]` entries of each patch.
            sensor_mask (`torch.BoolTensor` of shape `[B, V, P, ps_max]`): True where a value was observed.
            sensor_time (`torch.FloatTensor` of shape `[B, V, P, ps_max]`): relative time index, 0 on padding.
            patch_size (`torch.LongTensor` of shape `[B]`): each sample's patch size.
            require_observed (`bool`, defaults to `False`): raise if a sample has no observed value (the losses set
                it; inference flags such samples in `sample_mask` instead).

        NaN or infinite values where `sensor_mask` is True, a non-finite `sensor_time`, or a `patch_size` outside
        `1..ps_max` raise a `ValueError` (checked in the same single device sync that decides the attention mask).
        """
        check_sensor_inputs(sensor_values, sensor_mask, sensor_time, patch_size)
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        sensor_mask = sensor_mask.bool()
        patch_mask = sensor_mask.any(-1)
        sample_mask = patch_mask.flatten(1).any(-1)
        all_tokens_valid = self._check_values(
            sensor_values, sensor_mask, sensor_time, patch_size, patch_mask, sample_mask, require_observed
        )
        # Whatever sits at unobserved positions (NaN, stale values) must not reach the model.
        sensor_values = sensor_values.masked_fill(~sensor_mask, 0.0)
        tokens = self.embeddings(sensor_values, sensor_mask, sensor_time, patch_size)
        hidden_states = tokens.flatten(1, 2)
        rotary = self.rotary(patch_mask, hidden_states.dtype)
        allowed = self._attention_allowed(patch_mask, all_tokens_valid)

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
            sample_mask=sample_mask,
            hidden_states=all_hidden_states,
            attentions=all_attentions,
        )
        return output if return_dict else output.to_tuple()


def output_flags(config: SlipConfig, output_attentions: bool | None, output_hidden_states: bool | None) -> tuple[bool, bool]:
    """`output_attentions` and `output_hidden_states` of a call, defaulting to the config's."""
    return (
        config.output_attentions if output_attentions is None else output_attentions,
        config.output_hidden_states if output_hidden_states is None else output_hidden_states,
    )


def _is_traced(tensor: torch.Tensor) -> bool:
    """Whether values cannot be read: compiling, or shape-only fake tensors (as in memory estimates)."""
    return torch.compiler.is_compiling() or is_fake(tensor)


def check_sensor_inputs(
    sensor_values: torch.Tensor, sensor_mask: torch.Tensor, sensor_time: torch.Tensor, patch_size: torch.Tensor
) -> None:
    """Types, dtypes and shapes of the sensor inputs (no device sync)."""
    inputs = {"sensor_values": sensor_values, "sensor_mask": sensor_mask, "sensor_time": sensor_time}
    for name, value in {**inputs, "patch_size": patch_size}.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(
                f"{name} must be a torch.Tensor, got {type(value).__name__}; call the processor with "
                "return_tensors='pt'"
            )
    if sensor_values.ndim != 4 or sensor_mask.shape != sensor_values.shape or sensor_time.shape != sensor_values.shape:
        raise ValueError(
            "sensor_values, sensor_mask and sensor_time must share the shape [batch, channels, patches, patch]; "
            f"got {tuple(sensor_values.shape)}, {tuple(sensor_mask.shape)}, {tuple(sensor_time.shape)}"
        )
    if patch_size.shape != sensor_values.shape[:1]:
        raise ValueError(f"patch_size must have shape [{sensor_values.shape[0]}], got {tuple(patch_size.shape)}")
    for name in ("sensor_values", "sensor_time"):
        if not inputs[name].is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor, got {inputs[name].dtype}")
    if patch_size.is_floating_point() or patch_size.is_complex() or patch_size.dtype == torch.bool:
        raise ValueError(f"patch_size must be an integer tensor, got {patch_size.dtype}")


def check_token_ids(input_ids: torch.Tensor, vocab_size: int) -> None:
    """`input_ids` must be an integer tensor `[B, T]` of ids in `0..vocab_size-1` (one device sync)."""
    if not isinstance(input_ids, torch.Tensor):
        raise ValueError(
            f"input_ids must be a torch.Tensor, got {type(input_ids).__name__}; call the processor with "
            "return_tensors='pt'"
        )
    if input_ids.ndim != 2 or input_ids.is_floating_point() or input_ids.dtype == torch.bool:
        raise ValueError(
            f"input_ids must be an integer tensor [batch, tokens], got {input_ids.dtype} {tuple(input_ids.shape)}"
        )
    if _is_traced(input_ids) or input_ids.numel() == 0:
        return
    low, high = torch.stack([input_ids.min(), input_ids.max()]).tolist()
    if low < 0 or high >= vocab_size:
        raise ValueError(
            f"input_ids hold ids outside the vocabulary 0..{vocab_size - 1} (min {low}, max {high}); tokenize with "
            "this model's processor"
        )


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

    def get_input_embeddings(self) -> nn.Module:
        return self.text_encoder.embed_tokens

    def sensor_embedding(self, sensor_tokens: torch.Tensor, sample_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Pooled tokens `[B, 1 + N, C]` → L2-normalised contrastive embedding of the CLS token `[B, projection_dim]`.

        Rows where `sample_mask` `[B]` is False (samples with no observed value) are NaN: the pooler saw nothing, and
        a finite vector there would score like a real recording in retrieval and zero-shot classification."""
        embeds = nn.functional.normalize(self.sensor_projection(sensor_tokens[:, 0]), dim=-1)
        if sample_mask is None:
            return embeds
        return embeds.masked_fill(~sample_mask[:, None], float("nan"))

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
        return SlipTextLayerInputs.build(
            self.config.text_config,
            attention_mask,
            input_ids.shape[1],
            past_length,
            past_length + input_ids.shape[1] if key_length is None else key_length,
            input_ids.shape[0],
            self.text_encoder.embed_tokens.weight.dtype,
            input_ids.device,
        )

    def run_text_encoder(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> BaseModelOutput:
        """The text encoder's output (the first `split_layer` Gemma layers only)."""
        check_token_ids(input_ids, self.config.text_config.vocab_size)
        return self.text_encoder(
            input_ids,
            self.text_layer_inputs(input_ids, attention_mask),
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
        )

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """Text-encoder states `[B, T, H]`."""
        return self.run_text_encoder(input_ids, attention_mask).last_hidden_state

    def get_sensor_features(
        self, sensor_values: torch.Tensor, sensor_mask: torch.Tensor, sensor_time: torch.Tensor, patch_size: torch.Tensor
    ) -> torch.Tensor:
        """L2-normalised sensor embeddings `[B, projection_dim]` (differentiable); NaN rows for samples with no
        observed value (all-NaN recordings), so they cannot pass for real ones."""
        outputs = self.sensor_model(sensor_values, sensor_mask, sensor_time, patch_size)
        return self.sensor_embedding(outputs.pooler_output, outputs.sample_mask)

    def get_text_features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """L2-normalised text embeddings `[B, projection_dim]` from the text encoder alone (differentiable)."""
        return self.text_embedding(self.encode_text(input_ids, attention_mask), attention_mask)

    def scale(self) -> torch.Tensor:
        """The clamped, exponentiated learnable logit scale (a scalar)."""
        return self.logit_scale.clamp(max=self.config.logit_scale_max).exp()

    def contrastive_logits(self, sensor_embeds: torch.Tensor, text_embeds: torch.Tensor) -> torch.Tensor:
        """`[N_text, N_sensor]` scaled cosine similarities of the given embeddings."""
        return self.scale() * text_embeds @ sensor_embeds.T

    def contrastive_head(
        self,
        sensor_outputs: SlipSensorModelOutput,
        text_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        return_loss: bool,
    ) -> dict[str, torch.Tensor | None]:
        """The [`SlipOutput`] fields of the contrastive head: embeddings, logits, scale and the unweighted loss, from
        the sensor tower's output (run with `require_observed=return_loss`) and the text-encoder states `[B, T, H]`."""
        sensor_embeds = self.sensor_embedding(sensor_outputs.pooler_output, sensor_outputs.sample_mask)
        text_embeds = self.text_embedding(text_states, attention_mask)
        logits_per_text = self.contrastive_logits(sensor_embeds, text_embeds)
        return dict(
            contrastive_loss=contrastive_loss(logits_per_text) if return_loss else None,
            logits_per_sensor=logits_per_text.T,
            logits_per_text=logits_per_text,
            sensor_embeds=sensor_embeds,
            text_embeds=text_embeds,
            logit_scale=self.scale(),
        )

    def forward(
        self,
        sensor_values: torch.Tensor,
        sensor_mask: torch.Tensor,
        sensor_time: torch.Tensor,
        patch_size: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        return_loss: bool = True,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> SlipOutput | tuple:
        r"""
        Args:
            sensor_values, sensor_mask, sensor_time, patch_size: see [`SlipSensorModel.forward`].
            input_ids (`torch.LongTensor` of shape `[B, T]`): text tokens (BOS first), left or right padded.
            attention_mask (`torch.LongTensor` of shape `[B, T]`, *optional*): 1 for tokens, 0 for padding.
            return_loss (`bool`, defaults to `True`): compute the contrastive loss.
            output_attentions / output_hidden_states (`bool`, *optional*, default to the config's): every layer's
                attention probabilities (eager attention only) / states, of both towers, in `sensor_model_output`
                and `text_model_output`.
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        output_attentions, output_hidden_states = output_flags(self.config, output_attentions, output_hidden_states)
        sensor_outputs = self.sensor_model(
            sensor_values,
            sensor_mask,
            sensor_time,
            patch_size,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
            require_observed=return_loss,
        )
        text_outputs = self.run_text_encoder(input_ids, attention_mask, output_hidden_states, output_attentions)
        contrastive = self.contrastive_head(sensor_outputs, text_outputs.last_hidden_state, attention_mask, return_loss)
        unweighted = contrastive["contrastive_loss"]
        output = SlipOutput(
            loss=None if unweighted is None else self.config.contrastive_loss_weight * unweighted,
            text_model_output=text_outputs,
            sensor_model_output=sensor_outputs,
            **contrastive,
        )
        return output if return_dict else output.to_tuple()


class SlipForConditionalGeneration(SlipPreTrainedModel, SlipGenerationMixin):
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
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
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
            output_attentions / output_hidden_states: as for [`SlipModel.forward`] (both towers).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        output_attentions, output_hidden_states = output_flags(self.config, output_attentions, output_hidden_states)
        cache = cache if cache is not None else past_key_values
        if use_cache and cache is None:
            cache = DynamicCache()
        key_length, layer_mask = None, attention_mask
        if isinstance(cache, SlipStaticCache):
            # device-side length and full-cache keys: the same shapes at every step, no host sync
            past_length, key_length = cache.length, cache.max_length
            layer_mask = cache.pad_mask(attention_mask)
            whole_text = not cache.cross_attention_ready
        else:
            past_length = cache.get_seq_length() if cache is not None else 0
            whole_text = past_length == 0

        sensor_outputs = None
        if sensor_tokens is None:
            if sensor_values is None:
                raise ValueError("Pass the sensor inputs (sensor_values, sensor_mask, sensor_time, patch_size) or sensor_tokens")
            sensor_outputs = self.slip.sensor_model(
                sensor_values,
                sensor_mask,
                sensor_time,
                patch_size,
                output_hidden_states=output_hidden_states,
                output_attentions=output_attentions,
                require_observed=return_loss and whole_text,
            )
            sensor_tokens = sensor_outputs.pooler_output

        if whole_text:  # later decoding steps feed back the model's own ids: checked once per sequence
            check_token_ids(input_ids, self.config.text_config.vocab_size)
        layer_inputs = self.slip.text_layer_inputs(input_ids, layer_mask, past_length, key_length)
        text_outputs = self.slip.text_encoder(input_ids, layer_inputs, cache, output_hidden_states, output_attentions)
        text_states = text_outputs.last_hidden_state
        decoder_states = self.text_decoder(text_states, sensor_tokens, layer_inputs, cache)
        if isinstance(cache, SlipStaticCache):
            cache.advance(input_ids.shape[1])

        losses = {}
        contrastive = {}
        if sensor_outputs is not None and whole_text:
            contrastive = self.slip.contrastive_head(sensor_outputs, text_states, attention_mask, return_loss)
            if return_loss:
                losses["contrastive"] = contrastive.pop("contrastive_loss")
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
            caption_loss=losses.get("caption"),
            logits=logits,
            sensor_tokens=sensor_tokens,
            text_model_output=text_outputs,
            sensor_model_output=sensor_outputs,
            **{CACHE_FIELD: cache},
            **{**contrastive, "contrastive_loss": losses.get("contrastive")},
        )
        return output if return_dict else output.to_tuple()
