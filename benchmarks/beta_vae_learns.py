"""Does beta-VAE (beta=4) learn on procedural dSprites? (`methods/unsupervised/vae.py: BetaVAE`, `methods/shared/architectures.py`)

Trains one model with the project's trainer for ``--steps`` steps, prints the
reconstruction loss (nats per image) and KL of the first and last logged
intervals and of the final evaluation, and saves a latent-traversal PNG.

    python benchmarks/beta_vae_learns.py --steps 3000 --out /tmp/beta_vae_learns [--precision bf16]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("beta_vae_learns"))
    parser.add_argument("--eval-batches", type=int, default=20)
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"), help="TrainConfig.precision")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch intra-op threads (0: torch's default); 1 holds up far better on a busy machine")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    import matplotlib

    matplotlib.use("Agg")
    from disentangle.analysis import plots
    from disentangle.data import get_dataset
    from disentangle.training import TrainConfig, load_model, train

    dataset = get_dataset("dsprites", source="procedural")
    log_every = max(1, min(100, args.steps // 20))
    config = TrainConfig("beta_vae", {"beta": 4.0}, seed=args.seed, steps=args.steps, log_every=log_every,
                         checkpoint_every=max(log_every, 1000), eval_batches=args.eval_batches, progress=True,
                         precision=args.precision)
    t0 = time.perf_counter()
    record = train(config, dataset, args.out / "run")
    log = [json.loads(line) for line in (args.out / "run" / "log.jsonl").read_text().splitlines()]
    first, last = log[0], log[-1]
    print(f"dataset: {dataset.label}; {args.steps} steps ({args.precision}) in {time.perf_counter() - t0:.0f} s")
    print(f"reconstruction loss: first {log_every} steps {first['reconstruction_loss']:.1f} -> "
          f"last {log_every} steps {last['reconstruction_loss']:.1f} nats (final eval {record['reconstruction_loss']:.1f})")
    print(f"KL: {first['kl_loss']:.2f} -> {last['kl_loss']:.2f} nats (final eval {record['kl_loss']:.2f})")
    model = load_model(args.out / "run" / "model", device="cpu")
    _, images = dataset.sample(256, np.random.default_rng(0))
    fig = plots.latent_traversals(model, images[0], label=f"β-VAE, beta = 4, seed {args.seed}",
                                  caption=f"{args.steps} steps ({args.precision})", steps=9,
                                  kl_per_dim=plots.latent_kl_per_dimension(model, images))
    png = args.out / "traversal.png"
    fig.savefig(png, dpi=100)
    print(f"traversal: {png}")


if __name__ == "__main__":
    main()
