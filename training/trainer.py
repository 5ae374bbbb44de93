"""`SlipTrainer`: the Hugging Face Trainer with SLIP's global-batch loss and training diagnostics.

The model returns local quantities; `compute_loss` reduces them over processes and accumulation steps with
`losses.SlipLoss` (contrastive negatives from every process, the caption loss as the token mean of the whole
optimiser step, from the Trainer's `num_items_in_batch`). Every logging step also reports, averaged since the last
log and over processes, the contrastive and caption losses, the contrastive accuracy (how often a caption's best
sensor match is its own sensor, and vice versa, over the global batch), and alignment / uniformity (Wang & Isola) of
the embeddings. Evaluation (`--eval-strategy steps`) adds text→sensor and sensor→text Recall@1/5/10 and mean rank
over the whole evaluation set (`eval_retrieval/...`) to the evaluation loss.

A diverged run never looks like a finished one: an optimiser step whose contrastive loss, caption loss or gradient
norm is not finite stops the run (`TrainingDivergedError`, naming the step and the term), unless
`skip_nonfinite_steps` allows skipping it (its gradients are dropped, so the optimiser changes nothing; skipped steps
are logged as `nonfinite_steps` and left out of the logged losses). Weights that are not finite are never saved, and
checkpoints are written into a staging folder and renamed into place (see `checkpoints`).

Given the processor (`processing_class`), every checkpoint and `save_model` folder is a complete Hub folder, as
`slip export` writes one (`hub_export.complete_hub_folder`): it loads with `trust_remote_code=True` without the
package. LoRA checkpoints hold only the adapter, as PEFT saves it.
"""

import logging
import os
import shutil
from collections import defaultdict
from pathlib import Path

import torch
from transformers import PreTrainedModel, Trainer, TrainerCallback, trainer_utils
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from slip_sensor.auto_registration import hub_auto_classes
from slip_sensor.errors import UserError
from slip_sensor.evaluation.alignment import alignment, uniformity
from slip_sensor.evaluation.retrieval import flat_metrics, retrieval_from_embeddings
from slip_sensor.hub_export import complete_hub_folder
from slip_sensor.training.checkpoints import TRAINER_STATE_NAME, publish, staging_dir
from slip_sensor.training.losses import SlipLoss
from slip_sensor.training.sampler import ShapeGroupedSampler

logger = logging.getLogger(__name__)

NONFINITE_TERMS = ("contrastive loss", "caption loss", "gradient norm")


class TrainingDivergedError(UserError):
    """The loss, gradients or weights stopped being finite (a learning rate too high, too little warmup)."""


class _StepBoundaries(TrainerCallback):
    """The Trainer loop reaches its trainer between backward and the optimiser only through callbacks."""

    def __init__(self, trainer: "SlipTrainer"):
        self.trainer = trainer

    def on_step_begin(self, args, state, control, **kwargs):
        self.trainer._step_records = len(self.trainer._pending)

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        self.trainer._check_step()


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
        # The filter logs a non-finite step's loss as the mean of its logging window so far: 0 when no finite step
        # precedes it. Non-finite steps stop the run or are skipped here, and the logged loss leaves skipped ones out.
        self.args.logging_nan_inf_filter = False
        self.nonfinite_steps = 0
        self._nonfinite_terms = torch.zeros(len(NONFINITE_TERMS) - 1, device=self.args.device)
        self._step_records = 0
        self._loss_sum, self._loss_count = 0.0, 0
        self._staging: str | None = None
        self.add_callback(_StepBoundaries(self))

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
            self._nonfinite_terms += torch.stack(
                [~term.detach().isfinite() if term is not None else self._nonfinite_terms.new_zeros((), dtype=bool)
                 for term in (terms.contrastive_loss, terms.caption_loss)]
            )
            self._record(terms, outputs, accumulation_steps, scaled_caption=num_items_in_batch is not None)
        return (terms.loss, outputs) if return_outputs else terms.loss

    @torch.no_grad()
    def _record(self, terms, outputs, accumulation_steps: int, scaled_caption: bool) -> None:
        """Keeps the micro-step's diagnostics as detached device tensors: nothing is copied to the host until a log.
        Every value is recorded so that its mean over micro-steps and processes is the optimiser step's value."""
        # the micro-step's share of the optimiser step's loss, times the micro-steps it is averaged over
        record = {"loss": terms.loss.detach() * accumulation_steps}
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
        diagnostics = {name: float(value) for name, value in zip(names, means)}
        if "loss" in diagnostics:  # the run's mean loss over the steps it applied, for `train_loss`
            self._loss_sum += diagnostics["loss"] * len(values["loss"])
            self._loss_count += len(values["loss"])
        return {name: round(value, 4) for name, value in diagnostics.items()}

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
        if "loss" in logs:  # a training log: the loss and diagnostics averaged over the steps applied since the last
            logs.update(self._diagnostics())
            if self.args.skip_nonfinite_steps:
                logs["nonfinite_steps"] = self.nonfinite_steps
        elif "train_loss" in logs:  # the end of training: the same mean over every step applied
            self._diagnostics()
            logs["train_loss"] = self._loss_sum / self._loss_count if self._loss_count else float("nan")
            logs["nonfinite_steps"] = self.nonfinite_steps
        super().log(logs, *args, **kwargs)

    def _check_step(self) -> None:
        """Before the optimiser step: stops the run, or skips the step, when a loss term or the gradient norm of the
        step is not finite on any process."""
        flags = self._nonfinite_terms
        self._nonfinite_terms = torch.zeros_like(flags)
        gradients = [p.grad for p in self.model.parameters() if p.grad is not None]
        # with a gradient scaler (fp16) overflowing gradients are expected: the scaler skips those steps itself
        if gradients and self.accelerator.scaler is None:
            norm = torch.nn.utils.get_total_norm(gradients)
            flags = torch.cat([flags, (~norm.isfinite()).to(flags).reshape(1)])
        if self.args.world_size > 1:
            flags = self.accelerator.reduce(flags, reduction="sum")
        terms = [name for name, flag in zip(NONFINITE_TERMS, flags.tolist()) if flag]
        if not terms:
            return
        self.nonfinite_steps += 1
        step, allowed = self.state.global_step + 1, self.args.skip_nonfinite_steps
        named = terms[0] if len(terms) == 1 else f"{', '.join(terms[:-1])} and {terms[-1]}"
        problem = f"the {named} of step {step} {'is' if len(terms) == 1 else 'are'} not finite"
        if self.nonfinite_steps > allowed:
            tolerance = f" ({self.nonfinite_steps} such steps, {allowed} allowed)" if allowed else ""
            raise TrainingDivergedError(
                f"Training diverged: {problem}{tolerance}. Lower the learning rate or lengthen the warmup, or let "
                f"isolated steps be skipped with --skip-nonfinite-steps N."
            )
        logger.warning("Skipping a step: %s (%d of %d allowed)", problem, self.nonfinite_steps, allowed)
        self.model.zero_grad(set_to_none=True)  # an optimiser leaves parameters without gradient unchanged
        del self._pending[self._step_records :]

    def _require_finite_weights(self, what: str) -> None:
        finite = torch.stack([p.detach().isfinite().all() for p in self.model.parameters()]).all()
        nonfinite = (~finite).float().reshape(1)
        if self.args.world_size > 1:  # sharded weights: any process's shard
            nonfinite = self.accelerator.reduce(nonfinite, reduction="sum")
        if nonfinite.item():
            raise TrainingDivergedError(
                f"Refusing to save {what}: its weights hold NaN or infinite values after step {self.state.global_step}. "
                f"Lower the learning rate or lengthen the warmup."
            )

    def train(self, *args, **kwargs):
        output = super().train(*args, **kwargs)
        self._require_finite_weights("the trained model")
        return output

    def _save(self, output_dir: str | None = None, state_dict: dict | None = None) -> None:
        model = self.accelerator.unwrap_model(self.model)
        if self.processing_class is None or not isinstance(model, PreTrainedModel):  # e.g. a PEFT model
            return super()._save(output_dir, state_dict)
        with hub_auto_classes():  # the model and processor files get their `auto_map`
            super()._save(output_dir, state_dict)
        if self.args.should_save:
            complete_hub_folder(output_dir or self.args.output_dir, model.config, self.processing_class)

    def _get_output_dir(self, trial) -> str:
        # while `_save_checkpoint` runs, the Trainer's checkpoint folder goes into the staging folder
        return self._staging or super()._get_output_dir(trial)

    def _save_checkpoint(self, model, trial) -> None:
        """The Trainer's checkpoint, refused when the weights are not finite, written into `.partial-checkpoint-N/`
        and renamed to `checkpoint-N` once every process has written its files: a kill while saving leaves no
        `checkpoint-N` behind."""
        self._require_finite_weights(f"the checkpoint of step {self.state.global_step}")
        run_dir = self._get_output_dir(trial)
        checkpoint = Path(run_dir) / f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
        staging = staging_dir(checkpoint)
        if self.args.should_save and staging.exists():  # left by a save that was killed
            shutil.rmtree(staging)
        self.accelerator.wait_for_everyone()
        self._staging = str(staging)
        try:
            super()._save_checkpoint(model, trial)
        finally:
            self._staging = None
        if self.state.best_model_checkpoint == os.path.join(staging, checkpoint.name):
            self.state.best_model_checkpoint = str(checkpoint)
            if self.args.should_save:
                self.state.save_to_json(os.path.join(staging, checkpoint.name, TRAINER_STATE_NAME))
        self.accelerator.wait_for_everyone()
        if self.args.should_save:
            publish(checkpoint)
            self._rotate_checkpoints_in(run_dir)
        self.accelerator.wait_for_everyone()

    def _rotate_checkpoints_in(self, run_dir: str) -> None:
        """`save_total_limit` applied to `run_dir` (the Trainer applied it to the staging folder)."""
        if hasattr(trainer_utils, "rotate_checkpoints"):  # transformers 5
            trainer_utils.rotate_checkpoints(
                output_dir=run_dir,
                save_total_limit=self.args.save_total_limit,
                best_model_checkpoint=self.state.best_model_checkpoint,
                use_mtime=True,
            )
        else:
            self._rotate_checkpoints(use_mtime=True, output_dir=run_dir)
