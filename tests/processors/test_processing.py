"""SlipProcessor (feature extractor + tokenizer) and the caption tokenizer trainer."""

import ast
import json
import logging
import logging.handlers
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import AutoProcessor, AutoTokenizer
from transformers.dynamic_module_utils import get_class_from_dynamic_module

from slip_sensor.processors import SlipFeatureExtractor, SlipProcessor, train_caption_tokenizer
from slip_sensor.processors import feature_extraction_slip, processing_slip

PAD, EOS, BOS, UNK = 0, 1, 2, 3
TEXTS = ["The heart rate rises steadily.", "Flat.", "Air temperature oscillates with a clear daily cycle, then falls."]


@pytest.fixture
def processor(tiny_tokenizer):
    return SlipProcessor(SlipFeatureExtractor(), tiny_tokenizer)


@contextmanager
def no_warnings():
    """Fails on any Python warning or transformers log record at WARNING or above."""
    handler = logging.handlers.BufferingHandler(capacity=1000)
    handler.setLevel(logging.WARNING)
    logger = transformers.logging.get_logger("transformers")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            yield
    finally:
        logger.removeHandler(handler)
    assert not handler.buffer, [record.getMessage() for record in handler.buffer]


def sensors(batch_size, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((1 + i % 3, 40 + 37 * i)).astype(np.float32) for i in range(batch_size)]


# ---------------------------------------------------------------------------------------------------------------------
# Text


def test_prompt_text_is_bos_prefixed_left_padded_without_eos(processor, tiny_tokenizer):
    batch = processor(text=TEXTS, append_eos=False, return_tensors="np")
    assert set(batch) == {"input_ids", "attention_mask"}
    input_ids, attention_mask = batch["input_ids"], batch["attention_mask"]
    assert input_ids.dtype == attention_mask.dtype == np.int64
    lengths = attention_mask.sum(1)
    assert input_ids.shape == (3, lengths.max())
    for row, text in enumerate(TEXTS):
        pad = input_ids.shape[1] - lengths[row]
        assert (attention_mask[row, :pad] == 0).all() and (attention_mask[row, pad:] == 1).all()  # left padding
        assert (input_ids[row, :pad] == PAD).all()
        own = tiny_tokenizer(text, add_special_tokens=False)["input_ids"]
        assert input_ids[row, pad:].tolist() == [BOS, *own]  # BOS first, no EOS
        assert EOS not in input_ids[row].tolist()


def test_captions_end_with_eos_by_default_and_truncation_keeps_it(processor, tiny_tokenizer):
    batch = processor(text=TEXTS, return_tensors="np")
    for row, text in enumerate(TEXTS):
        own = tiny_tokenizer(text, add_special_tokens=False)["input_ids"]
        assert batch["input_ids"][row][batch["attention_mask"][row] == 1].tolist() == [BOS, *own, EOS]
    # truncation keeps room for the EOS; a short text is untouched
    truncated = processor(text=TEXTS, append_eos=True, max_length=6, return_tensors="np")
    assert truncated["input_ids"].shape[1] == 6 and (truncated["input_ids"][:, -1] == EOS).all()
    assert truncated["input_ids"][0].tolist() == [
        BOS,
        *tiny_tokenizer(TEXTS[0], add_special_tokens=False)["input_ids"][:4],
        EOS,
    ]
    plain = processor(text=TEXTS, append_eos=False, max_length=6, return_tensors="np")
    assert plain["input_ids"].shape[1] == 6 and EOS not in plain["input_ids"]


def test_max_text_length_default_and_override(tiny_tokenizer):
    long_text = " ".join(["the signal rises"] * 100)
    processor = SlipProcessor(SlipFeatureExtractor(), tiny_tokenizer, max_text_length=16)
    assert processor(text=long_text, return_tensors="np")["input_ids"].shape == (1, 16)
    assert processor(text=long_text, max_length=20, return_tensors="np")["input_ids"].shape == (1, 20)
    assert processor(text=long_text, truncation=False, return_tensors="np")["input_ids"].shape[1] > 100


def test_decode_forwards_to_tokenizer(processor):
    batch = processor(text=TEXTS, append_eos=True, return_tensors="pt")
    assert processor.batch_decode(batch["input_ids"], skip_special_tokens=True) == TEXTS
    assert processor.decode(batch["input_ids"][1], skip_special_tokens=True) == TEXTS[1]


# ---------------------------------------------------------------------------------------------------------------------
# Sensors + text


def test_sensors_and_text_in_one_batch_feature(processor):
    batch = processor(
        sensors=sensors(3), text=TEXTS, sampling_rate=[50.0, 1 / 3600, None], append_eos=True
    )
    expected = {"sensor_values", "sensor_mask", "sensor_time", "patch_size", "input_ids", "attention_mask"}
    assert set(batch) == expected
    assert all(isinstance(value, torch.Tensor) for value in batch.values())
    assert batch["sensor_values"].shape[0] == batch["input_ids"].shape[0] == 3
    alone = processor.feature_extractor(sensors(3), sampling_rate=[50.0, 1 / 3600, None], return_tensors="pt")
    for key in alone:
        assert torch.equal(batch[key], alone[key])


def test_twelve_channel_sample_keeps_twelve_channel_rows(processor):
    """More channels than `max_channels` (6, the pretraining subset size) pass through: JapaneseVowels has 12."""
    rng = np.random.default_rng(3)
    wide = rng.standard_normal((12, 26)).astype(np.float32) * np.arange(1, 13, dtype=np.float32)[:, None]
    batch = processor(sensors=[wide, sensors(1)[0]], text=TEXTS[:2], sampling_rate=10.0)
    assert processor.feature_extractor.max_channels == 6
    assert batch["sensor_values"].shape[:2] == (2, 12)
    assert batch["sensor_mask"][0].any(dim=(1, 2)).all()  # each of the 12 rows holds observed values
    ps = int(batch["patch_size"][0])
    values = batch["sensor_values"][0].reshape(12, -1)[:, -26:].numpy()  # left-padded: the series is at the end
    np.testing.assert_allclose(values, wide / np.abs(wide).mean(axis=1, keepdims=True), rtol=1e-5)
    assert ps == processor.feature_extractor.get_patch_size(12, 26, sampling_rate=10.0)


def test_sample_over_the_token_bound_raises(tiny_tokenizer):
    processor = SlipProcessor(SlipFeatureExtractor(max_tokens_per_sample=60), tiny_tokenizer)
    assert processor(sensors=np.ones((12, 20)), patch_size=4)["sensor_values"].shape[1] == 12  # 12 x 5 = 60 tokens
    with pytest.raises(ValueError, match=r"Sample 0 has 13 channels x 5 patches .* max_tokens_per_sample=60"):
        processor(sensors=np.ones((13, 20)), text="Flat.", patch_size=4)


def test_sensor_only_and_text_only(processor):
    only_sensors = processor(sensors=sensors(2), patch_size=[4, 8])
    assert set(only_sensors) == {"sensor_values", "sensor_mask", "sensor_time", "patch_size"}
    assert only_sensors["patch_size"].tolist() == [4, 8]
    only_text = processor(text="Flat.", return_tensors="np")
    assert set(only_text) == {"input_ids", "attention_mask"} and only_text["input_ids"].shape[0] == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs `sensors`, `text` or both"),
        ({"sensors": sensors(2), "text": TEXTS}, "2 sensor samples but 3 texts"),
        ({"sensors": sensors(1), "append_eos": True}, "append_eos needs `text`"),
        ({"text": 42}, "text must be a string or a non-empty list of strings"),
        ({"text": []}, "text must be a string or a non-empty list of strings"),
        ({"text": ["ok", None]}, "text must be a string or a non-empty list of strings"),
        ({"sensors": [], "text": TEXTS}, "empty batch"),
    ],
)
def test_bad_calls_raise_value_error(processor, kwargs, message):
    with pytest.raises(ValueError, match=message):
        processor(**kwargs)


# ---------------------------------------------------------------------------------------------------------------------
# Serialisation


def test_save_and_load_round_trip(tiny_tokenizer, tmp_path):
    feature_extractor = SlipFeatureExtractor(
        token_budget=120, max_channels=4, max_patches=64, max_tokens_per_sample=500
    )
    processor = SlipProcessor(feature_extractor, tiny_tokenizer, max_text_length=24)
    with no_warnings():
        processor.save_pretrained(tmp_path)
        loaded = SlipProcessor.from_pretrained(tmp_path)
    config = json.loads((tmp_path / "processor_config.json").read_text())
    assert config["processor_class"] == "SlipProcessor" and config["max_text_length"] == 24
    # transformers 5 nests the feature extractor in processor_config.json; 4.57 writes preprocessor_config.json
    nested = config.get("feature_extractor") or json.loads((tmp_path / "preprocessor_config.json").read_text())
    assert nested["feature_extractor_type"] == "SlipFeatureExtractor" and nested["token_budget"] == 120
    assert nested["max_tokens_per_sample"] == 500
    assert isinstance(loaded.feature_extractor, SlipFeatureExtractor)
    assert loaded.feature_extractor.to_dict() == feature_extractor.to_dict() and loaded.max_text_length == 24
    assert loaded.feature_extractor.max_tokens_per_sample == 500
    assert loaded.tokenizer.padding_side == "left"
    assert loaded.tokenizer.get_vocab() == tiny_tokenizer.get_vocab()
    kwargs = dict(sensors=sensors(3), text=TEXTS, sampling_rate=10.0, append_eos=True)
    expected, got = processor(**kwargs, return_tensors="np"), loaded(**kwargs, return_tensors="np")
    assert set(got) == set(expected)
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])


def test_hub_files_import_only_torch_numpy_transformers():
    allowed = {"numpy", "torch", "transformers", *sys.stdlib_module_names}
    for module in (feature_extraction_slip, processing_slip):
        tree = ast.parse(Path(module.__file__).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: only a sibling file of the flat Hub folder
                    assert node.level == 1 and node.module == "feature_extraction_slip", ast.dump(node)
                    continue
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert roots <= allowed, f"{Path(module.__file__).name} imports {roots - allowed}"


def test_loads_from_a_flat_hub_folder_with_trust_remote_code(tiny_tokenizer, tmp_path):
    processor = SlipProcessor(SlipFeatureExtractor(token_budget=90), tiny_tokenizer)
    processor._auto_class = "AutoProcessor"  # what register_for_auto_class() sets, on this instance only
    processor.save_pretrained(tmp_path)
    assert {path.name for path in tmp_path.glob("*.py")} == {"processing_slip.py", "feature_extraction_slip.py"}
    auto_map = json.loads((tmp_path / "processor_config.json").read_text())["auto_map"]
    assert auto_map == {"AutoProcessor": "processing_slip.SlipProcessor"}
    # The code path of AutoProcessor for `auto_map` + trust_remote_code: copy the flat files into the modules cache,
    # check their imports, import them as a package. (AutoProcessor itself prefers the installed class once the
    # package has registered it, as importing `SlipProcessor` above did, so it is exercised separately below.)
    remote_class = get_class_from_dynamic_module(auto_map["AutoProcessor"], tmp_path)
    assert remote_class is not SlipProcessor and remote_class.__module__.startswith("transformers_modules.")
    kwargs = dict(sensors=sensors(2), text=TEXTS[:2], return_tensors="np")
    expected = processor(**kwargs)
    for loaded in (
        remote_class.from_pretrained(tmp_path),
        AutoProcessor.from_pretrained(tmp_path, trust_remote_code=True),
    ):
        assert loaded.feature_extractor.token_budget == 90
        got = loaded(**kwargs)
        for key in expected:
            np.testing.assert_array_equal(got[key], expected[key])


# ---------------------------------------------------------------------------------------------------------------------
# Tokenizer trainer


def test_trained_tokenizer_layout(tiny_tokenizer):
    assert (tiny_tokenizer.pad_token_id, tiny_tokenizer.eos_token_id, tiny_tokenizer.bos_token_id) == (PAD, EOS, BOS)
    assert tiny_tokenizer.unk_token_id == UNK
    assert tiny_tokenizer.convert_ids_to_tokens([0, 1, 2, 3]) == ["<pad>", "<eos>", "<bos>", "<unk>"]
    assert tiny_tokenizer.padding_side == "left"
    assert 260 < len(tiny_tokenizer) <= 2048
    ids = tiny_tokenizer("The heart rate")["input_ids"]
    assert (
        ids[0] == BOS
        and EOS not in ids
        and ids[1:] == tiny_tokenizer("The heart rate", add_special_tokens=False)["input_ids"]
    )
    # merges were learned from the captions: a frequent caption word is one token
    assert len(tiny_tokenizer(" signal", add_special_tokens=False)["input_ids"]) == 1


def test_trained_tokenizer_reloads_with_auto_tokenizer(tiny_tokenizer, tmp_path):
    tiny_tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded.padding_side == "left"
    assert (reloaded.pad_token_id, reloaded.eos_token_id, reloaded.bos_token_id, reloaded.unk_token_id) == (0, 1, 2, 3)
    assert reloaded(TEXTS, padding=True)["input_ids"] == tiny_tokenizer(TEXTS, padding=True)["input_ids"]


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=80).filter(lambda t: not any(tok in t for tok in ("<pad>", "<eos>", "<bos>", "<unk>"))))
def test_trained_tokenizer_round_trips_any_text(tiny_tokenizer, text):
    ids = tiny_tokenizer(text)["input_ids"]
    assert ids[0] == BOS and UNK not in ids  # byte-level: nothing is unknown
    assert tiny_tokenizer.decode(ids, skip_special_tokens=True) == text


def test_tokenizer_trainer_arguments():
    small = train_caption_tokenizer(["a tiny corpus of words, words and words"], vocab_size=262)
    assert len(small) <= 262
    with pytest.raises(ValueError, match="vocab_size must be at least 260"):
        train_caption_tokenizer(["text"], vocab_size=100)
    with pytest.raises(ValueError, match="non-empty iterable of strings"):
        train_caption_tokenizer([])
    with pytest.raises(ValueError, match="non-empty iterable of strings"):
        train_caption_tokenizer(["ok", 3])
