"""Caption evaluation of a captioning SLIP model: are the facts its captions state true, and how close are the
captions to a reference?

`held_out_caption_samples` draws synthetic series from the corpus generator (`slip_sensor.data.synthetic.make_record`)
with `synthetic_tasks.EVAL_SEED`, a seed no corpus uses. Each sample's reference is the record's caption without its
opening sentence (what was recorded, for how long, how often): the rest of the semantic caption, then the structural
caption. `generate_captions` prompts the decoder with that opening sentence, written from what the caller knows
(`slip_sensor.data.semantics.known_facts_prompt`: length, sampling rate, channel names, domain), and decodes greedily;
only the new tokens are kept. `evaluate_captions` then scores the continuations:

* `faithfulness`: `evaluation.faithfulness.score_captions` of the continuations against their series. Facts in the
  prompt are given, not generated, so they are not counted.
* `reference_faithfulness`: the same for the references, the scorer's ceiling on these samples (the references are
  true by construction; what they lose is the scorer's parsing and tolerances).
* `metrics`: `evaluation.metrics.caption_metrics` (BLEU@4, METEOR, ROUGE-L, SBERT, BERTScore) of continuations vs
  references, or None with `metrics=False` (it loads a local MiniLM model). An empty continuation (the model
  stopped at once) is scored as "." (`EMPTY_STAND_IN`; bert_score cannot embed an empty text), which scores near 0;
  `num_empty_predictions` counts them.

Result dict (`results["captions"]` of the harness):

    {"num_samples": int, "known_facts_prompt": bool, "max_new_tokens": int,
     "samples": {"source": "synthetic" | "given" | "mixed", "seed": int | None},
     "reference": str (how the references were built),
     "faithfulness": score_captions(...), "reference_faithfulness": score_captions(...),
     "metrics": caption_metrics(...) | None,
     "examples": [{"id", "prompt", "generated", "reference"}] (the first 5)}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import torch

from slip_sensor.data.phrasing import drop_first_sentence

from .synthetic_tasks import EVAL_SEED

if TYPE_CHECKING:
    from slip_sensor import SlipForConditionalGeneration, SlipProcessor
    from slip_sensor.data.captions import SensorCaption

NUM_EXAMPLES = 5
SAMPLE_SOURCE = "synthetic"  # `slip_sensor.data.synthetic.make_record(i, seed)`, i = 0..n-1
EMPTY_STAND_IN = "."  # scored in place of an empty generated caption (near 0 on every metric)
REFERENCE_TEXT = "semantic caption without its opening sentence, then the structural caption"



@dataclass
class CaptionSample:
    """A series to caption: `sensor` `[channels, time]`, its sampling rate (Hz), channel names, domain and reference
    caption (without the opening sentence the prompt gives); `source` and `seed` say where it was drawn from."""

    id: str
    sensor: np.ndarray
    sampling_rate: float
    channel_names: list[str]
    reference: str
    domain: str = ""
    source: str = ""
    seed: int | None = None


def reference_caption(caption: "SensorCaption") -> str:
    """The semantic caption without its opening sentence, then the structural caption; when both are empty, the full
    caption without its opening sentence."""
    parts = [drop_first_sentence(caption.semantic), caption.structural.strip()]
    return " ".join(part for part in parts if part) or drop_first_sentence(caption.caption)


def held_out_caption_samples(n: int = 64, seed: int = EVAL_SEED) -> list[CaptionSample]:
    """Records 0..n-1 of the synthetic generator for `seed` (default `EVAL_SEED`, disjoint from every corpus)."""
    from slip_sensor.data.synthetic import make_record  # loads the generator only when samples are drawn

    samples = []
    for index in range(n):
        record = make_record(index, seed)
        sensor = np.asarray(record.sensor, dtype=np.float32)
        if sensor.ndim != 2 or sensor.shape[0] != len(record.channel_names):
            raise ValueError(
                f"record {record.id}: expected a [channels, time] sensor with {len(record.channel_names)} channels, "
                f"got shape {sensor.shape}"
            )
        samples.append(
            CaptionSample(
                id=record.id,
                sensor=sensor,
                sampling_rate=float(record.sampling_rate),
                channel_names=list(record.channel_names),
                reference=reference_caption(record.caption),
                domain=record.domain,
                source=SAMPLE_SOURCE,
                seed=int(seed),
            )
        )
    return samples


def caption_prompt(sample: CaptionSample, use_known_facts: bool = True) -> str:
    """The opening sentence from what is known of the sample (or "" for BOS alone)."""
    if not use_known_facts:
        return ""
    from slip_sensor.data.semantics import known_facts_prompt

    channels, length = sample.sensor.shape
    return known_facts_prompt(length, sample.sampling_rate, channels, list(sample.channel_names), sample.domain)


def check_samples_accepted(processor: "SlipProcessor", samples: Sequence[CaptionSample]) -> None:
    """Runs the feature extractor on every sample (cheap), so that a sample the processor refuses (more tokens than
    `max_tokens_per_sample`) fails before any model work."""
    for sample in samples:
        try:
            processor(sensors=[sample.sensor], sampling_rate=sample.sampling_rate, return_tensors="np")
        except ValueError as error:
            raise ValueError(f"caption sample {sample.id} cannot be processed: {error}") from error


@torch.no_grad()
def generate_captions(
    model: "SlipForConditionalGeneration",
    processor: "SlipProcessor",
    samples: Sequence[CaptionSample],
    max_new_tokens: int = 60,
    batch_size: int = 16,
    use_known_facts: bool = True,
    *,
    return_new_tokens: bool = False,
) -> tuple[list[str], list[str]] | tuple[list[str], list[str], list[list[int]]]:
    """Greedy captions of `samples`: `(continuations, prompts)`, one each per sample. Each prompt is the sample's
    opening sentence (`caption_prompt`; "" = BOS alone without `use_known_facts`), tokenised without EOS and padded on
    the left; a continuation is the decoded new tokens only (special tokens skipped, stripped). With
    `return_new_tokens`, also the generated ids of each sample (up to and including EOS, without padding)."""
    model.eval()
    tokenizer = processor.tokenizer
    device = next(model.parameters()).device
    prompts = [caption_prompt(sample, use_known_facts) for sample in samples]
    continuations: list[str] = []
    new_ids: list[list[int]] = []
    for start in range(0, len(samples), batch_size):
        batch = list(samples[start : start + batch_size])
        inputs = processor(
            sensors=[sample.sensor for sample in batch],
            text=prompts[start : start + batch_size],
            sampling_rate=[sample.sampling_rate for sample in batch],
            append_eos=False,  # the prompt is continued by generation
            return_tensors="pt",
        ).to(device)
        generated = model.generate(
            **inputs,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        new_tokens = generated[:, inputs["input_ids"].shape[1] :]
        continuations.extend(text.strip() for text in tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
        new_ids.extend(_until_eos(row, tokenizer.eos_token_id) for row in new_tokens.tolist())
    return (continuations, prompts, new_ids) if return_new_tokens else (continuations, prompts)


def _until_eos(ids: list[int], eos_token_id: int | None) -> list[int]:
    """Generated ids up to and including the first EOS (`generate` pads a finished row after its EOS only)."""
    return ids[: ids.index(eos_token_id) + 1] if eos_token_id is not None and eos_token_id in ids else ids


def score_faithfulness(captions: Sequence[str], samples: Sequence[CaptionSample]) -> dict:
    """`score_captions` of one caption per sample against the sample's series, rate and channel names."""
    from .faithfulness import score_captions

    return score_captions(
        list(captions),
        [sample.sensor for sample in samples],
        [sample.sampling_rate for sample in samples],
        [list(sample.channel_names) for sample in samples],
    )


def evaluate_captions(
    model: "SlipForConditionalGeneration",
    processor: "SlipProcessor",
    samples: Sequence[CaptionSample] | None = None,
    num_samples: int = 64,
    max_new_tokens: int = 60,
    batch_size: int = 16,
    use_known_facts: bool = True,
    metrics: bool = True,
    seed: int = EVAL_SEED,
) -> dict[str, Any]:
    """Captions `samples` (default: `held_out_caption_samples(num_samples, seed)`) and scores them (module
    docstring): faithfulness of the generated text, the references' faithfulness as the ceiling, and, with `metrics`,
    similarity to the references."""
    samples = held_out_caption_samples(num_samples, seed) if samples is None else list(samples)
    if not samples:
        raise ValueError("no caption samples to evaluate")
    origins = {(sample.source, sample.seed) for sample in samples}
    source, drawn_with = origins.pop() if len(origins) == 1 else ("mixed", None)
    continuations, prompts = generate_captions(model, processor, samples, max_new_tokens, batch_size, use_known_facts)
    references = [sample.reference for sample in samples]
    similarity = None
    if metrics:
        from .metrics import caption_metrics

        empty = sum(not text for text in continuations)
        # bert_score cannot embed an empty text (transformers 5): an empty caption is scored as EMPTY_STAND_IN
        scored = [text or EMPTY_STAND_IN for text in continuations]
        similarity = caption_metrics(scored, references)
        similarity.update(num_empty_predictions=empty, empty_prediction_stand_in=EMPTY_STAND_IN)
    return {
        "num_samples": len(samples),
        "known_facts_prompt": bool(use_known_facts),
        "max_new_tokens": int(max_new_tokens),
        "samples": {"source": source or "given", "seed": drawn_with},
        "reference": REFERENCE_TEXT if source == SAMPLE_SOURCE else "given with the samples",
        "faithfulness": score_faithfulness(continuations, samples),
        "reference_faithfulness": score_faithfulness(references, samples),
        "metrics": similarity,
        "examples": [
            {"id": sample.id, "prompt": prompt, "generated": generated, "reference": sample.reference}
            for sample, prompt, generated in list(zip(samples, prompts, continuations))[:NUM_EXAMPLES]
        ],
    }


__all__ = [
    "CaptionSample",
    "caption_prompt",
    "check_samples_accepted",
    "evaluate_captions",
    "generate_captions",
    "held_out_caption_samples",
    "reference_caption",
    "score_faithfulness",
]
