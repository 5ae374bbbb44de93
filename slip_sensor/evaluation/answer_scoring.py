"""Question-answering scoring: multiple-choice letter parsing and free-form answer matching.

Generated text decoded together with its prompt starts with the echoed question, whose quoted option letters could
be mistaken for the answer. When the prompt is given, only the text after it is parsed.
"""

import re
import string
from typing import Literal, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")


def answer_text(text: str, prompt: str | None = None) -> str:
    """The part of `text` after the first echo of `prompt` (whitespace-insensitive), or all of `text` when no
    prompt is given or it is not echoed."""
    if prompt and prompt.split():
        # decoding may change whitespace, so match the prompt's words separated by any whitespace
        echo = re.search(r"\s*".join(re.escape(word) for word in prompt.split()), text)
        if echo:
            return text[echo.end() :]
    return text


def parse_choice(text: str, prompt: str | None = None, choices: str = "ABCD") -> str | None:
    """The chosen option letter (upper case), or None if no unambiguous letter is found.

    Rules, in order, on the text after the prompt:
    1. the last explicit marker (any case): "Answer: c", "the answer is (B).", "option d", "Answer: B walking";
    2. the first bracketed letter: "(b)", "[C]";
    3. a letter opening the answer: "B", "b.", "C) walking".
    The letter must be followed by punctuation, a line end or the end of the text (after a marker, an upper-case
    letter may also be followed by a space), so that articles ("a person ...", "the answer is a walk") are not
    read as option A.
    """
    text = answer_text(text, prompt)
    upper, lower = re.escape(choices.upper()), re.escape(choices.lower())
    ends = r"(?=[ \t]*(?:\n|$)|[.):,;\]*])"
    letter = rf"(?:([{upper}{lower}]){ends}|([{upper}])(?=\s))"
    explicit = re.findall(rf"(?i:\b(?:answer|option|choice)\b(?:\s+is)?)\s*[:\-]?\s*[(\[*]*{letter}", text)
    if explicit:
        return "".join(explicit[-1]).upper()
    for pattern in (rf"[(\[]([{upper}{lower}])[)\]]", rf"^\s*([{upper}{lower}]){ends}"):
        match = re.search(pattern, text)
        if match:
            return match.group(1).upper()
    return None


def normalize_answer(text: str) -> str:
    """Lower case, punctuation (incl. `_`) to spaces, articles removed, whitespace collapsed (SQuAD-style)."""
    text = _PUNCTUATION.sub(" ", text.lower())
    return " ".join(_ARTICLES.sub(" ", text).split())


def match_free_form(prediction: str, reference: str, prompt: str | None = None) -> bool:
    """True if the normalised answer equals the normalised reference or contains it as whole words.

    Containment accepts "the activity is walking" for "walking"; it also accepts an answer that lists several
    candidates, so constrain the prompt to a single answer when that matters.
    """
    answer, gold = normalize_answer(answer_text(prediction, prompt)), normalize_answer(reference)
    if not gold:
        raise ValueError(f"reference {reference!r} is empty after normalisation")
    return answer == gold or f" {gold} " in f" {answer} "


def qa_accuracy(
    predictions: Sequence[str],
    references: Sequence[str],
    mode: Literal["choice", "free_form"] = "choice",
    prompts: Sequence[str] | None = None,
    choices: str = "ABCD",
) -> float:
    """Fraction of predictions that answer correctly.

    Args:
        predictions: N generated texts (may echo the prompt).
        references: N gold answers: an option letter in any accepted form ("B", "(b)") for `mode="choice"`,
            the answer text for `mode="free_form"`.
        prompts: N prompts whose echo is skipped before parsing (optional).
        choices: the option letters for `mode="choice"`; an unparsable prediction counts as wrong.
    """
    if len(predictions) != len(references) or (prompts is not None and len(prompts) != len(predictions)):
        raise ValueError("predictions, references (and prompts) must have the same length")
    if not predictions:
        raise ValueError("no predictions to score")
    prompts = prompts if prompts is not None else [None] * len(predictions)
    correct = 0
    for prediction, reference, prompt in zip(predictions, references, prompts):
        if mode == "choice":
            gold = parse_choice(reference, choices=choices)
            if gold is None:
                raise ValueError(f"reference {reference!r} is not one of the options {choices}")
            correct += parse_choice(prediction, prompt, choices) == gold
        else:
            correct += match_free_form(prediction, reference, prompt)
    return correct / len(predictions)
