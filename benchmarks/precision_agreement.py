"""Does ``precision="bf16"`` train the same models as float32? (TrainConfig.precision)

Trains the same β-VAEs (every ``--betas`` × ``--seeds``) on procedural dSprites
once per precision with ``train``, then scores each model's mean
representation with the chosen metric configs (same evaluation seeds). Prints,
per model, the final reconstruction loss and every score in both precisions,
then per score the largest |bf16 − fp32| and the Spearman correlation of the
models' ranking (what the paper's claims compare), and the training times.

The control, "fp32 again", trains the float32 models once more in one grouped
network (``shards=1``): the same numbers up to float rounding. Its deviations
from fp32 show how far rounding alone carries a training run, the yardstick
for bf16's.

    python benchmarks/precision_agreement.py [--steps 1500] [--betas 1 4 16] [--seeds 0 1] [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from disentangle.data import get_dataset
from disentangle.metrics import evaluate, reference_evaluation_seeds
from disentangle.training import TrainConfig, load_model, train

SCORES = {"mig": "mig.discrete_mig", "dci": "dci.disentanglement", "sap_score": "sap_score.SAP_score",
          "factor_vae_metric": "factor_vae_metric.eval_accuracy"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--betas", type=float, nargs="+", default=[1.0, 4.0, 16.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--metrics", nargs="+", default=list(SCORES), choices=list(SCORES))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="precision-"))
    dataset = get_dataset("dsprites", source="procedural")
    grid = [(beta, seed) for beta in args.betas for seed in args.seeds]
    seeds = reference_evaluation_seeds("mean")
    rows: dict[str, list[dict[str, float]]] = {}
    for variant, precision, shards in (("fp32", "fp32", None), ("bf16", "bf16", None), ("fp32 again", "fp32", 1)):
        configs = [TrainConfig("beta_vae", {"beta": beta}, seed=seed, steps=args.steps, eval_batches=20,
                               log_every=100, checkpoint_every=args.steps, progress=False, precision=precision)
                   for beta, seed in grid]
        tag = precision if shards is None else f"{precision}-shards{shards}"
        dirs = [out / f"{tag}-beta{beta:g}-seed{seed}" for beta, seed in grid]
        t0 = time.perf_counter()
        records = train(configs, dataset, dirs, shards=shards)
        print(f"{variant}: {len(grid)} models x {args.steps} steps trained in {time.perf_counter() - t0:.0f} s",
              flush=True)
        rows[variant] = []
        for record, d in zip(records, dirs):
            model = load_model(d / "model", device="cpu")
            scores = evaluate(dataset, model.represent_mean, metrics=args.metrics, seed=seeds, settings="fast",
                              n_jobs=2)
            rows[variant].append({"reconstruction": record["reconstruction_loss"],
                                    **{m: float(scores[SCORES[m]]) for m in args.metrics}})
    keys = ["reconstruction", *args.metrics]
    print(f"{'model':18s} " + " ".join(f"{k + ' fp32/bf16/fp32 again':>33s}" for k in keys))
    for i, (beta, seed) in enumerate(grid):
        print(f"beta={beta:<5g} seed={seed:<3d} " + " ".join(
            " ".join(f"{rows[v][i][k]:10.3f}" for v in rows) + " " for k in keys))
    for other in ("bf16", "fp32 again"):
        print(f"{other} vs fp32:")
        for k in keys:
            a = np.array([r[k] for r in rows["fp32"]])
            b = np.array([r[k] for r in rows[other]])
            rho = spearmanr(a, b).statistic if len(a) > 2 else float("nan")
            print(f"  {k:20s} max |d| {np.abs(b - a).max():.4f}   mean |d| {np.abs(b - a).mean():.4f}   "
                  f"rank correlation {rho:.2f}")


if __name__ == "__main__":
    main()
