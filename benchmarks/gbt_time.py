"""sklearn's ``GradientBoostingClassifier()`` vs the numba one (``disentangle.estimators.gbt``)
on dSprites-shaped DCI problems (`evaluation/metrics/dci.py: compute_dci`): one model per factor, fit
time, speed-up, agreement, and the DCI scores each estimator gives, next to
sklearn(random_state=0) vs sklearn(random_state=1), i.e. sklearn's own
tie-breaking spread (the reference leaves random_state unset).

Problem: the codes of ``metrics_time.py`` (10-D noisy linear map of 5 factors
of sizes 3, 6, 40, 32, 32), 10,000 train / 5,000 test points. All timings
come from the same run (same machine load).

    python benchmarks/gbt_time.py [--quick] [--factors 0 1 2 3 4] [--no-seed-spread]
                                  [--num-train 10000] [--num-test 5000] [--threads N]

``--quick``: 2,000 train / 1,000 test points.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from metrics_time import FakeDSprites, NoisyLinear
from sklearn.ensemble import GradientBoostingClassifier as SklearnGBT

from disentangle.metrics.dci import completeness, disentanglement
from disentangle.estimators.gbt import GradientBoostingClassifier
from disentangle.metrics.utils import generate_codes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--factors", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--num-train", type=int, default=None)
    parser.add_argument("--num-test", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="n_threads of ours (default: all)")
    parser.add_argument("--no-seed-spread", action="store_true",
                        help="skip sklearn(random_state=1) (halves the sklearn time)")
    args = parser.parse_args()
    num_train = args.num_train or (2_000 if args.quick else 10_000)
    num_test = args.num_test or (1_000 if args.quick else 5_000)
    rng = np.random.RandomState(0)
    dataset, represent = FakeDSprites(), NoisyLinear()
    x_train, f_train = generate_codes(dataset, represent, num_train, rng)
    x_test, f_test = generate_codes(dataset, represent, num_test, rng)
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} n_train={num_train} "
          f"n_test={num_test} codes={x_train.shape[1]} threads(ours)={args.threads or 'all'}")
    start = time.perf_counter()
    GradientBoostingClassifier(n_estimators=2).fit(x_train[:50], f_train[:50, 0] % 2)
    print(f"numba kernels loaded/compiled in {time.perf_counter() - start:.1f} s (not in the timings)")

    names = ["sklearn rs=0", "ours"] + ([] if args.no_seed_spread else ["sklearn rs=1"])
    makers = {"sklearn rs=0": lambda: SklearnGBT(random_state=0),
              "sklearn rs=1": lambda: SklearnGBT(random_state=1),
              "ours": lambda: GradientBoostingClassifier(random_state=0, n_threads=args.threads)}
    importance = {name: [] for name in names}
    test_acc = {name: [] for name in names}
    seconds = {name: 0.0 for name in names}
    print(f"\n{'factor':>6s}{'classes':>8s}" + "".join(f"{name + ' s':>15s}" for name in names)
          + f"{'speed-up':>10s}{'same trees':>11s}{'test agree':>11s}{'|d acc|':>9s}"
          + ("" if args.no_seed_spread else f"{'rs1 agree':>10s}{'rs1 |d acc|':>12s}"))
    for j in args.factors:
        y_train, y_test = f_train[:, j], f_test[:, j]
        models, t = {}, {}
        for name in names:
            begin = time.perf_counter()
            models[name] = makers[name]().fit(x_train, y_train)
            t[name] = time.perf_counter() - begin
            seconds[name] += t[name]
            importance[name].append(models[name].feature_importances_)
            test_acc[name].append(models[name].score(x_test, y_test))
        reference = models["sklearn rs=0"]
        ref_pred = reference.predict(x_test)
        line = (f"{j:6d}{len(np.unique(y_train)):8d}" + "".join(f"{t[name]:15.2f}" for name in names)
                + f"{t['sklearn rs=0'] / t['ours']:9.1f}x{models['ours'].fraction_identical_trees(reference):11.3f}"
                + f"{np.mean(models['ours'].predict(x_test) == ref_pred):11.4f}"
                + f"{abs(test_acc['ours'][-1] - test_acc['sklearn rs=0'][-1]):9.4f}")
        if not args.no_seed_spread:
            line += (f"{np.mean(models['sklearn rs=1'].predict(x_test) == ref_pred):10.4f}"
                     f"{abs(test_acc['sklearn rs=1'][-1] - test_acc['sklearn rs=0'][-1]):12.4f}")
        print(line, flush=True)
    print(f"{'total':>14s}" + "".join(f"{seconds[name]:15.2f}" for name in names)
          + f"{seconds['sklearn rs=0'] / seconds['ours']:9.1f}x")

    print(f"\n{'DCI':18s}{'disentanglement':>16s}{'completeness':>14s}{'informativeness':>16s}"
          f"{'max |d imp|':>12s}")
    ref_matrix = np.stack(importance["sklearn rs=0"], axis=1)
    for name in names:
        matrix = np.stack(importance[name], axis=1)
        print(f"{name:18s}{disentanglement(matrix):16.4f}{completeness(matrix):14.4f}"
              f"{np.mean(test_acc[name]):16.4f}{np.abs(matrix - ref_matrix).max():12.2e}")


if __name__ == "__main__":
    main()
