"""How search hits show a window's clock time, in the `slip search` table, the hits picture and the Space alike."""

from __future__ import annotations


def clock_time(timestamp: str | None) -> str:
    """An ISO timestamp as date and time of day, with the fraction of a second only when there is one
    ("2024-05-01T08:00:40.000000000" → "2024-05-01 08:00:40", "…08:00:40.250000" → "2024-05-01 08:00:40.25"), or ""
    for none."""
    if not timestamp:
        return ""
    whole, _, fraction = timestamp.replace("T", " ", 1).partition(".")
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def clock_span(start_time: str | None, end_time: str | None) -> str:
    """A window's ISO start and end as "start – end" in `clock_time`s, or "" when the recording has no timestamps."""
    return f"{clock_time(start_time)} – {clock_time(end_time)}" if start_time else ""


__all__ = ["clock_span", "clock_time"]
