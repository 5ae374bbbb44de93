"""Evaluation of sensor–language models: linear probe, zero-shot, QA, caption metrics, embedding geometry.

The names below are imported on first access, so importing the package loads nothing heavy. Model glue lives in
`slip_sensor.evaluation.harness` (the results JSON) and `slip_sensor.evaluation.cli` (`slip evaluate`); caption
metrics in `slip_sensor.evaluation.metrics` (`caption_metrics`, exported here too).
"""

from ..lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".alignment": ("alignment", "uniformity"),
        ".baselines": ("STATISTICAL_FEATURE_NAMES", "statistical_features"),
        ".metrics": ("caption_metrics",),
        ".classification": ("classification_scores",),
        ".feature_cache": ("FeatureCache",),
        ".linear_probe": ("LinearProbeResult", "ProbeConfig", "linear_probe", "train_linear_probe"),
        ".answer_scoring": ("match_free_form", "normalize_answer", "parse_choice", "qa_accuracy"),
        ".zero_shot": ("ZeroShotResult", "class_prompts", "class_prototypes", "zero_shot", "zero_shot_predict"),
    },
)
