"""Fuzz tests of the processor and the pipelines: any input gets a clear error (`ValueError`/`TypeError` with a
message) or the documented masked result, never a crash from deep inside numpy or torch and never a silent wrong
answer (a NaN that is not masked, a mask that does not match the NaNs, a confident result for an all-NaN input)."""

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LABELS = ["walking", "running", "sitting"]
NUMPY_DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8, np.bool_]
TORCH_DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int32, torch.bool]
NAN_PATTERNS = ["none", "some", "one channel", "all"]


@st.composite
def sample(draw, well_formed: bool = True):
    """`(input, missing)`: one sample in some input form and dtype, and the boolean `[channels, time]` array of its
    missing values (None when the input is malformed and an error is the expected answer)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if well_formed or draw(st.booleans()):
        shape = (draw(st.integers(1, 4)), draw(st.integers(1, 300)))[-draw(st.integers(1, 2)) :]
    else:
        shape = tuple(draw(st.integers(0, 3)) for _ in range(draw(st.sampled_from([0, 1, 2, 3])))) + (
            draw(st.integers(0, 5)),
        )
    values = rng.standard_normal(shape) * 10.0 ** draw(st.integers(-2, 3))
    pattern = draw(st.sampled_from(NAN_PATTERNS))
    if pattern == "some":
        values[rng.random(shape) < 0.3] = np.nan
    elif pattern == "one channel" and values.ndim == 2 and len(values):
        values[0] = np.nan
    elif pattern == "all":
        values[...] = np.nan
    if not well_formed and values.size and draw(st.integers(0, 4)) == 0:
        values.flat[0] = draw(st.sampled_from([np.inf, -np.inf]))

    form = draw(st.sampled_from(["numpy", "torch", "list"] + ([] if well_formed else ["odd"])))
    if form == "odd":
        return draw(st.sampled_from([None, "sensor", {"x": 1}, np.array(["a", "b"]), np.zeros(3, complex)])), None
    if form == "list":
        data, converted = values.tolist(), values
    elif form == "numpy":
        dtype = draw(st.sampled_from(NUMPY_DTYPES))
        with np.errstate(invalid="ignore", over="ignore"):
            data = (values if np.issubdtype(dtype, np.floating) else np.nan_to_num(values)).astype(dtype)
        converted = data.astype(np.float64)
    else:
        dtype = draw(st.sampled_from(TORCH_DTYPES))
        data = torch.from_numpy(values if dtype.is_floating_point else np.nan_to_num(values)).to(dtype)
        converted = data.double().numpy()
    # what the input holds once converted: integer dtypes have no NaN, float16 may overflow to inf
    malformed = converted.ndim not in (1, 2) or converted.size == 0 or bool(np.isinf(converted).any())
    return data, None if malformed else np.isnan(np.atleast_2d(converted))


RATES = st.one_of(st.none(), st.sampled_from([1 / 86400, 1 / 3600, 1 / 60, 1.0, 50.0, 1000.0]))
ODD_RATES = st.one_of(RATES, st.sampled_from([0, -1.0, float("nan"), float("inf"), True, "50 Hz", [50.0]]))
PATCH_SIZES = st.one_of(st.none(), st.integers(1, 64))
ODD_PATCH_SIZES = st.one_of(PATCH_SIZES, st.sampled_from([0, -3, 2.5, True, "8", 10**6]))


def assert_clear_error(error: Exception):
    assert isinstance(error, (ValueError, TypeError)), f"{type(error).__name__}: {error}"
    assert str(error).strip(), "the error has no message"


def assert_masked_result(features, missing: list[np.ndarray]):
    """The processor's documented result: the mask is exactly the non-NaN values, values are finite and zero where
    masked, real points have a time index in (0, 1)."""
    for index, sample_missing in enumerate(missing):
        channels, length = sample_missing.shape
        mask, values, time = (features[key][index] for key in ("sensor_mask", "sensor_values", "sensor_time"))
        assert int(mask.sum()) == int((~sample_missing).sum())
        assert int((time > 0).sum()) == channels * length
        assert bool(torch.isfinite(values).all()) and not bool(values[~mask].any())
        assert bool(((time > 0) & (time < 1))[mask].all())


# ---------------------------------------------------------------------------------------------------------------------
# The processor


@FUZZ
@given(
    samples=st.lists(sample(well_formed=False), min_size=1, max_size=3),
    as_batch_tensor=st.booleans(),
    rate=ODD_RATES,
    patch_size=ODD_PATCH_SIZES,
    with_text=st.booleans(),
)
def test_processor_gives_a_clear_error_or_the_masked_result(
    model_and_processor, samples, as_batch_tensor, rate, patch_size, with_text
):
    _, processor = model_and_processor
    inputs = [data for data, _ in samples]
    tensors = all(isinstance(data, torch.Tensor) and data.ndim == 2 for data in inputs)
    if as_batch_tensor and tensors and len({(data.shape, data.dtype) for data in inputs}) == 1:
        inputs = torch.stack(inputs)  # one [B, C, L] tensor
    text = ["a walk"] * len(samples) if with_text else None
    try:
        features = processor(sensors=inputs, text=text, sampling_rate=rate, patch_size=patch_size)
    except Exception as error:  # noqa: BLE001 - the assertion names any other type
        assert_clear_error(error)
        return
    missing = [sample_missing for _, sample_missing in samples]
    assert all(sample_missing is not None for sample_missing in missing), "a malformed input was accepted"
    assert len(features["patch_size"]) == len(samples)
    assert_masked_result(features, missing)


# ---------------------------------------------------------------------------------------------------------------------
# The pipelines


@st.composite
def pipeline_input(draw):
    """`(input, missing)`: a sample as is or in a dict with its own rate and patch size (missing: see `sample`)."""
    data, missing = draw(sample(well_formed=draw(st.integers(0, 3)) > 0))
    if isinstance(data, list) or draw(st.booleans()):  # a list is one sample only inside a dict
        data = {"sensors": data, "sampling_rate": draw(RATES), "patch_size": draw(PATCH_SIZES)}
    return data, missing


def run_pipeline(pipe, inputs, **kwargs):
    """The results, or None after checking that the error is a clear one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the all-NaN warning is tested in its own file
            return pipe([data for data, _ in inputs], batch_size=len(inputs), **kwargs)
    except Exception as error:  # noqa: BLE001 - the assertion names any other type
        assert_clear_error(error)
        return None


def check_observed_fraction(results, inputs):
    """Every result reports the fraction of observed values; an input that was malformed never gets a result."""
    assert all(missing is not None for _, missing in inputs), "a malformed input was accepted"
    for result, (_, missing) in zip(results, inputs):
        assert result["observed_fraction"] == pytest.approx(1 - missing.mean(), abs=1e-6)


@FUZZ
@given(inputs=st.lists(pipeline_input(), min_size=1, max_size=3), rate=RATES, patch_size=PATCH_SIZES)
def test_feature_extraction_pipeline_never_crashes_or_hides_missing_data(pipelines, inputs, rate, patch_size):
    results = run_pipeline(pipelines["features"], inputs, sampling_rate=rate, patch_size=patch_size)
    if results is None:
        return
    check_observed_fraction(results, inputs)
    for result in results:
        embeds = np.asarray(result["sensor_embeds"])
        if result["observed_fraction"] == 0:
            assert np.isnan(embeds).all()
        else:
            assert np.isfinite(embeds).all() and np.linalg.norm(embeds) == pytest.approx(1.0, abs=1e-4)


@FUZZ
@given(
    inputs=st.lists(pipeline_input(), min_size=1, max_size=3),
    rate=RATES,
    template=st.one_of(st.just(None), st.text(alphabet="{}ab :!0", max_size=6)),
)
def test_zero_shot_pipeline_never_crashes_or_hides_missing_data(pipelines, inputs, rate, template):
    kwargs = {} if template is None else {"hypothesis_template": template}
    results = run_pipeline(pipelines["zero-shot"], inputs, sampling_rate=rate, candidate_labels=LABELS, **kwargs)
    if results is None:
        return
    assert template is None or template.replace("{{", "").replace("}}", "").count("{}") == 1
    check_observed_fraction(results, inputs)
    for result in results:
        if result["observed_fraction"] == 0:
            assert result["labels"] == LABELS and all(math.isnan(score) for score in result["scores"])
        else:
            assert sorted(result["labels"]) == sorted(LABELS) and sum(result["scores"]) == pytest.approx(1.0)


@settings(FUZZ, max_examples=20)
@given(inputs=st.lists(pipeline_input(), min_size=1, max_size=2), rate=RATES, prompt=st.sampled_from([None, "The"]))
def test_captioning_pipeline_never_crashes_or_hides_missing_data(pipelines, inputs, rate, prompt):
    results = run_pipeline(pipelines["captioning"], inputs, sampling_rate=rate, prompt=prompt, max_new_tokens=2)
    if results is None:
        return
    check_observed_fraction([result[0] for result in results], inputs)
    for (result,) in results:
        assert isinstance(result["generated_text"], str)
        if result["observed_fraction"] == 0:
            assert result["generated_text"] == ""
