"""Answers of a captioning model to held-out rows: generated greedily (only the new tokens are decoded), scored for QA
accuracy, multiple-choice and free-form separately (`slip_sensor.evaluation.answer_scoring`), and for word overlap
with the reference answers (`slip_sensor.evaluation.metrics.caption_metrics`), so fine-tuning on captions is scored
as well as fine-tuning on questions."""

import json

import torch

from slip_sensor.training.collator import rows_to_inputs

from .answer_scoring import qa_accuracy
from .metrics import caption_metrics


@torch.no_grad()
def generate_answers(model, processor, rows, batch_size: int = 16, max_new_tokens: int | None = None) -> list[str]:
    """Greedy answers for rows with corpus-schema sensor columns and a `prompt`. `max_new_tokens` defaults to the
    longest reference `answer` plus 4 tokens (8 when the rows hold no answers)."""
    model.eval()
    tokenizer = processor.tokenizer
    if max_new_tokens is None:
        references = [row["answer"] for row in rows] if "answer" in rows[0] else []
        lengths = [len(ids) for ids in tokenizer(references, add_special_tokens=False)["input_ids"]] if references else []
        max_new_tokens = max(lengths, default=4) + 4
    answers = []
    for start in range(0, len(rows), batch_size):
        batch = [rows[i] for i in range(start, min(start + batch_size, len(rows)))]
        # the prompt is continued by generation: no EOS
        inputs = rows_to_inputs(processor, batch, text=[row["prompt"] for row in batch], append_eos=False)
        inputs = {key: value.to(model.device) for key, value in inputs.items()}
        generated = model.generate(
            **inputs,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        new_tokens = generated[:, inputs["input_ids"].shape[1] :]
        answers.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    return answers


def answer_scores(rows, answers: list[str]) -> dict[str, float | int]:
    """For rows with reference `answer`s: BLEU-4, METEOR and ROUGE-L of the answers, and for rows with a QA `kind`
    the accuracy over all questions and per kind (`mcq`, `free`)."""
    scores: dict[str, float | int] = {"questions": len(rows)}
    references = [row["answer"] for row in rows]
    scores.update(caption_metrics(answers, references, model_metrics=False, provenance=False))
    if "kind" not in rows[0]:
        return scores
    correct = 0.0
    for kind, mode in (("mcq", "choice"), ("free", "free_form")):
        index = [i for i, row in enumerate(rows) if row["kind"] == kind]
        if not index:
            continue
        choices = "".join(sorted({letter.upper() for i in index for letter in json.loads(rows[i]["options"])}))
        accuracy = qa_accuracy(
            [answers[i] for i in index], [rows[i]["answer"] for i in index], mode=mode, choices=choices or "ABCD"
        )
        scores[f"{kind}_accuracy"] = accuracy
        correct += accuracy * len(index)
    scores["accuracy"] = correct / max(len(rows), 1)
    return scores
