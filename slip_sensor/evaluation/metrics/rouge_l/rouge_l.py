"""ROUGE-L (rouge_score, Porter stemmer, mean sentence F-measure). Load with `evaluate.load("<this folder>")`;
works offline."""

from slip_sensor.evaluation.metrics.evaluate_module import caption_metric

CITATION = "Lin, ROUGE: A Package for Automatic Evaluation of Summaries, ACL 2004 Workshop."
RougeL = caption_metric("rouge_l", __doc__, CITATION)
