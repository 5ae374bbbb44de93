import numpy as np

from slip_sensor.evaluation.feature_cache import FeatureCache, arrays_fingerprint


class _Counter:
    def __init__(self, value: float):
        self.calls, self.value = 0, value

    def __call__(self) -> dict[str, np.ndarray]:
        self.calls += 1
        return {"train": np.full((2, 3), self.value, dtype=np.float32), "test": np.arange(4)}


def test_computes_once_then_reads_from_disk(tmp_path):
    cache, compute = FeatureCache(tmp_path), _Counter(1.5)
    key = {"encoder": "abc", "dataset": "basicmotions", "kind": "token_mean"}
    first = cache.get(key, compute)
    second = FeatureCache(tmp_path).get(key, compute)  # a new cache object: only the file can supply it
    assert compute.calls == 1
    assert cache.path(key).name.startswith("basicmotions-token_mean-")
    for name in ("train", "test"):
        np.testing.assert_array_equal(first[name], second[name])
        assert first[name].dtype == second[name].dtype
    assert [p.name for p in tmp_path.iterdir()] == [cache.path(key).name]  # no temporary file left


def test_different_key_recomputes(tmp_path):
    cache, compute = FeatureCache(tmp_path), _Counter(0.0)
    cache.get({"encoder": "a", "dataset": "d"}, compute)
    cache.get({"encoder": "b", "dataset": "d"}, compute)
    assert compute.calls == 2


def test_disabled_cache_always_computes():
    cache, compute = FeatureCache(None), _Counter(0.0)
    cache.get({"encoder": "a"}, compute)
    cache.get({"encoder": "a"}, compute)
    assert compute.calls == 2


def test_arrays_fingerprint_sees_content_shape_and_dtype():
    a = np.arange(6, dtype=np.float32)
    assert arrays_fingerprint([a]) == arrays_fingerprint([a.copy()])
    assert arrays_fingerprint([a]) != arrays_fingerprint([a + 1])
    assert arrays_fingerprint([a]) != arrays_fingerprint([a.reshape(2, 3)])
    assert arrays_fingerprint([a]) != arrays_fingerprint([a.astype(np.float64)])
    assert arrays_fingerprint([a[:3], a[3:]]) != arrays_fingerprint([a])
