"""Training throughput at 64x64, batch 64 (`methods/shared/architectures.py`, `methods/unsupervised/train.py`): model-steps per second.

Setups, all timed in this run and interleaved round by round (so a busy
machine slows all of them alike); the median round is reported:

  (a) plain   — a single-model PyTorch loop of the same network, written here
  (b) K=1     — the project's training engine (the step ``train`` runs)
  (c) K=...   — ``train``'s engine on K models with the device's defaults. On CPU
                that is one network per model, stepped by one single-threaded
                worker per core, with convolutions over micro-batches of 32
                images; for comparison, ``shards=1`` (all K in one network on all
                threads) and whole-batch convolutions. ``--impls`` adds the
                other convolution implementation (grouped convolutions vs
                im2col + batched GEMM, ``models/architecture.py``) at each K.
                On CUDA, at the largest K, two matmul variants: "fixed batch"
                (the same batch every step: the compute ceiling without data
                sampling) and "TF32 GEMMs" (TF32 matmuls, as PyTorch already
                allows for cuDNN convolutions by default).
  bf16        — ``precision="bf16"`` (mixed-precision encoder/decoder,
                ``TrainConfig``) at each K on CPU and the largest K on CUDA,
                and the plain loop under the usual AMP recipe: the speed of
                bfloat16 with and without batching. Every ratio is to (a),
                the float32 plain loop.

Each setup draws its batches from the dataset (procedural dSprites if
available, else uniform-noise images) like training does.

The allocator is pinned first (glibc: blocks up to 32 MiB come from the heap,
which is not trimmed): with glibc's default thresholds a whole-batch step's
multi-MiB activation buffers go back to the OS after every step and are
page-faulted in again, so the plain loop runs 25-30% slower and its speed depends
on what ran before it in the process (measured on 2 cores: 15 vs 21
model-steps/s). Pinned, every setup meets the same allocator and the ratios
measure the arithmetic; ``--default-malloc`` skips this. Printed: wall
model-steps/s, the ratio to (a), model-steps per CPU-second (less sensitive to
other processes), peak RSS (CPU) or peak GPU memory (CUDA), and on CUDA the
seconds per model and models per hour at 300,000 steps (the paper's length).
Usage:

    python benchmarks/train_throughput.py [--device cpu|cuda] [--quick] [--steps N] [--rounds R] [--ks 4 8 16]
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

from disentangle.devices import host_to_device, pin_malloc_thresholds, resolve_device
from disentangle.models.architecture import CONV_IMPLS
from disentangle.training import TrainConfig
from disentangle.training.engine import DEFAULT_CONV_IMPL, Stack

PAPER_STEPS = 300_000


def load_dataset():
    try:
        from disentangle.data import get_dataset

        return get_dataset("dsprites", source="procedural")
    except Exception as e:  # the data helper's procedural dSprites may be missing
        from disentangle.data.toy import DummyImages

        print(f"(procedural dSprites unavailable: {e!r}; using DummyImages)")
        return DummyImages(channels=1, size=64)


class PlainVAE(nn.Module):
    """The reference network (`methods/shared/architectures.py: conv_encoder, deconv_decoder`) with stock PyTorch layers."""

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


def plain_setup(dataset, device: torch.device, bf16: bool = False):
    """The plain loop; ``bf16``: its forward pass under ``torch.autocast`` (the usual AMP recipe)."""
    torch.manual_seed(0)
    model = PlainVAE(dataset.observation_shape[2]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    rs = np.random.RandomState(0)

    def step():
        x = host_to_device(torch.from_numpy(dataset.sample(64, rs)[1]).permute(0, 3, 1, 2).contiguous(), device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = model.loss(x)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return 1, step


def stack_setup(dataset, k: int, root: Path, device: torch.device, shards: int | None = None,
                conv_impl: str | None = None, fixed_batch: bool = False, tf32_matmul: bool = False,
                precision: str = "fp32", conv_micro_batch: int | None | str = "auto"):
    """``train``'s step for K beta-VAEs (``tf32_matmul``: allow TF32 GEMMs during its steps)."""
    configs = [TrainConfig("beta_vae", {"beta": 1.0}, seed=s, device=str(device), progress=False,
                           precision=precision) for s in range(k)]
    name = f"k{k}-{shards}-{conv_impl}-{fixed_batch}-{tf32_matmul}-{precision}-{conv_micro_batch}"
    stack = Stack(configs, dataset, [root / f"{name}-{s}" for s in range(k)], shards=shards, conv_impl=conv_impl,
                  conv_micro_batch=conv_micro_batch)
    if fixed_batch:
        x, c = stack.next_batch(), dataset.observation_shape[2]
        stack.batch = lambda models, rngs: x[:, models.start * c:models.stop * c]

    def step():
        before = torch.backends.cuda.matmul.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32_matmul or before
        try:
            stack.train_step()
        finally:
            torch.backends.cuda.matmul.allow_tf32 = before

    return k, step


def setups_for(device: torch.device, dataset, ks: list[int], impls: list[str], root: Path) -> dict:
    setups = {"(a) plain loop": plain_setup(dataset, device),
              "    plain loop, bf16 AMP": plain_setup(dataset, device, bf16=True),
              "(b) trainer K=1": stack_setup(dataset, 1, root, device)}
    for k in ks:
        setups[f"(c) batched K={k}"] = stack_setup(dataset, k, root, device)
        if device.type == "cpu" or k == ks[-1]:
            setups[f"    K={k}, bf16"] = stack_setup(dataset, k, root, device, precision="bf16")
        if device.type == "cpu":
            setups[f"    K={k}, shards=1"] = stack_setup(dataset, k, root, device, shards=1)
            setups[f"    K={k}, whole-batch convs"] = stack_setup(dataset, k, root, device, conv_micro_batch=None)
        for impl in impls:
            if impl != DEFAULT_CONV_IMPL:
                setups[f"    K={k}, {impl} convs"] = stack_setup(dataset, k, root, device, conv_impl=impl)
    if device.type == "cuda":
        k = ks[-1]
        setups[f"    K={k}, matmul, fixed batch"] = stack_setup(dataset, k, root, device, conv_impl="matmul",
                                                               fixed_batch=True)
        setups[f"    K={k}, matmul, TF32 GEMMs"] = stack_setup(dataset, k, root, device, conv_impl="matmul",
                                                              tf32_matmul=True)
    return setups


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_memory_mib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    parser.add_argument("--quick", action="store_true", help="1 round of 2 steps, K=4 only")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per setup per round (cpu 4, cuda 40)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="start no further round after this many seconds (at least one round runs)")
    parser.add_argument("--ks", type=int, nargs="+", default=None, help="batch sizes K (cpu 4 8 16, cuda 32 128 256)")
    parser.add_argument("--impls", nargs="+", default=None, choices=CONV_IMPLS,
                        help="convolution implementations timed at each K (cpu: grouped; cuda: both)")
    parser.add_argument("--default-malloc", action="store_true", help="keep glibc's default malloc thresholds")
    args = parser.parse_args()
    allocator = "default" if args.default_malloc else ("pinned" if pin_malloc_thresholds() else "default (not glibc)")
    device = resolve_device(args.device)
    gpu = device.type == "cuda"
    args.steps = args.steps or (40 if gpu else 4)
    args.ks = args.ks or ([32, 128, 256] if gpu else [4, 8, 16])
    args.impls = args.impls or (list(CONV_IMPLS) if gpu else ["grouped"])
    if args.quick:
        args.steps, args.rounds, args.ks = 2, 1, [4]

    dataset = load_dataset()
    root = Path(tempfile.mkdtemp(prefix="throughput-"))
    setups = setups_for(device, dataset, args.ks, args.impls, root)
    where = (f"cuda ({torch.cuda.get_device_name(device)}; cudnn.allow_tf32={torch.backends.cudnn.allow_tf32}, "
             f"matmul precision {torch.get_float32_matmul_precision()})" if gpu
             else f"cpu ({torch.get_num_threads()} torch threads)")
    print(f"device: {where}, torch {torch.__version__}, malloc thresholds: {allocator}, "
          f"data: {dataset.label}, 64x64 batch 64, {args.rounds} rounds x {args.steps} steps", flush=True)

    wall = {name: [] for name in setups}
    cpu = {name: [] for name in setups}
    memory = {}
    started = time.perf_counter()
    for r in range(args.rounds):
        if r and args.max_seconds is not None and time.perf_counter() - started > args.max_seconds:
            print(f"(stopped after {r} rounds: --max-seconds {args.max_seconds})")
            break
        for name, (k, step) in setups.items():
            if gpu:
                torch.cuda.reset_peak_memory_stats(device)
            step()  # warm-up (allocator, lazy init, cuDNN algorithm choice)
            synchronize(device)
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(args.steps):
                step()
            synchronize(device)
            t1, c1 = time.perf_counter(), time.process_time()
            wall[name].append(k * args.steps / (t1 - t0))
            cpu[name].append(k * args.steps / (c1 - c0))
            memory.setdefault(name, peak_memory_mib(device))

    base_wall = statistics.median(wall["(a) plain loop"])
    base_cpu = statistics.median(cpu["(a) plain loop"])
    mem_label = "peak GPU MiB" if gpu else "peak RSS MiB"
    extra = f" {'s/model@300k':>12s} {'models/hour':>11s}" if gpu else ""
    print(f"{'setup':26s} {'model-steps/s':>13s} {'x (a)':>6s} {'per CPU-s':>10s} {'x (a)':>6s} {mem_label:>12s}{extra}")
    for name in setups:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        line = f"{name:26s} {w:13.2f} {w / base_wall:6.2f} {c:10.2f} {c / base_cpu:6.2f} {memory[name]:12.0f}"
        if gpu:
            line += f" {PAPER_STEPS / w:12.1f} {w * 3600 / PAPER_STEPS:11.2f}"
        print(line)
    print(f"(peak {'GPU memory is that setup' if gpu else 'RSS is the process peak after that setup'}'s first round; "
          "rounds: " + ", ".join(f"{n.strip()}={[round(v, 2) for v in wall[n]]}" for n in setups) + ")")


if __name__ == "__main__":
    main()
