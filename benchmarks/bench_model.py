"""Model throughput on the four reference workloads (random weights), one JSON line per workload.

    python benchmarks/bench_model.py                                   # paper size (slip-base), GPU, bf16 autocast
    python benchmarks/bench_model.py --preset slip-tiny --device cpu   # quick CPU run
    python benchmarks/bench_model.py --preset slip-small --device cpu --workloads embedding

Workloads (sizes scale down with --scale for quick runs):
  train       B=32, 6 ch x 512 points @ patch 16 (192 sensor tokens), 128 caption tokens, AdamW, grad clip 1.0
  train-long  B=16, 12 ch x 2048 points @ patch 32 (768 sensor tokens), 128 caption tokens
  embedding   sensor embedding without gradients, B=256, 6 ch x 512 @ 16
  captioning  B=32, 16-token prompt, 64 new tokens, greedy, once per --cache (dynamic and static KV cache);
              ms_per_decode_step is the call's time over the 64 steps, sensor tower and prefill included (as the
              reference's 27.3 ms)
Each line holds the median seconds per call over --repeats timed calls (after --warmup), samples/s or tokens/s,
peak accelerator memory, FLOPs per call (counted with torch's FlopCounterMode) and, on a known GPU, the MFU.
"""

import argparse
import json
import statistics
import time
from contextlib import nullcontext

import torch
from torch.utils.flop_counter import FlopCounterMode

from transformers import CompileConfig
from transformers.models.gemma3.modeling_gemma3 import Gemma3DecoderLayer

from slip_sensor import SlipConfig, SlipForConditionalGeneration
from slip_sensor.modeling_slip.attention_slip import SlipCrossAttentionBlock
from slip_sensor.modeling_slip.sensor_encoder_slip import SlipAttentionPooler, SlipSensorEncoderLayer

# Dense bf16 peak of the accelerators this project measures on, for the MFU estimate.
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12}

WORKLOADS = {
    "train": dict(batch=32, channels=6, length=512, patch=16, text=128),
    "train-long": dict(batch=16, channels=12, length=2048, patch=32, text=128),
    "embedding": dict(batch=256, channels=6, length=512, patch=16),
    "captioning": dict(batch=32, channels=6, length=512, patch=16, prompt=16, new_tokens=64),
}


def sensor_batch(batch: int, channels: int, length: int, patch: int, device) -> dict[str, torch.Tensor]:
    patches = length // patch
    shape = (batch, channels, patches, patch)
    time_index = torch.arange(1, length + 1, device=device, dtype=torch.float32) / (length + 1)
    return dict(
        sensor_values=torch.randn(shape, device=device),
        sensor_mask=torch.ones(shape, dtype=torch.bool, device=device),
        sensor_time=time_index.reshape(1, 1, patches, patch).expand(shape).contiguous(),
        patch_size=torch.full((batch,), patch, device=device),
    )


def text_batch(batch: int, length: int, vocab: int, device) -> dict[str, torch.Tensor]:
    ids = torch.randint(4, vocab, (batch, length), device=device)
    ids[:, 0] = 2
    return dict(input_ids=ids, attention_mask=torch.ones_like(ids))


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def peak_memory_gib(device: torch.device) -> float | None:
    return round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if device.type == "cuda" else None


def time_calls(step, device, warmup: int, repeats: int) -> list[float]:
    for _ in range(warmup):
        step()
    synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def count_flops(model, forward) -> int:
    """FLOPs of one forward. Parameters are made gradient-free meanwhile: the counter's module tracker cannot hook
    parameters that require gradients inside no_grad."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    for p in trainable:
        p.requires_grad_(False)
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            forward()
    finally:
        for p in trainable:
            p.requires_grad_(True)
    return counter.get_total_flops()


def enable_activation_checkpointing(model) -> None:
    """Recompute each layer's activations in the backward pass (transformers 5 renamed the method)."""
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})


COMPILED_REGIONS = (SlipSensorEncoderLayer, SlipAttentionPooler, Gemma3DecoderLayer, SlipCrossAttentionBlock)


def compile_layers(model) -> None:
    """Regional compilation: each kind of layer (and the pooler) is compiled once and reused (short compile times),
    while the code between layers (masks, RoPE tables, the check that lets SDPA drop the sensor mask) stays eager."""
    for module in model.modules():
        if isinstance(module, COMPILED_REGIONS):
            module.compile()


def make_step(name: str, model, sizes: dict, device, autocast, compile_decoding: bool = False):
    vocab = model.config.text_config.vocab_size
    sensors = sensor_batch(sizes["batch"], sizes["channels"], sizes["length"], sizes["patch"], device)
    if name.startswith("train"):
        text = text_batch(sizes["batch"], sizes["text"], vocab, device)
        labels = text["input_ids"].clone()
        labels[:, 0] = -100
        optimizer = torch.optim.AdamW(
            [p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.05, fused=device.type == "cuda"
        )

        def forward():
            with autocast:
                return model(**sensors, **text, labels=labels).loss

        def step():
            forward().backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        # backward costs about twice the forward
        return step, 3 * count_flops(model, forward), sizes["batch"], "samples"
    if name == "embedding":

        def step():
            with torch.no_grad(), autocast:
                model.slip.get_sensor_features(**sensors)

        return step, count_flops(model, step), sizes["batch"], "samples"
    prompt = text_batch(sizes["batch"], sizes["prompt"], vocab, device)
    cache = dict(cache_implementation="static") if sizes["cache"] == "static" else {}
    if compile_decoding:
        # on a GPU this compiles the static-cache decoding step with CUDA graphs ("reduce-overhead")
        mode = "reduce-overhead" if device.type == "cuda" else None
        cache["compile_config"] = CompileConfig(fullgraph=True, mode=mode)
        cache["compile_config"]._compile_all_devices = True
    else:
        cache["disable_compile"] = True  # transformers would compile a static-cache step on a GPU by itself

    def step():
        with autocast:
            model.generate(
                **sensors, **prompt, max_new_tokens=sizes["new_tokens"], min_new_tokens=sizes["new_tokens"],
                do_sample=False, **cache,
            )

    return step, None, sizes["batch"] * sizes["new_tokens"], "tokens"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="slip-base")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument(
        "--scale", type=float, default=None, help="batch-size multiplier (default 1 on GPU, 1/8 on CPU)"
    )
    parser.add_argument("--dtype", choices=["bf16", "fp32"], default=None, help="autocast dtype (default bf16 on GPU)")
    parser.add_argument("--attn-implementation", default="sdpa")
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile every layer and the static-cache decoding step"
    )
    parser.add_argument("--cache", default="dynamic,static", help="decoding caches to measure captioning with")
    parser.add_argument(
        "--gradient-checkpointing", action="store_true", help="recompute layer activations in the backward pass"
    )
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    device = torch.device(args.device)
    scale = args.scale if args.scale is not None else (1.0 if device.type == "cuda" else 0.125)
    dtype = args.dtype or ("bf16" if device.type == "cuda" else "fp32")
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if dtype == "bf16" else nullcontext()
    torch.manual_seed(0)
    config = SlipConfig.from_preset(args.preset, attn_implementation=args.attn_implementation)
    model = SlipForConditionalGeneration(config).to(device)
    if args.gradient_checkpointing:
        enable_activation_checkpointing(model)
    if args.compile:
        compile_layers(model)
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak_flops = next((v for k, v in PEAK_BF16_FLOPS.items() if k in device_name and dtype == "bf16"), None)

    runs = [(name, None) for name in args.workloads.split(",") if name != "captioning"]
    if "captioning" in args.workloads.split(","):
        runs += [("captioning", cache) for cache in args.cache.split(",")]
    for name, cache in runs:
        sizes = dict(WORKLOADS[name])
        sizes["batch"] = max(1, round(sizes["batch"] * scale))
        if cache is not None:
            sizes["cache"] = cache
        model.train(name.startswith("train"))
        compile_decoding = args.compile and cache == "static"
        step, flops, units, unit_name = make_step(name, model, sizes, device, autocast, compile_decoding)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        times = time_calls(step, device, args.warmup, args.repeats)
        median = statistics.median(times)
        record = {
            "workload": name,
            "preset": args.preset,
            "device": device_name,
            "dtype": dtype,
            "compile": args.compile,
            "gradient_checkpointing": args.gradient_checkpointing,
            **{k: v for k, v in sizes.items()},
            "median_s": round(median, 5),
            f"{unit_name}_per_s": round(units / median, 2),
            "peak_memory_gib": peak_memory_gib(device),
            "tflop_per_call": None if flops is None else round(flops / 1e12, 4),
            "mfu": None if flops is None or peak_flops is None else round(flops / median / peak_flops, 4),
        }
        if name == "captioning":
            record["ms_per_decode_step"] = round(1000 * median / sizes["new_tokens"], 3)
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
