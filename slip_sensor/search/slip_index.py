"""`SlipIndex`: text and sensor search over the windows of a recording archive, in SLIP's contrastive space.

    index = SlipIndex.build("recordings/", "runs/index", chunk_length_s=60)   # create, or extend with what changed
    hits = index.search("the heart rate climbs while the person stands still", k=10)
    index.plot(hits, "hits.png")

An index is a folder:

    .slip-output.json   marks the folder as written by `slip index` (nothing else is ever written into or replaced)
    index.json          format, the model (its folder or Hub id and a hash of its weights), the windowing and the source
    shards/             one parquet file per recording (`shards`): its windows, metadata and embeddings
    windows/            the merged windows with data, as a `datasets` dataset (`save_to_disk`) whose `embedding`
                        column carries a FAISS index (`embedding.faiss`, `vector_index`), and `windows.json` (the
                        shards it was merged from, counts, the last run)

Building embeds every recording that has no shard for its current fingerprint (new or changed), removes the shards
of recordings that changed or left the source, then merges all shards into `windows/` (staged, then swapped in). A
run killed mid-way keeps every finished shard, so the next run embeds only the rest. Under `accelerate launch` the
recordings to embed are listed once by the main process and split between the processes, each writes its own shards,
and the main process merges. A recording that cannot be read or windowed is skipped and named in the report
(`windows.json`'s `skipped`, with the reason) rather than ending the run; it has no shard, so the next run tries it
again.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from slip_sensor.errors import UserError
from slip_sensor.file_hash import file_sha256
from slip_sensor.output_folders import refuse_foreign, remove_stale_temporaries, write_atomically, written_by

from .shards import SHARD_SCHEMA, SHARDS_DIR, read_shards, shard_name, shard_rows, write_shard
from .sources import Recording, open_source
from .vector_index import INDEX_TYPES, build_faiss_index

COMMAND = "slip index"
FORMAT_NAME = "slip-sensor-index"
FORMAT_VERSION = 1
INFO_FILE = "index.json"
WINDOWS_DIR = "windows"
WINDOWS_INFO = "windows.json"
FAISS_FILE = "embedding.faiss"
EMBEDDING = "embedding"  # the column, and the name of its FAISS index on the dataset
CAPTION_TOKENS = 60  # as `slip caption`'s default
# the window's columns that a `SearchHit` carries
HIT_COLUMNS = ("recording_id", "source", "start_s", "end_s", "start_time", "end_time", "channel_names")


@dataclass
class SearchHit:
    """One window found by a search: its `rank` (1 = best), `score` (cosine similarity with the query), recording,
    `source` (the file path, or `split[row]` of a dataset), span in seconds from the recording's start, ISO
    timestamps when the recording has them, channel names and, when asked for, the model's caption of the window."""

    rank: int
    score: float
    recording_id: str
    source: str
    start_s: float
    end_s: float
    start_time: str | None
    end_time: str | None
    channel_names: list[str]
    caption: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def model_identity(model: str | Path | None) -> dict[str, Any]:
    """What an index records of its model: the folder (absolute) or Hub id (None: the shipped slip-tiny) and a
    sha256 of its `*.safetensors` weight files, so that the same weights under another path still match. A Hub id
    (nothing is downloaded to hash) and a folder without such files have no hash (None): they are compared by their
    id or path."""
    from slip_sensor.shipped_models import pretrained

    folder = Path(model) if model is not None else pretrained()
    if not folder.is_dir():
        return {"model": str(model), "model_sha256": None}
    weights = sorted(folder.glob("*.safetensors"))
    digest = hashlib.sha256()
    for file in weights:
        digest.update(bytes.fromhex(file_sha256(file)))
    return {"model": None if model is None else str(folder.resolve()),
            "model_sha256": digest.hexdigest() if weights else None}


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def check_same_settings(index: Path, recorded: dict[str, Any], wanted: dict[str, Any]) -> None:
    """Refuses to extend `index` with another model, other windows or another source than it was built with."""
    by_hash = bool(recorded["model_sha256"] and wanted["model_sha256"])
    same_model = (recorded["model_sha256"] == wanted["model_sha256"] if by_hash
                  else recorded["model"] == wanted["model"])
    if not same_model:
        built = recorded["model"] or "the shipped slip-tiny"
        compared = "" if by_hash else " (compared by Hub id or folder path: one of them has no .safetensors to hash)"
        raise UserError(f"{index} was built with the model {built}, not {wanted['model'] or 'the shipped slip-tiny'}"
                        f"{compared}: its vectors and new ones would not be comparable; pass --model "
                        f"{recorded['model'] or '(none)'} to extend it, or choose a new --out")
    for key, option in (("chunk_length_s", "--chunk-length-s"), ("stride_length_s", "--stride-length-s")):
        if recorded[key] != wanted[key]:
            raise UserError(f"{index} was built with {option} {recorded[key]:g}, not {wanted[key]:g}: windows of "
                            f"another length would mix in one index; pass {option} {recorded[key]:g} to extend it, "
                            "or choose a new --out")
    if recorded["source"] != wanted["source"]:
        raise UserError(f"{index} indexes {recorded['source']}, not {wanted['source']}: an index follows one source "
                        "(with its options); choose a new --out for another")


class SlipIndex:
    """A searchable index of an archive's windows (module docstring). Build or extend one with `build`, open one with
    `load`; the model is loaded on the first search."""

    def __init__(self, path: Path, info: dict[str, Any], windows: Any, model: str | None, device: str | None,
                 report: dict[str, Any]):
        self.path, self.info, self.windows, self.model, self.device = path, info, windows, model, device
        self.report = report  # windows.json: counts, index type, and what the last run embedded
        self._pipelines: dict[str, Any] = {}
        self._source = None

    # building

    @classmethod
    def build(
        cls,
        source: str | Path,
        out: str | Path,
        model: str | Path | None = None,
        sampling_rate: float | None = None,
        chunk_length_s: float = 60.0,
        stride_length_s: float = 0.0,
        batch_size: int = 8,
        device: str | None = None,
        progress: bool = True,
        index_type: str = "flat",
        pipelines: dict[str, Any] | None = None,
        **source_options: Any,
    ) -> SlipIndex:
        """Creates the index `out` of the recordings in `source`, or brings an earlier one up to date (embedding only
        new and changed recordings), and returns it.

        Args:
            source: a folder of recording files, one file, a `datasets` dataset or a SLIP corpus (`sources`).
            model: model folder or Hub id (default: the shipped slip-tiny); an existing index must be extended with
                its own model and windowing.
            sampling_rate: Hz, for recordings that state none.
            chunk_length_s, stride_length_s: the windows (as the windowed pipelines cut them).
            batch_size: windows per model call.
            device: torch device (default: cpu, or each process's device under `accelerate launch`).
            index_type: `flat`, `ivf` or `hnsw` (`vector_index`).
            pipelines: pipelines already loaded on `model`, by task (e.g. `sensor-feature-extraction`), used instead
                of loading the model again.
            source_options: `sensor_column`, `id_column`, `rate_column` (datasets), `columns` (recording files).
        """
        import torch
        from accelerate import PartialState
        from accelerate.utils import broadcast_object_list, gather_object

        chunk_length_s, stride_length_s = check_windowing(chunk_length_s, stride_length_s)
        if index_type not in INDEX_TYPES:
            raise UserError(f"index_type (--index-type) must be one of {', '.join(INDEX_TYPES)}, got {index_type!r}")
        # Processes on CPUs talk through gloo: accelerate's state sets that up only when told it runs on CPUs.
        state = PartialState(cpu=device == "cpu" or (device is None and not torch.cuda.is_available()))
        out = Path(out)
        archive = open_source(source, sampling_rate=sampling_rate, exclude=out, **source_options)
        settings = {"format": FORMAT_NAME, "version": FORMAT_VERSION, **model_identity(model),
                    "chunk_length_s": chunk_length_s, "stride_length_s": stride_length_s,
                    "source": archive.describe()}
        # every refusal comes before the first barrier, in every process, so that none is left waiting; nothing is
        # written until every process has read the folder
        refuse_foreign(out, written_by(out) == COMMAND, COMMAND)
        recorded = _read_info(out) if (out / INFO_FILE).exists() else None
        if recorded is not None:
            check_same_settings(out, recorded, settings)
        state.wait_for_everyone()

        # The main process alone lists the recordings (a dataset's rows are hashed) and those without a shard, before
        # any process writes one, and sends both to the others: every process splits the same list.
        shards, plan, refusal = out / SHARDS_DIR, [None, None, None], None
        if state.is_main_process:
            try:
                recordings = archive.recordings()
                _prepare(out, settings if recorded is None else None)
                plan = [recordings, [recording for recording in recordings
                                     if not (shards / shard_name(recording)).exists()], None]
            except UserError as error:
                refusal, plan = error, [None, None, str(error)]
        recordings, todo, message = broadcast_object_list(plan)
        if refusal is not None:
            raise refusal
        if message is not None:
            raise UserError(message)

        index = cls(out, settings, None, model, device, {})
        index._pipelines.update(pipelines or {})
        skipped = []
        if todo:
            index.device = device if device is not None or state.num_processes == 1 else str(state.device)
            with state.split_between_processes(todo) as mine:
                skipped = index._embed(archive, mine, shards, batch_size, progress and state.is_local_main_process)
        skipped = gather_object(skipped)  # every process learns every skip (one process: the list itself)
        if recordings and len(skipped) == len(recordings):
            raise UserError(f"none of the {len(recordings)} recording(s) could be indexed: "
                            + "; ".join(f"{skip['recording_id']}: {skip['reason']}" for skip in skipped))
        state.wait_for_everyone()
        if state.is_main_process:
            merge(out, recordings, todo, index_type, state.num_processes, skipped)
        state.wait_for_everyone()
        # opened as built, without `model`: it was checked above, and `load` would hash its weights again
        loaded = cls.load(out, device=device)
        loaded.model = model if model is not None else loaded.model
        loaded._pipelines = index._pipelines
        return loaded

    def _embed(self, archive: Any, recordings: list[Recording], shards: Path, batch_size: int, progress: bool,
               ) -> list[dict[str, str]]:
        """Embeds each of `recordings` window by window and writes its shard; returns the recordings that could not
        be read or windowed (`recording_id`, `reason`), which get no shard."""
        from tqdm.auto import tqdm

        from slip_sensor.recording_cli import drawn_signal, run_windowed

        pipe = self.pipeline("sensor-feature-extraction")
        windowing = {"chunk_length_s": self.info["chunk_length_s"], "stride_length_s": self.info["stride_length_s"],
                     "batch_size": batch_size, "sampling_rate": self.info["source"].get("sampling_rate")}
        skipped = []
        for recording in tqdm(recordings, desc="recordings", unit="recording", disable=not progress):
            try:
                data = archive.read(recording.locator)
                with warnings.catch_warnings():  # a recording without data is reported by the merge's count instead
                    warnings.filterwarnings("ignore", "A recording has no observed value", UserWarning)
                    result = run_windowed(pipe, recording.id, data, windowing, aggregation=None)
                names = result.get("channel_names") or drawn_signal(data, windowing["sampling_rate"])["channel_names"]
            except UserError as error:  # one bad recording is reported, and the others are still indexed
                skipped.append({"recording_id": recording.id, "reason": str(error)})
                continue
            write_shard(shards, recording, shard_rows(recording, names, result["chunks"]))
        return skipped

    # opening

    @classmethod
    def load(cls, path: str | Path, model: str | Path | None = None, device: str | None = None) -> SlipIndex:
        """Opens the index at `path`. `model` defaults to the one the index was built with; another model is refused
        (its text and sensor embeddings would not be comparable with the index's). The folder's FAISS file is read
        by FAISS's native deserialiser: load only indexes you trust."""
        path = Path(path)
        info = _read_info(path)
        if model is not None:
            check_same_settings(path, info, {**info, **model_identity(model)})
        report = read_json(path / WINDOWS_DIR / WINDOWS_INFO)
        if report is None:
            raise UserError(f"{path} has no merged windows yet (its first `{COMMAND}` run was interrupted): run "
                            f"`{COMMAND} SOURCE --out {path}` again to finish it")
        pending = {shard.name for shard in (path / SHARDS_DIR).glob("*.parquet")} - set(report["shards"])
        if pending:
            warnings.warn(f"{path}: {len(pending)} recording(s) were embedded after the last merge (an interrupted "
                          f"`{COMMAND}`) and are not searched until `{COMMAND}` runs again", UserWarning, stacklevel=2)
        import datasets

        windows = datasets.load_from_disk(str(path / WINDOWS_DIR))
        windows.load_faiss_index(EMBEDDING, path / WINDOWS_DIR / FAISS_FILE)
        return cls(path, info, windows, model if model is not None else info["model"], device, report)

    def __len__(self) -> int:
        """The number of indexed windows (windows with no observed value are not indexed)."""
        return len(self.windows)

    def __repr__(self) -> str:
        return (f"SlipIndex({str(self.path)!r}, windows={len(self)}, recordings={self.report['recordings']}, "
                f"index_type={self.report['index_type']!r})")

    def pipeline(self, task: str) -> Any:
        """The index's model in the `task` pipeline, loaded on first use."""
        if task not in self._pipelines:
            from slip_sensor.recording_cli import load_pipeline

            self._pipelines[task] = load_pipeline(task, self.model, self.device)
        return self._pipelines[task]

    @property
    def source(self) -> Any:
        """The indexed archive, opened again (to read hit windows for captions and pictures)."""
        if self._source is None:
            self._source = open_source(**self.info["source"])
        return self._source

    # searching

    def embed_text(self, text: str) -> np.ndarray:
        """The text's embedding `[projection_dim]`, as the zero-shot pipeline embeds its hypotheses: the processor's
        tokens (ending with EOS by its `caption_eos` policy) through the model's `get_text_features`."""
        import torch

        if not isinstance(text, str) or not text.strip():
            raise UserError("the text query is empty; describe what to find, e.g. \"the heart rate rises\"")
        pipe = self.pipeline("sensor-feature-extraction")
        inputs = pipe.processor(text=[text], return_tensors="pt").to(pipe.device)
        with torch.inference_mode():
            return pipe.model.base_model.get_text_features(**inputs)[0].float().cpu().numpy()

    def embed_recording(self, recording: Any, sampling_rate: float | None = None) -> np.ndarray:
        """The embedding `[projection_dim]` of a recording (any input the pipelines take), cut into the index's
        windows and averaged over them (one window: exactly that window's embedding)."""
        pipe = self.pipeline("sensor-feature-extraction")
        try:
            result = pipe(recording, sampling_rate=sampling_rate, chunk_length_s=self.info["chunk_length_s"],
                          stride_length_s=self.info["stride_length_s"])
        except ValueError as error:  # no rate, not a recording
            raise UserError(f"the query recording: {error}") from None
        vector = np.asarray(result["sensor_embeds"], dtype=np.float32)
        if np.isnan(vector).any():
            raise UserError("the query recording has no observed value (all NaN): there is nothing to search for")
        return vector

    def search(self, query: Any, k: int = 10, captions: bool = False, sampling_rate: float | None = None,
               ) -> list[SearchHit]:
        """The `k` windows most similar to `query`, best first: a text (embedded as a zero-shot prompt) or a
        recording (`embed_recording`; `sampling_rate` for an array that states none). `captions` adds the model's
        caption of each hit window (reading it from its source again)."""
        vector = self.embed_text(query) if isinstance(query, str) else self.embed_recording(query, sampling_rate)
        return self._hits(vector, k, captions)

    def search_like(self, path: str | Path, start_s: float, k: int = 10, captions: bool = False) -> list[SearchHit]:
        """"More like this": the `k` windows most similar to the window of the recording file `path` that starts at
        `start_s` (the index's windowing; the window nearest to `start_s`), that window itself left out."""
        from slip_sensor.modeling_slip.windowing_slip import window_spans
        from slip_sensor.recording_cli import drawn_signal
        from slip_sensor.recordings import read_recording

        options = self.info["source"]
        rate_given = options.get("sampling_rate")
        signal = drawn_signal(read_recording(path, options.get("columns"), rate_given), rate_given)
        sensors, rate = signal["sensors"], signal["sampling_rate"]
        if rate is None:
            raise UserError(f"{path} states no sampling rate; index it with --sampling-rate")
        duration = sensors.shape[1] / rate
        if not 0 <= start_s < duration:
            raise UserError(f"--window {start_s:g} is outside {path} (0 to {duration:g} s)")
        stride = self.info["stride_length_s"]
        starts, chunk, _ = window_spans(sensors.shape[1], rate, self.info["chunk_length_s"], (stride, stride))
        start = int(starts[np.argmin(np.abs(starts / rate - start_s))])
        window = {"sensors": sensors[:, start : start + chunk], "sampling_rate": rate}
        vector = np.asarray(self.pipeline("sensor-feature-extraction")(window)["sensor_embeds"], dtype=np.float32)
        if np.isnan(vector).any():
            raise UserError(f"the window at {start / rate:g} s of {path} has no observed value: pick another")
        query_file, query_start = str(Path(path).resolve()), start / rate
        return self._hits(vector, k, captions, skip=lambda row: row["source"] == query_file and
                          math.isclose(row["start_s"], query_start, abs_tol=0.5 / rate))

    def _hits(self, vector: np.ndarray, k: int, captions: bool, skip=None) -> list[SearchHit]:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise UserError(f"k (--top-k) must be an integer >= 1, got {k!r}")
        if not len(self):
            return []
        fetch = min(k + (skip is not None), len(self))
        scores, rows = self.windows.search(EMBEDDING, np.ascontiguousarray(vector, dtype=np.float32), fetch)
        hits = []
        for score, row in zip(scores.tolist(), rows.tolist()):
            if row < 0:  # an approximate index found fewer than asked for
                continue
            values = self.windows[row]
            if skip is not None and skip(values):
                continue
            hits.append(SearchHit(rank=len(hits) + 1, score=float(score),
                                  **{key: values[key] for key in HIT_COLUMNS}))
        hits = hits[:k]
        if captions:
            self._caption(hits)
        return hits

    def hit_signal(self, hit: SearchHit) -> dict[str, Any]:
        """The recording of `hit`, read from its source again: `sensors` `[channels, time]`, `sampling_rate`,
        `channel_names` (as `recording_cli.drawn_signal`)."""
        from slip_sensor.recording_cli import drawn_signal

        signal = drawn_signal(self.source.read(hit.source), self.info["source"].get("sampling_rate"))
        if signal["sampling_rate"] is None:
            raise UserError(f"{hit.source} states no sampling rate: its windows cannot be found again")
        return signal

    def _caption(self, hits: list[SearchHit]) -> None:
        """Sets each hit's `caption`: the captioning pipeline on the hit's window alone (as `slip caption` captions
        each window)."""
        captioner = self.pipeline("sensor-captioning")
        for hit in hits:
            signal = self.hit_signal(hit)
            rate = signal["sampling_rate"]
            window = signal["sensors"][:, round(hit.start_s * rate) : round(hit.end_s * rate)]
            result = captioner({"sensors": window, "sampling_rate": rate}, max_new_tokens=CAPTION_TOKENS)
            hit.caption = result[0]["generated_text"].strip()

    def plot(self, hits: list[SearchHit], path: str | Path) -> Path:
        """Draws `hits` to the PNG `path`, one row each: the signal around the hit, the matched span highlighted, and
        a title with the rank, recording, score, span (and caption); returns `path`."""
        from .hits_plot import plot_hits

        if not hits:
            raise UserError("no hits to draw")
        return plot_hits([(hit, self.hit_signal(hit)) for hit in hits], self.info["chunk_length_s"], path)


def check_windowing(chunk_length_s: Any, stride_length_s: Any) -> tuple[float, float]:
    """The windowing as the pipelines check it, refused before anything is read or written: `(chunk_length_s,
    stride_length_s)` in seconds, an index's stride being one number, the same on both sides of a window (None: the
    pipelines' default, chunk_length_s / 6)."""
    from slip_sensor.modeling_slip.windowing_slip import window_params

    try:
        params = window_params(chunk_length_s, stride_length_s)
    except ValueError as error:
        raise UserError(str(error)) from None
    left, right = params["stride_length_s"]
    if left != right:
        raise UserError(f"an index's windows overlap by the same stride on both sides: give stride_length_s as one "
                        f"number of seconds, not {stride_length_s!r}")
    return params["chunk_length_s"], left


def _prepare(out: Path, settings: dict[str, Any] | None) -> None:
    """Creates and marks the index folder `out`, writes `index.json` when `settings` are given (a new index) and
    clears the shards folder of staged shards left by killed runs (main process only)."""
    from slip_sensor.recording_cli import output_folder

    output_folder(out, COMMAND)
    if settings is not None:
        write_atomically(out / INFO_FILE,
                         lambda staged: staged.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8"))
    (out / SHARDS_DIR).mkdir(exist_ok=True)
    remove_stale_temporaries(out / SHARDS_DIR, ".*.tmp-*")


def _read_info(path: Path) -> dict[str, Any]:
    """The `index.json` of the index at `path`; a `UserError` when `path` is no index of this format."""
    info = read_json(path / INFO_FILE) if path.is_dir() else None
    if info is None or info.get("format") != FORMAT_NAME:
        raise UserError(f"{path} is not a SLIP index (no {INFO_FILE}); build one with `{COMMAND} SOURCE --out {path}`")
    if info.get("version") != FORMAT_VERSION:
        raise UserError(f"{path} is a version {info.get('version')} index; this slip-sensor reads version "
                        f"{FORMAT_VERSION}: build it again with `{COMMAND}`")
    return info


def merge(out: Path, recordings: list[Recording], embedded: list[Recording], index_type: str, processes: int,
          skipped: list[dict[str, str]]) -> dict[str, Any]:
    """Merges the shards of `recordings` but the `skipped` ones (`recording_id`, `reason`: no shard) into
    `out/windows` (staged, then swapped in) with a FAISS index of the windows with data, deletes every other shard
    (recordings that changed or left the source) and returns the report written to `windows.json` (`embedded`: the
    recordings this run tried to embed, on `processes` processes). Each window's `source` is its recording's current
    locator: a reused shard may have been written when the recording was at another row of a dataset."""
    import datasets
    import faiss
    import pyarrow as pa

    from slip_sensor.output_folders import staged_folder

    shards = out / SHARDS_DIR
    skipped_ids = {skip["recording_id"] for skip in skipped}
    indexed = sorted((recording for recording in recordings if recording.id not in skipped_ids),
                     key=lambda recording: recording.id)
    names = [shard_name(recording) for recording in indexed]
    table = read_shards(shards, names)
    vectors = np.stack(table[EMBEDDING].to_numpy(zero_copy_only=False)).astype(np.float32)  # [windows, dim]
    observed = ~np.isnan(vectors).any(axis=1)
    recording_ids = table["recording_id"].to_numpy(zero_copy_only=False)
    locators = {recording.id: recording.locator for recording in indexed}
    table = table.set_column(SHARD_SCHEMA.get_field_index("source"), SHARD_SCHEMA.field("source"),
                             pa.array([locators[recording_id] for recording_id in recording_ids], pa.string()))
    previous = read_json(out / WINDOWS_DIR / WINDOWS_INFO) or {"shards": []}
    recording_part = lambda names: {name.split("-")[0] for name in names}  # noqa: E731 (a shard name's id hash)
    report = {
        "shards": names,
        "recordings": len(names),
        "windows": int(observed.sum()),
        "windows_without_data": int((~observed).sum()),
        "index_type": index_type,
        "skipped": sorted(skipped, key=lambda skip: skip["recording_id"]),  # no shard: tried again by the next run
        "last_run": {
            "embedded_recordings": len(embedded) - len(skipped),
            "embedded_windows": int(np.isin(recording_ids, [recording.id for recording in embedded]).sum()),
            "unchanged_recordings": len(recordings) - len(embedded),
            "removed_recordings": len(recording_part(previous["shards"]) - recording_part(names)),
            "processes": processes,
        },
    }
    bars_were_on = not datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # the command prints its own summary
    with staged_folder(out / WINDOWS_DIR) as staged:
        try:
            datasets.Dataset(table.filter(pa.array(observed))).save_to_disk(str(staged))
        finally:
            if bars_were_on:
                datasets.enable_progress_bars()
        faiss.write_index(build_faiss_index(vectors[observed], index_type), str(staged / FAISS_FILE))
        (staged / WINDOWS_INFO).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for shard in shards.glob("*.parquet"):
        if shard.name not in report["shards"]:  # of a recording that changed or left the source
            shard.unlink()
    return report


__all__ = ["SearchHit", "SlipIndex"]
