"""SLIP's local losses: CLIP contrastive loss over the given logits, and a memory-lean caption cross-entropy.

Both are local to the process: reductions over processes and accumulation steps belong to training
(`slip_sensor.training.losses`)."""

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


def contrastive_loss(logits_per_text: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE on `[N, N]` logits whose diagonal holds the matching pairs."""
    targets = torch.arange(logits_per_text.shape[0], device=logits_per_text.device)
    return 0.5 * (
        nn.functional.cross_entropy(logits_per_text, targets) + nn.functional.cross_entropy(logits_per_text.T, targets)
    )


def _chunk_cross_entropy_sum(hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    logits = nn.functional.linear(hidden, weight).float()
    return nn.functional.cross_entropy(logits, labels, ignore_index=-100, reduction="sum")


def caption_cross_entropy(
    hidden_states: torch.Tensor, lm_weight: torch.Tensor, labels: torch.Tensor, logits_per_chunk: int = 2**25
) -> torch.Tensor:
    """Next-token cross-entropy averaged over the labelled tokens, computed from the final hidden states.

    Logits are formed a chunk of positions at a time (in fp32 for the softmax; `logits_per_chunk` values, 128 MiB,
    i.e. 128 positions of Gemma's 262k vocabulary) and recomputed in the backward pass instead of stored, so the
    full `[B, T, vocab]` fp32 tensor never exists. Equals `cross_entropy(hidden @ lm_weight.T, labels)` on the
    shifted sequence. Under autocast the output embedding is cast once, not once per chunk.

    Args:
        hidden_states: `[B, T, H]` final (normed) decoder states.
        lm_weight: `[vocab, H]` output embedding.
        labels: `[B, T]` token ids aligned with the inputs, -100 where no loss is wanted; position t predicts
            `labels[:, t + 1]`.
    """
    hidden = hidden_states[:, :-1].reshape(-1, hidden_states.shape[-1])
    targets = labels[:, 1:].reshape(-1).to(hidden.device)
    total = hidden.new_zeros((), dtype=torch.float32)
    device_type = hidden.device.type
    if torch.is_autocast_enabled(device_type):
        # autocast re-casts a frozen weight at every use, and the backward recomputation a trainable one: cast once
        lm_weight = lm_weight.to(torch.get_autocast_dtype(device_type))
    chunk_size = max(1, logits_per_chunk // lm_weight.shape[0])
    for start in range(0, hidden.shape[0], chunk_size):
        chunk = (hidden[start : start + chunk_size], lm_weight, targets[start : start + chunk_size])
        if torch.is_grad_enabled() and (hidden.requires_grad or lm_weight.requires_grad):
            total = total + checkpoint(_chunk_cross_entropy_sum, *chunk, use_reentrant=False)
        else:
            total = total + _chunk_cross_entropy_sum(*chunk)
    return total / (targets != -100).sum().clamp(min=1)
