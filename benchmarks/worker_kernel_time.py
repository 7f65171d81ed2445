"""Kernel time and page faults of a training worker, with and without the pinned malloc thresholds.

    python benchmarks/worker_kernel_time.py [--k 3] [--steps 300] [--batch 32]

A study worker (``study/executors.py``) calls ``devices.pin_malloc_thresholds()`` before it trains:
with glibc's default thresholds a stack's multi-MiB activation buffers are returned to the OS
after every step and page-faulted in again. Here two fresh processes each train the same stack of
K β-VAEs (procedural dSprites, float32, one thread, the worker's setting) for ``--steps`` updates,
one with the default allocator and one pinned, and read their own ``/proc/self/stat`` around the
training: the share of CPU time spent in the kernel (goal: <= 5 %) and minor page faults per
second. Both shares are ratios of the process's own times, so a busy machine changes them little;
the wall times are printed for the record. Prints the CPU model (``lscpu``) too.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import tempfile
import time
from pathlib import Path


def _proc_times() -> tuple[float, float, int]:
    """(user seconds, system seconds, minor faults) of this process, from /proc/self/stat."""
    import os

    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    # after the ")" the fields start at #3 (state): minflt is #10, utime #14, stime #15
    return int(fields[11]) / tick, int(fields[12]) / tick, int(fields[7])


def _train_once(pinned: bool, k: int, steps: int, batch: int, queue) -> None:
    import torch

    from disentangle.data import get_dataset
    from disentangle.devices import pin_malloc_thresholds
    from disentangle.training import TrainConfig, train

    torch.set_num_threads(1)
    set_ = pin_malloc_thresholds() if pinned else False
    dataset = get_dataset("dsprites", "procedural")
    configs = [TrainConfig(method="beta_vae", hyperparams={"beta": b}, seed=0, steps=steps,
                           batch_size=batch, eval_batches=1, device="cpu", log_every=steps,
                           checkpoint_every=steps) for b in (4.0, 8.0, 16.0, 1.0, 2.0, 6.0)[:k]]
    with tempfile.TemporaryDirectory() as tmp:
        dirs = [Path(tmp) / str(i) for i in range(k)]
        u0, s0, f0 = _proc_times()
        t0 = time.perf_counter()
        train(configs, dataset, dirs)
        wall = time.perf_counter() - t0
        u1, s1, f1 = _proc_times()
    queue.put({"allocator": "pinned" if set_ else "default", "user_s": u1 - u0, "sys_s": s1 - s0,
               "kernel_share": (s1 - s0) / max(u1 - u0 + s1 - s0, 1e-9),
               "minor_faults_per_s": (f1 - f0) / wall, "wall_s": wall,
               "model_updates_per_s": k * steps / wall})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=3, help="models per stack (the default scale's: 3)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    from laptop_scale import cpu_model  # benchmarks/ is on the path when a benchmark runs as a script

    print(f"CPU: {cpu_model()}; stack of {args.k} beta-VAEs, {args.steps} updates, batch {args.batch}, float32, 1 thread")
    ctx = mp.get_context("spawn")
    rows = []
    for pinned in (False, True):
        queue = ctx.Queue()
        proc = ctx.Process(target=_train_once, args=(pinned, args.k, args.steps, args.batch, queue))
        proc.start()
        rows.append(queue.get())
        proc.join()
    print(f"{'allocator':<10} {'kernel share':>12} {'minor faults/s':>15} {'wall s':>8} {'model-updates/s':>16}")
    for r in rows:
        print(f"{r['allocator']:<10} {100 * r['kernel_share']:>11.1f}% {r['minor_faults_per_s']:>15.0f} "
              f"{r['wall_s']:>8.1f} {r['model_updates_per_s']:>16.2f}")
    print("ratio pinned/default model-updates/s: "
          f"{rows[1]['model_updates_per_s'] / rows[0]['model_updates_per_s']:.2f}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
