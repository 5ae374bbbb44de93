"""Static decoding cache: fixed-size key/value buffers, so a decoding step has the same shapes and tensor addresses
every time and can be compiled into one graph (CUDA graphs with `torch.compile(mode="reduce-overhead")`)."""

import torch
from torch import nn
from transformers.cache_utils import Cache

from .compat_slip import CacheMaxLengthMixin
from .configuration_slip import SlipConfig


def _same_layout(stored: torch.Tensor | None, like: torch.Tensor, shape: tuple[int, ...]) -> bool:
    return stored is not None and stored.shape == shape and stored.dtype == like.dtype and stored.device == like.device


class SlipStaticCache(CacheMaxLengthMixin, Cache):
    """Keys and values of every Gemma layer in preallocated `[B, kv_heads, max_length, head_dim]` buffers, plus the
    cross-attention keys/values of the sensor tokens for each decoder layer.

    The number of tokens written is a device tensor (`length`), so positions, RoPE angles and masks of a decoding
    step are computed on the device without host synchronisation or recompilation. Buffers are allocated on the
    first write (prefill), from the keys' batch size, dtype and device, and kept across `reset()` while those stay
    the same. `generate(..., cache_implementation="static")` builds one sized for the prompt plus the new tokens.
    The attention mask passed with each step must cover the cached and the new tokens (`[B, past + T]`), as
    `generate` does ([`SlipStaticCache.pad_mask`] widens it to the buffers' length).
    """

    is_compileable = True

    def __init__(self, max_length: int, num_layers: int, num_cross_attention_layers: int):
        super().__init__(layers=[])
        self.max_length = max_length
        self.num_layers = num_layers
        self.keys: list[torch.Tensor | None] = [None] * num_layers
        self.values: list[torch.Tensor | None] = [None] * num_layers
        self.cross_attention: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * num_cross_attention_layers
        self.cross_attention_ready = False
        self.length = torch.zeros((), dtype=torch.long)

    @classmethod
    def for_config(cls, config: SlipConfig, max_length: int) -> "SlipStaticCache":
        text_config = config.text_config
        return cls(max_length, text_config.num_hidden_layers, text_config.num_hidden_layers - config.split_layer)

    def __len__(self) -> int:
        return self.num_layers

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_length={self.max_length}, num_layers={self.num_layers})"

    @property
    def is_initialized(self) -> bool:
        return self.keys[0] is not None

    @staticmethod
    def _mark_static(tensor: torch.Tensor) -> torch.Tensor:
        # fixed data pointers let a compiled decoding step mutate the buffers in place (required by CUDA graphs)
        if not torch.compiler.is_compiling():
            torch._dynamo.mark_static_address(tensor)
        return tensor

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, layer_idx: int, *args, **kwargs
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Writes `[B, kv_heads, T, head_dim]` keys/values at positions `length .. length + T - 1` and returns the
        whole buffers (unwritten slots are zeros that the attention masks exclude)."""
        batch, heads, query_length, head_dim = key_states.shape
        if query_length > self.max_length:
            raise ValueError(f"{query_length} tokens do not fit a static cache of max_length={self.max_length}")
        shape = (batch, heads, self.max_length, head_dim)
        if not _same_layout(self.keys[layer_idx], key_states, shape):
            self.keys[layer_idx] = self._mark_static(key_states.new_zeros(shape))
            self.values[layer_idx] = self._mark_static(value_states.new_zeros(shape[:3] + value_states.shape[-1:]))
            if self.length.device != key_states.device:
                self.length = self._mark_static(self.length.to(key_states.device))
        positions = self.length + torch.arange(query_length, device=key_states.device)
        self.keys[layer_idx].index_copy_(2, positions, key_states)
        self.values[layer_idx].index_copy_(2, positions, value_states)
        return self.keys[layer_idx], self.values[layer_idx]

    def advance(self, num_tokens: int) -> None:
        """Marks `num_tokens` more positions as written; called once per forward, after every layer has written."""
        self.length.add_(num_tokens)
        self.cross_attention_ready = True

    def get_seq_length(self, layer_idx: int = 0) -> int:
        """Tokens written so far (reads the device counter: outside the compiled decoding step only)."""
        return int(self.length)

    def pad_mask(self, attention_mask: torch.Tensor | None) -> torch.Tensor | None:
        """`[B, L]` padding mask → `[B, max_length]`: the slots not yet written are excluded (and causal anyway)."""
        if attention_mask is None or attention_mask.shape[1] == self.max_length:
            return attention_mask
        if attention_mask.shape[1] > self.max_length:
            raise ValueError(
                f"attention_mask covers {attention_mask.shape[1]} tokens, more than the static cache's "
                f"max_length={self.max_length}"
            )
        return nn.functional.pad(attention_mask, (0, self.max_length - attention_mask.shape[1]))

    def cross_attention_key_value(self, index: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The sensor tokens' keys/values of decoder layer `index`; None until the first forward stored them."""
        return self.cross_attention[index] if self.cross_attention_ready else None

    def store_cross_attention_key_value(self, index: int, key: torch.Tensor, value: torch.Tensor) -> None:
        stored = self.cross_attention[index]
        if stored is not None and _same_layout(stored[0], key, key.shape):
            stored[0].copy_(key)  # same addresses across generate calls: a compiled step is reused, not re-recorded
            stored[1].copy_(value)
        else:
            self.cross_attention[index] = (self._mark_static(key.clone()), self._mark_static(value.clone()))

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        """Beam search: reorders the batch in place, keeping the buffers' addresses. The cross-attention keys/values
        stay: beams are reordered within a sample, whose rows all hold the same sensor tokens."""
        for tensor in (*self.keys, *self.values):
            if tensor is not None:
                tensor.copy_(tensor.index_select(0, beam_idx.to(tensor.device)))

    def reset(self) -> None:
        """Empties the cache for a new sequence without freeing the buffers."""
        self.length.zero_()
        self.cross_attention_ready = False

    def _unsupported(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} supports greedy, sampling and beam search decoding only")

    # assisted decoding and batch reshaping would edit the buffers' shapes
    crop = batch_repeat_interleave = batch_select_indices = _unsupported
