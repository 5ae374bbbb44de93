"""The SLIP pipelines with the installed package: registry, input forms, batching, outputs against the model API."""

import numpy as np
import pytest
import torch
from transformers import pipeline

from slip_sensor import (
    SensorCaptioningPipeline,
    SensorFeatureExtractionPipeline,
    SlipModel,
    ZeroShotSensorClassificationPipeline,
)

RATE = 50.0
LABELS = ["walking", "running", "sitting", "climbing stairs"]


@pytest.fixture(scope="module")
def samples() -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    shapes = [(3, 200), (2, 333), (1, 120), (6, 64), (4, 1000)]
    arrays = [rng.normal(size=shape).astype(np.float32) for shape in shapes]
    arrays[1][1, 50:90] = np.nan
    return arrays


@pytest.fixture(scope="module")
def pipelines(tiny_model_and_processor) -> dict:
    """The three pipelines built through `transformers.pipeline` and the registry `import slip_sensor` fills."""
    causal_model, processor = tiny_model_and_processor
    two_tower = causal_model.slip
    return {
        "captioning": pipeline("sensor-captioning", model=causal_model, processor=processor),
        "zero-shot": pipeline("zero-shot-sensor-classification", model=two_tower, processor=processor),
        "features": pipeline("sensor-feature-extraction", model=two_tower, processor=processor),
    }


def test_registry_builds_the_slip_pipelines(pipelines):
    assert isinstance(pipelines["captioning"], SensorCaptioningPipeline)
    assert isinstance(pipelines["zero-shot"], ZeroShotSensorClassificationPipeline)
    assert isinstance(pipelines["features"], SensorFeatureExtractionPipeline)


def test_padding_separate_outputs_equals_processing_the_batch_at_once(tiny_model_and_processor, samples):
    _, processor = tiny_model_and_processor
    texts = ["a", "the heart rate rises", "walking", "b c", "sitting still for a while"]
    parts = [
        processor(sensors=[samples[0]], text=texts[0], sampling_rate=RATE),
        processor(sensors=samples[1:3], text=texts[1:3], sampling_rate=RATE),
        processor(sensors=samples[3:], text=texts[3:], sampling_rate=RATE, return_tensors="np"),
    ]
    padded = processor.pad(parts)
    batch = processor(sensors=samples, text=texts, sampling_rate=RATE, return_tensors="pt")
    assert padded.keys() == batch.keys()
    for key in batch:
        assert torch.equal(padded[key], batch[key]), key


def test_captioning_batch_equals_one_by_one(pipelines, samples):
    captioner = pipelines["captioning"]
    inputs = [{"sensors": sample, "prompt": prompt} for sample, prompt in zip(samples, [None, "The", None, "A", None])]
    one_by_one = [captioner(item, sampling_rate=RATE, max_new_tokens=6) for item in inputs]
    batched = captioner(inputs, sampling_rate=RATE, max_new_tokens=6, batch_size=3)
    assert batched == one_by_one
    assert all(len(result) == 1 and isinstance(result[0]["generated_text"], str) for result in batched)


def test_captioning_returns_only_new_tokens(pipelines, tiny_model_and_processor, samples):
    causal_model, processor = tiny_model_and_processor
    prompt = "The heart rate rises"
    result = pipelines["captioning"]({"sensors": samples[0], "sampling_rate": RATE, "prompt": prompt}, max_new_tokens=7)
    inputs = processor(sensors=[samples[0]], text=prompt, sampling_rate=RATE, append_eos=False, return_tensors="pt")
    generated = causal_model.generate(**inputs, max_new_tokens=7, do_sample=False)
    new_tokens = generated[0, inputs["input_ids"].shape[1] :]
    assert result == [
        {"generated_text": processor.tokenizer.decode(new_tokens, skip_special_tokens=True), "observed_fraction": 1.0}
    ]


def test_captioning_without_prompt_matches_generate_from_bos(pipelines, tiny_model_and_processor, samples):
    causal_model, processor = tiny_model_and_processor
    sensor_inputs = processor(sensors=[torch.from_numpy(samples[2][0])], sampling_rate=RATE, return_tensors="pt")
    generated = causal_model.generate(**sensor_inputs, max_new_tokens=5, do_sample=False)
    expected = processor.tokenizer.decode(generated[0, 1:], skip_special_tokens=True)
    # a 1-D torch tensor is one channel
    assert pipelines["captioning"](torch.from_numpy(samples[2][0]), sampling_rate=RATE, max_new_tokens=5) == [
        {"generated_text": expected, "observed_fraction": 1.0}
    ]


def test_captioning_passes_generation_kwargs(pipelines, samples):
    results = pipelines["captioning"](
        samples[:2], sampling_rate=RATE, batch_size=2, generate_kwargs={"num_beams": 3}, num_return_sequences=3,
        max_new_tokens=2,
    )
    assert [len(result) for result in results] == [3, 3]
    with pytest.raises(ValueError, match="num_return_sequences"):
        pipelines["captioning"](samples[0], sampling_rate=RATE, num_return_sequences=3, max_new_tokens=2)


def test_zero_shot_scores_are_the_softmax_of_scaled_cosines(pipelines, tiny_model_and_processor, samples):
    causal_model, processor = tiny_model_and_processor
    model: SlipModel = causal_model.slip
    template = "Someone is {} now."
    result = pipelines["zero-shot"](
        samples[0], sampling_rate=RATE, candidate_labels=LABELS, hypothesis_template=template
    )
    sensor_inputs = processor(sensors=[samples[0]], sampling_rate=RATE, return_tensors="pt")
    text_inputs = processor(text=[template.format(label) for label in LABELS], return_tensors="pt")
    with torch.no_grad():
        cosine = model.get_sensor_features(**sensor_inputs) @ model.get_text_features(**text_inputs).T
    scale = model.logit_scale.clamp(max=model.config.logit_scale_max).exp()
    probabilities = (scale * cosine)[0].softmax(-1)
    order = probabilities.argsort(descending=True)
    assert result["labels"] == [LABELS[index] for index in order]
    assert result["scores"] == pytest.approx(probabilities[order].tolist(), abs=1e-6)
    assert result["scores"] == sorted(result["scores"], reverse=True) and sum(result["scores"]) == pytest.approx(1.0)


def test_zero_shot_batch_matches_one_by_one(pipelines, samples):
    classifier = pipelines["zero-shot"]
    one_by_one = [classifier(sample, sampling_rate=RATE, candidate_labels=LABELS) for sample in samples]
    batched = classifier(samples, sampling_rate=RATE, candidate_labels=LABELS, batch_size=4)
    for single, batch in zip(one_by_one, batched):
        assert batch["labels"] == single["labels"]
        assert batch["scores"] == pytest.approx(single["scores"], abs=1e-5)
    with pytest.raises(ValueError, match="candidate_labels"):
        classifier(samples[0], sampling_rate=RATE)


def test_zero_shot_splits_a_comma_separated_label_string_and_cuts_to_top_k(pipelines, samples):
    classifier = pipelines["zero-shot"]
    full = classifier(samples[0], sampling_rate=RATE, candidate_labels=LABELS)
    from_string = classifier(samples[0], sampling_rate=RATE, candidate_labels=" walking,running, ,sitting , climbing stairs")
    assert from_string == full
    best_two = classifier(samples[0], sampling_rate=RATE, candidate_labels=LABELS, top_k=2)
    assert best_two["labels"] == full["labels"][:2] and best_two["scores"] == full["scores"][:2]
    with pytest.raises(ValueError, match="top_k"):
        classifier(samples[0], sampling_rate=RATE, candidate_labels=LABELS, top_k=0)


def test_zero_shot_multi_label_scores_each_label_on_its_own(pipelines, tiny_model_and_processor, samples):
    causal_model, processor = tiny_model_and_processor
    classifier = pipelines["zero-shot"]
    result = classifier(samples[0], sampling_rate=RATE, candidate_labels=LABELS, multi_label=True)
    sensor_inputs = processor(sensors=[samples[0]], sampling_rate=RATE, return_tensors="pt")
    text_inputs = processor(text=[f"This sensor recording shows {label}." for label in LABELS], return_tensors="pt")
    with torch.no_grad():
        cosine = causal_model.slip.get_sensor_features(**sensor_inputs) @ causal_model.slip.get_text_features(**text_inputs).T
    expected = dict(zip(LABELS, ((1 + cosine[0]) / 2).tolist()))
    assert dict(zip(result["labels"], result["scores"])) == pytest.approx(expected, abs=1e-5)
    # independent of the other candidates, unlike the softmax
    alone = classifier(samples[0], sampling_rate=RATE, candidate_labels=LABELS[1:2], multi_label=True)
    assert alone["scores"] == pytest.approx([expected[LABELS[1]]], abs=1e-5)
    assert classifier(samples[0], sampling_rate=RATE, candidate_labels=LABELS[1:2])["scores"] == [1.0]


def test_zero_shot_windows_keep_every_label_and_top_k_cuts_the_recording(pipelines, samples):
    classifier = pipelines["zero-shot"]
    recording = samples[4]  # 20 s at 50 Hz
    full = classifier(recording, sampling_rate=RATE, candidate_labels=LABELS, chunk_length_s=6.0)
    cut = classifier(recording, sampling_rate=RATE, candidate_labels=LABELS, chunk_length_s=6.0, top_k=1)
    assert cut["labels"] == full["labels"][:1] and cut["scores"] == pytest.approx(full["scores"][:1])
    assert len(cut["chunks"]) > 1 and all(len(chunk["labels"]) == len(LABELS) for chunk in cut["chunks"])


def test_feature_extraction_returns_embeddings_and_unpadded_tokens(pipelines, tiny_model_and_processor, samples):
    causal_model, processor = tiny_model_and_processor
    extractor = pipelines["features"]
    batched = extractor(samples, sampling_rate=RATE, return_tokens=True, return_tensors=True, batch_size=5)
    for sample, result in zip(samples, batched):
        inputs = processor(sensors=[sample], sampling_rate=RATE, return_tensors="pt")
        with torch.no_grad():
            outputs = causal_model.slip.sensor_model(**inputs)
            embedding = causal_model.slip.get_sensor_features(**inputs)[0]
        _, channels, patches, _ = inputs["sensor_values"].shape
        assert torch.allclose(result["sensor_embeds"], embedding, atol=1e-5)
        assert result["token_states"].shape == (channels, patches, causal_model.config.sensor_config.hidden_size)
        token_states = outputs.last_hidden_state.reshape(channels, patches, -1)
        assert torch.allclose(result["token_states"], token_states, atol=1e-5)
        assert torch.equal(result["token_mask"], outputs.patch_mask[0])
    as_lists = extractor(samples[0], sampling_rate=RATE)
    assert set(as_lists) == {"sensor_embeds", "observed_fraction"} and len(as_lists["sensor_embeds"]) == causal_model.config.projection_dim


@pytest.mark.parametrize(
    "bad_input, message",
    [
        (np.zeros((2, 3, 100), dtype=np.float32), "one sample"),
        ([0.1, 0.2, 0.3], "one sample"),
        ({"sensors": np.zeros((2, 50)), "rate": 10.0}, "dict input"),
        ({"sampling_rate": 10.0}, "dict input"),
        ({"sensors": None}, "dict input"),
    ],
)
def test_inputs_that_are_not_one_sample_are_rejected(pipelines, bad_input, message):
    with pytest.raises(ValueError, match=message):
        pipelines["features"](bad_input, sampling_rate=RATE)
