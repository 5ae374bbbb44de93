"""Real labelled sensor datasets that ship inside the aeon wheel (no download), as `LabelledSensorDataset`s.

`load_labelled_dataset(name)` gives train and test arrays, class names, channel names, sampling rate, domain and
several zero-shot prompt templates; `list_labelled_datasets()` names them. `make_record` captions the TRAIN split
only, for pretraining mixtures: the test splits are evaluation data and never enter a corpus.

Sampling rates come from the archive descriptions: BasicMotions 10 Hz ("sampled once every tenth of a second"),
ItalyPowerDemand hourly, JapaneseVowels one frame per 6.4 ms shift (156.25 Hz). GunPoint (video tracking) and
PickupGestureWiimoteZ (Nintendo Wiimote) state no rate; the nominal 30 fps and 100 Hz used are noted per dataset.
ArrowHead-style shape outlines are left out: they have no time axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .captions import caption_sensor
from .corpus import CorpusRecord, record_rng
from .labelled import LabelledSensorDataset

SOURCE_PREFIX = "aeon"


@dataclass(frozen=True)
class DatasetCard:
    """How one bundled dataset is described: the same text feeds zero-shot prompts and pretraining captions."""

    name: str
    labels: dict[str, str]  # aeon label -> class name (natural language, fits the templates' {label})
    sampling_rate: float  # Hz
    channel_names: tuple[str, ...]
    channel_units: tuple[str, ...]
    domain: str
    description: str
    prompt_templates: tuple[str, ...]


_CARDS = (
    DatasetCard(
        name="BasicMotions",
        labels={"badminton": "playing badminton", "running": "running", "standing": "standing", "walking": "walking"},
        sampling_rate=10.0,
        channel_names=("accel x", "accel y", "accel z", "gyro x", "gyro y", "gyro z"),
        channel_units=("",) * 6,
        domain="human activity recognition",
        description="Smartwatch 3-axis accelerometer and 3-axis gyroscope, 10 s at 10 Hz, four students doing four activities.",
        prompt_templates=(
            "Smartwatch motion data of a person {label}.",
            "Accelerometer and gyroscope readings from a wrist-worn watch while {label}.",
            "The person wearing the watch is {label}.",
            "Ten seconds of wrist motion recorded while the wearer was {label}.",
        ),
    ),
    DatasetCard(
        name="GunPoint",
        labels={"1": "drawing a gun from a holster and aiming it", "2": "pointing a finger at a target"},
        sampling_rate=30.0,
        channel_names=("hand x position",),
        channel_units=("",),
        domain="motion tracking",
        description="Video-tracked x coordinate of an actor's right hand (z-normalised); 150 frames, nominal 30 fps.",
        prompt_templates=(
            "The horizontal position of a hand while {label}.",
            "Hand motion of an actor {label}.",
            "Video tracking of a right hand: the actor is {label}.",
        ),
    ),
    DatasetCard(
        name="ItalyPowerDemand",
        labels={"1": "a day from October to March", "2": "a day from April to September"},
        sampling_rate=1 / 3600,
        channel_names=("power demand",),
        channel_units=("",),
        domain="energy",
        description="Italian electrical power demand, 24 hourly values per day (z-normalised).",
        prompt_templates=(
            "Hourly electricity demand in Italy over {label}.",
            "The power demand profile of {label}.",
            "Twenty-four hours of Italian power consumption on {label}.",
        ),
    ),
    DatasetCard(
        name="JapaneseVowels",
        labels={str(k): f"speaker {k}" for k in range(1, 10)},
        sampling_rate=156.25,
        channel_names=tuple(f"LPC cepstrum {k}" for k in range(1, 13)),
        channel_units=("",) * 12,
        domain="speech",
        description="12 LPC cepstrum coefficients per 25.6 ms frame (6.4 ms shift) of the vowels /ae/ uttered by nine male speakers.",
        prompt_templates=(
            "Cepstral features of the vowels /ae/ spoken by {label}.",
            "An utterance of /ae/ by {label}.",
            "Speech frames from {label} saying the Japanese vowels a and e.",
        ),
    ),
    DatasetCard(
        name="PickupGestureWiimoteZ",
        labels={str(k): f"participant {k}" for k in range(1, 11)},
        sampling_rate=100.0,
        channel_names=("acceleration z",),
        channel_units=("g",),
        domain="gesture recognition",
        description="Wiimote z-axis acceleration of a pick-up gesture; classes are the ten participants. Nominal 100 Hz.",
        prompt_templates=(
            "Z-axis acceleration of a Wiimote picked up by {label}.",
            "A pick-up gesture performed by {label}.",
            "Controller acceleration while {label} picks up the Wiimote.",
        ),
    ),
)
CARDS = {card.name.lower(): card for card in _CARDS}


def list_labelled_datasets() -> list[str]:
    """Names accepted by `load_labelled_dataset`."""
    return [card.name for card in _CARDS]


def dataset_card(name: str) -> DatasetCard:
    try:
        return CARDS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; available: {', '.join(list_labelled_datasets())}") from None


@lru_cache(maxsize=None)
def _split_arrays(name: str, split: str) -> tuple[tuple[np.ndarray, ...], tuple[str, ...]]:
    """aeon's bundled arrays (read-only copies, cached per process) and their raw labels."""
    from aeon.datasets import load_classification  # ~1.5 s import, only when a dataset is used

    X, y = load_classification(name, split=split)
    arrays = []
    for x in X:
        a = np.array(x, dtype=np.float32)
        a.setflags(write=False)
        arrays.append(a)
    return tuple(arrays), tuple(str(v) for v in y)


def load_labelled_dataset(name: str) -> LabelledSensorDataset:
    """A bundled dataset with its train and test splits (fresh arrays on every call)."""
    card = dataset_card(name)
    classes = list(card.labels)
    splits = {}
    for split in ("train", "test"):
        arrays, raw = _split_arrays(card.name, split)
        splits[split] = ([a.copy() for a in arrays], np.array([classes.index(v) for v in raw], dtype=np.int64))
    return LabelledSensorDataset(
        name=card.name,
        train_sensors=splits["train"][0],
        train_labels=splits["train"][1],
        test_sensors=splits["test"][0],
        test_labels=splits["test"][1],
        class_names=[card.labels[c] for c in classes],
        sampling_rate=card.sampling_rate,
        channel_names=list(card.channel_names),
        prompt_templates=list(card.prompt_templates),
        domain=card.domain,
        description=card.description,
    )


def pretraining_size() -> int:
    """Number of train-split samples available to a corpus."""
    return sum(len(_split_arrays(card.name, "train")[0]) for card in _CARDS)


@lru_cache(maxsize=8)
def _order(seed: int) -> np.ndarray:
    """A seeded permutation of all train samples, so any number of rows mixes every dataset."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(len(_CARDS),))).permutation(pretraining_size())


def _locate(index: int) -> tuple[DatasetCard, int]:
    """(dataset, position in its train split) of a global train-sample index."""
    ends = np.cumsum([len(_split_arrays(card.name, "train")[0]) for card in _CARDS])
    k = int(np.searchsorted(ends, index, side="right"))
    return _CARDS[k], index - (int(ends[k - 1]) if k else 0)


def make_record(index: int, seed: int) -> CorpusRecord:
    """The `index`-th train-split sample (in a seeded order over all bundled datasets), captioned from its data and
    its class."""
    if not 0 <= index < pretraining_size():
        raise IndexError(f"only {pretraining_size()} train samples are bundled, asked for #{index}")
    card, position = _locate(int(_order(seed)[index]))
    arrays, raw = _split_arrays(card.name, "train")
    sensor, label = arrays[position], card.labels[raw[position]]
    source = f"{SOURCE_PREFIX}/{card.name}/train"
    caption = caption_sensor(
        sensor,
        card.sampling_rate,
        channel_names=card.channel_names,
        units=card.channel_units,
        domain=card.domain,
        label=label,
        label_templates=card.prompt_templates,
        seed=int(record_rng(seed, source, position).integers(2**31)),
    )
    return CorpusRecord(
        id=f"{source}/{position}",
        sensor=np.array(sensor),
        sampling_rate=card.sampling_rate,
        channel_names=list(card.channel_names),
        channel_units=list(card.channel_units),
        domain=card.domain,
        label=label,
        source=source,
        caption=caption,
    )
