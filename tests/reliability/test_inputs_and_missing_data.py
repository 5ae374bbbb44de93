"""Missing data is said, not hidden; bad model inputs get clear errors; the advice in a message can be followed.

The contract for a recording with no observed value (all NaN):
- model API: `SlipSensorModelOutput.sample_mask` is False for it and its embedding (`get_sensor_features`,
  `SlipOutput.sensor_embeds`) is NaN; batch mates are unchanged; a loss refuses it with a `ValueError`;
- pipelines: a `UserWarning`, `observed_fraction` 0.0 in its result, NaN `sensor_embeds` (feature extraction), NaN
  `scores` with the labels in the given order (zero-shot), an empty `generated_text` (captioning).
A partly missing sample or a fully missing channel keeps working: finite embeddings, `observed_fraction` < 1.
"""

import math
import warnings

import numpy as np
import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorMode


RATE = 50.0
LABELS = ["walking", "running", "sitting"]


def recording(seed=0, shape=(3, 200)) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def all_nan(shape=(3, 200)) -> np.ndarray:
    return np.full(shape, np.nan, dtype=np.float32)


def embed(model, processor, samples, **kwargs) -> torch.Tensor:
    with torch.no_grad():
        return model.slip.get_sensor_features(**processor(sensors=samples, sampling_rate=RATE, **kwargs))


# ---------------------------------------------------------------------------------------------------------------------
# Missing data: the model API


def test_all_nan_sample_gets_a_nan_embedding_and_leaves_batch_mates_alone(model_and_processor):
    model, processor = model_and_processor
    alone = embed(model, processor, [recording()])
    batch = embed(model, processor, [all_nan(), recording()])
    assert torch.isnan(batch[0]).all()
    torch.testing.assert_close(batch[1], alone[0], atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        outputs = model.slip.sensor_model(**processor(sensors=[all_nan(), recording()], sampling_rate=RATE))
    assert outputs.sample_mask.tolist() == [False, True]


def test_partly_missing_sample_and_missing_channel_keep_working(model_and_processor):
    model, processor = model_and_processor
    holes = recording()
    holes[0, 20:120] = np.nan
    holes[1, ::3] = np.nan
    dead_channel = recording()
    dead_channel[2] = np.nan
    embeds = embed(model, processor, [holes, dead_channel], patch_size=8)
    assert torch.isfinite(embeds).all()
    torch.testing.assert_close(embeds.norm(dim=-1), torch.ones(2))
    # a channel with no observed value is masked out, as if it were not there
    without_channel = embed(model, processor, [dead_channel[:2]], patch_size=8)
    torch.testing.assert_close(embeds[1], without_channel[0], atol=1e-5, rtol=1e-5)


def test_contrastive_loss_refuses_a_sample_with_no_observed_value(model_and_processor):
    model, processor = model_and_processor
    inputs = processor(sensors=[recording(), all_nan()], text=["a walk", "a run"], sampling_rate=RATE)
    with pytest.raises(ValueError, match=r"Samples \[1\] have no observed value"):
        model.slip(**inputs)
    with pytest.raises(ValueError, match=r"Samples \[1\] have no observed value"):
        model(**inputs, labels=inputs["input_ids"])
    with torch.no_grad():
        outputs = model.slip(**inputs, return_loss=False)
    assert torch.isfinite(outputs.sensor_embeds[0]).all() and torch.isnan(outputs.sensor_embeds[1]).all()


# ---------------------------------------------------------------------------------------------------------------------
# Missing data: the pipelines


def run_with_missing_warning(pipe, inputs, **kwargs):
    with pytest.warns(UserWarning, match=r"1 of 2 inputs have no observed value \(all NaN\)"):
        return pipe(inputs, sampling_rate=RATE, batch_size=2, **kwargs)


def test_feature_extraction_flags_an_all_nan_input(pipelines):
    extractor = pipelines["features"]
    missing, present = run_with_missing_warning(extractor, [all_nan(), recording()])
    assert missing["observed_fraction"] == 0.0 and all(math.isnan(value) for value in missing["sensor_embeds"])
    alone = extractor(recording(), sampling_rate=RATE)
    assert present["sensor_embeds"] == pytest.approx(alone["sensor_embeds"], abs=1e-5)
    assert present["observed_fraction"] == 1.0


def test_zero_shot_gives_no_answer_for_an_all_nan_input(pipelines):
    classifier = pipelines["zero-shot"]
    missing, present = run_with_missing_warning(classifier, [all_nan(), recording()], candidate_labels=LABELS)
    assert missing["labels"] == LABELS and all(math.isnan(score) for score in missing["scores"])
    assert missing["observed_fraction"] == 0.0
    alone = classifier(recording(), sampling_rate=RATE, candidate_labels=LABELS)
    assert present["labels"] == alone["labels"] and present["scores"] == pytest.approx(alone["scores"], abs=1e-5)
    assert sum(present["scores"]) == pytest.approx(1.0)


def test_captioning_writes_no_caption_for_an_all_nan_input(pipelines):
    captioner = pipelines["captioning"]
    inputs = [{"sensors": all_nan(), "prompt": "The heart rate"}, recording()]
    missing, present = run_with_missing_warning(captioner, inputs, max_new_tokens=4)
    assert missing == [{"generated_text": "", "observed_fraction": 0.0}]
    assert present == captioner(recording(), sampling_rate=RATE, max_new_tokens=4)


def test_observed_fraction_of_a_partly_missing_input(pipelines):
    sample = recording(shape=(2, 100))
    sample[0, :30] = np.nan
    sample[1, 50:60] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # partly missing data is no reason to warn
        result = pipelines["features"](sample, sampling_rate=RATE)
    assert result["observed_fraction"] == pytest.approx(160 / 200)
    assert np.isfinite(result["sensor_embeds"]).all()


# ---------------------------------------------------------------------------------------------------------------------
# Raw model inputs: clear errors


def raw_inputs(processor) -> dict:
    return dict(processor(sensors=[recording(), recording(1, (2, 90))], sampling_rate=RATE))


def with_nan_observed(inputs):
    values = inputs["sensor_values"].clone()
    values[1, 0, -1, 0] = float("nan")
    return {**inputs, "sensor_values": values}


def with_patch_size(size):
    return lambda inputs: {**inputs, "patch_size": torch.full_like(inputs["patch_size"], size)}


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (with_nan_observed, r"NaN or infinite values where sensor_mask marks them observed \(samples \[1\]\)"),
        (lambda inputs: {**inputs, "sensor_values": inputs["sensor_values"].numpy()}, "sensor_values must be a torch"),
        (lambda inputs: {**inputs, "patch_size": inputs["patch_size"].numpy()}, "patch_size must be a torch"),
        (lambda inputs: {**inputs, "sensor_mask": inputs["sensor_mask"][:, :1]}, "must share the shape"),
        (lambda inputs: {**inputs, "sensor_time": inputs["sensor_time"][..., :-1]}, "must share the shape"),
        (lambda inputs: {**inputs, "patch_size": inputs["patch_size"][:1]}, r"patch_size must have shape \[2\]"),
        (lambda inputs: {**inputs, "patch_size": inputs["patch_size"].float()}, "patch_size must be an integer"),
        (lambda inputs: {**inputs, "sensor_values": inputs["sensor_values"].long()}, "floating-point"),
        (with_patch_size(10_000), r"patch_size must lie in 1\.\."),
        (with_patch_size(0), r"patch_size must lie in 1\.\."),
        (lambda inputs: {**inputs, "sensor_time": inputs["sensor_time"] / 0}, "sensor_time holds NaN"),
    ],
)
def test_bad_raw_sensor_inputs_raise_value_errors(model_and_processor, corrupt, message):
    model, processor = model_and_processor
    with pytest.raises(ValueError, match=message):
        model.slip.get_sensor_features(**corrupt(raw_inputs(processor)))


def test_nan_at_unobserved_positions_is_ignored(model_and_processor):
    model, processor = model_and_processor
    inputs = raw_inputs(processor)
    stale = inputs["sensor_values"].masked_fill(~inputs["sensor_mask"], float("nan"))
    with torch.no_grad():
        torch.testing.assert_close(
            model.slip.get_sensor_features(**{**inputs, "sensor_values": stale}),
            model.slip.get_sensor_features(**inputs),
        )


@pytest.mark.parametrize("token", [-1, 2048, 10**6])
def test_out_of_vocabulary_ids_raise_value_errors(model_and_processor, token):
    model, processor = model_and_processor
    text = processor(text=["a walk"], return_tensors="pt")
    input_ids = text["input_ids"].clone()
    input_ids[0, -1] = token
    with pytest.raises(ValueError, match=r"outside the vocabulary 0\.\.2047"):
        model.slip.get_text_features(input_ids, text["attention_mask"])
    sensors = processor(sensors=[recording()], sampling_rate=RATE)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model.generate(**sensors, input_ids=input_ids, attention_mask=text["attention_mask"], max_new_tokens=2)
    with pytest.raises(ValueError, match="input_ids must be a torch.Tensor"):
        model.slip.get_text_features(input_ids.numpy())


def test_value_checks_are_skipped_on_fake_tensors(model_and_processor):
    # Memory estimates run the model on shape-only tensors: nothing can be read, so nothing may be checked.
    model, processor = model_and_processor
    inputs = with_nan_observed(raw_inputs(processor))
    with FakeTensorMode(allow_non_fake_inputs=True) as mode:
        fake = {key: mode.from_tensor(value) for key, value in inputs.items()}
        embeds = model.slip.get_sensor_features(**fake)
    assert embeds.shape == (2, model.config.projection_dim)


# ---------------------------------------------------------------------------------------------------------------------
# The advice in a message can be followed


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("captioning", {"max_new_tokens": 2}), ("zero-shot", {"candidate_labels": LABELS}), ("features", {})],
)
def test_truncation_advice_is_a_patch_size_the_pipelines_take(pipelines, name, kwargs):
    pipe = pipelines[name]
    long_series = recording(shape=(1, 128 * 384 + 1))
    with pytest.warns(UserWarning, match=r"pass patch_size=129 or larger") as record:
        pipe(long_series, sampling_rate=RATE, **kwargs)
    assert len(record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        by_call = pipe(long_series, sampling_rate=RATE, patch_size=129, **kwargs)
        by_input = pipe({"sensors": long_series, "patch_size": 129}, sampling_rate=RATE, **kwargs)
    assert by_call == by_input


def test_patch_size_reaches_the_processor(pipelines, model_and_processor):
    model, processor = model_and_processor
    sample = recording()
    result = pipelines["features"]([{"sensors": sample, "patch_size": 5}, sample], patch_size=20, return_tensors=True)
    for item, size in zip(result, (5, 20)):
        torch.testing.assert_close(item["sensor_embeds"], embed(model, processor, [sample], patch_size=size)[0])
    tokens = pipelines["features"](sample, patch_size=5, return_tokens=True, return_tensors=True)
    assert tokens["token_states"].shape[:2] == (3, 40)
    with pytest.raises(ValueError, match="patch_size must be an integer >= 1"):
        pipelines["features"](sample, patch_size=0)


@pytest.mark.parametrize(
    "template", ["This sensor recording shows activity.", "{} {}", "{0}", "{label}", "{:>8}", "{", "}", "{!r}", 3]
)
def test_hypothesis_template_needs_exactly_one_placeholder(pipelines, template):
    with pytest.raises(ValueError, match="hypothesis_template"):
        pipelines["zero-shot"](recording(), candidate_labels=LABELS, hypothesis_template=template)


@pytest.mark.parametrize("template", ["{}", "Someone is {} now.", "{{braces}} around {}"])
def test_good_hypothesis_templates_are_accepted(pipelines, template):
    result = pipelines["zero-shot"](recording(), candidate_labels=LABELS, hypothesis_template=template)
    assert sorted(result["labels"]) == sorted(LABELS)
