"""What the rotated twin costs once the worker reuses the mean representation's encodings.

    python benchmarks/twin_reuse.py RUN_DIR [RUN_DIR ...]

For each finished run folder (e.g. ``_build/study/default/runs/00200-*`` after ``make book``),
in this process: evaluate the mean representation with the run's metric settings and seeds, then
score its rotated twin (``study/controls.py``) twice, once with the plain model (every
observation encoded again, as before) and once through ``study.runs.MeanCodesMemo`` after the
same mean-representation evaluation (repeated batches reuse their codes). Prints the seconds of
each, their ratio, the memo's hits and misses, and whether the twin's scores are identical
(they must be: a hit returns the codes the encoder gave that very batch). Prints ``lscpu``'s
model. Rounds alternate plain / memo, so a busy machine slows both alike.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from disentangle.data import get_dataset
from disentangle.study import Backend
from disentangle.study.controls import _scores
from disentangle.study.grid import metrics_for
from disentangle.study.runs import MeanCodesMemo, representation_fn
from laptop_scale import cpu_model  # benchmarks/ is on the path when a benchmark runs as a script


def _twin_scores(backend, dataset, model, seed, evaluation):
    standardised, rotated = backend.twin_representations(dataset, model, seed)
    return _scores(backend, dataset, standardised, evaluation), _scores(backend, dataset, rotated, evaluation)


def _mean_eval(backend, dataset, model, evaluation):
    return backend.evaluate(dataset, lambda metric, seed: representation_fn(model, "mean", seed),
                            metrics_for(evaluation, "mean"), backend.evaluation_seeds("mean"),
                            evaluation["settings"], evaluation.get("overrides"),
                            classifiers=evaluation.get("classifiers", "paper"))


def _same(a, b) -> bool:
    keys = [k for k in a if not k.endswith("elapsed_time")]
    return all(np.array_equal(np.asarray(a[k]), np.asarray(b[k]), equal_nan=True) for k in keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args()
    print("CPU:", cpu_model())
    backend = Backend()
    for run_dir in args.runs:
        config = json.loads((run_dir / "run_config.json").read_text())
        evaluation, seed = config["evaluation"], config["seed"]
        dataset = get_dataset(config["dataset"], config["dataset_source"])
        plain = backend.load_model(run_dir / "model", "cpu")

        t0 = time.perf_counter()
        _mean_eval(backend, dataset, plain, evaluation)
        t_mean = time.perf_counter() - t0
        t0 = time.perf_counter()
        before = _twin_scores(backend, dataset, plain, seed, evaluation)
        t_plain = time.perf_counter() - t0

        memo = MeanCodesMemo(backend.load_model(run_dir / "model", "cpu"))
        _mean_eval(backend, dataset, memo, evaluation)
        t0 = time.perf_counter()
        after = _twin_scores(backend, dataset, memo, seed, evaluation)
        t_memo = time.perf_counter() - t0
        same = _same(before[0], after[0]) and _same(before[1], after[1])
        print(f"{run_dir.name}: mean evaluation {t_mean:.1f} s; twin {t_plain:.1f} s plain, {t_memo:.1f} s reusing "
              f"encodings (ratio {t_memo / t_plain:.2f}); memo {memo.hits} hits / {memo.misses} misses; "
              f"twin scores identical: {same}")


if __name__ == "__main__":
    main()
