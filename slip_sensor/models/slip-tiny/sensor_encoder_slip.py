"""Sensor tower building blocks: FlexMLP patch embedding, 2D RoPE, Pre-LN encoder layer, attention pooler."""

import torch
from torch import nn
from transformers.modeling_layers import GradientCheckpointingLayer

from .attention_slip import SlipCrossAttentionBlock, SlipMultiHeadAttention, SlipSwiGLU
from .configuration_slip import SlipConfig


def flexible_patch_resampler(patch_size: torch.Tensor, max_patch_size: int, base_patch_size: int) -> torch.Tensor:
    """Linear map from a padded patch input back to the base patch input, one per sample.

    The FlexMLP weights are stored for the base patch size b (input width 3b = [values; mask; time]). For a patch of
    size p they are resampled along the input axis to width 3p by linear interpolation with half-pixel centres
    (`F.interpolate(mode="linear", align_corners=False)`), treating the whole 3b-wide row as one signal and leaving
    biases untouched. Interpolation is linear in the weights, `W_p = W_b @ R_p`, so `x @ W_p.T = (x @ R_p.T) @ W_b.T`:
    mapping each input into the base space and applying the base layers gives the resized layers exactly, for any
    mix of patch sizes in one batched matmul.

    Args:
        patch_size: `[B]` int, each sample's patch size p_i.
        max_patch_size: width of the padded patch axis (>= every p_i).
        base_patch_size: b.

    Returns:
        `[B, 3, max_patch_size, 3 * base_patch_size]`: entry `[i, c, t]` is the base-space row of block c (values,
        mask, time) at offset t of sample i; zero for padded offsets t >= p_i.
    """
    base_width = 3 * base_patch_size
    device = patch_size.device
    size = patch_size.to(torch.float32)[:, None, None]
    block = torch.arange(3, device=device, dtype=torch.float32)[None, :, None]
    offset = torch.arange(max_patch_size, device=device, dtype=torch.float32)[None, None, :]
    column = block * size + offset  # index in the sample's own 3p-wide input
    source = ((column + 0.5) * (base_width / (3 * size)) - 0.5).clamp(min=0)
    lower = source.floor().clamp(max=base_width - 1)
    weight_upper = source - lower
    lower = lower.long()
    upper = (lower + 1).clamp(max=base_width - 1)
    base_index = torch.arange(base_width, device=device)
    resampler = (base_index == lower[..., None]) * (1 - weight_upper)[..., None] + (base_index == upper[..., None]) * (
        weight_upper[..., None]
    )
    return resampler * (offset < size)[..., None]


class SlipFlexPatchEmbedding(nn.Module):
    """FlexMLP: one MLP over [values; observed mask; time index] of a patch, shared by every patch size.

    token = output_proj(SiLU(hidden_proj(x))) + residual_proj(x), with x in the base-patch input space.
    """

    def __init__(self, config: SlipConfig):
        super().__init__()
        sensor = config.sensor_config
        base_width = 3 * sensor.base_patch_size
        self.base_patch_size = sensor.base_patch_size
        self.hidden_proj = nn.Linear(base_width, sensor.intermediate_size)
        self.residual_proj = nn.Linear(base_width, sensor.hidden_size)
        self.output_proj = nn.Linear(sensor.intermediate_size, sensor.hidden_size)
        self.dropout = nn.Dropout(sensor.hidden_dropout)

    def forward(
        self,
        sensor_values: torch.Tensor,
        sensor_mask: torch.Tensor,
        sensor_time: torch.Tensor,
        patch_size: torch.Tensor,
    ) -> torch.Tensor:
        """Inputs `[B, V, P, ps_max]` (mask bool) and `patch_size` `[B]`; returns tokens `[B, V, P, D]`."""
        dtype = self.hidden_proj.weight.dtype
        patches = torch.stack([sensor_values.to(dtype), sensor_mask.to(dtype), sensor_time.to(dtype)], dim=3)
        resampler = flexible_patch_resampler(patch_size, sensor_values.shape[-1], self.base_patch_size).to(dtype)
        base_inputs = torch.einsum("bvpcs,bcsk->bvpk", patches, resampler)
        hidden = self.output_proj(nn.functional.silu(self.hidden_proj(base_inputs)))
        return self.dropout(hidden) + self.residual_proj(base_inputs)


def rotate_half_per_axis(states: torch.Tensor) -> torch.Tensor:
    """rotate_half applied separately to the channel half and the patch half of the head dimension."""
    a, b, c, d = states.chunk(4, dim=-1)
    return torch.cat((-b, a, -d, c), dim=-1)


def apply_rotary_2d(states: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """states `[B, H, L, d]`, cos/sin `[B, 1, L, d]`."""
    return states * cos + rotate_half_per_axis(states) * sin


def rotary_positions(patch_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Channel and patch positions `[B, V * P]` of every token from the patch mask `[B, V, P]`.

    Positions count valid channels / valid patches only (invalid tokens get 0), so padding never shifts them.
    """
    valid = patch_mask.long()
    patch_position = (valid.cumsum(-1) - 1) * valid
    channel_valid = patch_mask.any(-1).long()
    channel_position = ((channel_valid.cumsum(-1) - 1) * channel_valid)[..., None] * valid
    return channel_position.flatten(1), patch_position.flatten(1)


class SlipRotary2D(nn.Module):
    """2D rotary embedding: the first half of each head is rotated by the channel position, the second half by the
    patch position (NeoX pairing within each half). Computed once per forward on the device, with no host
    synchronisation."""

    def __init__(self, head_dim: int, theta: float):
        super().__init__()
        self.axis_dim = head_dim // 2
        self.theta = theta

    def forward(self, patch_mask: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """patch_mask `[B, V, P]` bool → cos, sin `[B, 1, V*P, head_dim]` (token index v*P + p)."""
        inv_freq = self.theta ** (
            -torch.arange(0, self.axis_dim, 2, device=patch_mask.device, dtype=torch.float32) / self.axis_dim
        )
        angles = []
        for position in rotary_positions(patch_mask):
            freqs = position.to(torch.float32)[..., None] * inv_freq
            angles.append(torch.cat((freqs, freqs), dim=-1))
        angle = torch.cat(angles, dim=-1)[:, None]
        return angle.cos().to(dtype), angle.sin().to(dtype)


class SlipSensorEncoderLayer(GradientCheckpointingLayer):
    """Pre-LN block: h += Dropout(Attn(LN(h))) with 2D RoPE; h += SwiGLU(LN(h))."""

    def __init__(self, config: SlipConfig):
        super().__init__()
        sensor = config.sensor_config
        self.layer_norm1 = nn.LayerNorm(sensor.hidden_size, eps=sensor.layer_norm_eps)
        self.self_attn = SlipMultiHeadAttention(
            config, sensor.hidden_size, sensor.hidden_size, sensor.num_attention_heads, sensor.attention_dropout
        )
        self.dropout = nn.Dropout(sensor.hidden_dropout)
        self.layer_norm2 = nn.LayerNorm(sensor.hidden_size, eps=sensor.layer_norm_eps)
        self.mlp = SlipSwiGLU(sensor.hidden_size, sensor.intermediate_size)

    def forward(
        self,
        hidden_states: torch.Tensor,
        allowed: torch.Tensor | None,
        rotary: tuple[torch.Tensor, torch.Tensor],
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """hidden_states `[B, L, D]`, allowed `[B, 1, 1|L, L]` bool or None."""
        normed = self.layer_norm1(hidden_states)
        key_value = self.self_attn.project_key_value(normed)
        attn_output, attn_weights = self.self_attn(normed, key_value, allowed, rotary, apply_rotary_2d)
        hidden_states = hidden_states + self.dropout(attn_output)
        hidden_states = hidden_states + self.mlp(self.layer_norm2(hidden_states))
        return hidden_states, attn_weights


class SlipAttentionPooler(nn.Module):
    """Learned queries (1 contrastive CLS query + N caption queries) cross-attend to the valid sensor tokens.

    x = CrossAttn(queries, tokens) (no residual), x += SwiGLU(LN(x)), x = LN(x). Output `[B, 1 + N, C]` with C the
    text hidden size; token 0 is the CLS token.
    """

    def __init__(self, config: SlipConfig):
        super().__init__()
        dim = config.text_config.hidden_size
        sensor = config.sensor_config
        self.queries = nn.Parameter(torch.empty(1 + config.num_query_tokens, dim))
        self.cross_attention = SlipCrossAttentionBlock(
            config, dim, sensor.hidden_size, config.pooler_num_heads, sensor.layer_norm_eps, sensor.attention_dropout
        )
        self.mlp_norm = nn.LayerNorm(dim, eps=sensor.layer_norm_eps)
        self.mlp = SlipSwiGLU(dim, int(config.pooler_mlp_ratio * dim))
        self.post_norm = nn.LayerNorm(dim, eps=sensor.layer_norm_eps)

    def forward(self, sensor_tokens: torch.Tensor, token_mask: torch.Tensor) -> torch.Tensor:
        """sensor_tokens `[B, L, D]`, token_mask `[B, L]` bool → pooled tokens `[B, 1 + N, C]`."""
        queries = self.queries.to(sensor_tokens.dtype).expand(sensor_tokens.shape[0], -1, -1)
        pooled, _ = self.cross_attention(queries, sensor_tokens, token_mask)
        pooled = pooled + self.mlp(self.mlp_norm(pooled))
        return self.post_norm(pooled)
