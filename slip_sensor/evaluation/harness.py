"""Evaluation harness: linear probe, zero-shot and baselines of a SLIP model over labelled sensor datasets.

`evaluate_model(model_or_dir, processor, tasks, out)` loads the model if given a directory, wraps it in a
`SlipEncoder` (the only code that touches the model API) and runs `evaluate_tasks`, which works with any object
following the `SensorTextEncoder` protocol. With `out="results.json"` it writes, in that folder:
`results.json`, `results.md` (markdown table), `results.<task>.zero_shot_confusion.png`,
`results.<task>.embedding_map.png`, and caches features in `feature_cache/` (override with `cache_dir`).

Results JSON, `schema_version` 1 (read by the model-card generator: add keys, never rename or remove them).
Accuracies and F1 are fractions in [0, 1]; std is the sample std over seeds (ddof=1).

    {
      "schema_version": 1,
      "model": {"name_or_path": str, "fingerprint": str, "num_parameters": int},
      "protocol": {
        "name": "default" | "reference",            # reference: the LP epoch is chosen on TEST (see linear_probe)
        "linear_probe": {"epochs", "warmup_epochs", "lr", "weight_decay", "batch_size", "val_fraction", "min_lr",
                         "protocol"},
        "features": str, "selection": str, "zero_shot": str
      },
      "tasks": {
        "<task>": {
          "dataset": {"name", "num_train", "num_test", "num_classes", "class_names", "sampling_rate", "fingerprint"},
          "linear_probe": LP,
          "zero_shot": {"accuracy", "macro_f1", "chance", "num_prompts_per_class",
                        "alignment", "uniformity_sensor", "uniformity_text"},
          "baselines": {"statistical_features": LP, "random_encoder": LP},
          "plots": {"zero_shot_confusion": file name, "embedding_map": file name}   # relative to the JSON; {} if no out
        }
      },
      "summary": {                                   # only when a synthetic attribute task ran
        "synthetic_attributes": {"zero_shot_mean", "chance_mean", "ratio_to_chance", "tasks": [str]}
      },
      "retrieval": {...},                            # only with the `retrieval` task (schema: evaluation.retrieval)
      "captions": {...},                             # only with the `captions` task (schema: evaluation.captioning)
      "environment": {"python", "platform", "numpy", "torch", "transformers", "scikit_learn", "slip_sensor",
                      "device", "created_utc"}
    }
    LP = {"protocol": "default" | "reference", "accuracy_mean", "accuracy_std", "macro_f1_mean", "macro_f1_std",
          "seeds": [int], "per_seed": [{"seed", "epoch", "val_accuracy", "accuracy", "macro_f1"}]}
    Under the reference protocol `val_accuracy` is null and each per-seed row adds `test_accuracy_by_epoch` (the
    test curve whose maximum is reported).

`chance` is 1 / num_classes, the expected accuracy of a uniformly random guess. Task names: bundled datasets
(`slip_sensor.data.load_labelled_dataset`), the synthetic attribute tasks (`synthetic-trend`, ..., or
`synthetic-attributes` for all six; see `evaluation.synthetic_tasks`), and `retrieval` (caption↔sensor
retrieval on the held-out synthetic archive of `evaluation.archive`, or on a `corpus`'s held-out split, beside
baselines; see `evaluation.retrieval`), and `captions` (needs a captioning
checkpoint, `SlipForConditionalGeneration`: greedy captions of held-out synthetic series, scored for faithfulness
and against reference captions; see `evaluation.captioning`).

Zero-shot alignment pairs each test sample's sensor embedding with its true class prototype; `uniformity_sensor`
is over the test sensor embeddings and `uniformity_text` over all class-prompt embeddings (Wang & Isola, t=2).
"""

import datetime
import json
import os
import platform
import re
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from slip_sensor.data.labelled import LabelledSensorDataset
from slip_sensor.errors import UserError
from slip_sensor.loading import check_local_or_hub_id, load_pretrained

from . import synthetic_tasks
from .alignment import alignment, uniformity
from .baselines import statistical_features
from .feature_cache import FeatureCache, arrays_fingerprint, fingerprint
from .finite import non_finite_fields
from .linear_probe import SELECTION, ProbeConfig, linear_probe
from .plots import plot_confusion_matrix, plot_embedding_map
from .report import results_table
from .zero_shot import class_prompts, class_prototypes, zero_shot

if TYPE_CHECKING:
    from slip_sensor import SlipModel, SlipProcessor

SCHEMA_VERSION = 1
RETRIEVAL_TASK = "retrieval"
STATISTICAL_MAP_TRAINING_PAIRS = 512  # training pairs the statistical-feature retrieval baseline is fitted on
CAPTIONS_TASK = "captions"
STATISTICAL_FEATURES_ID = "statistical_features-v1"  # bump when baselines.statistical_features changes
PROTOCOL_TEXT = {
    "features": "linear probe on the masked mean of valid patch tokens of sensor_model.last_hidden_state (frozen, "
    "no pooler)",
    "zero_shot": "nearest class prototype by cosine; prototype = renormalised mean of the class's prompt embeddings",
}


class EvaluationInputError(UserError, ValueError):
    """Arguments an evaluation cannot run with: an unknown task or device, no seeds, a model that lacks what a task
    needs. A `ValueError` for API callers; `slip evaluate` prints its message as a user error."""


class SensorTextEncoder(Protocol):
    """What the harness needs from a model. `fingerprint` identifies weights + preprocessing (feature-cache key)."""

    fingerprint: str

    def token_features(self, sensors: Sequence[np.ndarray], sampling_rate: float) -> np.ndarray:
        """N arrays `[C, T]` → `[N, D]` linear-probe features."""

    def sensor_embeddings(self, sensors: Sequence[np.ndarray], sampling_rate: float) -> np.ndarray:
        """N arrays `[C, T]` → `[N, E]` contrastive sensor embeddings."""

    def text_embeddings(self, texts: Sequence[str]) -> np.ndarray:
        """M strings → `[M, E]` contrastive text embeddings."""


def model_fingerprint(model: "SlipModel", processor: "SlipProcessor") -> str:
    """Hash of the model config, the processor settings and per-tensor weight statistics (cheap, content-based)."""
    parts = [model.config.to_json_string(), processor.to_json_string()]
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            # float64 sum and sum of squares: any weight change moves them, without hashing gigabytes of weights
            values = tensor.to(torch.float64)
            stats = torch.stack([values.sum(), values.square().sum()]).cpu().numpy()
            parts += [name, str(tuple(tensor.shape)), str(tensor.dtype), stats.tobytes()]
    return fingerprint(parts)


class SlipEncoder:
    """`SensorTextEncoder` over a `SlipModel` + `SlipProcessor` (eval mode, no gradients, batched)."""

    def __init__(self, model: "SlipModel", processor: "SlipProcessor", batch_size: int = 32, device: str | None = None):
        if batch_size < 1:
            raise EvaluationInputError(f"batch size must be at least 1, got {batch_size}")
        self.device = torch.device(device) if device else next(model.parameters()).device
        self.model = model.to(self.device).eval()
        self.processor = processor
        self.batch_size = batch_size
        self.fingerprint = model_fingerprint(model, processor)

    def _to_device(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v.to(self.device) if isinstance(v, torch.Tensor) else v for k, v in inputs.items()}

    @torch.inference_mode()
    def _over_sensor_batches(
        self, sensors: Sequence[np.ndarray], sampling_rate: float, compute: Callable[[dict], torch.Tensor]
    ) -> np.ndarray:
        batches = []
        for start in range(0, len(sensors), self.batch_size):
            chunk = list(sensors[start : start + self.batch_size])
            inputs = self.processor(sensors=chunk, sampling_rate=sampling_rate, return_tensors="pt")
            batches.append(compute(self._to_device(inputs)).float().cpu().numpy())
        return np.concatenate(batches)

    def _masked_token_mean(self, inputs: dict) -> torch.Tensor:
        from slip_sensor.modeling_slip.modeling_slip import masked_token_mean

        output = self.model.sensor_model(**inputs)
        return masked_token_mean(output.last_hidden_state, output.patch_mask)

    def token_features(self, sensors: Sequence[np.ndarray], sampling_rate: float) -> np.ndarray:
        return self._over_sensor_batches(sensors, sampling_rate, self._masked_token_mean)

    def sensor_embeddings(self, sensors: Sequence[np.ndarray], sampling_rate: float) -> np.ndarray:
        return self._over_sensor_batches(sensors, sampling_rate, lambda batch: self.model.get_sensor_features(**batch))

    @torch.inference_mode()
    def text_embeddings(self, texts: Sequence[str]) -> np.ndarray:
        batches = []
        for start in range(0, len(texts), self.batch_size):
            chunk = list(texts[start : start + self.batch_size])
            inputs = self._to_device(self.processor(text=chunk, return_tensors="pt"))
            features = self.model.get_text_features(
                input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]
            )
            batches.append(features.float().cpu().numpy())
        return np.concatenate(batches)


def random_encoder(model: "SlipModel", processor: "SlipProcessor", batch_size: int, device: str | None) -> SlipEncoder:
    """The same architecture freshly initialised with seed 0 (the global RNG state is restored afterwards)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        fresh = type(model)(model.config).to(dtype=model.dtype)
    return SlipEncoder(fresh, processor, batch_size, device)


def known_task_names() -> list[str]:
    """Every task name `evaluate_model` accepts."""
    from slip_sensor.data import list_labelled_datasets

    groups = [synthetic_tasks.GROUP, *synthetic_tasks.list_synthetic_tasks(), RETRIEVAL_TASK, CAPTIONS_TASK]
    return [*list_labelled_datasets(), *groups]


def check_task_names(tasks: Sequence[str | LabelledSensorDataset]) -> None:
    """Raises `EvaluationInputError` naming the unknown task names and the known ones (names match case-blind, as
    the loaders do)."""
    known = known_task_names()
    lowered = {name.lower() for name in known}
    unknown = [task for task in tasks if isinstance(task, str) and task.lower() not in lowered]
    if unknown:
        raise EvaluationInputError(f"unknown task {', '.join(map(repr, unknown))}; known tasks: {', '.join(known)}")


def check_device(device: str | None) -> None:
    """Raises `EvaluationInputError` unless `device` is unset, or a torch device that exists on this machine."""
    if device is None:
        return
    try:
        parsed = torch.device(device)
    except RuntimeError:
        raise EvaluationInputError(f"unknown torch device {device!r}; e.g. cpu, cuda, cuda:1, mps") from None
    if parsed.type == "cpu":
        return
    backend = getattr(torch, parsed.type, None)  # torch.cuda, torch.mps, torch.xpu, ...
    available = backend is not None and hasattr(backend, "device_count") and backend.is_available()
    count = backend.device_count() if available else 0
    if (parsed.index or 0) >= count:
        raise EvaluationInputError(
            f"device {device!r} does not exist on this machine (torch sees {count} {parsed.type} devices); "
            "use cpu, or leave the device unset"
        )


def resolve_tasks(tasks: Sequence[str | LabelledSensorDataset]) -> dict[str, LabelledSensorDataset]:
    """`{task name: dataset}`: dataset objects are kept (named by `dataset.name`); `synthetic-attributes` expands to
    the six synthetic attribute tasks, which (and each `synthetic-*` name) are generated by
    `evaluation.synthetic_tasks`; other names are loaded with `slip_sensor.data.load_labelled_dataset` (keyed by the
    name as given); an unknown name raises `EvaluationInputError`."""
    check_task_names(tasks)
    resolved = {}
    for task in synthetic_tasks.expand_task_names(tasks):
        if isinstance(task, LabelledSensorDataset):
            resolved[task.name] = task
        elif task == RETRIEVAL_TASK:
            raise ValueError("`retrieval` is not a labelled task: pass corpus= to evaluate_model (--corpus)")
        elif task == CAPTIONS_TASK:
            raise ValueError("`captions` is not a labelled task: evaluate_model runs it (tasks=[..., 'captions'])")
        elif synthetic_tasks.is_synthetic_task(task):
            resolved[task] = synthetic_tasks.load_synthetic_task(task)
        else:
            from slip_sensor.data import load_labelled_dataset  # only here: loads the corpus code (datasets, pyarrow)

            resolved[task] = load_labelled_dataset(task)
    return resolved


def check_processor_accepts(processor: "SlipProcessor", datasets: Mapping[str, LabelledSensorDataset]) -> None:
    """Runs the processor on each dataset's largest sample (most values: channels × time), so that a task the
    processor refuses (more tokens than `max_tokens_per_sample`) fails before hours of work rather than in the middle
    of the run."""
    for name, dataset in datasets.items():
        largest = max([*dataset.train_sensors, *dataset.test_sensors], key=lambda sample: np.size(sample))
        try:
            processor(sensors=[largest], sampling_rate=dataset.sampling_rate, return_tensors="pt")
        except ValueError as error:
            raise EvaluationInputError(f"task {name!r} cannot be evaluated with this processor: {error}") from error


def _file_slug(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name)


def evaluate_task(
    dataset: LabelledSensorDataset,
    encoder: SensorTextEncoder,
    baseline_encoder: SensorTextEncoder,
    seeds: Sequence[int],
    cache: FeatureCache,
    probe_config: ProbeConfig = ProbeConfig(),
    plot_prefix: Path | None = None,
    on_stage: Callable[[str], None] = lambda stage: None,
) -> dict:
    """One task's entry of the results JSON (see module docstring); plots go to `<plot_prefix>.<kind>.png`."""
    data_id = arrays_fingerprint([*dataset.train_sensors, *dataset.test_sensors, np.float64(dataset.sampling_rate)])
    num_classes = len(dataset.class_names)

    def features(
        encoder_id: str,
        kind: str,
        compute: Callable[[Sequence[np.ndarray], float], np.ndarray],
        splits: Sequence[str] = ("train", "test"),
    ) -> tuple[np.ndarray, ...]:
        """`[N_split, D]` features per split, from the cache or computed once."""
        key = {"encoder": encoder_id, "dataset": _file_slug(dataset.name), "data": data_id, "kind": kind}
        key["splits"] = ",".join(splits)
        sensors = {"train": dataset.train_sensors, "test": dataset.test_sensors}
        arrays = cache.get(key, lambda: {split: compute(sensors[split], dataset.sampling_rate) for split in splits})
        return tuple(arrays[split] for split in splits)

    def probe(train_x: np.ndarray, test_x: np.ndarray) -> dict:
        labels = dataset.train_labels, dataset.test_labels
        return linear_probe(train_x, labels[0], test_x, labels[1], num_classes, seeds, probe_config).summary()

    on_stage("features")
    train_x, test_x = features(encoder.fingerprint, "token_mean", encoder.token_features)
    on_stage("linear probe")
    lp = probe(train_x, test_x)

    on_stage("zero-shot")
    (test_emb,) = features(encoder.fingerprint, "sensor_embedding", encoder.sensor_embeddings, splits=("test",))
    prompts = class_prompts(dataset.label_texts or dataset.class_names, dataset.prompt_templates)
    prompt_emb = encoder.text_embeddings(prompts)
    prototypes = class_prototypes(prompt_emb, num_classes)
    zs = zero_shot(test_emb, dataset.test_labels, prototypes)

    on_stage("baselines")
    stats = probe(*features(STATISTICAL_FEATURES_ID, "statistical", statistical_features))
    rand = probe(*features(baseline_encoder.fingerprint, "token_mean", baseline_encoder.token_features))

    plots = {}
    if plot_prefix is not None:
        confusion = plot_confusion_matrix(
            dataset.test_labels,
            zs.predictions,
            dataset.class_names,
            Path(f"{plot_prefix}.zero_shot_confusion.png"),
            f"{dataset.name}\nzero-shot accuracy {100 * zs.accuracy:.1f}%",
        )
        embedding_map = plot_embedding_map(
            test_x,
            dataset.test_labels,
            dataset.class_names,
            Path(f"{plot_prefix}.embedding_map.png"),
            f"{dataset.name}\ntest linear-probe features (PCA)",
        )
        plots = {"zero_shot_confusion": confusion.name, "embedding_map": embedding_map.name}

    return {
        "dataset": {
            "name": dataset.name,
            "num_train": len(dataset.train_labels),
            "num_test": len(dataset.test_labels),
            "num_classes": num_classes,
            "class_names": list(dataset.class_names),
            "sampling_rate": float(dataset.sampling_rate),
            "fingerprint": data_id,
        },
        "linear_probe": lp,
        "zero_shot": {
            "accuracy": zs.accuracy,
            "macro_f1": zs.macro_f1,
            "chance": 1 / num_classes,
            "num_prompts_per_class": len(dataset.prompt_templates),
            "alignment": alignment(test_emb, prototypes[dataset.test_labels]),
            "uniformity_sensor": uniformity(test_emb),
            "uniformity_text": uniformity(prompt_emb),
        },
        "baselines": {"statistical_features": stats, "random_encoder": rand},
        "plots": plots,
    }


def evaluate_tasks(
    encoder: SensorTextEncoder,
    baseline_encoder: SensorTextEncoder,
    datasets: Mapping[str, LabelledSensorDataset],
    seeds: int | Sequence[int] = 5,
    out: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    probe_config: ProbeConfig = ProbeConfig(),
    progress: bool = True,
) -> dict:
    """`{"schema_version", "protocol", "tasks"}` of the results JSON for any encoder pair (the model under test and
    its random-init baseline) over `{task name: dataset}` (see `resolve_tasks`). Plots are written next to `out`
    when it is given; features are cached in `cache_dir` (default `<out folder>/feature_cache`, or no cache
    without `out`)."""
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seeds:  # a mean over no seeds is NaN
        raise EvaluationInputError("the linear probe needs at least one seed")
    out = Path(out) if out is not None else None
    if cache_dir is None and out is not None:
        cache_dir = out.parent / "feature_cache"
    cache = FeatureCache(cache_dir)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
    results = {
        "schema_version": SCHEMA_VERSION,
        "protocol": {
            "name": probe_config.protocol,
            "linear_probe": probe_config.to_dict(),
            "features": PROTOCOL_TEXT["features"],
            "selection": SELECTION[probe_config.protocol],
            "zero_shot": PROTOCOL_TEXT["zero_shot"],
        },
        "tasks": {},
    }
    with tqdm(total=4 * len(datasets), desc="evaluate", unit="stage", disable=not progress) as bar:
        for name, dataset in datasets.items():

            def on_stage(stage: str, name: str = name) -> None:
                bar.set_description(f"{name}: {stage}")
                if stage != "features":  # advance after the previous stage finished
                    bar.update(1)

            prefix = out.parent / f"{out.stem}.{_file_slug(name)}" if out is not None else None
            results["tasks"][name] = evaluate_task(
                dataset, encoder, baseline_encoder, seeds, cache, probe_config, prefix, on_stage
            )
            bar.update(1)
    synthetic = synthetic_tasks.summarise(results["tasks"])
    if synthetic is not None:
        results["summary"] = {"synthetic_attributes": synthetic}
    return results


def environment(device: str) -> dict:
    """Versions and platform of this run (for the results JSON)."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "transformers": version("transformers"),
        "scikit_learn": version("scikit-learn"),
        "slip_sensor": version("slip-sensor"),
        "device": device,
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def write_results(results: dict, out: str | os.PathLike) -> None:
    """Writes `out` (strict JSON) and the markdown table beside it (same stem, `.md`); refuses NaN and infinity,
    which strict JSON cannot hold and which only a bug produces."""
    non_finite = non_finite_fields(results)
    if non_finite:
        raise ValueError(f"results hold non-finite numbers (a bug in the evaluation), not written: {non_finite}")
    out = Path(out)
    out.write_text(json.dumps(results, indent=2, allow_nan=False) + "\n")
    out.with_suffix(".md").write_text(results_table(results))


def evaluate_retrieval_task(
    encoder: SlipEncoder,
    random_weights: SlipEncoder,
    corpus: Any | None,
    split: str,
    text_fn: str | Callable[[Mapping[str, Any]], str],
    max_rows: int | None,
) -> dict:
    """Text↔sensor retrieval on `corpus` (its `split`), or without one on the held-out synthetic archive, beside a
    randomly initialised model and a statistical-feature map fitted on the corpus's `train` split (the archive's own
    training windows). A corpus given as rows or a `datasets` object has no training split to fit the map on, so it
    gets only the random baseline."""
    from slip_sensor.data.corpus import load_corpus

    from .archive import NAME, held_out_archive
    from .baselines import StatisticalFeatureEncoder
    from .retrieval import evaluate_retrieval, retrieval_pairs

    archive = corpus is None
    if archive:
        corpus, split, train_rows = held_out_archive("test", max_rows), "test", held_out_archive("train")
    elif isinstance(corpus, (str, os.PathLike)):
        train_rows = load_corpus(corpus, split="train")
    else:
        train_rows = None
    baselines = {"random_weights": random_weights}
    if train_rows is not None:
        train = retrieval_pairs(train_rows, text_fn, max_rows=STATISTICAL_MAP_TRAINING_PAIRS)
        channels = max(np.atleast_2d(sample).shape[0] for sample in train.sensors)
        statistical = StatisticalFeatureEncoder(encoder, channels)
        baselines["statistical_features"] = statistical.fit(train.sensors, train.rates, train.texts)
    result = evaluate_retrieval(encoder, corpus, split, text_fn, max_rows=max_rows, baselines=baselines)
    return {**result, "corpus": NAME} if archive else result


def evaluate_model(
    model_or_dir: "str | os.PathLike | SlipModel",
    processor: "SlipProcessor | None" = None,
    tasks: Sequence[str | LabelledSensorDataset] = ("basicmotions",),
    out: str | os.PathLike | None = None,
    seeds: int | Sequence[int] = 5,
    batch_size: int = 32,
    cache_dir: str | os.PathLike | None = None,
    device: str | None = None,
    probe_config: ProbeConfig = ProbeConfig(),
    progress: bool = True,
    corpus: "str | os.PathLike | Any | None" = None,
    retrieval_split: str = "validation",
    retrieval_text: str | Callable[[Mapping[str, Any]], str] = "semantic+structural",
    retrieval_max_rows: int | None = None,
    caption_samples: int = 64,
    caption_metrics: bool = True,
    caption_max_new_tokens: int = 60,
) -> dict:
    """Evaluates a SLIP model (a `save_pretrained` directory, or a loaded model plus its processor) on `tasks` and
    returns the results JSON; with `out` it also writes the JSON, the markdown table and the plots.

    The task `retrieval` embeds the `retrieval_split` of `corpus` (a corpus directory, Hub id, `datasets.Dataset` or
    list of rows; without one the held-out synthetic archive) and scores caption↔sensor retrieval beside baselines
    (`evaluate_retrieval_task`, with `retrieval_text` choosing the caption text and `retrieval_max_rows` capping the
    rows) into `results["retrieval"]`.

    The task `captions` needs the captioning model (`SlipForConditionalGeneration`: a full checkpoint directory, or
    the model in memory; its two towers serve the other tasks): it captions `caption_samples` held-out synthetic
    series (greedy, `caption_max_new_tokens` new tokens after the known-facts prompt) and scores them with
    `evaluation.captioning.evaluate_captions` (`caption_metrics=False` skips BLEU/ROUGE/BERTScore) into
    `results["captions"]`."""
    # arguments are checked before anything is loaded, so that a typo fails in seconds, not after hours of work
    check_device(device)
    check_task_names(tasks)
    retrieval = RETRIEVAL_TASK in tasks
    captions = CAPTIONS_TASK in tasks
    tasks = [task for task in tasks if task not in (RETRIEVAL_TASK, CAPTIONS_TASK)]
    if retrieval and isinstance(corpus, (str, os.PathLike)):
        check_local_or_hub_id(corpus, "corpus")
    captioner = None
    if isinstance(model_or_dir, (str, os.PathLike)):
        from slip_sensor import SlipForConditionalGeneration, SlipModel, SlipProcessor

        name_or_path = str(model_or_dir)
        if captions:  # one load: the captioning model's two towers are the SlipModel the other tasks use
            captioner, loading = load_pretrained(SlipForConditionalGeneration, model_or_dir, output_loading_info=True)
            if loading["missing_keys"]:
                raise EvaluationInputError(
                    f"the captions task needs a captioning checkpoint; {model_or_dir} lacks "
                    f"{len(loading['missing_keys'])} weights, e.g. {sorted(loading['missing_keys'])[:3]}"
                )
            model = captioner.slip
        else:
            model = load_pretrained(SlipModel, model_or_dir)
        processor = processor if processor is not None else load_pretrained(SlipProcessor, model_or_dir)
    else:
        model = model_or_dir
        name_or_path = getattr(model, "name_or_path", "") or type(model).__name__
        if processor is None:
            raise ValueError("pass the processor together with an in-memory model")
        if hasattr(model, "text_decoder") and hasattr(model, "slip"):  # SlipForConditionalGeneration
            captioner, model = model, model.slip
        elif captions:
            raise ValueError(f"the captions task needs a SlipForConditionalGeneration, got {type(model).__name__}")
    datasets = resolve_tasks(tasks)
    check_processor_accepts(processor, datasets)
    caption_inputs = None
    if captions:
        from .captioning import check_samples_accepted, held_out_caption_samples

        caption_inputs = held_out_caption_samples(caption_samples)
        check_samples_accepted(processor, caption_inputs)
    encoder = SlipEncoder(model, processor, batch_size, device)
    baseline = random_encoder(model, processor, batch_size, device)
    results = {
        "schema_version": SCHEMA_VERSION,  # first in the file; `update` below keeps key positions
        "model": {
            "name_or_path": name_or_path,
            "fingerprint": encoder.fingerprint,
            "num_parameters": sum(p.numel() for p in model.parameters()),
        },
    }
    results.update(evaluate_tasks(encoder, baseline, datasets, seeds, out, cache_dir, probe_config, progress))
    if retrieval:
        results["retrieval"] = evaluate_retrieval_task(
            encoder, baseline, corpus, retrieval_split, retrieval_text, retrieval_max_rows
        )
    if captions:
        from .captioning import evaluate_captions

        results[CAPTIONS_TASK] = evaluate_captions(
            captioner.to(encoder.device),
            processor,
            caption_inputs,
            max_new_tokens=caption_max_new_tokens,
            batch_size=min(batch_size, 16),
            metrics=caption_metrics,
        )
    results["environment"] = environment(str(encoder.device))
    if out is not None:
        write_results(results, out)
    return results
