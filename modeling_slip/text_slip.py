"""Text tower: the Gemma-3 stack split into a text encoder and a multimodal decoder.

Layers below `split_layer` form the text encoder; the remaining layers form the decoder, each followed by a residual
cross-attention over the pooled sensor tokens. The layers are transformers' own `Gemma3DecoderLayer`s, driven here
so that the encoder can run alone and the sensor context is an explicit argument (no state on the layers).

The loop builds its own RoPE tables and masks, and keeps every layer's keys in a plain `DynamicCache` or a
`SlipStaticCache` (no sliding eviction in either): the sliding window is applied by the mask. This keeps one code
path for transformers 4.57 and 5.x (`compat_slip.call_gemma_layer` bridges their layer signatures).
"""

from dataclasses import dataclass

import torch
from torch import nn
from transformers.cache_utils import Cache
from transformers.modeling_outputs import BaseModelOutput
from transformers.models.gemma3.modeling_gemma3 import (
    Gemma3DecoderLayer,
    Gemma3RMSNorm,
    Gemma3TextScaledWordEmbedding,
)

from .attention_slip import SlipCrossAttentionBlock, mask_for_implementation
from .cache_slip import SlipStaticCache
from .compat_slip import call_gemma_layer, rope_theta
from .configuration_slip import SlipConfig


@dataclass
class SlipTextLayerInputs:
    """RoPE tables and attention masks of every Gemma layer type, built once per forward ([`build`]) and read by
    every layer ([`for_layer`]).

    Positions count pad tokens (0..T-1 for a fresh sequence, continuing after the cached tokens when decoding), so a
    teacher-forced pass and cached decoding rotate every token identically. Masks allow key j for query i iff j is
    not padding, j <= i, and, on sliding layers, i - j < sliding_window.

    Args:
        rotary (`dict[str, tuple[torch.Tensor, torch.Tensor]]`): per layer type, cos and sin `[1, T, head_dim]`.
        masks (`dict[str, torch.Tensor]`): per layer type, the mask `[B, 1, T, K]` in the selected kernel's format.
    """

    rotary: dict[str, tuple[torch.Tensor, torch.Tensor]]
    masks: dict[str, torch.Tensor]

    @classmethod
    def build(
        cls,
        text_config,
        attention_mask: torch.Tensor | None,
        query_length: int,
        past_length: int | torch.Tensor,
        key_length: int,
        batch_size: int,
        dtype: torch.dtype,
        device: torch.device,
    ) -> "SlipTextLayerInputs":
        """Tables and masks for `query_length` new tokens after `past_length` cached ones, over `key_length` keys.

        `past_length` may be a device tensor (static cache): positions are then computed without a host sync, and
        the keys span the whole cache, so every decoding step has the same shapes. `attention_mask` `[B, >=K]`.
        """
        query_position = past_length + torch.arange(query_length, device=device)
        key_position = torch.arange(key_length, device=device)
        head_dim = text_config.head_dim
        causal = key_position[None, :] <= query_position[:, None]
        if attention_mask is None:
            key_valid = torch.ones(batch_size, key_length, dtype=torch.bool, device=device)
        else:
            key_valid = attention_mask[:, -key_length:].to(device=device, dtype=torch.bool)
        rotary, masks = {}, {}
        for layer_type in set(text_config.layer_types):
            inv_freq = 1.0 / (
                rope_theta(text_config, layer_type)
                ** (torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim)
            )
            freqs = query_position.to(torch.float32)[:, None] * inv_freq
            angle = torch.cat((freqs, freqs), dim=-1)[None]
            rotary[layer_type] = (angle.cos().to(dtype), angle.sin().to(dtype))
            allowed = causal
            if layer_type == "sliding_attention":
                allowed = allowed & (query_position[:, None] - key_position[None, :] < text_config.sliding_window)
            allowed = allowed[None, None] & key_valid[:, None, None, :]
            masks[layer_type] = mask_for_implementation(allowed, text_config._attn_implementation, dtype)
        return cls(rotary=rotary, masks=masks)

    def for_layer(self, layer: Gemma3DecoderLayer) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """The mask and the `(cos, sin)` table of `layer`'s type."""
        layer_type = "sliding_attention" if layer.self_attn.is_sliding else "full_attention"
        return self.masks[layer_type], self.rotary[layer_type]


class SlipTextEncoder(nn.Module):
    """Token embedding and the first `split_layer` Gemma layers (causal). `[B, T] ids → [B, T, H]` states, without
    the final norm (the text embedding is read from these states)."""

    def __init__(self, config: SlipConfig):
        super().__init__()
        text_config = config.text_config
        self.embed_tokens = Gemma3TextScaledWordEmbedding(
            text_config.vocab_size,
            text_config.hidden_size,
            text_config.pad_token_id,
            embed_scale=text_config.hidden_size**0.5,
        )
        self.layers = nn.ModuleList(Gemma3DecoderLayer(text_config, i) for i in range(config.split_layer))

    def forward(
        self,
        input_ids: torch.Tensor,
        layer_inputs: SlipTextLayerInputs,
        cache: Cache | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> BaseModelOutput:
        """`last_hidden_state` `[B, T, H]`; `hidden_states` (the embeddings and every layer's output) and
        `attentions` (every layer's attention probabilities, eager attention only: SDPA gives None) on request."""
        hidden_states = self.embed_tokens(input_ids)
        all_hidden_states = (hidden_states,) if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        for layer in self.layers:
            hook = None
            if output_attentions:  # Gemma layers return their states only: the probabilities are their attention's
                hook = layer.self_attn.register_forward_hook(lambda module, args, output: all_attentions.append(output[1]))
            hidden_states = call_gemma_layer(layer, hidden_states, *layer_inputs.for_layer(layer), cache)
            if hook is not None:
                hook.remove()
            if output_hidden_states:
                all_hidden_states += (hidden_states,)
        return BaseModelOutput(
            last_hidden_state=hidden_states,
            hidden_states=all_hidden_states,
            attentions=None if all_attentions is None else tuple(all_attentions),
        )


class SlipTextDecoder(nn.Module):
    """The remaining Gemma layers, each followed by h = h + CrossAttn(h, sensor tokens), then the final RMSNorm.

    Cross-attention keys/values of the sensor tokens are computed once per sequence: with a dynamic cache they are
    stored at cache index `num_hidden_layers + j` for decoder layer j (a static cache keeps them beside its buffers)
    and reused at every decoding step (and reordered with the cache in beam search).
    """

    def __init__(self, config: SlipConfig):
        super().__init__()
        text_config = config.text_config
        self.first_cross_attention_cache_index = text_config.num_hidden_layers
        self.layers = nn.ModuleList(
            Gemma3DecoderLayer(text_config, i) for i in range(config.split_layer, text_config.num_hidden_layers)
        )
        self.cross_attention_layers = nn.ModuleList(
            SlipCrossAttentionBlock(
                config,
                text_config.hidden_size,
                text_config.hidden_size,
                text_config.num_attention_heads,
                config.cross_attention_layer_norm_eps,
                text_config.attention_dropout,
            )
            for _ in self.layers
        )
        self.norm = Gemma3RMSNorm(text_config.hidden_size, eps=text_config.rms_norm_eps)

    def _context_key_value(
        self, index: int, cross_attention: SlipCrossAttentionBlock, sensor_tokens: torch.Tensor, cache: Cache
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(cache, SlipStaticCache):
            stored = cache.cross_attention_key_value(index)
            if stored is None:
                stored = cross_attention.context_key_value(sensor_tokens)
                cache.store_cross_attention_key_value(index, *stored)
            return stored
        cache_index = self.first_cross_attention_cache_index + index
        if cache.get_seq_length(cache_index) > 0:
            stored = cache.layers[cache_index]
            return stored.keys, stored.values
        key, value = cross_attention.context_key_value(sensor_tokens)
        cache.update(key, value, cache_index)
        return key, value

    def forward(
        self,
        hidden_states: torch.Tensor,
        sensor_tokens: torch.Tensor,
        layer_inputs: SlipTextLayerInputs,
        cache: Cache | None = None,
    ) -> torch.Tensor:
        """hidden_states `[B, T, H]` from the text encoder, sensor_tokens `[B, 1 + N, C]` → normed `[B, T, H]`."""
        for index, (layer, cross_attention) in enumerate(zip(self.layers, self.cross_attention_layers)):
            hidden_states = call_gemma_layer(layer, hidden_states, *layer_inputs.for_layer(layer), cache)
            if cache is None:  # only `forward` gathers the parameters of a block sharded by FSDP2: no method call
                attended = cross_attention(hidden_states, context=sensor_tokens)[0]
            else:
                key_value = self._context_key_value(index, cross_attention, sensor_tokens, cache)
                attended = cross_attention(hidden_states, context_key_value=key_value)[0]
            hidden_states = hidden_states + attended
        return self.norm(hidden_states)
