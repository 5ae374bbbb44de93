"""`SlipTrainer`: the Hugging Face Trainer with SLIP's global-batch loss and training diagnostics.

The model returns local quantities; `compute_loss` reduces them over processes and accumulation steps with
`losses.SlipLoss` (contrastive negatives from every process, the caption loss as the token mean of the whole
optimiser step, from the Trainer's `num_items_in_batch`). Every logging step also reports, averaged since the last
log and over processes, the contrastive and caption losses, the contrastive accuracy (how often a caption's best
sensor match is its own sensor, and vice versa, over the global batch), and alignment / uniformity (Wang & Isola) of
the embeddings. Evaluation (`--eval-strategy steps`) adds text→sensor and sensor→text Recall@1/5/10 and mean rank
over the whole evaluation set (`eval_retrieval/...`) to the evaluation loss.
"""

from collections import defaultdict

import torch
from transformers import Trainer

from slip_sensor.evaluation.alignment import alignment, uniformity
from slip_sensor.evaluation.retrieval import flat_metrics, retrieval_from_embeddings
from slip_sensor.training.losses import SlipLoss
from slip_sensor.training.sampler import ShapeGroupedSampler


class SlipTrainer(Trainer):
    """`shape_keys` (optional, one per training row, see `sampler.sensor_shape_keys`) turns on shape-grouped
    batching, sorted within random groups of `shape_group_batches` batches."""

    def __init__(self, *args, shape_keys: list | None = None, shape_group_batches: int = 50, **kwargs):
        super().__init__(*args, **kwargs)
        self.shape_keys = shape_keys
        self.shape_group_batches = shape_group_batches
        self._pending: list[dict] = []
        self._eval_embeddings: list[tuple[torch.Tensor, torch.Tensor]] = []
        # `compute_loss` normalises the caption term by the Trainer's token count of the whole optimiser step, so the
        # Trainer must count tokens and must not divide the loss by the accumulation steps again.
        self.model_accepts_loss_kwargs = True
        # the caption loss needs the token count of all processes, not each process's own
        self.args.average_tokens_across_devices = True
        config = self.accelerator.unwrap_model(self.model).config
        self.loss_fn = SlipLoss(config.contrastive_loss_weight, config.caption_loss_weight, self.args.world_size)

    def create_optimizer(self, model=None):
        """The Trainer's optimiser; with `sensor_encoder_lr_scale` != 1 the sensor encoder's patch embedding and
        layers get their own learning rate (each group keeps its weight-decay setting)."""
        scale = getattr(self.args, "sensor_encoder_lr_scale", 1.0)
        if self.optimizer is not None or scale == 1.0:
            return super().create_optimizer() if model is None else super().create_optimizer(model)
        model = self.model if model is None else model
        decay = set(self.get_decay_parameter_names(model))
        groups = {}
        for name, parameter in model.named_parameters():
            if not parameter.requires_grad:
                continue
            trunk = ".sensor_model.embeddings." in f".{name}" or ".sensor_model.layers." in f".{name}"
            key = (trunk, name in decay)
            groups.setdefault(key, {"params": [], "weight_decay": self.args.weight_decay if key[1] else 0.0,
                                    "lr": self.args.learning_rate * (scale if trunk else 1.0)})["params"].append(parameter)
        optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, model)
        self.optimizer = optimizer_cls(list(groups.values()), **optimizer_kwargs)
        return self.optimizer

    def _get_train_sampler(self, *args, **kwargs):
        if self.shape_keys is None:
            return super()._get_train_sampler(*args, **kwargs)
        batch = self.args.train_batch_size * self.args.gradient_accumulation_steps
        return ShapeGroupedSampler(self.shape_keys, batch, seed=self.args.data_seed or self.args.seed,
                                   mega_batches=self.shape_group_batches)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        with_contrastive = bool(inputs.pop("return_loss", True))
        labels = inputs.get("labels")
        outputs = model(**inputs, return_loss=False)
        # With a token count the loss is scaled here for accumulation; without one (no labels) the Trainer divides it
        accumulation_steps = getattr(self, "current_gradient_accumulation_steps", self.args.gradient_accumulation_steps)
        if num_items_in_batch is None or not model.training:
            num_items_in_batch, accumulation_steps = None, 1
        terms = self.loss_fn(outputs, labels, num_items_in_batch, accumulation_steps, with_contrastive)
        if model.training:
            self._record(terms, outputs, accumulation_steps, scaled_caption=num_items_in_batch is not None)
        return (terms.loss, outputs) if return_outputs else terms.loss

    @torch.no_grad()
    def _record(self, terms, outputs, accumulation_steps: int, scaled_caption: bool) -> None:
        """Keeps the micro-step's diagnostics as detached device tensors: nothing is copied to the host until a log.
        Every value is recorded so that its mean over micro-steps and processes is the optimiser step's value."""
        record = {}
        if terms.contrastive_loss is not None:
            record["contrastive_loss"] = terms.contrastive_loss.detach()
        if terms.caption_loss is not None:
            # a share of the step's token mean (summing over the step's micro-batches) or already a mean
            record["caption_loss"] = terms.caption_loss.detach() * (accumulation_steps if scaled_caption else 1)
        logits = terms.logits_per_text
        if logits is not None and logits.shape[0] >= 2:
            targets = torch.arange(logits.shape[0], device=logits.device)
            matches = (logits.argmax(-1) == targets).float().mean() + (logits.argmax(0) == targets).float().mean()
            record["contrastive_accuracy"] = matches.detach() / 2
            record["embeddings"] = (outputs.sensor_embeds.detach(), outputs.text_embeds.detach())
        self._pending.append(record)

    def _diagnostics(self) -> dict[str, float]:
        """Averages of the recorded diagnostics since the previous log, over micro-steps and processes."""
        values = defaultdict(list)
        for record in self._pending:
            embeddings = record.pop("embeddings", None)
            for name, value in record.items():
                values[name].append(value.float())
            if embeddings is not None:
                sensor, text = (e.float().cpu() for e in embeddings)
                for name, value in (("alignment", alignment(sensor, text)), ("uniformity_sensor", uniformity(sensor)),
                                    ("uniformity_text", uniformity(text))):
                    values[name].append(torch.tensor(value, device=self.args.device))
        self._pending.clear()
        names = sorted(values)
        if not names:
            return {}
        means = torch.stack([torch.stack(values[name]).mean() for name in names])
        if self.args.world_size > 1:
            means = self.accelerator.reduce(means, reduction="mean")
        return {name: round(float(value), 4) for name, value in zip(names, means)}

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        """The evaluation loss, keeping the pair embeddings (gathered over processes) for retrieval metrics."""
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad(), self.compute_loss_context_manager():
            loss, outputs = self.compute_loss(model, dict(inputs), return_outputs=True)
        if outputs.sensor_embeds is not None:
            self._eval_embeddings.append(self.accelerator.gather_for_metrics((outputs.sensor_embeds, outputs.text_embeds)))
        return loss.detach(), None, None

    def evaluation_loop(
        self, dataloader, description, prediction_loss_only=None, ignore_keys=None, metric_key_prefix="eval"
    ):
        """The Trainer's loop plus text→sensor and sensor→text retrieval over the whole evaluation set
        (`<prefix>_retrieval/...`, e.g. `eval_retrieval/text_to_sensor/recall_at_5`)."""
        self._eval_embeddings.clear()
        output = super().evaluation_loop(dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix)
        prefix = metric_key_prefix
        if self._eval_embeddings:
            sensor, text = (torch.cat(parts) for parts in zip(*self._eval_embeddings))
            output.metrics.update(flat_metrics(retrieval_from_embeddings(sensor, text), prefix=f"{prefix}_retrieval/"))
        self._eval_embeddings.clear()
        return output

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        if "loss" in logs:  # a training log: add the diagnostics averaged since the previous one
            logs.update(self._diagnostics())
        super().log(logs, *args, **kwargs)
