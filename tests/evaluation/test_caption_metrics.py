"""Caption metrics against hand-computed values, with one or several references per prediction."""

import pytest

from slip_sensor.evaluation.metrics import METRIC_NAMES, caption_metrics, metric_path
from slip_sensor.evaluation.metrics.scorers import minilm
from slip_sensor.evaluation.metrics.scorers.bertscore import bertscore
from slip_sensor.evaluation.metrics.scorers.bleu import bleu4
from slip_sensor.evaluation.metrics.scorers.meteor import meteor, wordnet_available
from slip_sensor.evaluation.metrics.scorers.rouge import rouge_l
from slip_sensor.evaluation.metrics.scorers.sbert import sbert_cosine

IDENTICAL = ["the heart rate rises steadily over the whole recording"]
PARAPHRASE = ("the signal increases steadily", "the series rises gradually")
UNRELATED = ("the signal increases steadily", "the committee approved the annual budget")


def test_bleu4_identical_is_one():
    assert bleu4(IDENTICAL, IDENTICAL)["bleu4"] == pytest.approx(1.0)


def test_bleu4_hand_computed():
    # hyp "the cat sat on the mat" vs ref "the cat sat on a mat", equal lengths (BP = 1):
    # clipped precisions 1-gram 5/6, 2-gram 3/5, 3-gram 2/4, 4-gram 1/3
    # → BLEU = (5/6 · 3/5 · 2/4 · 1/3)^(1/4) = (1/12)^(1/4) ≈ 0.5373
    result = bleu4(["the cat sat on the mat"], ["the cat sat on a mat"])
    assert result["bleu4"] == pytest.approx((1 / 12) ** 0.25)
    assert "tok:13a" in result["bleu4_signature"]


def test_rouge_l_identical_is_one():
    assert rouge_l(IDENTICAL, IDENTICAL)["rouge_l"] == pytest.approx(1.0)


def test_rouge_l_hand_computed():
    # LCS("the user was walking", "the user was slowly walking upstairs") = 4 tokens:
    # P = 4/4, R = 4/6, F = 2PR/(P+R) = 0.8. Second pair: no two words of "walking then running" appear in the same
    # order in "running then walking", so LCS = 1 → P = R = F = 1/3. Mean F = (0.8 + 1/3) / 2.
    result = rouge_l(
        ["the user was walking", "walking then running"],
        ["the user was slowly walking upstairs", "running then walking"],
    )
    assert result["rouge_l"] == pytest.approx((0.8 + 1 / 3) / 2)


def test_rouge_l_uses_stemming():
    assert rouge_l(["walks"], ["walking"])["rouge_l"] == pytest.approx(1.0)


def test_meteor_hand_computed():
    # hyp "the user walks" vs ref "the user was walking": 3 matches (the, user exact; walks~walking by stem),
    # P = 1, R = 3/4, Fmean = PR / (0.9 P + 0.1 R) = 0.75 / 0.975; 2 chunks over 3 matches →
    # penalty = 0.5 · (2/3)^3; METEOR = Fmean · (1 - penalty). No synonyms are involved, so WordNet cannot change it.
    expected = 0.75 / 0.975 * (1 - 0.5 * (2 / 3) ** 3)
    result = meteor(["the user walks"], ["the user was walking"])
    assert result["meteor"] == pytest.approx(expected)
    assert meteor(IDENTICAL, IDENTICAL)["meteor"] == pytest.approx(1.0, abs=1e-3)  # 1 chunk: tiny penalty


def test_meteor_records_its_variant():
    variant = meteor(IDENTICAL, IDENTICAL)["meteor_variant"]
    assert "exact+stem" in variant
    assert ("wordnet synonyms" in variant) is wordnet_available()
    assert ("WordNet unavailable" in variant) is not wordnet_available()


def test_sbert_cosine():
    identical = sbert_cosine(IDENTICAL, IDENTICAL)
    assert identical["sbert_cosine"] == pytest.approx(1.0, abs=1e-5)
    assert "all-MiniLM-L6-v2" in identical["sbert_model"]
    paraphrase = sbert_cosine([PARAPHRASE[0]], [PARAPHRASE[1]])["sbert_cosine"]
    unrelated = sbert_cosine([UNRELATED[0]], [UNRELATED[1]])["sbert_cosine"]
    assert paraphrase > unrelated + 0.3


def test_bertscore():
    identical = bertscore(IDENTICAL, IDENTICAL)
    for key in ("bertscore_precision", "bertscore_recall", "bertscore_f1"):
        assert identical[key] == pytest.approx(1.0, abs=1e-5)
    assert "all-MiniLM-L6-v2" in identical["bertscore_model"] and "layer 6/6" in identical["bertscore_model"]
    paraphrase = bertscore([PARAPHRASE[0]], [PARAPHRASE[1]])["bertscore_f1"]
    unrelated = bertscore([UNRELATED[0]], [UNRELATED[1]])["bertscore_f1"]
    assert paraphrase > unrelated


def test_bertscore_precision_and_recall_are_directional():
    # the hypothesis is a subset of the reference: every hypothesis token has an exact match (precision high),
    # not every reference token does (recall lower)
    result = bertscore(["the heart rate rises"], ["the heart rate rises sharply after the climb up the stairs"])
    assert result["bertscore_precision"] > result["bertscore_recall"]


def test_caption_metrics_collects_everything():
    predictions = ["the cat sat on the mat", "the user walks"]
    references = ["the cat sat on a mat", "the user was walking"]
    results = caption_metrics(predictions, references)
    assert results["bleu4"] == bleu4(predictions, references)["bleu4"]
    assert results["meteor"] == meteor(predictions, references)["meteor"]
    assert results["rouge_l"] == rouge_l(predictions, references)["rouge_l"]
    for key in ("sbert_cosine", "bertscore_f1", "bertscore_precision", "bertscore_recall"):
        assert 0.0 < results[key] <= 1.0
    for key in ("bleu4_signature", "meteor_variant", "rouge_l_implementation", "sbert_model", "bertscore_model"):
        assert isinstance(results[key], str) and results[key]


def test_evaluate_modules_load_offline_and_agree():
    evaluate = pytest.importorskip("evaluate")
    predictions = ["the cat sat on the mat", "the user walks"]
    references = ["the cat sat on a mat", "the user was walking"]
    direct = caption_metrics(predictions, references)
    for name in METRIC_NAMES:
        result = evaluate.load(metric_path(name)).compute(predictions=predictions, references=references)
        for key, value in result.items():
            assert value == (pytest.approx(direct[key]) if isinstance(value, float) else direct[key]), (name, key)


def test_metric_path_rejects_unknown_names():
    with pytest.raises(ValueError):
        metric_path("cider")


def test_input_checks():
    with pytest.raises(ValueError):
        bleu4(["a"], ["a", "b"])
    with pytest.raises(ValueError):
        rouge_l([], [])
    with pytest.raises(ValueError):
        meteor(["a"], [[]])  # a prediction without references
    with pytest.raises(ValueError):
        meteor(["a"], [[1]])


MULTI_PREDICTIONS = ["the cat sat on the mat", "the user walks"]
MULTI_REFERENCES = [["a dog ran in the park", "the cat sat on a mat"], ["the user was walking"]]


@pytest.mark.parametrize("name", ["bleu4", "meteor", "rouge_l", "sbert", "bertscore"])
def test_several_references_score_no_lower_than_the_best_single_one(name):
    score = {"bleu4": bleu4, "meteor": meteor, "rouge_l": rouge_l, "sbert": sbert_cosine, "bertscore": bertscore}[name]
    key = {"sbert": "sbert_cosine", "bertscore": "bertscore_f1"}.get(name, name)
    best_single = score(MULTI_PREDICTIONS, [group[-1] for group in MULTI_REFERENCES])[key]
    worst_single = score(MULTI_PREDICTIONS, [group[0] for group in MULTI_REFERENCES])[key]
    several = score(MULTI_PREDICTIONS, MULTI_REFERENCES)[key]
    assert worst_single < best_single
    if name == "bleu4":  # corpus BLEU pools n-gram matches over all references instead of picking one
        assert several >= best_single - 1e-9
    else:  # the per-prediction maximum: here the last reference of each group
        assert several == pytest.approx(best_single, abs=1e-5)


def test_caption_metrics_options_for_training_evaluation():
    cheap = caption_metrics(MULTI_PREDICTIONS, MULTI_REFERENCES, model_metrics=False, provenance=False)
    assert set(cheap) == {"bleu4", "meteor", "rouge_l"} and all(isinstance(v, float) for v in cheap.values())
    full = caption_metrics(MULTI_PREDICTIONS, MULTI_REFERENCES)
    assert {key: full[key] for key in cheap} == cheap


def test_sbert_and_bertscore_share_one_sentence_model(monkeypatch):
    loads = []
    real = minilm.SentenceTransformer

    def counting(*args, **kwargs):
        loads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(minilm, "SentenceTransformer", counting)
    minilm.sentence_model.cache_clear()
    try:
        sbert_cosine(IDENTICAL, IDENTICAL)
        bertscore(IDENTICAL, IDENTICAL)
        assert len(loads) == 1
    finally:
        minilm.sentence_model.cache_clear()  # later tests load the real (unpatched) model again
