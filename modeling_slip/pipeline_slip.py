"""Pipelines for SLIP: sensor captioning, zero-shot sensor classification and sensor feature extraction.

Hub-shipped file, loaded with `trust_remote_code`: it imports only numpy, torch and transformers, and nothing of the
SLIP model. The pipelines receive the model and the processor as objects and use their public methods, so the same
file serves the pip package and the Hub folder.

An input is one sample: an array `[channels, time]` (numpy or torch; 1-D is one channel), or a dict with `sensors`,
an optional `sampling_rate` (Hz), an optional `patch_size` and, for captioning, an optional `prompt`. A list of
inputs is a batch; with `batch_size=` the model runs on that many samples at once.

Missing data: NaN marks a missing value. Every result holds **observed_fraction**, the fraction of the values the
model sees (after any `max_patches` truncation) that are observed. An input with no observed value (all NaN) has
nothing to describe, so its result says so instead of guessing, and a `UserWarning` names how many inputs of the
batch are affected: its `sensor_embeds` are NaN (feature extraction), its `scores` are NaN with the labels in the
given order (zero-shot), and its `generated_text` is empty (captioning). The other inputs of its batch are unaffected.
"""

import string
import warnings
from collections.abc import Sized
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from transformers import Pipeline
from transformers.pipelines.pt_utils import PipelineDataset, PipelineIterator

DEFAULT_HYPOTHESIS_TEMPLATE = "This sensor recording shows {}."


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

    def _read_input(self, inputs: Any, **defaults: Any) -> dict[str, Any]:
        """One pipeline input → `{"sensors": array, "sampling_rate": ..., ...}` with every key of `_input_keys`;
        call-level `defaults` fill in what a dict input leaves out (`None` where neither gives a value)."""
        defaults = {**dict.fromkeys(self._input_keys[1:]), **defaults}
        if isinstance(inputs, dict):
            unknown = set(inputs) - set(self._input_keys)
            if inputs.get("sensors") is None or unknown:
                raise ValueError(
                    f"A dict input needs `sensors` and may also hold {', '.join(self._input_keys[1:])}; got keys "
                    f"{sorted(inputs)}"
                )
            sample = {**defaults, **{key: value for key, value in inputs.items() if value is not None}}
            if isinstance(sample["sensors"], (list, tuple)):
                sample["sensors"] = np.asarray(sample["sensors"], dtype=np.float32)
        else:
            sample = {**defaults, "sensors": inputs}
        sensors = sample["sensors"]
        if not isinstance(sensors, (np.ndarray, torch.Tensor)) or sensors.ndim not in (1, 2):
            found = f"shape {tuple(sensors.shape)}" if hasattr(sensors, "shape") else type(sensors).__name__
            raise ValueError(
                "Each input must be one sample: a numpy array or torch tensor of shape [time] or [channels, time], or "
                f"a dict holding one under `sensors`; got {found}. Pass a list of samples for a batch."
            )
        return sample

    def _text_inputs(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        """Processor keyword arguments for the texts of a batch of read inputs (none by default)."""
        return {}

    @staticmethod
    def _sensor_params(sampling_rate: float | None, patch_size: int | None) -> dict[str, Any]:
        """Preprocess parameters shared by the SLIP pipelines: call-level defaults for the dict input keys."""
        params = {"sampling_rate": sampling_rate, "patch_size": patch_size}
        return {key: value for key, value in params.items() if value is not None}

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
        return {**model_inputs, "observed_fraction": observed_fraction}

    def _forward(self, model_inputs: dict[str, torch.Tensor], **params: Any) -> dict[str, torch.Tensor]:
        observed_fraction = model_inputs.pop("observed_fraction")
        missing = int((observed_fraction == 0).sum())
        if missing:
            warnings.warn(
                f"{missing} of {len(observed_fraction)} inputs have no observed value (all NaN): their results hold "
                f"{self._missing_result} and observed_fraction 0.0",
                UserWarning,
                stacklevel=2,
            )
        return {**self._run_model(model_inputs, **params), "observed_fraction": observed_fraction}

    def _run_model(self, model_inputs: dict[str, torch.Tensor], **params: Any) -> dict[str, torch.Tensor]:
        """The model call of the pipeline on the processor's outputs."""
        raise NotImplementedError

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
            generate_kwargs (`dict`, *optional*):
                Passed to `generate`, as is every other keyword argument (`max_new_tokens`, `num_beams`, `do_sample`,
                `num_return_sequences`, ...).

        Return:
            Per input, a list with one `{"generated_text": str, "observed_fraction": float}` per returned sequence.
            The text holds only the newly generated tokens, never the prompt; it is empty for an input with no
            observed value.
        """
        return super().__call__(inputs, **kwargs)

    def _sanitize_parameters(
        self,
        sampling_rate: float | None = None,
        patch_size: int | None = None,
        prompt: str | None = None,
        generate_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ):
        preprocess_params = self._sensor_params(sampling_rate, patch_size)
        if prompt is not None:
            preprocess_params["prompt"] = prompt
        return preprocess_params, {**(generate_kwargs or {}), **kwargs}, {}

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
            {"generated_text": text if observed_fraction else "", "observed_fraction": observed_fraction}
            for text in texts
        ]


class ZeroShotSensorClassificationPipeline(SlipPipeline):
    """
    Zero-shot classification of sensor recordings with a SLIP contrastive model (`SlipModel`, loaded by
    `AutoModel`): each candidate label is written into `hypothesis_template`, embedded by the text tower, and scored
    by the softmax over `logit_scale * cosine(sensor, text)`.

    Example:

    ```python
    >>> classifier = pipeline("zero-shot-sensor-classification", model="path/or/repo", trust_remote_code=True)
    >>> classifier(x, sampling_rate=50.0, candidate_labels=["walking", "running", "sitting"])
    {'labels': ['running', 'walking', 'sitting'], 'scores': [0.71, 0.2, 0.09], 'observed_fraction': 1.0}
    ```
    """

    _missing_result = "NaN scores with the labels in the given order"

    def __call__(
        self, inputs: Any, candidate_labels: list[str] | None = None, **kwargs: Any
    ) -> dict[str, list] | list[dict[str, list]]:
        """
        Scores candidate labels for one sample or a list of samples.

        Args:
            inputs (`np.ndarray`, `torch.Tensor`, `dict` or a `list` of them):
                One sample `[channels, time]`, or a dict with `sensors`, optional `sampling_rate` and optional
                `patch_size`; a list is a batch.
            candidate_labels (`list[str]`):
                The labels to score.
            hypothesis_template (`str`, *optional*, defaults to `"This sensor recording shows {}."`):
                Turns a label into the text that is embedded, through its one `{}` placeholder; pass `"{}"` for labels
                that are already sentences. A template without exactly one `{}` raises a `ValueError`.
            sampling_rate (`float`, *optional*):
                Sampling rate in Hz for inputs that do not give their own.
            patch_size (`int`, *optional*):
                Patch size for inputs that do not give their own, instead of the automatic rule.

        Return:
            Per input, `{"labels": [...], "scores": [...], "observed_fraction": float}` sorted by descending score;
            the scores sum to 1. An input with no observed value gets NaN scores and the labels in the given order.
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
    ):
        preprocess_params, forward_params, postprocess_params = self._sensor_params(sampling_rate, patch_size), {}, {}
        if candidate_labels is not None:
            labels = [candidate_labels] if isinstance(candidate_labels, str) else list(candidate_labels)
            if not labels or not all(isinstance(label, str) for label in labels):
                raise ValueError(f"candidate_labels must be a non-empty list of strings, got {candidate_labels!r}")
            forward_params["candidate_labels"] = postprocess_params["candidate_labels"] = labels
        if hypothesis_template is not None:
            forward_params["hypothesis_template"] = _check_hypothesis_template(hypothesis_template)
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
        return {"logits": contrastive.contrastive_logits(sensor_embeds, text_embeds).T}

    def postprocess(self, model_outputs: dict[str, torch.Tensor], candidate_labels: list[str]) -> dict[str, Any]:
        observed_fraction = model_outputs["observed_fraction"][0].item()
        if not observed_fraction:  # NaN embedding: no ranking to give
            return {
                "labels": list(candidate_labels),
                "scores": [float("nan")] * len(candidate_labels),
                "observed_fraction": observed_fraction,
            }
        scores = model_outputs["logits"][0].float().softmax(-1)
        order = torch.argsort(scores, descending=True, stable=True)
        return {
            "labels": [candidate_labels[index] for index in order.tolist()],
            "scores": scores[order].tolist(),
            "observed_fraction": observed_fraction,
        }


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

        Return:
            Per input, a dict with **sensor_embeds** (`[projection_dim]`, NaN for an input with no observed value),
            **observed_fraction** (`float`) and, with `return_tokens`, **token_states** (`[channels, patches,
            hidden_size]`, the sample's own channels and patches, batch padding removed) and **token_mask**
            (`[channels, patches]`, True where the patch holds an observed value).
        """
        return super().__call__(inputs, **kwargs)

    def _sanitize_parameters(
        self,
        sampling_rate: float | None = None,
        patch_size: int | None = None,
        return_tokens: bool | None = None,
        return_tensors: bool | None = None,
    ):
        preprocess_params, forward_params, postprocess_params = self._sensor_params(sampling_rate, patch_size), {}, {}
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
        return {**result, "observed_fraction": model_outputs["observed_fraction"][0].item()}


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
    "SensorFeatureExtractionPipeline",
    "SlipPipeline",
    "ZeroShotSensorClassificationPipeline",
]
