"""A held-out recording archive whose descriptions are known: the default data of `slip evaluate --tasks retrieval`.

Each window of the archive is one series of the synthetic generator (`slip_sensor.data.synthetic.make_record`: the
`synthetic` corpus source, with its mixed sampling rates, lengths and channel counts) drawn with the evaluation seed
`synthetic_tasks.EVAL_SEED`, which no corpus uses; the generator's caption of the window states its true facts, so
the query for a window is that caption and the truth is the window itself. The `test` split is the archive that is
searched; the `train` split (other record indices of the same stream) is only for baselines that must be fitted,
such as the statistical-feature map (`baselines.StatisticalFeatureEncoder`). Rows follow the corpus schema
(`sensor` `[channels, time]`, `sampling_rate`, `caption`, `caption_semantic`, `caption_structural`), so
`retrieval.evaluate_retrieval` reads them like a corpus split.
"""

from __future__ import annotations

from typing import Any

NAME = "synthetic held-out archive"
SPLITS = {"test": 0, "train": 1_000_000}  # first record index of each split: disjoint index ranges of one stream
DEFAULT_WINDOWS = {"test": 256, "train": 512}


def held_out_archive(split: str = "test", num_windows: int | None = None) -> list[dict[str, Any]]:
    """The first `num_windows` windows (default `DEFAULT_WINDOWS[split]`) of the archive's `split`, as corpus rows."""
    from slip_sensor.data.synthetic import make_record

    from .synthetic_tasks import EVAL_SEED

    if split not in SPLITS:
        raise ValueError(f"unknown archive split {split!r}; available: {', '.join(SPLITS)}")
    count = DEFAULT_WINDOWS[split] if num_windows is None else num_windows
    rows = []
    for index in range(SPLITS[split], SPLITS[split] + count):
        record = make_record(index, EVAL_SEED)
        rows.append({
            "id": record.id,
            "sensor": record.sensor,
            "sampling_rate": record.sampling_rate,
            "channel_names": record.channel_names,
            "caption": record.caption.caption,
            "caption_semantic": record.caption.semantic,
            "caption_structural": record.caption.structural,
        })
    return rows


__all__ = ["DEFAULT_WINDOWS", "NAME", "held_out_archive"]
