"""The pretraining options a recipe sets: caption mix, oversampling, text pooling, the sensor encoder's learning rate,
and retrieval at evaluation steps."""

import random

import pytest
import torch
from datasets import Dataset

from slip_sensor import SlipForConditionalGeneration
from slip_sensor.evaluation.retrieval import retrieval_from_embeddings
from slip_sensor.training.arguments import TrainingArguments
from slip_sensor.training.collator import caption_candidates, held_out_caption, sample_caption
from slip_sensor.training.api import oversampled
from slip_sensor.training.trainer import SlipTrainer
from tests.models.test_modeling_slip import SlipModelTester
from tests.training.distributed_step import rows, stack

ROW = {
    "caption": "Full caption with 12.5 numbers.",
    "caption_statistical": "The mean is 3.2.",
    "caption_structural": "Overall, the signal rises.",
    "caption_semantic": "A recording of ECG lasting 10 s. The subject was resting.",
    "paraphrases": ["Paraphrase one.", "Paraphrase two."],
}


def test_short_mix_pairs_a_sensor_with_qualitative_levels_only():
    assert set(caption_candidates(ROW, "short")) == {
        "A recording of ECG lasting 10 s. The subject was resting.", "Overall, the signal rises.",
        "A recording of ECG lasting 10 s. The subject was resting. Overall, the signal rises.",
    }
    assert len(caption_candidates(ROW, "all")) == 6
    assert caption_candidates({**ROW, "caption_semantic": "", "caption_structural": ""}, "short") == [ROW["caption"]]
    # an opening sentence alone (synthetic rows) would teach the decoder to stop after the known facts
    intro_only = {**ROW, "caption_semantic": "A recording of the signal lasting 87 s, sampled at 1 Hz."}
    assert "A recording of the signal lasting 87 s, sampled at 1 Hz." not in caption_candidates(intro_only, "short")
    assert caption_candidates({**intro_only, "caption_structural": ""}, "short") == [intro_only["caption_semantic"]]
    drawn = {sample_caption(dict(ROW), random.Random(seed), mix="short")["text"] for seed in range(40)}
    assert drawn == set(caption_candidates(ROW, "short"))
    assert held_out_caption(dict(ROW))["text"] == (
        "A recording of ECG lasting 10 s. The subject was resting. Overall, the signal rises."
    )
    with pytest.raises(ValueError, match="caption mix"):
        caption_candidates(ROW, "long")


def test_oversampling_repeats_labelled_rows_only():
    corpus = Dataset.from_dict({"source": ["synthetic", "aeon/BasicMotions/train", "physio"], "id": ["a", "b", "c"]})
    assert oversampled(corpus, 3)["id"] == ["a", "b", "b", "b", "c"]
    assert oversampled(corpus, 1) is corpus
    with pytest.raises(ValueError):
        oversampled(corpus, 0)


def test_mean_text_pooling_ignores_padding():
    tester = SlipModelTester()
    model = SlipForConditionalGeneration(tester.get_config(text_pooling="mean")).slip.eval()
    text = tester.text_inputs()
    states = torch.randn(*text["input_ids"].shape, model.config.text_config.hidden_size)
    mask = text["attention_mask"]
    expected = torch.stack([states[i][mask[i].bool()].mean(0) for i in range(len(states))])
    expected = torch.nn.functional.normalize(model.text_projection(expected), dim=-1)
    torch.testing.assert_close(model.text_embedding(states, mask), expected)


def _trainer(tmp_path, **arguments) -> SlipTrainer:
    torch.manual_seed(0)
    model = SlipForConditionalGeneration(SlipModelTester().get_config())
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none", learning_rate=1e-3,
                             per_device_eval_batch_size=3, remove_unused_columns=False, **arguments)
    return SlipTrainer(model=model, args=args, train_dataset=rows(), eval_dataset=rows(), data_collator=stack)


def test_sensor_encoder_gets_its_own_learning_rate(tmp_path):
    trainer = _trainer(tmp_path, sensor_encoder_lr_scale=0.1, weight_decay=0.05)
    optimizer = trainer.create_optimizer()
    rate = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    for name, parameter in trainer.model.named_parameters():
        trunk = name.startswith(("slip.sensor_model.embeddings.", "slip.sensor_model.layers."))
        assert rate[id(parameter)] == pytest.approx(1e-4 if trunk else 1e-3), name
    assert len(rate) == sum(p.requires_grad for p in trainer.model.parameters())


def test_evaluation_reports_retrieval_over_the_whole_evaluation_set(tmp_path):
    trainer = _trainer(tmp_path)
    metrics = trainer.evaluate()
    batch = stack(rows())
    with torch.no_grad():
        outputs = trainer.model.eval()(**batch, return_loss=False)
    expected = retrieval_from_embeddings(outputs.sensor_embeds, outputs.text_embeds)
    assert metrics["eval_retrieval/num_pairs"] == len(rows())
    for direction in ("text_to_sensor", "sensor_to_text"):
        for name in ("recall_at_1", "mean_rank"):
            assert metrics[f"eval_retrieval/{direction}/{name}"] == pytest.approx(expected[direction][name])
