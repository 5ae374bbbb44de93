"""What the `evaluate` metric scripts in this folder share: their input schema (one string reference per prediction)."""

import datasets
import evaluate


def caption_metric_info(description: str, citation: str) -> evaluate.MetricInfo:
    """MetricInfo of a caption metric taking `predictions: list[str]` and `references: list[str]`."""
    return evaluate.MetricInfo(
        description=description,
        citation=citation,
        inputs_description="predictions: list of N generated captions; references: list of N reference captions.",
        features=datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
    )
