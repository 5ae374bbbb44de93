"""SLIP's training loss over the global batch: the reductions across processes and accumulation steps.

The model computes local quantities only (embeddings, the logit scale, the caption loss of its own tokens), as
transformers' CLIP does; this module turns them into the global-batch loss, in the manner of open_clip's `ClipLoss`:

- contrastive: every process gathers all processes' embeddings (with gradient to its own) and computes the loss over
  the whole `[N, N]` logits. DDP's gradient averaging then yields exactly the gradient of that global loss.
- captioning: the summed token cross-entropy of the process divided by the labelled-token count of the whole
  optimiser step (all processes, all accumulation steps: the Trainer's `num_items_in_batch`), times the world size
  that DDP's averaging divides out again. So 2 processes × batch B/2, or 2 accumulation steps × B/2, give the loss and
  gradients of one batch B.

Negatives of the contrastive term come from one micro-batch of every process: gradient accumulation adds steps, not
negatives, so its term is the mean over the accumulation steps of each micro-batch's global-batch loss.
"""

from dataclasses import dataclass

import torch

from slip_sensor.modeling_slip.loss_slip import contrastive_loss


def gather_with_grad(features: torch.Tensor, world_size: int) -> torch.Tensor:
    """`[b, d]` features of every process → `[world_size * b, d]`, keeping the gradient path to each process's own
    slice. Processes must hold equal batch sizes (the distributed sampler pads to that)."""
    if world_size == 1:
        return features
    import torch.distributed.nn.functional as dist_nn

    return torch.cat(dist_nn.all_gather(features), dim=0)


def labelled_tokens(labels: torch.Tensor) -> torch.Tensor:
    """Number of predicted tokens: position t predicts `labels[:, t + 1]`, so the first column never counts."""
    return (labels[:, 1:] != -100).sum()


@dataclass
class SlipLossOutput:
    """`loss` is what to back-propagate for this micro-batch; the terms are the unweighted global-batch losses
    (`caption_loss` is this process's share: its mean over processes is the global token mean)."""

    loss: torch.Tensor
    contrastive_loss: torch.Tensor | None = None
    caption_loss: torch.Tensor | None = None
    logits_per_text: torch.Tensor | None = None


class SlipLoss:
    """Contrastive + captioning loss of one micro-batch, reduced over `world_size` processes and
    `accumulation_steps` micro-batches per optimiser step.

    Args:
        contrastive_weight, caption_weight: weights of the two terms (the model config's by default in the trainer).
        world_size: number of data-parallel processes (1: no collective is ever called).
    """

    def __init__(self, contrastive_weight: float = 1.0, caption_weight: float = 1.0, world_size: int = 1):
        self.contrastive_weight = contrastive_weight
        self.caption_weight = caption_weight
        self.world_size = world_size

    def contrastive(self, sensor_embeds: torch.Tensor, text_embeds: torch.Tensor, logit_scale: torch.Tensor):
        """`[b, E]` local embeddings and the (exponentiated) scale → global `[N, N]` text-to-sensor logits and loss."""
        logits_per_text = logit_scale * gather_with_grad(text_embeds, self.world_size) @ gather_with_grad(
            sensor_embeds, self.world_size
        ).T
        return logits_per_text, contrastive_loss(logits_per_text)

    def caption(self, local_mean: torch.Tensor, labels: torch.Tensor, num_items_in_batch=None) -> torch.Tensor:
        """The model's local token mean → this process's share of the optimiser step's global token mean.

        `num_items_in_batch` counts the labelled tokens of every process and accumulation step (the Trainer's count
        with `average_tokens_across_devices`); without it the local mean is returned."""
        if num_items_in_batch is None:
            return local_mean
        return local_mean * labelled_tokens(labels) * self.world_size / num_items_in_batch

    def __call__(
        self,
        outputs,
        labels: torch.Tensor | None = None,
        num_items_in_batch: torch.Tensor | int | None = None,
        accumulation_steps: int = 1,
        with_contrastive: bool = True,
    ) -> SlipLossOutput:
        """`outputs` of `SlipForConditionalGeneration.forward` (called with `return_loss=False`, so the model adds no
        contrastive term of its own) → the micro-batch loss scaled for accumulation.

        Without `num_items_in_batch` the caption term is divided by `accumulation_steps` like the contrastive one."""
        result = SlipLossOutput(loss=None)
        terms = []
        if with_contrastive and outputs.sensor_embeds is not None:
            result.logits_per_text, result.contrastive_loss = self.contrastive(
                outputs.sensor_embeds, outputs.text_embeds, outputs.logit_scale
            )
            terms.append(self.contrastive_weight * result.contrastive_loss / accumulation_steps)
        if labels is not None and outputs.caption_loss is not None:
            result.caption_loss = self.caption(outputs.caption_loss, labels, num_items_in_batch)
            scale = 1 if num_items_in_batch is not None else accumulation_steps
            terms.append(self.caption_weight * result.caption_loss / scale)
        if not terms:
            raise ValueError("Nothing to train on: the batch has neither sensor-text pairs nor caption labels")
        result.loss = sum(terms)
        return result
