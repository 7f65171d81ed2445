"""Checks of the training engine on a CUDA device (`methods/unsupervised/train.py`, `shared.gin`; run where a GPU is present).

The unit tests prove these properties on CPU; this script measures them on a GPU:

1. batched = alone: K models of each method trained together vs each alone
   (max |weight difference|, max difference of the final loss parts, relative where a part exceeds 1);
2. determinism: the same run twice;
3. resume: 2n iterations straight vs n, stopped, then resumed for n;
4. GPU vs CPU: the same run on both (how far TF32 convolutions and other
   kernels move the weights);
5. end to end: ``train`` for K models with logging, checkpoints and
   the final evaluation, timed; printed as model-steps/s and s/model at
   300,000 steps.

    python benchmarks/gpu_check.py [--iterations 30] [--k 3] [--e2e-k 64] [--e2e-steps 3000]
                                   [--conv-impl grouped|matmul] [--methods beta_vae ...] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from disentangle.data import get_dataset
from disentangle.training import TrainConfig, TrainingStopped, load_model, train

METHODS = {"beta_vae": {"beta": 4.0}, "annealed_vae": {"c_max": 10.0}, "factor_vae": {"gamma": 20.0},
           "dip_vae_i": {"lambda_od": 2.0}, "dip_vae_ii": {"lambda_od": 2.0}, "beta_tc_vae": {"beta": 6.0}}
PARTS = ("loss", "reconstruction_loss", "kl_loss", "regularizer")


def config(method: str, seed: int, steps: int, device: str, **kw) -> TrainConfig:
    return TrainConfig(method, METHODS[method], seed=seed, steps=steps, device=device, progress=False,
                       eval_batches=kw.pop("eval_batches", 2), log_every=kw.pop("log_every", 10), **kw)


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return {n: t.double() for n, t in load_model(folder, device="cpu").model.state_dict().items()}


def max_weight_diff(a: Path, b: Path) -> float:
    wa, wb = weights(a), weights(b)
    return max(float((wa[n] - wb[n]).abs().max()) for n in wa)


def max_rel_part_diff(ra: dict, rb: dict) -> float:
    return max(abs(ra[p] - rb[p]) / max(abs(rb[p]), 1.0) for p in PARTS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--e2e-k", type=int, nargs="*", default=[64])
    parser.add_argument("--e2e-steps", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--conv-impl", default=None, help="grouped or matmul (default: the device's)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    args = parser.parse_args()
    dev, n, impl = args.device, args.iterations, args.conv_impl

    def train_on(configs, dataset, out_dirs, **kw):
        """``train`` with the chosen convolution implementation."""
        return train(configs, dataset, out_dirs, conv_impl=impl, **kw)

    dataset = get_dataset("dsprites", source="procedural")
    root = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    results: dict = {"device": torch.cuda.get_device_name() if dev.startswith("cuda") else dev,
                     "torch": torch.__version__, "conv_impl": impl, "batched_vs_alone": {}}

    def report(key: str, value) -> None:
        results[key] = value
        print(f"{key}: {value}", flush=True)

    # 1. batched = alone, every method
    for method in args.methods:
        steps = n * (2 if method == "factor_vae" else 1)
        configs = [config(method, seed, steps, dev) for seed in range(args.k)]
        batched = train_on(configs, dataset, [root / f"{method}-b{s}" for s in range(args.k)])
        alone = [train_on(c, dataset, root / f"{method}-a{c.seed}") for c in configs]
        w = max(max_weight_diff(root / f"{method}-b{s}" / "model", root / f"{method}-a{s}" / "model")
                for s in range(args.k))
        p = max(max_rel_part_diff(b, a) for b, a in zip(batched, alone))
        results["batched_vs_alone"][method] = {"max_weight_diff": w, "max_rel_loss_diff": p}
        print(f"batched vs alone, {method}: max |dw| {w:.3g}, max rel loss diff {p:.3g}", flush=True)

    # 2. determinism: the same run twice (the engine asks cuDNN for deterministic algorithms)
    for rep in (0, 1):
        train_on(config("beta_vae", 7, n, dev), dataset, root / f"det-{rep}")
    report("same run twice: max |dw|", max_weight_diff(root / "det-0" / "model", root / "det-1" / "model"))

    # 3. resume: 2n straight vs n + stop + n
    straight = config("beta_vae", 3, 2 * n, dev, checkpoint_every=n)
    train_on(straight, dataset, root / "straight")
    try:
        train_on(straight, dataset, root / "resumed", stop_after=n)
    except TrainingStopped:
        pass
    train_on(straight, dataset, root / "resumed")
    report("resume vs straight: max |dw|", max_weight_diff(root / "straight" / "model", root / "resumed" / "model"))

    # 4. GPU vs CPU, same seed
    train_on(config("beta_vae", 5, n, "cpu"), dataset, root / "on-cpu")
    train_on(config("beta_vae", 5, n, dev), dataset, root / "on-gpu")
    report("gpu vs cpu: max |dw|", max_weight_diff(root / "on-cpu" / "model", root / "on-gpu" / "model"))

    # 5. end to end: train with logging, checkpoints and evaluation
    for k in args.e2e_k:
        configs = [config("beta_vae", s, args.e2e_steps, dev, log_every=100, checkpoint_every=1000,
                          eval_batches=100) for s in range(k)]
        if dev.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        records = train_on(configs, dataset, [root / f"e2e-{k}-{s}" for s in range(k)])
        wall = time.perf_counter() - t0
        rate = k * args.e2e_steps / wall
        first = json.loads((root / f"e2e-{k}-0" / "log.jsonl").read_text().splitlines()[0])
        report(f"end to end K={k}", {
            "steps": args.e2e_steps, "wall_s": round(wall, 1), "model_steps_per_s": round(rate, 1),
            "s_per_model_at_300k": round(300_000 / rate, 1),
            "reconstruction_first_log": round(first["reconstruction_loss"], 2),
            "reconstruction_final_eval": round(records[0]["reconstruction_loss"], 2)})
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
