"""`slip demo`: the main job, end to end on a CPU.

1. pretrains `slip-tiny` with the Trainer (contrastive + captioning) following the CPU recipe
   `training/recipes/slip-tiny-cpu.yaml`, on a small sensor-caption corpus built first (synthetic series,
   physiological simulations, aeon train splits);
2. evaluates it: linear probe and zero-shot on the public labelled sets (next to the statistical-feature and
   untrained-encoder baselines), zero-shot on the held-out synthetic attribute tasks, caption-sensor retrieval on the
   corpus's held-out split, and the share of true facts in captions of held-out series;
3. exports a Hub-ready folder (weights, configs, processor, remote code, model card with the measured results);
4. loads that folder with `pipeline("sensor-captioning", trust_remote_code=True)` and captions a real BasicMotions
   recording after a prompt stating what is known of it (length, rate, channels), drawn with its caption into a PNG;
5. prints a report with the main job's targets, met or not, and the corpus really trained on (its recorded rows,
   seed and sources: a corpus left by an earlier run is reused only when it was built with the same arguments).

Everything lands in `--out` (default `runs/demo`), marked as a demo run; a later run resumes there, `--overwrite`
starts again from scratch. A folder holding anything else is refused, so a mistyped `--out` deletes nothing.
"""

import argparse
import json
import shutil
import time
from pathlib import Path

HELP = "Run the main job: build a corpus, pretrain slip-tiny, evaluate, export a Hub folder, caption a real sample."

RECIPE = "slip-tiny-cpu"
COMMAND = "slip demo"  # written into --out's marker: what a later run may resume or --overwrite delete


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from slip_sensor.training.recipe_files import read_recipe

    recipe = read_recipe(RECIPE)
    parser.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    parser.add_argument("--corpus-size", type=int, default=recipe["corpus_size"],
                        help=f"corpus rows to build (default: {recipe['corpus_size']})")
    parser.add_argument("--max-steps", type=int, default=None,
                        help=f"pretraining steps (default: the recipe's {recipe['max_steps']})")
    parser.add_argument("--batch-size", type=int, default=None,
                        help=f"pretraining batch size (default: the recipe's {recipe['per_device_train_batch_size']})")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help=f"peak learning rate (default: the recipe's {recipe['learning_rate']})")
    parser.add_argument("--seeds", type=int, default=5, help="linear-probe seeds (default: 5)")
    parser.add_argument("--seed", type=int, default=0, help="corpus and training seed (default: 0)")
    parser.add_argument("--overwrite", action="store_true", help="delete an earlier demo run in --out and start again")


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


def targets(results: dict, public_tasks: list[str]) -> dict:
    """The main job's goals, each with its measured value and whether it is met."""
    tasks = results["tasks"]

    def probe(name: str, encoder: str | None = None) -> float:
        entry = tasks[name]["linear_probe"] if encoder is None else tasks[name]["baselines"][encoder]
        return entry["accuracy_mean"]

    mean = lambda values: sum(values) / len(values)  # noqa: E731
    public = mean([probe(name) for name in public_tasks])
    public_untrained = mean([probe(name, "random_encoder") for name in public_tasks])
    synthetic = results["summary"]["synthetic_attributes"]
    facts = results["captions"]["faithfulness"]
    goals = {
        "basicmotions_probe_vs_untrained": (probe("basicmotions"), probe("basicmotions", "random_encoder"), ">="),
        "public_probe_mean_vs_untrained": (public, public_untrained, ">="),
        "basicmotions_zero_shot": (tasks["basicmotions"]["zero_shot"]["accuracy"], 0.5, ">="),
        "synthetic_zero_shot_vs_twice_chance": (synthetic["zero_shot_mean"], 2 * synthetic["chance_mean"], ">="),
        "caption_facts_true": (facts["share_true"], 0.5, ">="),
    }
    report = {name: {"value": value, "goal": goal, "met": value is not None and value >= goal}
              for name, (value, goal, _) in goals.items()}
    retrieval = results["retrieval"]
    report["retrieval_recall_at_5"] = {
        "text_to_sensor": retrieval["text_to_sensor"]["recall_at_5"],
        "sensor_to_text": retrieval["sensor_to_text"]["recall_at_5"],
        "chance": retrieval["chance_recall_at_k"]["5"],
        "num_pairs": retrieval["num_pairs"],
    }
    return report


def run(args: argparse.Namespace) -> int:
    from transformers import pipeline

    from slip_sensor.caption_plot import plot_captions
    from slip_sensor.data import list_labelled_datasets, load_labelled_dataset
    from slip_sensor.data.corpus import read_corpus_info
    from slip_sensor.data.semantics import known_facts_prompt
    from slip_sensor.evaluation.harness import evaluate_model
    from slip_sensor.hub_export import export_hub_folder
    from slip_sensor.hub_folder import upload_files
    from slip_sensor.output_folders import mark_folder, refuse_foreign, written_by
    from slip_sensor.training.api import pretrain

    out = Path(args.out)
    refuse_foreign(out, written_by(out) == COMMAND, COMMAND)
    if args.overwrite and out.exists():
        shutil.rmtree(out)  # an earlier demo run, checked above
    out.mkdir(parents=True, exist_ok=True)
    mark_folder(out, COMMAND)
    stages = Stages(total=4)

    stages.next(f"Preparing a corpus of {args.corpus_size} sensor-caption pairs and pretraining slip-tiny ({RECIPE})")
    model_dir = out / "model"
    corpus_dir = model_dir / "corpus"  # built by `pretrain`, reused by later runs with the same corpus arguments
    overrides = {"max_steps": args.max_steps, "per_device_train_batch_size": args.batch_size,
                 "learning_rate": args.learning_rate}
    trainer, processor, _ = pretrain(
        RECIPE, output_dir=str(model_dir), corpus_size=args.corpus_size, seed=args.seed, corpus_seed=args.seed,
        use_cpu=True, disable_tqdm=False, **{key: value for key, value in overrides.items() if value is not None},
    )
    # a run shorter than the recipe's logging interval logs no step; its summary still holds the mean loss
    logs = [entry for entry in trainer.state.log_history if "loss" in entry] or [
        {"loss": entry["train_loss"]} for entry in trainer.state.log_history if "train_loss" in entry
    ]

    corpus = read_corpus_info(corpus_dir)  # what was trained on, as recorded by its build
    public_tasks = [name.lower() for name in list_labelled_datasets()]
    stages.next("Evaluating: linear probe and zero-shot on the public sets, synthetic attributes, retrieval, captions")
    results_path = out / "eval" / "results.json"
    results = evaluate_model(str(model_dir), tasks=[*public_tasks, "synthetic-attributes", "retrieval", "captions"],
                             out=results_path, seeds=args.seeds, corpus=str(corpus_dir))
    print(results_path.with_suffix(".md").read_text())

    stages.next("Exporting a Hub-ready folder")
    hub_dir = out / "hub"
    model = trainer.model.eval()
    # a trained checkpoint: no `preset`, which would mark the card as randomly initialised weights
    export_hub_folder(model, processor, hub_dir, dict(results=results, datasets=None, base_model=None,
                                                      license="apache-2.0"), overwrite=True)
    print(f"  {hub_dir}: {', '.join(path.name for path in upload_files(hub_dir))}")

    stages.next("Captioning a real BasicMotions recording through pipeline('sensor-captioning')")
    basic_motions = load_labelled_dataset("basicmotions")
    sample, label = basic_motions.test_sensors[0], basic_motions.class_names[basic_motions.test_labels[0]]
    prompt = known_facts_prompt(sample.shape[-1], basic_motions.sampling_rate, sample.shape[0],
                                basic_motions.channel_names, basic_motions.domain)
    captioner = pipeline("sensor-captioning", model=str(hub_dir), trust_remote_code=True)
    generated = captioner({"sensors": sample, "sampling_rate": basic_motions.sampling_rate, "prompt": prompt},
                          max_new_tokens=60)[0]["generated_text"]
    caption = f"{prompt} {generated.strip()}"
    picture = out / "caption_example.png"
    plot_captions(sample, basic_motions.sampling_rate, basic_motions.channel_names,
                  [(0.0, sample.shape[-1] / basic_motions.sampling_rate, f"SLIP caption: {caption}")],
                  f"BasicMotions test sample 0 (true activity: {label})", picture)
    total = stages.finish()

    goals = targets(results, public_tasks)
    bm = results["tasks"]["basicmotions"]
    report = {
        "recipe": RECIPE,
        "corpus": {"path": str(corpus_dir), "rows": corpus["rows"], "rows_per_split": corpus["rows_per_split"],
                   "seed": corpus["seed"], "sources": corpus["sources"]},
        "training": {"steps": trainer.state.global_step, "first_loss": logs[0]["loss"], "last_loss": logs[-1]["loss"],
                     "last_contrastive_accuracy": logs[-1].get("contrastive_accuracy")},
        "targets": goals,
        "basicmotions": {
            "linear_probe_accuracy": [bm["linear_probe"]["accuracy_mean"], bm["linear_probe"]["accuracy_std"]],
            "zero_shot_accuracy": bm["zero_shot"]["accuracy"],
            "statistical_features_accuracy": bm["baselines"]["statistical_features"]["accuracy_mean"],
            "random_encoder_accuracy": bm["baselines"]["random_encoder"]["accuracy_mean"],
        },
        "caption": {"true_label": label, "prompt": prompt, "generated_text": generated, "picture": str(picture)},
        "seconds": {**{k: round(v, 1) for k, v in stages.durations.items()}, "total": round(total, 1)},
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    print("\n== SLIP demo report ==")
    print(f"corpus: {corpus['rows']} rows (seed {corpus['seed']}, sources {', '.join(corpus['sources'])}) in {corpus_dir}")
    print(f"pretraining: loss {report['training']['first_loss']:.3f} -> {report['training']['last_loss']:.3f} "
          f"over {report['training']['steps']} steps")
    for name, goal in goals.items():
        if "met" in goal:
            value = "n/a" if goal["value"] is None else f"{100 * goal['value']:.1f}%"
            print(f"  [{'met' if goal['met'] else 'NOT met'}] {name}: {value} (goal >= {100 * goal['goal']:.1f}%)")
    recall = goals["retrieval_recall_at_5"]
    print(f"  retrieval R@5 text->sensor {100 * recall['text_to_sensor']:.1f}%, sensor->text "
          f"{100 * recall['sensor_to_text']:.1f}% (chance {100 * recall['chance']:.1f}%, {recall['num_pairs']} pairs)")
    print(f"caption of a '{label}' recording: {caption}")
    print(f"picture: {picture}\nHub folder: {hub_dir}\nreport: {out / 'report.json'}\ntotal: {total / 60:.1f} min")
    return 0
