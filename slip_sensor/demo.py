"""`slip demo`: the main job, end to end on a CPU.

1. builds a small sensor-caption corpus (synthetic series, physiological simulations, aeon train splits);
2. pretrains `slip-tiny` on it with the Trainer (contrastive + captioning);
3. evaluates it: linear probe and zero-shot on BasicMotions, next to the statistical-feature and random-encoder
   baselines;
4. exports a Hub-ready folder (weights, configs, processor, remote code, model card with the measured results);
5. loads that folder with `pipeline("sensor-captioning", trust_remote_code=True)` and captions a real BasicMotions
   recording, drawn with its caption into a PNG;
6. prints a short report. Everything lands in `--out` (default `runs/demo`).
"""

import argparse
import json
import shutil
import textwrap
import time
from pathlib import Path

HELP = "Run the main job: build a corpus, pretrain slip-tiny, evaluate, export a Hub folder, caption a real sample."


DEMO_SOURCES = ("synthetic", "physio", "aeon")


def pretraining_arguments(
    corpus_dir: Path, model_dir: Path, max_steps: int, batch_size: int, learning_rate: float, seed: int
) -> list[str]:
    """`training/pretrain.py` flags of the main job's pretraining (slip-tiny on the CPU)."""
    return [
        "--preset", "slip-tiny", "--corpus", str(corpus_dir), "--output-dir", str(model_dir),
        "--max-steps", str(max_steps), "--per-device-train-batch-size", str(batch_size),
        "--learning-rate", str(learning_rate), "--warmup-steps", "0.05",
        "--logging-steps", str(min(20, max_steps)),
        "--save-steps", str(max_steps), "--save-total-limit", "1", "--seed", str(seed),
        "--use-cpu", "true", "--disable-tqdm", "false",
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    parser.add_argument("--corpus-size", type=int, default=3000, help="corpus rows to build (default: 3000)")
    parser.add_argument("--max-steps", type=int, default=600, help="pretraining steps (default: 600)")
    parser.add_argument("--batch-size", type=int, default=32, help="pretraining batch size (default: 32)")
    parser.add_argument("--learning-rate", type=float, default=2e-3, help="peak learning rate (default: 2e-3)")
    parser.add_argument("--seeds", type=int, default=5, help="linear-probe seeds (default: 5)")
    parser.add_argument("--seed", type=int, default=0, help="corpus and training seed (default: 0)")
    parser.add_argument("--overwrite", action="store_true", help="start from scratch even if --out has a run")


class Stages:
    """Prints numbered stage headers with elapsed times."""

    def __init__(self, total: int):
        self.total, self.index, self.start = total, 0, time.time()
        self.durations: dict[str, float] = {}
        self._current: tuple[str, float] | None = None

    def next(self, title: str) -> None:
        self._close()
        self.index += 1
        print(f"\n[{self.index}/{self.total}] {title}  (t = {time.time() - self.start:.0f} s)", flush=True)
        self._current = (title, time.time())

    def _close(self) -> None:
        if self._current is not None:
            title, started = self._current
            self.durations[title] = time.time() - started

    def finish(self) -> float:
        self._close()
        return time.time() - self.start


def plot_caption(sensor, channel_names: list[str], sampling_rate: float, caption: str, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    seconds = np.arange(sensor.shape[1]) / sampling_rate
    figure, axis = plt.subplots(figsize=(9, 4.5))
    for channel, name in zip(sensor, channel_names):
        axis.plot(seconds, channel, label=name, linewidth=1)
    axis.set_xlabel("time (s)")
    axis.legend(fontsize=7, ncol=3, loc="upper right")
    axis.set_title(title, fontsize=10)
    figure.text(0.01, 0.01, "\n".join(textwrap.wrap(f"SLIP caption: {caption}", 130)), fontsize=8, va="bottom")
    figure.tight_layout(rect=(0, 0.14, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def run(args: argparse.Namespace) -> int:
    from transformers import pipeline

    from slip_sensor.data import build_corpus, load_labelled_dataset
    from slip_sensor.evaluation.harness import evaluate_model
    from slip_sensor.hub_export import export_hub_folder
    from slip_sensor.training import pretrain

    out = Path(args.out)
    if args.overwrite and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    stages = Stages(total=5)

    stages.next(f"Building a corpus of {args.corpus_size} sensor-caption pairs")
    corpus_dir = out / "corpus"
    if not (corpus_dir / "corpus_info.json").exists():
        summary = build_corpus(corpus_dir, n=args.corpus_size, seed=args.seed, sources=DEMO_SOURCES)
        print(f"  {summary.rows} rows {summary.rows_per_source} in {summary.seconds:.1f} s")

    stages.next(f"Pretraining slip-tiny for {args.max_steps} steps (batch {args.batch_size})")
    model_dir = out / "model"
    trainer = pretrain.main(
        pretraining_arguments(corpus_dir, model_dir, args.max_steps, args.batch_size, args.learning_rate, args.seed)
    )
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]

    stages.next("Evaluating on BasicMotions (linear probe, zero-shot, baselines)")
    results_path = out / "eval" / "results.json"
    results = evaluate_model(str(model_dir), tasks=["basicmotions"], out=results_path, seeds=args.seeds)
    print((results_path.with_suffix(".md")).read_text())

    stages.next("Exporting a Hub-ready folder")
    hub_dir = out / "hub"
    if hub_dir.exists():
        shutil.rmtree(hub_dir)
    model = trainer.model.eval()
    processor = trainer.data_collator.processor
    export_hub_folder(model, processor, hub_dir, dict(results=results, preset="slip-tiny", seed=args.seed,
                                                      datasets=None, base_model=None, license="apache-2.0"))
    print(f"  {hub_dir}: {', '.join(sorted(p.name for p in hub_dir.iterdir()))}")

    stages.next("Captioning a real BasicMotions recording through pipeline('sensor-captioning')")
    basic_motions = load_labelled_dataset("basicmotions")
    sample, label = basic_motions.test_sensors[0], basic_motions.class_names[basic_motions.test_labels[0]]
    captioner = pipeline("sensor-captioning", model=str(hub_dir), trust_remote_code=True)
    caption = captioner({"sensors": sample, "sampling_rate": basic_motions.sampling_rate}, max_new_tokens=60)[0]
    caption = caption["generated_text"]
    picture = out / "caption_example.png"
    plot_caption(sample, basic_motions.channel_names, basic_motions.sampling_rate, caption,
                 f"BasicMotions test sample 0 (true activity: {label})", picture)
    total = stages.finish()

    task = results["tasks"]["basicmotions"]
    lp, zs, baselines = task["linear_probe"], task["zero_shot"], task["baselines"]
    report = {
        "corpus_rows": args.corpus_size,
        "training": {"steps": trainer.state.global_step, "first_loss": logs[0]["loss"], "last_loss": logs[-1]["loss"],
                     "last_contrastive_accuracy": logs[-1].get("contrastive_accuracy")},
        "basicmotions": {
            "linear_probe_accuracy": [lp["accuracy_mean"], lp["accuracy_std"]],
            "zero_shot_accuracy": zs["accuracy"],
            "statistical_features_accuracy": baselines["statistical_features"]["accuracy_mean"],
            "random_encoder_accuracy": baselines["random_encoder"]["accuracy_mean"],
        },
        "caption": {"true_label": label, "generated_text": caption, "picture": str(picture)},
        "seconds": {**{k: round(v, 1) for k, v in stages.durations.items()}, "total": round(total, 1)},
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    print("\n== SLIP demo report ==")
    print(f"pretraining: loss {report['training']['first_loss']:.3f} -> {report['training']['last_loss']:.3f} "
          f"over {report['training']['steps']} steps")
    print(f"BasicMotions linear probe: {100 * lp['accuracy_mean']:.1f} ± {100 * lp['accuracy_std']:.1f}% "
          f"(statistical features {100 * baselines['statistical_features']['accuracy_mean']:.1f}%, "
          f"random encoder {100 * baselines['random_encoder']['accuracy_mean']:.1f}%)")
    print(f"BasicMotions zero-shot: {100 * zs['accuracy']:.1f}% (chance {100 / len(basic_motions.class_names):.0f}%)")
    print(f"caption of a '{label}' recording: {caption}")
    print(f"picture: {picture}\nHub folder: {hub_dir}\nreport: {out / 'report.json'}\ntotal: {total / 60:.1f} min")
    return 0
