"""Sensor-caption data: caption generation, corpora, labelled evaluation sets.

| concept | module |
|---|---|
| facts computed from a series | `attributes` |
| three-level captions and paraphrases | `captions` (wording helpers in `phrasing`, domain readings in `semantics`) |
| attribute-driven synthetic series | `synthetic` |
| neurokit2 physiological simulations | `physio` |
| real labelled datasets bundled with aeon | `aeon_datasets` |
| corpus schema, shards and `load_corpus` | `corpus` (the authors' SlipDataset layout: `authors_layout`) |
| parallel atomic builds, `slip build-corpus` | `builder`, `build_corpus_cli` |
"""

from .attributes import SeriesFacts, describe_series
from .builder import BuildSummary, build_corpus
from .captions import Paraphraser, SensorCaption, caption_sensor, render_caption
from .corpus import CORPUS_FEATURES, CorpusLoadError, load_corpus, to_channels_first
from .labelled import LabelledSensorDataset
from .aeon_datasets import list_labelled_datasets, load_labelled_dataset

__all__ = [
    "BuildSummary",
    "CORPUS_FEATURES",
    "CorpusLoadError",
    "LabelledSensorDataset",
    "Paraphraser",
    "SensorCaption",
    "SeriesFacts",
    "build_corpus",
    "caption_sensor",
    "describe_series",
    "list_labelled_datasets",
    "load_corpus",
    "load_labelled_dataset",
    "render_caption",
    "to_channels_first",
]
