"""METEOR (nltk; exact+stem, plus WordNet synonyms when available — see `meteor_variant` in the output). Load
with `evaluate.load("<this folder>")`; works offline."""

from slip_sensor.evaluation.metrics.evaluate_module import caption_metric

CITATION = "Banerjee and Lavie, METEOR, ACL 2005 Workshop on Intrinsic and Extrinsic Evaluation Measures."
Meteor = caption_metric("meteor", __doc__, CITATION)
