"""The `evaluate` metric class of each caption metric: the scripts `metrics/<name>/<name>.py` (what
`evaluate.load(path)` imports) each build theirs with `caption_metric`, so they differ only in their text."""

import datasets
import evaluate

from . import scorer

INPUTS = (
    "predictions: list of N generated captions; references: list of N reference captions, or of N lists of "
    "reference captions (each prediction scores against its best reference)."
)
# two accepted input schemas: one string reference per prediction, or a list of them
FEATURES = [
    datasets.Features({"predictions": datasets.Value("string"), "references": references})
    for references in (datasets.Value("string"), datasets.Sequence(datasets.Value("string")))
]


def caption_metric(name: str, description: str, citation: str) -> type[evaluate.Metric]:
    """An `evaluate.Metric` subclass that computes the caption metric `name` (a `METRIC_NAMES` entry)."""
    score = scorer(name)

    class CaptionMetric(evaluate.Metric):
        def _info(self) -> evaluate.MetricInfo:
            return evaluate.MetricInfo(
                description=description, citation=citation, inputs_description=INPUTS, features=FEATURES
            )

        def _compute(self, predictions, references) -> dict:
            return score(predictions, references)

    CaptionMetric.__name__ = CaptionMetric.__qualname__ = "".join(part.title() for part in name.split("_"))
    return CaptionMetric
