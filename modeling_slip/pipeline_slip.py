"""Pipelines for SLIP: sensor captioning, zero-shot sensor classification and sensor feature extraction.

Hub-shipped file, loaded with `trust_remote_code`: it imports only numpy, torch and transformers, and nothing of the
SLIP model. The pipelines receive the model and the processor as objects and use their public methods, so the same
file serves the pip package and the Hub folder.

An input is one recording: an array `[channels, time]` (numpy or torch; 1-D is one channel; nested lists as a
`datasets` list column holds them), a pandas DataFrame (columns = channels; a DatetimeIndex or a `time`/`timestamp`
column gives the sampling rate, and irregular timestamps are resampled to their median rate with a warning), a corpus
row as stored (`sensor` channels first, `sampling_rate`, `channel_names`, `patch_size`), or a dict with `sensors` (any
of these, or `{"acc_x": series, ...}` named channels), an optional `sampling_rate` (Hz), `patch_size`,
`channel_names` and, for captioning, `prompt`. Known channel names come back in the result as `channel_names`. A list
of inputs is a batch; with `batch_size=` the model runs on that many samples (or windows) at once.

Long recordings: with `chunk_length_s` (seconds) a recording is cut into overlapping windows, as transformers'
`AutomaticSpeechRecognitionPipeline` chunks audio: consecutive windows share `stride_length_s` on each side
(default `chunk_length_s / 6`; a pair `(left, right)` sets the sides apart), so a window starts every
`chunk_length_s - left - right` seconds until one reaches the end (the last may be shorter). Every window runs through
the model (in batches of `batch_size` windows, across recordings) exactly as if it were passed alone, and the result
holds `"chunks"`, one per window with its `"timestamp": (start_s, end_s)` (and `"start_time"`/`"end_time"`, ISO-8601
UTC, for a DataFrame with datetimes) and `observed_fraction`, plus a recording-level summary (see each pipeline).
Windows are strided views of the recording, materialised a batch at a time. Gaps stay masks inside windows; a window
with no observed value is reported with `observed_fraction` 0.0 and left out of the summary.

Missing data: NaN marks a missing value. Every result holds **observed_fraction**, the fraction of the values the
model sees (after any `max_patches` truncation) that are observed. An input with no observed value (all NaN) has
nothing to describe, so its result says so instead of guessing, and a `UserWarning` names how many inputs of the
batch are affected: its `sensor_embeds` are NaN (feature extraction), its `scores` are NaN with the labels in the
given order (zero-shot), and its `generated_text` is empty (captioning). The other inputs of its batch are unaffected.
"""

import itertools
import string
import warnings
from collections import deque
from collections.abc import Iterator, Sized
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from transformers import Pipeline
from transformers.pipelines.pt_utils import PipelineDataset, PipelineIterator

from .windowing_slip import (
    format_time,
    is_dataframe,
    iter_windows,
    read_recording,
    to_array,
    window_params,
    window_spans,
)

DEFAULT_HYPOTHESIS_TEMPLATE = "This sensor recording shows {}."
# How feature extraction joins the window embeddings of a windowed recording (None: it returns only the windows).
AGGREGATIONS = ("mean", None)


class SlipPipeline(Pipeline):
    """Input reading, preprocessing and batching shared by the SLIP pipelines.

    Only the processor is loaded: the tokenizer and the feature extractor come from it.
    """

    _load_processor = True
    _load_tokenizer = False
    _load_feature_extractor = False
    _load_image_processor = False
    _load_video_processor = False

    # Keys a dict input may hold; "sensors" is required.
    _input_keys: tuple[str, ...] = ("sensors", "sampling_rate", "patch_size")
    # What the result of an input with no observed value holds, for the warning.
    _missing_result: str = ""
    # Call parameters of a windowed call, set aside by `get_iterator` (they are not per-input keys).
    _window_keys: tuple[str, ...] = ("chunk_length_s", "stride_length_s")

    def _read_input(self, inputs: Any, **defaults: Any) -> dict[str, Any]:
        """One pipeline input (any form `read_recording` takes) → `{"sensors": array, "sampling_rate": ...,
        "channel_names": ..., ...}` with every key of `_input_keys`; call-level `defaults` fill in what the input
        leaves out (`None` where neither gives a value)."""
        defaults = {**dict.fromkeys((*self._input_keys[1:], "channel_names", "start_time")), **defaults}
        sample = {**defaults, **read_recording(inputs, self._input_keys[1:])}
        sensors = sample["sensors"]
        if not isinstance(sensors, (np.ndarray, torch.Tensor)) or sensors.ndim not in (1, 2):
            found = f"shape {tuple(sensors.shape)}" if hasattr(sensors, "shape") else type(sensors).__name__
            raise ValueError(
                "Each input must be one sample: a numpy array or torch tensor of shape [time] or [channels, time], a "
                f"DataFrame, or a dict holding one under `sensors`; got {found}. Pass a list of samples for a batch."
            )
        names = sample["channel_names"]
        channels = 1 if sensors.ndim == 1 else sensors.shape[0]
        if names is not None:
            sample["channel_names"] = [str(name) for name in names]  # also from arrays (the numpy format)
            if len(names) != channels:
                raise ValueError(f"Got {len(names)} channel_names {sample['channel_names']} for {channels} channels")
        return sample

    def _text_inputs(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        """Processor keyword arguments for the texts of a batch of read inputs (none by default)."""
        return {}

    @staticmethod
    def _sensor_params(
        sampling_rate: float | None,
        patch_size: int | None,
        chunk_length_s: float | None = None,
        stride_length_s: float | tuple[float, float] | None = None,
    ) -> dict[str, Any]:
        """Preprocess parameters shared by the SLIP pipelines: call-level defaults for the dict input keys, and the
        checked windowing (`chunk_length_s`, `stride_length_s`), which `get_iterator` takes out of them."""
        params = {"sampling_rate": sampling_rate, "patch_size": patch_size}
        params = {key: value for key, value in params.items() if value is not None}
        if chunk_length_s is not None:
            params.update(window_params(chunk_length_s, stride_length_s))
        elif stride_length_s is not None:
            raise ValueError("stride_length_s needs chunk_length_s: it sets the overlap of the windows")
        return params

    def _model_inputs(self, samples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """Runs the processor once over a batch of inputs read by `_read_input`; floating tensors take the model's
        dtype. The processor pads the batch, so a batch of any shapes is one call. Adds `observed_fraction` `[B]`."""
        features = self.processor(
            sensors=[sample["sensors"] for sample in samples],
            sampling_rate=[sample["sampling_rate"] for sample in samples],
            patch_size=[sample["patch_size"] for sample in samples],
            return_tensors="pt",
            **self._text_inputs(samples),
        )
        # Real (kept) points are the ones with a time index > 0; padding has time 0.
        real_points = (features["sensor_time"] > 0).flatten(1).sum(-1)
        observed_fraction = features["sensor_mask"].flatten(1).sum(-1) / real_points
        model_inputs = {
            key: value.to(self.model.dtype) if value.is_floating_point() else value for key, value in features.items()
        }
        # Object array [B, 1]: the pipeline iterator unrolls it to [1, 1] per sample, like the tensors.
        channel_names = np.empty((len(samples), 1), dtype=object)
        for row, sample in enumerate(samples):  # one by one: equal-length name lists would broadcast as a 2-D block
            channel_names[row, 0] = sample["channel_names"]
        return {**model_inputs, "observed_fraction": observed_fraction, "channel_names": channel_names}

    def _forward(
        self, model_inputs: dict[str, torch.Tensor], warn_missing: bool = True, **params: Any
    ) -> dict[str, torch.Tensor]:
        observed_fraction = model_inputs.pop("observed_fraction")
        channel_names = model_inputs.pop("channel_names")
        missing = int((observed_fraction == 0).sum())
        if missing and warn_missing:  # windows report their gaps per recording instead (`_windowed_iterator`)
            warnings.warn(
                f"{missing} of {len(observed_fraction)} inputs have no observed value (all NaN): their results hold "
                f"{self._missing_result} and observed_fraction 0.0",
                UserWarning,
                stacklevel=2,
            )
        outputs = self._run_model(model_inputs, **params)
        return {**outputs, "observed_fraction": observed_fraction, "channel_names": channel_names}

    def _run_model(self, model_inputs: dict[str, torch.Tensor], **params: Any) -> dict[str, torch.Tensor]:
        """The model call of the pipeline on the processor's outputs."""
        raise NotImplementedError

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        if kwargs.get("chunk_length_s") is not None and not isinstance(inputs, list) and _is_one_input(inputs):
            # One recording is many windows: it runs through `get_iterator`, which batches them.
            return super().__call__([inputs], **kwargs)[0]
        return super().__call__(inputs, **kwargs)

    def preprocess(self, inputs: Any, **params: Any) -> dict[str, torch.Tensor]:
        return self._model_inputs([self._read_input(inputs, **params)])

    def _shape_key(self, sample: dict[str, Any]) -> tuple[int, int, int]:
        """The feature extractor's `shape_key` of a read input, computed without processing it."""
        sensors = sample["sensors"]
        channels, length = (1, sensors.shape[0]) if sensors.ndim == 1 else tuple(sensors.shape)
        return self.feature_extractor.shape_key(
            channels, length, sampling_rate=sample["sampling_rate"], patch_size=sample["patch_size"]
        )

    def get_iterator(
        self, inputs, num_workers: int, batch_size: int, preprocess_params, forward_params, postprocess_params
    ):
        windowing = {key: preprocess_params[key] for key in self._window_keys if key in preprocess_params}
        if "chunk_length_s" in windowing:
            preprocess_params = {key: value for key, value in preprocess_params.items() if key not in windowing}
            return self._windowed_iterator(
                inputs, batch_size, windowing, preprocess_params, forward_params, postprocess_params
            )
        if isinstance(inputs, list) and batch_size > 1:
            # Padding a batch to its largest sample costs more than batching saves, so a list runs grouped by the
            # shape the processor gives each sample (as `group_by_length` does in training); outputs keep the input
            # order.
            keys = [self._shape_key(self._read_input(item, **preprocess_params)) for item in inputs]
            order = sorted(range(len(inputs)), key=keys.__getitem__)
            grouped = self._batch_iterator(
                [inputs[index] for index in order],
                num_workers,
                batch_size,
                preprocess_params,
                forward_params,
                postprocess_params,
            )
            outputs = [None] * len(inputs)
            for index, output in zip(order, grouped):
                outputs[index] = output
            return iter(outputs)
        return self._batch_iterator(
            inputs, num_workers, batch_size, preprocess_params, forward_params, postprocess_params
        )

    def _windowed_iterator(
        self, inputs, batch_size: int, windowing, preprocess_params, forward_params, postprocess_params
    ) -> Iterator[dict[str, Any]]:
        """One result per recording, in input order: each recording is cut into overlapping windows
        (`window_spans`), and the windows of all recordings run in batches of `batch_size`. A window is a view of
        its recording until its batch goes through the processor, so memory grows with the batch, not with the
        recording."""
        recordings: deque[tuple[dict[str, Any], list, list]] = deque()  # (recording, spans, results) not yet returned

        def windows() -> Iterator[tuple[list, dict[str, Any]]]:
            for number, item in enumerate(inputs):
                recording = self._read_input(item, **preprocess_params)
                rate = recording["sampling_rate"]
                if rate is None:
                    raise ValueError(
                        f"Input {number}: chunk_length_s needs the sampling rate, to turn seconds into samples; pass "
                        "sampling_rate= or give it with the input (a dict's `sampling_rate`, a DataFrame's time index "
                        "or `time` column)"
                    )
                sensors = to_array(recording["sensors"], f"input {number}")
                sensors = sensors[None] if sensors.ndim == 1 else sensors
                starts, chunk, step = window_spans(
                    sensors.shape[-1], rate, windowing["chunk_length_s"], windowing["stride_length_s"]
                )
                ends = np.minimum(starts + chunk, sensors.shape[-1])
                results = []
                recordings.append((recording, list(zip((starts / rate).tolist(), (ends / rate).tolist())), results))
                # Windows keep their recording's settings but not its names: those go once into the result.
                settings = {**recording, "channel_names": None, "start_time": None}
                for window in iter_windows(sensors, chunk, step, len(starts)):
                    yield results, {**settings, "sensors": window}

        stream = windows()
        while batch := list(itertools.islice(stream, batch_size)):
            outputs = self.forward(
                self._model_inputs([sample for _, sample in batch]), warn_missing=False, **forward_params
            )
            for row, (results, _) in enumerate(batch):
                window_outputs = {key: value[row : row + 1] for key, value in outputs.items()}
                results.append(self._window_result(self.postprocess(window_outputs, **postprocess_params)))
            while recordings and len(recordings[0][2]) == len(recordings[0][1]):
                yield self._recording_result(*recordings.popleft(), windowing, postprocess_params)

    def _recording_result(
        self, recording: dict[str, Any], spans: list, results: list, windowing, postprocess_params
    ) -> dict[str, Any]:
        """The windows' results with their time spans (seconds from the recording's start, and as absolute times
        when the recording has a `start_time`), joined by `_aggregate`."""
        chunks = []
        for span, result in zip(spans, results):
            chunk = {"timestamp": span}
            if recording["start_time"] is not None:
                chunk["start_time"], chunk["end_time"] = (
                    str(recording["start_time"] + np.timedelta64(round(seconds * 1e9), "ns")) for seconds in span
                )
            chunks.append({**chunk, **result})
        if not any(chunk["observed_fraction"] for chunk in chunks):
            warnings.warn(
                f"A recording has no observed value (all NaN) in any of its {len(chunks)} windows: its result holds "
                f"{self._missing_result}, and every window observed_fraction 0.0",
                UserWarning,
                stacklevel=3,
            )
        result = self._aggregate(chunks, **windowing, **postprocess_params)
        if recording["channel_names"] is not None:
            result["channel_names"] = recording["channel_names"]
        return result

    @staticmethod
    def _with_names(result: dict[str, Any], model_outputs: dict[str, Any]) -> dict[str, Any]:
        """`result` with the input's `channel_names`, when it has them."""
        names = model_outputs["channel_names"][0, 0]
        return result if names is None else {**result, "channel_names": names}

    def _window_result(self, result: Any) -> dict[str, Any]:
        """One window's `postprocess` result as the fields of its chunk."""
        return result

    def _aggregate(self, chunks: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
        """The result of a windowed recording from its `chunks` (each `{"timestamp": (start_s, end_s), ...}`)."""
        raise NotImplementedError

    def _batch_iterator(
        self, inputs, num_workers: int, batch_size: int, preprocess_params, forward_params, postprocess_params
    ):
        # `Pipeline.get_iterator` with one difference: the inputs of a batch are read one by one but go through the
        # processor in one call (`_model_inputs`), which pads them, instead of being processed one by one and joined
        # by the generic padding collator, which knows 2-D token tensors only, not 4-D sensor patches.
        if isinstance(inputs, Sized):
            dataset = PipelineDataset(inputs, self._read_input, preprocess_params)
        else:
            dataset = PipelineIterator(inputs, self._read_input, preprocess_params)
            num_workers = min(num_workers, 1)  # several workers would each replay the iterator
        dataloader = DataLoader(dataset, num_workers=num_workers, batch_size=batch_size, collate_fn=self._model_inputs)
        model_iterator = PipelineIterator(dataloader, self.forward, forward_params, loader_batch_size=batch_size)
        return PipelineIterator(model_iterator, self.postprocess, postprocess_params)


class SensorCaptioningPipeline(SlipPipeline):
    """
    Captions sensor recordings, or continues a text prompt about them, with a SLIP captioning model
    (`SlipForConditionalGeneration`, loaded by `AutoModelForCausalLM`).

    Example:

    ```python
    >>> import numpy as np
    >>> from transformers import pipeline

    >>> captioner = pipeline("sensor-captioning", model="path/or/repo", trust_remote_code=True)
    >>> captioner(np.random.randn(3, 500), sampling_rate=50.0, max_new_tokens=32)
    [{'generated_text': '...'}]
    >>> captioner([{"sensors": x, "sampling_rate": 50.0, "prompt": "The heart rate"} for x in samples], batch_size=8)
    [[{'generated_text': '...'}], ...]
    ```
    """

    _input_keys = ("sensors", "sampling_rate", "patch_size", "prompt")
    _missing_result = "an empty generated_text (no caption without data)"

    def __call__(self, inputs: Any, **kwargs: Any) -> list[dict[str, Any]] | list[list[dict[str, Any]]]:
        """
        Generates text for one sample or a list of samples.

        Args:
            inputs (`np.ndarray`, `torch.Tensor`, `dict` or a `list` of them):
                One sample `[channels, time]` (1-D = one channel), or a dict with `sensors`, optional `sampling_rate`,
                optional `patch_size` and optional `prompt`; a list is a batch.
            sampling_rate (`float`, *optional*):
                Sampling rate in Hz for inputs that do not give their own (chooses the patch size).
            patch_size (`int`, *optional*):
                Patch size for inputs that do not give their own, instead of the automatic rule (e.g. a larger one to
                keep a long series whole rather than truncated to `max_patches` patches).
            prompt (`str`, *optional*):
                Text the generation continues, for inputs that do not give their own. Without one, decoding starts
                from BOS.
            chunk_length_s (`float`, *optional*):
                Caption the recording window by window, windows of this many seconds (needs a sampling rate).
            stride_length_s (`float` or `tuple[float, float]`, *optional*, defaults to `chunk_length_s / 6`):
                Seconds each window shares with its neighbour on each side (`(left, right)` to set them apart).
            generate_kwargs (`dict`, *optional*):
                Passed to `generate`, as is every other keyword argument (`max_new_tokens`, `num_beams`, `do_sample`,
                `num_return_sequences`, ...).

        Return:
            Per input, a list with one `{"generated_text": str, "observed_fraction": float}` per returned sequence
            (and `channel_names` when known). The text holds only the newly generated tokens, never the prompt; it is
            empty for an input with no observed value. With `chunk_length_s`, per input one `{"generated_text":
            str, "chunks": [{"timestamp": (start_s, end_s), "generated_text": str, "observed_fraction": float}, ...]}`
            whose text joins the captions of the windows with data, one line each prefixed by its time span
            (`"[0:00:00–0:00:10] ..."`); a window with no observed value has an empty caption and no line.
        """
        return super().__call__(inputs, **kwargs)

    def _sanitize_parameters(
        self,
        sampling_rate: float | None = None,
        patch_size: int | None = None,
        prompt: str | None = None,
        generate_kwargs: dict[str, Any] | None = None,
        chunk_length_s: float | None = None,
        stride_length_s: float | tuple[float, float] | None = None,
        **kwargs: Any,
    ):
        preprocess_params = self._sensor_params(sampling_rate, patch_size, chunk_length_s, stride_length_s)
        if prompt is not None:
            preprocess_params["prompt"] = prompt
        forward_params = {**(generate_kwargs or {}), **kwargs}
        if chunk_length_s is not None and forward_params.get("num_return_sequences", 1) != 1:
            raise ValueError("With chunk_length_s each window gets one caption: num_return_sequences must be 1")
        return preprocess_params, forward_params, {}

    def _text_inputs(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        # A prompt is continued by generation: no EOS. Without one, decoding starts from the BOS the tokenizer puts
        # before the empty text, so prompted and unprompted inputs share a batch.
        return {"text": [sample["prompt"] or "" for sample in samples], "append_eos": False}

    def _run_model(self, model_inputs: dict[str, torch.Tensor], **generate_kwargs: Any) -> dict[str, torch.Tensor]:
        batch_size, prompt_length = model_inputs["input_ids"].shape
        output = self.model.generate(**model_inputs, **generate_kwargs)
        sequences = output if isinstance(output, torch.Tensor) else output.sequences
        new_tokens = sequences[:, prompt_length:]
        # [B * num_return_sequences, T] → [B, num_return_sequences, T], so that the batch unrolls per input
        return {"generated_ids": new_tokens.reshape(batch_size, -1, new_tokens.shape[-1])}

    def postprocess(self, model_outputs: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
        observed_fraction = model_outputs["observed_fraction"][0].item()
        texts = self.tokenizer.batch_decode(model_outputs["generated_ids"][0], skip_special_tokens=True)
        return [
            self._with_names(
                {"generated_text": text if observed_fraction else "", "observed_fraction": observed_fraction},
                model_outputs,
            )
            for text in texts
        ]

    def _window_result(self, result: list[dict[str, Any]]) -> dict[str, Any]:
        return result[0]

    def _aggregate(self, chunks: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
        # Windows without data have no caption to show.
        text = "\n".join(
            f"[{format_time(chunk['timestamp'][0])}–{format_time(chunk['timestamp'][1])}] {chunk['generated_text']}"
            for chunk in chunks
            if chunk["observed_fraction"]
        )
        return {"generated_text": text, "chunks": chunks}


class ZeroShotSensorClassificationPipeline(SlipPipeline):
    """
    Zero-shot classification of sensor recordings with a SLIP contrastive model (`SlipModel`, loaded by
    `AutoModel`): each candidate label is written into `hypothesis_template`, embedded by the text tower, and scored
    by the softmax over `logit_scale * cosine(sensor, text)`.

    With `multi_label=True` each label is scored on its own, as transformers' NLI zero-shot pipeline scores
    entailment per label: the score is `(1 + cosine(sensor, text)) / 2`, the raw similarity in [0, 1]. A contrastive
    model has no calibrated "no" for one label (a softmax against a negated hypothesis such as "not walking" only
    measures how the text tower reads "not"), so these scores rank labels for one recording and compare recordings
    for one label; a threshold on them needs calibrating on labelled data.

    Example:

    ```python
    >>> classifier = pipeline("zero-shot-sensor-classification", model="path/or/repo", trust_remote_code=True)
    >>> classifier(x, sampling_rate=50.0, candidate_labels=["walking", "running", "sitting"])
    {'labels': ['running', 'walking', 'sitting'], 'scores': [0.71, 0.2, 0.09], 'observed_fraction': 1.0}
    ```
    """

    _missing_result = "NaN scores with the labels in the given order"
    _window_keys = (*SlipPipeline._window_keys, "top_k")

    def __call__(
        self, inputs: Any, candidate_labels: list[str] | None = None, **kwargs: Any
    ) -> dict[str, list] | list[dict[str, list]]:
        """
        Scores candidate labels for one sample or a list of samples.

        Args:
            inputs (`np.ndarray`, `torch.Tensor`, `dict` or a `list` of them):
                One sample `[channels, time]`, or a dict with `sensors`, optional `sampling_rate` and optional
                `patch_size`; a list is a batch.
            candidate_labels (`list[str]` or `str`):
                The labels to score; a string is split at commas, as transformers' zero-shot pipeline splits it
                (`"walking, running"` is two labels; blank entries are dropped).
            hypothesis_template (`str`, *optional*, defaults to `"This sensor recording shows {}."`):
                Turns a label into the text that is embedded, through its one `{}` placeholder; pass `"{}"` for labels
                that are already sentences. A template without exactly one `{}` raises a `ValueError`.
            sampling_rate (`float`, *optional*):
                Sampling rate in Hz for inputs that do not give their own.
            patch_size (`int`, *optional*):
                Patch size for inputs that do not give their own, instead of the automatic rule.
            chunk_length_s (`float`, *optional*):
                Classify the recording window by window, windows of this many seconds (needs a sampling rate).
            stride_length_s (`float` or `tuple[float, float]`, *optional*, defaults to `chunk_length_s / 6`):
                Seconds each window shares with its neighbour on each side.
            multi_label (`bool`, *optional*, defaults to `False`):
                Score every label on its own (`(1 + cosine) / 2`, see the class docstring) instead of a softmax over
                the labels.
            top_k (`int`, *optional*):
                Return only the `top_k` best labels (all by default). With `chunk_length_s` the windows keep every
                label, so that the recording's scores average all of them, and `top_k` cuts the recording's list.

        Return:
            Per input, `{"labels": [...], "scores": [...], "observed_fraction": float}` sorted by descending score;
            the scores sum to 1 (unless `multi_label` or `top_k`). An input with no observed value gets NaN scores and
            the labels in the given order. With `chunk_length_s`, `{"labels", "scores", "chunks": [{"timestamp":
            (start_s, end_s), "labels", "scores", "observed_fraction"}, ...]}`, where the top-level scores are the mean
            of the windows' scores over the windows with observed data, sorted descending.
        """
        if candidate_labels is not None:
            kwargs["candidate_labels"] = candidate_labels
        return super().__call__(inputs, **kwargs)

    def _sanitize_parameters(
        self,
        sampling_rate: float | None = None,
        patch_size: int | None = None,
        candidate_labels: str | list[str] | None = None,
        hypothesis_template: str | None = None,
        chunk_length_s: float | None = None,
        stride_length_s: float | tuple[float, float] | None = None,
        multi_label: bool | None = None,
        top_k: int | None = None,
    ):
        preprocess_params = self._sensor_params(sampling_rate, patch_size, chunk_length_s, stride_length_s)
        forward_params, postprocess_params = {}, {}
        if candidate_labels is not None:
            if isinstance(candidate_labels, str):
                candidate_labels = [label.strip() for label in candidate_labels.split(",") if label.strip()]
            labels = list(candidate_labels)
            if not labels or not all(isinstance(label, str) for label in labels):
                raise ValueError(f"candidate_labels must be a non-empty list of strings, got {candidate_labels!r}")
            forward_params["candidate_labels"] = postprocess_params["candidate_labels"] = labels
        if hypothesis_template is not None:
            forward_params["hypothesis_template"] = _check_hypothesis_template(hypothesis_template)
        if multi_label is not None:
            postprocess_params["multi_label"] = bool(multi_label)
        if top_k is not None:
            _top_k_params(top_k, chunk_length_s, preprocess_params, postprocess_params)
        return preprocess_params, forward_params, postprocess_params

    def _run_model(
        self,
        model_inputs: dict[str, torch.Tensor],
        candidate_labels: list[str] | None = None,
        hypothesis_template: str = DEFAULT_HYPOTHESIS_TEMPLATE,
    ) -> dict[str, torch.Tensor]:
        if candidate_labels is None:
            raise ValueError("zero-shot-sensor-classification needs `candidate_labels`")
        # `base_model` is the two-tower model for `SlipModel` itself and for the captioning model that holds one.
        contrastive = self.model.base_model
        texts = [hypothesis_template.format(label) for label in candidate_labels]
        text_inputs = self.processor(text=texts, return_tensors="pt").to(self.device)
        sensor_embeds = contrastive.get_sensor_features(**model_inputs)
        text_embeds = contrastive.get_text_features(**text_inputs)
        logits = contrastive.contrastive_logits(sensor_embeds, text_embeds).T
        return {"logits": logits, "cosine": logits / contrastive.scale()}

    def postprocess(
        self,
        model_outputs: dict[str, torch.Tensor],
        candidate_labels: list[str],
        multi_label: bool = False,
        top_k: int | None = None,
    ) -> dict[str, Any]:
        observed_fraction = model_outputs["observed_fraction"][0].item()
        if multi_label:
            scores = (1 + model_outputs["cosine"][0].float()) / 2
        else:
            scores = model_outputs["logits"][0].float().softmax(-1)
        return self._with_names(
            {
                **_ranked(candidate_labels, scores if observed_fraction else None, top_k),
                "observed_fraction": observed_fraction,
            },
            model_outputs,
        )

    def _aggregate(
        self, chunks: list[dict[str, Any]], candidate_labels: list[str], top_k: int | None = None, **params
    ) -> dict[str, Any]:
        return {**_mean_ranked(chunks, candidate_labels, top_k), "chunks": chunks}


class SensorFeatureExtractionPipeline(SlipPipeline):
    """
    Embeds sensor recordings with a SLIP model (`SlipModel`, loaded by `AutoModel`): the L2-normalised contrastive
    sensor embedding, and optionally the encoder's token states.

    Example:

    ```python
    >>> extractor = pipeline("sensor-feature-extraction", model="path/or/repo", trust_remote_code=True)
    >>> extractor(x, sampling_rate=50.0)["sensor_embeds"]  # projection_dim floats
    >>> extractor(x, sampling_rate=50.0, return_tokens=True, return_tensors=True)["token_states"].shape
    torch.Size([channels, patches, hidden_size])
    ```
    """

    _missing_result = "NaN sensor_embeds"
    _window_keys = (*SlipPipeline._window_keys, "aggregation")

    def __call__(self, inputs: Any, **kwargs: Any) -> dict[str, Any] | list[dict[str, Any]]:
        """
        Embeds one sample or a list of samples.

        Args:
            inputs (`np.ndarray`, `torch.Tensor`, `dict` or a `list` of them):
                One sample `[channels, time]`, or a dict with `sensors`, optional `sampling_rate` and optional
                `patch_size`; a list is a batch.
            sampling_rate (`float`, *optional*):
                Sampling rate in Hz for inputs that do not give their own.
            patch_size (`int`, *optional*):
                Patch size for inputs that do not give their own, instead of the automatic rule.
            return_tokens (`bool`, *optional*, defaults to `False`):
                Also return the encoder's token states and their observed-patch mask.
            return_tensors (`bool`, *optional*, defaults to `False`):
                Return torch tensors instead of (nested) lists.
            chunk_length_s (`float`, *optional*):
                Embed the recording window by window, windows of this many seconds (needs a sampling rate).
            stride_length_s (`float` or `tuple[float, float]`, *optional*, defaults to `chunk_length_s / 6`):
                Seconds each window shares with its neighbour on each side.
            aggregation (`str` or `None`, *optional*, defaults to `"mean"`):
                With `chunk_length_s`: `"mean"` adds the recording's `sensor_embeds`, the mean of the window
                embeddings over the windows with observed data, L2-normalised again; `None` returns only the chunks.

        Return:
            Per input, a dict with **sensor_embeds** (`[projection_dim]`, NaN for an input with no observed value),
            **observed_fraction** (`float`) and, with `return_tokens`, **token_states** (`[channels, patches,
            hidden_size]`, the sample's own channels and patches, batch padding removed) and **token_mask**
            (`[channels, patches]`, True where the patch holds an observed value). With `chunk_length_s`:
            `{"sensor_embeds": [projection_dim], "chunks": [{"timestamp": (start_s, end_s), "sensor_embeds",
            "observed_fraction"}, ...]}` (only `"chunks"` with `aggregation=None`).
        """
        return super().__call__(inputs, **kwargs)

    def _sanitize_parameters(
        self,
        sampling_rate: float | None = None,
        patch_size: int | None = None,
        return_tokens: bool | None = None,
        return_tensors: bool | None = None,
        chunk_length_s: float | None = None,
        stride_length_s: float | tuple[float, float] | None = None,
        aggregation: str | None = "mean",
    ):
        preprocess_params = self._sensor_params(sampling_rate, patch_size, chunk_length_s, stride_length_s)
        forward_params, postprocess_params = {}, {}
        if aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {aggregation!r}")
        if chunk_length_s is not None:
            preprocess_params["aggregation"] = aggregation
        if return_tokens is not None:
            forward_params["return_tokens"] = postprocess_params["return_tokens"] = return_tokens
        if return_tensors is not None:
            postprocess_params["return_tensors"] = return_tensors
        return preprocess_params, forward_params, postprocess_params

    def _model_inputs(self, samples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        features = super()._model_inputs(samples)
        # Each sample's own channel and patch counts, to cut its token states out of the padded batch.
        shapes = [self._shape_key(sample) for sample in samples]
        features["num_channels"] = torch.tensor([channels for channels, _, _ in shapes])
        features["num_patches"] = torch.tensor([patches for _, patches, _ in shapes])
        return features

    def _run_model(self, model_inputs: dict[str, torch.Tensor], return_tokens: bool = False) -> dict[str, torch.Tensor]:
        sizes = {key: model_inputs.pop(key) for key in ("num_channels", "num_patches")}
        contrastive = self.model.base_model
        sensor_outputs = contrastive.sensor_model(**model_inputs)
        sensor_embeds = contrastive.sensor_embedding(sensor_outputs.pooler_output, sensor_outputs.sample_mask)
        outputs = {"sensor_embeds": sensor_embeds}
        if return_tokens:
            batch_size, channels, patches = sensor_outputs.patch_mask.shape
            outputs["token_states"] = sensor_outputs.last_hidden_state.reshape(batch_size, channels, patches, -1)
            outputs["token_mask"] = sensor_outputs.patch_mask
            outputs.update(sizes)
        return outputs

    def postprocess(
        self, model_outputs: dict[str, torch.Tensor], return_tokens: bool = False, return_tensors: bool = False
    ) -> dict[str, Any]:
        result = {"sensor_embeds": model_outputs["sensor_embeds"][0]}
        if return_tokens:
            channels, patches = int(model_outputs["num_channels"][0]), int(model_outputs["num_patches"][0])
            result["token_states"] = model_outputs["token_states"][0, :channels, -patches:]
            result["token_mask"] = model_outputs["token_mask"][0, :channels, -patches:]
        if not return_tensors:
            result = {key: value.tolist() for key, value in result.items()}
        return self._with_names(
            {**result, "observed_fraction": model_outputs["observed_fraction"][0].item()}, model_outputs
        )

    def _aggregate(
        self, chunks: list[dict[str, Any]], aggregation: str | None, return_tensors: bool = False, **params: Any
    ) -> dict[str, Any]:
        if aggregation is None:
            return {"chunks": chunks}
        # Windows without data have NaN embeddings; a recording without any keeps NaN.
        used = [chunk for chunk in chunks if chunk["observed_fraction"]] or chunks
        embeds = torch.stack([torch.as_tensor(chunk["sensor_embeds"]) for chunk in used]).mean(0)
        embeds = torch.nn.functional.normalize(embeds, dim=-1)
        return {"sensor_embeds": embeds if return_tensors else embeds.tolist(), "chunks": chunks}


class SensorClassificationPipeline(SlipPipeline):
    """
    Classifies sensor recordings with a fine-tuned SLIP classifier (`SlipForSensorClassification`, loaded by
    `AutoModelForSensorClassification`) into the labels of its config's `id2label`.

    Example:

    ```python
    >>> classifier = pipeline("sensor-classification", model="path/to/fine-tuned")
    >>> classifier(x, sampling_rate=10.0, top_k=2)
    {'labels': ['walking', 'running'], 'scores': [0.93, 0.05], 'observed_fraction': 1.0}
    ```
    """

    _missing_result = "NaN scores with the labels in the model's order"
    _window_keys = (*SlipPipeline._window_keys, "top_k")

    def __call__(self, inputs: Any, **kwargs: Any) -> dict[str, list] | list[dict[str, list]]:
        """
        Classifies one sample or a list of samples.

        Args:
            inputs (`np.ndarray`, `torch.Tensor`, `dict` or a `list` of them):
                One sample `[channels, time]`, or a dict with `sensors`, optional `sampling_rate` and optional
                `patch_size`; a list is a batch.
            top_k (`int`, *optional*, defaults to all labels):
                How many of the best labels to return.
            sampling_rate (`float`, *optional*):
                Sampling rate in Hz for inputs that do not give their own.
            patch_size (`int`, *optional*):
                Patch size for inputs that do not give their own, instead of the automatic rule.
            chunk_length_s (`float`, *optional*):
                Classify the recording window by window, windows of this many seconds (needs a sampling rate).
            stride_length_s (`float` or `tuple[float, float]`, *optional*, defaults to `chunk_length_s / 6`):
                Seconds each window shares with its neighbour on each side.

        Return:
            Per input, `{"labels": [...], "scores": [...], "observed_fraction": float}` sorted by descending score:
            softmax probabilities (sigmoid ones for a `multi_label_classification` model). An input with no observed
            value gets NaN scores and the labels in the model's order. With `chunk_length_s`, `{"labels", "scores",
            "chunks": [{"timestamp": (start_s, end_s), "labels", "scores", "observed_fraction"}, ...]}`, where the
            top-level scores are the mean of the windows' probabilities over the windows with observed data.
        """
        return super().__call__(inputs, **kwargs)

    def _sanitize_parameters(
        self,
        sampling_rate: float | None = None,
        patch_size: int | None = None,
        top_k: int | None = None,
        chunk_length_s: float | None = None,
        stride_length_s: float | tuple[float, float] | None = None,
    ):
        preprocess_params = self._sensor_params(sampling_rate, patch_size, chunk_length_s, stride_length_s)
        postprocess_params = {}
        if top_k is not None:
            _top_k_params(top_k, chunk_length_s, preprocess_params, postprocess_params)
        return preprocess_params, {}, postprocess_params

    @property
    def _labels(self) -> list[str]:
        return [self.model.config.id2label[index] for index in range(self.model.config.num_labels)]

    def _run_model(self, model_inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"logits": self.model(**model_inputs).logits}

    def postprocess(self, model_outputs: dict[str, torch.Tensor], top_k: int | None = None) -> dict[str, Any]:
        observed_fraction = model_outputs["observed_fraction"][0].item()
        logits = model_outputs["logits"][0].float()
        multi_label = self.model.config.problem_type == "multi_label_classification"
        scores = logits.sigmoid() if multi_label else logits.softmax(-1)
        ranked = _ranked(self._labels, scores if observed_fraction else None, top_k)
        return self._with_names({**ranked, "observed_fraction": observed_fraction}, model_outputs)

    def _aggregate(self, chunks: list[dict[str, Any]], top_k: int | None = None, **params: Any) -> dict[str, Any]:
        return {**_mean_ranked(chunks, self._labels, top_k), "chunks": chunks}


def _ranked(candidate_labels: list[str], scores: torch.Tensor | None, top_k: int | None = None) -> dict[str, list]:
    """The first `top_k` (default: all) labels and their scores `[num_labels]` by descending score (ties keep the
    given order); without scores (no observed data) there is no ranking: the labels in the given order with NaN
    scores."""
    if scores is None:
        return {"labels": list(candidate_labels)[:top_k], "scores": [float("nan")] * len(candidate_labels[:top_k])}
    order = torch.argsort(scores, descending=True, stable=True)[:top_k]
    return {"labels": [candidate_labels[index] for index in order.tolist()], "scores": scores[order].tolist()}


def _mean_ranked(chunks: list[dict[str, Any]], labels: list[str], top_k: int | None) -> dict[str, list]:
    """`_ranked` of the windows' scores averaged over the windows that hold data (each window ranks every label)."""
    observed = [dict(zip(chunk["labels"], chunk["scores"])) for chunk in chunks if chunk["observed_fraction"]]
    mean = torch.tensor([[scores[label] for label in labels] for scores in observed]).mean(0)
    return _ranked(labels, mean if observed else None, top_k)


def _top_k_params(top_k: Any, chunk_length_s: float | None, preprocess_params: dict, postprocess_params: dict) -> None:
    """Checks `top_k` and routes it: to a recording's aggregate when windowing (the windows rank every label, so that
    the recording's mean covers them all), else to each result."""
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k must be an integer >= 1, got {top_k!r}")
    (preprocess_params if chunk_length_s is not None else postprocess_params)["top_k"] = top_k


def _is_one_input(inputs: Any) -> bool:
    """Whether a call's input is one recording (not a dataset or generator of them)."""
    return isinstance(inputs, (np.ndarray, torch.Tensor, dict)) or is_dataframe(inputs)


def _check_hypothesis_template(template: str) -> str:
    """A template must hold exactly one `{}`: without one every label gives the same text (a tie), with more the
    label cannot fill them."""
    if not isinstance(template, str):
        raise ValueError(f"hypothesis_template must be a string with one '{{}}' placeholder, got {template!r}")
    try:
        fields = [parsed[1:] for parsed in string.Formatter().parse(template) if parsed[1] is not None]
    except ValueError as error:  # unmatched braces
        raise ValueError(f"hypothesis_template {template!r} is not a valid format string: {error}") from None
    if fields != [("", "", None)]:  # (name, format spec, conversion) of a bare `{}`
        raise ValueError(
            f"hypothesis_template must hold exactly one bare '{{}}' placeholder for the label (not numbered, named "
            f"or formatted), got {template!r}; write literal braces as '{{{{' and '}}}}'"
        )
    return template


__all__ = [
    "SensorCaptioningPipeline",
    "SensorClassificationPipeline",
    "SensorFeatureExtractionPipeline",
    "SlipPipeline",
    "ZeroShotSensorClassificationPipeline",
]
