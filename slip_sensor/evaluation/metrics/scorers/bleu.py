"""BLEU@4 (sacrebleu corpus BLEU, 13a tokenisation, exponential smoothing), on a 0–1 scale as the paper reports."""

from typing import Sequence

from sacrebleu.metrics import BLEU

from . import reference_lists


def bleu4(predictions: Sequence[str], references: Sequence[str] | Sequence[Sequence[str]]) -> dict:
    """`{"bleu4": corpus BLEU with n-grams up to 4 in [0, 1], "bleu4_signature": sacrebleu signature}`."""
    groups = reference_lists(predictions, references)
    metric = BLEU(max_ngram_order=4)
    # sacrebleu reads one stream per reference position; None pads predictions that have fewer references
    streams = [[group[k] if k < len(group) else None for group in groups] for k in range(max(map(len, groups)))]
    score = metric.corpus_score(list(predictions), streams)
    return {"bleu4": score.score / 100.0, "bleu4_signature": str(metric.get_signature())}
