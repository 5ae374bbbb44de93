"""Converts a checkpoint of the authors' reference SLIP implementation into a `save_pretrained` folder.

Weights are read with safetensors, or with `torch.load(weights_only=True)` for `.pth` files (never unpickling
arbitrary objects). Every reference key is mapped; anything missing or left over is an error. The converted model
keeps the reference semantics that its weights depend on: the text embedding is read at the token before the last
(`text_pooling="penultimate_token"`) and the log logit scale is capped at log(1/0.07). The reference trained on
captions without EOS, so a processor for a converted model is built with `SlipProcessor(..., caption_eos=False)`.

The sizes come from `--preset`, from `--config` (a SlipConfig JSON), or from the authors' `config.json` next to the
weights (default: slip-base); the reference switches above are applied to each. With a tokenizer (`--tokenizer`, or
tokenizer files next to the weights) the output is a complete Hub folder, as `slip export` writes one: it loads with
`AutoModel.from_pretrained(out, trust_remote_code=True)` and the pipelines. Without one it holds the weights and
config only (`SlipForConditionalGeneration.from_pretrained(out)`); the authors' model uses Gemma-3-270M's tokenizer,
so `--tokenizer google/gemma-3-270m` (or a folder holding it) completes it.
"""

import json
import math
import re
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import AutoTokenizer

from .errors import UserError
from .hub_export import card_defaults, export_hub_folder
from .loading import load_pretrained
from .modeling_slip.configuration_slip import SLIP_PRESETS, SlipConfig, gemma3_270m_text_config
from .modeling_slip.modeling_slip import SlipForConditionalGeneration
from .processors import SlipFeatureExtractor, SlipProcessor

HELP = "Convert a reference SLIP checkpoint (.safetensors or .pth) into a Hugging Face folder."

REFERENCE_LOGIT_SCALE_MAX = math.log(1 / 0.07)

# (reference pattern, our name); `{i}` / `{j}` are filled in by `_map_key`.
_SENSOR_RULES = [
    (r"img_queries", "sensor_model.pooler.queries"),
    (r"sensor_encoder\.patch_embed\.shared_linear\.(weight|bias)", r"sensor_model.embeddings.hidden_proj.\1"),
    (r"sensor_encoder\.patch_embed\.shared_residual\.(weight|bias)", r"sensor_model.embeddings.residual_proj.\1"),
    (r"sensor_encoder\.patch_embed\.output_layer\.(weight|bias)", r"sensor_model.embeddings.output_proj.\1"),
    (
        r"sensor_encoder\.blocks\.(\d+)\.ts_attn\.self_attention\.([qkvo]_proj)\.(weight|bias)",
        r"sensor_model.layers.\1.self_attn.\2.\3",
    ),
    (r"sensor_encoder\.blocks\.(\d+)\.ts_attn\.layer_norm\.(weight|bias)", r"sensor_model.layers.\1.layer_norm1.\2"),
    (r"sensor_encoder\.blocks\.(\d+)\.norm\.(weight|bias)", r"sensor_model.layers.\1.layer_norm2.\2"),
    (r"sensor_encoder\.blocks\.(\d+)\.ffn_layer\.(\w+_proj)\.weight", r"sensor_model.layers.\1.mlp.\2.weight"),
    (r"sensor_encoder\.norm\.(weight|bias)", r"sensor_model.norm.\1"),
    (
        r"img_attn_pool\.cross_attn\.(norm|context_norm)\.(weight|bias)",
        r"sensor_model.pooler.cross_attention.\1.\2",
    ),
    (
        r"img_attn_pool\.cross_attn\.([qkvo]_proj)\.(weight|bias)",
        r"sensor_model.pooler.cross_attention.attention.\1.\2",
    ),
    (r"img_attn_pool\.ffn_norm\.(weight|bias)", r"sensor_model.pooler.mlp_norm.\1"),
    (r"img_attn_pool\.ffn_layer\.(\w+_proj)\.weight", r"sensor_model.pooler.mlp.\1.weight"),
    (r"img_attn_pool\.post_norm\.(weight|bias)", r"sensor_model.pooler.post_norm.\1"),
    (r"img_to_latents\.to_latents\.weight", "sensor_projection.weight"),
    (r"text_to_latents\.to_latents\.weight", "text_projection.weight"),
    (r"temperature", "logit_scale"),
]
_LM = r"multimodalModel\.model\.model\."
_TIED_LM_HEAD = "multimodalModel.model.lm_head.weight"


def _map_key(key: str, split_layer: int) -> str:
    for pattern, target in _SENSOR_RULES:
        if re.fullmatch(pattern, key):
            return "slip." + re.sub(pattern, target, key)
    if match := re.fullmatch(_LM + r"embed_tokens\.weight", key):
        return "slip.text_encoder.embed_tokens.weight"
    if match := re.fullmatch(_LM + r"norm\.weight", key):
        return "text_decoder.norm.weight"
    if match := re.fullmatch(_LM + r"layers\.(\d+)\.original_layer\.(.+)", key):
        return f"text_decoder.layers.{int(match[1]) - split_layer}.{match[2]}"
    if match := re.fullmatch(_LM + r"layers\.(\d+)\.cross_attn_block\.fn\.(norm|context_norm)\.(.+)", key):
        return f"text_decoder.cross_attention_layers.{int(match[1]) - split_layer}.{match[2]}.{match[3]}"
    if match := re.fullmatch(_LM + r"layers\.(\d+)\.cross_attn_block\.fn\.([qkvo]_proj)\.(.+)", key):
        return f"text_decoder.cross_attention_layers.{int(match[1]) - split_layer}.attention.{match[2]}.{match[3]}"
    if match := re.fullmatch(_LM + r"layers\.(\d+)\.(.+)", key):
        if int(match[1]) >= split_layer:
            raise ValueError(f"{key}: a layer at or above split_layer={split_layer} must be a multimodal layer")
        return f"slip.text_encoder.layers.{match[1]}.{match[2]}"
    raise ValueError(f"Unknown reference key {key!r}")


def convert_reference_state_dict(state_dict: dict[str, torch.Tensor], config: SlipConfig) -> dict[str, torch.Tensor]:
    """Maps reference key names onto `SlipForConditionalGeneration`'s. The tied LM head is dropped (the model reuses
    the token embedding). Raises if a key cannot be mapped or the result does not cover the model exactly."""
    converted = {
        _map_key(key, config.split_layer): value for key, value in state_dict.items() if key != _TIED_LM_HEAD
    }
    with torch.device("meta"):
        expected = SlipForConditionalGeneration(config).state_dict()
    missing = sorted(set(expected) - set(converted))
    unexpected = sorted(set(converted) - set(expected))
    if missing or unexpected:
        raise ValueError(f"Reference checkpoint does not match the config: missing {missing}, unexpected {unexpected}")
    for key, value in converted.items():
        if value.shape != expected[key].shape:
            raise ValueError(f"{key}: shape {tuple(value.shape)} in the checkpoint, {tuple(expected[key].shape)} in the model")
    return converted


def load_reference_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Reads `.safetensors`, or a `.pth`/`.pt`/`.bin` tensor dict (optionally under a `"model"` key) without
    unpickling arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"reference checkpoint {str(path)!r} does not exist")
    if path.suffix == ".safetensors":
        return load_file(path)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("model"), dict):
        checkpoint = checkpoint["model"]
    if not isinstance(checkpoint, dict) or not all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        raise UserError(f"{path} does not hold a tensor state dict")
    return checkpoint


# Reference `config.json` field → ours, for the sensor encoder (its `sensor_encoder` dict) and the top level. Fields
# the reference config leaves out take our defaults, which are the reference's.
_REFERENCE_SENSOR_FIELDS = {
    "embed_dim": "hidden_size",
    "depth": "num_hidden_layers",
    "num_heads": "num_attention_heads",
    "mlp_ratio": "mlp_ratio",
}
_REFERENCE_FIELDS = {
    "num_img_queries": "num_query_tokens",
    "num_heads": "pooler_num_heads",
    "split_layer": "split_layer",
    "contrastive_loss_weight": "contrastive_loss_weight",
    "caption_loss_weight": "caption_loss_weight",
}
REFERENCE_DROPOUT = 0.1


def _renamed(values: dict, names: dict[str, str]) -> dict:
    return {ours: values[theirs] for theirs, ours in names.items() if theirs in values}


def with_reference_switches(config: SlipConfig) -> SlipConfig:
    """`config` with the reference semantics its converted weights depend on."""
    config.text_pooling = "penultimate_token"
    config.logit_scale_max = REFERENCE_LOGIT_SCALE_MAX
    return config


def slip_config_from_reference(reference_config: dict) -> SlipConfig:
    """SlipConfig for the reference's Hub `config.json` (SLIPConfig with a nested `sensor_encoder` dict). The text
    side is Gemma-3-270M, which is what the reference loads. The reference's `unlocked_layers` is a training choice
    (`training.freezing`), not part of the model."""
    sensor = reference_config.get("sensor_encoder", {})
    dropout = sensor.get("dropout_rate", REFERENCE_DROPOUT)  # the reference uses one rate for both
    return with_reference_switches(
        SlipConfig(
            sensor_config={
                **_renamed(sensor, _REFERENCE_SENSOR_FIELDS), "hidden_dropout": dropout, "attention_dropout": dropout
            },
            text_config=gemma3_270m_text_config(),
            logit_scale_init_value=REFERENCE_LOGIT_SCALE_MAX,
            **_renamed(reference_config, _REFERENCE_FIELDS),
        )
    )


def _weights_file(source: Path) -> Path:
    if not source.is_dir():
        return source
    candidates = [source / name for name in ("model.safetensors", "pytorch_model.bin", "checkpoint.pth")]
    weights_file = next((c for c in candidates if c.exists()), None)
    if weights_file is None:
        raise UserError(f"No model.safetensors / pytorch_model.bin / checkpoint.pth in {source}")
    return weights_file


def convert_reference_checkpoint(
    source: str | Path, out_dir: str | Path, config: SlipConfig | None = None, tokenizer=None, overwrite: bool = False
) -> SlipForConditionalGeneration:
    """Converts a reference checkpoint file (or a folder holding one and the reference `config.json`) into `out_dir`.

    Args:
        source (`str` or `Path`): the weights file, or a folder with it, the reference `config.json` and optionally
            tokenizer files.
        out_dir (`str` or `Path`): the folder to write; new or empty, or an earlier output with `overwrite`.
        config ([`SlipConfig`], *optional*): the sizes; default the folder's `config.json`, else slip-base. The
            reference switches are applied (`with_reference_switches`).
        tokenizer (*optional*): the caption tokenizer; default the one in the `source` folder, if any. With one the
            output is a complete Hub folder (processor with `caption_eos=False`), else weights and config only.
    """
    source = Path(source)
    weights_file = _weights_file(source)
    if config is None and source.is_dir() and (source / "config.json").exists():
        config = slip_config_from_reference(json.loads((source / "config.json").read_text()))
    config = with_reference_switches(config) if config is not None else slip_config_from_reference({})
    if tokenizer is None and source.is_dir() and (source / "tokenizer_config.json").exists():
        tokenizer = load_pretrained(AutoTokenizer, source, what="tokenizer", padding_side="left")
    try:
        state_dict = convert_reference_state_dict(load_reference_weights(weights_file), config)
    except ValueError as error:
        sizes = "pass its sizes with --preset or --config"
        raise UserError(f"{weights_file} does not fit the sizes given; {sizes}: {error}") from None
    model = SlipForConditionalGeneration(config)
    model.load_state_dict(state_dict, strict=True)
    model.eval()
    if tokenizer is None:
        model.save_pretrained(out_dir)
    else:
        processor = SlipProcessor(SlipFeatureExtractor(), tokenizer, caption_eos=False)
        export_hub_folder(model, processor, out_dir, card_defaults(config), overwrite=overwrite)
    return model


def config_from_arguments(args) -> SlipConfig | None:
    """The SlipConfig of `--preset` or `--config`, or None (then the source folder's or slip-base)."""
    if args.preset:
        return SlipConfig.from_preset(args.preset)
    if args.config:
        try:
            return SlipConfig.from_json_file(args.config)
        except (OSError, ValueError) as error:
            raise UserError(f"--config {args.config!r} is not a readable SlipConfig JSON file: {error}") from None
    return None


def add_arguments(parser) -> None:
    parser.add_argument("source", help="reference checkpoint file, or a folder with it and the reference config.json")
    parser.add_argument("--out", required=True, help="output folder")
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--preset", choices=sorted(SLIP_PRESETS), help="the checkpoint's sizes are a preset's")
    sizes.add_argument("--config", help="a SlipConfig JSON file with the checkpoint's sizes")
    parser.add_argument(
        "--tokenizer",
        help="tokenizer folder or Hub id (the authors' model: google/gemma-3-270m); writes a complete Hub folder",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier output in --out")


def run(args) -> int:
    tokenizer = None
    if args.tokenizer:
        tokenizer = load_pretrained(AutoTokenizer, args.tokenizer, what="tokenizer", padding_side="left")
    model = convert_reference_checkpoint(args.source, args.out, config_from_arguments(args), tokenizer, args.overwrite)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"Converted {args.source} → {args.out} ({n_params / 1e6:.1f}M parameters)")
    if tokenizer is None:
        print("No tokenizer given: the folder holds weights and config; add one with --tokenizer for a Hub folder")
    return 0
