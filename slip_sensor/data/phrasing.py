"""Wording helpers shared by caption levels: numbers, durations, sampling rates, and seeded template choice."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

_DAY = 86400.0
_YEAR = 365.25 * _DAY
# (upper bound in seconds, unit, seconds per unit); the unit is chosen so the number stays small and readable.
_DURATION_UNITS = (
    (1.0, "ms", 1e-3),
    (120.0, "s", 1.0),
    (7200.0, "min", 60.0),
    (3 * _DAY, "h", 3600.0),
    (2 * _YEAR, "day", _DAY),
    (math.inf, "year", _YEAR),
)
_NAMED_RATES = ((_DAY, "daily"), (3600.0, "hourly"), (60.0, "once a minute"))


def number(value: float, digits: int = 3, ref: float | None = None) -> str:
    """`value` to `digits` significant digits (of `ref` when given, so a mean of 1e-9 next to a std of 1 reads "0")."""
    if not math.isfinite(value):
        return "n/a"
    magnitude = abs(ref) if ref else abs(value)
    if value == 0 or magnitude == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(magnitude)))
    text = f"{round(value, decimals):.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def with_unit(value: float, unit: str, ref: float | None = None) -> str:
    text = number(value, ref=ref)
    return f"{text} {unit}" if unit else text


def article(word: str) -> str:
    """'a' or 'an' for the word that follows."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def _unit_for(seconds: float) -> tuple[str, float]:
    return next((unit, size) for bound, unit, size in _DURATION_UNITS if abs(seconds) < bound)


def _in_unit(seconds: float, unit: str, size: float) -> str:
    text = number(seconds / size)
    return f"{text} {unit}{'s' if unit in ('day', 'year') and text != '1' else ''}"


def duration(seconds: float) -> str:
    """A duration in the most readable unit, e.g. '850 ms', '12.5 s', '4.2 min', '36 h', '7 days', '2.5 years'."""
    return _in_unit(abs(float(seconds)), *_unit_for(float(seconds)))


class Clock:
    """Time points of one recording, all in the unit that suits its total duration (so they compare at a glance)."""

    def __init__(self, total_seconds: float):
        self.unit, self.size = _unit_for(total_seconds)

    def time(self, seconds: float) -> str:
        return _in_unit(float(seconds), self.unit, self.size)

    def at(self, seconds: float) -> str:
        return "at the very start" if seconds == 0 else f"at {self.time(seconds)}"

    def at_all(self, seconds: Sequence[float], more: int = 0) -> str:
        """'at 3 s', 'at 3 s, 5 s and 9 s', 'at 3 s, 5 s and 9 s (and 2 more)'."""
        text = "at " + join([self.time(s) for s in seconds])
        return text + (f" (and {more} more)" if more else "")

    def span(self, start: float, end: float) -> str:
        return f"for the first {self.time(end)}" if start == 0 else f"from {self.time(start)} to {self.time(end)}"


def rate(hz: float) -> str:
    """A sampling rate as an adverbial phrase: 'at 100 Hz', 'hourly', 'once every 15 min'."""
    period = 1.0 / hz
    for seconds, name in _NAMED_RATES:
        if abs(period - seconds) <= 1e-6 * seconds:
            return name
    return f"at {number(hz)} Hz" if hz >= 1 else f"once every {duration(period)}"


def join(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def channel_ref(name: str) -> str:
    """How a sentence refers to a channel: the default univariate name reads as 'the signal'."""
    return "the signal" if name == "signal" else name


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def plural(count: int, singular: str, many: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


class Phraser:
    """Seeded choices between equivalent wordings, so a seed fixes the text and another seed paraphrases it."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def choose(self, options: Sequence[str]) -> str:
        """One of several finished sentences, capitalised."""
        return capitalise(options[int(self.rng.integers(len(options)))])

    def pick(self, templates: Sequence[str], **fields) -> str:
        """One of several templates, filled in and capitalised ('..' from a unit such as 'a.u.' at the end collapses)."""
        return capitalise(templates[int(self.rng.integers(len(templates)))].format(**fields).replace("..", "."))

    def shuffle(self, items: list) -> list:
        return [items[i] for i in self.rng.permutation(len(items))]


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")  # "2.3 h" does not break: a decimal point is not followed by a space


def drop_first_sentence(text: str) -> str:
    """`text` without its first sentence (stripped; "" when it has only one)."""
    parts = _SENTENCE_BREAK.split(text.strip(), maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""
