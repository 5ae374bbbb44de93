"""Semantic caption level: what the recording is and what its measured structure means in its domain.

Every statement is backed either by metadata (domain, channel names, label) or by a computed fact (e.g. a heart
rate derived from the detected period of an ECG channel, or a true simulation parameter placed in
`SeriesFacts.extras`). A domain phrase such as "heart rate rises during exercise" is only said when the data shows
the rise and the label names a vigorous activity.
"""

from __future__ import annotations

import re

from .attributes import ChannelFacts, SeriesFacts, default_names
from .phrasing import article, capitalise, channel_ref, duration, join, number, plural, rate

Statement = tuple[str, ...]  # equivalent wordings of one finished sentence (already formatted)

# Channel kinds, recognised from channel names; each maps to a plausible range for a rate derived from its period.
_KIND_PATTERNS = {
    "heart_rate": r"\b(heart[ _-]?rate|hr|pulse[ _-]?rate)\b",
    "cardiac": r"\b(ecg|ekg|ppg|bvp|pulse)\b",
    "respiration": r"\b(resp\w*|rsp|breath\w*)\b",
    "motion": r"\b(acc\w*|gyro\w*|imu|motion)\b",
    "electrodermal": r"\b(eda|gsr|skin conductance)\b",
    "muscle": r"\b(emg)\b",
    "power": r"\b(power|demand|load|consumption|energy)\b",
}
_VIGOROUS = r"\b(run\w*|jog\w*|cycl\w*|bik\w*|badminton|exercis\w*|jump\w*|sprint\w*|stairs|sport\w*)\b"
_MODERATE = r"\b(walk\w*|hik\w*)\b"
_SEDENTARY = r"\b(stand\w*|sit\w*|lying|lie|rest\w*|sleep\w*|still)\b"
_DEFAULT_LABEL_TEMPLATES = ("The recording is labelled {label}.", "Its label is {label}.", "This sample belongs to the class {label}.")


def channel_kind(name: str) -> str | None:
    """Kind of a channel from its name ("ECG", "heart rate", "accel x", ...), or None."""
    lowered = name.lower().replace("_", " ")
    return next((kind for kind, pattern in _KIND_PATTERNS.items() if re.search(pattern, lowered)), None)


def activity_intensity(label: str) -> str | None:
    """'vigorous', 'moderate' or 'sedentary' for a recognised activity label, else None."""
    lowered = label.lower()
    for intensity, pattern in (("vigorous", _VIGOROUS), ("moderate", _MODERATE), ("sedentary", _SEDENTARY)):
        if re.search(pattern, lowered):
            return intensity
    return None


def semantic_statements(facts: SeriesFacts, channels: list[ChannelFacts], label_templates: tuple[str, ...] = ()) -> list[Statement]:
    """Semantic sentences for the described `channels`; derived numbers are recorded in `facts.extras`.

    Each kind of reading (heart rate, breathing rate, movement cadence, consumption cycle) is stated once, from the
    first channel that supports it.
    """
    statements = [_intro(facts)]
    if facts.label:
        templates = label_templates or _DEFAULT_LABEL_TEMPLATES
        statements.append(tuple(t.format(label=facts.label) for t in templates))
    intensity = activity_intensity(facts.label) if facts.label else None
    stated: set[str] = set()  # a heart rate seen in both ECG and PPG is said once
    for channel in channels:
        statements.extend(_channel_statements(facts, channel, intensity, stated))
    statements.extend(_extra_statements(facts))
    return statements


def _intro(facts: SeriesFacts) -> Statement:
    return intro_statement([c.name for c in facts.channels], facts.duration, facts.sampling_rate, facts.domain)


def intro_statement(channel_names: list[str], seconds: float, sampling_rate: float, domain: str = "") -> Statement:
    """The wordings of a caption's opening sentence: what was recorded, for how long, how often."""
    domain = f"{domain} " if domain else ""
    span, sampled = duration(seconds), rate(sampling_rate)
    refs = [channel_ref(name) for name in channel_names]
    names = join(refs) if len(refs) <= 6 else f"{refs[0]} to {refs[-1]}"
    count = len(channel_names)
    a = article(domain or "recording")
    if list(channel_names) == default_names(count, None, None)[0] and count > 1:
        return (  # generic names add nothing
            f"A {count}-channel {domain}recording lasting {span}, sampled {sampled}.",
            f"This {span} {domain}recording has {count} channels sampled {sampled}.",
            f"{span} of {count} {domain}channels, sampled {sampled}.",
        )
    if count == 1:
        return (
            f"{a} {domain}recording of {names} lasting {span}, sampled {sampled}.",
            f"This {span} {domain}series of {names} is sampled {sampled}.",
            f"{span} of {names} from {a} {domain}recording, sampled {sampled}.",
        )
    return (
        f"A {count}-channel {domain}recording ({names}) lasting {span}, sampled {sampled}.",
        f"This {span} {domain}recording has {count} channels ({names}) sampled {sampled}.",
        f"{span} of {count} {domain}channels ({names}), sampled {sampled}.",
    )


def known_facts_prompt(
    num_samples: int,
    sampling_rate: float,
    num_channels: int = 1,
    channel_names: list[str] | None = None,
    domain: str = "",
) -> str:
    """A caption's opening sentence from what the caller already knows (length, sampling rate, channel names,
    domain), worded as the corpus captions open. Given to the decoder as a prompt, it makes these facts true instead
    of guessed; the model continues with what only the signal shows."""
    if num_samples < 1 or not sampling_rate > 0:
        raise ValueError(f"need a positive length and sampling rate, got {num_samples} samples at {sampling_rate} Hz")
    names, _ = default_names(num_channels, channel_names, None)
    return capitalise(intro_statement(names, num_samples / sampling_rate, sampling_rate, domain)[0])


def _rate_from_period(facts: SeriesFacts, channel: ChannelFacts, low: float, high: float) -> float | None:
    """Events per minute implied by the dominant period, if it falls in the physiological range [low, high]."""
    if not channel.periods:
        return None
    per_minute = 60.0 / facts.seconds(channel.periods[0].samples)
    return per_minute if low <= per_minute <= high else None


def _channel_statements(
    facts: SeriesFacts, channel: ChannelFacts, intensity: str | None, stated: set[str]
) -> list[Statement]:
    kind, name, label = channel_kind(channel.name), channel_ref(channel.name), facts.label
    if kind in stated:
        return []
    out: list[Statement] = []
    if kind == "cardiac":
        bpm = facts.extras.get("heart_rate_bpm") or _rate_from_period(facts, channel, 30, 220)
        if bpm:
            facts.extras.setdefault("heart_rate_bpm", bpm)
            out.append((
                f"The {name} shows a heart rate of about {number(bpm)} beats per minute.",
                f"Beats in the {name} repeat at roughly {number(bpm)} bpm.",
                f"The cardiac rhythm in the {name} corresponds to about {number(bpm)} bpm.",
            ))
            out.extend(_heart_rate_context(bpm, label, intensity))
    elif kind == "respiration":
        breaths = facts.extras.get("respiratory_rate_bpm") or _rate_from_period(facts, channel, 4, 70)
        if breaths:
            facts.extras.setdefault("respiratory_rate_bpm", breaths)
            out.append((
                f"The {name} signal shows about {number(breaths)} breaths per minute.",
                f"Breathing in the {name} signal repeats roughly {number(breaths)} times a minute.",
                f"The {name} signal indicates a breathing rate near {number(breaths)} breaths per minute.",
            ))
    elif kind == "heart_rate" and channel.trend is not None and channel.trend.direction != "none":
        rises = channel.trend.direction == "increasing"
        if label and intensity == ("vigorous" if rises else "sedentary"):
            verb = "rises" if rises else "falls"
            out.append((
                f"Heart rate {verb} during {label}.",
                f"As expected while {label}, the {name} {verb}.",
                f"The {name} {verb}, consistent with {label}.",
            ))
    elif kind == "motion" and label and intensity in ("vigorous", "moderate"):
        cadence = _rate_from_period(facts, channel, 20, 400)
        if cadence:
            out.append((
                f"The {name} repeats about {number(cadence)} times a minute, a rhythmic movement consistent with {label}.",
                f"A regular {name} cycle of roughly {number(cadence)} per minute fits {label}.",
                f"Rhythmic {name} motion at about {number(cadence)} cycles per minute matches {label}.",
            ))
    elif kind == "power" and channel.periods:
        cycle = _named_cycle(facts.seconds(channel.periods[0].samples))
        if cycle:
            out.append((
                f"The {name} follows a {cycle} cycle.",
                f"Consumption in the {name} repeats on a {cycle} rhythm.",
                f"A {cycle} usage pattern shapes the {name}.",
            ))
    if out and kind in ("cardiac", "respiration", "motion", "power"):
        stated.add(kind)
    return out


def _heart_rate_context(bpm: float, label: str, intensity: str | None) -> list[Statement]:
    if bpm > 100:
        state = "elevated"
    elif bpm < 60:
        state = "low"
    else:
        return []
    fits = intensity is not None and (intensity == "vigorous") == (state == "elevated")
    context = f", consistent with {label}" if label and fits else ""
    return [(
        f"This heart rate is {state}{context}.",
        f"That is an {state} heart rate{context}." if state == "elevated" else f"That is a {state} heart rate{context}.",
        f"The heart rate is {state}{context}.",
    )]


def _named_cycle(seconds: float) -> str | None:
    for target, name in ((86400.0, "daily"), (7 * 86400.0, "weekly"), (365.25 * 86400.0, "yearly")):
        if abs(seconds - target) <= 0.1 * target:
            return name
    return None


def _extra_statements(facts: SeriesFacts) -> list[Statement]:
    """Counts that only a simulation knows exactly (skin conductance responses, muscle bursts)."""
    out: list[Statement] = []
    if "scr_count" in facts.extras:
        scr = plural(int(facts.extras["scr_count"]), "skin conductance response")
        out.append((f"The EDA contains {scr}.", f"There are {scr} in the EDA.", f"{scr} appear in the EDA."))
    if "emg_bursts" in facts.extras:
        bursts = plural(int(facts.extras["emg_bursts"]), "burst")
        out.append((f"The EMG shows {bursts} of muscle activity.", f"Muscle activity comes in {bursts}.",
                    f"{bursts} of muscle contraction appear in the EMG."))
    return out
