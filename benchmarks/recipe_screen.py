"""Screen a pretraining recipe on validation signals only: no test split is read.

    python benchmarks/recipe_screen.py --name mean-mega4 --corpus runs/demo/corpus --out benchmarks/results/screen \
        -- --preset slip-tiny --caption-mix short --text-pooling mean --shape-group-batches 4 --max-steps 300

Everything after `--` is read as `training/pretrain.py` reads its command line (the run is not checkpointed). The trained model and the same
architecture untrained (seed 0) are then scored on:
- the linear probe's *validation* accuracy (the split carved from each public labelled set's train split that
  chooses the probe's epoch), averaged over the public sets;
- zero-shot accuracy on the public sets' *train* splits (divided by chance, averaged), whose rows the corpus holds;
- the last logged training losses and contrastive accuracy.
It prints one JSON line and appends it to `<out>.jsonl`. Recipes are compared on these numbers; test splits are
scored once, for the chosen recipe, by `slip evaluate` and `benchmarks/learning_curve.py`.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

SEEDS = (0, 1, 2)


def validation_scores(model, processor) -> dict:
    """Per public set: probe validation accuracy (mean over seeds) and train-split zero-shot accuracy / chance."""
    from slip_sensor.data import list_labelled_datasets, load_labelled_dataset
    from slip_sensor.evaluation.harness import SlipEncoder
    from slip_sensor.evaluation.linear_probe import train_linear_probe
    from slip_sensor.evaluation.zero_shot import class_prompts, class_prototypes, zero_shot

    encoder = SlipEncoder(model, processor, batch_size=64)
    scores = {}
    for name in list_labelled_datasets():
        data = load_labelled_dataset(name)
        train = encoder.token_features(data.train_sensors, data.sampling_rate)
        validation = [train_linear_probe(train, data.train_labels, len(data.class_names), seed).val_accuracy
                      for seed in SEEDS]
        prompts = encoder.text_embeddings(class_prompts(data.class_names, data.prompt_templates))
        prototypes = class_prototypes(prompts, len(data.class_names))
        sensors = encoder.sensor_embeddings(data.train_sensors, data.sampling_rate)
        scores[name] = {
            "probe_validation": float(np.mean(validation)),
            "zero_shot_train_over_chance": zero_shot(sensors, data.train_labels, prototypes).accuracy
            * len(data.class_names),
        }
    return scores


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True)
    parser.add_argument("--corpus", required=True, help="corpus folder (built once, shared by the screened recipes)")
    parser.add_argument("--out", default="benchmarks/results/screen", help="results stem: <out>.jsonl")
    args = parser.parse_args(argv[:split])
    pretrain_flags = argv[split + 1 :]

    from slip_sensor import SlipConfig, SlipModel
    from slip_sensor.training.api import run_pretraining
    from slip_sensor.training.arguments import (
        TRAINING_DEFAULTS,
        DataArguments,
        ModelArguments,
        TrainingArguments,
        parse_arguments,
    )

    with tempfile.TemporaryDirectory() as scratch:
        model_args, data_args, training_args = parse_arguments(
            (ModelArguments, DataArguments, TrainingArguments),
            pretrain_flags,
            {**TRAINING_DEFAULTS, "corpus": args.corpus, "output_dir": scratch, "use_cpu": True,
             "save_strategy": "no", "disable_tqdm": True},
        )
        started = time.time()
        trainer, processor, _ = run_pretraining(model_args, data_args, training_args)
        seconds = time.time() - started
        trained = validation_scores(trainer.model.slip.eval(), processor)
        torch.manual_seed(0)
        untrained = validation_scores(SlipModel(SlipConfig.from_dict(trainer.model.config.to_dict())).eval(), processor)
    last = [entry for entry in trainer.state.log_history if "loss" in entry][-1]
    mean = lambda scores, key: float(np.mean([s[key] for s in scores.values()]))  # noqa: E731
    record = {
        "name": args.name,
        "flags": pretrain_flags,
        "steps": trainer.state.global_step,
        "train_seconds": round(seconds),
        "threads": torch.get_num_threads(),
        "last_log": {k: last.get(k) for k in ("loss", "contrastive_loss", "caption_loss", "contrastive_accuracy",
                                              "uniformity_text", "uniformity_sensor")},
        "probe_validation_mean": mean(trained, "probe_validation"),
        "probe_validation_mean_untrained": mean(untrained, "probe_validation"),
        "zero_shot_train_over_chance_mean": mean(trained, "zero_shot_train_over_chance"),
        "per_task": trained,
        "per_task_untrained": untrained,
    }
    print(json.dumps(record), flush=True)
    out = Path(args.out).with_suffix(".jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as stream:
        stream.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
