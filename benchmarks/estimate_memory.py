"""Peak training memory of the reference workloads, estimated without an accelerator, one JSON line per workload.

    python benchmarks/estimate_memory.py                                  # paper size (slip-base), both train workloads
    python benchmarks/estimate_memory.py --gradient-checkpointing
    python benchmarks/estimate_memory.py --preset slip-small --workloads train --top 10

The model, optimizer and inputs are shape-only fake tensors (`FakeTensorMode`): no weights are allocated and no
arithmetic runs, so paper size takes seconds on a laptop. One train step (bf16 autocast, AdamW, gradient
clipping; the step of `bench_model.py`) creates the optimizer state; a second is traced op by op, adding each new
storage when an operator returns it and removing it when it is freed. The peak of live bytes approximates the
accelerator's `max_memory_allocated` (it leaves out the CUDA context, kernel workspaces and allocator rounding, and
uses the CPU's autocast rules, which cast the same matrix products to bf16). `--top` lists the largest live
tensors at the peak, grouped by the operator that made them.
"""

import argparse
import collections
import gc
import json
import warnings
import weakref

import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from bench_model import WORKLOADS, enable_activation_checkpointing, make_step
from slip_sensor import SlipConfig, SlipForConditionalGeneration


class LiveMemory(TorchDispatchMode):
    """Bytes of the tensor storages alive while it is active, and the largest such total (with its storages)."""

    def __init__(self, resident: list[torch.Tensor]):
        super().__init__()
        self.live: dict[int, tuple[int, str, tuple[int, ...], torch.dtype]] = {}
        self.current = self.peak = 0
        self.at_peak: dict = {}
        for tensor in resident:
            self.add(tensor, "resident (weights, optimizer state, inputs)")
        self.resident = self.current

    def add(self, tensor: torch.Tensor, origin: str) -> None:
        storage = tensor.untyped_storage()
        key = id(storage)
        if key in self.live:  # a view of a storage already counted
            return
        self.live[key] = (storage.nbytes(), origin, tuple(tensor.shape), tensor.dtype)
        self.current += storage.nbytes()
        if self.current > self.peak:
            self.peak, self.at_peak = self.current, dict(self.live)
        weakref.finalize(storage, self._free, key)

    def _free(self, key: int) -> None:
        self.current -= self.live.pop(key, (0,))[0]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        output = func(*args, **(kwargs or {}))
        for value in tree_flatten(output)[0]:
            if isinstance(value, torch.Tensor):
                self.add(value, str(func.overloadpacket.__name__))
        return output

    def largest(self, count: int) -> list[dict]:
        groups = collections.defaultdict(lambda: [0, 0])
        for nbytes, origin, shape, dtype in self.at_peak.values():
            group = groups[(origin, shape, str(dtype).removeprefix("torch."))]
            group[0] += nbytes
            group[1] += 1
        ranked = sorted(groups.items(), key=lambda item: -item[1][0])[:count]
        return [
            {"made_by": origin, "shape": list(shape), "dtype": dtype, "count": n, "gib": round(nbytes / 2**30, 3)}
            for (origin, shape, dtype), (nbytes, n) in ranked
        ]


def estimate(preset: str, name: str, gradient_checkpointing: bool, top: int) -> dict:
    with FakeTensorMode():
        model = SlipForConditionalGeneration(SlipConfig.from_preset(preset, attn_implementation="sdpa")).train()
        if gradient_checkpointing:
            enable_activation_checkpointing(model)
        device = torch.device("cpu")
        autocast = torch.autocast("cpu", dtype=torch.bfloat16)
        step, _, _, _ = make_step(name, model, dict(WORKLOADS[name]), device, autocast)
        step()  # creates AdamW's state
        # resident: every tensor alive between steps (weights, optimizer state, the input batch)
        with warnings.catch_warnings():  # isinstance on every object touches deprecated module attributes
            warnings.simplefilter("ignore", FutureWarning)
            tracker = LiveMemory([obj for obj in gc.get_objects() if isinstance(obj, torch.Tensor)])
        with tracker:
            step()
    record = {
        "workload": name,
        "preset": preset,
        **WORKLOADS[name],
        "gradient_checkpointing": gradient_checkpointing,
        "resident_gib": round(tracker.resident / 2**30, 2),
        "estimated_peak_gib": round(tracker.peak / 2**30, 2),
        "resident_bytes": tracker.resident,
        "estimated_peak_bytes": tracker.peak,
    }
    if top:
        record["largest_at_peak"] = tracker.largest(top)
    return record


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="slip-base")
    parser.add_argument("--workloads", default="train,train-long")
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--top", type=int, default=0, help="list the N largest tensor groups at the peak")
    args = parser.parse_args(argv)
    for name in args.workloads.split(","):
        print(json.dumps(estimate(args.preset, name, args.gradient_checkpointing, args.top)), flush=True)


if __name__ == "__main__":
    main()
