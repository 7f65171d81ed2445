"""Training throughput at 64x64, batch 64 (study.md §2): model-steps per second.

Setups, all timed in this run and interleaved round by round (so a busy
machine slows all of them alike); the median round is reported:

  (a) plain   — a single-model PyTorch loop of the same network, written here
  (b) K=1     — the project's training engine (the step ``train`` runs)
  (c) K=4/8/16 — ``train_batched``'s engine with its CPU default (one network
                per model, stepped by one single-threaded worker per core),
                plus ``shards=1`` (all K in one grouped-convolution network on
                all threads) and ``shards=2`` for comparison

Each setup draws its batches from the dataset (procedural dSprites if
available, else uniform-noise images) like training does. Printed: wall
model-steps/s, the ratio to (a), model-steps per CPU-second (less sensitive to
other processes), and peak RSS. Usage:

    python benchmarks/train_throughput.py [--quick] [--steps N] [--rounds R] [--ks 4 8 16]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from disentangle.training import TrainConfig
from disentangle.training.engine import Stack


def load_dataset():
    try:
        from disentangle.data import get_dataset

        return get_dataset("dsprites", source="procedural")
    except Exception as e:  # the data helper's procedural dSprites may be missing
        from disentangle.data.toy import DummyImages

        print(f"(procedural dSprites unavailable: {e!r}; using DummyImages)")
        return DummyImages(channels=1, size=64)


class PlainVAE(nn.Module):
    """The reference network (study.md §2.1–2.2) with stock PyTorch layers."""

    def __init__(self, channels: int = 1, latent: int = 10):
        super().__init__()
        self.enc = nn.Sequential(
            nn.Conv2d(channels, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 2, 2), nn.ReLU(), nn.Conv2d(64, 64, 2, 2), nn.ReLU(),
            nn.Flatten(), nn.Linear(1024, 256), nn.ReLU())
        self.mean, self.logvar = nn.Linear(256, latent), nn.Linear(256, latent)
        self.dec = nn.Sequential(
            nn.Linear(latent, 256), nn.ReLU(), nn.Linear(256, 1024), nn.ReLU(), nn.Unflatten(1, (64, 4, 4)),
            nn.ConvTranspose2d(64, 64, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, channels, 4, 2, 1))

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        h = self.enc(x)
        mu, lv = self.mean(h), self.logvar(h)
        z = mu + torch.exp(lv / 2) * torch.randn_like(mu)
        rec = F.binary_cross_entropy_with_logits(self.dec(z), x, reduction="none").flatten(1).sum(1).mean()
        kl = 0.5 * (mu.square() + lv.exp() - lv - 1).sum(1).mean()
        return rec + kl


def plain_setup(dataset):
    torch.manual_seed(0)
    model = PlainVAE(dataset.observation_shape[2])
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    rs = np.random.RandomState(0)

    def step():
        x = torch.from_numpy(dataset.sample(64, rs)[1]).permute(0, 3, 1, 2).contiguous()
        loss = model.loss(x)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return 1, step


def stack_setup(dataset, k: int, root: Path, shards: int | None = None):
    configs = [TrainConfig("beta_vae", {"beta": 1.0}, seed=s, device="cpu", progress=False) for s in range(k)]
    stack = Stack(configs, dataset, [root / f"k{k}-s{shards}-{s}" for s in range(k)], shards=shards)
    return k, stack.train_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 round of 2 steps, K=4 only")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per setup per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ks", type=int, nargs="+", default=[4, 8, 16])
    args = parser.parse_args()
    if args.quick:
        args.steps, args.rounds, args.ks = 2, 1, [4]

    dataset = load_dataset()
    root = Path(tempfile.mkdtemp(prefix="throughput-"))
    setups = {"(a) plain loop": plain_setup(dataset), "(b) trainer K=1": stack_setup(dataset, 1, root)}
    for k in args.ks:
        setups[f"(c) batched K={k}"] = stack_setup(dataset, k, root)
        setups[f"    K={k}, shards=1"] = stack_setup(dataset, k, root, shards=1)
        setups[f"    K={k}, shards=2"] = stack_setup(dataset, k, root, shards=2)
    print(f"device: cpu ({torch.get_num_threads()} torch threads), torch {torch.__version__}, "
          f"data: {dataset.label}, 64x64 batch 64, {args.rounds} rounds x {args.steps} steps")

    wall = {name: [] for name in setups}
    cpu = {name: [] for name in setups}
    rss = {}
    for _ in range(args.rounds):
        for name, (k, step) in setups.items():
            step()  # warm-up (allocator, lazy init)
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(args.steps):
                step()
            t1, c1 = time.perf_counter(), time.process_time()
            wall[name].append(k * args.steps / (t1 - t0))
            cpu[name].append(k * args.steps / (c1 - c0))
            rss.setdefault(name, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

    base_wall = statistics.median(wall["(a) plain loop"])
    base_cpu = statistics.median(cpu["(a) plain loop"])
    print(f"{'setup':22s} {'model-steps/s':>13s} {'x (a)':>6s} {'per CPU-s':>10s} {'x (a)':>6s} {'peak RSS MiB':>12s}")
    for name in setups:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(f"{name:22s} {w:13.2f} {w / base_wall:6.2f} {c:10.2f} {c / base_cpu:6.2f} {rss[name]:12.0f}")
    print("(peak RSS is the process peak after that setup's first round; rounds: "
          + ", ".join(f"{n.strip()}={[round(v, 2) for v in wall[n]]}" for n in setups) + ")")


if __name__ == "__main__":
    main()
