"""Evaluation of sensor–language models: linear probe, zero-shot, QA, caption metrics, embedding geometry.

Model-independent building blocks are importable from here. Heavier parts live in their modules:
`slip_sensor.evaluation.metrics` (caption metrics, loads a sentence model), `slip_sensor.evaluation.harness`
(model glue and the results JSON), `slip_sensor.evaluation.cli` (`slip evaluate`).
"""

from .alignment import alignment, uniformity
from .baselines import STATISTICAL_FEATURE_NAMES, statistical_features
from .classification import classification_scores
from .feature_cache import FeatureCache
from .linear_probe import LinearProbeResult, ProbeConfig, linear_probe, train_linear_probe
from .answer_scoring import match_free_form, normalize_answer, parse_choice, qa_accuracy
from .zero_shot import ZeroShotResult, class_prompts, class_prototypes, zero_shot, zero_shot_predict

__all__ = [
    "STATISTICAL_FEATURE_NAMES",
    "FeatureCache",
    "LinearProbeResult",
    "ProbeConfig",
    "ZeroShotResult",
    "alignment",
    "class_prompts",
    "class_prototypes",
    "classification_scores",
    "linear_probe",
    "match_free_form",
    "normalize_answer",
    "parse_choice",
    "qa_accuracy",
    "statistical_features",
    "train_linear_probe",
    "uniformity",
    "zero_shot",
    "zero_shot_predict",
]
