"""BLEU@4 (sacrebleu corpus BLEU, 13a tokenisation, exponential smoothing), on a 0–1 scale as the paper reports."""

from typing import Sequence

from sacrebleu.metrics import BLEU

from . import check_pairs


def bleu4(predictions: Sequence[str], references: Sequence[str]) -> dict:
    """`{"bleu4": corpus BLEU with n-grams up to 4 in [0, 1], "bleu4_signature": sacrebleu signature}`."""
    check_pairs(predictions, references)
    metric = BLEU(max_ngram_order=4)
    score = metric.corpus_score(list(predictions), [list(references)])
    return {"bleu4": score.score / 100.0, "bleu4_signature": str(metric.get_signature())}
