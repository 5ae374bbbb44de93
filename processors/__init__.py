"""SLIP processing: sensor feature extractor, processor (feature extractor + tokenizer), caption tokenizer trainer.

Each name is imported on first access, which also registers the SLIP classes with transformers' Auto classes and
pipeline tasks (`slip_sensor.register_auto_classes`)."""

from ..auto_registration import register_auto_classes
from ..lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".feature_extraction_slip": ("SlipFeatureExtractor",),
        ".processing_slip": ("SlipProcessor",),
        ".tokenizer_training": ("train_caption_tokenizer",),
    },
    register_auto_classes,
)
