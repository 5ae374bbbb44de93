"""Loads an exported SLIP Hub folder the way a Hub user does and checks that it reproduces the expected outputs.

Usage: python check_remote_load.py EXPORT_DIR EXPECTED_JSON

Run it from outside the repository, with HF_HUB_OFFLINE=1 and PYTHONPATH unset. As a script it first makes
`slip_sensor` unimportable, so config, models, processor and pipelines can only come from the folder's remote code
(`trust_remote_code=True`). It needs only numpy, torch and transformers, so it also runs under another environment
(e.g. transformers 4.57). It prints one JSON line and exits with 1 if any output differs from EXPECTED_JSON, which
`tests/hub/test_remote_load.py` writes from the installed package with `collect_outputs` below.
"""

import sys

if __name__ == "__main__":
    sys.modules["slip_sensor"] = None  # any `import slip_sensor` now fails

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoProcessor, pipeline

TASKS = ("sensor-captioning", "zero-shot-sensor-classification", "sensor-feature-extraction")
SENSOR_KEYS = ("sensor_values", "sensor_mask", "sensor_time", "patch_size")


def make_inputs(seed: int = 0) -> dict[str, Any]:
    """Samples of different channel counts and lengths (one with missing values), prompts and labels."""
    rng = np.random.default_rng(seed)
    shapes = [(3, 200), (2, 333), (1, 120), (6, 64)]
    samples = [rng.normal(size=shape).astype(np.float32) for shape in shapes]
    samples[1][0, 10:30] = np.nan
    return {
        "samples": [sample.tolist() for sample in samples],
        "sampling_rate": 50.0,
        "prompts": [None, "The heart rate", None, "What is the person doing?"],
        "texts": ["walking slowly", "a calm resting period", "running uphill", "sitting at a desk"],
        "labels": ["walking", "running", "sitting"],
    }


def collect_outputs(
    model: torch.nn.Module,
    causal_model: torch.nn.Module,
    processor: Any,
    pipelines: dict[str, Any],
    inputs: dict[str, Any],
) -> dict[str, Any]:
    """Runs the model API and the three pipelines on `inputs`; returns JSON-able outputs (lists, floats, strings)."""
    samples = [np.asarray(sample, dtype=np.float32) for sample in inputs["samples"]]
    rate = inputs["sampling_rate"]
    features = processor(sensors=samples, text=inputs["texts"], sampling_rate=rate, return_tensors="pt")
    sensor_inputs = {key: features[key] for key in SENSOR_KEYS}
    with torch.no_grad():
        sensor_embeds = model.get_sensor_features(**sensor_inputs)
        text_embeds = model.get_text_features(features["input_ids"], features["attention_mask"])
        generated = causal_model.generate(**sensor_inputs, max_new_tokens=8, do_sample=False)
        generated_static = causal_model.generate(
            **sensor_inputs, max_new_tokens=8, do_sample=False, cache_implementation="static"
        )
    captioner = pipelines["sensor-captioning"]
    prompted = [
        {"sensors": sample, "sampling_rate": rate, "prompt": prompt}
        for sample, prompt in zip(samples, inputs["prompts"])
    ]
    return {
        "processor": {key: value.tolist() for key, value in features.items()},
        "sensor_embeds": sensor_embeds.tolist(),
        "text_embeds": text_embeds.tolist(),
        "generated_ids": generated.tolist(),
        "generated_ids_static_cache": generated_static.tolist(),
        "caption": captioner(samples[0], sampling_rate=rate, max_new_tokens=8),
        "captions_batched": captioner(prompted, max_new_tokens=8, batch_size=len(samples)),
        "captions_beam": captioner(
            samples[:2], sampling_rate=rate, max_new_tokens=6, num_beams=3, num_return_sequences=2, batch_size=2
        ),
        "zero_shot": pipelines["zero-shot-sensor-classification"](
            samples, sampling_rate=rate, candidate_labels=inputs["labels"], batch_size=2
        ),
        "features": pipelines["sensor-feature-extraction"](
            samples, sampling_rate=rate, return_tokens=True, batch_size=len(samples)
        ),
    }


def main(folder: str, expected_file: str) -> int:
    expected = json.loads(Path(expected_file).read_text(encoding="utf-8"))
    config = AutoConfig.from_pretrained(folder, trust_remote_code=True)
    model = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
    causal_model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True).eval()
    processor = AutoProcessor.from_pretrained(folder, trust_remote_code=True)
    pipelines = {task: pipeline(task, model=folder, trust_remote_code=True) for task in TASKS}
    loaded = {
        "AutoConfig": config,
        "AutoModel": model,
        "AutoModelForCausalLM": causal_model,
        "AutoProcessor": processor,
        **{task: pipe for task, pipe in pipelines.items()},
    }
    classes = {name: f"{type(obj).__module__}.{type(obj).__name__}" for name, obj in loaded.items()}
    not_remote = [name for name, path in classes.items() if not path.startswith("transformers_modules.")]
    actual = collect_outputs(model, causal_model, processor, pipelines, expected["inputs"])
    mismatches = sorted(key for key in expected["outputs"] if actual.get(key) != expected["outputs"][key])
    report = {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "classes": classes,
        "not_remote_code": not_remote,
        "mismatches": mismatches,
    }
    print(json.dumps(report))
    return 1 if mismatches or not_remote else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
