"""QA accuracy of a captioning model: generate an answer per question (greedy), decode only the new tokens, and
score multiple-choice and free-form answers separately with `slip_sensor.evaluation.answer_scoring`."""

import json

import torch

from slip_sensor.training.collator import rows_to_inputs

from .answer_scoring import qa_accuracy


@torch.no_grad()
def generate_answers(model, processor, rows, batch_size: int = 16, max_new_tokens: int = 8) -> list[str]:
    """Greedy answers for QA rows (corpus-schema sensor columns and a `prompt`)."""
    model.eval()
    tokenizer = processor.tokenizer
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


def qa_scores(rows, answers: list[str]) -> dict[str, float | int]:
    """Accuracy over all questions and per kind (`mcq`, `free`)."""
    scores: dict[str, float | int] = {"questions": len(rows)}
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
