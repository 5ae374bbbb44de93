"""ROUGE-L (rouge_score, Porter stemming): mean sentence-level LCS F-measure (best over a prediction's references).

Only `rougeL` is computed: `rougeLsum` needs nltk's punkt sentence splitter, which is not available offline.
"""

from importlib.metadata import version
from typing import Sequence

from rouge_score import rouge_scorer

from . import reference_lists

_SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(predictions: Sequence[str], references: Sequence[str] | Sequence[Sequence[str]]) -> dict:
    """`{"rouge_l": mean LCS F-measure in [0, 1], "rouge_l_implementation": ...}`."""
    groups = reference_lists(predictions, references)
    scores = [_SCORER.score_multi(g, p)["rougeL"].fmeasure for p, g in zip(predictions, groups)]
    return {
        "rouge_l": sum(scores) / len(scores),
        "rouge_l_implementation": f"rouge_score {version('rouge-score')} rougeL, Porter stemmer, mean sentence F",
    }
