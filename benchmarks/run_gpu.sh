#!/usr/bin/env bash
# The GPU benchmark run: the four reference workloads at paper size (bf16 autocast) on one GPU, as one script.
#
#   bash benchmarks/run_gpu.sh [OUT_DIR]        # default OUT_DIR: benchmarks/results
#
# Needs torch with CUDA and transformers (the package is installed from this checkout without dependencies, so it
# runs offline). Writes OUT_DIR/<gpu>-<date>.jsonl, one JSON line per measurement:
#   1. eager: train, train-long, embedding, captioning with the dynamic and the static cache;
#   2. torch.compile: every layer compiled, static-cache decoding compiled with CUDA graphs;
#   3. activation checkpointing: the two train workloads (memory against speed);
#   4. the processor (raw arrays -> tensors).
# Its running time has not been measured yet: allow it about 10 minutes on one GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
out_dir="${1:-benchmarks/results}"
mkdir -p "$out_dir"
python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . >/dev/null
gpu="$(python3 -c 'import torch; print(torch.cuda.get_device_name().replace("NVIDIA ", "").split()[0].lower())')"
results="$out_dir/$gpu-$(date +%F).jsonl"
export PYTHONUNBUFFERED=1

python3 benchmarks/bench_model.py | tee -a "$results"
python3 benchmarks/bench_model.py --compile --cache static | tee -a "$results"
python3 benchmarks/bench_model.py --gradient-checkpointing --workloads train,train-long | tee -a "$results"
python3 benchmarks/bench_processor.py | tee -a "$results"
echo "results: $results"
