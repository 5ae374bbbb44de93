"""BLEU@4 (sacrebleu corpus BLEU, 0–1 scale). Load with `evaluate.load("<this folder>")`; works offline."""

import evaluate

from slip_sensor.evaluation.metrics.evaluate_module import caption_metric_info
from slip_sensor.evaluation.metrics.scorers.bleu import bleu4

CITATION = "Papineni et al., BLEU, ACL 2002; Post, A Call for Clarity in Reporting BLEU Scores, WMT 2018."


class Bleu4(evaluate.Metric):
    def _info(self):
        return caption_metric_info(__doc__, CITATION)

    def _compute(self, predictions, references):
        return bleu4(predictions, references)
