"""Fine-tuning: the instruction collator puts the loss on the answer only; LoRA SFT on questions generated from the
synthetic corpus's true facts raises held-out QA accuracy, and the saved model has the adapters merged."""

import json

import pytest
import torch
from safetensors.torch import load_file

from slip_sensor.data.questions import build_qa_dataset
from slip_sensor.processors import SlipProcessor
from slip_sensor.training.api import sft
from slip_sensor.training.collator import SensorAugmentation, SlipInstructionCollator
from slip_sensor.training.epoch_dataset import EpochSeededDataset


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from slip_sensor.data import build_corpus

    path = tmp_path_factory.mktemp("sft") / "corpus"
    build_corpus(path, n=300, seed=0, sources=["synthetic"])
    return path


@pytest.fixture(scope="module")
def base_model(tiny_model_dir):
    return tiny_model_dir, SlipProcessor.from_pretrained(tiny_model_dir)


def test_instruction_collator_masks_everything_but_the_answer(corpus, base_model):
    from slip_sensor.data import load_corpus

    _, processor = base_model
    rows = [dict(row) for row in build_qa_dataset(load_corpus(corpus, split="train").select(range(4)))]
    batch = SlipInstructionCollator(processor)(rows)
    tokenizer = processor.tokenizer
    for i, row in enumerate(rows):
        target = batch["labels"][i][batch["labels"][i] != -100]
        expected = tokenizer(" " + row["answer"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        assert target.tolist() == expected
        real = batch["input_ids"][i][batch["attention_mask"][i].bool()].tolist()
        assert tokenizer.decode(real, skip_special_tokens=True).startswith(row["prompt"].split()[0])
    assert batch["return_loss"] is False


def test_augmentation_draws_repeat_per_index_and_epoch(corpus):
    from slip_sensor.data import load_corpus

    rows = build_qa_dataset(load_corpus(corpus, split="train").select(range(20)))
    dataset = EpochSeededDataset(rows, SensorAugmentation().draw, seed=3)
    first = [dataset[i]["augmentation"] for i in range(len(dataset))]
    assert first == [dataset[i]["augmentation"] for i in range(len(dataset))]
    assert not any(d["flip"] for d, row in zip(first, rows) if not row["time_flip_ok"])
    dataset.set_epoch(1)
    assert first != [dataset[i]["augmentation"] for i in range(len(dataset))]


def test_lora_sft_improves_held_out_qa_accuracy(corpus, base_model, tmp_path):
    path, _ = base_model
    out = tmp_path / "sft"
    run = sft(
        str(path), corpus=str(corpus), output_dir=str(out), use_lora=True, max_steps=60, per_device_train_batch_size=16,
        learning_rate=3e-3, use_cpu=True, logging_steps=10, save_steps=1000, disable_tqdm=True, seed=0,
    )
    results = json.loads((out / "qa_results.json").read_text())
    assert results["after"]["accuracy"] >= results["before"]["accuracy"] + 0.25, results
    assert results == {key: run.results[key] for key in ("before", "after")}
    assert {"bleu4", "meteor", "rouge_l"} <= results["after"].keys()  # answers are scored as text too
    weights = load_file(out / "model.safetensors")
    assert not any("lora" in name for name in weights)
    assert all(torch.isfinite(tensor).all() for tensor in weights.values())
