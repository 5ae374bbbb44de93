"""Caption faithfulness: which facts does a caption state, and are they true of the series it describes?

`score_caption` reads the facts a (generated) caption states, in English, and checks each one against the facts the
package's own extractor computes from the signal (`slip_sensor.data.attributes.describe_series`). Text that states
nothing checkable is ignored: it is neither true nor false. `score_captions` aggregates over many captions.

Fact kinds (`KINDS`) and how each is judged (tolerances are module constants):

* `trend`: rising / falling / no trend, against the extracted overall direction.
* `trend_segment`: "rises by X from 10 s to 30 s" (a piecewise stage): true when an extracted segment (or, with
  none, the overall trend) of that direction covers at least half of the stated span.
* `periodicity`: a cycle present or absent ("no repeating cycle", "periodic", "oscillates"); a stated period
  ("a cycle of about 2 s", "repeats every 6 h", "72 beats per minute", "a daily cycle", "oscillates at 2 Hz")
  must be within `PERIOD_TOLERANCE` (relative) of one of the detected periods.
* `noise`: the level word (almost no / low / moderate / high noise, and synonyms). Only the extracted level counts
  as true; an adjacent level is false (the detail says it was adjacent). Levels are coarse bins of one ratio, so
  "adjacent" is already an error of a factor of about two.
* `spikes`: "no spikes", "a spike" (at least one), "3 isolated spikes" (exact count), "several spikes" (two or more).
* `level_shift`: present or absent; a stated direction ("a step down", "a level shift of -3") must match an extracted
  shift, and a stated time ("at 14 h") must be within `EVENT_TIME_TOLERANCE` times the duration of such a shift.
* `flat`, `missing`: a stuck (constant) stretch or missing data, present or absent.
* `statistics`: mean, std, minimum, maximum, their times, and the normalised values (divided by mean |x|, as the
  captions state them) within `STAT_TOLERANCE` of the channel's range (normalised range for normalised values).
* `duration`, `sampling_rate`: within `RATE_TOLERANCE` (relative); `channels`: the stated number of channels, exact.
* `correlation`: the sign of a stated correlation between two channels (and a stated r within `R_TOLERANCE`); the
  extractor must find the pair notable (|r| >= its reporting threshold). "Uncorrelated" is true when it does not.
  The extractor lists at most `MAX_PAIRS` pairs; given the sensor, an unlisted pair is measured the same way.
* `lag`: which channel leads, a stated lag within `LAG_TOLERANCE` (relative, at least one sample) and a stated r at
  that lag within `R_TOLERANCE`.

Channels: a fact belongs to the channel named nearest before it in its sentence (else the first one named after it,
else the channel of the previous sentence when that sentence named exactly one). Channel names are those given (or
the extractor's defaults, "signal" / "channel k"); "channel 2" / "ch 2" also name the second channel. A fact that
names no channel belongs to the only channel of a univariate series; in a multichannel series it is a claim about
the recording: a positive claim ("a cycle of 2 s") is true when some channel has it, a negative one ("no spikes")
when none does; `StatedFact.channel` is then None. Facts about a pair name both channels ("acc_x, acc_y").

Without a sampling rate, times cannot be checked: the duration and the sampling rate are listed in
`FaithfulnessResult.unchecked` instead of being scored, and of other facts only the part without time is checked
(a stated period counts as "a cycle", a lag as "who leads"; the time of an extreme is unchecked). Facts the extractor did not assess (e.g. the structure of a series shorter than 8 valid samples) are also
unchecked. Identical statements (same kind, channel and claim) are counted once per caption.

Pure numpy and regular expressions; deterministic; parsing and checking take about 5 ms for a caption of 1,200
characters (`describe_series` itself takes longer).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

from slip_sensor.data.attributes import (
    CORRELATION_MIN,
    MAX_PAIRS,
    ChannelFacts,
    ChannelPair,
    SeriesFacts,
    describe_channel,
    describe_pairs,
    describe_series,
    noise_level,
)

KINDS = (
    "trend",
    "trend_segment",
    "periodicity",
    "noise",
    "spikes",
    "level_shift",
    "flat",
    "missing",
    "statistics",
    "duration",
    "sampling_rate",
    "channels",
    "correlation",
    "lag",
)
PERIOD_TOLERANCE = 0.2  # relative, stated period vs the nearest detected one
STAT_TOLERANCE = 0.1  # fraction of the channel's range (max - min)
EVENT_TIME_TOLERANCE = 0.05  # fraction of the duration, for the time of a level shift or an extreme value
RATE_TOLERANCE = 0.05  # relative, for the duration and the sampling rate
R_TOLERANCE = 0.3  # absolute, for a stated r (spikes, which the extractor removes first, change r a lot)
LAG_TOLERANCE = 0.25  # relative, for a stated lag (and at least one sample)
SEGMENT_MIN_OVERLAP = 0.5  # share of a stated trend segment an extracted segment of that direction must cover
NOISE_LEVEL_ORDER = ("almost no noise", "low noise", "moderate noise", "high noise")


@dataclass(frozen=True)
class StatedFact:
    """One fact a caption states: its kind, the channel it is about (None: the recording), what it claims, whether
    the series bears it out, what the series actually shows, and the caption text it was read from."""

    kind: str
    channel: str | None
    claim: str
    true: bool
    detail: str
    text: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FaithfulnessResult:
    """The checked facts of one caption; `unchecked` lists statements that could not be checked (e.g. times without
    a sampling rate)."""

    facts: list[StatedFact]
    unchecked: list[str] = field(default_factory=list)

    @property
    def num_stated(self) -> int:
        return len(self.facts)

    @property
    def num_true(self) -> int:
        return sum(f.true for f in self.facts)

    @property
    def share_true(self) -> float | None:
        """Share of stated facts that are true; None when the caption states no checkable fact."""
        return self.num_true / self.num_stated if self.facts else None

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """kind -> (stated, true)."""
        out: dict[str, tuple[int, int]] = {}
        for f in self.facts:
            stated, true = out.get(f.kind, (0, 0))
            out[f.kind] = (stated + 1, true + int(f.true))
        return out

    def false_facts(self) -> list[StatedFact]:
        return [f for f in self.facts if not f.true]

    def to_dict(self) -> dict:
        return {
            "num_stated": self.num_stated,
            "num_true": self.num_true,
            "share_true": self.share_true,
            "by_kind": {k: {"stated": st, "true": t} for k, (st, t) in self.by_kind().items()},
            "facts": [f.to_dict() for f in self.facts],
            "unchecked": list(self.unchecked),
        }


# --------------------------------------------------------------------------------------------------------------------
# Public API


def score_caption(
    caption: str,
    sensor: np.ndarray,
    sampling_rate: float | None,
    channel_names: Sequence[str] | None = None,
) -> FaithfulnessResult:
    """Check every fact `caption` states against `describe_series` of the `[channels, time]` array `sensor`
    (NaN = missing) sampled at `sampling_rate` Hz (None: unknown, facts in seconds are then unchecked)."""
    x = np.asarray(sensor, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    names = list(channel_names) if channel_names else None
    facts = describe_series(x, float(sampling_rate) if sampling_rate else 1.0, names)
    return check_caption(caption, facts, time_known=bool(sampling_rate), sensor=x)


def check_caption(
    caption: str, facts: SeriesFacts, time_known: bool = True, sensor: np.ndarray | None = None
) -> FaithfulnessResult:
    """Check `caption` against already extracted `facts` (`time_known=False`: their sampling rate is a placeholder,
    so facts stated in seconds are not checked). The extractor lists at most a few channel pairs; with the
    `[channels, time]` `sensor`, a pair it left out is measured the same way (`describe_pairs` on the two channels)."""
    names = [c.name for c in facts.channels]
    claims = _parse(caption, names)
    truth = _Truth(facts, time_known, sensor)
    checked: list[StatedFact] = []
    unchecked: list[str] = []
    seen: set[tuple] = set()
    for claim in claims:
        key = (claim.kind, claim.channel, claim.claim)
        if key in seen:
            continue
        seen.add(key)
        verdict, detail = truth.judge(claim)
        if claim.scope == "pair":
            channel = ", ".join(names[i] for i in claim.channels)
        else:
            channel = names[claim.channel] if claim.channel is not None else None
        if verdict is None:
            unchecked.append(f"{claim.kind}: {claim.claim} ({detail})")
        else:
            checked.append(StatedFact(claim.kind, channel, claim.claim, bool(verdict), detail, claim.text))
    return FaithfulnessResult(checked, unchecked)


def score_captions(
    captions: Sequence[str],
    sensors: Sequence[np.ndarray],
    sampling_rates: Sequence[float | None] | float | None,
    channel_names: Sequence[Sequence[str] | None] | None = None,
) -> dict:
    """Faithfulness over many captions: the share of stated facts that are true (micro average over all captions),
    the mean per-caption share, per-kind counts and shares, facts stated per caption, and captions with no checkable
    fact. `sampling_rates` is one rate per caption or one for all; `channel_names` one list (or None) per caption."""
    n = len(captions)
    if len(sensors) != n:
        raise ValueError(f"{n} captions but {len(sensors)} sensors")
    rates = [sampling_rates] * n if sampling_rates is None or np.ndim(sampling_rates) == 0 else list(sampling_rates)
    names = list(channel_names) if channel_names is not None else [None] * n
    if len(rates) != n or len(names) != n:
        raise ValueError(f"{n} captions but {len(rates)} sampling rates and {len(names)} channel name lists")
    results = [score_caption(c, s, r, nm) for c, s, r, nm in zip(captions, sensors, rates, names)]
    return aggregate(results)


def aggregate(results: Sequence[FaithfulnessResult]) -> dict:
    """The `score_captions` summary of already scored captions."""
    stated = sum(r.num_stated for r in results)
    true = sum(r.num_true for r in results)
    per_kind: dict[str, dict] = {}
    for r in results:
        for kind, (k_stated, k_true) in r.by_kind().items():
            entry = per_kind.setdefault(kind, {"stated": 0, "true": 0})
            entry["stated"] += k_stated
            entry["true"] += k_true
    for entry in per_kind.values():
        entry["share_true"] = entry["true"] / entry["stated"]
    shares = [r.share_true for r in results if r.share_true is not None]
    empty = sum(r.share_true is None for r in results)
    return {
        "num_captions": len(results),
        "num_stated": stated,
        "num_true": true,
        "share_true": true / stated if stated else None,
        "mean_caption_share_true": float(np.mean(shares)) if shares else None,
        "mean_facts_per_caption": stated / len(results) if results else 0.0,
        "captions_without_facts": empty,
        "share_without_facts": empty / len(results) if results else None,
        "num_unchecked": sum(len(r.unchecked) for r in results),
        "per_kind": {k: per_kind[k] for k in KINDS if k in per_kind},
    }


# --------------------------------------------------------------------------------------------------------------------
# Vocabulary

NUM = r"[-+\u2212]?(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?"
_TIME_UNITS = {
    "ms": 1e-3, "msec": 1e-3, "msecs": 1e-3, "millisecond": 1e-3, "milliseconds": 1e-3,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "day": 86400.0, "days": 86400.0, "week": 604800.0, "weeks": 604800.0,
    "month": 30.44 * 86400.0, "months": 30.44 * 86400.0, "year": 365.25 * 86400.0, "years": 365.25 * 86400.0,
    "yr": 365.25 * 86400.0, "yrs": 365.25 * 86400.0,
}
TUNIT = "(?:" + "|".join(sorted(_TIME_UNITS, key=len, reverse=True)) + r")\b"
TIME = rf"{NUM}\s*{TUNIT}"
_TIME_PARTS = re.compile(rf"({NUM})\s*({TUNIT})", re.I)
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
NUMWORD = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
CL = r"(?:[^\x00\x01,;:.!?]|\.(?=\d))"  # a character inside one clause (a decimal point does not end it)
CLM = r"(?:[^\x00,;:.!?]|\.(?=\d))"  # the same, and it may cross a channel mention
CHM = r"(?:the\s+)?\x01+"  # a (masked) channel mention
CH = r"(\x01+)"
ABOUT = r"(?:(?:about|roughly|around|approximately|approx\.|near|nearly|close\s+to|some|~|\u2248)\s*)*"
# An adjective-like word inside a noun phrase (never a function word, so lists of facts do not run together).
ADJ = (
    r"(?!(?:and|but|or|nor|a|an|the|with|while|although|though|yet|its|it|which|in|of|at|to|is|are|has|have|shows?|"
    r"no|not|any|by|from|for|on|over)\b)[a-z][a-z-]*"
)
AT = r"(?:at\s+(?:" + TIME + r"|the\s+very\s+start|the\s+(?:start|beginning|end)))"
# Optional unit after a statistic ("0.5 mV", "0.95x"): never a time unit or a function word.
_UNIT = (
    r"(?:\s?(?!(?:at|to|and|or|with|on|in|of|from|for|the|std|mean|min|max|between|through|i\.e|occurs|which|is|"
    r"reached)\b)(?!" + TUNIT + r")(?!\.)[^\s\d,;:()=\x00\x01]{1,10})"
)
UNIT_OPT = _UNIT + "?"
VAL = rf"({NUM})(?!\s*{TUNIT}|\d)"

_NOISE_WORDS = (
    ("almost no noise", r"almost\s+no|virtually\s+no|nearly\s+no|practically\s+no|hardly\s+any|barely\s+any|"
                        r"very\s+little|very\s+low|negligible|minimal|no"),
    ("low noise", r"little|low|slight|small|mild|weak|light|limited|minor"),
    ("moderate noise", r"moderate|medium|modest|some|noticeable|intermediate"),
    ("high noise", r"very\s+high|high|heavy|strong|substantial|considerable|large|significant|a\s+lot\s+of|"
                   r"lots\s+of|pronounced|prominent|much"),
)
_NOISE_ANY = "|".join(p for _, p in _NOISE_WORDS)

# Nouns a negation ("no ...", "without ...") can deny, with the claim the denial makes.
_NEGATABLE = (
    ("flat", r"flat\s+(?:stretch(?:es)?|segments?|spots?|sections?|periods?|lines?)|constant\s+(?:stretch(?:es)?|"
             r"readings?|values?|segments?)|stuck\s+(?:values?|readings?|sensor)|saturation|flat-?lines?"),
    ("missing", r"missing\s+(?:data|values?|samples?|readings?)|gaps?|drop-?outs?|nans?|missing"),
    ("level_shift", r"level\s+shifts?|level\s+changes?|step\s+changes?|changes?\s+in\s+level|change\s*points?|"
                    r"abrupt\s+changes?|sudden\s+changes?|steps?|jumps?|shifts?|discontinuit(?:y|ies)|breaks?"),
    ("spikes", r"spikes?|outliers?|glitches?|artifacts?|artefacts?"),
    ("periodicity", r"(?:repeating|periodic|regular|recurring|cyclic|cyclical)\s+patterns?|cycles?|periodicity|"
                    r"periods?|rhythms?|oscillations?|seasonality|repetitions?"),
    ("trend", r"trends?|drifts?|rises?|falls?|increases?|decreases?|slopes?"),
)
_NEG_ITEM = r"(?:(?:" + ADJ + r")\s+){0,3}?(?:" + "|".join(f"(?P<{k}{{i}}>{p})" for k, p in _NEGATABLE) + r")\b"
_NEG_HEAD = (
    r"\b(?:no|without|free\s+of|lacks?|lacking|absence\s+of|not\s+any|nor\s+any|neither)\s+(?:(?:a|an|any)\s+)?"
)


def _neg_regex() -> re.Pattern:
    items = [_NEG_ITEM.replace("{i}", str(i)) for i in range(4)]
    # one item, or several separated by commas that end in "or"/"nor": "no spikes, steps or gaps"
    body = items[0] + r"(?:(?:,\s*" + items[1] + r")?(?:,\s*" + items[2] + r")?,?\s+(?:or|nor)\s+(?:any\s+)?" + items[3] + ")?"
    return re.compile(_NEG_HEAD + body, re.I)


# --------------------------------------------------------------------------------------------------------------------
# Parsing


@dataclass
class _Claim:
    kind: str
    claim: str
    payload: dict
    channel: int | None = None  # resolved after matching
    position: int = 0  # in the sentence, for the channel resolution
    text: str = ""
    channels: tuple[int, ...] = ()  # for pair facts
    scope: str = "channel"  # "channel", "global" (recording-level) or "pair"
    negative: bool = False  # "no X": with no channel named, true only when no channel has X


_Handler = Callable[[re.Match, "_Sentence"], list[_Claim]]


class _Sentence:
    """One sentence with a mask: matched text is replaced by \\x00 so no later pattern reads it again; channel
    mentions are replaced by \\x01 so patterns can refer to "a channel" without knowing the names."""

    def __init__(self, text: str, mentions: list[tuple[int, int, int]]):
        self.original = text
        chars = list(text)
        for start, end, _ in mentions:
            chars[start:end] = "\x01" * (end - start)
        self.text = "".join(chars)
        self.mentions = mentions
        self.normalised = False  # set once the sentence's remaining text is known to speak of the normalised scale

    def mask(self, start: int, end: int, fill: str = "\x00") -> None:
        self.text = self.text[:start] + fill * (end - start) + self.text[end:]

    def channel_at(self, position: int) -> int | None:
        return next((c for s, _, c in self.mentions if s == position), None)


def _number(text: str) -> float:
    return float(text.replace("\u2212", "-").replace(",", ""))


def _seconds(text: str) -> float:
    m = _TIME_PARTS.search(text)
    return _number(m.group(1)) * _TIME_UNITS[m.group(2).lower()]


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _fmt_time(seconds: float) -> str:
    for unit, size in (("ms", 1e-3), ("s", 1.0), ("min", 60.0), ("h", 3600.0), ("days", 86400.0)):
        if abs(seconds) < 120 * size or unit == "days":
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def _at_seconds(text: str | None) -> float | None:
    """Seconds of an "at ..." phrase; -1 for "at the end" (resolved against the duration)."""
    if not text:
        return None
    lowered = text.lower()
    if "start" in lowered or "beginning" in lowered:
        return 0.0
    if lowered.rstrip().endswith("end"):
        return -1.0
    return _seconds(text)


# --- handlers ------------------------------------------------------------------------------------------------------


def _global(kind: str, claim: str, **payload) -> _Claim:
    return _Claim(kind, claim, payload, scope="global")


def _duration(m: re.Match, s: _Sentence) -> list[_Claim]:
    seconds = _seconds(m.group("t"))
    return [_global("duration", f"duration {_fmt_time(seconds)}", seconds=seconds)]


_NAMED_INTERVALS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0, "week": 604800.0}


def _sampling(m: re.Match, s: _Sentence) -> list[_Claim]:
    d = m.groupdict()
    if d.get("hz"):
        hz = _number(d["hz"]) * (1000.0 if d["unit"].lower() == "khz" else 1.0)
    elif d.get("every"):
        hz = 1.0 / _seconds(d["every"])
    else:
        word = d["named"].lower()
        interval = next(v for k, v in _NAMED_INTERVALS.items() if k in word or (k[:4] + "ly") in word
                        or (k == "day" and "daily" in word))
        hz = 1.0 / interval
    return [_global("sampling_rate", f"sampled at {_fmt(hz)} Hz", hz=hz)]


def _negation(m: re.Match, s: _Sentence) -> list[_Claim]:
    out = []
    for name, value in m.groupdict().items():
        if value is None:
            continue
        kind = name.rstrip("0123456789")
        claim = {"trend": "no trend", "periodicity": "no cycle", "spikes": "no spikes", "level_shift": "no level shift",
                 "flat": "no flat stretch", "missing": "no missing data"}[kind]
        payload = {"direction": "none"} if kind == "trend" else {"present": False}
        out.append(_Claim(kind, claim, payload, negative=True))
    return out


def _rate_period(m: re.Match, s: _Sentence) -> list[_Claim]:
    d = m.groupdict()
    value = _number(d["n"])
    if value <= 0:
        return []
    per = (d.get("per") or "minute").lower()
    size = next((v for k, v in (("sec", 1.0), ("s", 1.0), ("min", 60.0), ("h", 3600.0), ("day", 86400.0))
                 if per.startswith(k)), 60.0)
    if d.get("bpm") or (d.get("per") is None):
        size = 60.0
    period = size / value
    return [_Claim("periodicity", f"period {_fmt_time(period)}", {"present": True, "seconds": period})]


def _hz_period(m: re.Match, s: _Sentence) -> list[_Claim]:
    hz = _number(m.group("hz")) * (1000.0 if m.group("unit").lower() == "khz" else 1.0)
    if hz <= 0:
        return []
    return [_Claim("periodicity", f"period {_fmt_time(1 / hz)}", {"present": True, "seconds": 1.0 / hz})]


_NAMED_PERIODS = {"hourly": 3600.0, "daily": 86400.0, "diurnal": 86400.0, "circadian": 86400.0, "weekly": 604800.0,
                  "monthly": 30.44 * 86400.0, "yearly": 365.25 * 86400.0, "annual": 365.25 * 86400.0}


def _named_period(m: re.Match, s: _Sentence) -> list[_Claim]:
    seconds = _NAMED_PERIODS[m.group("named").lower()]
    return [_Claim("periodicity", f"{m.group('named').lower()} cycle", {"present": True, "seconds": seconds,
                                                                         "tolerance": 0.1})]


def _time_period(m: re.Match, s: _Sentence) -> list[_Claim]:
    seconds = _seconds(m.group("t"))
    if seconds <= 0:
        return []
    return [_Claim("periodicity", f"period {_fmt_time(seconds)}", {"present": True, "seconds": seconds})]


def _noise_std_mask(m: re.Match, s: _Sentence) -> list[_Claim] | None:
    """"its std is 0.2" after "noise" is the noise std (not checked); elsewhere it is the channel's std."""
    return [] if re.search(r"noise", s.original[: m.start()], re.I) else None


def _periodic_absent(m: re.Match, s: _Sentence) -> list[_Claim]:
    return [_Claim("periodicity", "no cycle", {"present": False}, negative=True)]


def _periodic_present(m: re.Match, s: _Sentence) -> list[_Claim]:
    return [_Claim("periodicity", "periodic", {"present": True})]


_SEGMENT_UP = ("ris", "increas", "climb", "grow")


def _segment(m: re.Match, s: _Sentence) -> list[_Claim]:
    up = m.group("v").lower().startswith(_SEGMENT_UP)
    span = m.group("span").lower()
    times = [_seconds(t.group(0)) for t in _TIME_PARTS.finditer(span)]
    if span.startswith(("for the first", "until", "up to")):
        start, end = 0.0, times[0]
    elif span.startswith(("after", "from")) and len(times) == 1:
        start, end = times[0], -1.0  # to the end
    else:
        start, end = times[0], times[1]
    direction = "increasing" if up else "decreasing"
    end_text = "the end" if end < 0 else _fmt_time(end)
    return [_Claim("trend_segment", f"{direction} from {_fmt_time(start)} to {end_text}",
                   {"direction": direction, "start": start, "end": end})]


def _spike_count(m: re.Match, s: _Sentence) -> list[_Claim]:
    word = re.sub(r"\s+", " ", m.group("n").lower())
    if word in ("a", "an", "some", "occasional"):
        return [_Claim("spikes", "spikes", {"at_least": 1})]
    if word in ("several", "multiple", "many", "a few", "few", "numerous", "a couple of"):
        return [_Claim("spikes", "several spikes", {"at_least": 2})]
    count = int(word) if word.isdigit() else _NUMBER_WORDS.get(word.split()[-1], 1)
    return [_Claim("spikes", f"{count} spike{'s' if count != 1 else ''}", {"exactly": count})]


def _spike_present(m: re.Match, s: _Sentence) -> list[_Claim]:
    return [_Claim("spikes", "spikes", {"at_least": 1})]


def _shift(m: re.Match, s: _Sentence) -> list[_Claim]:
    d = {k: (v or "").lower() for k, v in m.groupdict().items()}
    words = " ".join(d.get(k, "") for k in ("dir", "hl"))
    direction = None
    if d.get("sign"):
        direction = "up" if d["sign"] == "+" else "down"
    elif re.search(r"\b(?:up|upward|upwards|higher|rise|increase|jump)\b", words):
        direction = "up"
    elif re.search(r"\b(?:down|downward|downwards|lower|drop|fall|decrease)\b", words):
        direction = "down"
    at = d.get("at") or None
    if at is None:  # "At 14 h, channel 1 jumps to a lower level"
        lead = re.match(rf"\s*({AT})\s*,", s.original, re.I)
        at = lead.group(1) if lead else None
    when = _at_seconds(at)
    claim = "level shift" + (f" {direction}" if direction else "") + (f" at {_fmt_time(when)}" if when is not None
                                                                       and when >= 0 else "")
    return [_Claim("level_shift", claim, {"present": True, "direction": direction, "at": when})]


def _flat_present(m: re.Match, s: _Sentence) -> list[_Claim]:
    return [_Claim("flat", "flat stretch", {"present": True})]


def _missing_present(m: re.Match, s: _Sentence) -> list[_Claim]:
    return [_Claim("missing", "missing data", {"present": True})]


def _noise(m: re.Match, s: _Sentence) -> list[_Claim]:
    word = re.sub(r"\s+", " ", (m.group("w") or "").lower())
    if m.groupdict().get("adv") is not None or word == "noisy":  # "(very|slightly|...) noisy"
        adverb = (m.group("adv") or "").lower()
        level = ("low noise" if adverb in ("slightly", "somewhat", "mildly", "a bit", "a little") else
                 "moderate noise" if adverb in ("moderately", "fairly", "rather", "quite", "relatively") else
                 "high noise")
    else:
        level = next(label for label, pattern in _NOISE_WORDS if re.fullmatch(pattern, word, re.I))
    return [_Claim("noise", level, {"level": level})]


def _trend(direction: str) -> _Handler:
    def handler(m: re.Match, s: _Sentence) -> list[_Claim]:
        claim = {"increasing": "increasing", "decreasing": "decreasing", "none": "no trend"}[direction]
        return [_Claim("trend", claim, {"direction": direction}, negative=direction == "none")]

    return handler


def _stat_claims(stat: str, value: str, at: str | None, s: _Sentence, normalised: bool) -> list[_Claim]:
    prefix = "normalised " if normalised else ""
    v = _number(value)
    out = [_Claim("statistics", f"{prefix}{stat} {_fmt(v)}", {"stat": stat, "value": v, "normalised": normalised})]
    when = _at_seconds(at)
    if when is not None and stat in ("minimum", "maximum"):
        label = "the end" if when < 0 else _fmt_time(when)
        out.append(_Claim("statistics", f"time of {stat} {label}", {"stat": f"time of {stat}", "value": when}))
    return out


def _normalised_flag(s: _Sentence) -> bool:
    return bool(re.search(r"normali[sz]|mean\s+magnitude|mean\s+absolute|mean\s*\|x\||divided\s+by|relative\s+to\s+its",
                          s.text, re.I))


def _stat(stat: str, normalised: bool | None = None) -> _Handler:
    """One statistic; `normalised=None`: normalised when the sentence speaks of the normalised scale."""

    def handler(m: re.Match, s: _Sentence) -> list[_Claim]:
        norm = s.normalised if normalised is None else normalised
        return _stat_claims(stat, m.group("v"), m.groupdict().get("at"), s, norm and stat != "scale")

    return handler


def _stat_range(normalised: bool | None = None, needs_context: bool = False) -> _Handler:
    def handler(m: re.Match, s: _Sentence) -> list[_Claim]:
        if needs_context and not re.search(r"averag|\bmean\b|\bstd\b|standard\s+deviation|minimum|maximum|range",
                                           s.original, re.I):
            return []
        norm = s.normalised if normalised is None else normalised
        a, b = _number(m.group("a")), _number(m.group("b"))
        low, high = (("a", "at_a"), ("b", "at_b")) if a <= b else (("b", "at_b"), ("a", "at_a"))
        d = m.groupdict()
        return (_stat_claims("minimum", d[low[0]], d.get(low[1]), s, norm)
                + _stat_claims("maximum", d[high[0]], d.get(high[1]), s, norm))

    return handler


def _pair_lead(leader_group: int) -> _Handler:
    def handler(m: re.Match, s: _Sentence) -> list[_Claim]:
        a, b = s.channel_at(m.start(1)), s.channel_at(m.start(2))
        if a is None or b is None or a == b:
            return []
        leader, follower = (a, b) if leader_group == 1 else (b, a)
        d = m.groupdict()
        lag = _seconds(d["t"]) if d.get("t") else None
        r = _trailing_r(m, s)
        claim = f"{{{leader}}} leads {{{follower}}}" + (f" by {_fmt_time(lag)}" if lag is not None else "")
        return [_Claim("lag", claim, {"leader": leader, "follower": follower, "seconds": lag, "r": r},
                       channels=(leader, follower), scope="pair")]

    return handler


def _pair_correlation(m: re.Match, s: _Sentence) -> list[_Claim]:
    a, b = s.channel_at(m.start("a")), s.channel_at(m.start("b"))
    if a is None or b is None or a == b:
        return []
    rel = m.group("rel").lower()
    if re.search(r"uncorrelated|not\s+correlated", rel):
        sign = 0
    elif re.search(r"negativ|invers|anti|opposit|antiphase", rel):
        sign = -1
    elif re.search(r"positiv|together|same|sync|step", rel):
        sign = 1
    else:
        sign = None  # "correlated": either sign
    r = _trailing_r(m, s)
    if r is not None and sign is None:
        sign = 1 if r > 0 else -1
    word = {1: "positively correlated", -1: "negatively correlated", 0: "uncorrelated", None: "correlated"}[sign]
    claim = f"{{{min(a, b)}}} and {{{max(a, b)}}} {word}" + (f" (r = {r:.2f})" if r is not None else "")
    return [_Claim("correlation", claim, {"sign": sign, "r": r}, channels=(min(a, b), max(a, b)), scope="pair")]


_R_VALUE = re.compile(rf"^{CL}{{0,12}}?\(?\s*(?:lagged\s+)?(?:r|correlation|correlation\s+coefficient)\s*(?:=|of|:|is)?\s*({NUM})",
                      re.I)


def _trailing_r(m: re.Match, s: _Sentence) -> float | None:
    r = _R_VALUE.search(s.text[m.end():])
    if r is None:
        return None
    s.mask(m.end() + r.start(1), m.end() + r.end(1))
    value = _number(r.group(1))
    return value if -1 <= value <= 1 else None


# --- pattern table --------------------------------------------------------------------------------------------------

_LEAD_BY = rf"(?:{CL}{{0,30}}?\b(?:by|of)\s+{ABOUT}(?P<t>{TIME}))?"
_CORR_ADV = r"(?:(?:strongly|moderately|weakly|highly|closely|clearly|tightly|very|fairly|quite|somewhat)\s+)*"
_SPIKE_NOUN = r"(?:spikes?|outliers?|glitches?)"
_SHIFT_TAIL = (
    rf"(?:\s*\(?\s*(?:of|by)?\s*(?P<sign>[+\-\u2212])\s*{NUM})?"
    rf"(?:{CLM}{{0,50}}?\b(?P<at>{AT}))?"
)

_PATTERNS: list[tuple[str, str, _Handler | None]] = [
    # channel pairs: lead / lag and correlation
    ("lead", CH + rf"\s+(?:clearly\s+)?(?:leads|precedes|is\s+ahead\s+of|runs\s+ahead\s+of|anticipates)\s+" + CH
     + _LEAD_BY, _pair_lead(1)),
    ("follow", CH + r"\s+(?:follows|lags(?:\s+behind)?|trails|is\s+delayed\s+(?:relative\s+to|behind|from)|is\s+behind)\s+"
     + CH + rf"(?:{CL}{{0,30}}?\b(?:by|of)\s+{ABOUT}(?P<t>{TIME}))?", _pair_lead(2)),
    ("changes", r"\bchanges\s+in\s+" + CH + r"\s+(?:show\s+up|appear|are\s+seen|are\s+echoed|are\s+reflected|recur)\s+in\s+"
     + CH + rf"(?:\s+{ABOUT}(?P<t>{TIME})\s+later)?", _pair_lead(1)),
    ("corr1", r"(?P<a>\x01+)\s+and\s+(?:the\s+)?(?P<b>\x01+)\s+(?:are|move|vary|change|evolve|go|fluctuate)\s+" + _CORR_ADV
     + r"(?P<rel>positively|negatively|inversely|anti-?correlated|uncorrelated|not\s+correlated|together|in\s+opposition|"
       r"in\s+opposite\s+directions|in\s+the\s+same\s+direction|in\s+sync|in\s+step|in\s+antiphase|correlated)"
       r"(?:\s+correlated)?",
     _pair_correlation),
    ("corr2", r"\b(?:(?:strong|moderate|weak|high|clear|close|tight|significant)\s+)*(?P<rel>positive|negative|inverse)\s+"
     r"(?:linear\s+)?(?:correlation|relationship|association)\s+between\s+(?:the\s+)?(?P<a>\x01+)\s+and\s+(?:the\s+)?(?P<b>\x01+)",
     _pair_correlation),
    ("corr3", r"(?P<a>\x01+)\s+(?:is|are)\s+" + _CORR_ADV + r"(?P<rel>positively|negatively|inversely|anti-?|un)\s*correlated\s+"
     r"with\s+(?:the\s+)?(?P<b>\x01+)", _pair_correlation),
    # recording-level facts
    ("lasting", rf"\blasting\s+{ABOUT}(?P<t>{TIME})", _duration),
    ("lead_duration", rf"^\s*(?P<t>{TIME})\s+of\b", _duration),
    ("this_duration", rf"\b(?:this|a|an|the)\s+(?P<t>{TIME})[\s-]+(?:long\s+)?(?:[a-z-]+\s+){{0,2}}?(?:recording|series|"
     r"signal|segment|window|sample|trace|measurement|excerpt|clip)\b", _duration),
    ("spans_duration", rf"\b(?:lasts|spans|covers|spanning|covering|duration\s+(?:of|is)|recorded\s+(?:over|for)|length\s+of|"
     rf"total\s+of)\s+{ABOUT}(?P<t>{TIME})", _duration),
    ("long_duration", rf"(?P<t>{TIME})[\s-]+long\b", _duration),
    ("sampled_hz", rf"\bsampl(?:ed|ing)\s+(?:rate\s+(?:of|is|=|:)\s*|frequency\s+(?:of|is|=|:)\s*|at\s+(?:a\s+rate\s+of\s+)?|"
     rf"with\s+)?{ABOUT}(?P<hz>{NUM})\s*(?P<unit>k?hz)\b", _sampling),
    ("hz_sampling", rf"(?P<hz>{NUM})\s*(?P<unit>k?hz)[\s-]+(?:sampling|sample\s+rate|sampled|recording)", _sampling),
    ("sampled_named", r"\bsampled\s+(?P<named>hourly|daily|weekly|once\s+(?:a|an|per|every)\s+(?:second|minute|hour|day|week)|"
     r"every\s+(?:second|minute|hour|day|week))\b", _sampling),
    ("sampled_every", rf"\bsampled\s+(?:once\s+)?every\s+(?P<every>{TIME})", _sampling),
    ("channel_count", rf"\b(?P<n>{NUMWORD})-channel\b|\b(?P<n2>{NUMWORD})\s+(?:[a-z]+\s+)?channels\b", None),
    # text that states nothing checked here (masked so it is not misread)
    ("normalised_range_a", rf"\(?\s*normali[sz]ed:?\s+(?P<a>{NUM}){UNIT_OPT}\s+to\s+(?P<b>{NUM}){UNIT_OPT}\s*\)?",
     _stat_range(True)),
    ("normalised_range_b", rf"(?:i\.e\.,?\s*)?(?P<a>{NUM}){UNIT_OPT}\s+to\s+(?P<b>{NUM}){UNIT_OPT}\s+(?:normali[sz]ed|on\s+the\s+"
     r"normali[sz]ed\s+scale)\)?", _stat_range(True)),
    ("normalised_value", rf"\(\s*[+\-\u2212]?{NUM}\s*(?:normali[sz]ed|on\s+the\s+normali[sz]ed\s+scale)\s*\)", None),
    ("cycle_count", rf"\(\s*{ABOUT}{NUM}\s+cycles\s*\)|\bseen\s+{ABOUT}{NUM}\s+times\b", None),
    ("noise_std", rf"\bnoise\s+(?:std|standard\s+deviation|sd|level)\s*{CL}{{0,12}}?{NUM}", None),
    ("its_std", rf"\b(?:its|the)\s+(?:std|standard\s+deviation)\s+is\s+{ABOUT}{NUM}", _noise_std_mask),
    # negations: "no clear cycle", "no spikes or level shifts"
    ("negation", "", _negation),
    # stated periods (before spikes and shifts, so "steps per minute" is a cadence)
    ("rate_period", rf"(?P<n>{NUM})\s*(?:(?P<bpm>bpm|beats\s+per\s+minute|breaths\s+per\s+minute|breaths/min|beats/min)|"
     r"(?:(?:cycles|times|beats|breaths|steps|strides|repetitions|oscillations|repeats)\s+)?(?:per|a|each|/)\s*"
     r"(?P<per>minute|min|second|sec|hour|day)\b)", _rate_period),
    ("hz_period", rf"\b(?:frequency|oscillat\w*|cycl\w*|rhythm\w*|vibrat\w*|periodic\w*|repeats?)\b{CL}{{0,30}}?\b(?:of|at|is|near|=)"
     rf"\s*{ABOUT}(?P<hz>{NUM})\s*(?P<unit>k?hz)\b", _hz_period),
    ("named_period", r"\b(?P<named>hourly|daily|diurnal|circadian|weekly|monthly|yearly|annual)\s+(?:usage\s+)?(?:cycle|rhythm|"
     r"pattern|periodicity|seasonality|variation|period)", _named_period),
    # piecewise trend stages: "rises by 2 from 10 s to 30 s"
    ("segment", r"\b(?P<v>ris(?:es|ing)|increas(?:es|ing)|climb(?:s|ing)|grow(?:s|ing)|fall(?:s|ing)|decreas(?:es|ing)|"
     rf"declin(?:es|ing)|drop(?:s|ping))\s+(?:(?:by|about|roughly|around|approximately|~)\s+)*(?:{NUM}{UNIT_OPT}\s+)?"
     rf"(?P<span>for\s+the\s+first\s+{TIME}|(?:from|between)\s+{TIME}\s+(?:to|and|until)\s+{TIME}|(?:until|up\s+to)\s+{TIME}|"
     rf"(?:after|from)\s+{TIME}(?:\s+on(?:wards?)?)?)", _segment),
    # spikes
    ("spike_count", r"\b(?P<n>\d+|a\s+single|only\s+one|a\s+few|a\s+couple\s+of|one|single|two|three|four|five|six|seven|"
     r"eight|nine|ten|several|multiple|many|few|numerous|some|occasional|an|a)\s+(?:(?:" + ADJ + r")\s+){0,2}?"
     + _SPIKE_NOUN + r"\b", _spike_count),
    ("spike_present", r"\b(?:spikes?|outliers?|spiky|glitches?)\b", _spike_present),
    # level shifts
    ("shift_dir_first", r"\b(?P<dir>up(?:ward)?|down(?:ward)?)\s+(?:level\s+)?(?:shift|step|jump)s?\b" + _SHIFT_TAIL, _shift),
    ("shift_sudden", r"\b(?:sudden|abrupt)\s+(?P<dir>drop|fall|decrease|rise|increase|jump)\b" + _SHIFT_TAIL, _shift),
    ("shift", r"\b(?:level\s+shifts?|level\s+changes?|changes?\s+in\s+level|abrupt\s+changes?|sudden\s+changes?|"
     r"shift(?:s|ed)?|step(?:s|ped)?(?:\s+change)?|jump(?:s|ed)?)"
     r"(?:\s+(?P<dir>up(?:wards?)?|down(?:wards?)?))?(?:\s+to\s+a\s+(?P<hl>higher|lower)\s+level)?" + _SHIFT_TAIL, _shift),
    # stuck and missing stretches
    ("flat", r"\b(?:stays|remains|is|stuck|held|holds)\s+(?:(?:exactly|perfectly|completely)\s+)?(?:constant|flat|unchanged)"
     r"\s+(?=(?:for|from|between)\b)|\bconstant\s+(?:readings?|values?|stretch(?:es)?|segments?|plateaus?)\b|"
     r"\bstuck\s+(?:values?|readings?|sensor)\b|\bflat\s+(?:stretch(?:es)?|segments?|spots?|sections?|portions?)\b|"
     r"\bsaturat\w+|\bflat-?lin\w+", _flat_present),
    ("missing", r"\bmissing\b(?:\s+(?:data|values?|samples?|readings?))?|\bgaps?\s+in\s+the\s+(?:data|recording|signal)|"
     r"\bdrop-?outs?\b|\bnans?\b", _missing_present),
    # stated periods in time units
    ("time_period_before", rf"(?P<t>{TIME})[\s-]+(?:long\s+)?(?:cycles?|periods?|rhythms?|oscillations?|periodicity|"
     r"waves?|(?:usage\s+)?pattern)\b", _time_period),
    ("time_period_after", r"\b(?:cycles?|period|periodicity|rhythms?|periodic\s+pattern|repeat(?:s|ing)?|recur(?:s|ring)?|"
     rf"oscillat\w*|wavelength)\b{CL}{{0,40}}?\b(?:every|of|near|about|roughly|approximately|around|is|at|=|~)\s*"
     rf"(?:(?:about|roughly|approximately|around|~|every|once\s+every)\s*)*(?P<t>{TIME})", _time_period),
    ("aperiodic", r"\b(?:a|non)-?periodic\b|\bnot\s+(?:\w+\s+)?(?:periodic|cyclic|cyclical|rhythmic)\b|"
     r"\b(?:does\s+not|doesn't|do\s+not|don't|never)\s+(?:\w+\s+)?(?:repeat|oscillate|cycle)\b", _periodic_absent),
    ("periodic", r"\b(?:periodic(?:ity|ally)?|oscillat\w*|cycl(?:e|es|ic|ical)|rhythm(?:s|ic|ical)?|repeat(?:s|ing|ed)?|"
     r"recurr\w*|seasonal(?:ity)?)\b", _periodic_present),
    # noise level
    ("noise_before", rf"\b(?P<w>{_NOISE_ANY})\s+(?:(?:measurement|sensor|background|random|white|high-frequency|"
     r"observation)\s+)?noise\b", _noise),
    ("noise_after", rf"\bnoise\s+(?:level\s+)?(?:(?:in|of|on)\s+{CHM}\s+)?(?:is|was|seems|appears|remains|looks|stays)\s+"
     rf"(?:(?:very|quite|rather|fairly|relatively)\s+)?(?P<w>{_NOISE_ANY})\b", _noise),
    ("noisy", r"\b(?:(?P<adv>slightly|somewhat|mildly|a\s+bit|a\s+little|moderately|fairly|rather|quite|relatively|very|"
     r"highly|extremely)\s+)?(?P<w>noisy)\b", _noise),
    # statistics
    ("scale", rf"\b(?:mean\s+(?:magnitude|absolute\s+(?:level|value))|mean\s*\|x\|)\s*(?:(?:of|is|=|:)\s*)?{VAL.replace('(', '(?P<v>', 1)}",
     _stat("scale", False)),
    ("range", rf"\b(?:rang(?:es|ing|e)|runs?|running|spans?|spanning|var(?:ies|ying|y)|go(?:es|ing))\s+(?:(?:from|between)\s+)?"
     rf"(?P<a>{NUM})(?!\s*{TUNIT}){UNIT_OPT}(?:,?\s+(?P<at_a>{AT}))?\s+(?:to|and|through)\s+(?P<b>{NUM})(?!\s*{TUNIT})"
     rf"{UNIT_OPT}(?:,?\s+(?P<at_b>{AT}))?", _stat_range()),
    ("between", rf"\bbetween\s+(?P<a>{NUM})(?!\s*{TUNIT}){UNIT_OPT}(?:,?\s+(?P<at_a>{AT}))?\s+and\s+(?P<b>{NUM})(?!\s*{TUNIT})"
     rf"{UNIT_OPT}(?:,?\s+(?P<at_b>{AT}))?", _stat_range(needs_context=True)),
    ("minimum", rf"\b(?:minimum(?:\s+value)?|(?<!\d\s)(?<!\d)min\.?|lowest(?:\s+(?:value|point|reading))?)\s*"
     rf"(?:of\s+{CHM}\s*,?\s*|(?:(?:of|is|was|=|:|,|at|about|around|~)\s*)*){VAL.replace('(', '(?P<v>', 1)}{UNIT_OPT}"
     rf"(?:,?\s+(?:which\s+)?(?:occurs\s+|is\s+reached\s+|reached\s+)?(?P<at>{AT}))?", _stat("minimum")),
    ("maximum", rf"\b(?:maximum(?:\s+value)?|max\.?|highest(?:\s+(?:value|point|reading))?|peak(?:s|ing)?(?:\s+value)?)\s*"
     rf"(?:of\s+{CHM}\s*,?\s*|(?:(?:of|is|was|=|:|,|at|about|around|~)\s*)*){VAL.replace('(', '(?P<v>', 1)}{UNIT_OPT}"
     rf"(?:,?\s+(?:which\s+)?(?:occurs\s+|is\s+reached\s+|reached\s+)?(?P<at>{AT}))?", _stat("maximum")),
    ("mean", rf"\b(?:mean(?:\s+value)?|average(?:\s+value)?|averages|averaging|averaged|on\s+average(?:\s+it\s+is)?)\s*"
     rf"(?:(?:of|is|was|=|:|about|around|roughly|approximately|near|at|~)\s*)*{VAL.replace('(', '(?P<v>', 1)}", _stat("mean")),
    ("std", rf"\b(?:standard\s+deviation|std\.?|s\.d\.|spread(?:\s*\(std\))?|sd)\s*"
     rf"(?:(?:of|is|was|=|:|about|around|roughly|approximately|~)\s*)*{VAL.replace('(', '(?P<v>', 1)}", _stat("std")),
    # overall trend (last: its verbs are the most generic words)
    ("trend_none", r"\b(?:stays|remains|stayed|remained|is|looks|appears|holds|keeps)\s+(?:(?:roughly|essentially|largely|fairly|"
     r"broadly|approximately|mostly|overall|relatively|quite)\s+)?(?:level|stable|steady|flat|constant)\b"
     r"(?!\s+(?:for|from|between|until|after|before)\b)|\btrendless\b|\bneither\s+rises\s+nor\s+falls\b|"
     r"\b(?:does\s+not|doesn't|do\s+not|don't)\s+(?:rise|fall|increase|decrease|trend|drift)(?:\s+or\s+(?:rise|fall|increase|"
     r"decrease))?\b|\bflat\s+overall\b|\boverall\s+flat\b", _trend("none")),
    ("trend_up", r"\b(?:up(?:wards?)?\s+(?:trend|drift|slope|tendency|course)|upwards?|up-?trend|ris(?:es|ing|e)|"
     r"increas(?:es|ing|e)|climb(?:s|ing)?|grow(?:s|ing)|goes\s+up|going\s+up|ascend(?:s|ing)?|trends?\s+up(?:wards?)?)\b",
     _trend("increasing")),
    ("trend_down", r"\b(?:down(?:wards?)?\s+(?:trend|drift|slope|tendency|course)|downwards?|down-?trend|fall(?:s|ing)?|"
     r"decreas(?:es|ing|e)|declin(?:es|ing|e)|descend(?:s|ing)?|goes\s+down|going\s+down|trends?\s+down(?:wards?)?)\b",
     _trend("decreasing")),
]


def _compile_patterns() -> list[tuple[str, re.Pattern, _Handler | None]]:
    out = []
    for name, pattern, handler in _PATTERNS:
        if name == "negation":
            out.append((name, _neg_regex(), handler))
        elif name == "channel_count":
            out.append((name, re.compile(pattern, re.I), _channel_count_any))
        else:
            out.append((name, re.compile(pattern, re.I), handler))
    return out


def _channel_count_any(m: re.Match, s: _Sentence) -> list[_Claim]:
    word = (m.group("n") or m.group("n2")).lower()
    count = int(word) if word.isdigit() else _NUMBER_WORDS[word]
    return [_global("channels", f"{count} channels", count=count)]


_COMPILED = _compile_patterns()
_BLANKED = ("normalised_value", "cycle_count")
# A sentence ends at . ! ? before a capital letter or a number (so units such as "a.u." and "i.e." do not end one).
_SENTENCE_END = re.compile(
    r"(?<=[.!?])(?<!\bi\.e\.)(?<!\be\.g\.)(?<!\bvs\.)(?<!\bapprox\.)(?<!\bca\.)\s+(?=[A-Z0-9\"'\[\u2212-]|\((?=[A-Z]))|\n+"
)
_ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "sixth": 5, "seventh": 6, "eighth": 7,
             "ninth": 8, "tenth": 9}


@lru_cache(maxsize=256)
def _mention_patterns(names: tuple[str, ...]) -> tuple[tuple[re.Pattern, int], ...]:
    """(pattern, channel) for each channel name (longest first), flexible about spaces, '_' and '-'."""
    out = []
    for index in sorted(range(len(names)), key=lambda i: -len(names[i])):
        tokens = [t for t in re.split(r"[\s_\-]+", names[index].strip()) if t]
        if not tokens:
            continue
        body = r"[\s_\-]*".join(re.escape(t) for t in tokens)
        prefix = r"(?:the\s+)?" if len(names) == 1 else ""
        out.append((re.compile(rf"(?<![\w.]){prefix}{body}(?![\w]|\.\d)", re.I), index))
    return tuple(out)


_GENERIC_MENTION = re.compile(
    r"\b(?:the\s+)?(?:channel|ch\.?)\s*#?(\d+)\b(?!\.\d)|\bthe\s+(first|second|third|fourth|fifth|sixth|seventh|eighth|"
    r"ninth|tenth)\s+channel\b",
    re.I,
)


def _mentions(text: str, names: tuple[str, ...]) -> list[tuple[int, int, int]]:
    taken = np.zeros(len(text) + 1, dtype=bool)
    found = []
    for pattern, index in _mention_patterns(names):
        for m in pattern.finditer(text):
            if not taken[m.start():m.end()].any():
                taken[m.start():m.end()] = True
                found.append((m.start(), m.end(), index))
    for m in _GENERIC_MENTION.finditer(text):
        index = int(m.group(1)) - 1 if m.group(1) else _ORDINALS[m.group(2).lower()]
        if 0 <= index < len(names) and not taken[m.start():m.end()].any():
            taken[m.start():m.end()] = True
            found.append((m.start(), m.end(), index))
    return sorted(found)


def _parse(caption: str, names: Sequence[str], leftover: list[str] | None = None) -> list[_Claim]:
    """Every checkable statement of a caption, with its channel resolved (`leftover` collects the unread text)."""
    names = tuple(names)
    single = len(names) == 1
    claims: list[_Claim] = []
    carry: int | None = None
    for raw in _SENTENCE_END.split(caption):
        if not raw or not raw.strip():
            continue
        sentence = _Sentence(raw, _mentions(raw, names))
        found: list[_Claim] = []
        for name, regex, handler in _COMPILED:
            if name == "scale":  # the normalised-scale wording is judged before its own phrase is masked
                sentence.normalised = _normalised_flag(sentence)
            for m in list(regex.finditer(sentence.text)):
                if "\x00" in sentence.text[m.start():m.end()]:
                    continue  # overlaps a span another pattern already read
                if name in _BLANKED:  # asides that state nothing checked: blanked, so a clause reads on across them
                    sentence.mask(m.start(), m.end(), " ")
                    continue
                new = handler(m, sentence) if handler else []
                if new is None:  # the handler declined: the text stays readable
                    continue
                for c in new:
                    c.position, c.text = m.start(), raw[m.start():m.end()].strip()
                found.extend(new)
                sentence.mask(m.start(), m.end())
        if leftover is not None:
            leftover.append(re.sub(r"\x00+", "_", sentence.text).replace("\x01", "@"))
        distinct = sorted({c for _, _, c in sentence.mentions})
        for c in found:
            if c.scope == "channel":
                c.channel = 0 if single else _resolve(c.position, sentence.mentions, carry)
            elif c.scope == "pair":
                c.claim = c.claim.format(*names)
        claims.extend(_drop_redundant(found))
        if len(distinct) == 1:
            carry = distinct[0]
        elif len(distinct) > 1:
            carry = None
    return claims


def _resolve(position: int, mentions: list[tuple[int, int, int]], carry: int | None) -> int | None:
    before = [c for s, e, c in mentions if e <= position]
    if before:
        return before[-1]
    after = [c for s, _, c in mentions if s >= position]
    return after[0] if after else carry


def _drop_redundant(found: list[_Claim]) -> list[_Claim]:
    """Within one sentence, "periodic" adds nothing to a stated period of the same channel."""
    with_value = {c.channel for c in found if c.kind == "periodicity" and "seconds" in c.payload}
    return [c for c in found if not (c.kind == "periodicity" and c.claim == "periodic" and c.channel in with_value)]


# --------------------------------------------------------------------------------------------------------------------
# Judging


class _Truth:
    """Judges claims against extracted facts; returns (True/False, detail) or (None, why not checkable)."""

    def __init__(self, facts: SeriesFacts, time_known: bool, sensor: np.ndarray | None = None):
        self.facts = facts
        self.time_known = time_known
        self.sensor = None if sensor is None else np.asarray(sensor, dtype=np.float64).reshape(len(facts.channels), -1)
        self._prepared: dict[int, np.ndarray | None] = {}

    def _time(self, samples: float) -> str:
        """A time for a detail: in seconds, or in samples when the sampling rate is unknown."""
        return _fmt_time(self.facts.seconds(samples)) if self.time_known else f"{_fmt(samples)} samples"

    def judge(self, claim: _Claim) -> tuple[bool | None, str]:
        if claim.scope == "global":
            return getattr(self, f"_{claim.kind}")(claim.payload)
        if claim.scope == "pair":
            return getattr(self, f"_{claim.kind}")(claim.payload, claim.channels)
        check = getattr(self, f"_{claim.kind}")
        channels = self.facts.channels
        if claim.channel is not None:
            return check(claim.payload, channels[claim.channel])
        verdicts = [(check(claim.payload, c), c.name) for c in channels]
        known = [(v, d, name) for (v, d), name in verdicts if v is not None]
        if not known:
            return None, verdicts[0][0][1] if verdicts else "no channels"
        if claim.negative:  # "no spikes": true only when no channel has any
            failing = [(d, name) for v, d, name in known if not v]
            return (not failing), ("; ".join(f"{n}: {d}" for d, n in failing) if failing else "true of every channel")
        hits = [(d, name) for v, d, name in known if v]
        if hits:
            return True, f"{hits[0][1]}: {hits[0][0]}"
        return False, "no channel: " + "; ".join(f"{n}: {d}" for _, d, n in known[:3])

    # --- recording -----------------------------------------------------------------------------------------------

    def _duration(self, p: dict) -> tuple[bool | None, str]:
        if not self.time_known:
            return None, "no sampling rate"
        truth = self.facts.duration
        return abs(p["seconds"] - truth) <= RATE_TOLERANCE * truth, f"duration {_fmt_time(truth)}"

    def _sampling_rate(self, p: dict) -> tuple[bool | None, str]:
        if not self.time_known:
            return None, "no sampling rate"
        truth = self.facts.sampling_rate
        return abs(p["hz"] - truth) <= RATE_TOLERANCE * truth, f"sampled at {_fmt(truth)} Hz"

    def _channels(self, p: dict) -> tuple[bool | None, str]:
        truth = len(self.facts.channels)
        return p["count"] == truth, f"{truth} channel{'s' if truth != 1 else ''}"

    # --- channel structure -------------------------------------------------------------------------------------

    def _trend(self, p: dict, c: ChannelFacts) -> tuple[bool | None, str]:
        if c.trend is None:
            return None, "trend not assessed"
        return p["direction"] == c.trend.direction, f"trend {c.trend.direction}"

    def _trend_segment(self, p: dict, c: ChannelFacts) -> tuple[bool | None, str]:
        if c.trend is None:
            return None, "trend not assessed"
        segments = [(g.direction, g.start, g.end) for g in c.trend.segments]
        if not segments and c.trend.direction != "none":
            segments = [(c.trend.direction, 0, c.length - 1)]
        described = ", ".join(f"{d} {self._time(a)}-{self._time(b + 1)}"
                              for d, a, b in segments) or "no trend segments"
        same = [(a, b) for d, a, b in segments if d == p["direction"]]
        if not self.time_known:
            return bool(same), described
        rate = self.facts.sampling_rate
        start = p["start"] * rate
        end = (c.length - 1) if p["end"] < 0 else p["end"] * rate - 1
        length = max(end - start + 1, 1.0)
        covered = max((min(b, end) - max(a, start) + 1 for a, b in same), default=0.0)
        return covered >= SEGMENT_MIN_OVERLAP * length, described

    def _periodicity(self, p: dict, c: ChannelFacts) -> tuple[bool | None, str]:
        if c.periods is None:
            return None, "periodicity not assessed"
        found = [self.facts.seconds(q.samples) for q in c.periods]
        detail = ("periods " + ", ".join(self._time(q.samples) for q in c.periods)) if found else "no cycle detected"
        if not p["present"]:
            return not found, detail
        if "seconds" not in p:
            return bool(found), detail
        if not self.time_known:
            return bool(found), detail + " (stated period not checked: no sampling rate)"
        tolerance = p.get("tolerance", PERIOD_TOLERANCE)
        return any(abs(s - p["seconds"]) <= tolerance * s for s in found), detail

    def _noise(self, p: dict, c: ChannelFacts) -> tuple[bool | None, str]:
        if c.noise_std is None or c.stats is None:
            return None, "noise not assessed"
        truth = noise_level(c.noise_std, c.stats.amplitude)
        if p["level"] == truth:
            return True, truth
        gap = abs(NOISE_LEVEL_ORDER.index(p["level"]) - NOISE_LEVEL_ORDER.index(truth))
        return False, truth + (" (adjacent level)" if gap == 1 else "")

    def _spikes(self, p: dict, c: ChannelFacts) -> tuple[bool | None, str]:
        if c.spikes is None:
            return None, "spikes not assessed"
        n = len(c.spikes)
        detail = f"{n} spike{'s' if n != 1 else ''}"
        if p.get("present") is False:
            return n == 0, detail
        if "exactly" in p:
            return n == p["exactly"], detail
        return n >= p["at_least"], detail

    def _level_shift(self, p: dict, c: ChannelFacts) -> tuple[bool | None, str]:
        if c.level_shifts is None:
            return None, "level shifts not assessed"
        shifts = c.level_shifts
        detail = ("level shifts " + ", ".join(f"{'up' if s.change > 0 else 'down'} at "
                                             f"{self._time(s.index)}" for s in shifts)
                  if shifts else "no level shift")
        if not p["present"]:
            return not shifts, detail
        candidates = [s for s in shifts if p["direction"] is None or (s.change > 0) == (p["direction"] == "up")]
        at = p.get("at")
        if at is not None and self.time_known:
            at = self.facts.duration if at < 0 else at
            tolerance = max(EVENT_TIME_TOLERANCE * self.facts.duration, 1.0 / self.facts.sampling_rate)
            candidates = [s for s in candidates if abs(self.facts.seconds(s.index) - at) <= tolerance]
        return bool(candidates), detail

    def _flat(self, p: dict, c: ChannelFacts) -> tuple[bool | None, str]:
        if c.flat is None:
            return None, "flat stretches not assessed"
        return bool(c.flat) == p["present"], f"{len(c.flat)} flat stretch{'es' if len(c.flat) != 1 else ''}"

    def _missing(self, p: dict, c: ChannelFacts) -> tuple[bool | None, str]:
        n = len(c.missing)
        return bool(n) == p["present"], f"{n} missing stretch{'es' if n != 1 else ''}"

    def _statistics(self, p: dict, c: ChannelFacts) -> tuple[bool | None, str]:
        st = c.stats
        if st is None:
            return None, "no valid samples"
        if p["stat"].startswith("time of"):
            if not self.time_known:
                return None, "no sampling rate"
            index = st.argmin if p["stat"] == "time of minimum" else st.argmax
            truth = self.facts.seconds(index)
            at = self.facts.duration if p["value"] < 0 else p["value"]
            tolerance = max(EVENT_TIME_TOLERANCE * self.facts.duration, 1.0 / self.facts.sampling_rate)
            return abs(at - truth) <= tolerance, f"{p['stat']} {_fmt_time(truth)}"
        values = {"mean": st.mean, "std": st.std, "minimum": st.minimum, "maximum": st.maximum, "scale": st.scale}
        truth = values[p["stat"]]
        spread = st.maximum - st.minimum
        scale = st.scale if st.scale > 0 else 1.0
        if p["normalised"]:
            truth, spread = truth / scale, spread / scale
        # captions round to 3 significant digits of the channel's magnitude (a std of 3e-4 next to 400 reads "0")
        magnitude = max(abs(st.minimum), abs(st.maximum)) / (scale if p["normalised"] else 1.0)
        rounding = 0.5 * 10 ** (np.floor(np.log10(magnitude)) - 2) if magnitude > 0 else 0.0
        tolerance = max(STAT_TOLERANCE * spread, rounding, 1e-12)
        prefix = "normalised " if p["normalised"] else ""
        return abs(p["value"] - truth) <= tolerance, f"{prefix}{p['stat']} {_fmt(truth)}"

    # --- channel pairs -----------------------------------------------------------------------------------------

    def _pair(self, channels: tuple[int, ...]) -> ChannelPair | None:
        """The extractor's notable pair, or (with the sensor) the same measurement of a pair it did not list."""
        a, b = sorted(channels)
        listed = next((q for q in self.facts.pairs if (q.first, q.second) == (a, b)), None)
        if listed is not None or self.sensor is None or len(self.facts.pairs) < MAX_PAIRS:
            return listed  # fewer pairs than the cap: every notable pair is listed
        rows = [self._prepared_channel(i) for i in (a, b)]
        found = describe_pairs(rows, [self.facts.channels[a], self.facts.channels[b]])
        return ChannelPair(a, b, found[0].correlation, found[0].lag, found[0].lag_correlation) if found else None

    def _prepared_channel(self, index: int) -> np.ndarray | None:
        if index not in self._prepared:  # the gap-filled, spike-free series the extractor correlates
            self._prepared[index] = describe_channel(self.sensor[index])[1]
        return self._prepared[index]

    def _correlation(self, p: dict, channels: tuple[int, ...]) -> tuple[bool | None, str]:
        pair = self._pair(channels)
        r = pair.correlation if pair is not None else None
        notable = r is not None and abs(r) >= CORRELATION_MIN
        detail = f"r = {r:.2f}" if r is not None else f"|r| < {CORRELATION_MIN} (not a notable pair)"
        if p["sign"] == 0:
            return not notable, detail
        if not notable:
            return False, detail
        ok = p["sign"] is None or (r > 0) == (p["sign"] > 0)
        if p["r"] is not None:
            ok = ok and abs(p["r"] - r) <= R_TOLERANCE
        return ok, detail

    def _lag(self, p: dict, channels: tuple[int, ...]) -> tuple[bool | None, str]:
        pair = self._pair(channels)
        names = [c.name for c in self.facts.channels]
        if pair is None or pair.lag == 0:
            return False, "no lead/lag between them"
        leader, follower = (pair.first, pair.second) if pair.lag > 0 else (pair.second, pair.first)
        lag_s = self.facts.seconds(abs(pair.lag))
        detail = f"{names[leader]} leads {names[follower]} by {self._time(abs(pair.lag))} (r = {pair.lag_correlation:.2f})"
        ok = leader == p["leader"]
        if p["seconds"] is not None and self.time_known:
            tolerance = max(LAG_TOLERANCE * lag_s, 1.0 / self.facts.sampling_rate)
            ok = ok and abs(p["seconds"] - lag_s) <= tolerance
        if p["r"] is not None:
            ok = ok and abs(p["r"] - pair.lag_correlation) <= R_TOLERANCE
        return ok, detail
