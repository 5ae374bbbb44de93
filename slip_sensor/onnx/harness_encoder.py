"""The evaluation harness's `SensorTextEncoder` over an exported ONNX folder, so `evaluate_tasks` and
`evaluate_retrieval` score the deployed graphs (fp32 or int8) with the same protocol as the PyTorch model."""

import os
from collections.abc import Sequence

import numpy as np

from slip_sensor.evaluation.feature_cache import fingerprint
from slip_sensor.file_hash import file_sha256

from .slip_onnx_runner import SlipOnnxEncoder


class OnnxSensorTextEncoder:
    """`SensorTextEncoder` (see `slip_sensor.evaluation.harness`) backed by a [`SlipOnnxEncoder`].

    Args:
        folder: a folder written by `slip export-onnx`.
        precision: `"fp32"` or `"int8"`.
        batch_size: recordings or texts per ONNX Runtime call.
    """

    def __init__(self, folder: str | os.PathLike, precision: str = "fp32", batch_size: int = 32):
        self.runner = SlipOnnxEncoder(folder, precision=precision, batch_size=batch_size)
        # the graphs' hashes and the runner's settings: any change of weights, precision or preprocessing is a new key
        graphs = [file_sha256(path) for _, path in sorted(self.runner.files.items())]
        self.fingerprint = fingerprint(["onnx", precision, repr(sorted(self.runner.config.items())), *graphs])

    def token_features(self, sensors: Sequence[np.ndarray], sampling_rate: float) -> np.ndarray:
        return self.runner.encode_sensors(list(sensors), sampling_rate)["token_features"]

    def sensor_embeddings(self, sensors: Sequence[np.ndarray], sampling_rate: float) -> np.ndarray:
        return self.runner.embed_sensors(list(sensors), sampling_rate)

    def text_embeddings(self, texts: Sequence[str]) -> np.ndarray:
        return self.runner.embed_text(list(texts))


__all__ = ["OnnxSensorTextEncoder"]
