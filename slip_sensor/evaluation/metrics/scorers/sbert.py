"""SBERT similarity: mean cosine between the sentence embeddings of each prediction and its (best) reference."""

from typing import Sequence

from . import best_per_prediction, flatten, reference_lists
from .minilm import model_description, sentence_model


def sbert_cosine(
    predictions: Sequence[str], references: Sequence[str] | Sequence[Sequence[str]], batch_size: int = 64
) -> dict:
    """`{"sbert_cosine": mean cosine in [-1, 1], "sbert_model": the encoder used}` (MiniLM mean-pooled embeddings)."""
    flat, owners = flatten(reference_lists(predictions, references))
    model = sentence_model()
    encode = dict(batch_size=batch_size, convert_to_tensor=True, normalize_embeddings=True)
    cosine = (model.encode(list(predictions), **encode)[owners] * model.encode(flat, **encode)).sum(dim=-1)
    best = best_per_prediction(cosine, owners, len(predictions))
    return {"sbert_cosine": float(best.mean()), "sbert_model": model_description()}
