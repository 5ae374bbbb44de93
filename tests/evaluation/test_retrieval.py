"""Retrieval metrics on hand-built embeddings, corpus retrieval (pairing, rate groups, text choice), and the
`slip evaluate` path on a tiny random SLIP model: synthetic attribute tasks and retrieval in the results JSON."""

import json

import numpy as np
import pytest
import torch

import slip_sensor
from slip_sensor.data import build_corpus, load_corpus
from slip_sensor.data.corpus_schema import row_sensor
from slip_sensor.evaluation.retrieval import (
    TEXT_FUNCTIONS,
    chance_recall,
    evaluate_retrieval,
    flat_metrics,
    retrieval_from_embeddings,
    retrieval_metrics,
    semantic_structural_text,
)

N = 20


def test_identity_is_perfect():
    metrics = retrieval_metrics(np.eye(N), 3.0 * np.eye(N))  # cosine: the scale does not matter
    for direction in ("text_to_sensor", "sensor_to_text"):
        assert metrics[direction] == {
            "recall_at_1": 1.0, "recall_at_5": 1.0, "recall_at_10": 1.0, "mean_rank": 1.0, "median_rank": 1.0
        }
    assert metrics["num_pairs"] == N


def _swaps() -> np.ndarray:
    """Pairs (0,1), (2,3), ..., (10,11) swapped; 12..19 fixed: 8 fixed points."""
    perm = np.arange(N)
    perm[:12] = perm[:12].reshape(6, 2)[:, ::-1].ravel()
    return perm


def test_permutation_with_ties_counts_ties_against():
    """Text i is sensor p(i)'s one-hot: a moved pair scores 0 with its partner, tied with N - 2 others."""
    perm = _swaps()
    metrics = retrieval_metrics(np.eye(N), np.eye(N)[perm])
    fixed = 8
    for direction in ("text_to_sensor", "sensor_to_text"):
        m = metrics[direction]
        assert m["recall_at_1"] == m["recall_at_5"] == m["recall_at_10"] == fixed / N
        assert m["mean_rank"] == pytest.approx((fixed * 1 + (N - fixed) * N) / N)


def test_permutation_with_graded_scores():
    """Text i = e_p(i) + 0.5 e_i: a moved pair's partner comes second in both directions."""
    perm = _swaps()
    text = np.eye(N)[perm] + 0.5 * np.eye(N)
    metrics = retrieval_metrics(np.eye(N), text)
    for direction in ("text_to_sensor", "sensor_to_text"):
        m = metrics[direction]
        assert (m["recall_at_1"], m["recall_at_5"], m["recall_at_10"]) == (8 / N, 1.0, 1.0)
        assert m["mean_rank"] == pytest.approx((8 + 2 * 12) / N) and m["median_rank"] == 2.0


def test_collapsed_embeddings_rank_last_and_chance():
    metrics = retrieval_metrics(np.ones((N, 4)), np.ones((N, 4)))
    assert metrics["text_to_sensor"]["recall_at_10"] == 0.0 and metrics["sensor_to_text"]["mean_rank"] == N
    assert chance_recall(N) == {"1": 1 / N, "5": 5 / N, "10": 10 / N}
    assert chance_recall(4) == {"1": 0.25, "5": 1.0, "10": 1.0}
    with pytest.raises(ValueError):
        retrieval_metrics(np.eye(3), np.eye(4))


def test_large_inputs_are_ranked_across_blocks():
    rng = np.random.default_rng(0)
    sensor = rng.normal(size=(1500, 16)).astype(np.float32)
    text = sensor + 0.05 * rng.normal(size=sensor.shape).astype(np.float32)
    text[1400] = -sensor[1400]  # this pair is the worst possible, in the second block
    metrics = retrieval_metrics(sensor, text)
    assert metrics["text_to_sensor"]["recall_at_1"] == pytest.approx(1499 / 1500)
    assert metrics["text_to_sensor"]["mean_rank"] == pytest.approx((1499 + 1500) / 1500)


def test_from_torch_tensors_and_flat_scalars():
    perm = torch.from_numpy(_swaps())
    metrics = retrieval_from_embeddings(torch.eye(N, dtype=torch.bfloat16), torch.eye(N)[perm] + 0.5 * torch.eye(N))
    assert metrics["text_to_sensor"]["recall_at_1"] == 8 / N and metrics["chance_recall_at_k"]["5"] == 5 / N
    flat = flat_metrics(metrics)
    assert flat["retrieval/sensor_to_text/recall_at_5"] == 1.0 and flat["retrieval/num_pairs"] == N
    assert flat["retrieval/chance_recall_at_k/10"] == 10 / N


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A 24-row synthetic corpus with a 12-row validation split (several sampling rates and channel counts)."""
    out = tmp_path_factory.mktemp("corpus") / "c"
    build_corpus(out, n=24, seed=0, sources=["synthetic"], val_fraction=0.5)
    return out


class PairOracle:
    """Embeds sensor sample and caption of corpus row i as one-hot e_i (looked up by content), so retrieval is
    perfect exactly when evaluate_retrieval keeps every sensor with its own caption; records the rates it got."""

    fingerprint = "pair-oracle"

    def __init__(self, rows, text_fn):
        self.by_sensor = {row_sensor(r).tobytes(): i for i, r in enumerate(rows)}
        self.by_text = {text_fn(r): i for i, r in enumerate(rows)}
        self.rates = {i: r["sampling_rate"] for i, r in enumerate(rows)}
        self.n, self.calls = len(rows), []

    def sensor_embeddings(self, sensors, sampling_rate):
        indices = [self.by_sensor[np.asarray(s, np.float32).tobytes()] for s in sensors]
        self.calls.append(sampling_rate)
        assert all(self.rates[i] == sampling_rate for i in indices)  # one rate per call, the rows' own
        return np.eye(self.n)[indices]

    def text_embeddings(self, texts):
        return np.eye(self.n)[[self.by_text[t] for t in texts]]


def test_corpus_retrieval_keeps_pairs_and_groups_rates(corpus):
    rows = list(load_corpus(corpus, split="validation"))
    oracle = PairOracle(rows, semantic_structural_text)
    result = evaluate_retrieval(oracle, str(corpus))
    assert (result["num_pairs"], result["num_skipped"], result["split"], result["text"]) == (
        12, 0, "validation", "semantic+structural"
    )
    assert result["text_to_sensor"]["recall_at_1"] == result["sensor_to_text"]["recall_at_1"] == 1.0
    assert result["chance_recall_at_k"] == {"1": 1 / 12, "5": 5 / 12, "10": 10 / 12}
    assert sorted(oracle.calls) == sorted({r["sampling_rate"] for r in rows}) and len(oracle.calls) > 1
    text = semantic_structural_text(rows[0])
    assert text == f"{rows[0]['caption_semantic']} {rows[0]['caption_structural']}".strip()
    assert rows[0]["caption_statistical"] not in text


def test_corpus_retrieval_text_choice_and_empty_rows(corpus):
    rows = list(load_corpus(corpus, split="validation"))
    rows[3] = dict(rows[3], caption_semantic="", caption_structural="")  # falls back to the full caption
    assert semantic_structural_text(rows[3]) == rows[3]["caption"]
    rows[5] = dict(rows[5], caption="", caption_semantic="", caption_structural="")  # no text: skipped
    oracle = PairOracle(rows, semantic_structural_text)
    result = evaluate_retrieval(oracle, rows, max_rows=9)
    assert (result["num_pairs"], result["num_skipped"]) == (9, 1)
    assert result["text_to_sensor"]["recall_at_1"] == 1.0
    wrong = PairOracle(rows, TEXT_FUNCTIONS["caption"])  # captions embedded under other texts: lookups fail
    with pytest.raises(KeyError):
        evaluate_retrieval(wrong, rows)
    assert evaluate_retrieval(wrong, rows, text_fn="caption")["sensor_to_text"]["recall_at_1"] == 1.0


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    from slip_sensor.processors import train_caption_tokenizer

    torch.manual_seed(1)
    model = slip_sensor.SlipModel(slip_sensor.SlipConfig.from_preset("slip-tiny")).eval()
    tokenizer = train_caption_tokenizer(["the signal shows an upward trend", "channel 1 leads channel 2"] * 10, 300)
    processor = slip_sensor.SlipProcessor(feature_extractor=slip_sensor.SlipFeatureExtractor(), tokenizer=tokenizer)
    directory = tmp_path_factory.mktemp("slip-tiny")
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


def test_cli_writes_synthetic_and_retrieval_results(tiny_model_dir, corpus, tmp_path, capsys):
    from slip_sensor.cli import main

    out = tmp_path / "results.json"
    common = ["evaluate", "--model", str(tiny_model_dir), "--out", str(out), "--seeds", "1", "--no-progress"]
    assert main([*common, "--tasks", "retrieval", "--retrieval-max-rows", "24"]) == 0  # the held-out archive
    archive = json.loads(out.read_text())["retrieval"]
    assert (archive["corpus"], archive["split"], archive["num_pairs"]) == ("synthetic held-out archive", "test", 24)
    assert set(archive["baselines"]) == {"random_weights", "statistical_features"}
    assert "| text to sensor (statistical features) |" in out.with_suffix(".md").read_text()

    code = main([*common, "--tasks", "synthetic-lead,retrieval", "--corpus", str(corpus), "--batch-size", "64"])
    assert code == 0
    results = json.loads(out.read_text())
    assert list(results["tasks"]) == ["synthetic-lead"]
    task = results["tasks"]["synthetic-lead"]
    assert task["zero_shot"]["chance"] == 0.5 and task["dataset"]["num_test"] == 120
    summary = results["summary"]["synthetic_attributes"]
    assert summary["tasks"] == ["synthetic-lead"] and summary["chance_mean"] == 0.5
    assert summary["ratio_to_chance"] == pytest.approx(task["zero_shot"]["accuracy"] / 0.5)
    retrieval = results["retrieval"]
    assert retrieval["num_pairs"] == 12 and retrieval["corpus"] == str(corpus)
    assert set(retrieval["baselines"]) == {"random_weights", "statistical_features"}  # the map fitted on train
    for direction in ("text_to_sensor", "sensor_to_text"):
        assert set(retrieval[direction]) == {"recall_at_1", "recall_at_5", "recall_at_10", "mean_rank", "median_rank"}
        assert 1 <= retrieval[direction]["mean_rank"] <= 12
    assert list(results) == ["schema_version", "model", "protocol", "tasks", "summary", "retrieval", "environment"]
    table = out.with_suffix(".md").read_text()
    assert "| chance |" in table and "| synthetic-lead |" in table and "| 50.00 |" in table
    assert "Synthetic attributes (1 task): mean zero-shot accuracy" in table and "| text to sensor |" in table


def test_cli_text_choices_are_the_text_functions():
    import argparse

    from slip_sensor.evaluation.cli import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    action = next(a for a in parser._actions if a.dest == "retrieval_text")
    assert list(action.choices) == list(TEXT_FUNCTIONS)
    args = parser.parse_args(["--model", "m", "--tasks", "synthetic-attributes,retrieval", "--corpus", "c"])
    assert args.tasks == ["synthetic-attributes", "retrieval"] and args.corpus == "c"


def test_held_out_archive_is_deterministic_and_its_splits_are_disjoint():
    from slip_sensor.evaluation.archive import held_out_archive

    test, again, train = held_out_archive("test", 6), held_out_archive("test", 6), held_out_archive("train", 6)
    assert [row["id"] for row in test] == [row["id"] for row in again]
    for row, same in zip(test, again):
        np.testing.assert_array_equal(row["sensor"], same["sensor"])
    assert not {row["id"] for row in test} & {row["id"] for row in train}
    assert all(semantic_structural_text(row) for row in test + train)
    with pytest.raises(ValueError, match="unknown archive split"):
        held_out_archive("validation")


def test_statistical_feature_map_retrieves_held_out_windows_above_chance():
    """Fitted on the archive's training windows onto the shipped model's text space, the map finds held-out windows
    from their captions far more often than chance: a baseline worth beating, not a strawman."""
    from slip_sensor.evaluation.archive import held_out_archive
    from slip_sensor.evaluation.baselines import StatisticalFeatureEncoder
    from slip_sensor.evaluation.harness import SlipEncoder
    from slip_sensor.evaluation.retrieval import retrieval_pairs
    from slip_sensor.shipped_models import pretrained

    text_encoder = SlipEncoder(slip_sensor.SlipModel.from_pretrained(pretrained()),
                               slip_sensor.SlipProcessor.from_pretrained(pretrained()), batch_size=64)
    train = retrieval_pairs(held_out_archive("train", 384))
    statistical = StatisticalFeatureEncoder(text_encoder, num_channels=6).fit(train.sensors, train.rates, train.texts)
    result = evaluate_retrieval(statistical, held_out_archive("test", 128))
    chance = result["chance_recall_at_k"]["10"]
    assert result["text_to_sensor"]["recall_at_10"] > 2.5 * chance
    with pytest.raises(RuntimeError, match="fit the statistical-feature map"):
        StatisticalFeatureEncoder(text_encoder, num_channels=6).sensor_embeddings(train.sensors[:1], train.rates[0])
