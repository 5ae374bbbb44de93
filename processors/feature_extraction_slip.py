"""Feature extractor for SLIP: raw multivariate time series -> dense, patchified sensor tensors.

Hub-shipped file: it is copied flat next to the model and loaded with `trust_remote_code`, so it imports nothing but
numpy, torch and transformers (plus `warnings` from the standard library).
"""

import warnings

import numpy as np
import torch
from transformers import BatchFeature, FeatureExtractionMixin
from transformers.utils import TensorType

# The default of `sampling_rate`: left out, which warns (as transformers' audio feature extractors do), unlike `None`
# passed on purpose for a rate unknown by design (e.g. corpora in the authors' layout, which store none).
NOT_GIVEN = object()

# Candidate patch sizes per sampling-rate band (paper, appendix C.1). Each band is keyed by the shortest sampling
# period (seconds) it covers; the edges (6 h, 10 min, 10 s) are round values near the geometric means of neighbouring
# nominal periods (day/hour: 4.9 h, hour/minute: 7.7 min, minute/second: 7.7 s).
PATCH_SIZE_BANDS: tuple[tuple[str, float, tuple[int, ...]], ...] = (
    ("daily", 6 * 3600.0, (16, 32)),
    ("hourly", 10 * 60.0, (6, 8, 16, 24, 32, 64)),
    ("minute", 10.0, (16, 24, 128)),
    ("second", 0.0, (4, 6, 8, 12, 16, 20, 25, 32, 64, 128)),
)
ALL_PATCH_SIZES: tuple[int, ...] = tuple(sorted({ps for _, _, sizes in PATCH_SIZE_BANDS for ps in sizes}))
NORMALIZATION_TYPES = ("mean_abs", "none")
# Default memory bound on the tokens (channels x patches) of one sample: four times the largest pretraining sample
# (6 channels x 384 patches), e.g. 24 channels of 384 patches or 96 channels of 96 patches.
DEFAULT_MAX_TOKENS_PER_SAMPLE = 6 * 384 * 4


def patch_size_band(sampling_rate: float | None) -> tuple[int, ...]:
    """Candidate patch sizes for a sampling rate in Hz (`None` = unknown: every candidate of every band)."""
    if sampling_rate is None:
        return ALL_PATCH_SIZES
    period = 1.0 / sampling_rate
    for _, min_period, sizes in PATCH_SIZE_BANDS:
        if period >= min_period:
            return sizes
    raise AssertionError("unreachable: the last band starts at period 0")


class SlipFeatureExtractor(FeatureExtractionMixin):
    r"""
    Turns raw multivariate time series into the dense patch tensors consumed by the SLIP sensor encoder.

    Per sample `[channels, time]` (a 1-D array is one channel), following the reference SLIP data pipeline:

    1. the observed mask is computed first: NaN marks a missing value (infinite values are rejected);
    2. `normalization="mean_abs"`: each channel is divided by (mean of |x| over its observed timesteps + 1e-6), in
       float32, without centring; a channel with no observed value stays 0 and fully masked;
    3. NaNs become 0 (mask False);
    4. timestep t = 1..L gets the time index t / (L + 1), computed on the unpadded length (NaNs keep theirs);
    5. the series is left-padded to a multiple of the patch size ps (value 0, mask False, time 0) and cut into
       `P = ceil(L / ps)` patches `[channels, P, ps]`.

    Any number of channels is accepted (the sensor encoder attends over all patch tokens of all channels, with 2D
    RoPE, so it has no channel limit); the only refusal is a memory bound: a sample with more than
    `max_tokens_per_sample` tokens (channels x patches, after the `max_patches` truncation below) raises a
    `ValueError`.

    The samples are joined into dense arrays `[B, V*, P*, ps_max]` by [`~SlipFeatureExtractor.pad`], which defines
    the batch layout (patches left-padded, channels and patch positions right-padded).

    Patch size rule (per sample, unless `patch_size` is given explicitly):

    - the sampling rate selects the candidate sizes of the paper (appendix C.1) by sampling period 1/rate:
      >= 6 h (rate <= 1/21600 Hz): daily {16, 32}; 10 min to 6 h: hourly {6, 8, 16, 24, 32, 64};
      10 s to 10 min: minute-level {16, 24, 128}; < 10 s (rate > 0.1 Hz): second-level and faster
      {4, 6, 8, 12, 16, 20, 25, 32, 64, 128}; unknown rate (`None`): all of these;
    - among the candidates with at most `max_patches` patches per channel, the one whose token count
      `channels * ceil(length / ps)` is closest to `token_budget` in ratio (|log(tokens / budget)|) wins; ties go
      to the smaller patch size (less padding);
    - if no candidate of the band fits `max_patches`, the smallest larger candidate of any band that fits is used;
    - if even ps = 128 gives more than `max_patches` patches (length > 128 * max_patches), ps = 128 is used and the
      series is truncated to its first `max_patches` patches, as the reference collator does, with a warning.
      An explicit patch size that gives too many patches is truncated the same way (with the same warning).

    Args:
        normalization (`str`, *optional*, defaults to `"mean_abs"`):
            `"mean_abs"` (per-channel mean-absolute scaling, the reference) or `"none"`.
        token_budget (`int`, *optional*, defaults to 300):
            Target number of tokens (channels x patches) per sample for the automatic patch size.
        max_channels (`int`, *optional*, defaults to 6):
            Pretraining channel-subset size: the pretraining data pipeline keeps a random `max_channels` channels
            per sample and epoch (`slip_sensor.training.collator.sample_channels`). It does not limit the channels
            the feature extractor accepts (see `max_tokens_per_sample`).
        max_patches (`int`, *optional*, defaults to 384):
            Most patches per channel; longer series are truncated with a warning (see the rule above).
        max_tokens_per_sample (`int`, *optional*, defaults to 9216):
            Memory bound on one sample's tokens, channels x patches (patches counted after the `max_patches`
            truncation); a larger sample raises a `ValueError`. The default is 4 x 6 x 384, four times the largest
            pretraining sample. Raise it (`SlipFeatureExtractor(max_tokens_per_sample=...)`, or set the attribute on
            a loaded processor's `feature_extractor`) when memory allows; it is saved with the processor config
            (configs saved before it existed load with the default).
        normalization_eps (`float`, *optional*, defaults to 1e-6):
            Added to the mean absolute value before dividing.
    """

    model_input_names = ["sensor_values", "sensor_mask", "sensor_time", "patch_size"]

    def __init__(
        self,
        normalization: str = "mean_abs",
        token_budget: int = 300,
        max_channels: int = 6,
        max_patches: int = 384,
        normalization_eps: float = 1e-6,
        max_tokens_per_sample: int = DEFAULT_MAX_TOKENS_PER_SAMPLE,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if normalization not in NORMALIZATION_TYPES:
            raise ValueError(f"normalization must be one of {NORMALIZATION_TYPES}, got {normalization!r}")
        for name, value in (
            ("token_budget", token_budget),
            ("max_channels", max_channels),
            ("max_patches", max_patches),
            ("max_tokens_per_sample", max_tokens_per_sample),
        ):
            if not _is_integer(value) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.normalization = normalization
        self.token_budget = int(token_budget)
        self.max_channels = int(max_channels)
        self.max_patches = int(max_patches)
        self.normalization_eps = float(normalization_eps)
        self.max_tokens_per_sample = int(max_tokens_per_sample)

    def __call__(
        self,
        sensors: np.ndarray | torch.Tensor | list,
        sampling_rate: float | list[float | None] | None = NOT_GIVEN,
        patch_size: int | list[int | None] | None = None,
        return_tensors: str | TensorType | None = None,
    ) -> BatchFeature:
        """
        Normalises, patchifies and collates a batch of time series.

        Args:
            sensors (`np.ndarray`, `torch.Tensor` or `list`):
                One sample `[time]` or `[channels, time]`, a batch `[B, channels, time]`, or a list of samples
                (lengths and channel counts may differ; any channel count within `max_tokens_per_sample`). A flat
                list of numbers is one univariate sample; any other list is a batch. NaN marks a missing value.
            sampling_rate (`float` or `list`, *optional*):
                Sampling rate in Hz, for all samples or one per sample (`None` = unknown). Only used to choose the
                patch size. Left out, it warns (once per call site): the patch size then ignores the time scale;
                pass `sampling_rate=None` when the rate is unknown on purpose.
            patch_size (`int` or `list`, *optional*):
                Patch size for all samples or one per sample (`None` entries use the automatic rule). Overrides
                the rule.
            return_tensors (`str` or [`~utils.TensorType`], *optional*):
                `"pt"` for torch tensors, `"np"` or `None` for numpy arrays.

        Returns:
            [`BatchFeature`] with
            - **sensor_values** (float32 `[B, V*, P*, ps_max]`): normalised values, 0 on missing and padding;
            - **sensor_mask** (bool `[B, V*, P*, ps_max]`): True where a value was observed;
            - **sensor_time** (float32 `[B, V*, P*, ps_max]`): time index t / (L + 1), 0 on padding;
            - **patch_size** (int64 `[B]`): the patch size of each sample.
        """
        if sampling_rate is NOT_GIVEN:
            warnings.warn(
                "No sampling_rate was passed: the patch size is chosen without the time scale of the series. Pass "
                "sampling_rate= (Hz), or sampling_rate=None when it is unknown, to silence this warning.",
                UserWarning,
                stacklevel=2,
            )
            sampling_rate = None
        samples = [self._to_float_array(sample, index) for index, sample in enumerate(_split_batch(sensors))]
        batch_size = len(samples)
        rates = [_check_sampling_rate(rate) for rate in _per_sample(sampling_rate, batch_size, "sampling_rate")]
        explicit_sizes = [_check_patch_size(size) for size in _per_sample(patch_size, batch_size, "patch_size")]
        shapes = {}  # the shape depends on (channels, length, rate, explicit size) only: computed once per distinct one
        sample_shapes = []
        for values, rate, size in zip(samples, rates, explicit_sizes):
            key = (*values.shape, rate, size)
            if key not in shapes:
                shapes[key] = self.shape_key(*values.shape, sampling_rate=rate, patch_size=size)
            sample_shapes.append(shapes[key])
        num_patches = [patches for _, patches, _ in sample_shapes]
        patch_sizes = [size for _, _, size in sample_shapes]
        self._check_token_bound(samples, patch_sizes, num_patches)
        self._warn_truncation(samples, patch_sizes)

        # Samples sharing (channels, length, patch size) are normalised and patchified together: a uniform batch
        # costs a handful of numpy calls instead of a handful per sample.
        groups: dict[tuple[int, int, int], list[int]] = {}
        for index, (values, size) in enumerate(zip(samples, patch_sizes)):
            groups.setdefault((*values.shape, size), []).append(index)
        blocks = []
        for (_, _, size), indices in groups.items():
            values, mask, time = self._patchify(np.stack([samples[i] for i in indices]), size, num_patches[indices[0]])
            time = np.broadcast_to(time, values.shape).copy()
            blocks.append((indices, values, mask, time, np.full(len(indices), size, dtype=np.int64)))
        if len(blocks) > 1:  # back to input order, one sample per feature (views, no copies)
            per_sample = {}
            for indices, *arrays in blocks:
                for row, index in enumerate(indices):
                    per_sample[index] = [array[row : row + 1] for array in arrays]
            blocks = [(None, *per_sample[index]) for index in range(batch_size)]
        features = [dict(zip(self.model_input_names, arrays)) for _, *arrays in blocks]
        return self.pad(features, return_tensors=return_tensors)

    def pad(
        self,
        features: list[dict] | list[BatchFeature],
        return_tensors: str | TensorType | None = None,
    ) -> BatchFeature:
        """
        Joins processed samples into one dense batch: sample i's patches `[V_i, P_i, ps_i]` are written to
        `[i, :V_i, P* - P_i:, :ps_i]` of `[B, V*, P*, ps_max]` (V* = most channels, P* = most patches, ps_max =
        largest patch size). Patches are left-padded, missing channels come after the real ones, and positions
        `ps_i..ps_max-1` of every patch are padding (value 0, mask False, time 0). This is the one place the batch
        layout is written: `__call__` returns its result, so padding outputs of separate calls equals one call on
        all their samples.

        Args:
            features (`list` of `dict` or [`BatchFeature`]):
                Outputs of this feature extractor (numpy arrays or torch tensors), each holding `sensor_values`,
                `sensor_mask`, `sensor_time` `[b, V, P, ps]` and `patch_size` `[b]`; other keys are ignored.
            return_tensors (`str` or [`~utils.TensorType`], *optional*):
                `"pt"` for torch tensors, `"np"` or `None` for numpy arrays.
        """
        if not features:
            raise ValueError("pad needs at least one feature")
        blocks = [{key: _numpy(feature[key]) for key in self.model_input_names} for feature in features]
        if len(blocks) == 1:
            data = blocks[0]
        else:
            batch_size = sum(len(block["patch_size"]) for block in blocks)
            channels, patches, width = (max(block["sensor_values"].shape[dim] for block in blocks) for dim in (1, 2, 3))
            data = {
                "sensor_values": np.zeros((batch_size, channels, patches, width), dtype=np.float32),
                "sensor_mask": np.zeros((batch_size, channels, patches, width), dtype=bool),
                "sensor_time": np.zeros((batch_size, channels, patches, width), dtype=np.float32),
                "patch_size": np.concatenate([block["patch_size"] for block in blocks]).astype(np.int64),
            }
            start = 0
            for block in blocks:
                count, num_channels, num_patches, size = block["sensor_values"].shape
                rows = slice(start, start + count)
                target = (rows, slice(num_channels), slice(patches - num_patches, None), slice(size))
                for key in ("sensor_values", "sensor_mask", "sensor_time"):
                    data[key][target] = block[key]
                start += count
        return BatchFeature(data=data, tensor_type=return_tensors)

    def shape_key(
        self, num_channels: int, length: int, sampling_rate: float | None = None, patch_size: int | None = None
    ) -> tuple[int, int, int]:
        """`(channels, patches, patch size)` of a `num_channels` x `length` sample once processed: the explicit or
        automatic patch size and the patches kept after the `max_patches` truncation. Samples with close keys pad
        well together, so the training sampler and the pipelines batch by it."""
        size = _check_patch_size(patch_size) or self.get_patch_size(num_channels, length, sampling_rate=sampling_rate)
        return num_channels, min(-(-length // size), self.max_patches), size

    def get_patch_size(self, num_channels: int, length: int, sampling_rate: float | None = None) -> int:
        """The automatic patch size for a sample of `num_channels` x `length` points (see the class docstring)."""
        if not (_is_integer(num_channels) and _is_integer(length) and num_channels >= 1 and length >= 1):
            raise ValueError(f"num_channels and length must be integers >= 1, got {num_channels!r} and {length!r}")
        candidates = np.asarray(patch_size_band(_check_sampling_rate(sampling_rate)))
        num_patches = -(-length // candidates)
        fits = num_patches <= self.max_patches
        if not fits.any():
            larger = np.asarray([ps for ps in ALL_PATCH_SIZES if ps > candidates[-1]], dtype=np.int64)
            larger = larger[-(-length // larger) <= self.max_patches]
            # Beyond the largest candidate the caller truncates (with a warning) rather than leave the paper's range.
            return int(larger[0]) if larger.size else ALL_PATCH_SIZES[-1]
        candidates, num_patches = candidates[fits], num_patches[fits]
        ratio_error = np.abs(np.log(num_channels * num_patches / self.token_budget))
        # Candidates are sorted ascending and argmin returns the first minimum: ties go to the smaller patch size.
        return int(candidates[np.argmin(ratio_error)])

    def _to_float_array(self, sample, index: int) -> np.ndarray:
        """Validates one sample and returns it as float32 `[channels, time]` (NaN = missing)."""
        if isinstance(sample, torch.Tensor):
            sample = sample.detach().cpu()
            if sample.is_floating_point() and sample.dtype not in (torch.float16, torch.float32, torch.float64):
                sample = sample.float()  # bfloat16 and float8 have no numpy equivalent
            sample = sample.numpy()
        try:
            array = np.asarray(sample)
        except (ValueError, TypeError, RuntimeError) as error:  # ragged nesting, odd objects, tensors needing grad
            raise ValueError(f"Sample {index} cannot be read as a numeric array: {error}") from None
        if array.dtype.kind not in "biuf":
            raise ValueError(
                f"Sample {index} has dtype {array.dtype}; expected a real numeric (bool, integer or float) array"
            )
        if array.ndim not in (1, 2):
            raise ValueError(
                f"Sample {index} has {array.ndim} dimensions (shape {array.shape}); "
                "expected [time] or [channels, time]"
            )
        if array.ndim == 1:
            array = array[None]
        num_channels, length = array.shape
        if num_channels == 0:
            raise ValueError(f"Sample {index} is empty: it has no channels (shape {array.shape})")
        if length == 0:
            raise ValueError(f"Sample {index} has zero-length channels (shape {array.shape})")
        with np.errstate(over="ignore"):  # float64 beyond the float32 range becomes inf, rejected just below
            array = array.astype(np.float32, copy=False)
        if np.isinf(array).any():
            raise ValueError(
                f"Sample {index} contains infinite values (or values outside the float32 range); "
                "mark missing values with NaN instead"
            )
        return array

    def _patchify(self, values: np.ndarray, patch_size: int, num_patches: int) -> tuple[np.ndarray, ...]:
        """Normalises `[G, C, L]` and returns values and mask `[G, C, num_patches, patch_size]` and time
        `[num_patches, patch_size]`, left-padded to a multiple of `patch_size` and truncated to the first
        `num_patches` patches.

        Hot path: the mask and the values are computed in place inside the padded buffers (`where=observed` skips
        the NaNs), so a call allocates little besides its outputs.
        """
        length = values.shape[-1]
        pad = -length % patch_size
        kept = num_patches * patch_size - pad  # real points kept after truncation (all of them without it)
        padded_shape = (*values.shape[:-1], num_patches * patch_size)
        padded_values = np.zeros(padded_shape, dtype=np.float32)
        padded_mask = np.zeros(padded_shape, dtype=bool)
        if kept == length:
            normalized, observed = padded_values[..., pad:], padded_mask[..., pad:]
        else:  # truncated: the statistics still cover the whole series
            normalized, observed = np.zeros(values.shape, dtype=np.float32), np.empty(values.shape, dtype=bool)
        np.isnan(values, out=observed)
        np.logical_not(observed, out=observed)
        if self.normalization == "mean_abs":
            np.abs(values, out=normalized, where=observed)
            np.divide(values, self._mean_abs(normalized, observed), out=normalized, where=observed)
        else:
            np.copyto(normalized, values, where=observed)
        if kept != length:
            padded_values[..., pad:] = normalized[..., :kept]
            padded_mask[..., pad:] = observed[..., :kept]

        padded_time = np.zeros(num_patches * patch_size, dtype=np.float32)
        padded_time[pad:] = (np.arange(1, kept + 1, dtype=np.float64) / (length + 1)).astype(np.float32)
        patch_shape = (*values.shape[:-1], num_patches, patch_size)
        return (
            padded_values.reshape(patch_shape),
            padded_mask.reshape(patch_shape),
            padded_time.reshape(patch_shape[-2:]),
        )

    def _mean_abs(self, absolute: np.ndarray, observed: np.ndarray) -> np.ndarray:
        """Per-channel divisor `[..., 1]` from |x| `[..., L]` (0 where missing): mean over the observed timesteps plus
        `normalization_eps`, in float32. For a NaN-free series, sum / length in float32 is bit-identical to the
        reference's `np.mean`."""
        count = np.maximum(observed.sum(axis=-1, keepdims=True), 1)
        with np.errstate(over="ignore"):
            scale = absolute.sum(axis=-1, keepdims=True) / count.astype(np.float32)
        if not np.isfinite(scale).all():
            # The float32 sum overflowed (values near the float32 limit): redo the mean in float64.
            scale = (absolute.astype(np.float64).sum(axis=-1, keepdims=True) / count).astype(np.float32)
        return scale + np.float32(self.normalization_eps)

    def _check_token_bound(self, samples: list[np.ndarray], patch_sizes: list[int], num_patches: list[int]) -> None:
        """Refuses the first sample whose channels x patches exceed `max_tokens_per_sample` (before any big
        allocation)."""
        bound = self.max_tokens_per_sample
        for index, (values, size, count) in enumerate(zip(samples, patch_sizes, num_patches)):
            num_channels = values.shape[0]
            if num_channels * count > bound:
                raise ValueError(
                    f"Sample {index} has {num_channels} channels x {count} patches (patch size {size}) = "
                    f"{num_channels * count} tokens, more than max_tokens_per_sample={bound}. If memory allows, "
                    "raise the bound (SlipFeatureExtractor(max_tokens_per_sample=...), or set "
                    "processor.feature_extractor.max_tokens_per_sample); otherwise select channels, downsample, or "
                    "pass a larger patch_size"
                )

    def _warn_truncation(self, samples: list[np.ndarray], patch_sizes: list[int]) -> None:
        truncated = [
            (index, values.shape[1], size, -(-values.shape[1] // size))
            for index, (values, size) in enumerate(zip(samples, patch_sizes))
            if -(-values.shape[1] // size) > self.max_patches
        ]
        if truncated:
            shown = ", ".join(
                f"sample {index} ({length} points, patch size {size}: {patches} patches)"
                for index, length, size, patches in truncated[:3]
            ) + (f" and {len(truncated) - 3} more" if len(truncated) > 3 else "")
            # the smallest patch size that keeps the longest truncated sample whole
            needed = -(-max(length for _, length, _, _ in truncated) // self.max_patches)
            warnings.warn(
                f"{len(truncated)} sample(s) exceed max_patches={self.max_patches} and keep only their first "
                f"{self.max_patches} patches: {shown}. To keep all of them, run the SLIP pipelines with "
                "chunk_length_s= (seconds: they then describe the recording window by window), or pass "
                f"patch_size={needed} or larger (an argument of the processor and of the SLIP pipelines, or a key of "
                "a pipeline's dict input; coarser patches), or downsample long series.",
                UserWarning,
                stacklevel=3,
            )


def _numpy(value) -> np.ndarray:
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def _is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_scalar(value) -> bool:
    return isinstance(value, (int, float, np.number, np.bool_)) or (
        isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 0
    )


def _split_batch(sensors) -> list:
    """Splits the `sensors` argument into a list of per-sample arrays (not yet validated)."""
    if isinstance(sensors, (np.ndarray, torch.Tensor)):
        if sensors.ndim == 3:
            samples = list(sensors)
        elif sensors.ndim in (1, 2):
            samples = [sensors]
        else:
            raise ValueError(
                f"sensors has {sensors.ndim} dimensions (shape {tuple(sensors.shape)}); expected [time], "
                "[channels, time] or a batch [batch, channels, time]"
            )
    elif isinstance(sensors, (list, tuple)):
        # A flat list of numbers is one univariate series; any other list is a batch of samples.
        samples = [sensors] if len(sensors) and _is_scalar(sensors[0]) else list(sensors)
    else:
        raise ValueError(
            f"sensors must be a numpy array, a torch tensor or a list of samples, got {type(sensors).__name__}"
        )
    if not samples:
        raise ValueError("sensors is an empty batch")
    return samples


def _per_sample(value, batch_size: int, name: str) -> list:
    """Broadcasts a scalar (or `None`) argument to the batch, or checks that a sequence has one value per sample."""
    if isinstance(value, (list, tuple, np.ndarray, torch.Tensor)) and not _is_scalar(value):
        if len(value) != batch_size:
            raise ValueError(f"Got {len(value)} {name} values for a batch of {batch_size} samples")
        return list(value)
    return [value] * batch_size


def _check_sampling_rate(rate) -> float | None:
    if rate is None:
        return None
    if isinstance(rate, (np.ndarray, torch.Tensor)) and rate.ndim == 0:
        rate = rate.item()
    if isinstance(rate, (bool, np.bool_)) or not isinstance(rate, (int, float, np.integer, np.floating)):
        raise ValueError(f"sampling_rate must be a number of Hz or None, got {rate!r}")
    try:
        value = float(rate)
    except OverflowError:
        value = float("inf")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"sampling_rate must be a finite number of Hz > 0, got {rate!r}")
    return value


def _check_patch_size(size) -> int | None:
    if size is None:
        return None
    if isinstance(size, (np.ndarray, torch.Tensor)) and size.ndim == 0:
        size = size.item()
    if not _is_integer(size) or size < 1:
        raise ValueError(f"patch_size must be an integer >= 1 (or None), got {size!r}")
    return int(size)


__all__ = ["SlipFeatureExtractor"]
