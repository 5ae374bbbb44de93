"""METEOR (nltk; exact+stem, plus WordNet synonyms when available — see `meteor_variant` in the output). Load
with `evaluate.load("<this folder>")`; works offline."""

import evaluate

from slip_sensor.evaluation.metrics.evaluate_module import caption_metric_info
from slip_sensor.evaluation.metrics.scorers.meteor import meteor

CITATION = "Banerjee and Lavie, METEOR, ACL 2005 Workshop on Intrinsic and Extrinsic Evaluation Measures."


class Meteor(evaluate.Metric):
    def _info(self):
        return caption_metric_info(__doc__, CITATION)

    def _compute(self, predictions, references):
        return meteor(predictions, references)
