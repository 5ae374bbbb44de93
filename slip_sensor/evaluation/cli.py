"""`slip evaluate`: linear probe, zero-shot and baselines of a saved SLIP model; writes JSON, markdown and plots.

Example: `slip evaluate --model runs/slip-base --tasks basicmotions --out results/slip-base.json --seeds 5`.
`--tasks synthetic-attributes` adds the six held-out synthetic attribute tasks (`evaluation.synthetic_tasks`);
`--tasks retrieval` scores caption↔sensor retrieval on a held-out synthetic archive whose captions are true
(`evaluation.archive`), or with `--corpus DIR` on the corpus's validation split, beside a random-weight model and a
statistical-feature map (`evaluation.retrieval`); `--tasks captions` (a captioning checkpoint) captions held-out
synthetic series and scores the captions' facts and their similarity to references (`evaluation.captioning`).

Your own data: `slip evaluate --dataset data.parquet --sensor-column sensor --label-column activity --sampling-rate 50`
evaluates a parquet/CSV file or folder, or a Hub dataset (`data.user_dataset.load_user_dataset`), as a task named
after it; train/test come from its splits, a `split` column or `--test-size`.

`--protocol reference` runs the SLIP authors' linear probe instead of the default one: it reports the best TEST
accuracy over 50 epochs (the epoch is chosen on test), and every output says so (`evaluation.linear_probe`).
The results-JSON schema is documented in `slip_sensor.evaluation.harness`.
"""

import argparse
import inspect

from slip_sensor.cli import positive_int
from slip_sensor.errors import UserError
from slip_sensor.recording_cli import positive_float

HELP = "Evaluate a SLIP model (linear probe, zero-shot, baselines) on labelled sensor datasets."


def _comma_list(value: str) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list of task names")
    return items


def _fraction(value: str) -> float:
    number = positive_float(value)
    if number >= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction between 0 and 1, got {value}")
    return number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", default=None,
        help="directory written by save_pretrained (model + processor); default: the shipped slip-tiny",
    )
    parser.add_argument(
        "--tasks",
        type=_comma_list,
        default=None,
        help="comma-separated dataset names; synthetic-attributes (or synthetic-trend, synthetic-periodicity, "
        "synthetic-noise, synthetic-spikes, synthetic-level-shift, synthetic-lead); retrieval (the held-out "
        "synthetic archive, or --corpus); "
        "captions (needs a captioning checkpoint); default: basicmotions, or none with --dataset",
    )
    user = parser.add_argument_group("your own labelled dataset (a task named after it)")
    user.add_argument("--dataset", default=None, help="parquet/CSV file or folder, or Hub dataset id (offline: cached)")
    user.add_argument("--sensor-column", default=None, help="column of [channels][time] lists (or [time] lists)")
    user.add_argument("--label-column", default=None, help="column of class labels")
    user.add_argument("--sampling-rate", type=positive_float, default=None, help="sampling rate in Hz")
    user.add_argument("--rate-column", default=None, help="column holding the sampling rate (one value)")
    user.add_argument("--split-column", default="split", help="column of train/test marks, when there are no splits")
    user.add_argument(
        "--test-size", type=_fraction, default=None, help="held-out fraction (stratified, seed 0) for unsplit data"
    )
    user.add_argument(
        "--prompts",
        default=None,
        help="zero-shot prompts: one per class in sorted class order, comma-separated, or one template with {label} "
        "(default: the class names)",
    )
    parser.add_argument(
        "--protocol",
        choices=["default", "reference"],
        default="default",
        help="linear probe: default (epoch chosen on a validation split of train) or reference (the SLIP authors': "
        "best TEST accuracy over 50 epochs, optimistic; labelled so in every output)",
    )
    parser.add_argument(
        "--corpus", default=None,
        help="corpus directory or Hub id for the retrieval task (default: the held-out synthetic archive)",
    )
    parser.add_argument(
        "--corpus-split", dest="retrieval_split", default="validation", help="held-out corpus split for retrieval"
    )
    parser.add_argument(
        "--retrieval-text",
        default="semantic+structural",
        choices=["semantic+structural", "caption", "semantic", "structural", "statistical"],
        help="caption text paired with each sensor sample for retrieval",
    )
    parser.add_argument(
        "--retrieval-max-rows", type=positive_int, default=None,
        help="use only the first N corpus rows (archive windows)",
    )
    parser.add_argument(
        "--caption-samples",
        type=positive_int,
        default=64,
        help="held-out synthetic series captioned by the captions task",
    )
    parser.add_argument(
        "--caption-metrics",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="score captions against references with BLEU, METEOR, ROUGE-L, SBERT and BERTScore (loads MiniLM)",
    )
    parser.add_argument("--out", default="results.json", help="results JSON; the .md table and plots go beside it")
    parser.add_argument("--seeds", type=positive_int, default=5, help="linear-probe seeds (0..N-1)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="samples per model forward pass")
    parser.add_argument("--cache-dir", default=None, help="feature cache (default: <out folder>/feature_cache)")
    parser.add_argument("--device", default=None, help="torch device (default: where the model was loaded)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    if args.tasks is None:
        args.tasks = [] if args.dataset else ["basicmotions"]
    if args.dataset and not (args.sensor_column and args.label_column):
        raise UserError("--dataset needs --sensor-column COL and --label-column COL")
    # imported here so that `slip evaluate --help` does not load torch and the model code
    from .harness import evaluate_model
    from .linear_probe import ProbeConfig
    from .report import results_table

    args.probe_config = ProbeConfig.reference() if args.protocol == "reference" else ProbeConfig()
    if args.dataset:
        from slip_sensor.data.user_dataset import load_user_dataset

        options = ("sensor_column", "label_column", "sampling_rate", "rate_column", "split_column", "test_size")
        dataset = load_user_dataset(args.dataset, prompts=args.prompts, **{name: vars(args)[name] for name in options})
        args.tasks = [*args.tasks, dataset]

    if args.model is None:
        from slip_sensor.shipped_models import pretrained

        args.model = str(pretrained())
    # every option but --model is named after the `evaluate_model` parameter it sets
    parameters = inspect.signature(evaluate_model).parameters
    results = evaluate_model(args.model, **{name: value for name, value in vars(args).items() if name in parameters})
    print(results_table(results))
    print(f"results written to {args.out}")
    return 0
