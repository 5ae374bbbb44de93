"""Where the main job's pretraining time goes: the input pipeline against the model step, on this machine.

    python benchmarks/profile_pretrain.py                                # `slip demo` settings: slip-tiny, batch 32
    python benchmarks/profile_pretrain.py --corpus-size 600 --steps 20   # quicker

Pretrains as `slip demo` does (its recipe, on the CPU) for --steps steps, on a corpus built first. A callback times each step (forward,
backward, clipping, optimizer: from `on_step_begin` to `on_step_end`) and the gap before it (fetching and collating
the batch from the corpus, logging). It then times the same trainer's dataloader alone, and profiles
--profile-steps steps with torch.profiler. Prints one JSON line (medians in ms; `input_share` is the share of wall
time outside the model step) and, on stderr, the profiler's top operators by self CPU time.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile
from transformers import TrainerCallback

from slip_sensor.demo import RECIPE
from slip_sensor.training.api import pretrain
from slip_sensor.training.recipe_files import read_recipe


class StepTimer(TrainerCallback):
    """Wall time of each optimizer step and of the gap before it; profiles steps [profile_from, profile_from + n)."""

    def __init__(self, profile_from: int, profile_steps: int):
        self.steps, self.gaps = [], []
        self.profile_from, self.profile_until = profile_from, profile_from + profile_steps
        self.profiler = None
        self._last_end = self._begin = None

    def on_step_begin(self, args, state, control, **kwargs):
        self._begin = time.perf_counter()
        if self._last_end is not None:
            self.gaps.append(self._begin - self._last_end)
        if state.global_step == self.profile_from:
            self.profiler = profile(activities=[ProfilerActivity.CPU])
            self.profiler.__enter__()

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append(time.perf_counter() - self._begin)
        if state.global_step == self.profile_until and self.profiler is not None:
            self.profiler.__exit__(None, None, None)
        self._last_end = time.perf_counter()  # the profiler's report stays out of the next gap


def time_dataloader(trainer, batches: int) -> list[float]:
    """Seconds per batch of the trainer's own train dataloader (sampler, dataset transform, collator) alone."""
    times, start = [], time.perf_counter()
    for index, _ in enumerate(trainer.get_train_dataloader()):
        now = time.perf_counter()
        times.append(now - start)
        start = now
        if index + 1 == batches:
            break
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    recipe = read_recipe(RECIPE)
    parser.add_argument("--corpus-size", type=int, default=recipe["corpus_size"])
    parser.add_argument("--batch-size", type=int, default=recipe["per_device_train_batch_size"])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup-steps", type=int, default=5, help="steps left out of the medians")
    parser.add_argument("--profile-steps", type=int, default=3)
    parser.add_argument("--out", default=None, help="working folder (default: a temporary one)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as temporary:
        out = Path(args.out or temporary)
        timer = StepTimer(profile_from=args.warmup_steps, profile_steps=args.profile_steps)
        # no checkpoint and no progress bar inside the timed run
        trainer, _, _ = pretrain(
            RECIPE, callbacks=[timer], output_dir=str(out / "model"), corpus_size=args.corpus_size, seed=0,
            max_steps=args.steps, per_device_train_batch_size=args.batch_size, use_cpu=True, save_strategy="no",
            eval_strategy="no", disable_tqdm=True,
        )
        loader = time_dataloader(trainer, args.steps)

    # the profiled steps are slower (profiler overhead) and stay out of the medians
    skip = set(range(args.warmup_steps, args.warmup_steps + args.profile_steps))
    steps = [t for i, t in enumerate(timer.steps) if i >= args.warmup_steps and i not in skip]
    gaps = [t for i, t in enumerate(timer.gaps, start=1) if i >= args.warmup_steps and i not in skip]
    step, gap, load = statistics.median(steps), statistics.median(gaps), statistics.median(loader[1:])
    record = {
        "what": "pretraining profile (slip demo settings)",
        "preset": "slip-tiny",
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "batch": args.batch_size,
        "corpus_rows": args.corpus_size,
        "steps_timed": len(steps),
        "step_ms": round(1000 * step, 1),
        "gap_before_step_ms": round(1000 * gap, 1),
        "dataloader_alone_ms_per_batch": round(1000 * load, 1),
        "input_share": round(gap / (gap + step), 3),
        "step_to_input_ratio": round(step / load, 1),
    }
    print(json.dumps(record), flush=True)
    if timer.profiler is not None:
        table = timer.profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=12)
        print(f"torch.profiler, {args.profile_steps} steps, top operators by self CPU time:\n{table}", file=sys.stderr)


if __name__ == "__main__":
    main()
