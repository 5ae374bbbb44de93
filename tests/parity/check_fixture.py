"""Checks our processor and model against a reference parity fixture.

    python tests/parity/check_fixture.py FIXTURE_DIR

The fixture (format `slip-parity-fixture/1`) holds the reference's config, weights (reference key names), raw inputs
and outputs. The model is rebuilt from the fixture's config, the weights are converted with our converter, the raw
series go through our feature extractor, and every reference output is compared (floats: atol 1e-4 and rtol 1e-4;
integers and generated ids: exact). Prints the max error per tensor; exits 1 on any mismatch.
"""

import argparse
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import GenerationConfig

from slip_sensor import SlipConfig, SlipForConditionalGeneration
from slip_sensor.convert_reference import convert_reference_state_dict
from slip_sensor.evaluation.alignment import alignment, uniformity
from slip_sensor.modeling_slip.sensor_encoder_slip import rotary_positions
from slip_sensor.processors.feature_extraction_slip import SlipFeatureExtractor

ATOL = RTOL = 1e-4


# fixture field → ours, for the sensor encoder, the pooler and the top level
SENSOR_FIELDS = {
    "embed_dim": "hidden_size",
    "depth": "num_hidden_layers",
    "num_heads": "num_attention_heads",
    "mlp_ratio": "mlp_ratio",
    "base_patch": "base_patch_size",
    "rope_base": "rope_theta",
    "layer_norm_eps": "layer_norm_eps",
}
POOLER_FIELDS = {
    "num_img_queries": "num_query_tokens",
    "num_heads": "pooler_num_heads",
    "mlp_ratio": "pooler_mlp_ratio",
}
TOP_LEVEL_FIELDS = {
    "common_dim": "projection_dim",
    "split_layer": "split_layer",
    "contrastive_loss_weight": "contrastive_loss_weight",
    "caption_loss_weight": "caption_loss_weight",
    "temperature_max": "logit_scale_max",
}


def renamed(values: dict, names: dict[str, str]) -> dict:
    return {ours: values[theirs] for theirs, ours in names.items()}


def config_from_fixture(fixture: dict) -> SlipConfig:
    return SlipConfig(
        sensor_config=renamed(fixture["sensor_encoder"], SENSOR_FIELDS),
        text_config={**fixture["gemma3_text_config"], "attn_implementation": "sdpa"},
        cross_attention_layer_norm_eps=fixture["decoder_cross_attn"]["layer_norm_eps"],
        text_pooling="penultimate_token",
        attn_implementation="sdpa",
        **renamed(fixture["pooler"], POOLER_FIELDS),
        **renamed(fixture, TOP_LEVEL_FIELDS),
    )


def run_model(
    fixture_dir: Path, model: SlipForConditionalGeneration | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Our outputs under the fixture's names, and the fixture's reference outputs. `model` (e.g. loaded from a
    `slip convert-reference` folder) defaults to one rebuilt from the fixture's config and converted weights."""
    fixture = json.loads((fixture_dir / "config.json").read_text())
    inputs = load_file(fixture_dir / "inputs.safetensors")
    reference = load_file(fixture_dir / "outputs.safetensors")
    if model is None:
        model = SlipForConditionalGeneration(config_from_fixture(fixture))
        weights = load_file(fixture_dir / "weights.safetensors")
        model.load_state_dict(convert_reference_state_dict(weights, model.config))
    config = model.config
    model.eval()

    batch_size = inputs["patch_sizes"].shape[0]
    raw = [inputs[f"raw_sample{i}"] for i in range(batch_size)]
    raw = [series[0] if series.shape[0] == 1 else series for series in raw]  # univariate samples arrive as 1-D
    collator = fixture["collator"]
    feature_extractor = SlipFeatureExtractor(
        max_channels=collator["sensor_max_nvar"], max_patches=collator["sensor_max_len"]
    )
    sensors = feature_extractor(
        [s.numpy() for s in raw], patch_size=inputs["patch_sizes"].tolist(), return_tensors="pt"
    )
    captions = inputs["caption_input_ids"]
    caption_mask = inputs["caption_attention_mask"]
    # The reference ignores only pad targets (so BOS after a left pad is a target); mirror that in the labels.
    labels = captions.masked_fill(captions == fixture["tokens"]["pad"], -100)

    ours: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for i in range(batch_size):
            size = int(inputs["patch_sizes"][i])
            for name in ("values", "mask", "time"):
                ours[f"sample{i}_{name}"] = sensors[f"sensor_{name}"][i, :, :, :size]
        sensor_model = model.slip.sensor_model
        tokens = sensor_model.embeddings(**{k: sensors[k] for k in ("sensor_values", "sensor_mask", "sensor_time")}, patch_size=sensors["patch_size"])
        ours["sensor_patch_tokens"] = tokens.flatten(1, 2)
        out = model(**sensors, input_ids=captions, attention_mask=caption_mask, labels=labels, return_logits=True)
        sensor_out = out.sensor_model_output
        ours["sensor_hidden"] = sensor_out.last_hidden_state
        ours["sensor_patch_mask"] = sensor_out.patch_mask
        ours["patch_mask"] = sensor_out.patch_mask
        ours["rope_pos_var"], ours["rope_pos_patch"] = rotary_positions(sensor_out.patch_mask)
        ours["pooler_tokens"] = out.sensor_tokens
        latents = torch.nn.functional.normalize(model.slip.sensor_projection(out.sensor_tokens), dim=-1)
        ours["sensor_latents_all"] = latents
        ours["sensor_embedding"] = out.sensor_embeds
        ours["text_embedding"] = out.text_embeds
        text_states = model.slip.encode_text(captions, caption_mask)
        ours["text_hidden_split"] = text_states[:, :-1]
        ours["text_last_hidden"] = text_states[:, -2]
        ours["temperature"] = model.slip.logit_scale
        ours["logit_scale"] = model.slip.logit_scale.clamp(max=config.logit_scale_max).exp()
        ours["contrastive_logits"] = out.logits_per_text
        ours["contrastive_loss"] = out.contrastive_loss
        ours["caption_logits"] = out.logits[:, :-1]
        ours["caption_labels"] = captions[:, 1:]
        ours["caption_query_is_pad"] = caption_mask[:, :-1] == 0
        ours["caption_token_ce"] = torch.nn.functional.cross_entropy(
            out.logits[:, :-1].transpose(1, 2), labels[:, 1:], ignore_index=-100, reduction="none"
        )
        ours["caption_loss"] = out.caption_loss
        real = labels[:, 1:].masked_fill(ours["caption_query_is_pad"], -100)
        ours["caption_loss_real_queries"] = torch.nn.functional.cross_entropy(
            out.logits[:, :-1].transpose(1, 2), real, ignore_index=-100
        )
        ours["loss"] = out.loss
        ours["align_loss"] = torch.tensor(alignment(out.text_embeds, out.sensor_embeds))
        ours["unif_txt"] = torch.tensor(uniformity(out.text_embeds))
        ours["unif_img"] = torch.tensor(uniformity(out.sensor_embeds))

        generation = fixture["generation"]
        generation_config = GenerationConfig(
            max_new_tokens=generation["max_new_tokens"],
            do_sample=False,
            num_beams=1,
            eos_token_id=None,
            pad_token_id=fixture["tokens"]["pad"],
            bos_token_id=fixture["tokens"]["bos"],
            output_scores=True,
            return_dict_in_generate=True,
        )
        generated = model.generate(
            **sensors,
            input_ids=inputs["prompt_input_ids"],
            attention_mask=inputs["prompt_attention_mask"],
            generation_config=generation_config,
        )
        ours["generate_ids"] = generated.sequences
        ours["generate_new_ids"] = generated.sequences[:, inputs["prompt_input_ids"].shape[1] :]
        ours["generate_scores"] = torch.stack(generated.scores, dim=1)
    expected = {**reference, **{k: v for k, v in inputs.items() if k.startswith("sample") and "item" not in k}}
    expected["patch_mask"] = inputs["patch_mask"]
    return ours, expected


def compare(ours: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> bool:
    ok = True
    for name in sorted(expected):
        want = expected[name]
        if name not in ours:
            print(f"MISSING   {name}")
            ok = False
            continue
        got = ours[name].to(want.device)
        if got.shape != want.shape:
            print(f"SHAPE     {name}: ours {tuple(got.shape)} vs reference {tuple(want.shape)}")
            ok = False
            continue
        if want.is_floating_point():
            error = (got.float() - want.float()).abs().max().item() if want.numel() else 0.0
            good = torch.allclose(got.float(), want.float(), atol=ATOL, rtol=RTOL)
            print(f"{'ok' if good else 'MISMATCH':9s} {name:28s} max abs error {error:.3e}")
        else:
            good = torch.equal(got.to(want.dtype), want)
            print(f"{'ok' if good else 'MISMATCH':9s} {name:28s} {'exact' if good else 'differs'}")
        ok &= good
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixture_dir", type=Path)
    args = parser.parse_args(argv)
    ours, expected = run_model(args.fixture_dir)
    ok = compare(ours, expected)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
