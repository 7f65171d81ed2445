"""What the classifier semantics move (book/design.md, "Classifier semantics"): the scores whose
logistic regressions follow ``classifiers``, under ``"paper"`` (scikit-learn 0.20:
liblinear one-vs-rest; one-vs-rest ``LogisticRegressionCV`` with a C per class) and
``"modern"`` (lbfgs, multinomial), side by side on the same models and samples.

Trains a few short β-VAEs on procedural dSprites with the library's trainer, then
per model draws each metric's samples once (the reference's evaluation seeds, mean
representation) and fits both semantics on them: explicitness (test), BetaVAE score
(eval accuracy), downstream logistic-regression mean test accuracy at each train size
and sample efficiency (acc@100 / acc@10,000). Writes one row per model and quantity.

    python benchmarks/classifier_semantics.py [--steps 300] [--betas 1 16] [--seeds 0 1]
        [--beta-vae-points 1000 500] [--csv benchmarks/results/classifier_semantics.csv] [--models DIR]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import numpy as np

from disentangle.data import get_dataset
from disentangle.estimators import logistic_regression
from disentangle.metrics import downstream_accuracies, modularity_explicitness, reference_evaluation_seeds
from disentangle.metrics.beta_vae import sample_beta_vae_points
from disentangle.metrics.utils import accuracy, as_random_state, fit_classifier, generate_codes
from disentangle.training import TrainConfig, load_model, train

SEMANTICS = ("paper", "modern")
TRAIN_SIZES = (10, 100, 1_000, 10_000)


def scores_of(dataset, represent, seeds: dict[str, int], beta_vae_points: tuple[int, int]) -> dict[str, dict]:
    """{quantity: {semantics: value}} for one representation."""
    out: dict[str, dict[str, float]] = {}
    # explicitness: the paper's 10,000 / 5,000 points
    rng = as_random_state(seeds["modularity_explicitness"])
    train, test = generate_codes(dataset, represent, 10_000, rng), generate_codes(dataset, represent, 5_000, rng)
    out["explicitness (test)"] = {s: modularity_explicitness(*train, *test, classifiers=s)["explicitness_score_test"]
                                  for s in SEMANTICS}
    # BetaVAE score: fewer points than the paper's 10,000 / 5,000 (each point encodes 2 x 64 images)
    rng = as_random_state(seeds["beta_vae_sklearn"])
    x_train, y_train = sample_beta_vae_points(dataset, represent, beta_vae_points[0], rng, 64)
    x_eval, y_eval = sample_beta_vae_points(dataset, represent, beta_vae_points[1], rng, 64)
    out["BetaVAE score (eval)"] = {
        s: accuracy(fit_classifier(lambda s=s: logistic_regression(s), x_train, y_train), x_eval, y_eval)
        for s in SEMANTICS}
    # downstream logistic regression: the paper's train sizes, 5,000 fresh test points each
    rng = as_random_state(seeds["downstream_task_logistic_regression"])
    for n in TRAIN_SIZES:
        train, test = generate_codes(dataset, represent, n, rng), generate_codes(dataset, represent, 5_000, rng)
        out[f"downstream LR test accuracy @{n}"] = {
            s: downstream_accuracies(*train, *test, classifiers=s, n_jobs=2)["mean_test_accuracy"] for s in SEMANTICS}
    out["sample efficiency (@100 / @10000)"] = {
        s: out["downstream LR test accuracy @100"][s] / out["downstream LR test accuracy @10000"][s] for s in SEMANTICS}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--betas", type=float, nargs="+", default=[1.0, 16.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--beta-vae-points", type=int, nargs=2, default=[1000, 500])
    parser.add_argument("--csv", type=Path, default=None)
    parser.add_argument("--models", type=Path, default=None,
                        help="folder of a previous run's trained models (same --steps/--betas/--seeds): skip training")
    args = parser.parse_args()
    dataset = get_dataset("dsprites", source="procedural")
    grid = [(beta, seed) for beta in args.betas for seed in args.seeds]
    out = args.models or Path(tempfile.mkdtemp(prefix="semantics-"))
    dirs = [out / f"beta{beta:g}-seed{seed}" for beta, seed in grid]
    if args.models is None:
        configs = [TrainConfig("beta_vae", {"beta": beta}, seed=seed, steps=args.steps, eval_batches=5,
                               log_every=100, checkpoint_every=args.steps, progress=False) for beta, seed in grid]
        t0 = time.perf_counter()
        train(configs, dataset, dirs)
        print(f"{len(grid)} beta-VAEs x {args.steps} steps on procedural dSprites trained in "
              f"{time.perf_counter() - t0:.0f} s (in {out})", flush=True)
    seeds = reference_evaluation_seeds("mean")
    rows = []
    for (beta, seed), d in zip(grid, dirs):
        t0 = time.perf_counter()
        model = load_model(d / "model", device="cpu")
        for quantity, values in scores_of(dataset, model.represent_mean, seeds, tuple(args.beta_vae_points)).items():
            rows.append({"model": f"beta={beta:g} seed={seed}", "steps": args.steps, "quantity": quantity,
                         **{s: round(float(values[s]), 4) for s in SEMANTICS}})
        print(f"beta={beta:g} seed={seed}: scored in {time.perf_counter() - t0:.0f} s", flush=True)
    print(f"{'model':18s} {'quantity':36s} {'paper':>8s} {'modern':>8s}")
    for r in rows:
        print(f"{r['model']:18s} {r['quantity']:36s} {r['paper']:8.4f} {r['modern']:8.4f}")
    if args.csv is not None:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"wrote {args.csv}")


if __name__ == "__main__":
    main()
