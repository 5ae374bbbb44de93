"""BLEU@4 (sacrebleu corpus BLEU, 0–1 scale). Load with `evaluate.load("<this folder>")`; works offline."""

from slip_sensor.evaluation.metrics.evaluate_module import caption_metric

CITATION = "Papineni et al., BLEU, ACL 2002; Post, A Call for Clarity in Reporting BLEU Scores, WMT 2018."
Bleu4 = caption_metric("bleu4", __doc__, CITATION)
