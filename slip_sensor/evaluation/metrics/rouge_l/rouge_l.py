"""ROUGE-L (rouge_score, Porter stemmer, mean sentence F-measure). Load with `evaluate.load("<this folder>")`;
works offline."""

import evaluate

from slip_sensor.evaluation.metrics.evaluate_module import caption_metric_info
from slip_sensor.evaluation.metrics.scorers.rouge import rouge_l

CITATION = "Lin, ROUGE: A Package for Automatic Evaluation of Summaries, ACL 2004 Workshop."


class RougeL(evaluate.Metric):
    def _info(self):
        return caption_metric_info(__doc__, CITATION)

    def _compute(self, predictions, references):
        return rouge_l(predictions, references)
