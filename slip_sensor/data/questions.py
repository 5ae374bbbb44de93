"""Sensor question answering built from the true facts of corpus rows.

Each corpus row carries `facts` (JSON of everything its caption states, computed from the data). From those, this
module asks multiple-choice and free-form questions whose answers are known:

| kind | question | answer | time reversal keeps the answer |
|---|---|---|---|
| mcq | overall trend of a channel: increasing / decreasing / no clear trend | a letter | no |
| mcq | does a channel repeat in a regular cycle: yes / no | a letter | yes |
| free | how noisy is a channel | "almost no noise", "low noise", "moderate noise" or "high noise" | yes |

Rows: `sensor`, `sampling_rate`, `patch_size` (as in the corpus), `prompt`, `answer`, `kind`, `options` (letters →
texts for mcq), `time_flip_ok`, `source` (the corpus row id).
"""

import json
import random

from datasets import Dataset

LETTERS = "abc"
TREND_OPTIONS = {"increasing": "increasing", "decreasing": "decreasing", "none": "no clear trend"}


def _mcq(question: str, correct: str, choices: list[str], rng: random.Random) -> tuple[str, str, dict[str, str]]:
    choices = list(choices)
    rng.shuffle(choices)
    options = dict(zip(LETTERS, choices))
    listed = " ".join(f"({letter}) {text}" for letter, text in options.items())
    prompt = f"Question: {question} Options: {listed}. Answer with the letter only."
    answer = next(letter for letter, text in options.items() if text == correct)
    return prompt, answer, options


def questions_for_row(row: dict, rng: random.Random) -> list[dict]:
    """QA rows for one corpus row (none when its facts do not settle any question)."""
    facts = json.loads(row["facts"]) if row.get("facts") else {}
    base = {k: row[k] for k in ("sensor", "sampling_rate", "patch_size")}
    base["source"] = row["id"]
    questions = []
    for channel in facts.get("channels", []):
        name = channel["name"]
        trend = channel.get("trend")
        if trend is not None:
            prompt, answer, options = _mcq(
                f"What is the overall trend of the {name} channel?",
                TREND_OPTIONS[trend["direction"]],
                list(TREND_OPTIONS.values()),
                rng,
            )
            questions.append({**base, "prompt": prompt, "answer": answer, "kind": "mcq", "options": options,
                              "time_flip_ok": False})
        if channel.get("periods") is not None:
            prompt, answer, options = _mcq(
                f"Does the {name} channel repeat in a regular cycle?",
                "yes" if channel["periods"] else "no",
                ["yes", "no"],
                rng,
            )
            questions.append({**base, "prompt": prompt, "answer": answer, "kind": "mcq", "options": options,
                              "time_flip_ok": True})
        noise = channel.get("noise")
        if noise is not None:
            questions.append({**base, "prompt": f"Question: How noisy is the {name} channel? Answer:",
                              "answer": noise["level"], "kind": "free", "options": {}, "time_flip_ok": True})
    return questions


def build_qa_dataset(corpus, seed: int = 0, max_per_row: int = 2) -> Dataset:
    """Up to `max_per_row` questions per corpus row (drawn with `seed`), as a `datasets.Dataset`."""
    rng = random.Random(seed)
    rows = []
    for row in corpus:
        questions = questions_for_row(row, rng)
        rng.shuffle(questions)
        rows.extend(questions[:max_per_row])
    for row in rows:  # Arrow needs one type per column: options become JSON text
        row["options"] = json.dumps(row["options"])
    return Dataset.from_list(rows)
