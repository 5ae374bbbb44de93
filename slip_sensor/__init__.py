"""SLIP: Sensor Language-Informed Pretraining, as a Hugging Face Hub-native package."""

from .modeling_slip.configuration_slip import SLIP_PRESETS, SlipConfig, SlipSensorConfig

__version__ = "0.1.0"

__all__ = ["SLIP_PRESETS", "SlipConfig", "SlipSensorConfig", "__version__"]
