"""Attention plumbing shared by the sensor encoder, the pooler and the decoder cross-attention.

Every attention call goes through transformers' attention-interface dispatch, so `attn_implementation="eager"`
and `"sdpa"` select the kernel. Masks are built once per forward as boolean "may attend" tensors and converted
here to what the selected kernel wants.
"""

from collections.abc import Callable

import torch
from torch import nn
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS


def eager_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Plain softmax attention. query `[B, H, Lq, d]`, key/value `[B, H, Lk, d]`, additive mask broadcastable to
    `[B, H, Lq, Lk]`. Returns the output `[B, Lq, H, d]` and the probabilities `[B, H, Lq, Lk]`."""
    attn_weights = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        attn_weights = attn_weights + attention_mask
    attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query.dtype)
    attn_weights = nn.functional.dropout(attn_weights, p=dropout, training=module.training)
    attn_output = torch.matmul(attn_weights, value).transpose(1, 2).contiguous()
    return attn_output, attn_weights


def attention_function(implementation: str | None) -> Callable:
    """The kernel for `implementation` ("eager" or "sdpa"; SLIP declares no other, see `SlipPreTrainedModel`)."""
    if implementation in (None, "eager"):
        return eager_attention_forward
    return ALL_ATTENTION_FUNCTIONS[implementation]


def mask_for_implementation(allowed: torch.Tensor | None, implementation: str | None, dtype: torch.dtype):
    """Converts a boolean "may attend" mask (broadcastable to `[B, H, Lq, Lk]`) for the selected kernel: eager adds
    a large negative bias, SDPA takes the boolean mask as is. `None` means "attend everywhere"."""
    if allowed is None:
        return None
    if implementation in (None, "eager"):
        return torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill(
            ~allowed, torch.finfo(dtype).min
        )
    return allowed


class SlipMultiHeadAttention(nn.Module):
    """Multi-head attention with biased q/k/v and an unbiased output projection (the reference layout).

    Used for the sensor self-attention (with 2D RoPE) and for the cross-attention of the pooler and the decoder.
    `query_states` `[B, Lq, dim]`, `key_value_states` `[B, Lk, kv_dim]`; output `[B, Lq, dim]`.
    """

    def __init__(self, config, dim: int, kv_dim: int, num_heads: int, dropout: float):
        super().__init__()
        self.config = config  # read at call time, so `set_attn_implementation` takes effect
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scaling = self.head_dim**-0.5
        self.dropout = dropout
        self.is_causal = False
        self.num_key_value_groups = 1
        self.q_proj = nn.Linear(dim, dim, bias=True)
        self.k_proj = nn.Linear(kv_dim, dim, bias=True)
        self.v_proj = nn.Linear(kv_dim, dim, bias=True)
        self.o_proj = nn.Linear(dim, dim, bias=False)

    def _split_heads(self, states: torch.Tensor) -> torch.Tensor:
        return states.view(*states.shape[:2], self.num_heads, self.head_dim).transpose(1, 2)

    def project_key_value(self, key_value_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values `[B, H, Lk, d]`; computed once per sequence when the context does not change."""
        return self._split_heads(self.k_proj(key_value_states)), self._split_heads(self.v_proj(key_value_states))

    def forward(
        self,
        query_states: torch.Tensor,
        key_value: tuple[torch.Tensor, torch.Tensor],
        allowed: torch.Tensor | None = None,
        rotary: tuple[torch.Tensor, torch.Tensor] | None = None,
        rotate: Callable | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        query = self._split_heads(self.q_proj(query_states))
        key, value = key_value
        if rotary is not None:
            query, key = rotate(query, *rotary), rotate(key, *rotary)
        implementation = self.config._attn_implementation
        attn_output, attn_weights = attention_function(implementation)(
            self,
            query,
            key,
            value,
            mask_for_implementation(allowed, implementation, query.dtype),
            dropout=self.dropout if self.training else 0.0,
            scaling=self.scaling,
        )
        attn_output = attn_output.reshape(*query_states.shape[:2], -1)
        return self.o_proj(attn_output), attn_weights


class SlipSwiGLU(nn.Module):
    """down(SiLU(gate(x)) * up(x)), no biases. `[..., dim] -> [..., dim]`."""

    def __init__(self, dim: int, hidden_dim: int):
        super().__init__()
        self.gate_proj = nn.Linear(dim, hidden_dim, bias=False)
        self.up_proj = nn.Linear(dim, hidden_dim, bias=False)
        self.down_proj = nn.Linear(hidden_dim, dim, bias=False)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.down_proj(nn.functional.silu(self.gate_proj(hidden_states)) * self.up_proj(hidden_states))


class SlipCrossAttentionBlock(nn.Module):
    """Pre-LN cross-attention: LayerNorm on the queries and on the context, then multi-head attention.

    The pooler uses it without a residual; the decoder adds its output to the residual stream. `context_mask`
    `[B, Lk]` marks valid context tokens.
    """

    def __init__(self, config, dim: int, context_dim: int, num_heads: int, eps: float, dropout: float):
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.context_norm = nn.LayerNorm(context_dim, eps=eps)
        self.attention = SlipMultiHeadAttention(config, dim, context_dim, num_heads, dropout)

    def context_key_value(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.attention.project_key_value(self.context_norm(context))

    def forward(
        self,
        hidden_states: torch.Tensor,
        context: torch.Tensor | None = None,
        context_mask: torch.Tensor | None = None,
        context_key_value: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if context_key_value is None:
            context_key_value = self.context_key_value(context)
        allowed = None if context_mask is None else context_mask[:, None, None, :]
        return self.attention(self.norm(hidden_states), context_key_value, allowed)
