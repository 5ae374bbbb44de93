"""SensorLM-style captions at three levels, rendered from `SeriesFacts`.

* statistical: per channel level, spread, range and when the extremes occur, in the user's units and on the model's
  normalised scale (each channel divided by its mean |x|);
* structural: trend (with piecewise segments), periods, noise, spikes, level shifts, flat and missing stretches, and
  cross-channel correlation and lead/lag;
* semantic: what the recording is and domain readings of its structure (see `semantics`).

Recordings with many channels use a compact wording (one sentence per channel and level) with the same facts.

Every sentence is filled from the facts, so a caption cannot say more than the facts hold. Several templates exist for
each fact; a seed fixes the choice, and other seeds give paraphrases with the same facts. An optional `paraphraser`
callable (e.g. a local LLM) can replace the template paraphrases; nothing requires one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .attributes import ChannelFacts, ChannelPair, LevelShift, SeriesFacts, Span, describe_series, noise_level
from .phrasing import Clock, Phraser, channel_ref, duration, join, number, plural, with_unit
from .semantics import Statement, semantic_statements

MAX_DESCRIBED_CHANNELS = 6  # keeps captions within a few hundred tokens
COMPACT_FROM_CHANNELS = 3  # from this many channels on, each channel's facts are stated in one sentence per level
MAX_LISTED_EVENTS = 3  # spikes, shifts, stretches listed by time; the count is always given
MAX_STATED_PAIRS = 3
_PARAPHRASE_ATTEMPTS = 4  # tries per wanted paraphrase before accepting a repeat

Paraphraser = Callable[[str, int], Sequence[str]]


@dataclass
class SensorCaption:
    """A captioned series: its facts (JSON-ready), one caption per level, the full caption (semantic, statistical and
    structural levels in that order) and its paraphrases (the same facts in other words)."""

    facts: dict
    statistical: str
    structural: str
    semantic: str
    caption: str
    paraphrases: list[str]


def caption_sensor(
    sensor: np.ndarray,
    sampling_rate: float,
    *,
    channel_names: Sequence[str] | None = None,
    units: Sequence[str] | None = None,
    domain: str = "",
    label: str = "",
    label_templates: Sequence[str] = (),
    seed: int = 0,
    n_paraphrases: int = 3,
    paraphraser: Paraphraser | None = None,
) -> SensorCaption:
    """Caption a `[channels, time]` array (NaN = missing) sampled at `sampling_rate` Hz.

    `label` is an optional class or activity (e.g. "running"); `label_templates` are sentences with a `{label}`
    placeholder that state it (defaults: generic wordings).
    """
    facts = describe_series(
        sensor, sampling_rate, list(channel_names) if channel_names else None, list(units) if units else None
    )
    facts.domain, facts.label = domain, label
    return render_caption(
        facts, seed=seed, n_paraphrases=n_paraphrases, paraphraser=paraphraser, label_templates=label_templates
    )


def render_caption(
    facts: SeriesFacts,
    *,
    seed: int = 0,
    n_paraphrases: int = 3,
    paraphraser: Paraphraser | None = None,
    label_templates: Sequence[str] = (),
) -> SensorCaption:
    """Render captions for already computed (or known, e.g. simulated) facts."""
    described = facts.channels[:MAX_DESCRIBED_CHANNELS]
    semantic = semantic_statements(facts, described, tuple(label_templates))
    first = _render(facts, described, semantic, Phraser(np.random.default_rng([seed, 0])))
    caption = _join(first)
    if paraphraser is not None:
        paraphrases = [str(p) for p in paraphraser(caption, n_paraphrases)]
        if len(paraphrases) != n_paraphrases or not all(p.strip() for p in paraphrases):
            raise ValueError(f"paraphraser must return {n_paraphrases} non-empty strings, got {paraphrases!r}")
    else:
        paraphrases = _template_paraphrases(facts, described, semantic, seed, n_paraphrases, caption)
    return SensorCaption(facts.to_dict(), first[1], first[2], first[0], caption, paraphrases)


def _template_paraphrases(
    facts: SeriesFacts, described: list[ChannelFacts], semantic: list[Statement], seed: int, n: int, caption: str
) -> list[str]:
    """Re-render with other template choices; distinct texts first, repeats only if the templates run out."""
    seen, distinct, repeats = {caption}, [], []
    for k in range(1, n * _PARAPHRASE_ATTEMPTS + 1):
        if len(distinct) == n:
            break
        text = _join(_render(facts, described, semantic, Phraser(np.random.default_rng([seed, k]))))
        (repeats if text in seen else distinct).append(text)
        seen.add(text)
    return (distinct + repeats + [caption] * n)[:n]


def _join(parts: Sequence[str]) -> str:
    return " ".join(p for p in parts if p)


@dataclass
class _Context:
    """What every sentence of one rendering needs."""

    facts: SeriesFacts
    clock: Clock
    ph: Phraser
    compact: bool

    def seconds(self, samples: float) -> float:
        return self.facts.seconds(samples)


def _render(
    facts: SeriesFacts, described: list[ChannelFacts], semantic: list[Statement], ph: Phraser
) -> tuple[str, str, str]:
    """(semantic, statistical, structural) texts for one choice of wordings."""
    ctx = _Context(facts, Clock(facts.duration), ph, compact=len(facts.channels) >= COMPACT_FROM_CHANNELS)
    semantic_text = " ".join(ph.choose(s) for s in semantic)
    statistical = [_statistics(ctx, c) for c in described if c.stats is not None]
    if len(facts.channels) > len(described):
        statistical.append(f"Only the first {len(described)} of {len(facts.channels)} channels are described.")
    structural = [s for c in described for s in _structure(ctx, c)]
    stated = [p for p in facts.pairs if max(p.first, p.second) < len(described)][:MAX_STATED_PAIRS]
    structural += [_pair(ctx, p) for p in stated]
    return semantic_text, " ".join(statistical), " ".join(structural)


_STATS = (
    "{name} averages {mean} with a standard deviation of {std}; it reaches its minimum of {min} {tmin} and its maximum of {max} {tmax}.",
    "{name} has a mean of {mean} and a spread (std) of {std}, ranging from {min} {tmin} to {max} {tmax}.",
    "The lowest value of {name}, {min}, occurs {tmin} and the highest, {max}, {tmax}; on average it is {mean} (std {std}).",
)
_NORMALISED = (
    "Divided by its mean magnitude of {scale}, {name} spans {nmin} to {nmax} with a std of {nstd}.",
    "On the normalised scale (mean |x| = {scale}) {name} runs from {nmin} to {nmax}, std {nstd}.",
    "Relative to its mean absolute level of {scale}, {name} ranges from {nmin}x to {nmax}x with a spread of {nstd}x.",
)
_STATS_COMPACT = (
    "{name}: mean {mean}, std {std}, min {min} {tmin}, max {max} {tmax} (normalised {nmin} to {nmax}).",
    "{name} averages {mean} (std {std}) between {min} {tmin} and {max} {tmax}, i.e. {nmin} to {nmax} normalised.",
    "{name} ranges from {min} {tmin} to {max} {tmax}, mean {mean}, std {std} ({nmin} to {nmax} on the normalised scale).",
)


def _statistics(ctx: _Context, c: ChannelFacts) -> str:
    st, unit, ref = c.stats, c.unit, _magnitude(c)
    scale = st.scale if st.scale > 0 else 1.0  # an all-zero channel stays all zero after normalisation
    fields = dict(
        name=channel_ref(c.name),
        mean=with_unit(st.mean, unit, ref),
        std=with_unit(st.std, unit, ref),
        min=with_unit(st.minimum, unit, ref),
        max=with_unit(st.maximum, unit, ref),
        tmin=ctx.clock.at(ctx.seconds(st.argmin)),
        tmax=ctx.clock.at(ctx.seconds(st.argmax)),
        scale=with_unit(st.scale, unit, ref),
        nmin=number(st.minimum / scale, ref=ref / scale),
        nmax=number(st.maximum / scale, ref=ref / scale),
        nstd=number(st.std / scale, ref=ref / scale),
    )
    if ctx.compact:
        return ctx.ph.pick(_STATS_COMPACT, **fields)
    return ctx.ph.pick(_STATS, **fields) + " " + ctx.ph.pick(_NORMALISED, **fields)


def _magnitude(c: ChannelFacts) -> float:
    """The channel's largest absolute value: raw numbers are rounded relative to it, so '-1.4e-9' reads '0'."""
    return max(abs(c.stats.minimum), abs(c.stats.maximum)) if c.stats is not None else 0.0


_CHANNEL_SUMMARY = ("{name} shows {clauses}.", "{name}: {clauses}.", "In {name} one finds {clauses}.")


def _structure(ctx: _Context, c: ChannelFacts) -> list[str]:
    """Structural statements of one channel, in a seeded order; every fact is always stated."""
    scale = c.stats.scale if c.stats is not None and c.stats.scale > 0 else 1.0
    parts = []
    if c.trend is not None:
        parts.extend(_trend(ctx, c, scale))
    if c.periods is not None:
        parts.append(_periods(ctx, c))
    if c.noise_std is not None and c.stats is not None:
        parts.append(_noise(ctx, c, scale))
    if c.spikes:
        parts.append(_spikes(ctx, c))
    if c.level_shifts:
        parts.extend(_shift(ctx, c, s, scale) for s in c.level_shifts[:MAX_LISTED_EVENTS])
    if c.flat:
        parts.append(_stretches(ctx, c, c.flat, _FLAT))
    if c.missing:
        parts.append(_stretches(ctx, c, c.missing, _MISSING))
    parts = ctx.ph.shuffle(parts)
    if ctx.compact and parts:
        return [ctx.ph.pick(_CHANNEL_SUMMARY, name=channel_ref(c.name), clauses=join(parts))]
    return parts


def _say(ctx: _Context, full: Sequence[str], compact: Sequence[str], **fields) -> str:
    """A full sentence, or in compact style a lower-case noun phrase for the channel summary."""
    if ctx.compact:
        return compact[int(ctx.ph.rng.integers(len(compact)))].format(**fields)
    return ctx.ph.pick(full, **fields)


_TREND_NONE = (
    "{name} shows no clear overall trend.",
    "There is no sustained overall rise or fall in {name}.",
    "Overall, {name} stays level without a trend.",
)
_TREND_NONE_C = ("no overall trend", "no sustained rise or fall", "no clear trend")
_TREND = (
    "{name} shows a {strength} {updown}ward trend, {ing} by about {change} ({nchange} normalised) over {span}.",
    "Over {span}, {name} {verb} overall by roughly {change} ({nchange} on the normalised scale), a {strength} {updown}ward trend.",
    "A {strength} {updown}ward trend runs through {name}: it {verb} by about {change} in total ({nchange} normalised).",
)
_TREND_C = (
    "a {strength} {updown}ward trend of {change} ({nchange} normalised)",
    "an overall {updown}ward trend, {ing} by {change} ({nchange} normalised)",
    "a {strength} {updown}ward drift totalling {change} ({nchange} normalised)",
)
_SEGMENTS = ("{name} {parts}.", "Piecewise, {name} {parts}.", "Looking closer, {name} {parts}.")
_SEGMENTS_C = ("a piecewise course in which it {parts}", "local trends in which it {parts}", "stages in which it {parts}")


def _trend(ctx: _Context, c: ChannelFacts, scale: float) -> list[str]:
    """The overall trend, then its piecewise segments when the direction changes along the way."""
    trend, name, ref = c.trend, channel_ref(c.name), _magnitude(c)
    if trend.direction == "none":
        text = _say(ctx, _TREND_NONE, _TREND_NONE_C, name=name)
    else:
        up = trend.direction == "increasing"
        strength = abs(trend.change) / c.stats.amplitude
        text = _say(
            ctx,
            _TREND,
            _TREND_C,
            name=name,
            strength="slight" if strength < 0.5 else "clear" if strength < 1 else "strong",
            updown="up" if up else "down",
            ing="rising" if up else "falling",
            verb="rises" if up else "falls",
            change=with_unit(abs(trend.change), c.unit, ref),
            nchange=number(abs(trend.change) / scale, ref=ref / scale),
            span=duration(ctx.facts.duration),
        )
    if not trend.segments:
        return [text]
    pieces = " then ".join(
        f"{'rises' if g.direction == 'increasing' else 'falls'} by {with_unit(abs(g.change), c.unit, ref)} "
        + ctx.clock.span(ctx.seconds(g.start), ctx.seconds(g.end + 1))
        for g in trend.segments
    )
    return [text, _say(ctx, _SEGMENTS, _SEGMENTS_C, name=name, parts=pieces)]


_PERIOD_NONE = ("No repeating cycle is evident in {name}.", "{name} shows no clear periodicity.", "There is no regular cycle in {name}.")
_PERIOD_NONE_C = ("no clear cycle", "no periodicity", "no regular cycle")
_PERIOD = (
    "{name} has a {strength} cycle with a period of about {period} (about {cycles} cycles).",
    "{name} repeats roughly every {period}, a {strength} periodic pattern seen about {cycles} times.",
    "A {strength} periodic pattern with a period near {period} runs through {name} ({cycles} cycles).",
)
_PERIOD_C = ("a {strength} cycle of about {period}", "a {strength} period near {period}", "a {strength} {period} rhythm")
_SECOND_PERIOD = (
    "A weaker second cycle of about {period} is superimposed.",
    "There is also a secondary period of roughly {period}.",
    "A second, weaker rhythm repeats every {period} or so.",
)
_SECOND_PERIOD_C = ("plus a weaker {period} cycle", "with a secondary period of about {period}", "and a weaker {period} rhythm")


def _periods(ctx: _Context, c: ChannelFacts) -> str:
    name = channel_ref(c.name)
    if not c.periods:
        return _say(ctx, _PERIOD_NONE, _PERIOD_NONE_C, name=name)
    main = c.periods[0]
    text = _say(
        ctx,
        _PERIOD,
        _PERIOD_C,
        name=name,
        strength="strong" if main.strength >= 0.6 else "clear" if main.strength >= 0.35 else "weak",
        period=duration(ctx.seconds(main.samples)),
        cycles=number(c.length / main.samples, 2),
    )
    for extra in c.periods[1:]:
        text += " " + _say(ctx, _SECOND_PERIOD, _SECOND_PERIOD_C, period=duration(ctx.seconds(extra.samples)))
    return text


_NOISE = (
    "{name} has {level} (noise std about {std}, {nstd} normalised).",
    "The noise in {name} is {adjective}: its std is roughly {std} ({nstd} on the normalised scale).",
    "{name} carries {level}, with a noise std near {std} ({nstd} normalised).",
)
_NOISE_C = ("{level}", "{adjective} noise", "{level}")


def _noise(ctx: _Context, c: ChannelFacts, scale: float) -> str:
    level = noise_level(c.noise_std, c.stats.amplitude)
    return _say(
        ctx,
        _NOISE,
        _NOISE_C,
        name=channel_ref(c.name),
        level=level,
        adjective={"almost no noise": "negligible"}.get(level, level.split()[0]),
        std=with_unit(c.noise_std, c.unit, _magnitude(c)),
        nstd=number(c.noise_std / scale, ref=_magnitude(c) / scale),
    )


_SPIKES = ("{name} contains {count} ({times}).", "{count} {verb} in {name}, {times}.", "There {be} {count} in {name}, {times}.")
_SPIKES_C = ("{count} ({times})", "{count} {times}", "{count}, {times}")


def _spikes(ctx: _Context, c: ChannelFacts) -> str:
    listed = c.spikes[:MAX_LISTED_EVENTS]
    one = len(c.spikes) == 1
    return _say(
        ctx,
        _SPIKES,
        _SPIKES_C,
        name=channel_ref(c.name),
        count=plural(len(c.spikes), "isolated spike"),
        times=ctx.clock.at_all([ctx.seconds(i) for i in listed], more=len(c.spikes) - len(listed)),
        verb="appears" if one else "appear",
        be="is" if one else "are",
    )


_SHIFT = (
    "{name} shifts {updown} by {change} ({nchange} normalised) {when}.",
    "{when}, {name} jumps to a {higher} level ({sign}{change}).",
    "A level shift of {sign}{change} ({sign}{nchange} normalised) occurs in {name} {when}.",
)
_SHIFT_C = ("a step {updown} by {change} {when}", "a level shift of {sign}{change} {when}", "a jump to a {higher} level ({sign}{change}) {when}")


def _shift(ctx: _Context, c: ChannelFacts, shift: LevelShift, scale: float) -> str:
    up = shift.change > 0
    return _say(
        ctx,
        _SHIFT,
        _SHIFT_C,
        name=channel_ref(c.name),
        updown="up" if up else "down",
        higher="higher" if up else "lower",
        sign="+" if up else "-",
        change=with_unit(abs(shift.change), c.unit, _magnitude(c)),
        nchange=number(abs(shift.change) / scale, ref=_magnitude(c) / scale),
        when=ctx.clock.at(ctx.seconds(shift.index)),
    )


_FLAT = (
    ("{name} stays exactly constant {spans}.", "{name} is flat {spans}.", "{count} of constant readings appear in {name}, {spans}."),
    ("constant readings {spans}", "a flat stretch {spans}", "{count} of stuck values, {spans}"),
)
_MISSING = (
    ("{name} is missing {spans}.", "Data for {name} is missing {spans}.", "{count} of missing values in {name}: {spans}."),
    ("missing data {spans}", "a gap in the data {spans}", "{count} of missing values ({spans})"),
)


def _stretches(ctx: _Context, c: ChannelFacts, spans: list[Span], templates: tuple[tuple[str, ...], ...]) -> str:
    listed = [ctx.clock.span(ctx.seconds(s.start), ctx.seconds(s.end + 1)) for s in spans[:MAX_LISTED_EVENTS]]
    more = len(spans) - len(listed)
    text = join(listed) + (f" and in {more} more stretches" if more else "")
    count = plural(len(spans), "stretch", "stretches")
    return _say(ctx, templates[0], templates[1], name=channel_ref(c.name), spans=text, count=count)


_CORRELATION = (
    "{a} and {b} are {adverb} {sign}ly correlated (r = {r}).",
    "There is a {adjective} {sign} correlation between {a} and {b} (r = {r}).",
    "{a} and {b} move {adverb} {together} (correlation {r}).",
)
_LAG = (
    "{b} follows {a} with a delay of about {lag} (correlation {r} at that lag).",
    "{a} leads {b} by roughly {lag} (r = {r} when aligned).",
    "Changes in {a} show up in {b} about {lag} later (lagged correlation {r}).",
)


def _pair(ctx: _Context, p: ChannelPair) -> str:
    channels = ctx.facts.channels
    a, b = channel_ref(channels[p.first].name), channel_ref(channels[p.second].name)
    if p.lag != 0:
        if p.lag < 0:
            a, b = b, a
        return ctx.ph.pick(_LAG, a=a, b=b, lag=duration(ctx.seconds(abs(p.lag))), r=number(p.lag_correlation, 2))
    strong = abs(p.correlation) >= 0.7
    return ctx.ph.pick(
        _CORRELATION,
        a=a,
        b=b,
        adverb="strongly" if strong else "moderately",
        adjective="strong" if strong else "moderate",
        sign="positive" if p.correlation > 0 else "negative",
        together="together" if p.correlation > 0 else "in opposition",
        r=number(p.correlation, 2),
    )
