"""SLIP configuration, models, static cache and pipelines. Each name is imported on first access, which also
registers the SLIP classes with transformers' Auto classes and pipeline tasks (`slip_sensor.register_auto_classes`)."""

from ..auto_registration import register_auto_classes
from ..lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".configuration_slip": ("SLIP_PRESETS", "SlipConfig", "SlipSensorConfig"),
        ".modeling_slip": ("SlipForConditionalGeneration", "SlipModel", "SlipPreTrainedModel", "SlipSensorModel"),
        ".classification_slip": ("SlipForSensorClassification",),
        ".cache_slip": ("SlipStaticCache",),
        ".pipeline_slip": (
            "SensorCaptioningPipeline",
            "SensorClassificationPipeline",
            "SensorFeatureExtractionPipeline",
            "ZeroShotSensorClassificationPipeline",
        ),
    },
    register_auto_classes,
)
