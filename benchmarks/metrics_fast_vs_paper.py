"""How far the "fast" metric settings land from the "paper" ones on real trained models.

For each of the first ``--models`` trained models of a study (their mean
representation), runs the chosen metric configs with ``settings="paper"`` and
``settings="fast"`` (same evaluation seeds) and prints both values and |fast - paper|
per output key, then the largest deviation per metric config. DCI and the boosted-trees
task use the same estimator in both settings (they differ only through ``overrides``);
the paper side's BetaVAE/FactorVAE encode ~2.9 M images per model (minutes on a CPU). Usage:

    python benchmarks/metrics_fast_vs_paper.py --results _build/study/default --models 2 \\
        --metrics beta_vae_sklearn factor_vae_metric
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from disentangle.data import get_dataset
from disentangle.metrics import evaluate, reference_evaluation_seeds
from disentangle.training import load_model

DIFFERING = ["beta_vae_sklearn", "downstream_task_logistic_regression", "factor_vae_metric"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="_build/study/default", help="a study results folder")
    ap.add_argument("--models", type=int, default=2)
    ap.add_argument("--metrics", nargs="+", default=DIFFERING, help="metric configs whose settings differ")
    ap.add_argument("--n-jobs", type=int, default=2)
    a = ap.parse_args()
    runs = sorted(p.parent for p in Path(a.results).glob("runs/*/done.json"))[: a.models]
    if not runs:
        raise SystemExit(f"no finished runs under {a.results}: run `python -m disentangle study run PARAMS` first")
    seeds = reference_evaluation_seeds("mean")
    worst: dict[str, float] = {}
    for run in runs:
        config = json.loads((run / "run_config.json").read_text())
        dataset = get_dataset(config["dataset"], source=config.get("dataset_source", "auto"))
        model = load_model(run / "model")
        out = {}
        for settings in ("paper", "fast"):
            t0 = time.perf_counter()
            out[settings] = evaluate(dataset, model.represent_mean, metrics=a.metrics, seed=seeds,
                                     settings=settings, n_jobs=a.n_jobs)
            print(f"{run.name}: {settings} settings took {time.perf_counter() - t0:.1f} s", flush=True)
        for key in sorted(out["paper"]):
            if key.endswith("elapsed_time") or key not in out["fast"]:
                continue
            p, f = float(out["paper"][key]), float(out["fast"][key])
            worst[key.split(".")[0]] = max(worst.get(key.split(".")[0], 0.0), abs(f - p))
            print(f"  {key:60s} paper {p:8.4f}  fast {f:8.4f}  |d| {abs(f - p):.4f}")
    print("largest |fast - paper| per metric config over", len(runs), "model(s):")
    for name, d in sorted(worst.items()):
        print(f"  {name:40s} {d:.4f}")


if __name__ == "__main__":
    main()
