"""Learning curve of one pretraining run: every checkpoint evaluated, against steps, beside the untrained model.

    python benchmarks/learning_curve.py --run runs/demo/model --corpus runs/demo/corpus \
        --out benchmarks/results/learning_curve

For step 0 (the same architecture, untrained, seed 0) and every `checkpoint-*` of the run it measures:
- the linear probe (test accuracy, epoch chosen on a validation split of train) averaged over the public labelled
  sets, next to the statistical-feature baseline;
- BasicMotions zero-shot accuracy, next to chance;
- the synthetic-attribute zero-shot accuracy averaged over the six held-out attribute tasks, next to chance;
- text→sensor Recall@5 on the corpus's held-out split, next to chance.
It writes `<out>.json` (every number, per checkpoint) and `<out>.png` (four panels), and prints one JSON line per
checkpoint. Nothing here selects anything: the recipe was chosen before, on validation signals.
"""

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

SYNTHETIC = "synthetic-attributes"


def public_tasks() -> list[str]:
    from slip_sensor.data import list_labelled_datasets

    return [name.lower() for name in list_labelled_datasets()]


def checkpoints(run: Path) -> list[tuple[int, Path]]:
    found = [(int(m.group(1)), path) for path in run.glob("checkpoint-*") if (m := re.fullmatch(r"checkpoint-(\d+)", path.name))]
    if not found:
        raise SystemExit(f"{run} has no checkpoint-* folders: pretrain with --save-steps N --save-total-limit 0")
    return sorted(found)


def untrained(run: Path, folder: Path) -> Path:
    """The run's architecture freshly initialised (seed 0), saved as a step-0 checkpoint."""
    from slip_sensor import SlipConfig, SlipForConditionalGeneration

    torch.manual_seed(0)
    SlipForConditionalGeneration(SlipConfig.from_pretrained(run)).save_pretrained(folder)
    return folder


def summarise(results: dict) -> dict:
    tasks, public = results["tasks"], public_tasks()
    probe = [tasks[name]["linear_probe"]["accuracy_mean"] for name in public]
    untrained = [tasks[name]["baselines"]["random_encoder"]["accuracy_mean"] for name in public]
    statistical = [tasks[name]["baselines"]["statistical_features"]["accuracy_mean"] for name in public]
    synthetic = results["summary"]["synthetic_attributes"]
    retrieval = results["retrieval"]
    return {
        "linear_probe_public_mean": float(np.mean(probe)),
        "linear_probe_per_task": dict(zip(public, probe)),
        "linear_probe_public_mean_untrained_encoder": float(np.mean(untrained)),
        "statistical_features_public_mean": float(np.mean(statistical)),
        "basicmotions_zero_shot": tasks["basicmotions"]["zero_shot"]["accuracy"],
        "basicmotions_chance": tasks["basicmotions"]["zero_shot"]["chance"],
        "synthetic_zero_shot_mean": synthetic["zero_shot_mean"],
        "synthetic_chance_mean": synthetic["chance_mean"],
        "retrieval_text_to_sensor_r5": retrieval["text_to_sensor"]["recall_at_5"],
        "retrieval_sensor_to_text_r5": retrieval["sensor_to_text"]["recall_at_5"],
        "retrieval_chance_r5": retrieval["chance_recall_at_k"]["5"],
    }


def plot(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [p["step"] for p in points]
    start = points[0]
    panels = (
        ("Linear probe, mean of 5 public sets", "linear_probe_public_mean", ("statistical features", "statistical_features_public_mean")),
        ("BasicMotions zero-shot", "basicmotions_zero_shot", ("chance", "basicmotions_chance")),
        ("Synthetic-attribute zero-shot (6 tasks)", "synthetic_zero_shot_mean", ("chance", "synthetic_chance_mean")),
        ("Retrieval text→sensor R@5 (held-out)", "retrieval_text_to_sensor_r5", ("chance", "retrieval_chance_r5")),
    )
    figure, axes = plt.subplots(2, 2, figsize=(10, 7))
    for axis, (title, key, (reference_name, reference_key)) in zip(axes.flat, panels):
        axis.plot(steps, [p[key] for p in points], "o-", label="SLIP (pretrained)")
        axis.axhline(start[key], color="grey", linestyle="--", label="untrained (step 0)")
        axis.axhline(start[reference_key], color="tab:red", linestyle=":", label=reference_name)
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("pretraining step")
        axis.set_ylabel("accuracy" if "r5" not in key else "recall@5")
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="pretraining output folder (processor + checkpoint-* folders)")
    parser.add_argument("--corpus", required=True, help="the run's corpus (its validation split is scored)")
    parser.add_argument("--out", required=True, help="output stem: <out>.json and <out>.png")
    parser.add_argument("--seeds", type=int, default=3, help="linear-probe seeds (default: 3)")
    args = parser.parse_args(argv)

    from slip_sensor import SlipProcessor
    from slip_sensor.evaluation.harness import evaluate_model

    run, out = Path(args.run), Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    processor = SlipProcessor.from_pretrained(run)
    points = []
    with tempfile.TemporaryDirectory() as scratch:
        for step, folder in [(0, untrained(run, Path(scratch) / "step-0")), *checkpoints(run)]:
            results = evaluate_model(str(folder), processor, tasks=[*public_tasks(), SYNTHETIC, "retrieval"],
                                     seeds=args.seeds, corpus=args.corpus, cache_dir=Path(scratch) / "cache",
                                     progress=False)
            points.append({"step": step, **summarise(results)})
            print(json.dumps(points[-1]), flush=True)
    out.with_suffix(".json").write_text(json.dumps({"run": str(run), "corpus": args.corpus, "seeds": args.seeds,
                                                    "points": points}, indent=2) + "\n")
    plot(points, out.with_suffix(".png"))
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
