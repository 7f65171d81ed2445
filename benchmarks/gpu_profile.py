"""Where a stacked training step spends its time: the top kernels per variant (torch.profiler).

For K beta-VAEs on a fixed batch (data sampling excluded), each variant of
convolution implementation x precision is warmed up, then profiled for a few
steps; printed: milliseconds per step and the kernels with the most self
device time (CUDA) or self CPU time (CPU).

    python benchmarks/gpu_profile.py [--device cuda] [--k 128] [--steps 5] [--top 12]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from train_throughput import stack_setup  # the sibling benchmark's setups

from disentangle.data.toy import DummyImages
from disentangle.devices import resolve_device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--k", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--variants", nargs="+", default=["grouped/fp32", "grouped/bf16", "matmul/fp32", "matmul/bf16"])
    args = parser.parse_args()
    device = resolve_device(args.device)
    gpu = device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if gpu else [])
    sort_key = "self_cuda_time_total" if gpu else "self_cpu_time_total"
    root = Path(tempfile.mkdtemp(prefix="profile-"))
    for variant in args.variants:
        conv_impl, precision = variant.split("/")
        _, step = stack_setup(DummyImages(channels=1, size=64), args.k, root, device, shards=1,
                              conv_impl=conv_impl, fixed_batch=True, precision=precision)
        for _ in range(2):
            step()
        if gpu:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with profile(activities=activities) as prof:
            for _ in range(args.steps):
                step()
            if gpu:
                torch.cuda.synchronize()
        per_step = (time.perf_counter() - t0) / args.steps * 1e3
        print(f"\n== {variant}, K={args.k}: {per_step:.1f} ms/step under the profiler "
              f"({args.k * 1e3 / per_step:.0f} model-steps/s)", flush=True)
        print(prof.key_averages().table(sort_by=sort_key, row_limit=args.top, max_name_column_width=60), flush=True)


if __name__ == "__main__":
    main()
