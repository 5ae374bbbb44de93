"""The training loop users expect: evaluation in the curves, `report_to` honoured, LoRA adapters saved on their own,
and `--dataset` read from parquet/CSV/JSON files or a `save_to_disk` folder."""

import json

import matplotlib.image
import numpy as np
import pytest
import torch

from slip_sensor.data.questions import build_qa_dataset
from slip_sensor.modeling_slip.modeling_slip import SlipForConditionalGeneration
from slip_sensor.training.api import load_rows, sft
from slip_sensor.training.arguments import TRAINING_DEFAULTS, ModelArguments, TrainingArguments, resolve_arguments
from slip_sensor.training.collator import SlipInstructionCollator
from slip_sensor.training.plots import plot_training_curves

TRAINING = dict(use_cpu=True, disable_tqdm=True, seed=0, save_steps=1000, logging_steps=1, per_device_train_batch_size=4)


@pytest.fixture(scope="module")
def qa_rows(tmp_path_factory):
    from slip_sensor.data import build_corpus, load_corpus

    path = tmp_path_factory.mktemp("corpus") / "corpus"
    build_corpus(path, n=40, seed=0, sources=["synthetic"])
    return build_qa_dataset(load_corpus(path, split="train"), seed=0).select(range(16))


def test_evaluation_entries_get_their_own_curves(tmp_path):
    history = [{"step": step, "loss": 3.0 / step, "learning_rate": 1e-3} for step in (1, 2, 3, 4)]
    history += [{"step": 2, "eval_loss": 2.0, "eval_retrieval/text_to_sensor/recall_at_1": 0.2,
                 "eval_retrieval/sensor_to_text/recall_at_5": 0.6}]
    widths = {}
    for name, logs in (("train", history[:4]), ("with_eval", history)):
        widths[name] = matplotlib.image.imread(plot_training_curves(logs, tmp_path / f"{name}.png")).shape[1]
    # one panel per metric family that was logged (loss and learning rate), plus evaluation retrieval with evaluations
    assert widths["with_eval"] * 2 == widths["train"] * 3
    assert plot_training_curves([{"step": 1, "eval_loss": 1.0}], tmp_path / "eval_only.png") is not None


def test_report_to_defaults_to_none_and_is_honoured():
    (_, defaults) = resolve_arguments((ModelArguments, TrainingArguments), TRAINING_DEFAULTS)
    assert defaults.report_to in ([], ["none"], "none")
    (_, chosen) = resolve_arguments((ModelArguments, TrainingArguments), TRAINING_DEFAULTS, report_to="tensorboard")
    assert chosen.report_to == ["tensorboard"]
    from transformers.integrations import TensorBoardCallback, get_reporting_integration_callbacks

    assert get_reporting_integration_callbacks(chosen.report_to) == [TensorBoardCallback]
    try:
        import tensorboard  # noqa: F401
    except ImportError:  # not installed here: the Trainer refuses the logger rather than dropping it
        with pytest.raises(RuntimeError, match="(?i)tensorboard"):
            TensorBoardCallback()


def test_lora_adapters_are_saved_on_their_own_and_load_on_the_base(qa_rows, tiny_model_dir, tmp_path):
    from peft import PeftModel

    files = tmp_path / "rows.parquet"
    qa_rows.to_parquet(str(files))
    out = tmp_path / "adapters"
    run = sft(str(tiny_model_dir), dataset=str(files), output_dir=str(out), use_lora=True, merge_lora=False, max_steps=3,
              learning_rate=5e-3, lora_dropout=0.0, **TRAINING)
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    assert not (out / "model.safetensors").exists()
    assert (out / "tokenizer_config.json").is_file()  # the processor beside the adapters

    loaded = PeftModel.from_pretrained(SlipForConditionalGeneration.from_pretrained(tiny_model_dir), out).eval()
    batch = SlipInstructionCollator(run.processor)([dict(row) for row in qa_rows.select(range(4))])
    batch.pop("return_loss")
    trained = run.trainer.model.eval()
    base = SlipForConditionalGeneration.from_pretrained(tiny_model_dir).eval()
    with torch.no_grad():
        expected, got, untouched = (model(**batch, return_loss=False).caption_loss for model in (trained, loaded, base))
    torch.testing.assert_close(got, expected)
    assert not torch.isclose(got, untouched)  # the adapters changed something


def test_dataset_files_and_saved_folders_give_the_same_rows(qa_rows, tmp_path):
    folder = tmp_path / "saved"
    qa_rows.save_to_disk(str(folder))
    qa_rows.to_json(str(tmp_path / "rows.jsonl"))
    csv_rows = qa_rows.map(lambda row: {"sensor": json.dumps(row["sensor"])})  # a CSV cell holds JSON text
    csv_rows.to_csv(str(tmp_path / "rows.csv"), index=False)
    half = len(qa_rows) // 2
    qa_rows.select(range(half)).to_parquet(str(tmp_path / "a.parquet"))
    qa_rows.select(range(half, len(qa_rows))).to_parquet(str(tmp_path / "b.parquet"))

    expected = qa_rows.to_dict()
    np.testing.assert_equal(load_rows(str(folder)).to_dict(), expected)  # NaN (missing values) equal NaN
    for source in ("rows.jsonl", "rows.csv", "a.parquet,b.parquet"):
        paths = ",".join(str(tmp_path / name) for name in source.split(","))
        rows = load_rows(paths)["train"]
        for key in ("prompt", "answer"):
            assert rows[key] == expected[key], (source, key)
        for got, want in zip(rows["sensor"], expected["sensor"]):  # JSON writes NaN as null (both missing values) and floats as decimal text
            np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=1e-5, atol=1e-9, err_msg=source)
