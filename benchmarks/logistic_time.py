"""Time the numba ``LogisticRegressionCV`` (estimators/logistic.py) against sklearn 1.9's
``LogisticRegressionCV(Cs=10, cv=KFold(5), lbfgs, accuracy)`` on the downstream
task's problems (`evaluation/metrics/downstream_task.py: compute_downstream_task`).

Problem: a dSprites-shaped ground truth (5 factors of sizes 3, 6, 40, 32, 32) with
a 10-D representation = noisy linear map of the factors (``benchmarks/metrics_time``),
train sizes 10 / 100 / 1,000 / 10,000 with a fresh test set of 5,000 points, as in
``downstream``. Per factor and train size: seconds, speed-up, the chosen C and the
test accuracy of both, and the fraction of test points predicted alike. Both run
in this process, one after the other, so the ratios hold under load.

    python benchmarks/logistic_time.py [--quick] [--sizes 10 100 ...] [--n-threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metrics_time import FakeDSprites, NoisyLinear  # noqa: E402

from disentangle.estimators.logistic import LogisticRegressionCV  # noqa: E402
from disentangle.metrics.utils import generate_codes  # noqa: E402


def sklearn_model():
    from sklearn.linear_model import LogisticRegressionCV as SkLogisticRegressionCV
    from sklearn.model_selection import KFold
    return SkLogisticRegressionCV(Cs=10, cv=KFold(n_splits=5), l1_ratios=(0.0,), scoring="accuracy",
                                  solver="lbfgs", max_iter=100, tol=1e-4, use_legacy_attributes=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="train sizes 10, 100, 1000 only")
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--n-threads", type=int, default=1, help="fold threads of ours")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sizes = args.sizes or ([10, 100, 1_000] if args.quick else [10, 100, 1_000, 10_000])
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} n_threads={args.n_threads}")

    start = time.perf_counter()  # compile (or load the numba cache) outside the timings
    rs = np.random.RandomState(0)
    LogisticRegressionCV().fit(rs.randn(30, 4), np.arange(30) % 3)
    LogisticRegressionCV().fit(rs.randn(30, 4), np.arange(30) % 2)
    print(f"numba compile / cache load: {time.perf_counter() - start:.2f} s")

    dataset, represent = FakeDSprites(), NoisyLinear()
    rng = np.random.RandomState(args.seed)
    total_sk = total_ours = 0.0
    acc_deltas = []
    header = (f"{'n':>6s} {'factor':>6s} {'K':>4s} {'sk s':>8s} {'ours s':>8s} {'speedup':>8s} "
              f"{'sk C':>9s} {'our C':>9s} {'sk acc':>7s} {'our acc':>7s} {'|dacc|':>7s} {'agree':>6s}")
    print(header)
    for n in sizes:
        x_train, y_train = generate_codes(dataset, represent, n, rng)
        x_test, y_test = generate_codes(dataset, represent, 5_000, rng)
        for j in range(y_train.shape[1]):
            y, yt = y_train[:, j], y_test[:, j]
            k = len(np.unique(y))
            if k < 2:
                print(f"{n:6d} {j:6d} {k:4d}   single class: constant predictor (both)")
                continue
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sk = sklearn_model().fit(x_train, y)
            t_sk = time.perf_counter() - t
            t = time.perf_counter()
            ours = LogisticRegressionCV(n_threads=args.n_threads).fit(x_train, y)
            t_ours = time.perf_counter() - t
            acc_sk, acc_ours = sk.score(x_test, yt), ours.score(x_test, yt)
            agree = np.mean(sk.predict(x_test) == ours.predict(x_test))
            total_sk += t_sk
            total_ours += t_ours
            acc_deltas.append(abs(acc_sk - acc_ours))
            print(f"{n:6d} {j:6d} {k:4d} {t_sk:8.3f} {t_ours:8.3f} {t_sk / t_ours:8.1f} "
                  f"{sk.C_:9.3g} {ours.C_:9.3g} {acc_sk:7.4f} {acc_ours:7.4f} "
                  f"{abs(acc_sk - acc_ours):7.4f} {agree:6.3f}", flush=True)
        print(f"  subtotal through n={n}: sklearn {total_sk:.2f} s, ours {total_ours:.2f} s, "
              f"speed-up {total_sk / max(total_ours, 1e-9):.1f}x", flush=True)
    print(f"total: sklearn {total_sk:.2f} s, ours {total_ours:.2f} s, "
          f"speed-up {total_sk / max(total_ours, 1e-9):.1f}x; |d test acc| mean "
          f"{np.mean(acc_deltas):.4f} max {np.max(acc_deltas):.4f}; load={os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
