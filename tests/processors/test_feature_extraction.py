"""SlipFeatureExtractor: reference parity, layout, NaN masking, patch-size rule, edge cases, errors, fuzzing."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slip_sensor.processors.feature_extraction_slip import (
    ALL_PATCH_SIZES,
    PATCH_SIZE_BANDS,
    SlipFeatureExtractor,
    patch_size_band,
)

FIXTURE_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "reference_parity"
BANDS = {name: sizes for name, _, sizes in PATCH_SIZE_BANDS}


def naive_features(samples, patch_sizes, max_patches=384, eps=1e-6, normalization="mean_abs"):
    """The spec written as plainly as possible (loops, one sample / channel / timestep at a time)."""
    prepared = []
    for sample, ps in zip(samples, patch_sizes):
        x = np.asarray(sample).astype(np.float32)
        x = x[None] if x.ndim == 1 else x
        channels, length = x.shape
        num_patches = -(-length // ps)
        pad = num_patches * ps - length
        values = np.zeros((channels, num_patches * ps), np.float32)
        mask = np.zeros((channels, num_patches * ps), bool)
        time = np.zeros((channels, num_patches * ps), np.float32)
        for c in range(channels):
            observed = [v for v in x[c] if not np.isnan(v)]
            scale = np.mean(np.abs(np.array(observed, np.float32))) if observed else np.float32(0)
            for t in range(length):
                time[c, pad + t] = (t + 1) / (length + 1)
                if not np.isnan(x[c, t]):
                    mask[c, pad + t] = True
                    values[c, pad + t] = (
                        x[c, t] / (scale + np.float32(eps)) if normalization == "mean_abs" else x[c, t]
                    )
        kept = min(num_patches, max_patches)
        prepared.append(tuple(a.reshape(channels, num_patches, ps)[:, :kept] for a in (values, mask, time)))
    shape = (
        len(samples),
        max(p[0].shape[0] for p in prepared),
        max(p[0].shape[1] for p in prepared),
        max(patch_sizes),
    )
    out = [np.zeros(shape, np.float32), np.zeros(shape, bool), np.zeros(shape, np.float32)]
    for i, arrays in enumerate(prepared):
        channels, num_patches, ps = arrays[0].shape
        for array, target in zip(arrays, out):
            target[i, :channels, shape[2] - num_patches :, :ps] = array
    return out


def assert_matches_naive(features, samples, patch_sizes, **kwargs):
    values, mask, time = naive_features(samples, patch_sizes, **kwargs)
    np.testing.assert_array_equal(np.asarray(features["patch_size"]), patch_sizes)
    np.testing.assert_array_equal(np.asarray(features["sensor_mask"]), mask)
    np.testing.assert_allclose(np.asarray(features["sensor_values"]), values, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(features["sensor_time"]), time, rtol=1e-6, atol=1e-7)


@pytest.fixture(scope="module")
def feature_extractor():
    return SlipFeatureExtractor()


# ---------------------------------------------------------------------------------------------------------------------
# Reference parity and output contract


def test_reproduces_reference_fixture(feature_extractor):
    if not (FIXTURE_DIR / "inputs.safetensors").exists():
        pytest.skip(f"reference fixture not found at {FIXTURE_DIR}")
    from safetensors.numpy import load_file

    fixture = load_file(FIXTURE_DIR / "inputs.safetensors")
    patch_sizes = [16, 32, 8]
    raw = [fixture["raw_sample0"], fixture["raw_sample1"][0], fixture["raw_sample2"]]  # sample 1 as 1-D
    for return_tensors in ("pt", "np"):
        features = feature_extractor(raw, patch_size=patch_sizes, return_tensors=return_tensors)
        features = {key: np.asarray(value) for key, value in features.items()}
        assert features["sensor_values"].shape == (3, 3, 32, 32)
        np.testing.assert_array_equal(features["patch_size"], fixture["patch_sizes"])
        for i, ps in enumerate(patch_sizes):
            np.testing.assert_allclose(
                features["sensor_values"][i, ..., :ps], fixture[f"sample{i}_values"], atol=1e-6, rtol=0
            )
            np.testing.assert_allclose(
                features["sensor_time"][i, ..., :ps], fixture[f"sample{i}_time"], atol=1e-6, rtol=0
            )
            np.testing.assert_array_equal(features["sensor_mask"][i, ..., :ps], fixture[f"sample{i}_mask"])
            # positions ps_i..ps_max-1 are padding
            assert not features["sensor_mask"][i, ..., ps:].any()
            assert not features["sensor_values"][i, ..., ps:].any() and not features["sensor_time"][i, ..., ps:].any()
        np.testing.assert_array_equal(features["sensor_mask"].any(-1), fixture["patch_mask"])


@pytest.mark.parametrize("return_tensors", ["pt", "np", None])
def test_output_types_shapes_and_dtypes(feature_extractor, return_tensors):
    rng = np.random.default_rng(0)
    samples = [rng.standard_normal((2, 50)), rng.standard_normal(130), rng.standard_normal((4, 9))]
    features = feature_extractor(samples, patch_size=[4, 8, 2], return_tensors=return_tensors)
    assert list(features) == ["sensor_values", "sensor_mask", "sensor_time", "patch_size"]
    array_type, dtypes = (
        (torch.Tensor, (torch.float32, torch.bool, torch.float32, torch.int64))
        if return_tensors == "pt"
        else (np.ndarray, (np.float32, np.bool_, np.float32, np.int64))
    )
    for value, dtype in zip(features.values(), dtypes):
        assert isinstance(value, array_type) and value.dtype == dtype
    # V* = 4 channels, P* = max(13, 17, 5) patches, ps_max = 8
    assert tuple(features["sensor_values"].shape) == (3, 4, 17, 8)
    assert tuple(features["sensor_mask"].shape) == tuple(features["sensor_time"].shape) == (3, 4, 17, 8)
    assert tuple(features["patch_size"].shape) == (3,)


def test_layout_matches_naive_implementation(feature_extractor):
    rng = np.random.default_rng(1)
    samples = [
        rng.standard_normal((2, 10)) * 5,  # P=3 with 2 left-pad points
        rng.standard_normal(20) + 3,  # 1-D: one channel
        rng.standard_normal((3, 40)),
        rng.standard_normal((3, 40)),  # same shape as the previous one: processed together
    ]
    patch_sizes = [4, 8, 4, 4]
    features = feature_extractor(samples, patch_size=patch_sizes, return_tensors="np")
    assert_matches_naive(features, samples, patch_sizes)
    # sample 0: patches left-padded (10 - 3 = 7 empty patches), channel 2 appended, positions 4..7 of a patch empty
    mask = features["sensor_mask"][0]
    assert not mask[:, :7].any() and not mask[2].any() and not mask[..., 4:].any()
    assert mask[:2, 7, :2].sum() == 0 and mask[:2, 7, 2:4].all() and mask[:2, 8:, :4].all()


def test_batch_members_are_independent(feature_extractor):
    rng = np.random.default_rng(2)
    samples = [rng.standard_normal((3, 64)) for _ in range(3)] + [
        rng.standard_normal((1, 200)),
        rng.standard_normal(7),
    ]
    samples[1][0, 5:9] = np.nan
    batch = feature_extractor(samples, sampling_rate=[50, 50, 50, 1 / 3600, None], return_tensors="np")
    num_patches = batch["sensor_values"].shape[2]
    for i, (sample, rate) in enumerate(zip(samples, [50, 50, 50, 1 / 3600, None])):
        alone = feature_extractor(sample, sampling_rate=rate, return_tensors="np")
        _, channels, patches, ps = alone["sensor_values"].shape
        assert batch["patch_size"][i] == alone["patch_size"][0]
        for key in ("sensor_values", "sensor_mask", "sensor_time"):
            np.testing.assert_array_equal(batch[key][i, :channels, num_patches - patches :, :ps], alone[key][0])
            assert not batch[key][i].any(axis=-1).sum() > alone[key][0].any(axis=-1).sum()  # the rest is padding


@pytest.mark.parametrize(
    "make_input",
    [
        lambda x: x,  # [B, C, T] array
        lambda x: torch.from_numpy(x),  # [B, C, T] tensor
        lambda x: list(x),  # list of [C, T] arrays
        lambda x: [torch.from_numpy(s).requires_grad_() for s in x],  # tensors needing grad
        lambda x: [s.tolist() for s in x],  # nested Python lists, one [C][T] per sample
        lambda x: [s.astype(np.float64) for s in x],
    ],
)
def test_input_forms_agree(feature_extractor, make_input):
    x = np.random.default_rng(3).standard_normal((3, 2, 33)).astype(np.float32)
    expected = feature_extractor(list(x), sampling_rate=10.0, return_tensors="np")
    got = feature_extractor(make_input(x), sampling_rate=10.0, return_tensors="np")
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])


def test_single_sample_forms(feature_extractor):
    series = np.random.default_rng(4).standard_normal(50).astype(np.float32)
    reference = feature_extractor([series[None]], return_tensors="np")
    for single in (series, series[None], series.tolist(), torch.from_numpy(series).to(torch.bfloat16).float()):
        got = feature_extractor(single, return_tensors="np")
        for key in reference:
            np.testing.assert_allclose(got[key], reference[key], atol=1e-2 if isinstance(single, torch.Tensor) else 0)
    bf16 = feature_extractor(torch.from_numpy(series).to(torch.bfloat16), return_tensors="np")
    assert bf16["sensor_values"].dtype == np.float32 and bf16["sensor_mask"].all(-1).sum() > 0


def test_integer_and_bool_inputs_are_numeric(feature_extractor):
    samples = [np.arange(12, dtype=np.int16).reshape(2, 6), np.array([True, False, True, True])]
    features = feature_extractor(samples, patch_size=4, return_tensors="np")
    assert_matches_naive(features, samples, [4, 4])


def test_normalization_none_keeps_raw_values():
    x = np.array([[1.0, np.nan, -3.0, 250.0]], dtype=np.float32)
    features = SlipFeatureExtractor(normalization="none")(x, patch_size=2, return_tensors="np")
    np.testing.assert_array_equal(features["sensor_values"][0, 0].ravel(), [1.0, 0.0, -3.0, 250.0])
    np.testing.assert_array_equal(features["sensor_mask"][0, 0].ravel(), [True, False, True, True])


# ---------------------------------------------------------------------------------------------------------------------
# Missing values


def test_nan_is_masked_zeroed_and_ignored_by_normalisation(feature_extractor):
    x = np.array([[2.0, np.nan, -4.0, 6.0, np.nan, 8.0], [np.nan] * 6, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]], np.float32)
    features = feature_extractor(x, patch_size=3, return_tensors="np")
    values, mask, time = (features[k][0].reshape(3, 6) for k in ("sensor_values", "sensor_mask", "sensor_time"))
    observed = ~np.isnan(x)
    np.testing.assert_array_equal(mask, observed)
    assert (values[~observed] == 0).all()
    # channel 0: mean |x| over the 4 observed values = 5, NaNs do not count
    np.testing.assert_allclose(values[0, observed[0]], x[0, observed[0]] / (5 + 1e-6), rtol=1e-6)
    # an all-NaN channel stays 0 and fully masked, without disturbing the others
    assert not values[1].any() and not mask[1].any()
    np.testing.assert_allclose(values[2], 1 / (1 + 1e-6), rtol=1e-6)
    # NaN positions are real timesteps: they keep their time index
    np.testing.assert_allclose(time, np.broadcast_to(np.arange(1, 7) / 7, (3, 6)), rtol=1e-6)
    assert np.isfinite(values).all()


def test_values_near_the_float32_limit_do_not_collapse(feature_extractor):
    # the float32 sum of |x| overflows here; the mean must still be right (it is redone in float64)
    x = np.array([[3e38, -3e38, 1e38, np.nan]], dtype=np.float32)
    features = feature_extractor(x, patch_size=4, return_tensors="np")
    expected = x[0, :3].astype(np.float64) / (np.abs(x[0, :3].astype(np.float64)).mean() + 1e-6)
    np.testing.assert_allclose(features["sensor_values"][0, 0, 0, :3], expected, rtol=1e-6)


def test_nan_free_channels_unaffected_by_nan_elsewhere(feature_extractor):
    rng = np.random.default_rng(5)
    clean = rng.standard_normal((2, 40)).astype(np.float32)
    dirty = clean.copy()
    dirty[1, ::3] = np.nan
    a = feature_extractor(clean, patch_size=8, return_tensors="np")
    b = feature_extractor(dirty, patch_size=8, return_tensors="np")
    np.testing.assert_array_equal(a["sensor_values"][0, 0], b["sensor_values"][0, 0])


# ---------------------------------------------------------------------------------------------------------------------
# Patch size


def test_mixed_explicit_patch_sizes(feature_extractor):
    rng = np.random.default_rng(6)
    samples = [rng.standard_normal((2, 100)), rng.standard_normal((1, 64)), rng.standard_normal((3, 10))]
    features = feature_extractor(samples, patch_size=[5, 32, 1], return_tensors="pt")
    assert features["patch_size"].tolist() == [5, 32, 1]
    assert features["sensor_values"].shape[-1] == 32 and features["sensor_values"].shape[2] == 20
    assert_matches_naive(features, samples, [5, 32, 1])
    as_arrays = feature_extractor(samples, patch_size=torch.tensor([5, 32, 1]), sampling_rate=np.array([1.0, 2, 3]))
    np.testing.assert_array_equal(as_arrays["sensor_values"], features["sensor_values"].numpy())


def test_patch_size_list_with_none_uses_rule(feature_extractor):
    samples = [np.ones((1, 500)), np.ones((2, 500))]
    features = feature_extractor(samples, patch_size=[7, None], sampling_rate=100.0, return_tensors="np")
    assert features["patch_size"].tolist() == [7, feature_extractor.get_patch_size(2, 500, sampling_rate=100.0)]


def test_mixed_patch_sizes_from_sampling_rates(feature_extractor):
    rates = [1 / 86400, 1 / 3600, 1 / 60, 50.0, None]
    bands = ["daily", "hourly", "minute", "second", None]
    samples = [np.random.default_rng(i).standard_normal((2, 1000)) for i in range(len(rates))]
    features = feature_extractor(samples, sampling_rate=rates, return_tensors="np")
    for size, rate, band, sample in zip(features["patch_size"], rates, bands, samples):
        assert size in (BANDS[band] if band else ALL_PATCH_SIZES)
        assert size == feature_extractor.get_patch_size(*sample.shape, sampling_rate=rate)
    assert len(set(features["patch_size"].tolist())) > 1, "rates from different bands should mix patch sizes"
    assert_matches_naive(features, samples, features["patch_size"].tolist())


@pytest.mark.parametrize(
    ("rate", "band"),
    [
        (1 / (30 * 86400), "daily"),
        (1 / 86400, "daily"),
        (1 / 21600, "daily"),  # period exactly 6 h: still daily
        (1.01 / 21600, "hourly"),
        (1 / 3600, "hourly"),
        (1 / 900, "hourly"),
        (1 / 600, "hourly"),  # period exactly 10 min
        (1.01 / 600, "minute"),
        (0.001, "hourly"),  # period 1000 s
        (1 / 60, "minute"),
        (0.1, "minute"),  # period exactly 10 s
        (0.101, "second"),
        (1.0, "second"),
        (50.0, "second"),
        (10_000.0, "second"),
    ],
)
def test_sampling_rate_bands(rate, band):
    assert patch_size_band(rate) == BANDS[band]


@pytest.mark.parametrize("rate", [None, 1 / 86400, 1 / 3600, 0.001, 1 / 60, 1.0, 50.0, 10_000.0])
@pytest.mark.parametrize("num_channels", [1, 3, 6])
@pytest.mark.parametrize("length", [1, 7, 96, 512, 3000, 20_000])
def test_patch_size_is_the_best_fitting_candidate(feature_extractor, rate, num_channels, length):
    size = feature_extractor.get_patch_size(num_channels, length, sampling_rate=rate)
    band = patch_size_band(rate)
    fitting = [c for c in band if -(-length // c) <= feature_extractor.max_patches]
    if not fitting:  # escalation: the smallest larger candidate that fits, else the largest candidate
        larger = [c for c in ALL_PATCH_SIZES if c > max(band) and -(-length // c) <= feature_extractor.max_patches]
        assert size == (larger[0] if larger else max(ALL_PATCH_SIZES))
        return
    assert size in fitting

    def error(candidate):
        return abs(np.log(num_channels * -(-length // candidate) / feature_extractor.token_budget))

    assert all(error(size) <= error(other) + 1e-12 for other in fitting)
    assert all(size <= other for other in fitting if error(other) == error(size))  # ties: smaller patch size


def test_patch_size_grows_with_length_and_budget():
    small, large = SlipFeatureExtractor(token_budget=50), SlipFeatureExtractor(token_budget=1000)
    sizes = [small.get_patch_size(2, length, sampling_rate=50.0) for length in (100, 1000, 5000, 40_000)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert small.get_patch_size(2, 5000, sampling_rate=50.0) > large.get_patch_size(2, 5000, sampling_rate=50.0)


def test_patch_size_escalates_past_the_band_instead_of_truncating(feature_extractor):
    # daily band {16, 32}: 20 000 points need 625 patches at 32, so the next paper candidate (64) is used
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        features = feature_extractor(np.ones((1, 20_000)), sampling_rate=1 / 86400, return_tensors="np")
    assert features["patch_size"][0] == 64 and features["sensor_values"].shape[2] == 313
    assert features["sensor_mask"].sum() == 20_000


# ---------------------------------------------------------------------------------------------------------------------
# Edge cases


def test_length_one(feature_extractor):
    features = feature_extractor(np.array([-3.0]), return_tensors="np")
    ps = features["patch_size"][0]
    assert features["sensor_values"].shape == (1, 1, 1, ps)
    np.testing.assert_allclose(features["sensor_values"][0, 0, 0, -1], -3 / (3 + 1e-6), rtol=1e-6)
    np.testing.assert_allclose(features["sensor_time"][0, 0, 0, -1], 0.5)
    assert features["sensor_mask"][0, 0, 0].sum() == 1 and features["sensor_mask"][0, 0, 0, -1]


@pytest.mark.parametrize("rate", [None, 10_000.0, 0.001])
def test_very_long_series_is_truncated_with_a_warning(feature_extractor, rate):
    length = 1_000_000
    x = np.random.default_rng(7).standard_normal((2, length)).astype(np.float32)
    with pytest.warns(UserWarning, match=r"max_patches=384.*first 384 patches"):
        features = feature_extractor(x, sampling_rate=rate, return_tensors="np")
    ps = features["patch_size"][0]
    assert ps == max(ALL_PATCH_SIZES) and features["sensor_values"].shape == (1, 2, 384, ps)
    pad = -length % ps
    kept = 384 * ps - pad
    scale = np.abs(x).mean(-1, keepdims=True) + 1e-6  # normalised with the statistics of the whole series
    flat = features["sensor_values"][0].reshape(2, -1)
    np.testing.assert_allclose(flat[:, pad:], x[:, :kept] / scale, rtol=1e-5)
    np.testing.assert_allclose(
        features["sensor_time"][0].reshape(2, -1)[0, pad:], np.arange(1, kept + 1) / (length + 1), rtol=1e-6
    )


def test_explicit_patch_size_with_too_many_patches_warns(feature_extractor):
    with pytest.warns(UserWarning, match="sample 0 "):
        features = feature_extractor(np.ones(1000), patch_size=1, return_tensors="np")
    assert features["sensor_values"].shape == (1, 1, 384, 1) and features["sensor_mask"].all()


def test_no_warning_without_truncation(feature_extractor):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        feature_extractor([np.ones((6, 49_152)), np.ones(3)], sampling_rate=[10_000.0, 0.001], return_tensors="np")


def test_any_channel_count_is_accepted(feature_extractor):
    """More channels than max_channels (the pretraining subset size) are all kept, in order, each normalised on its
    own: JapaneseVowels-like 12 channels next to a 2-channel sample."""
    assert feature_extractor.max_channels == 6
    rng = np.random.default_rng(12)
    wide = rng.standard_normal((12, 29)) * np.arange(1, 13)[:, None]  # a different scale per channel
    narrow = rng.standard_normal((2, 29))
    features = feature_extractor([narrow, wide], sampling_rate=10.0, return_tensors="np")
    assert features["sensor_values"].shape[:2] == (2, 12)
    assert features["sensor_mask"][1].any(axis=(1, 2)).all()  # all 12 channel rows of the wide sample are real
    assert not features["sensor_mask"][0, 2:].any()  # the narrow sample's rows 2..11 are padding
    assert_matches_naive(features, [narrow, wide], features["patch_size"].tolist())
    ps = features["patch_size"][1]
    assert ps == feature_extractor.get_patch_size(12, 29, sampling_rate=10.0)
    pad = -29 % ps
    flat = features["sensor_values"][1].reshape(12, -1)[:, -(29 + pad) :][:, pad:]
    np.testing.assert_allclose(flat, wide / np.abs(wide.astype(np.float32)).mean(axis=1, keepdims=True), rtol=1e-5)
    many = feature_extractor(np.ones((64, 1000)), sampling_rate=50.0, return_tensors="np")
    assert many["sensor_values"].shape[1] == 64 and many["sensor_mask"].any(axis=(2, 3)).all()
    assert many["patch_size"][0] == feature_extractor.get_patch_size(64, 1000, sampling_rate=50.0)


def test_token_bound_refuses_oversized_samples():
    feature_extractor = SlipFeatureExtractor(max_tokens_per_sample=100)
    # 10 channels x 10 patches = 100 tokens: exactly at the bound, accepted
    features = feature_extractor(np.ones((10, 40)), patch_size=4, return_tensors="np")
    assert features["sensor_values"].shape[:3] == (1, 10, 10)
    message = (
        r"Sample 1 has 11 channels x 10 patches \(patch size 4\) = 110 tokens, more than "
        r"max_tokens_per_sample=100\. If memory allows, raise the bound \(SlipFeatureExtractor\(max_tokens_per_sample="
    )
    with pytest.raises(ValueError, match=message):
        feature_extractor([np.ones((2, 40)), np.ones((11, 40))], patch_size=4)
    # the count is of the patches kept after the max_patches truncation
    truncating = SlipFeatureExtractor(max_patches=5, max_tokens_per_sample=50)
    with pytest.warns(UserWarning, match="max_patches=5"):
        features = truncating(np.ones((10, 400)), patch_size=4, return_tensors="np")
    assert features["sensor_values"].shape[:3] == (1, 10, 5)
    with pytest.raises(ValueError, match=r"11 channels x 5 patches .* = 55 tokens, more than max_tokens_per_sample=50"):
        truncating(np.ones((11, 400)), patch_size=4)


def test_default_token_bound(feature_extractor):
    assert feature_extractor.max_tokens_per_sample == 6 * 384 * 4
    features = feature_extractor(np.ones((24, 384)), patch_size=1, return_tensors="np")  # 24 x 384 = 9216 tokens
    assert features["sensor_values"].shape[:3] == (1, 24, 384)
    with pytest.raises(ValueError, match=r"25 channels x 384 patches .* = 9600 tokens, .*max_tokens_per_sample=9216"):
        feature_extractor(np.ones((25, 384)), patch_size=1)


def test_save_and_load_round_trip(tmp_path):
    feature_extractor = SlipFeatureExtractor(
        normalization="none", token_budget=128, max_channels=9, max_patches=100, max_tokens_per_sample=1234
    )
    feature_extractor.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "preprocessor_config.json").read_text())
    assert config["feature_extractor_type"] == "SlipFeatureExtractor" and config["token_budget"] == 128
    assert config["max_tokens_per_sample"] == 1234
    loaded = SlipFeatureExtractor.from_pretrained(tmp_path)
    assert loaded.to_dict() == feature_extractor.to_dict() and loaded.max_tokens_per_sample == 1234
    x = [np.random.default_rng(8).standard_normal((9, 700))]
    expected, got = feature_extractor(x, return_tensors="np"), loaded(x, return_tensors="np")
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])


def test_config_saved_before_the_token_bound_loads_with_the_default(tmp_path):
    SlipFeatureExtractor(max_channels=6, max_tokens_per_sample=77).save_pretrained(tmp_path)
    path = tmp_path / "preprocessor_config.json"
    config = json.loads(path.read_text())
    del config["max_tokens_per_sample"]
    path.write_text(json.dumps(config))
    loaded = SlipFeatureExtractor.from_pretrained(tmp_path)
    assert loaded.max_tokens_per_sample == 6 * 384 * 4 and loaded.max_channels == 6
    assert loaded(np.ones((12, 50)), return_tensors="np")["sensor_values"].shape[1] == 12


# ---------------------------------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    ("sensors", "kwargs", "message"),
    [
        ([], {}, "empty batch"),
        (np.zeros((0, 3, 10)), {}, "empty batch"),
        (np.zeros((0, 10)), {}, "no channels"),
        ([np.ones(5), np.zeros((2, 0))], {}, "Sample 1 has zero-length channels"),
        (np.zeros(0), {}, "zero-length"),
        (np.zeros((2, 3, 4, 5)), {}, "4 dimensions"),
        ([np.zeros((2, 3, 4))], {}, "Sample 0 has 3 dimensions"),
        ([np.ones(3), np.array(1.0)], {}, "Sample 1 has 0 dimensions"),
        ("not a series", {}, "must be a numpy array"),
        (3.0, {}, "must be a numpy array"),
        ([np.array(["a", "b"])], {}, "dtype <U1"),
        ([np.array([1 + 2j, 3])], {}, "dtype complex128"),
        ([np.array([1.0, None], dtype=object)], {}, "dtype object"),
        ([torch.tensor([1 + 1j, 2])], {}, "dtype complex"),
        ([[1.0, 2.0], [1.0]], {}, None),  # one-element channel is fine ...
        (
            [[[1.0, 2.0], [1.0]]],
            {},
            "cannot be read as a numeric array",
        ),  # ... ragged channels within a sample are not
        ([np.array([1.0, np.inf])], {}, "infinite"),
        ([np.array([[1.0, 2.0], [-np.inf, 0.0]])], {}, "infinite"),
        ([np.array([1e300, 1.0])], {}, "outside the float32 range"),
        (np.ones(10), {"sampling_rate": 0}, "sampling_rate must be a finite number of Hz > 0"),
        (np.ones(10), {"sampling_rate": -5.0}, "sampling_rate must be a finite number"),
        (np.ones(10), {"sampling_rate": float("nan")}, "sampling_rate must be a finite number"),
        (np.ones(10), {"sampling_rate": float("inf")}, "sampling_rate must be a finite number"),
        (np.ones(10), {"sampling_rate": 10**400}, "sampling_rate must be a finite number"),
        (np.ones(10), {"sampling_rate": "50Hz"}, "sampling_rate must be a number"),
        (np.ones(10), {"sampling_rate": True}, "sampling_rate must be a number"),
        ([np.ones(10)] * 3, {"sampling_rate": [1.0, 2.0]}, "Got 2 sampling_rate values for a batch of 3"),
        ([np.ones(10)] * 2, {"sampling_rate": [1.0, 0.0]}, "sampling_rate must be a finite number"),
        ([np.ones(10)] * 2, {"patch_size": [4, 4, 4]}, "Got 3 patch_size values for a batch of 2"),
        (np.ones(10), {"patch_size": 0}, "patch_size must be an integer >= 1"),
        (np.ones(10), {"patch_size": -3}, "patch_size must be an integer >= 1"),
        (np.ones(10), {"patch_size": 2.5}, "patch_size must be an integer >= 1"),
        (np.ones(10), {"patch_size": True}, "patch_size must be an integer >= 1"),
        ([np.ones(10)] * 2, {"patch_size": torch.ones(2, 3, dtype=torch.long)}, "patch_size must be an integer"),
        ([np.ones(10)] * 2, {"sampling_rate": np.ones((2, 2))}, "sampling_rate must be a number"),
        ([[torch.ones(3, requires_grad=True)] * 2], {}, "cannot be read as a numeric array"),
    ],
)
def test_bad_input_raises_value_error(feature_extractor, sensors, kwargs, message):
    if message is None:
        feature_extractor(sensors, **kwargs)
        return
    with pytest.raises(ValueError, match=message):
        feature_extractor(sensors, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"normalization": "zscore"}, "normalization must be one of"),
        ({"max_channels": 0}, "max_channels must be a positive integer"),
        ({"max_patches": 2.5}, "max_patches must be a positive integer"),
        ({"token_budget": -1}, "token_budget must be a positive integer"),
        ({"max_tokens_per_sample": 0}, "max_tokens_per_sample must be a positive integer"),
        ({"max_tokens_per_sample": 9216.0}, "max_tokens_per_sample must be a positive integer"),
    ],
)
def test_bad_config_raises_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SlipFeatureExtractor(**kwargs)


def test_get_patch_size_validates_arguments(feature_extractor):
    with pytest.raises(ValueError, match="integers >= 1"):
        feature_extractor.get_patch_size(0, 100)
    with pytest.raises(ValueError, match="sampling_rate"):
        feature_extractor.get_patch_size(1, 100, sampling_rate=-1.0)


# ---------------------------------------------------------------------------------------------------------------------
# Fuzzing: any input either raises ValueError or gives exactly what the naive implementation gives

DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, np.bool_]
VALID_RATES = st.one_of(st.none(), st.floats(min_value=1e-7, max_value=1e5), st.integers(1, 10**5))
ANY_RATES = st.one_of(VALID_RATES, st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 0))


@st.composite
def fuzz_case(draw):
    """Three cases in four are well-formed (and checked against the naive implementation); the others may be
    malformed in any way (shapes, channel counts, rates, patch sizes)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    well_formed = draw(st.integers(0, 3)) > 0
    samples = []
    for _ in range(draw(st.integers(1, 4))):
        if well_formed:
            shape = (draw(st.integers(1, 14)), draw(st.integers(1, 300)))[-draw(st.integers(1, 2)) :]
        else:
            shape = tuple(draw(st.integers(0, 8)) for _ in range(draw(st.integers(0, 3)))) + (
                draw(st.integers(0, 300)),
            )
        dtype = draw(st.sampled_from(DTYPES))
        values = rng.standard_normal(shape) * 10.0 ** draw(st.integers(-3, 6))
        if np.issubdtype(dtype, np.floating):
            values[rng.random(shape) < draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))] = np.nan
        with np.errstate(invalid="ignore", over="ignore"):
            samples.append(values.astype(dtype))
    rates = VALID_RATES if well_formed else ANY_RATES
    sizes = st.one_of(st.none(), st.integers(1 if well_formed else -2, 200))
    rate = [draw(rates) for _ in samples] if draw(st.booleans()) else draw(rates)
    patch_size = [draw(sizes) for _ in samples] if draw(st.booleans()) else draw(sizes)
    return samples, rate, patch_size


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=fuzz_case(), max_patches=st.sampled_from([8, 384]), normalization=st.sampled_from(["mean_abs", "none"]))
def test_fuzz_only_value_errors_and_matches_naive(case, max_patches, normalization):
    samples, rate, patch_size = case
    feature_extractor = SlipFeatureExtractor(max_patches=max_patches, normalization=normalization)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # truncation warnings are expected with max_patches=8
        try:
            features = feature_extractor(samples, sampling_rate=rate, patch_size=patch_size, return_tensors="np")
        except ValueError:
            return
    assert np.isfinite(features["sensor_values"]).all() or normalization == "none"  # raw float16 may overflow
    assert ((features["sensor_time"] > 0) & (features["sensor_time"] < 1))[features["sensor_mask"]].all()
    assert_matches_naive(
        features, samples, features["patch_size"].tolist(), max_patches=max_patches, normalization=normalization
    )


# ---------------------------------------------------------------------------------------------------------------------
# pad and shape_key: the batch layout and the shape a sample takes


@pytest.mark.parametrize(
    ("num_channels", "length", "rate", "size"),
    [(3, 500, 50.0, None), (1, 100_000, 50.0, None), (12, 64, None, None), (2, 333, 1 / 3600, 8), (4, 7, 1.0, 128)],
)
def test_shape_key_is_the_shape_a_sample_takes(num_channels, length, rate, size):
    extractor = SlipFeatureExtractor()
    sample = np.ones((num_channels, length), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the long series is truncated, with a warning
        out = extractor(sample, sampling_rate=rate, patch_size=size)
    channels, patches, patch_size = extractor.shape_key(num_channels, length, sampling_rate=rate, patch_size=size)
    assert out["sensor_values"].shape[1:3] == (channels, patches) and out["patch_size"][0] == patch_size


def test_pad_of_separate_calls_equals_one_call():
    extractor = SlipFeatureExtractor()
    rng = np.random.default_rng(3)
    samples = [rng.normal(size=shape).astype(np.float32) for shape in [(3, 200), (1, 4000), (6, 64), (2, 333)]]
    samples[3][1, 10:40] = np.nan
    rates = [50.0, 1.0, None, 1 / 60]
    whole = extractor(samples, sampling_rate=rates)
    parts = [
        extractor(samples[:1], sampling_rate=rates[:1], return_tensors="pt"),
        extractor(samples[1:3], sampling_rate=rates[1:3]),
        extractor(samples[3:], sampling_rate=rates[3:]),
    ]
    padded = extractor.pad(parts)
    assert padded.keys() == whole.keys()
    for key in whole:
        np.testing.assert_array_equal(padded[key], whole[key], err_msg=key)
    np.testing.assert_array_equal(extractor.pad([whole])["sensor_values"], whole["sensor_values"])
    with pytest.raises(ValueError, match="at least one"):
        extractor.pad([])
