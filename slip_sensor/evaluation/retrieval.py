"""Cross-modal retrieval on paired sensor–caption embeddings: Recall@k and mean rank in both directions.

`retrieval_metrics(sensor_embeds, text_embeds)` scores `[N, E]` embeddings where row i of one matches row i of the
other: similarity is cosine; the rank of the true partner is 1 + the number of OTHER candidates scoring at least as
high (ties count against the model, so a collapsed embedding space ranks every pair last). `text_to_sensor` ranks all
N sensor samples for each caption, `sensor_to_text` all N captions for each sensor sample. Chance Recall@k is k/N.

`retrieval_from_embeddings` is the same for torch tensors or arrays (what a training loop has at an evaluation
step), with `chance_recall_at_k` added; `flat_metrics` turns the nested result into scalars for a logger.
`evaluate_retrieval(encoder, corpus)` embeds a held-out split of a corpus (`load_corpus(path, split="validation")`)
or a list of rows, such as the held-out synthetic archive of `evaluation.archive`, with any `SensorTextEncoder` (e.g.
the harness's `SlipEncoder`), and scores baseline encoders on the same pairs; `slip evaluate --tasks retrieval` runs
it on that archive (or on `--corpus PATH`) beside a randomly initialised model and a statistical-feature map
(`baselines.StatisticalFeatureEncoder`). Its result is `results["retrieval"]`:

    {"corpus": str, "split": str, "text": str, "num_pairs": int, "num_skipped": int, "ks": [1, 5, 10],
     "text_to_sensor": M, "sensor_to_text": M, "chance_recall_at_k": {"1": 1/N, "5": 5/N, "10": 10/N},
     "baselines": {name: {"text_to_sensor": M, "sensor_to_text": M}}}
    M = {"recall_at_1", "recall_at_5", "recall_at_10", "mean_rank", "median_rank"}

Rows store `sensor` as `[channels, time]` with a per-row `sampling_rate` (null: unknown); rows are embedded in groups
of equal rate. The caption side is chosen by `text_fn`: by default the row's semantic and structural captions joined
(`caption` when both are empty); rows whose text is empty are skipped and counted.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:
    from .harness import SensorTextEncoder

DEFAULT_KS = (1, 5, 10)
_CHUNK = 1024  # query rows per similarity block: memory stays O(N * chunk)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.clip(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12, None)


def _ranks(queries: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """`[N]` rank (1 = best) of candidate i for query i among all candidates; ties count against."""
    ranks = np.empty(len(queries), dtype=np.int64)
    for start in range(0, len(queries), _CHUNK):
        block = queries[start : start + _CHUNK] @ candidates.T  # [c, N]
        rows = np.arange(len(block))
        true = block[rows, start + rows]  # the true pair's score, taken from the same matrix (no rounding mismatch)
        # >= counts the true partner itself once, so the count is 1 + the others scoring at least as high
        ranks[start : start + len(block)] = (block >= true[:, None]).sum(axis=1)
    return ranks


def _direction(ranks: np.ndarray, ks: Sequence[int]) -> dict[str, float]:
    out = {f"recall_at_{k}": float(np.mean(ranks <= k)) for k in ks}
    out["mean_rank"] = float(ranks.mean())
    out["median_rank"] = float(np.median(ranks))
    return out


def retrieval_metrics(sensor_embeds: np.ndarray, text_embeds: np.ndarray, ks: Sequence[int] = DEFAULT_KS) -> dict:
    """Text→sensor and sensor→text Recall@k and mean/median rank of `[N, E]` paired embeddings (row i ↔ row i)."""
    sensor, text = _unit(sensor_embeds), _unit(text_embeds)
    if sensor.ndim != 2 or sensor.shape != text.shape or not len(sensor):
        raise ValueError(f"expected two non-empty [N, E] arrays of the same shape, got {sensor.shape} and {text.shape}")
    return {
        "num_pairs": len(sensor),
        "text_to_sensor": _direction(_ranks(text, sensor), ks),
        "sensor_to_text": _direction(_ranks(sensor, text), ks),
    }


def chance_recall(num_pairs: int, ks: Sequence[int] = DEFAULT_KS) -> dict[str, float]:
    """Recall@k of a random ranking of `num_pairs` candidates: min(k, N) / N (keys are str(k), for JSON)."""
    return {str(k): min(k, num_pairs) / num_pairs for k in ks}


def _numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor, possibly on an accelerator or in bfloat16
        x = x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def retrieval_from_embeddings(sensor_embeds: Any, text_embeds: Any, ks: Sequence[int] = DEFAULT_KS) -> dict:
    """`retrieval_metrics` of torch tensors or arrays plus `chance_recall_at_k`: for a training loop's evaluation
    step (embed a held-out batch of pairs with `get_sensor_features` / `get_text_features`, call this)."""
    metrics = retrieval_metrics(_numpy(sensor_embeds), _numpy(text_embeds), ks)
    metrics["chance_recall_at_k"] = chance_recall(metrics["num_pairs"], ks)
    return metrics


def flat_metrics(metrics: Mapping[str, Any], prefix: str = "retrieval/") -> dict[str, float]:
    """Scalars of a (nested) retrieval result for a logger: `{"retrieval/text_to_sensor/recall_at_1": ...}`."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, Mapping):
            flat.update(flat_metrics(value, f"{prefix}{key}/"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[f"{prefix}{key}"] = float(value)
    return flat


# --- the caption side of a corpus row -------------------------------------------------------------------------------


def _field(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def semantic_structural_text(row: Mapping[str, Any]) -> str:
    """The row's semantic and structural captions joined (the statistical level's numbers are left out); the full
    `caption` when both are empty."""
    text = f"{_field(row, 'caption_semantic')} {_field(row, 'caption_structural')}".strip()
    return text or _field(row, "caption")


TEXT_FUNCTIONS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "semantic+structural": semantic_structural_text,
    "caption": lambda row: _field(row, "caption"),
    "semantic": lambda row: _field(row, "caption_semantic"),
    "structural": lambda row: _field(row, "caption_structural"),
    "statistical": lambda row: _field(row, "caption_statistical"),
}


def _text_function(text_fn: str | Callable[[Mapping[str, Any]], str]) -> tuple[str, Callable]:
    if callable(text_fn):
        return getattr(text_fn, "__name__", "custom"), text_fn
    try:
        return text_fn, TEXT_FUNCTIONS[text_fn]
    except KeyError:
        raise ValueError(f"unknown text choice {text_fn!r}; available: {', '.join(TEXT_FUNCTIONS)}") from None


def _rate(value: Any) -> float | None:
    if value is None:
        return None
    rate = float(value)
    return None if math.isnan(rate) else rate


def _rows(corpus: Any, split: str) -> tuple[str, Iterable[Mapping[str, Any]]]:
    """(name, rows) of a corpus path / Hub id (its `split` is loaded), a `datasets.Dataset`, or a list of rows."""
    if isinstance(corpus, (str, os.PathLike)):
        from slip_sensor.data.corpus import load_corpus

        return str(corpus), load_corpus(corpus, split=split)
    return getattr(getattr(corpus, "info", None), "dataset_name", None) or type(corpus).__name__, corpus


@dataclass
class RetrievalPairs:
    """Sensor samples and their texts, paired by position, read from rows in the corpus schema."""

    sensors: list[np.ndarray]
    rates: list[float | None]
    texts: list[str]
    num_skipped: int = 0


def retrieval_pairs(
    rows: Iterable[Mapping[str, Any]],
    text_fn: str | Callable[[Mapping[str, Any]], str] = "semantic+structural",
    max_rows: int | None = None,
) -> RetrievalPairs:
    """The (sensor, text) pairs of `rows`: the first `max_rows` rows with a non-empty text; rows without one are
    counted in `num_skipped`."""
    from slip_sensor.data.corpus_schema import row_sensor

    _, text_of = _text_function(text_fn)
    pairs = RetrievalPairs([], [], [])
    for row in rows:
        if max_rows is not None and len(pairs.texts) >= max_rows:
            break
        text = text_of(row)
        if not text:
            pairs.num_skipped += 1
            continue
        pairs.sensors.append(row_sensor(row))
        pairs.rates.append(_rate(row.get("sampling_rate")))
        pairs.texts.append(text)
    return pairs


def sensor_embeddings(encoder: "SensorTextEncoder", sensors: Sequence[np.ndarray], rates: Sequence[float | None]):
    """`[N, E]` embeddings of samples of mixed sampling rates (a `SensorTextEncoder` takes one rate per call)."""
    groups: dict[float | None, list[int]] = {}
    for index, rate in enumerate(rates):
        groups.setdefault(rate, []).append(index)
    embeds: np.ndarray | None = None
    for rate, indices in groups.items():
        group = np.asarray(encoder.sensor_embeddings([sensors[i] for i in indices], rate))
        if embeds is None:
            embeds = np.empty((len(sensors), group.shape[1]), dtype=np.float32)
        embeds[indices] = group
    return embeds


def evaluate_retrieval(
    encoder: "SensorTextEncoder",
    corpus: Any,
    split: str = "validation",
    text_fn: str | Callable[[Mapping[str, Any]], str] = "semantic+structural",
    max_rows: int | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    baselines: Mapping[str, "SensorTextEncoder"] | None = None,
) -> dict:
    """Retrieval between the sensor samples and captions of a held-out corpus split (see the module docstring).

    `corpus` is a corpus directory or Hub id (its `split` is loaded with `load_corpus`), a `datasets.Dataset`, or a
    sequence of row dicts in the corpus schema; `max_rows` keeps the first rows only (chance is k / rows used).
    Each of `baselines` (name → encoder) is scored on the same pairs, into `result["baselines"][name]`
    (`{"text_to_sensor": M, "sensor_to_text": M}`)."""
    name, rows = _rows(corpus, split)
    text_name, _ = _text_function(text_fn)
    pairs = retrieval_pairs(rows, text_fn, max_rows)
    if not pairs.texts:
        raise ValueError(f"{name} ({split}) has no row with a {text_name!r} text to retrieve")

    def scored(scorer: "SensorTextEncoder") -> dict:
        return retrieval_from_embeddings(
            sensor_embeddings(scorer, pairs.sensors, pairs.rates), scorer.text_embeddings(pairs.texts), ks
        )

    metrics = scored(encoder)
    result = {
        "corpus": name,
        "split": split,
        "text": text_name,
        "num_pairs": metrics.pop("num_pairs"),
        "num_skipped": pairs.num_skipped,
        "ks": list(ks),
        **metrics,
    }
    if baselines:
        result["baselines"] = {
            baseline: {direction: values for direction, values in scored(scorer).items()
                       if direction in ("text_to_sensor", "sensor_to_text")}
            for baseline, scorer in baselines.items()
        }
    return result
