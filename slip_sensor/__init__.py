"""SLIP: Sensor Language-Informed Pretraining, as a Hugging Face Hub-native package.

`import slip_sensor` is light (no torch, no transformers): the names below are imported on first access, and that
first access registers the SLIP classes with transformers' Auto classes and pipeline tasks (`register_auto_classes`).
"""

from . import modeling_slip, processors
from .auto_registration import register_auto_classes
from .lazy_exports import lazy_exports

__version__ = "0.1.0"

_exports, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".modeling_slip": modeling_slip.__all__,
        ".processors": ("SlipFeatureExtractor", "SlipProcessor"),
        ".shipped_models": ("pretrained",),
    },
    register_auto_classes,
)
__all__ = [*_exports, "__version__", "register_auto_classes"]
