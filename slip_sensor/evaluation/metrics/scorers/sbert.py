"""SBERT similarity: mean cosine between the sentence embeddings of each prediction and its reference."""

from typing import Sequence

from . import check_pairs
from .minilm import model_description, sentence_model


def sbert_cosine(predictions: Sequence[str], references: Sequence[str], batch_size: int = 64) -> dict:
    """`{"sbert_cosine": mean cosine in [-1, 1], "sbert_model": the encoder used}` (MiniLM mean-pooled embeddings)."""
    check_pairs(predictions, references)
    model = sentence_model()
    encode = dict(batch_size=batch_size, convert_to_tensor=True, normalize_embeddings=True)
    cosine = (model.encode(list(predictions), **encode) * model.encode(list(references), **encode)).sum(dim=-1)
    return {"sbert_cosine": float(cosine.mean()), "sbert_model": model_description()}
