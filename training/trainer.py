"""`SlipTrainer`: the Hugging Face Trainer plus the SLIP training diagnostics in its logs.

The loss comes from the model's `forward` as usual. On top, every logging step reports the averages since the last
log of the contrastive and caption losses, the contrastive accuracy (how often a caption's best sensor match is its
own sensor, and vice versa), and alignment / uniformity (Wang & Isola) of the embeddings.
"""

from collections import defaultdict

import torch
from transformers import Trainer

from slip_sensor.evaluation.alignment import alignment, uniformity
from slip_sensor.training.sampler import ShapeGroupedSampler


class SlipTrainer(Trainer):
    """`shape_keys` (optional, one per training row, see `sampler.sensor_shape_keys`) turns on shape-grouped
    batching."""

    def __init__(self, *args, shape_keys: list[int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.shape_keys = shape_keys
        self._diagnostics: dict[str, list[float]] = defaultdict(list)

    def _get_train_sampler(self, *args, **kwargs):
        if self.shape_keys is None:
            return super()._get_train_sampler(*args, **kwargs)
        batch = self.args.train_batch_size * self.args.gradient_accumulation_steps
        return ShapeGroupedSampler(self.shape_keys, batch, seed=self.args.data_seed or self.args.seed)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        if model.training:
            self._record(outputs)
        return (outputs.loss, outputs) if return_outputs else outputs.loss

    @torch.no_grad()
    def _record(self, outputs) -> None:
        for name in ("contrastive_loss", "caption_loss"):
            if getattr(outputs, name, None) is not None:
                self._diagnostics[name].append(float(outputs[name]))
        logits = getattr(outputs, "logits_per_text", None)
        if logits is None or logits.shape[0] < 2:
            return
        targets = torch.arange(logits.shape[0], device=logits.device)
        accuracy = ((logits.argmax(-1) == targets).float().mean() + (logits.argmax(0) == targets).float().mean()) / 2
        sensor, text = outputs.sensor_embeds.detach().float().cpu(), outputs.text_embeds.detach().float().cpu()
        self._diagnostics["contrastive_accuracy"].append(float(accuracy))
        self._diagnostics["alignment"].append(alignment(sensor, text))
        self._diagnostics["uniformity_sensor"].append(uniformity(sensor))
        self._diagnostics["uniformity_text"].append(uniformity(text))

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        if "loss" in logs:  # a training log: add the diagnostics averaged since the previous one
            for name, values in self._diagnostics.items():
                logs[name] = round(sum(values) / len(values), 4)
            self._diagnostics.clear()
        super().log(logs, *args, **kwargs)
