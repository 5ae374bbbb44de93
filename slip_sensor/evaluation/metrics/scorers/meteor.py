"""METEOR (nltk): mean sentence score with exact, Porter-stem and — if nltk can find WordNet — synonym matching.

WordNet is nltk data, not a PyPI package, and cannot be downloaded offline. Without it the scorer falls back to
exact+stem matching (nltk's matcher given a WordNet that knows no synsets) and says so in `meteor_variant`, since
the two variants are not comparable (on one example, 0.829 with WordNet against 0.628 without). With several
references, nltk scores a prediction against the best of them.
"""

import functools
import re
from importlib.metadata import version
from typing import Sequence

from nltk.translate.meteor_score import meteor_score

from . import reference_lists


class _NoSynonyms:
    """Stands in for the WordNet reader: no synsets, so only exact and stem matches remain."""

    def synsets(self, word: str) -> list:
        return []


@functools.lru_cache(maxsize=1)
def wordnet_available() -> bool:
    """Whether nltk can load its WordNet corpus from `nltk.data.path`."""
    from nltk.corpus import wordnet

    try:
        wordnet.ensure_loaded()
    except LookupError:
        return False
    return True


def _tokens(text: str) -> list[str]:
    # nltk's word_tokenize needs the punkt data (not available offline); words and punctuation marks approximate it
    return re.findall(r"\w+|[^\w\s]", text.lower())


def meteor(predictions: Sequence[str], references: Sequence[str] | Sequence[Sequence[str]]) -> dict:
    """`{"meteor": mean sentence METEOR in [0, 1], "meteor_variant": which matchers were used}`."""
    groups = reference_lists(predictions, references)
    if wordnet_available():
        from nltk.corpus import wordnet

        matcher, variant = wordnet, f"nltk {version('nltk')} exact+stem+wordnet synonyms"
    else:
        matcher, variant = _NoSynonyms(), f"nltk {version('nltk')} exact+stem (WordNet unavailable: no synonym stage)"
    scores = [meteor_score(list(map(_tokens, g)), _tokens(p), wordnet=matcher) for p, g in zip(predictions, groups)]
    return {"meteor": sum(scores) / len(scores), "meteor_variant": variant}
