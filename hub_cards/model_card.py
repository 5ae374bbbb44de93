"""Model cards for SLIP Hub folders: Hub metadata (`ModelCardData`) and the filled-in `model_card_template.md`, and an
offline check of a card's metadata.

The architecture section comes from the config (sizes, and parameter counts of a model built on the meta device).
Evaluation results come only from a results JSON written by `slip_sensor.evaluation` (schema in
`slip_sensor.evaluation.harness`); without one, the card says that no evaluation was run.
"""

import re
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import EvalResult, ModelCard, ModelCardData, metadata_load

from slip_sensor.errors import UserError
from slip_sensor.evaluation.finite import non_finite_fields
from slip_sensor.evaluation.report import results_table
from slip_sensor.modeling_slip.configuration_slip import SlipConfig
from slip_sensor.modeling_slip.modeling_slip import SlipForConditionalGeneration
from slip_sensor.processors.feature_extraction_slip import SlipFeatureExtractor

TEMPLATE_PATH = Path(__file__).with_name("model_card_template.md")
LIBRARY_NAME = "transformers"
# The Hub has no sensor task; the contrastive embedding is the model's primary output.
PIPELINE_TAG = "feature-extraction"
TAGS = ["slip", "sensor", "time-series", "wearable", "multimodal", "contrastive", "captioning", "custom_code"]
GEMMA_BASE_MODEL = "google/gemma-3-270m"
GEMMA_LICENSE = "gemma"
GEMMA_TERMS_URL = "https://ai.google.dev/gemma/terms"
GEMMA_POLICY_URL = "https://ai.google.dev/gemma/prohibited_use_policy"
HUB_ID_PATTERN = re.compile(r"^[\w.-]+/[\w.-]+$")


def parameter_counts(config: SlipConfig) -> dict[str, int]:
    """Parameters per part of the full captioning model, counted on the meta device (nothing is allocated)."""
    with torch.device("meta"):
        model = SlipForConditionalGeneration(config)
    parts = {
        "sensor encoder and pooler": model.slip.sensor_model,
        "text encoder (token embedding tied with the LM head)": model.slip.text_encoder,
        "multimodal decoder": model.text_decoder,
    }
    counts = {name: sum(parameter.numel() for parameter in part.parameters()) for name, part in parts.items()}
    total = model.num_parameters()
    counts["contrastive head"] = total - sum(counts.values())
    counts["total"] = total
    return counts


class ResultsError(UserError, ValueError):
    """A results JSON the card cannot report: keys of the schema missing, or numbers that are not finite."""


def check_results(results: dict[str, Any]) -> None:
    """Raises `ResultsError` unless `results` has the keys of the results-JSON schema that the card reports and
    only finite numbers (a NaN would reach the Hub metadata and the table)."""
    tasks = results.get("tasks") if isinstance(results, dict) else None
    if not isinstance(tasks, dict) or not tasks:
        raise ResultsError("results JSON has no `tasks` (schema: slip_sensor.evaluation.harness)")
    required = {
        "linear_probe": ("accuracy_mean", "accuracy_std", "macro_f1_mean", "macro_f1_std", "seeds"),
        "zero_shot": ("accuracy", "macro_f1"),
        "baselines": ("statistical_features", "random_encoder"),
    }
    for name, task in tasks.items():
        for section, keys in required.items():
            missing = [key for key in keys if key not in task.get(section, {})]
            if missing:
                raise ResultsError(f"results JSON task {name!r}: `{section}` lacks {missing}")
    non_finite = non_finite_fields(results)
    if non_finite:
        raise ResultsError(f"results JSON holds numbers that are not finite: {non_finite}; evaluate the model again")


def eval_results(results: dict[str, Any]) -> list[EvalResult]:
    """Zero-shot and linear-probe accuracy and macro-F1 of every task, as model-index entries (fractions in [0, 1]);
    the metric names of reference-protocol probes say that their epoch was chosen on test."""
    entries = []
    for name, task in results["tasks"].items():
        seeds = len(task["linear_probe"]["seeds"])
        reference = task["linear_probe"].get("protocol") == "reference"
        on_test = ", best test epoch (reference protocol)" if reference else ""
        evaluations = (  # task type, task name, scores, key suffix, metric name prefix and suffix
            ("zero-shot-classification", "Zero-shot sensor classification", task["zero_shot"], "", "zero-shot", ""),
            (
                "feature-extraction",
                "Linear probe on frozen sensor features",
                task["linear_probe"],
                "_mean",
                "linear-probe",
                f" (mean of {seeds} seeds{on_test})",
            ),
        )
        for task_type, task_name, scores, suffix, prefix, note in evaluations:
            for metric_type, key, label, metric_config in (
                ("accuracy", "accuracy", "accuracy", None),
                ("f1", "macro_f1", "macro-F1", "macro"),
            ):
                entries.append(
                    EvalResult(
                        task_type=task_type,
                        task_name=task_name,
                        metric_type=metric_type,
                        metric_value=scores[key + suffix],
                        metric_name=f"{prefix} {label}{note}",
                        metric_config=metric_config,
                        dataset_type=task.get("dataset", {}).get("name", name),
                        dataset_name=name,
                        dataset_split="test",
                    )
                )
    return entries


def license_note(license: str, base_model: str | None) -> str:
    if license == GEMMA_LICENSE:
        return (
            f"The text stack is initialised from [{base_model}](https://huggingface.co/{base_model}), so this model is "
            f"subject to the [Gemma Terms of Use]({GEMMA_TERMS_URL}) and the [Gemma Prohibited Use Policy]"
            f"({GEMMA_POLICY_URL}). The SLIP code in this repository is Apache-2.0."
        )
    return (
        f"`{license}`. These weights contain no Gemma weights: the text stack only follows the Gemma-3 architecture. "
        f"Checkpoints initialised from Gemma-3 weights are subject to the [Gemma Terms of Use]({GEMMA_TERMS_URL})."
    )


def build_model_card(
    config: SlipConfig,
    *,
    model_id: str | None = None,
    results: dict[str, Any] | None = None,
    base_model: str | None = None,
    datasets: list[str] | None = None,
    license: str = "apache-2.0",
    preset: str | None = None,
    seed: int | None = None,
    feature_extractor: SlipFeatureExtractor | None = None,
) -> ModelCard:
    """
    Builds the model card of a SLIP checkpoint.

    Args:
        config ([`SlipConfig`]): the checkpoint's config (architecture and parameter counts).
        model_id (`str`, *optional*): Hub repo id, used as title, in the usage snippets and as model-index name.
        results (`dict`, *optional*): a results JSON of `slip_sensor.evaluation` (measured results to report).
        base_model (`str`, *optional*): Hub id of the model whose weights initialised this one.
        datasets (`list[str]`, *optional*): Hub ids of the training datasets.
        license (`str`, defaults to `"apache-2.0"`): Hub license id; `"gemma"` for weights derived from Gemma.
        preset (`str`, *optional*), seed (`int`, *optional*): set for randomly initialised preset exports, which
            the card then flags as such.
        feature_extractor ([`SlipFeatureExtractor`], *optional*): the processor's, whose channel and patch limits
            the card states (default: a default one).
    """
    if base_model is not None and "gemma" in base_model.lower() and license != GEMMA_LICENSE:
        raise ValueError(f"Weights derived from {base_model} must carry `license: {GEMMA_LICENSE}` (Gemma terms)")
    table = None
    if results is not None:
        check_results(results)
        table = results_table(results)
    name = model_id or "SLIP"
    card_data = ModelCardData(
        library_name=LIBRARY_NAME,
        pipeline_tag=PIPELINE_TAG,
        tags=TAGS,
        base_model=base_model,
        datasets=datasets or None,
        license=license,
        metrics=["accuracy", "f1"] if results is not None else None,
        model_name=name if results is not None else None,
        eval_results=eval_results(results) if results is not None else None,
    )
    environment = (results or {}).get("environment", {})
    environment_keys = ("device", "torch", "transformers", "created_utc")
    return ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATE_PATH),
        model_id=name,
        model_ref=model_id or "path/to/this/folder",
        random_weights=preset is not None,
        preset=preset,
        seed=seed,
        config=config,
        feature_extractor=feature_extractor or SlipFeatureExtractor(),
        parameter_counts=parameter_counts(config),
        results_table=table,
        environment=", ".join(f"{key} {environment[key]}" for key in environment_keys if key in environment),
        license_note=license_note(license, base_model),
    )


def validate_model_card(path: str | Path) -> list[str]:
    """
    Checks a model card's metadata offline; returns the problems found (empty when valid).

    huggingface_hub parses the front matter strictly (a malformed `model-index` or `eval_results` without a model
    name fails) and must read back what it writes; on top, the Hub's rules that matter here are checked locally. With
    network access, `ModelCard.load(path).validate()` runs the Hub's own validator (`slip push` does).
    """
    try:
        card = ModelCard.load(path)
    except ValueError as error:
        return [f"metadata does not parse: {error}"]
    data = card.data.to_dict()
    problems = []
    if ModelCard(str(card)).data.to_dict() != data or metadata_load(path) != data:
        problems.append("metadata does not round-trip through huggingface_hub")
    if data.get("library_name") != LIBRARY_NAME:
        problems.append(f"library_name must be {LIBRARY_NAME!r}, got {data.get('library_name')!r}")
    if not isinstance(data.get("pipeline_tag"), str):
        problems.append("pipeline_tag is missing")
    if not isinstance(data.get("license"), str):
        problems.append("license is missing")
    elif data["license"] == "other" and not (data.get("license_name") and data.get("license_link")):
        problems.append("license `other` needs license_name and license_link")
    if "custom_code" not in (data.get("tags") or []):
        problems.append("tags lack `custom_code` (the repository ships remote code)")
    for key in ("base_model", "datasets"):
        value = data.get(key) or []
        for hub_id in [value] if isinstance(value, str) else value:
            if not isinstance(hub_id, str) or not HUB_ID_PATTERN.match(hub_id):
                problems.append(f"{key} entry {hub_id!r} is not a Hub id (owner/name)")
    problems += [f"metadata {field} is not a finite number" for field in non_finite_fields(data)]
    if not card.text.strip():
        problems.append("the card has no text")
    return problems


__all__ = [
    "ResultsError", "build_model_card", "check_results", "eval_results", "parameter_counts", "validate_model_card"
]
