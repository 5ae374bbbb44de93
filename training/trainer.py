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
        self._pending: list[dict] = []

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
        """Keeps the step's diagnostics as detached device tensors: nothing is copied to the host until a log."""
        record = {name: outputs[name].detach() for name in ("contrastive_loss", "caption_loss")
                  if getattr(outputs, name, None) is not None}
        logits = getattr(outputs, "logits_per_text", None)
        if logits is not None and logits.shape[0] >= 2:
            targets = torch.arange(logits.shape[0], device=logits.device)
            matches = (logits.argmax(-1) == targets).float().mean() + (logits.argmax(0) == targets).float().mean()
            record["contrastive_accuracy"] = matches / 2
            record["embeddings"] = (outputs.sensor_embeds.detach(), outputs.text_embeds.detach())
        self._pending.append(record)

    def _diagnostics(self) -> dict[str, float]:
        """Averages of the recorded diagnostics since the previous log."""
        values = defaultdict(list)
        for record in self._pending:
            embeddings = record.pop("embeddings", None)
            for name, value in record.items():
                values[name].append(float(value))
            if embeddings is not None:
                sensor, text = (e.float().cpu() for e in embeddings)
                values["alignment"].append(alignment(sensor, text))
                values["uniformity_sensor"].append(uniformity(sensor))
                values["uniformity_text"].append(uniformity(text))
        self._pending.clear()
        return {name: round(sum(v) / len(v), 4) for name, v in values.items()}

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        if "loss" in logs:  # a training log: add the diagnostics averaged since the previous one
            logs.update(self._diagnostics())
        super().log(logs, *args, **kwargs)
