"""Sensor-caption data: caption generation, corpora, labelled evaluation sets.

| concept | module |
|---|---|
| facts computed from a series | `attributes` |
| three-level captions and paraphrases | `captions` (wording helpers in `phrasing`, domain readings in `semantics`) |
| attribute-driven synthetic series | `synthetic` |
| neurokit2 physiological simulations | `physio` |
| real labelled datasets bundled with aeon | `aeon_datasets` |
| your own labelled dataset (parquet, CSV, Hub id) | `user_dataset` |
| corpus schema | `corpus_schema` |
| corpus shards and `load_corpus` | `corpus` (the authors' SlipDataset layout: `authors_layout`) |
| parallel atomic builds, `slip build-corpus` | `builder`, `build_corpus_cli` |

The names below are imported on first access, so importing the package does not load the builders and their
dependencies.
"""

from ..lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".attributes": ("SeriesFacts", "describe_series"),
        ".builder": ("BuildSummary", "build_corpus"),
        ".captions": ("Paraphraser", "SensorCaption", "caption_sensor", "render_caption"),
        ".corpus_schema": ("CORPUS_FEATURES", "CorpusLoadError"),
        ".corpus": ("load_corpus",),
        ".labelled": ("LabelledSensorDataset",),
        ".user_dataset": ("load_user_dataset",),
        ".aeon_datasets": ("list_labelled_datasets", "load_labelled_dataset"),
    },
)
