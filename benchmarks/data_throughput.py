"""Batch throughput of the dSprites datasets (batches of 64), in images/s.

Baseline measured in the same run: copying the same number of float32 64×64×C arrays
(``np.empty`` + fill), i.e. the cost of merely producing the output. The procedural grid
is built (or loaded from ``<data root>/cache``) first; its one-time cost is printed.

    python benchmarks/data_throughput.py [--root DIR] [--seconds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from disentangle.data import dsprites, get_dataset


def rate(fn, seconds: float) -> float:
    fn()  # warm-up
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        n += fn()
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()

    base = get_dataset("dsprites", source="procedural", root=args.root)
    start = time.perf_counter()
    built = base.sprites.precompute()
    print(f"procedural grid: {'built' if built else 'loaded'} in {time.perf_counter() - start:.1f} s "
          f"({dsprites.NUM_IMAGES} images, {base.sprites.packed.nbytes / 2**20:.0f} MiB bit-packed)")
    rng = np.random.default_rng(0)
    for name in ("dsprites", "color_dsprites", "noisy_dsprites", "scream_dsprites"):
        ds = get_dataset(name, source="procedural", root=args.root)
        c = ds.observation_shape[-1]

        def baseline() -> int:
            np.full((args.batch, 64, 64, c), 0.5, np.float32)
            return args.batch

        def batch() -> int:
            ds.sample(args.batch, rng)
            return args.batch

        r, b = rate(batch, args.seconds), rate(baseline, args.seconds)
        print(f"{name:16s} {r:10.0f} images/s   (output-fill baseline {b:10.0f} images/s, ratio {r / b:.2f})")


if __name__ == "__main__":
    main()
