"""The demo Space: SLIP on a recording in the browser, as a Gradio app.

`build_demo(model, examples, cache)` returns the app (`gr.Blocks`); `space/app.py`, and the `app.py` that
`slip export --space` writes into a Space folder, only pick the model and call it. Three tabs share one model:

- **Caption a recording**: an uploaded file (CSV: columns = channels, an optional `time`/`timestamp` column) or a
  bundled example, cut into windows and captioned as `slip caption` does (`recording_cli.run_windowed`), drawn with
  each window's caption under its span (`recording_cli.plot_windows`) and listed as a table;
- **Zero-shot labels**: the same recording scored against typed labels (`zero-shot-sensor-classification`), as
  `slip classify` does: the scores over the windows with data, and each window's best label in the picture;
- **Search an archive**: a text query over the examples folder, indexed with `slip_sensor.search.SlipIndex` at
  start-up into the cache folder, one index per model (the index embeds only recordings that are new or changed
  since it was written).

The model is loaded once: the zero-shot and search pipelines run the captioning model's two towers. The clicks that
run it take turns, and each tab's picture is one file, overwritten per click, in a folder that the app removes when
it ends; Gradio's own copies of the pictures and uploads are deleted after `CACHE_AGE_S`.

Everything runs offline; problems with the user's input (no recording, no rate, no labels) are `UserError`s shown in
the app as one-line messages. Gradio is imported only here, so nothing else in the package needs it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from slip_sensor.errors import UserError
from slip_sensor.recording_cli import DEFAULT_CHUNK_LENGTH_S, load_pipeline, plot_windows, run_windowed
from slip_sensor.recordings import ARRAY_SUFFIXES, TABLE_SUFFIXES, read_recording
from slip_sensor.search.timestamps import clock_time

MODEL_ENV = "SLIP_MODEL"  # a model folder or Hub id that replaces the app's default model
TITLE = "SLIP: sensor recordings in words"
MAX_NEW_TOKENS = 40
BATCH_SIZE = 8
SEARCH_HITS = 5
DEFAULT_LABELS = "resting, walking, running"
DEFAULT_QUERY = "an ECG at rest"
CACHE_AGE_S = 3600  # how long Gradio keeps its copies of the pictures and uploads (checked as often)


def default_model(app_folder: str | Path) -> str | None:
    """The model the app runs: `$SLIP_MODEL`, else `app_folder` when it is a model folder (a Space written by
    `slip export --space`), else None (the shipped slip-tiny)."""
    if os.environ.get(MODEL_ENV):
        return os.environ[MODEL_ENV]
    return str(app_folder) if (Path(app_folder) / "config.json").is_file() else None


def shown_in_app(handler: Callable[..., Any]) -> Callable[..., Any]:
    """`handler` with its `UserError`s raised as `gr.Error`, which the app shows as a message instead of a bare
    "Error"."""
    import gradio as gr

    @functools.wraps(handler)
    def wrapped(*args: Any) -> Any:
        try:
            return handler(*args)
        except UserError as error:
            raise gr.Error(" ".join(str(error).split()), print_exception=False) from None

    return wrapped


class SlipDemo:
    """What the app's buttons run, without the user interface: the pipelines on one model, the archive's index, and a
    folder for the pictures. Each method takes the app's input values and returns its output values."""

    def __init__(self, model: str | Path | None, examples: str | Path, cache: str | Path):
        self.captioner = load_pipeline("sensor-captioning", model)
        self.classifier = sharing_model("zero-shot-sensor-classification", self.captioner)
        self.index = archive_index(examples, index_folder(cache, model), model,
                                   sharing_model("sensor-feature-extraction", self.captioner))
        self._pictures = tempfile.TemporaryDirectory(prefix="slip-space-")  # removed with the app
        self.pictures = Path(self._pictures.name)

    def _recording(self, file: str | None, sampling_rate: float | None, chunk_length_s: float | None):
        """(path, recording, windowing) of the chosen file; a rate of 0 (the box's empty value) leaves the rate to
        the file's timestamps."""
        if not file:
            raise UserError("No recording: upload a CSV file (columns = channels) or click one of the examples")
        if chunk_length_s is None or not chunk_length_s > 0:
            raise UserError(f"The window length must be a positive number of seconds, got {chunk_length_s}")
        if sampling_rate is not None and sampling_rate < 0:
            raise UserError(f"The sampling rate must be a positive number of Hz (0: the file's), got {sampling_rate}")
        path = Path(file)
        windowing = {"chunk_length_s": float(chunk_length_s), "stride_length_s": 0.0, "batch_size": BATCH_SIZE,
                     "sampling_rate": sampling_rate or None}
        return path, read_recording(path, sampling_rate=sampling_rate or None), windowing

    def _picture(self, tab: str) -> Path:
        """The picture file of `tab`, overwritten by each click: Gradio copies it to its cache (by content) before
        the next click of that tab runs, as the clicks take turns."""
        return self.pictures / f"{tab}.png"

    def caption(self, file: str | None, sampling_rate: float | None, chunk_length_s: float | None):
        """(picture, table of window captions, what is known of the recording) for `file`."""
        import pandas as pd

        path, recording, windowing = self._recording(file, sampling_rate, chunk_length_s)
        result = run_windowed(self.captioner, path, recording, windowing, max_new_tokens=MAX_NEW_TOKENS)
        picture = self._picture("captions")
        known = plot_windows(recording, result, windowing["sampling_rate"], "", lambda chunk: chunk["generated_text"],
                             path.name, picture)
        rows = [{**window_span(chunk), "caption": chunk["generated_text"].strip()} for chunk in result["chunks"]]
        return str(picture), pd.DataFrame(rows), known

    def classify(self, file: str | None, sampling_rate: float | None, chunk_length_s: float | None, labels: str):
        """(table of label scores, the same for the bar plot, picture of each window's best label) for `file`."""
        import pandas as pd

        from slip_sensor.recording_cli.classify import best_with_score

        candidates = [label.strip() for label in (labels or "").split(",") if label.strip()]
        if not candidates:
            raise UserError('No labels: type the candidate labels separated by commas, e.g. "walking, running"')
        path, recording, windowing = self._recording(file, sampling_rate, chunk_length_s)
        result = run_windowed(self.classifier, path, recording, windowing, candidate_labels=candidates)
        picture = self._picture("labels")
        plot_windows(recording, result, windowing["sampling_rate"], "", best_with_score, path.name, picture)
        scores = pd.DataFrame({"label": result["labels"], "score": [round(float(s), 4) for s in result["scores"]]})
        return scores, scores, str(picture)

    def search(self, query: str, k: float | None):
        """(table of the hits, picture of the hits) for the text `query` over the archive."""
        import pandas as pd

        if not (query or "").strip():
            raise UserError('No query: describe what to find, e.g. "an ECG at rest"')
        hits = self.index.search(query.strip(), k=int(k or SEARCH_HITS))
        picture = self._picture("hits")
        self.index.plot(hits, picture)
        rows = [{"rank": hit.rank, "score": round(float(hit.score), 4), "recording": hit.recording_id,
                 "start_s": hit.start_s, "end_s": hit.end_s, "start_time": clock_time(hit.start_time),
                 "channels": ", ".join(hit.channel_names)} for hit in hits]
        return pd.DataFrame(rows), str(picture)


def window_span(chunk: dict) -> dict[str, Any]:
    """A window's row start: its span in seconds, its clock time (empty when the recording has no timestamps), and
    how much of it holds data."""
    start, end = chunk["timestamp"]
    return {"start_s": round(start, 3), "end_s": round(end, 3), "start_time": clock_time(chunk.get("start_time")),
            "observed_fraction": round(chunk["observed_fraction"], 3)}


def sharing_model(task: str, pipe: Any) -> Any:
    """The `task` pipeline on the model and processor of the loaded pipeline `pipe` (no second copy of the model)."""
    from transformers import pipeline

    return pipeline(task, model=pipe.model, processor=pipe.processor)


def index_folder(cache: str | Path, model: str | Path | None) -> Path:
    """The folder in `cache` of the archive's index on `model`: one per model, named by a hash of its weights (of
    its Hub id when it is not a folder), since an index is extended only with the model that built it."""
    from slip_sensor.search.slip_index import model_identity

    identity = model_identity(model)
    key = identity["model_sha256"] or hashlib.sha256(identity["model"].encode()).hexdigest()
    return Path(cache) / f"archive-index-{key[:16]}"


def archive_index(examples: str | Path, folder: Path, model: str | Path | None, feature_extraction: Any):
    """The search index of the recordings in `examples`, kept in `folder`: written on first use, updated where a
    recording is new or changed; embedded by `feature_extraction`, a `sensor-feature-extraction` pipeline on
    `model`."""
    from slip_sensor.search import SlipIndex

    return SlipIndex.build(examples, folder, model=None if model is None else str(model),
                           chunk_length_s=DEFAULT_CHUNK_LENGTH_S, progress=False,
                           pipelines={"sensor-feature-extraction": feature_extraction})


def example_files(examples: str | Path) -> list[Path]:
    """The recordings in `examples` that the app offers, in name order."""
    suffixes = (*TABLE_SUFFIXES, *ARRAY_SUFFIXES)
    return sorted(path for path in Path(examples).iterdir() if path.suffix.lower() in suffixes)


def build_demo(model: str | Path | None = None, examples: str | Path = "examples", cache: str | Path = "cache"):
    """The Gradio app (`gr.Blocks`, not launched) on `model` (a folder or Hub id; None: the shipped slip-tiny), with
    the recordings in the `examples` folder as clickable examples and as the searchable archive, whose index is
    kept in the `cache` folder."""
    import gradio as gr

    demo_state = SlipDemo(model, examples, cache)
    recordings = example_files(examples)
    gr.set_static_paths([str(Path(examples).resolve())])  # examples are served as they are, not copied per click
    model_name = str(model) if model else "the shipped slip-tiny"
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(CACHE_AGE_S, CACHE_AGE_S)) as demo:
        gr.Markdown(
            f"# {TITLE}\n"
            f"SLIP aligns multivariate sensor recordings with text (contrastive + captioning). Model: {model_name}. "
            "A long recording is cut into windows and each window is described on its own. The shipped slip-tiny "
            "is a 2.6 MB model trained for 20 minutes on a CPU: its captions are often wrong about the recording."
        )
        with gr.Row():
            recording = gr.File(label="Recording (CSV: columns = channels, optional time/timestamp column)",
                                file_types=[*TABLE_SUFFIXES, *ARRAY_SUFFIXES], elem_id="recording")
            with gr.Column():
                sampling_rate = gr.Number(label="Sampling rate (Hz), for a file without timestamps (0: from the file)",
                                          value=0, minimum=0, elem_id="sampling-rate")
                chunk_length_s = gr.Number(label="Window length (s)", value=DEFAULT_CHUNK_LENGTH_S,
                                           elem_id="window-length")
        gr.Examples([[str(path)] for path in recordings], inputs=[recording], cache_examples=False,
                    label="Example recordings")
        with gr.Tab("Caption a recording"):
            caption_button = gr.Button("Caption", variant="primary", elem_id="caption-button")
            known = gr.Textbox(label="Known from the file", interactive=False, elem_id="known-facts")
            caption_picture = gr.Image(label="Captions per window", type="filepath", elem_id="caption-picture")
            captions = gr.Dataframe(label="Captions", wrap=True, column_widths=["7%", "7%", "16%", "10%", "60%"],
                                    elem_id="captions")
        with gr.Tab("Zero-shot labels"):
            labels = gr.Textbox(label="Candidate labels, comma-separated", value=DEFAULT_LABELS, elem_id="labels")
            classify_button = gr.Button("Score labels", variant="primary", elem_id="classify-button")
            with gr.Row():
                scores = gr.Dataframe(label="Scores (mean over the windows with data)", elem_id="scores")
                scores_plot = gr.BarPlot(x="label", y="score", y_lim=[0, 1], label="Scores", sort="-y",
                                         elem_id="scores-plot")
            label_picture = gr.Image(label="Best label per window", type="filepath", elem_id="label-picture")
        with gr.Tab("Search an archive"):
            gr.Markdown(f"Searches the {len(recordings)} example recordings, window by window "
                        f"({DEFAULT_CHUNK_LENGTH_S:g}-s windows).")
            with gr.Row():
                query = gr.Textbox(label="Describe what to find", value=DEFAULT_QUERY, scale=4, elem_id="query")
                hits_count = gr.Number(label="Hits", value=SEARCH_HITS, precision=0, minimum=1, scale=1,
                                       elem_id="hits-count")
            search_button = gr.Button("Search", variant="primary", elem_id="search-button")
            hits = gr.Dataframe(label="Hits, best first", wrap=True,
                                column_widths=["6%", "8%", "22%", "8%", "8%", "18%", "30%"], elem_id="hits")
            hits_picture = gr.Image(label="Hits", type="filepath", elem_id="hits-picture")
        # One click on the model at a time: the tabs share it and each tab's picture file (`SlipDemo._picture`).
        turns = {"concurrency_id": "model", "concurrency_limit": 1}
        caption_button.click(shown_in_app(demo_state.caption), [recording, sampling_rate, chunk_length_s],
                             [caption_picture, captions, known], **turns)
        classify_button.click(shown_in_app(demo_state.classify), [recording, sampling_rate, chunk_length_s, labels],
                              [scores, scores_plot, label_picture], **turns)
        search_button.click(shown_in_app(demo_state.search), [query, hits_count], [hits, hits_picture], **turns)
    demo.slip_demo = demo_state  # what the buttons run, for callers that look behind the user interface
    return demo


__all__ = ["MODEL_ENV", "SlipDemo", "build_demo", "default_model", "example_files", "index_folder"]
