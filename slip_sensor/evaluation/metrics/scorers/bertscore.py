"""BERTScore (bert_score's greedy cosine matching) on the last layer of the shared MiniLM encoder.

bert_score's own `score()` would load a second copy of the model, so its matching routine is called with the
encoder the SBERT metric already holds. Settings: layer 6 of 6, no IDF weighting, no baseline rescaling (no MiniLM
baseline is published); equal to `bert_score.score(model_type=<MiniLM dir>, num_layers=6)`, including its rule for
several references (per prediction, the maximum of each of P, R and F over them).
"""

from collections import defaultdict
from importlib.metadata import version
from typing import Sequence

from bert_score.utils import bert_cos_score_idf

from . import best_per_prediction, flatten, reference_lists
from .minilm import model_description, sentence_model


def bertscore(
    predictions: Sequence[str], references: Sequence[str] | Sequence[Sequence[str]], batch_size: int = 64
) -> dict:
    """`{"bertscore_precision", "bertscore_recall", "bertscore_f1"}` (corpus means) and `"bertscore_model"`."""
    flat, owners = flatten(reference_lists(predictions, references))
    model = sentence_model()
    encoder, tokenizer = model[0].auto_model, model.tokenizer
    # no IDF: every token weighs 1 except [CLS]/[SEP], as bert_score does with idf=False
    idf = defaultdict(lambda: 1.0, {tokenizer.sep_token_id: 0.0, tokenizer.cls_token_id: 0.0})
    candidates = [predictions[i] for i in owners]
    scores = bert_cos_score_idf(encoder, flat, candidates, tokenizer, idf, batch_size=batch_size, device=model.device)
    best = best_per_prediction(scores, owners, len(predictions))  # [N, 3]: P, R, F
    precision, recall, f1 = best.mean(dim=0).tolist()
    settings = f"layer 6/6, no idf, no rescaling, bert_score {version('bert-score')}"
    return {
        "bertscore_precision": precision,
        "bertscore_recall": recall,
        "bertscore_f1": f1,
        "bertscore_model": f"{model_description()}, {settings}",
    }
