"""Time every metric config and ``evaluate`` at paper and fast settings, and the
fast setting's deviation from the paper one (book/design.md, "Metric settings"; issue 5).

Problem: a dSprites-shaped ground truth (5 factors of sizes 3, 6, 40, 32, 32)
with a synthetic 10-D representation = noisy linear map of the factors (so the
timing excludes any encoder). Ratios are fast / paper from the same run.

    python benchmarks/metrics_time.py [--metrics mig dci ...] [--n-jobs 2] [--settings paper fast]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from disentangle.data.base import GroundTruthDataset
from disentangle.metrics import evaluate
from disentangle.metrics.evaluate import ALL


class FakeDSprites(GroundTruthDataset):
    name, source = "fake_dsprites", "procedural"
    factor_sizes = (3, 6, 40, 32, 32)
    observation_shape = (1, 5, 1)

    def observations(self, factors, rng):
        return (factors / np.asarray(self.factor_sizes)).astype(np.float32).reshape(-1, 1, 5, 1)


class NoisyLinear:
    """codes = factors @ W + 0.05 noise (10-D), own RandomState."""

    def __init__(self, seed: int = 0):
        rs = np.random.RandomState(seed)
        self.weights = np.eye(5, 10) + 0.2 * rs.randn(5, 10)
        self.noise = np.random.RandomState(seed + 1)

    def __call__(self, images):
        x = images.reshape(len(images), 5)
        return (x @ self.weights + 0.05 * self.noise.randn(len(x), 10)).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--metrics", nargs="+", default=list(ALL))
    parser.add_argument("--settings", nargs="+", default=["paper", "fast"])
    parser.add_argument("--n-jobs", type=int, default=-1)
    args = parser.parse_args()
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} n_jobs={args.n_jobs}")
    results = {}
    for settings in args.settings:
        start = time.perf_counter()
        results[settings] = {}
        for name in args.metrics:  # one evaluate call per metric, to report progress
            results[settings].update(evaluate(FakeDSprites(), NoisyLinear(), metrics=[name], seed=0,
                                              settings=settings, n_jobs=args.n_jobs))
            print(f"  {settings:6s} {name:40s} {results[settings][name + '.elapsed_time']:8.2f} s",
                  flush=True)
        results[settings]["total"] = time.perf_counter() - start
        print(f"evaluate(settings={settings!r}) {results[settings]['total']:.1f} s", flush=True)
    print(f"\n{'metric':40s}" + "".join(f"{s + ' s':>12s}" for s in args.settings))
    for name in args.metrics:
        print(f"{name:40s}" + "".join(f"{results[s][name + '.elapsed_time']:12.2f}"
                                      for s in args.settings))
    if {"paper", "fast"} <= set(args.settings):
        paper, fast = results["paper"], results["fast"]
        print(f"\nspeed-up fast/paper: {paper['total'] / fast['total']:.1f}x")
        print(f"\n{'score':60s}{'paper':>10s}{'fast':>10s}{'|diff|':>10s}")
        for key in sorted(paper):
            if key.endswith("elapsed_time") or key == "total" or "factor_" in key:
                continue
            print(f"{key:60s}{paper[key]:10.4f}{fast[key]:10.4f}{abs(paper[key] - fast[key]):10.4f}")


if __name__ == "__main__":
    main()
