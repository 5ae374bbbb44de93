"""Static decoding cache: fixed-size key/value buffers, so a decoding step has the same shapes and tensor addresses
every time and can be compiled into one graph (CUDA graphs with `torch.compile(mode="reduce-overhead")`)."""

import torch
from transformers.cache_utils import Cache


class SlipStaticCache(Cache):
    """Keys and values of every Gemma layer in preallocated `[B, kv_heads, max_length, head_dim]` buffers, plus the
    cross-attention keys/values of the sensor tokens for each decoder layer.

    The number of tokens written is a device tensor (`length`), so positions, RoPE angles and masks of a decoding
    step are computed on the device without host synchronisation or recompilation. Buffers are allocated on the
    first write (prefill), from the keys' batch size, dtype and device; `generate(..., cache_implementation="static")`
    builds one sized for the prompt plus the new tokens.
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
    def for_config(cls, config, max_length: int) -> "SlipStaticCache":
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
        shape = (batch, heads, self.max_length, head_dim)
        stored = self.keys[layer_idx]
        if stored is None or stored.shape != shape or stored.dtype != key_states.dtype or stored.device != key_states.device:
            self.keys[layer_idx] = self._mark_static(key_states.new_zeros(shape))
            self.values[layer_idx] = self._mark_static(value_states.new_zeros(shape[:3] + value_states.shape[-1:]))
            if self.length.device != key_states.device:
                self.length = self._mark_static(self.length.to(key_states.device))
        if self.keys[layer_idx].shape[2] < query_length:
            raise ValueError(f"{query_length} tokens do not fit a static cache of max_length={self.max_length}")
        positions = self.length + torch.arange(query_length, device=key_states.device)
        self.keys[layer_idx].index_copy_(2, positions, key_states.to(self.keys[layer_idx].dtype))
        self.values[layer_idx].index_copy_(2, positions, value_states.to(self.values[layer_idx].dtype))
        return self.keys[layer_idx], self.values[layer_idx]

    def advance(self, num_tokens: int) -> None:
        """Marks `num_tokens` more positions as written; called once per forward, after every layer has written."""
        self.length.add_(num_tokens)
        self.cross_attention_ready = True

    def get_seq_length(self, layer_idx: int = 0) -> int:
        """Tokens written so far (reads the device counter: outside the compiled decoding step only)."""
        return int(self.length)

    def get_max_length(self, layer_idx: int | None = None) -> int:
        return self.max_length

    def get_max_cache_shape(self, layer_idx: int = 0) -> int:
        return self.max_length

    def cross_attention_key_value(self, index: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The sensor tokens' keys/values of decoder layer `index`; None until the first forward stored them."""
        return self.cross_attention[index] if self.cross_attention_ready else None

    def store_cross_attention_key_value(self, index: int, key: torch.Tensor, value: torch.Tensor) -> None:
        stored = self.cross_attention[index]
        if stored is not None and stored[0].shape == key.shape and stored[0].dtype == key.dtype and stored[0].device == key.device:
            stored[0].copy_(key)  # same addresses across generate calls: a compiled step is reused, not re-recorded
            stored[1].copy_(value)
        else:
            self.cross_attention[index] = (self._mark_static(key.clone()), self._mark_static(value.clone()))

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        """Beam search: reorders the batch in place, keeping the buffers' addresses."""
        stored = [*self.keys, *self.values, *(t for pair in self.cross_attention if pair is not None for t in pair)]
        for tensor in stored:
            if tensor is not None:
                tensor.copy_(tensor.index_select(0, beam_idx.to(tensor.device)))

    def reset(self) -> None:
        """Empties the cache for a new sequence without freeing the buffers."""
        self.length.zero_()
        self.cross_attention_ready = False
