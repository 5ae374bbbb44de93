"""The differences between transformers 4.57 and 5.x that SLIP's model files meet, in one place.

Every other model file is written against one API; where the two versions disagree, it calls a name from here.
"""

import inspect

import torch
from torch import nn
from transformers.modeling_outputs import CausalLMOutputWithPast
from transformers.models.gemma3.modeling_gemma3 import Gemma3DecoderLayer

try:  # transformers 5: init functions that leave weights loaded from a checkpoint untouched
    from transformers import initialization as init
except ImportError:  # transformers 4.57
    from torch.nn import init

# transformers 5 renamed the decoding cache (output field and `generate`/`forward` argument) from `past_key_values`
# to `cache`, and rejects the old name next to the new one.
CACHE_FIELD = "cache" if "cache" in CausalLMOutputWithPast.__dataclass_fields__ else "past_key_values"

_GEMMA_LAYER_PARAMETERS = inspect.signature(Gemma3DecoderLayer.forward).parameters
# transformers 4.57 takes global and local rotary tables and returns a tuple; 5.x takes one table, returns a tensor.
_GEMMA_TAKES_GLOBAL_LOCAL_ROPE = "position_embeddings_global" in _GEMMA_LAYER_PARAMETERS
_GEMMA_CACHE_ARGUMENT = "cache" if "cache" in _GEMMA_LAYER_PARAMETERS else "past_key_values"


def call_gemma_layer(
    layer: Gemma3DecoderLayer,
    hidden_states: torch.Tensor,
    attention_mask: torch.Tensor | None,
    rotary: tuple[torch.Tensor, torch.Tensor],
    cache,
) -> torch.Tensor:
    """Runs one Gemma layer on `[B, T, H]` states with its mask and `(cos, sin)` table; returns `[B, T, H]`."""
    if _GEMMA_TAKES_GLOBAL_LOCAL_ROPE:
        rope_kwargs = {"position_embeddings_global": rotary, "position_embeddings_local": rotary}
    else:
        rope_kwargs = {"position_embeddings": rotary}
    output = layer(hidden_states, attention_mask=attention_mask, **rope_kwargs, **{_GEMMA_CACHE_ARGUMENT: cache})
    return output[0] if isinstance(output, tuple) else output


def rope_theta(text_config, layer_type: str) -> float:
    """RoPE base of a Gemma-3 layer type, from the 5.x `rope_parameters` or the 4.57 fields."""
    parameters = getattr(text_config, "rope_parameters", None)
    if isinstance(parameters, dict) and layer_type in parameters:
        return float(parameters[layer_type]["rope_theta"])
    if layer_type == "sliding_attention":
        return float(text_config.rope_local_base_freq)
    return float(text_config.rope_theta)


def init_embed_scale(embedding: nn.Module) -> None:
    """transformers 5 rebuilds the Gemma embedding's non-persistent `embed_scale` buffer at weight init (it may be
    left uninitialised after loading); 4.57 sets it once in `__init__`."""
    if hasattr(embedding, "scalar_embed_scale"):
        init.constant_(embedding.embed_scale, embedding.scalar_embed_scale)


def new_token_count(next_sequence_length: int | None, cache_position: torch.Tensor | None) -> int | None:
    """How many trailing `input_ids` a decoding step feeds, as `generate` tells it (without a host sync): 5.x passes
    `next_sequence_length`, 4.57 `cache_position`. None when neither is given."""
    if next_sequence_length is not None:
        return next_sequence_length
    return None if cache_position is None else cache_position.shape[0]


class CacheMaxLengthMixin:
    """A fixed-size cache's length under the name each version asks for: `get_max_length` (5.x) and
    `get_max_cache_shape` (4.57). The class defines `max_length`."""

    max_length: int

    def get_max_length(self, layer_idx: int | None = None) -> int:
        return self.max_length

    def get_max_cache_shape(self, layer_idx: int = 0) -> int:
        return self.max_length


__all__ = [
    "CACHE_FIELD",
    "CacheMaxLengthMixin",
    "call_gemma_layer",
    "init",
    "init_embed_scale",
    "new_token_count",
    "rope_theta",
]
