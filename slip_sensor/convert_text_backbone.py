"""Starts a SLIP model's text side from a Gemma-3 causal LM checkpoint (the Gemma counterpart of `convert_reference`).

Gemma layers below `split_layer` become the text encoder, the rest the decoder; the token embedding (also the caption
head) and the final norm are copied too. Everything else (sensor tower, pooler, cross-attention, projections) keeps
its fresh initialisation.
"""

import re

import torch
from transformers import AutoModelForCausalLM

from .modeling_slip.configuration_slip import SlipConfig
from .modeling_slip.modeling_slip import SlipForConditionalGeneration, SlipModel


def gemma_key(key: str, split_layer: int) -> str | None:
    """The `SlipForConditionalGeneration` name of a Gemma-3 causal LM weight (`Gemma3ForCausalLM`, or the language
    model of `Gemma3ForConditionalGeneration`); None for weights SLIP has no place for (`lm_head`, which SLIP reads
    through the token embedding, and the vision tower)."""
    if not key.startswith("model."):
        return None
    key = key.removeprefix("model.").removeprefix("language_model.")
    if key.startswith("embed_tokens."):
        return f"slip.text_encoder.{key}"
    if key.startswith("norm."):
        return f"text_decoder.{key}"
    if match := re.fullmatch(r"layers\.(\d+)\.(.+)", key):
        layer = int(match[1])
        if layer < split_layer:
            return f"slip.text_encoder.{key}"
        return f"text_decoder.layers.{layer - split_layer}.{match[2]}"
    return None


def convert_gemma_state_dict(state_dict: dict[str, torch.Tensor], split_layer: int) -> dict[str, torch.Tensor]:
    """Gemma weights under their `SlipForConditionalGeneration` names (weights without a place are dropped)."""
    converted = {gemma_key(key, split_layer): value for key, value in state_dict.items()}
    converted.pop(None, None)
    return converted


def from_text_backbone(
    model_class: type[SlipModel] | type[SlipForConditionalGeneration],
    text_backbone: str,
    config: SlipConfig | None = None,
    **backbone_kwargs,
) -> SlipModel | SlipForConditionalGeneration:
    """A new `model_class` whose text side is the Gemma-3 causal LM `text_backbone` (a local folder or a Hub id).

    `config` supplies the non-text fields (default: slip-base's); its `text_config` is replaced by the backbone's.
    `backbone_kwargs` go to `AutoModelForCausalLM.from_pretrained`. Raises if the backbone lacks a text weight.
    """
    backbone = AutoModelForCausalLM.from_pretrained(text_backbone, **backbone_kwargs)
    base = config or SlipConfig()
    values = base.to_dict()
    values.pop("sensor_config", None)
    values["text_config"] = backbone.config.get_text_config().to_dict()
    config = SlipConfig(sensor_config=base.sensor_config, **values)
    model = model_class(config)
    converted = convert_gemma_state_dict(backbone.state_dict(), config.split_layer)
    if model_class is SlipModel:
        converted = {key.removeprefix("slip."): value for key, value in converted.items() if key.startswith("slip.")}
    own = model.state_dict()
    expected = {
        key
        for key in own
        if key.startswith(("slip.text_encoder.", "text_encoder."))
        or (key.startswith("text_decoder.") and ".cross_attention_layers." not in key)
    }
    if missing := sorted(expected - set(converted)):
        raise ValueError(f"{text_backbone} does not provide {missing[:5]}{'...' if len(missing) > 5 else ''}")
    model.load_state_dict({key: value for key, value in converted.items() if key in expected}, strict=False)
    return model


__all__ = ["convert_gemma_state_dict", "from_text_backbone", "gemma_key"]
