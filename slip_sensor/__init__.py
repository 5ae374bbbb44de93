"""SLIP: Sensor Language-Informed Pretraining, as a Hugging Face Hub-native package."""

from .auto_registration import register_auto_classes
from .modeling_slip.cache_slip import SlipStaticCache
from .modeling_slip.configuration_slip import SLIP_PRESETS, SlipConfig, SlipSensorConfig
from .modeling_slip.modeling_slip import (
    SlipForConditionalGeneration,
    SlipModel,
    SlipPreTrainedModel,
    SlipSensorModel,
)
from .modeling_slip.pipeline_slip import (
    SensorCaptioningPipeline,
    SensorFeatureExtractionPipeline,
    ZeroShotSensorClassificationPipeline,
)
from .processors import SlipFeatureExtractor, SlipProcessor
from .shipped_models import pretrained

__version__ = "0.1.0"

# Auto classes and pipeline tasks resolve to the installed classes, without trust_remote_code.
register_auto_classes()

__all__ = [
    "SLIP_PRESETS",
    "SensorCaptioningPipeline",
    "SensorFeatureExtractionPipeline",
    "SlipConfig",
    "SlipFeatureExtractor",
    "SlipForConditionalGeneration",
    "SlipModel",
    "SlipPreTrainedModel",
    "SlipProcessor",
    "SlipSensorConfig",
    "SlipSensorModel",
    "SlipStaticCache",
    "ZeroShotSensorClassificationPipeline",
    "__version__",
    "pretrained",
]
