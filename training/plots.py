"""Training curves as PNG: loss terms, contrastive accuracy, alignment/uniformity and learning rate per step, and
with `--eval-strategy steps` the evaluation loss and retrieval Recall@1/5 beside them."""

from pathlib import Path

from transformers import TrainerCallback

PANELS = (
    ("loss", ("loss", "contrastive_loss", "caption_loss", "eval_loss")),
    ("contrastive accuracy", ("contrastive_accuracy",)),
    ("alignment / uniformity", ("alignment", "uniformity_sensor", "uniformity_text")),
    ("learning rate", ("learning_rate",)),
    (
        "eval retrieval",
        tuple(f"eval_retrieval/{direction}/recall_at_{k}" for direction in ("text_to_sensor", "sensor_to_text")
              for k in (1, 5)),
    ),
)


def plot_training_curves(log_history: list[dict], path: str | Path) -> Path | None:
    """Draws the logged training and evaluation metrics (a Trainer's `state.log_history`) into one PNG; None if
    nothing was logged. The evaluation panel is left out of a run without evaluation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    logs = [entry for entry in log_history if ("loss" in entry or "eval_loss" in entry) and "step" in entry]
    if not logs:
        return None
    panels = [(title, names) for title, names in PANELS if any(name in entry for entry in logs for name in names)]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for axis, (title, names) in zip(axes[0], panels):
        for name in names:
            points = [(entry["step"], entry[name]) for entry in logs if name in entry]
            if points:
                axis.plot(*zip(*points), marker=".", label=name)
        axis.set_title(title)
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
        if axis.lines:
            axis.legend(fontsize=7)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


class TrainingCurvesCallback(TrainerCallback):
    """Writes `training_curves.png` next to every checkpoint and into the output folder at the end."""

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if checkpoint.is_dir():
                plot_training_curves(state.log_history, checkpoint / "training_curves.png")

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            Path(args.output_dir).mkdir(parents=True, exist_ok=True)
            plot_training_curves(state.log_history, Path(args.output_dir) / "training_curves.png")
