"""SLIP configuration: a sensor sub-config, a Gemma-3 `text_config`, and the fields that join them."""

import copy
import math

from transformers import AutoConfig, PretrainedConfig
from transformers.models.gemma3.configuration_gemma3 import Gemma3TextConfig

CHANNEL_ATTENTION_TYPES = ("all", "univariate")
TEXT_POOLING_TYPES = ("last_token", "penultimate_token", "mean")


def gemma3_270m_text_config(**overrides) -> Gemma3TextConfig:
    """The published google/gemma-3-270m text config, written out so that nothing is downloaded.

    RoPE thetas are given with the legacy keys, which both transformers 4.57 and 5.x understand.
    """
    values = dict(
        vocab_size=262_144,
        hidden_size=640,
        intermediate_size=2048,
        num_hidden_layers=18,
        num_attention_heads=4,
        num_key_value_heads=1,
        head_dim=256,
        query_pre_attn_scalar=256,
        sliding_window=512,
        layer_types=(["sliding_attention"] * 5 + ["full_attention"]) * 3,
        max_position_embeddings=32_768,
        rms_norm_eps=1e-6,
        hidden_activation="gelu_pytorch_tanh",
        rope_theta=1_000_000.0,
        rope_local_base_freq=10_000.0,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=2,
        tie_word_embeddings=True,
        attention_bias=False,
        attention_dropout=0.0,
        final_logit_softcapping=None,
        attn_logit_softcapping=None,
        initializer_range=0.02,
    )
    values.update(overrides)
    return Gemma3TextConfig(**values)


class SlipSensorConfig(PretrainedConfig):
    r"""Configuration of the SLIP sensor encoder (FlexMLP patch embedding + 2D-RoPE transformer).

    Args:
        hidden_size (`int`): width D of the patch tokens.
        num_hidden_layers (`int`): number of Pre-LN transformer blocks.
        num_attention_heads (`int`): attention heads; `hidden_size / num_attention_heads` must be divisible by 4
            (each head is split into a channel half and a patch half, each rotated in pairs).
        mlp_ratio (`float`): SwiGLU hidden width and FlexMLP hidden width as a multiple of `hidden_size`.
        base_patch_size (`int`): patch size at which the FlexMLP weights are stored; other sizes resample them.
        rope_theta (`float`): RoPE base shared by the channel axis and the patch axis.
        channel_attention (`str`): `"all"` (every token attends to every token of its sample, the paper's
            default) or `"univariate"` (tokens attend within their own channel only).
        layer_norm_eps (`float`): LayerNorm epsilon.
        hidden_dropout (`float`): dropout on the patch embedding and on the attention residual branch.
        attention_dropout (`float`): dropout on attention probabilities (training only).
    """

    model_type = "slip_sensor"
    base_config_key = "sensor_config"

    def __init__(
        self,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        mlp_ratio: float = 4.0,
        base_patch_size: int = 32,
        rope_theta: float = 10_000.0,
        channel_attention: str = "all",
        layer_norm_eps: float = 1e-5,
        hidden_dropout: float = 0.1,
        attention_dropout: float = 0.0,
        **kwargs,
    ):
        if channel_attention not in CHANNEL_ATTENTION_TYPES:
            raise ValueError(f"channel_attention must be one of {CHANNEL_ATTENTION_TYPES}, got {channel_attention!r}")
        if hidden_size % num_attention_heads or (hidden_size // num_attention_heads) % 4:
            raise ValueError(
                f"hidden_size ({hidden_size}) / num_attention_heads ({num_attention_heads}) must be an integer "
                "divisible by 4 for the 2D RoPE"
            )
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.mlp_ratio = mlp_ratio
        self.base_patch_size = base_patch_size
        self.rope_theta = rope_theta
        self.channel_attention = channel_attention
        self.layer_norm_eps = layer_norm_eps
        self.hidden_dropout = hidden_dropout
        self.attention_dropout = attention_dropout
        super().__init__(**kwargs)

    @property
    def intermediate_size(self) -> int:
        return int(self.mlp_ratio * self.hidden_size)


class SlipConfig(PretrainedConfig):
    r"""Configuration of a SLIP model: sensor encoder, attention pooler, and a Gemma-3 text stack split into a text
    encoder (layers below `split_layer`) and a multimodal decoder (the rest, each followed by cross-attention).

    Args:
        sensor_config (`dict` or [`SlipSensorConfig`]): the sensor encoder.
        text_config (`dict` or `Gemma3TextConfig`): the Gemma-3 text stack (default: the Gemma-3-270M shape).
        num_query_tokens (`int`): caption queries of the pooler; one contrastive (CLS) query is added in front.
        pooler_num_heads (`int`): heads of the pooler's cross-attention (its width is the text hidden size).
        pooler_mlp_ratio (`float`): pooler SwiGLU width as a multiple of the text hidden size.
        projection_dim (`int`, *optional*): width of the contrastive embeddings (default: text hidden size).
        split_layer (`int`): number of Gemma layers that form the text encoder.
        cross_attention_layer_norm_eps (`float`): LayerNorm epsilon of the decoder's cross-attention blocks (on the
            text states and on the sensor tokens).
        contrastive_loss_weight (`float`), caption_loss_weight (`float`): weights of the two losses.
        logit_scale_init_value (`float`): initial log logit scale (log(1/0.07) as in CLIP).
        logit_scale_max (`float`): the log logit scale is clamped to at most this value. Checkpoints converted from
            the reference use `log(1/0.07)`, which is what the reference does.
        text_pooling (`str`): which text-encoder states make the text embedding: `"last_token"` (the last
            non-pad token), `"penultimate_token"` (the one before it, as the reference computes it) or `"mean"` (the
            mean over the non-pad tokens, as the paper describes it).

    The caption logits are always read through the token embedding (tied input and output embeddings), so the
    config has no `tie_word_embeddings` switch; `tie_word_embeddings=False` is rejected.
    """

    model_type = "slip"
    sub_configs = {"sensor_config": SlipSensorConfig, "text_config": AutoConfig}

    def __init__(
        self,
        sensor_config: dict | SlipSensorConfig | None = None,
        text_config: dict | PretrainedConfig | None = None,
        num_query_tokens: int = 64,
        pooler_num_heads: int = 5,
        pooler_mlp_ratio: float = 4.0,
        projection_dim: int | None = None,
        split_layer: int = 12,
        cross_attention_layer_norm_eps: float = 1e-5,
        contrastive_loss_weight: float = 1.0,
        caption_loss_weight: float = 1.0,
        logit_scale_init_value: float = math.log(1 / 0.07),
        logit_scale_max: float = math.log(100.0),
        text_pooling: str = "last_token",
        **kwargs,
    ):
        if sensor_config is None:
            sensor_config = SlipSensorConfig()
        elif isinstance(sensor_config, dict):
            sensor_config = SlipSensorConfig(**sensor_config)
        if text_config is None:
            text_config = gemma3_270m_text_config()
        elif isinstance(text_config, dict):
            text_config = dict(text_config)
            model_type = text_config.pop("model_type", "gemma3_text")
            text_config = AutoConfig.for_model(model_type, **text_config)
        if kwargs.get("tie_word_embeddings") is False:
            raise ValueError("SLIP reads its caption logits through the token embedding: tie_word_embeddings is True")
        if text_pooling not in TEXT_POOLING_TYPES:
            raise ValueError(f"text_pooling must be one of {TEXT_POOLING_TYPES}, got {text_pooling!r}")
        if not 0 < split_layer < text_config.num_hidden_layers:
            raise ValueError(
                f"split_layer ({split_layer}) must leave at least one text-encoder and one decoder layer of the "
                f"{text_config.num_hidden_layers} text layers"
            )
        if text_config.hidden_size % pooler_num_heads:
            raise ValueError(
                f"pooler_num_heads ({pooler_num_heads}) must divide the text hidden size ({text_config.hidden_size})"
            )
        self.sensor_config = sensor_config
        self.text_config = text_config
        self.num_query_tokens = num_query_tokens
        self.pooler_num_heads = pooler_num_heads
        self.pooler_mlp_ratio = pooler_mlp_ratio
        self.projection_dim = projection_dim if projection_dim is not None else text_config.hidden_size
        self.split_layer = split_layer
        self.cross_attention_layer_norm_eps = cross_attention_layer_norm_eps
        self.contrastive_loss_weight = contrastive_loss_weight
        self.caption_loss_weight = caption_loss_weight
        self.logit_scale_init_value = logit_scale_init_value
        self.logit_scale_max = logit_scale_max
        self.text_pooling = text_pooling
        for token in ("pad_token_id", "bos_token_id", "eos_token_id"):
            kwargs.setdefault(token, getattr(text_config, token, None))
        super().__init__(**kwargs)

    @property
    def num_decoder_layers(self) -> int:
        return self.text_config.num_hidden_layers - self.split_layer

    @classmethod
    def from_preset(cls, name: str, **overrides) -> "SlipConfig":
        """Builds one of the named configurations in `SLIP_PRESETS` (`slip-base`, `slip-small`, `slip-tiny`).

        Keyword arguments override top-level fields; `sensor_config` / `text_config` dicts are merged into the
        preset's.
        """
        if name not in SLIP_PRESETS:
            raise ValueError(f"Unknown preset {name!r}; available: {', '.join(SLIP_PRESETS)}")
        preset = copy.deepcopy(SLIP_PRESETS[name])
        sensor_config = {**preset.pop("sensor_config", {}), **overrides.pop("sensor_config", {})}
        text_config = gemma3_270m_text_config(**{**preset.pop("text_config", {}), **overrides.pop("text_config", {})})
        preset.update(overrides)
        return cls(sensor_config=sensor_config, text_config=text_config, **preset)


# Presets are data: sizes only, over the defaults above. `slip-base` follows the paper (768x12x12 encoder,
# Gemma-3-270M split after 12 layers, 1+64 queries); `slip-small` only narrows the sensor encoder.
SLIP_PRESETS: dict[str, dict] = {
    "slip-base": dict(sensor_config=dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12)),
    "slip-small": dict(sensor_config=dict(hidden_size=512, num_hidden_layers=10, num_attention_heads=8)),
    "slip-tiny": dict(
        sensor_config=dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4),
        text_config=dict(
            vocab_size=2048,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=4,
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=32,
            query_pre_attn_scalar=32,
            sliding_window=64,
            layer_types=["sliding_attention", "full_attention"] * 2,
            max_position_embeddings=1024,
        ),
        num_query_tokens=8,
        pooler_num_heads=4,
        split_layer=2,
    ),
}
