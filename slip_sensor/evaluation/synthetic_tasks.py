"""Held-out zero-shot tasks whose truth is known: questions about series from the synthetic generator.

`slip evaluate --tasks synthetic-attributes` expands to six `LabelledSensorDataset`s, each a zero-shot (and
linear-probe) classification of one attribute of series drawn with `slip_sensor.data.synthetic` (`_channel`,
`_follower`, `render`, `true_facts`: the generator behind the `synthetic` corpus source):

| task | classes | series |
|---|---|---|
| `synthetic-trend` | an upward trend / a downward trend / no overall trend | 1 channel, no level shifts |
| `synthetic-periodicity` | a clear cycle / no clear cycle | 1 channel |
| `synthetic-noise` | low noise / high noise | 1 channel, noise std set per class |
| `synthetic-spikes` | isolated spikes / no isolated spikes | 1 channel |
| `synthetic-level-shift` | a level shift / no level shift | 1 channel |
| `synthetic-lead` | channel 1 leads channel 2 / channel 2 leads channel 1 | 2 channels: a leader and its delayed copy |

Truth comes from the generator, never from a detector: a sample is kept only when its spec has the asked attribute
(e.g. a linear trend, a spike list, a follower channel) AND the generator's own `true_facts` (what a corpus caption
of that series would state) agree with the class; everything else about the series is drawn as the generator draws
it, independently of the class (rejection sampling, or, for noise, setting the noise std of an otherwise drawn
spec). Class prompts use the wording of the structural caption sentences ("The signal shows no clear cycle.",
"There are 2 isolated spikes in the signal", "Channel 1 leads channel 2 by roughly ...") without their numbers.

Seeds: corpora are built with `slip build-corpus --seed S` for small S (0, 1, ...), drawing record `i` from
`record_rng(S, "synthetic", i)`. Evaluation samples come from `record_rng(EVAL_SEED, "synthetic-eval/<task>/<split>",
i)` with the dedicated `EVAL_SEED` below (never used for a corpus) and a source string no corpus uses, so their
random streams are disjoint from every corpus stream. All series are sampled at `SAMPLING_RATE` (1 Hz, the
generator's "1 Hz" regime with its natural cycles of 5, 10 and 60 s) with lengths log-uniform in
[`MIN_LENGTH`, `MAX_LENGTH`]. Default size: 60 train and 60 test samples per class, balanced and deterministic.

This module imports only the standard library at import time; numpy and the generator load on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

if TYPE_CHECKING:
    import numpy as np

    from slip_sensor.data.labelled import LabelledSensorDataset
    from slip_sensor.data.synthetic import SyntheticSpec

GROUP = "synthetic-attributes"
SOURCE = "synthetic-eval"
EVAL_SEED = 2_718_281_828  # dedicated to evaluation; corpora use small seeds (0, 1, ...)
SAMPLING_RATE = 1.0  # Hz: the generator's "1 Hz" regime
MIN_LENGTH, MAX_LENGTH = 128, 512
TRAIN_PER_CLASS = TEST_PER_CLASS = 60
MAX_ATTEMPTS = 500  # draws per sample before giving up (a generator change that makes a class impossible fails loudly)
# noise std as a multiple of the 5-95% range of the noise-free series, per class (then checked against true_facts)
LOW_NOISE_FACTOR = (0.005, 0.03)
HIGH_NOISE_FACTOR = (0.6, 2.0)

_FINDS = "In the signal one finds {label}."  # the compact captions' "In {name} one finds {clauses}."


@dataclass(frozen=True)
class AttributeTask:
    """One attribute question: natural class names and prompt templates in the captions' wording."""

    name: str
    attribute: str
    class_names: tuple[str, ...]
    prompt_templates: tuple[str, ...]
    channels: int
    description: str


TASKS: dict[str, AttributeTask] = {
    task.name: task
    for task in (
        AttributeTask(
            "synthetic-trend",
            "trend",
            ("an upward trend", "a downward trend", "no overall trend"),
            ("The signal shows {label}.", "Overall, the signal has {label}.", _FINDS),
            1,
            "Overall trend of a synthetic series: a linear rise, a linear fall, or no trend (level shifts excluded).",
        ),
        AttributeTask(
            "synthetic-periodicity",
            "periodicity",
            ("a clear cycle", "no clear cycle"),
            ("The signal shows {label}.", "There is {label} in the signal.", _FINDS),
            1,
            "Whether a synthetic series has a repeating cycle (one explaining at least 20% of the detrended variance).",
        ),
        AttributeTask(
            "synthetic-noise",
            "noise",
            ("low noise", "high noise"),
            ("The signal has {label}.", "The signal carries {label}.", _FINDS),
            1,
            "Noise level of a synthetic series (noise std relative to its 5-95% range, as the captions word it).",
        ),
        AttributeTask(
            "synthetic-spikes",
            "spikes",
            ("isolated spikes", "no isolated spikes"),
            ("The signal contains {label}.", "There are {label} in the signal.", _FINDS),
            1,
            "Whether a synthetic series contains isolated spikes.",
        ),
        AttributeTask(
            "synthetic-level-shift",
            "level shift",
            ("a level shift", "no level shift"),
            ("There is {label} in the signal.", "The signal shows {label}.", _FINDS),
            1,
            "Whether a synthetic series jumps to a new level (a step) somewhere.",
        ),
        AttributeTask(
            "synthetic-lead",
            "lead/lag",
            ("channel 1 leads channel 2", "channel 2 leads channel 1"),
            (
                "In this recording, {label}.",
                "Of the two channels, {label} by a short delay.",
                "Across the channels, {label}, and the other follows later.",
            ),
            2,
            "Which of two channels leads: the follower is a delayed, rescaled copy of the leader's trend and cycles.",
        ),
    )
}
TASK_NAMES: tuple[str, ...] = tuple(TASKS)


def list_synthetic_tasks() -> list[str]:
    """Names of the synthetic attribute tasks (`GROUP` expands to all of them)."""
    return list(TASK_NAMES)


def is_synthetic_task(name: str) -> bool:
    return name.lower() in TASKS


def expand_task_names(names: Sequence[Any]) -> list[Any]:
    """`names` with every `GROUP` entry replaced by all synthetic task names (order kept, duplicates dropped);
    non-string entries (dataset objects) pass through."""
    out: list[Any] = []
    for name in names:
        for item in TASK_NAMES if isinstance(name, str) and name.lower() == GROUP else (name,):
            if not (isinstance(item, str) and item in out):
                out.append(item)
    return out


@dataclass
class SyntheticSample:
    """One generated sample: its stable id, `[channels, time]` series, class index, spec and true facts."""

    id: str
    sensor: "np.ndarray"
    label: int
    spec: "SyntheticSpec"
    facts: Any  # slip_sensor.data.attributes.SeriesFacts


def _draw(rng: "np.random.Generator", channels: int) -> "SyntheticSpec":
    """A spec drawn as the generator draws one (fixed 1 Hz regime, bounded length): independent channels, or a
    leader followed by its delayed copy."""
    import numpy as np

    from slip_sensor.data import synthetic

    regime = next(r for r in synthetic.REGIMES if r.sampling_rate == SAMPLING_RATE)
    n = int(np.exp(rng.uniform(np.log(MIN_LENGTH), np.log(MAX_LENGTH + 1))))
    leader = synthetic._channel(regime, n, rng)
    specs = [leader] if channels == 1 else [leader, synthetic._follower(leader, n, rng)]
    return synthetic.SyntheticSpec(SAMPLING_RATE, n, specs)


def _render(spec: "SyntheticSpec", rng: "np.random.Generator") -> tuple["np.ndarray", Any]:
    from slip_sensor.data import synthetic

    sensor = synthetic.render(spec, rng)
    return sensor, synthetic.true_facts(spec, sensor)


def _trend(spec, rng, label):
    channel = spec.channels[0]
    if channel.shifts or (len(channel.knots) != 2 if label < 2 else channel.knots):
        return None  # a linear trend for up/down, none at all for "no trend"; steps would read as trends
    return _render(spec, rng)


def _trend_truth(facts) -> int:
    return {"increasing": 0, "decreasing": 1, "none": 2}[facts.channels[0].trend.direction]


def _periodicity(spec, rng, label):
    if bool(spec.channels[0].cycles) != (label == 0):
        return None
    return _render(spec, rng)


def _periodicity_truth(facts) -> int:
    from slip_sensor.data.attributes import PERIOD_MIN_STRENGTH

    periods = facts.channels[0].periods
    if not periods:
        return 1
    # a stated cycle that noise hides (explains < 20% of the variance) is neither class: the sample is redrawn
    return 0 if periods[0].strength >= PERIOD_MIN_STRENGTH else -1


def _noise(spec, rng, label):
    import numpy as np

    channel = spec.channels[0]
    channel.noise_std = 0.0
    clean = _render(spec, np.random.default_rng(0))[0][0]
    finite = clean[np.isfinite(clean)]
    q05, q95 = np.percentile(finite, [5, 95]) if finite.size else (0.0, 0.0)
    if q95 <= q05:
        return None  # nothing but a constant level: noise has no scale to be relative to
    low, high = LOW_NOISE_FACTOR if label == 0 else HIGH_NOISE_FACTOR
    channel.noise_std = float((q95 - q05) * np.exp(rng.uniform(np.log(low), np.log(high))))
    return _render(spec, rng)


def _noise_truth(facts) -> int:
    from slip_sensor.data.attributes import noise_level

    channel = facts.channels[0]
    level = noise_level(channel.noise_std, channel.stats.amplitude)
    return {"almost no noise": 0, "low noise": 0, "high noise": 1}.get(level, -1)  # "moderate noise": neither


def _spikes(spec, rng, label):
    if bool(spec.channels[0].spikes) != (label == 0):
        return None
    return _render(spec, rng)


def _spikes_truth(facts) -> int:
    return 0 if facts.channels[0].spikes else 1


def _level_shift(spec, rng, label):
    if bool(spec.channels[0].shifts) != (label == 0):
        return None
    return _render(spec, rng)


def _level_shift_truth(facts) -> int:
    return 0 if facts.channels[0].level_shifts else 1


def _lead(spec, rng, label):
    if label == 1:  # the follower first: channel 2 is the leader
        spec.channels.reverse()
    return _render(spec, rng)


def _lead_truth(facts) -> int:
    pair = next((p for p in facts.pairs if (p.first, p.second) == (0, 1)), None)
    if pair is None or pair.lag == 0:
        return -1  # the caption would state no lead: neither class
    return 0 if pair.lag > 0 else 1  # lag > 0: channel 2 follows channel 1


# attribute -> (draw-and-render for a class, or None to redraw; truth of the rendered sample from its true facts)
_GENERATORS: dict[str, tuple[Callable, Callable[[Any], int]]] = {
    "synthetic-trend": (_trend, _trend_truth),
    "synthetic-periodicity": (_periodicity, _periodicity_truth),
    "synthetic-noise": (_noise, _noise_truth),
    "synthetic-spikes": (_spikes, _spikes_truth),
    "synthetic-level-shift": (_level_shift, _level_shift_truth),
    "synthetic-lead": (_lead, _lead_truth),
}


def true_label(name: str, facts: Any) -> int:
    """Class index that the generator's true facts of a sample give for task `name` (-1: neither class)."""
    return _GENERATORS[_task(name).name][1](facts)


def _task(name: str) -> AttributeTask:
    try:
        return TASKS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown synthetic task {name!r}; available: {', '.join(TASK_NAMES)}") from None


def generate_sample(name: str, split: str, index: int, seed: int = EVAL_SEED) -> SyntheticSample:
    """The `index`-th sample of a task's split: class `index % num_classes`, drawn from
    `record_rng(seed, "synthetic-eval/<task>/<split>", index)` until spec and true facts agree with the class."""
    from slip_sensor.data.corpus import record_rng

    task = _task(name)
    generate, truth = _GENERATORS[task.name]
    label = index % len(task.class_names)
    source = f"{SOURCE}/{task.name}/{split}"
    rng = record_rng(seed, source, index)
    for _ in range(MAX_ATTEMPTS):
        spec = _draw(rng, task.channels)
        rendered = generate(spec, rng, label)
        if rendered is not None and truth(rendered[1]) == label:
            sensor, facts = rendered
            return SyntheticSample(f"{source}/{index}", sensor, label, spec, facts)
    raise RuntimeError(f"{task.name}: no sample of class {task.class_names[label]!r} in {MAX_ATTEMPTS} draws")


@lru_cache(maxsize=32)
def _split(name: str, split: str, count: int, seed: int) -> tuple[tuple["np.ndarray", ...], tuple[int, ...]]:
    """Read-only arrays and labels of one split (cached per process)."""
    arrays, labels = [], []
    for index in range(count):
        sample = generate_sample(name, split, index, seed)
        sample.sensor.setflags(write=False)
        arrays.append(sample.sensor)
        labels.append(sample.label)
    return tuple(arrays), tuple(labels)


def load_synthetic_task(
    name: str,
    train_per_class: int = TRAIN_PER_CLASS,
    test_per_class: int = TEST_PER_CLASS,
    seed: int = EVAL_SEED,
) -> "LabelledSensorDataset":
    """A synthetic attribute task as a `LabelledSensorDataset` (balanced, deterministic; fresh arrays per call)."""
    import numpy as np

    from slip_sensor.data.attributes import default_names
    from slip_sensor.data.labelled import LabelledSensorDataset

    task = _task(name)
    k = len(task.class_names)
    splits = {}
    for split, per_class in (("train", train_per_class), ("test", test_per_class)):
        arrays, labels = _split(task.name, split, per_class * k, seed)
        splits[split] = ([a.copy() for a in arrays], np.array(labels, dtype=np.int64))
    return LabelledSensorDataset(
        name=task.name,
        train_sensors=splits["train"][0],
        train_labels=splits["train"][1],
        test_sensors=splits["test"][0],
        test_labels=splits["test"][1],
        class_names=list(task.class_names),
        sampling_rate=SAMPLING_RATE,
        channel_names=default_names(task.channels, None, None)[0],
        prompt_templates=list(task.prompt_templates),
        domain="synthetic",
        description=task.description,
    )


def summarise(tasks: Mapping[str, dict]) -> dict | None:
    """`results["summary"]["synthetic_attributes"]` from the `tasks` of a results JSON: mean zero-shot accuracy and
    mean chance (1 / classes) over the synthetic tasks that ran, and their ratio; None when none ran."""
    ran = {
        name: task
        for name, task in tasks.items()
        if is_synthetic_task(name) or is_synthetic_task(task.get("dataset", {}).get("name", ""))
    }
    if not ran:
        return None
    accuracy = [task["zero_shot"]["accuracy"] for task in ran.values()]
    chance = [task["zero_shot"].get("chance", 1 / task["dataset"]["num_classes"]) for task in ran.values()]
    zero_shot_mean, chance_mean = sum(accuracy) / len(accuracy), sum(chance) / len(chance)
    return {
        "zero_shot_mean": zero_shot_mean,
        "chance_mean": chance_mean,
        "ratio_to_chance": zero_shot_mean / chance_mean,
        "tasks": list(ran),
    }
