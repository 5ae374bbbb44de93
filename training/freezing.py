"""Which text-encoder parameters train: the paper fine-tunes only the last text-encoder layers of Gemma.

A training policy, applied to a constructed model: SLIP models themselves are built fully trainable.
"""

from slip_sensor.modeling_slip.modeling_slip import SlipForConditionalGeneration, SlipModel


def freeze_text_encoder_layers(model: SlipModel | SlipForConditionalGeneration, num_trainable: int | None) -> list[str]:
    """Freezes the token embedding (and with it the tied caption head) and all but the last `num_trainable`
    text-encoder layers; `None` leaves every parameter as it is. The decoder, the sensor tower and the projections
    are not touched.

    Args:
        model ([`SlipModel`] or [`SlipForConditionalGeneration`]): the model to freeze in place.
        num_trainable (`int`, *optional*): text-encoder layers that keep training, counted from the top.

    Returns:
        `list[str]`: the names of the parameters frozen (empty when `num_trainable` is None).
    """
    if num_trainable is None:
        return []
    if num_trainable < 0:
        raise ValueError(f"num_trainable must be None or >= 0, got {num_trainable}")
    slip = model.slip if isinstance(model, SlipForConditionalGeneration) else model
    encoder = slip.text_encoder
    frozen_layers = encoder.layers[: max(len(encoder.layers) - num_trainable, 0)]
    frozen_ids = {id(p) for module in (encoder.embed_tokens, *frozen_layers) for p in module.parameters()}
    frozen = []
    for name, parameter in model.named_parameters():
        if id(parameter) in frozen_ids:
            parameter.requires_grad_(False)
            frozen.append(name)
    return frozen


__all__ = ["freeze_text_encoder_layers"]
