"""SLIP sensor classification: the sensor tower with a linear head, fine-tuned on labelled recordings."""

from dataclasses import dataclass

import torch
from torch import nn
from transformers.loss.loss_utils import ForSequenceClassificationLoss
from transformers.utils import ModelOutput

# transformers 4.57 copies only the direct relative imports of the file an `auto_map` entry names into its module
# cache, so every module the sensor tower needs is imported here, not only `modeling_slip`.
from .attention_slip import SlipMultiHeadAttention  # noqa: F401
from .cache_slip import SlipStaticCache  # noqa: F401
from .compat_slip import CACHE_FIELD  # noqa: F401
from .configuration_slip import SlipConfig
from .generation_slip import SlipGenerationMixin  # noqa: F401
from .loss_slip import contrastive_loss  # noqa: F401
from .modeling_slip import SlipPreTrainedModel, SlipSensorModel, masked_token_mean
from .sensor_encoder_slip import SlipAttentionPooler  # noqa: F401
from .text_slip import SlipTextEncoder  # noqa: F401


@dataclass
class SlipSensorClassifierOutput(ModelOutput):
    """
    Args:
        loss (`torch.FloatTensor` of shape `[]`, *optional*): classification loss (cross-entropy for
            single-label, BCE for multi-label, MSE for regression, per `config.problem_type`), when `labels` are given.
        logits (`torch.FloatTensor` of shape `[B, num_labels]`): scores before softmax; NaN rows for samples with no
            observed value (all-NaN recordings), so they cannot pass for real predictions.
        hidden_states (`tuple(torch.FloatTensor)`, *optional*): the sensor encoder's input of every layer plus its
            final output, each `[B, V * P, D]`.
        attentions (`tuple(torch.FloatTensor)`, *optional*): attention probabilities of every layer (eager only).
    """

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class SlipForSensorClassification(SlipPreTrainedModel):
    """The sensor tower with a linear head on the masked mean of its observed patch tokens.

    The mean of the encoder's patch tokens is the feature the linear probe reads (the paper's protocol), and the
    better frozen feature of slip-tiny on BasicMotions (probe test accuracy 0.775, against 0.725 for the pooler's
    contrastive CLS embedding), which is trained for the text space rather than for the recording's content.

    `from_pretrained` takes the sensor tower from any SLIP checkpoint: a two-tower `SlipModel` (`sensor_model.*`), a
    captioning `SlipForConditionalGeneration` (`slip.sensor_model.*`, the `slip.` base-model prefix is dropped as
    for `SlipModel`) or a fine-tuned classifier. The text towers of a pretrained checkpoint are skipped silently, so
    that the only "newly initialized" weights reported are the head's:

    ```python
    >>> model = SlipForSensorClassification.from_pretrained(slip_folder, num_labels=4, id2label={0: "walking", ...})
    ```
    """

    # Everything of a pretrained checkpoint that is not the sensor tower.
    _keys_to_ignore_on_load_unexpected = [
        r"text_encoder\.",
        r"text_decoder\.",
        r"sensor_projection\.",
        r"text_projection\.",
        r"logit_scale",
    ]

    def __init__(self, config: SlipConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.sensor_model = SlipSensorModel(config)
        hidden_size = config.sensor_config.hidden_size
        self.classifier = nn.Linear(hidden_size, config.num_labels) if config.num_labels > 0 else nn.Identity()
        self.post_init()

    def forward(
        self,
        sensor_values: torch.Tensor,
        sensor_mask: torch.Tensor,
        sensor_time: torch.Tensor,
        patch_size: torch.Tensor,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
    ) -> SlipSensorClassifierOutput | tuple:
        r"""
        Args:
            sensor_values, sensor_mask, sensor_time (`torch.Tensor` of shape `[B, V, P, ps_max]`), patch_size
                (`torch.LongTensor` of shape `[B]`): the processor's outputs, as for [`SlipSensorModel`].
            labels (`torch.LongTensor` of shape `[B]`, or `torch.FloatTensor` of shape `[B, num_labels]`, *optional*):
                class indices in `[0, num_labels)` (single-label), multi-hot targets (multi-label) or targets
                (regression, `num_labels == 1`). With labels, a sample without any observed value raises a
                `ValueError` instead of making the loss NaN.
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        outputs = self.sensor_model(
            sensor_values,
            sensor_mask,
            sensor_time,
            patch_size,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
            return_dict=True,
            require_observed=labels is not None,
        )
        logits = self.classifier(masked_token_mean(outputs.last_hidden_state, outputs.patch_mask))
        logits = logits.masked_fill(~outputs.sample_mask[:, None], float("nan"))

        loss = None
        if labels is not None:
            loss = ForSequenceClassificationLoss(labels, logits, self.config)

        output = SlipSensorClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return output if return_dict else output.to_tuple()


__all__ = ["SlipForSensorClassification", "SlipSensorClassifierOutput"]
