"""SLIP: Sensor Language-Informed Pretraining, as a Hugging Face Hub-native package."""

from .modeling_slip.configuration_slip import SLIP_PRESETS, SlipConfig, SlipSensorConfig
from .modeling_slip.modeling_slip import (
    SlipForConditionalGeneration,
    SlipModel,
    SlipPreTrainedModel,
    SlipSensorModel,
)

__version__ = "0.1.0"

__all__ = [
    "SLIP_PRESETS",
    "SlipConfig",
    "SlipForConditionalGeneration",
    "SlipModel",
    "SlipPreTrainedModel",
    "SlipSensorConfig",
    "SlipSensorModel",
    "__version__",
]
