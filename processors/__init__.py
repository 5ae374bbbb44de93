"""SLIP processing: sensor feature extractor, processor (feature extractor + tokenizer), caption tokenizer trainer."""

from .feature_extraction_slip import SlipFeatureExtractor
from .processing_slip import SlipProcessor
from .tokenizer_training import train_caption_tokenizer

__all__ = ["SlipFeatureExtractor", "SlipProcessor", "train_caption_tokenizer"]
