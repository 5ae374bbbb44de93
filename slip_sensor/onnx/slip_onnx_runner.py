"""Runs an exported SLIP model (`slip export-onnx`) with ONNX Runtime: numpy, onnxruntime and, for text, tokenizers.

This file is copied flat into every exported folder, so it imports nothing from the package (no torch, no
transformers) and reads everything it needs from the folder's `slip_onnx.json`, written by the export from the
model's processor:

    from slip_onnx_runner import SlipOnnxEncoder          # or: from slip_sensor.onnx import SlipOnnxEncoder
    encoder = SlipOnnxEncoder("slip-tiny-onnx")            # precision="int8" for the quantised files
    sensor_embeds = encoder.embed_sensors([recording], sampling_rate=50.0)   # [B, E], L2-normalised; NaN = missing
    text_embeds = encoder.embed_text(["The person is walking."])            # [B, E]
    scores = text_embeds @ sensor_embeds.T

`sensor_features` turns recordings into the model inputs exactly as `SlipFeatureExtractor` does (the tests compare
the two on mixed batches): NaN marks a missing value (masked, never zero-filled), each channel is divided by its mean
absolute value, the series is left-padded to a multiple of the patch size, which is picked from the sampling rate,
and a batch is padded to its largest sample.
"""

import json
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime

CONFIG_NAME = "slip_onnx.json"
PRECISIONS = ("fp32", "int8")
SENSOR_INPUTS = ("sensor_values", "sensor_mask", "sensor_time", "patch_size")


class SlipOnnxEncoder:
    """The sensor and text towers of an exported SLIP folder, on ONNX Runtime.

    Args:
        folder: a folder written by `slip export-onnx`.
        precision: `"fp32"` (the exported graphs) or `"int8"` (the dynamically quantised ones, `--int8`).
        batch_size: recordings or texts per ONNX Runtime call (a batch is padded to its largest member).
        num_threads: ONNX Runtime's intra-op threads (default: its own choice, all physical cores).
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        precision: str = "fp32",
        batch_size: int = 32,
        num_threads: int | None = None,
    ):
        self.folder = Path(folder)
        config_path = self.folder / CONFIG_NAME
        if not config_path.is_file():
            raise FileNotFoundError(f"{self.folder} holds no {CONFIG_NAME}: export the model with `slip export-onnx`")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        self.config = json.loads(config_path.read_text(encoding="utf-8"))
        files = self.config["files"][precision]
        if not files:
            raise FileNotFoundError(f"{self.folder} has no {precision} model files: export it with `--int8`")
        self.precision = precision
        self.batch_size = batch_size
        self.files = {name: self.folder / file for name, file in files.items()}
        self._options = onnxruntime.SessionOptions()
        if num_threads is not None:
            self._options.intra_op_num_threads = num_threads
        self._sessions: dict[str, onnxruntime.InferenceSession] = {}
        self._tokenizer = None

    def session(self, name: str) -> onnxruntime.InferenceSession:
        """The ONNX Runtime session of `"sensor_encoder"` or `"text_encoder"`, created on first use."""
        if name not in self._sessions:
            self._sessions[name] = onnxruntime.InferenceSession(
                str(self.files[name]), self._options, providers=["CPUExecutionProvider"]
            )
        return self._sessions[name]

    # ------------------------------------------------------------------ sensors

    def sensor_features(
        self, sensors, sampling_rate: float | Sequence[float | None] | None, patch_size=None
    ) -> dict[str, np.ndarray]:
        """The model inputs of `sensors`, as `SlipFeatureExtractor(...)(sensors, sampling_rate, patch_size)` with
        `return_tensors="np"`: `sensor_values`, `sensor_mask`, `sensor_time` `[B, V*, P*, ps_max]` and `patch_size`
        `[B]`.

        Args:
            sensors: one recording `[time]` or `[channels, time]`, a batch `[B, channels, time]`, or a list of
                recordings of any lengths and channel counts; NaN marks a missing value.
            sampling_rate: Hz, for all recordings or one per recording (`None`: unknown); picks the patch size.
            patch_size: an explicit patch size for all recordings or one per recording (`None`: from the rate).
        """
        settings = self.config["feature_extractor"]
        samples = [_float_array(sample, index) for index, sample in enumerate(_split_batch(sensors))]
        rates = _per_sample(sampling_rate, len(samples), "sampling_rate")
        sizes = _per_sample(patch_size, len(samples), "patch_size")
        blocks = []
        for index, (values, rate, size) in enumerate(zip(samples, rates, sizes)):
            num_channels, length = values.shape
            size = _check_patch_size(size) or self.patch_size(num_channels, length, rate)
            num_patches = -(-length // size)
            if num_patches > settings["max_patches"]:
                warnings.warn(
                    f"sample {index} ({length} points, patch size {size}) keeps only its first "
                    f"{settings['max_patches']} of {num_patches} patches; embed shorter windows or pass a larger "
                    "patch_size",
                    UserWarning,
                    stacklevel=2,
                )
                num_patches = settings["max_patches"]
            if num_channels * num_patches > settings["max_tokens_per_sample"]:
                raise ValueError(
                    f"Sample {index} has {num_channels} channels x {num_patches} patches (patch size {size}), more "
                    f"than max_tokens_per_sample={settings['max_tokens_per_sample']}; select channels, downsample, "
                    "or pass a larger patch_size"
                )
            blocks.append((*self._patchify(values, size, num_patches), size))
        return _pad(blocks)

    def patch_size(self, num_channels: int, length: int, sampling_rate: float | None) -> int:
        """The automatic patch size: among the candidates of the rate's band that give at most `max_patches` patches,
        the one whose token count (channels x patches) is closest in ratio to `token_budget` (ties: the smaller)."""
        settings = self.config["feature_extractor"]
        bands = self.config["patch_size_bands"]
        all_sizes = sorted({size for band in bands for size in band["sizes"]})
        rate = _check_sampling_rate(sampling_rate)
        if rate is None:
            candidates = np.asarray(all_sizes)
        else:
            candidates = np.asarray(next(band["sizes"] for band in bands if 1.0 / rate >= band["min_period_s"]))
        num_patches = -(-length // candidates)
        fits = num_patches <= settings["max_patches"]
        if not fits.any():
            larger = [
                size for size in all_sizes if size > candidates[-1] and -(-length // size) <= settings["max_patches"]
            ]
            return larger[0] if larger else all_sizes[-1]
        candidates, num_patches = candidates[fits], num_patches[fits]
        ratio_error = np.abs(np.log(num_channels * num_patches / settings["token_budget"]))
        return int(candidates[np.argmin(ratio_error)])

    def _patchify(self, values: np.ndarray, patch_size: int, num_patches: int) -> tuple[np.ndarray, ...]:
        """One recording `[C, L]` → values, mask and time `[C, num_patches, patch_size]` (normalised, left-padded,
        truncated to the first `num_patches` patches; statistics over the whole recording)."""
        settings = self.config["feature_extractor"]
        length = values.shape[-1]
        pad = -length % patch_size
        kept = num_patches * patch_size - pad
        observed = ~np.isnan(values)
        normalized = np.zeros(values.shape, dtype=np.float32)
        if settings["normalization"] == "mean_abs":
            absolute = np.where(observed, np.abs(values), np.float32(0))
            count = np.maximum(observed.sum(axis=-1, keepdims=True), 1)
            with np.errstate(over="ignore"):
                scale = absolute.sum(axis=-1, keepdims=True) / count.astype(np.float32)
            if not np.isfinite(scale).all():  # the float32 sum overflowed: the mean in float64
                scale = (absolute.astype(np.float64).sum(axis=-1, keepdims=True) / count).astype(np.float32)
            scale = scale + np.float32(settings["normalization_eps"])
            np.divide(values, scale, out=normalized, where=observed)
        else:
            np.copyto(normalized, values, where=observed)
        width = num_patches * patch_size
        padded_values = np.zeros((values.shape[0], width), dtype=np.float32)
        padded_mask = np.zeros((values.shape[0], width), dtype=bool)
        padded_values[:, pad:] = normalized[:, :kept]
        padded_mask[:, pad:] = observed[:, :kept]
        time = np.zeros(width, dtype=np.float32)
        time[pad:] = (np.arange(1, kept + 1, dtype=np.float64) / (length + 1)).astype(np.float32)
        shape = (values.shape[0], num_patches, patch_size)
        return padded_values.reshape(shape), padded_mask.reshape(shape), np.broadcast_to(time.reshape(shape[1:]), shape)

    def encode_sensors(
        self, sensors, sampling_rate: float | Sequence[float | None] | None, patch_size=None
    ) -> dict[str, np.ndarray]:
        """Every output of the sensor tower for `sensors` (arguments as `sensor_features`), in input order:
        `sensor_embeds` `[B, E]` (L2-normalised), `sensor_tokens` `[B, 1 + N, C]` (the pooled tokens, CLS first:
        the caption decoder's context), both NaN for a recording with no observed value, and `token_features`
        `[B, D]` (the mean of the encoder's token states over observed patches: the linear probe's features)."""
        samples = _split_batch(sensors)
        rates = _per_sample(sampling_rate, len(samples), "sampling_rate")
        sizes = _per_sample(patch_size, len(samples), "patch_size")
        session = self.session("sensor_encoder")
        names = [output.name for output in session.get_outputs()]
        outputs = {name: [] for name in names}
        for start in range(0, len(samples), self.batch_size):
            chunk = slice(start, start + self.batch_size)
            features = self.sensor_features(samples[chunk], rates[chunk], sizes[chunk])
            for name, value in zip(names, session.run(None, {key: features[key] for key in SENSOR_INPUTS})):
                outputs[name].append(value)
        return {name: np.concatenate(values) for name, values in outputs.items()}

    def embed_sensors(
        self, sensors, sampling_rate: float | Sequence[float | None] | None, patch_size=None
    ) -> np.ndarray:
        """L2-normalised sensor embeddings `[B, E]` (see `sensor_features` for the arguments)."""
        return self.encode_sensors(sensors, sampling_rate, patch_size)["sensor_embeds"]

    # ------------------------------------------------------------------ text

    @property
    def tokenizer(self):
        """The folder's `tokenizers.Tokenizer`, truncating as the processor does (room kept for the EOS)."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer  # only the text side needs it

            text = self.config["text"]
            self._tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
            self._tokenizer.no_padding()
            length = text["max_text_length"] - (1 if text["append_eos"] else 0)
            self._tokenizer.enable_truncation(max_length=length, strategy="longest_first", direction="right")
        return self._tokenizer

    def tokenize(self, texts: str | Sequence[str]) -> dict[str, np.ndarray]:
        """`input_ids` and `attention_mask` int64 `[B, T]` as the processor's default: BOS first, EOS last (when the
        model's captions end with it), left-padded with the pad id."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        if not texts or not all(isinstance(text, str) for text in texts):
            raise ValueError("texts must be a string or a non-empty list of strings")
        text = self.config["text"]
        rows = [encoding.ids + ([text["eos_token_id"]] if text["append_eos"] else []) for encoding in
                self.tokenizer.encode_batch(texts)]
        width = max(len(row) for row in rows)
        input_ids = np.full((len(rows), width), text["pad_token_id"], dtype=np.int64)
        attention_mask = np.zeros((len(rows), width), dtype=np.int64)
        for index, row in enumerate(rows):
            input_ids[index, width - len(row) :] = row
            attention_mask[index, width - len(row) :] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask}

    def embed_text(self, texts: str | Sequence[str]) -> np.ndarray:
        """L2-normalised text embeddings `[B, E]`."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        session = self.session("text_encoder")
        batches = [
            session.run(None, self.tokenize(texts[start : start + self.batch_size]))[0]
            for start in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(batches)


def _pad(blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]]) -> dict[str, np.ndarray]:
    """Samples `[V_i, P_i, ps_i]` → one batch `[B, V*, P*, ps_max]`: patches left-padded, channels and patch
    positions right-padded (value 0, mask False, time 0)."""
    channels, patches, width = (max(block[0].shape[dim] for block in blocks) for dim in range(3))
    shape = (len(blocks), channels, patches, width)
    batch = {
        "sensor_values": np.zeros(shape, dtype=np.float32),
        "sensor_mask": np.zeros(shape, dtype=bool),
        "sensor_time": np.zeros(shape, dtype=np.float32),
        "patch_size": np.asarray([block[3] for block in blocks], dtype=np.int64),
    }
    for index, (*arrays, _) in enumerate(blocks):
        num_channels, num_patches, size = arrays[0].shape
        target = (index, slice(num_channels), slice(patches - num_patches, None), slice(size))
        for key, array in zip(SENSOR_INPUTS, arrays):
            batch[key][target] = array
    return batch


def _split_batch(sensors) -> list:
    """The recordings of `sensors`: a 3-D array is a batch, a 1-D or 2-D one a single recording, a flat list of
    numbers one univariate recording, any other list a batch."""
    if isinstance(sensors, np.ndarray):
        if sensors.ndim not in (1, 2, 3):
            raise ValueError(
                f"sensors has shape {sensors.shape}; expected [time], [channels, time] or [batch, channels, time]"
            )
        return list(sensors) if sensors.ndim == 3 else [sensors]
    if isinstance(sensors, (list, tuple)):
        if not sensors:
            raise ValueError("sensors is an empty batch")
        return [sensors] if isinstance(sensors[0], (int, float, np.number)) else list(sensors)
    raise ValueError(f"sensors must be a numpy array or a list of recordings, got {type(sensors).__name__}")


def _float_array(sample, index: int) -> np.ndarray:
    """One recording as float32 `[channels, time]`; infinite values are refused (NaN marks a missing value)."""
    array = np.asarray(sample)
    if array.dtype.kind not in "biuf" or array.ndim not in (1, 2) or 0 in array.shape:
        raise ValueError(
            f"Sample {index} has dtype {array.dtype} and shape {array.shape}; expected a non-empty real array "
            "[time] or [channels, time]"
        )
    with np.errstate(over="ignore"):
        array = np.atleast_2d(array).astype(np.float32, copy=False)
    if np.isinf(array).any():
        raise ValueError(
            f"Sample {index} contains infinite values (or values beyond float32); mark missing values with NaN"
        )
    return array


def _per_sample(value, batch_size: int, name: str) -> list:
    if isinstance(value, (list, tuple, np.ndarray)) and np.ndim(value) == 1:
        if len(value) != batch_size:
            raise ValueError(f"Got {len(value)} {name} values for a batch of {batch_size} samples")
        return list(value)
    return [value] * batch_size


def _check_sampling_rate(rate) -> float | None:
    if isinstance(rate, np.ndarray) and rate.ndim == 0:
        rate = rate.item()
    if rate is None:
        return None
    if isinstance(rate, (bool, np.bool_)) or not isinstance(rate, (int, float, np.integer, np.floating)):
        raise ValueError(f"sampling_rate must be a number of Hz or None, got {rate!r}")
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(f"sampling_rate must be a finite number of Hz > 0, got {rate!r}")
    return float(rate)


def _check_patch_size(size) -> int | None:
    if isinstance(size, np.ndarray) and size.ndim == 0:
        size = size.item()
    if size is None:
        return None
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"patch_size must be an integer >= 1 (or None), got {size!r}")
    return int(size)


__all__ = ["SlipOnnxEncoder"]
