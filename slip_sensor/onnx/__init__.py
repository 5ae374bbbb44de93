"""ONNX deployment of SLIP's towers: `slip export-onnx` (`export_onnx`), the numpy + onnxruntime runner
(`SlipOnnxEncoder`, the same file that is copied into every exported folder) and the evaluation harness's encoder
over an exported folder (`OnnxSensorTextEncoder`). Importing this namespace loads neither torch nor onnxruntime."""

from ..lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".export": ("export_onnx", "quantize_int8"),
        ".harness_encoder": ("OnnxSensorTextEncoder",),
        ".slip_onnx_runner": ("SlipOnnxEncoder",),
    },
)
