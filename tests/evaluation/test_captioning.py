"""Caption evaluation (`evaluation.captioning`): held-out samples and references, greedy generation on a tiny random
captioning model, faithfulness bounds, and `slip evaluate --tasks captions` end to end."""

import json

import numpy as np
import pytest
import torch

from slip_sensor.data.phrasing import drop_first_sentence
from slip_sensor.data.synthetic import make_record
from slip_sensor.evaluation.captioning import (
    caption_prompt,
    generate_captions,
    held_out_caption_samples,
    score_faithfulness,
)
from slip_sensor.evaluation.synthetic_tasks import EVAL_SEED

NUM_SAMPLES = 16


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The tiny model decodes fastest on one thread (and does not fight other processes for the cores)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def samples():
    return held_out_caption_samples(NUM_SAMPLES)


@pytest.fixture(scope="module")
def captioner():
    from slip_sensor.hub_export import preset_model

    return preset_model("slip-tiny", seed=0)  # random SlipForConditionalGeneration + locally trained tokenizer


def test_drop_first_sentence():
    text = "This 2.3 h series is sampled at 0.5 Hz. It rises. Then falls."
    assert drop_first_sentence(text) == "It rises. Then falls."
    assert drop_first_sentence("  Only one sentence, 2.5 s long.  ") == ""


def test_samples_are_channels_first_with_references_without_the_opening_sentence(samples):
    from slip_sensor.data.semantics import intro_statement

    assert [s.id for s in samples] == [make_record(i, EVAL_SEED).id for i in range(NUM_SAMPLES)]
    assert len({s.channel_names[0] for s in samples}) > 1 and any(len(s.channel_names) > 1 for s in samples)
    for index, sample in enumerate(samples):
        record = make_record(index, EVAL_SEED)
        channels, length = sample.sensor.shape
        assert channels == len(sample.channel_names) == len(record.channel_names) and length > channels
        np.testing.assert_array_equal(sample.sensor, record.sensor)
        assert sample.seed == EVAL_SEED and sample.sampling_rate == record.sampling_rate
        reference = sample.reference
        assert reference and reference == reference.strip()
        opening = record.caption.semantic.split(". ")[0]
        assert record.caption.caption.startswith(opening) and opening not in reference
        for wording in intro_statement(
            sample.channel_names, length / sample.sampling_rate, sample.sampling_rate, sample.domain
        ):
            assert wording[:-1].lower() not in reference.lower()
        assert record.caption.structural.strip() in reference


def test_references_state_no_recording_facts_and_are_faithful(samples):
    references = [s.reference for s in samples]
    faithful = score_faithfulness(references, samples)
    # the opening sentence (duration, sampling rate, channel count) is what the prompt gives: not in the reference
    assert not {"duration", "sampling_rate", "channels"} & set(faithful["per_kind"])
    with_opening = score_faithfulness([make_record(i, EVAL_SEED).caption.caption for i in range(4)], samples[:4])
    assert {"duration", "sampling_rate"} <= set(with_opening["per_kind"])

    assert faithful["num_captions"] == NUM_SAMPLES and faithful["captions_without_facts"] == 0
    assert faithful["share_true"] >= 0.8
    shuffled = score_faithfulness(references[1:] + references[:1], samples)  # each reference on the next series
    assert shuffled["num_stated"] > 0
    assert shuffled["share_true"] < faithful["share_true"] - 0.2
    assert shuffled["share_true"] < 0.6


def test_generate_captions_returns_only_new_tokens(captioner, samples):
    model, processor = captioner
    tokenizer = processor.tokenizer
    batch = samples[:6]
    max_new_tokens = 8
    continuations, prompts, new_ids = generate_captions(
        model, processor, batch, max_new_tokens=max_new_tokens, batch_size=4, return_new_tokens=True
    )
    assert len(continuations) == len(prompts) == len(new_ids) == len(batch)
    assert prompts == [caption_prompt(s) for s in batch]
    assert all(p and p.endswith(".") and "synthetic" in p for p in prompts)
    assert any(continuations), "the random model should emit some decodable text"
    for continuation, prompt, ids in zip(continuations, prompts, new_ids):
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        assert len(prompt_ids) > max_new_tokens  # so a continuation that kept the prompt could not fit the bound
        assert 1 <= len(ids) <= max_new_tokens
        assert ids[: len(prompt_ids)] != prompt_ids
        assert tokenizer.decode(ids, skip_special_tokens=True).strip() == continuation
        assert not continuation.startswith(prompt[:20])

    # batches are left-padded prompts of different lengths: each sample's greedy caption does not depend on them
    alone = [generate_captions(model, processor, [s], max_new_tokens=max_new_tokens)[0][0] for s in batch[:3]]
    assert alone == continuations[:3]

    # the protocol spelled out for one sample: the prompt is continued (no EOS after it), greedy, new ids only
    sample = batch[1]
    inputs = processor(
        sensors=[sample.sensor], text=[prompts[1]], sampling_rate=[sample.sampling_rate], append_eos=False
    )
    assert inputs["input_ids"][0, -1] != tokenizer.eos_token_id
    generated = model.generate(
        **inputs, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    assert generated[0, : inputs["input_ids"].shape[1]].tolist() == inputs["input_ids"][0].tolist()
    assert generated[0, inputs["input_ids"].shape[1] :].tolist()[: len(new_ids[1])] == new_ids[1]

    bos_only, empty_prompts = generate_captions(model, processor, batch[:2], max_new_tokens=4, use_known_facts=False)
    assert empty_prompts == ["", ""] and len(bos_only) == 2


def test_evaluate_captions_with_metrics_scores_empty_captions(captioner, samples):
    from slip_sensor.evaluation.captioning import evaluate_captions

    model, processor = captioner
    batch = samples[:4]
    continuations, _ = generate_captions(model, processor, batch, max_new_tokens=6)
    assert "" in continuations  # the random model stops at once on some series: those must still be scored

    result = evaluate_captions(model, processor, batch, max_new_tokens=6, metrics=True)
    assert [e["generated"] for e in result["examples"]] == continuations
    metrics = result["metrics"]
    assert metrics["num_empty_predictions"] == continuations.count("")
    assert 0.0 <= metrics["bleu4"] < 0.5 and 0.0 <= metrics["bertscore_f1"] < 0.6  # random text vs references
    assert result["faithfulness"]["num_captions"] == 4
    assert result["samples"] == {"source": "synthetic", "seed": EVAL_SEED}


def test_evaluate_model_needs_a_captioning_model(captioner):
    import slip_sensor
    from slip_sensor.evaluation.harness import evaluate_model, resolve_tasks

    _, processor = captioner
    with pytest.raises(ValueError, match="captions"):
        resolve_tasks(["captions"])
    torch.manual_seed(0)
    two_towers = slip_sensor.SlipModel(slip_sensor.SlipConfig.from_preset("slip-tiny"))
    with pytest.raises(ValueError, match="SlipForConditionalGeneration"):
        evaluate_model(two_towers, processor, tasks=["captions"], progress=False)


def test_cli_captions_task(captioner, tmp_path):
    from slip_sensor import cli
    from slip_sensor.evaluation.report import results_table

    model, processor = captioner
    folder = tmp_path / "slip-tiny"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    out = tmp_path / "results.json"
    args = ["evaluate", "--model", str(folder), "--tasks", "captions", "--no-caption-metrics"]
    args += ["--caption-samples", "4", "--out", str(out), "--no-progress"]
    assert cli.main(args) == 0

    results = json.loads(out.read_text())
    captions = results["captions"]
    keys = {"num_samples", "known_facts_prompt", "faithfulness", "reference_faithfulness", "metrics", "examples"}
    assert keys <= set(captions)
    assert captions["num_samples"] == 4 and captions["known_facts_prompt"] is True and captions["metrics"] is None
    assert captions["samples"] == {"source": "synthetic", "seed": EVAL_SEED}
    assert captions["faithfulness"]["num_captions"] == captions["reference_faithfulness"]["num_captions"] == 4
    assert captions["reference_faithfulness"]["share_true"] >= 0.5
    examples = captions["examples"]
    assert [e["reference"] for e in examples] == [s.reference for s in held_out_caption_samples(4)]
    assert all(set(e) == {"id", "prompt", "generated", "reference"} and e["prompt"] for e in examples)
    assert results["tasks"] == {} and results["model"]["num_parameters"] > 0

    markdown = out.with_suffix(".md").read_text()
    assert "Captions of 4 held-out synthetic series" in markdown and "| references (ceiling) |" in markdown
    captions["metrics"] = {"bleu4": 0.1234, "rouge_l": 0.25, "bertscore_f1": 0.875}
    assert "| 12.34 | 25.00 | 87.50 |" in results_table(results)
