"""`slip export-onnx`: the sensor and text towers of a SLIP model as ONNX graphs, optionally int8-quantised.

The folder holds:

- `sensor_encoder.onnx`: `sensor_values`, `sensor_mask` (bool), `sensor_time` `[B, V, P, ps_max]` and `patch_size`
  `[B]` (the processor's outputs) → `sensor_embeds` `[B, E]` (L2-normalised), `sensor_tokens` `[B, 1 + N, C]` (the
  pooled tokens, CLS first) and `token_features` `[B, D]` (the linear probe's masked token mean); batch, channel,
  patch and patch-width axes are dynamic; a recording with no observed value gets NaN embeddings and tokens;
- `text_encoder.onnx`: `input_ids`, `attention_mask` int64 `[B, T]` → `text_embeds` `[B, E]`;
- with `--int8`, `sensor_encoder.int8.onnx` and `text_encoder.int8.onnx`: ONNX Runtime's dynamic quantisation
  (int8 weights of every MatMul/Gemm with a constant weight, activations quantised per call);
- the processor's files (`preprocessor_config.json`, `processor_config.json`, tokenizer files), `slip_onnx.json`
  (what the runner reads: the processor's settings, the patch-size bands, the file of each part) and
  `slip_onnx_runner.py`, which runs the folder with numpy + onnxruntime (+ tokenizers for text), no torch.

The graphs are traced with `torch.onnx.export(..., dynamo=True)` from the model's own forward code (SDPA attention,
2D RoPE, masks): the exported graph always applies the sensor attention mask, which the PyTorch model drops only when
every token is valid, so outputs agree either way. The caption decoder is not exported. Like `slip export`, the
command writes into a new or empty folder, or replaces an earlier `slip export-onnx` output with `--overwrite`.
"""

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import torch
from torch import nn

from slip_sensor.errors import UserError
from slip_sensor.loading import load_pretrained
from slip_sensor.modeling_slip import SlipModel
from slip_sensor.modeling_slip.modeling_slip import masked_token_mean
from slip_sensor.output_folders import check_replaceable, mark_folder, staged_folder
from slip_sensor.processors import SlipProcessor
from slip_sensor.processors.feature_extraction_slip import PATCH_SIZE_BANDS

from . import slip_onnx_runner
from .slip_onnx_runner import CONFIG_NAME, SENSOR_INPUTS

HELP = "Export the sensor and text towers to ONNX (optionally int8), with a numpy + onnxruntime runner."
COMMAND = "slip export-onnx"
SENSOR_OUTPUTS = ("sensor_embeds", "sensor_tokens", "token_features")
TEXT_INPUTS = ("input_ids", "attention_mask")
OPSET = 18


class SlipSensorEncoderForExport(nn.Module):
    """The sensor tower and the contrastive projection of a `SlipModel`, with tensor-only outputs for tracing."""

    def __init__(self, model: SlipModel):
        super().__init__()
        self.model = model

    def forward(
        self,
        sensor_values: torch.Tensor,
        sensor_mask: torch.Tensor,
        sensor_time: torch.Tensor,
        patch_size: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Processor outputs → `sensor_embeds` `[B, E]`, `sensor_tokens` `[B, 1 + N, C]`, `token_features` `[B, D]`.

        A recording with no observed value gets NaN embeddings and pooled tokens (its pooler attends to nothing, so
        they are undefined and differ between kernels) and token features 0, as in `SlipModel`."""
        outputs = self.model.sensor_model(sensor_values, sensor_mask, sensor_time, patch_size)
        unobserved = ~outputs.sample_mask[:, None, None]
        return (
            self.model.sensor_embedding(outputs.pooler_output, outputs.sample_mask),
            outputs.pooler_output.masked_fill(unobserved, float("nan")),
            masked_token_mean(outputs.last_hidden_state, outputs.patch_mask),
        )


class SlipTextEncoderForExport(nn.Module):
    """The text encoder and the contrastive projection of a `SlipModel`: `[B, T]` ids and mask → `[B, E]`."""

    def __init__(self, model: SlipModel):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model.get_text_features(input_ids, attention_mask)


def example_sensor_inputs(processor: SlipProcessor) -> dict[str, torch.Tensor]:
    """A traced example whose axes all differ in size and exceed 1 (so that none is specialised to a constant): two
    recordings with different channel counts, lengths, rates and a missing span."""
    rng = np.random.default_rng(0)
    short = rng.standard_normal((2, 90)).astype(np.float32)
    short[1, 20:40] = np.nan
    recordings = [rng.standard_normal((3, 250)).astype(np.float32), short]
    return dict(processor(sensors=recordings, sampling_rate=[50.0, 1.0], return_tensors="pt"))


def export_sensor_encoder(model: SlipModel, processor: SlipProcessor, path: str | Path) -> Path:
    """Writes the sensor tower of `model` (eval mode, float32) to the ONNX file `path`."""
    inputs = example_sensor_inputs(processor)
    sensor_axes = {0: torch.export.Dim("batch"), 1: torch.export.Dim("channels"), 2: torch.export.Dim("patches"),
                   3: torch.export.Dim("patch_width")}
    program = torch.onnx.export(
        SlipSensorEncoderForExport(model).eval(),
        tuple(inputs[name] for name in SENSOR_INPUTS),
        input_names=list(SENSOR_INPUTS),
        output_names=list(SENSOR_OUTPUTS),
        dynamic_shapes=(sensor_axes, sensor_axes, sensor_axes, {0: sensor_axes[0]}),
        opset_version=OPSET,
        dynamo=True,
        verbose=False,
    )
    program.save(str(path))
    return Path(path)


def export_text_encoder(model: SlipModel, processor: SlipProcessor, path: str | Path) -> Path:
    """Writes the text encoder of `model` (eval mode, float32) to the ONNX file `path`."""
    texts = ["The person walks.", "The heart rate rises steadily over the window."]
    inputs = processor(text=texts, return_tensors="pt")
    axes = {0: torch.export.Dim("batch"), 1: torch.export.Dim("tokens")}
    program = torch.onnx.export(
        SlipTextEncoderForExport(model).eval(),
        tuple(inputs[name] for name in TEXT_INPUTS),
        input_names=list(TEXT_INPUTS),
        output_names=["text_embeds"],
        dynamic_shapes=(axes, axes),
        opset_version=OPSET,
        dynamo=True,
        verbose=False,
    )
    program.save(str(path))
    return Path(path)


def quantize_int8(source: str | Path, target: str | Path) -> Path:
    """ONNX Runtime's dynamic quantisation of `source` into `target`: int8 weights (per tensor) for every MatMul and
    Gemm whose weight is a constant; activations are quantised per call, so no calibration data is needed. (The
    pre-processing ONNX Runtime's warning suggests fails on these graphs' symbolic shapes, so it is not run.)"""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), op_types_to_quantize=["MatMul", "Gemm"], weight_type=QuantType.QInt8)
    return Path(target)


def runner_config(model: SlipModel, processor: SlipProcessor, files: dict[str, dict[str, str]]) -> dict:
    """The content of `slip_onnx.json`: everything the runner needs besides the graphs and the tokenizer."""
    feature_extractor, tokenizer = processor.feature_extractor, processor.tokenizer
    return {
        "format_version": 1,
        "files": files,
        "projection_dim": model.config.projection_dim,
        "feature_extractor": {
            name: getattr(feature_extractor, name)
            for name in ("normalization", "normalization_eps", "token_budget", "max_patches", "max_tokens_per_sample")
        },
        "patch_size_bands": [
            {"name": name, "min_period_s": min_period, "sizes": list(sizes)}
            for name, min_period, sizes in PATCH_SIZE_BANDS
        ],
        "text": {
            "max_text_length": processor.max_text_length,
            "append_eos": processor.caption_eos,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
    }


def export_onnx(
    model: SlipModel, processor: SlipProcessor, out_dir: str | Path, int8: bool = False, overwrite: bool = False
) -> Path:
    """Writes the ONNX folder of `model` and `processor` to `out_dir` (see the module docstring): new or empty, or
    with `overwrite` an earlier `slip export-onnx` output, replaced as a whole; any other folder is refused
    ([`OutputFolderError`]) before anything is written. `model` is put in eval mode and float32 (in place): the
    graphs are float32, and dropout must not be traced."""
    out = Path(out_dir)
    check_replaceable(out, COMMAND, overwrite, "ONNX export")
    model = model.float().eval()
    with staged_folder(out) as staged:
        files = {"fp32": {}, "int8": {}}
        for part, export in (("sensor_encoder", export_sensor_encoder), ("text_encoder", export_text_encoder)):
            fp32 = export(model, processor, staged / f"{part}.onnx")
            files["fp32"][part] = fp32.name
            if int8:
                files["int8"][part] = quantize_int8(fp32, staged / f"{part}.int8.onnx").name
        processor.save_pretrained(staged)
        processor.feature_extractor.save_pretrained(staged)  # preprocessor_config.json, as `slip export` writes it
        config = runner_config(model, processor, files)
        (staged / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        shutil.copyfile(slip_onnx_runner.__file__, staged / "slip_onnx_runner.py")
        mark_folder(staged, COMMAND)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model", nargs="?", default=None, metavar="MODEL",
        help="a folder written by save_pretrained, training or `slip export` (default: the shipped slip-tiny)",
    )
    parser.add_argument("--out", required=True, help="the folder to write (new or empty)")
    parser.add_argument(
        "--int8", action="store_true",
        help="also write int8 dynamically quantised graphs (*.int8.onnx; SlipOnnxEncoder(DIR, precision='int8'))",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier `slip export-onnx` in --out")


def run(args: argparse.Namespace) -> int:
    if args.model is None:
        from slip_sensor.shipped_models import pretrained

        args.model = str(pretrained())
    if not Path(args.model).is_dir():
        raise UserError(f"model {args.model!r} is no folder; pass a folder written by save_pretrained or `slip export`")
    model = load_pretrained(SlipModel, args.model)
    processor = load_pretrained(SlipProcessor, args.model, what="processor")
    out = export_onnx(model, processor, args.out, int8=args.int8, overwrite=args.overwrite)
    sizes = ", ".join(f"{path.name} {path.stat().st_size / 2**20:.1f} MiB" for path in sorted(out.glob("*.onnx")))
    print(f"Wrote {out}: {sizes}")
    return 0


__all__ = [
    "SlipSensorEncoderForExport",
    "SlipTextEncoderForExport",
    "export_onnx",
    "export_sensor_encoder",
    "export_text_encoder",
    "quantize_int8",
]
