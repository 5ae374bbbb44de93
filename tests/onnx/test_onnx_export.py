"""`slip export-onnx` on the shipped slip-tiny: the runner, run from the exported folder with numpy and onnxruntime
only, gives the PyTorch model's embeddings on mixed batches; its preprocessing equals the feature extractor's and its
tokens the processor's; the int8 graphs are smaller and stay close."""

import json
import subprocess
from contextlib import nullcontext
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from slip_sensor import SlipModel, SlipProcessor
from slip_sensor.cli import main
from slip_sensor.modeling_slip.modeling_slip import masked_token_mean
from slip_sensor.shipped_models import pretrained

TOLERANCE = 1e-4  # max |ONNX Runtime - PyTorch| in fp32

TEXTS = [
    "The person is walking.",
    "The heart rate rises steadily over the window and settles back near the end.",
    "flat " * 700,  # longer than max_text_length: truncated, EOS kept
]


def mixed_recordings() -> tuple[list[np.ndarray], list[float | None]]:
    """One padded batch of everything the feature extractor handles: channel counts 1-6, lengths 37-3000, rates that
    pick different patch sizes (and an unknown one), NaN spans, a missing channel and an all-NaN recording."""
    rng = np.random.default_rng(0)
    walking = rng.standard_normal((6, 500)).astype(np.float32) * 3 + 1  # 6 channels, 10 s at 50 Hz
    walking[2, 100:180] = np.nan
    ecg = rng.standard_normal((2, 3000))  # float64 input
    ecg[0, :1500] = np.nan
    short = rng.standard_normal((3, 37)).astype(np.float32)
    short[1] = np.nan  # a channel with no observed value
    daily = rng.standard_normal(90).astype(np.float32)  # one channel, 1-D
    hidden = np.full((2, 64), np.nan, dtype=np.float32)  # nothing observed: NaN embedding
    recordings = [walking, ecg, short, daily, rng.integers(-5, 5, (4, 200)), hidden]
    return recordings, [50.0, 250.0, None, 1 / 86400, 1.0, 0.01]


@pytest.fixture(scope="module")
def onnx_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("onnx") / "slip-tiny-onnx"
    assert main(["export-onnx", str(pretrained()), "--out", str(out), "--int8"]) == 0
    return out


@pytest.fixture(scope="module")
def torch_model() -> tuple[SlipModel, SlipProcessor]:
    return SlipModel.from_pretrained(pretrained()).eval(), SlipProcessor.from_pretrained(pretrained())


RUNNER_SCRIPT = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from slip_onnx_runner import SlipOnnxEncoder

arrays = dict(np.load(sys.argv[2], allow_pickle=False))
recordings = [arrays[f"recording_{i}"] for i in range(int(arrays["count"]))]
rates = [None if np.isnan(rate) else float(rate) for rate in arrays["rates"]]
results = {}
for precision in ("fp32", "int8"):
    encoder = SlipOnnxEncoder(sys.argv[1], precision=precision, batch_size=4)
    outputs = encoder.encode_sensors(recordings, rates)
    results.update({f"{precision}_{name}": value for name, value in outputs.items()})
    results[f"{precision}_text_embeds"] = encoder.embed_text([str(text) for text in arrays["texts"]])
np.savez(sys.argv[3], **results)
print(sorted({"torch", "transformers"} & set(sys.modules)))
"""


@pytest.fixture(scope="module")
def runner_outputs(onnx_folder, tmp_path_factory) -> dict[str, np.ndarray]:
    """The runner's outputs, computed in a fresh interpreter from the exported folder (its own copy of the runner)."""
    recordings, rates = mixed_recordings()
    folder = tmp_path_factory.mktemp("runner")
    inputs, outputs = folder / "inputs.npz", folder / "outputs.npz"
    np.savez(
        inputs,
        count=len(recordings),
        rates=np.asarray([np.nan if rate is None else rate for rate in rates]),
        texts=np.asarray(TEXTS),
        **{f"recording_{i}": recording for i, recording in enumerate(recordings)},
    )
    result = subprocess.run(
        [sys.executable, "-c", RUNNER_SCRIPT, str(onnx_folder), str(inputs), str(outputs)],
        capture_output=True, text=True, timeout=120, cwd=folder,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[-1] == "[]"  # neither torch nor transformers was imported
    return dict(np.load(outputs, allow_pickle=False))


def test_export_writes_graphs_processor_files_and_runner(onnx_folder):
    names = {path.name for path in onnx_folder.iterdir()}
    assert {
        "sensor_encoder.onnx", "sensor_encoder.int8.onnx", "text_encoder.onnx", "text_encoder.int8.onnx",
        "preprocessor_config.json", "processor_config.json", "tokenizer.json", "slip_onnx.json", "slip_onnx_runner.py",
    } <= names
    source = Path(__file__).resolve().parents[2] / "slip_sensor" / "onnx" / "slip_onnx_runner.py"
    assert (onnx_folder / "slip_onnx_runner.py").read_bytes() == source.read_bytes()  # one source, copied
    for part in ("sensor_encoder", "text_encoder"):
        fp32, int8 = (onnx_folder / f"{part}{suffix}.onnx" for suffix in ("", ".int8"))
        assert int8.stat().st_size < 0.85 * fp32.stat().st_size


def test_sensor_embeddings_match_pytorch_on_a_mixed_padded_batch(runner_outputs, torch_model):
    model, processor = torch_model
    recordings, rates = mixed_recordings()
    reference = {}
    with torch.no_grad():
        for start in range(0, len(recordings), 4):  # the runner's batches: the same padding
            inputs = processor(sensors=recordings[start : start + 4], sampling_rate=rates[start : start + 4])
            assert len(set(inputs["patch_size"].tolist())) > 1  # one batch, several patch sizes
            outputs = model.sensor_model(**inputs)
            for name, value in (
                ("sensor_embeds", model.sensor_embedding(outputs.pooler_output, outputs.sample_mask)),
                # undefined for a recording with nothing observed: NaN in the graph, as its embedding
                ("sensor_tokens", outputs.pooler_output.masked_fill(~outputs.sample_mask[:, None, None], torch.nan)),
                ("token_features", masked_token_mean(outputs.last_hidden_state, outputs.patch_mask)),
            ):
                reference.setdefault(name, []).append(value.numpy())
    for name, chunks in reference.items():
        expected, got = np.concatenate(chunks), runner_outputs[f"fp32_{name}"]
        finite = np.isfinite(expected).all(axis=tuple(range(1, expected.ndim)))
        assert np.array_equal(finite, np.isfinite(got).all(axis=tuple(range(1, got.ndim)))), name
        assert np.abs(expected[finite] - got[finite]).max() <= TOLERANCE, name
    assert not np.isfinite(runner_outputs["fp32_sensor_embeds"][-1]).any()  # the all-NaN recording
    assert np.isnan(runner_outputs["fp32_sensor_embeds"]).sum() == runner_outputs["fp32_sensor_embeds"].shape[1]


def test_text_embeddings_match_pytorch(runner_outputs, torch_model):
    model, processor = torch_model
    with torch.no_grad():
        expected = model.get_text_features(**processor(text=TEXTS)).numpy()
    assert np.abs(expected - runner_outputs["fp32_text_embeds"]).max() <= TOLERANCE


def test_int8_embeddings_stay_close_to_fp32(runner_outputs):
    for name in ("sensor_embeds", "text_embeds"):
        fp32, int8 = runner_outputs[f"fp32_{name}"], runner_outputs[f"int8_{name}"]
        rows = np.isfinite(fp32).all(-1)
        assert np.array_equal(rows, np.isfinite(int8).all(-1))
        cosine = (fp32[rows] * int8[rows]).sum(-1)  # both L2-normalised
        assert cosine.min() > 0.95, (name, cosine)
        assert np.abs(fp32[rows] - int8[rows]).max() > TOLERANCE  # the int8 graphs are really quantised


def test_runner_preprocessing_equals_the_feature_extractor(onnx_folder, torch_model):
    from slip_sensor.onnx import SlipOnnxEncoder

    _, processor = torch_model
    runner = SlipOnnxEncoder(onnx_folder)
    recordings, rates = mixed_recordings()
    rng = np.random.default_rng(1)
    long_recording = rng.standard_normal((1, 128 * 384 + 500)).astype(np.float32)  # truncated to max_patches
    huge = np.full((2, 300), 3e38, dtype=np.float32)  # the float32 mean overflows: float64 fallback
    cases = [
        (recordings, rates, None),
        (recordings, np.array(20.0), None),  # a 0-d array rate, as the feature extractor accepts
        (recordings, None, [None, 8, 25, None, 128, 4]),
        (np.stack([rng.standard_normal((3, 120)) for _ in range(3)]), 100.0, None),  # [B, C, T] array
        (list(rng.standard_normal(50)), 2.0, None),  # a flat list: one univariate recording
        ([long_recording, huge], [1000.0, 1 / 600], None),
    ]
    for index, (sensors, rate, size) in enumerate(cases):
        with pytest.warns(UserWarning) if index == 5 else nullcontext():
            got = runner.sensor_features(sensors, rate, size)
        with pytest.warns(UserWarning) if index == 5 else nullcontext():
            expected = processor.feature_extractor(sensors, sampling_rate=rate, patch_size=size, return_tensors="np")
        for key in ("sensor_values", "sensor_mask", "sensor_time", "patch_size"):
            assert got[key].dtype == expected[key].dtype and np.array_equal(got[key], expected[key]), (index, key)


def test_runner_tokens_equal_the_processor(onnx_folder, torch_model):
    from slip_sensor.onnx import SlipOnnxEncoder

    _, processor = torch_model
    expected = processor(text=TEXTS, return_tensors="np")
    got = SlipOnnxEncoder(onnx_folder).tokenize(TEXTS)
    assert got["input_ids"].shape[1] == processor.max_text_length
    for key in ("input_ids", "attention_mask"):
        assert np.array_equal(got[key], expected[key]), key


def test_harness_encoder_gives_the_pytorch_features(onnx_folder, torch_model):
    from slip_sensor.evaluation.harness import SlipEncoder
    from slip_sensor.onnx import OnnxSensorTextEncoder

    model, processor = torch_model
    recordings = [np.random.default_rng(2).standard_normal((3, 400)) for _ in range(5)]
    onnx, reference = OnnxSensorTextEncoder(onnx_folder), SlipEncoder(model, processor, batch_size=2)
    assert np.abs(onnx.token_features(recordings, 50.0) - reference.token_features(recordings, 50.0)).max() <= TOLERANCE
    assert OnnxSensorTextEncoder(onnx_folder, "int8").fingerprint != onnx.fingerprint


def test_bad_input_and_folders_give_clear_errors(onnx_folder, tmp_path, capsys):
    from slip_sensor.onnx import SlipOnnxEncoder

    runner = SlipOnnxEncoder(onnx_folder)
    with pytest.raises(ValueError, match="infinite"):
        runner.embed_sensors([np.array([[1.0, np.inf, 2.0]])], 10.0)
    with pytest.raises(ValueError, match="precision"):
        SlipOnnxEncoder(onnx_folder, precision="fp16")
    with pytest.raises(FileNotFoundError, match="slip export-onnx"):
        SlipOnnxEncoder(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["export-onnx", "--out", str(tmp_path)]) == 2
    assert "did not write" in capsys.readouterr().err
    assert main(["export-onnx", "--out", str(onnx_folder)]) == 2  # an earlier export needs --overwrite
    assert "--overwrite" in capsys.readouterr().err


def test_the_namespace_imports_neither_torch_nor_onnxruntime():
    code = "import json, sys, slip_sensor.onnx; print(json.dumps(sorted({'torch', 'onnxruntime'} & set(sys.modules))))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout.splitlines()[-1]) == []

