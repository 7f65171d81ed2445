"""What buys learning per CPU-second? The measurements behind params/default.yaml (issue 13).

Trains a panel of models on procedural dSprites (β-VAE at β = 1, 4, 16, FactorVAE,
DIP-VAE-I, β-TCVAE and AnnealedVAE, seed 0) once per *arm* — a setting of the knobs
the laptop scale may change: learning rate, batch size, precision and AnnealedVAE's
capacity schedule — and records, after 250 / 500 / 1k / 2k / 4k parameter updates:

- reconstruction and KL (nats, mean over ``--eval-batches`` batches of the model's
  evaluation stream, as the trainer's final record), the share of the H·W·C·ln 2
  know-nothing baseline, and active dimensions (Var_x E[z_j|x] > 0.01);
- MIG, DCI disentanglement and the FactorVAE score of the mean representation
  (``settings="fast"``, the sample sizes below, the study's evaluation seeds);
- the wall-clock training seconds spent so far (one model per process, both cores).

FactorVAE's milestones count updates, so they hold with or without the reference's
double step (which gives ``steps / 2`` updates, book/design.md, "FactorVAE's double step"): the double step only
decides how many global steps buy those updates. AnnealedVAE's capacity reaches
``c_max`` at ``iteration_threshold`` global steps (paper: 100,000 of 300,000); the
arms ``*-anneal-paper`` keep that, the others scale it to a third of the arm's run.

Each finished (arm, model) row set is appended to ``--out`` (CSV) as it comes, so
a killed run resumes where it stopped (finished models are skipped). ``--report``
prints the tables from every ``<out stem>*.csv`` beside ``--out`` (several processes
may run arms into their own files): learning per arm and milestone, the cost of each
knob as a ratio to the reference arm in the same file, and how well each arm's
ordering of the panel matches the longest run's (Spearman over the panel, per score).

    python benchmarks/laptop_scale.py [--arms lr1e-3 lr1e-4 ...] [--out FILE]
    python benchmarks/laptop_scale.py --report [--out FILE]
    python benchmarks/laptop_scale.py --cost --threads 1     # the knobs' cost, interleaved
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from disentangle.io import append_csv_rows

MILESTONES = (250, 500, 1000, 2000, 4000)
#: the panel (method, hyperparameters): one model each, seed 0
PANEL = (
    ("beta_vae", {"beta": 1.0}), ("beta_vae", {"beta": 4.0}), ("beta_vae", {"beta": 16.0}),
    ("factor_vae", {"gamma": 30.0}), ("dip_vae_i", {"lambda_od": 10.0}),
    ("beta_tc_vae", {"beta": 4.0}), ("annealed_vae", {"c_max": 25.0}),
)
#: arm → knobs; ``anneal``: "relative" (threshold = a third of the arm's updates) or "paper" (100k)
ARMS = {
    "lr1e-4": dict(lr=1e-4, batch_size=64, precision="bf16", updates=2000, anneal="relative"),
    "lr3e-4": dict(lr=3e-4, batch_size=64, precision="bf16", updates=2000, anneal="relative"),
    "lr1e-3": dict(lr=1e-3, batch_size=64, precision="bf16", updates=4000, anneal="relative"),
    "lr1e-3-b32": dict(lr=1e-3, batch_size=32, precision="bf16", updates=2000, anneal="relative"),
    "lr1e-3-anneal-paper": dict(lr=1e-3, batch_size=64, precision="bf16", updates=2000, anneal="paper",
                                only=("annealed_vae",)),
    "b32-anneal-relative": dict(lr=1e-3, batch_size=32, precision="bf16", updates=500, anneal="relative",
                                only=("annealed_vae",)),
    "b32-anneal-paper": dict(lr=1e-3, batch_size=32, precision="bf16", updates=500, anneal="paper",
                             only=("annealed_vae",)),
    "lr1e-3-fp32": dict(lr=1e-3, batch_size=64, precision="fp32", updates=500, anneal="relative",
                        only=("beta_vae:4", "factor_vae", "annealed_vae")),
}
REFERENCE_ARM = "lr1e-4"
LONGEST_ARM = "lr1e-3"
METRICS = ("mig", "dci", "factor_vae_metric")
OVERRIDES = {"mig": {"num_train": 5000}, "dci": {"num_train": 1000, "num_test": 500},
             "factor_vae_metric": {"num_train": 300, "num_eval": 150, "batch_size": 32,
                                   "num_variance_estimate": 5000}}
COLUMNS = ("arm", "model", "method", "hyperparams", "lr", "batch_size", "precision", "anneal_threshold",
           "updates", "train_seconds", "reconstruction", "kl", "baseline_share", "active_dims",
           "mig", "dci", "factor_vae", "eval_seconds", "cpu")


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        name = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
        flags = next((line for line in out.splitlines() if line.startswith("Flags")), "")
        bf16 = "amx_bf16" if "amx_bf16" in flags else "avx512_bf16" if "avx512_bf16" in flags else "no-bf16"
        return f"{name} ({os.cpu_count()} cores, {bf16})"
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown"


def model_label(method: str, hyperparams: dict) -> str:
    value = next(iter(hyperparams.values()))
    return f"{method}:{value:g}"


def _selected(arm: dict, method: str, label: str) -> bool:
    only = arm.get("only")
    return only is None or method in only or label in only


def _active_dims(model, images: np.ndarray) -> int:
    means = model.represent_mean(images)
    return int((means.var(axis=0) > 0.01).sum())


def trained_milestones(config, dataset, milestones, folder: Path):
    """Train one model (``config``) on ``dataset``, stopping at each milestone (updates) to yield
    ``(milestone, training seconds so far, the trainer's evaluation record, the saved-and-loaded model)``."""
    from disentangle.training import load_model
    from disentangle.training.engine import Stack
    from disentangle.training.saved_model import save_model

    stack = Stack([config], dataset, [folder / "run"])
    trained = 0.0
    for milestone in milestones:
        t0 = time.perf_counter()
        while stack.iteration < milestone:
            stack.train_step()
        trained += time.perf_counter() - t0
        record = stack._evaluate()[0]
        shard, j = stack.shard_and_slot[0]
        save_model(shard.model, j, folder / f"model{milestone}", seed=0, dataset=dataset.label)
        yield milestone, trained, record, load_model(folder / f"model{milestone}", device="cpu")


def run_arm(name: str, arm: dict, dataset, out: Path, done: set[tuple[str, str]], cpu: str,
            eval_batches: int) -> None:
    from disentangle.metrics import evaluate, reference_evaluation_seeds
    from disentangle.training import TrainConfig

    seeds = reference_evaluation_seeds("mean")
    h, w, c = dataset.observation_shape
    baseline = h * w * c * math.log(2)
    probe = dataset.sample(2000, np.random.RandomState(7))[1]
    milestones = [m for m in MILESTONES if m <= arm["updates"]]
    for method, hyperparams in PANEL:
        label = model_label(method, hyperparams)
        if not _selected(arm, method, label) or (name, label) in done:
            continue
        hp = dict(hyperparams)
        if method == "annealed_vae":
            hp["iteration_threshold"] = 100_000 if arm["anneal"] == "paper" else max(1, arm["updates"] // 3)
        config = TrainConfig(method, hp, seed=0, steps=arm["updates"], batch_size=arm["batch_size"], lr=arm["lr"],
                             precision=arm["precision"], eval_batches=eval_batches, log_every=10**9,
                             checkpoint_every=10**9, factor_vae_double_step=False, progress=False)
        rows = []
        with tempfile.TemporaryDirectory(prefix="laptop-scale-") as tmp:
            for milestone, trained, record, model in trained_milestones(config, dataset, milestones, Path(tmp)):
                t1 = time.perf_counter()
                scores = evaluate(dataset, model.represent_mean, metrics=METRICS, seed=seeds, settings="fast",
                                  overrides=OVERRIDES)
                row = dict(arm=name, model=label, method=method, hyperparams=hp, lr=arm["lr"],
                           batch_size=arm["batch_size"], precision=arm["precision"],
                           anneal_threshold=hp.get("iteration_threshold", ""), updates=milestone,
                           train_seconds=round(trained, 2), reconstruction=record["reconstruction_loss"],
                           kl=record["kl_loss"], baseline_share=record["reconstruction_loss"] / baseline,
                           active_dims=_active_dims(model, probe), mig=scores["mig.discrete_mig"],
                           dci=scores["dci.disentanglement"], factor_vae=scores["factor_vae_metric.eval_accuracy"],
                           eval_seconds=round(time.perf_counter() - t1, 2), cpu=cpu)
                rows.append(row)
                print(f"{name:>20} {label:>16} {milestone:>5} upd  {trained:7.1f} s  "
                      f"recon {row['reconstruction']:8.1f} ({100 * row['baseline_share']:4.1f} %)  "
                      f"kl {row['kl']:6.1f}  active {row['active_dims']:2d}  mig {row['mig']:.3f}  "
                      f"dci {row['dci']:.3f}  fvae {row['factor_vae']:.3f}", flush=True)
        append_csv_rows(out, rows, COLUMNS)


# ---------------------------------------------------------------------------------------------
# --signal: disentanglement per CPU-second, against the rotated twins (issue 23)

#: milestones of the signal arms; 0 = the untrained encoder (the initialisation of the same seed, the same
#: in every arm: scored only in arms with ``untrained=True``)
SIGNAL_MILESTONES = (0, 500, 1000, 2000, 3000, 4000, 6000, 8000, 10000)
#: the four disentanglement scores a twin comparison reads (config, key, column)
SIGNAL_SCORES = (("mig", "discrete_mig", "mig"), ("dci", "disentanglement", "dci"),
                 ("factor_vae_metric", "eval_accuracy", "factor_vae"), ("beta_vae_sklearn", "eval_accuracy", "beta_vae"))
#: the default book's metric sizes (params/default.yaml), so the arms speak for its scores
SIGNAL_OVERRIDES = {"mig": {"num_train": 2000}, "dci": {"num_train": 600, "num_test": 300},
                    "factor_vae_metric": {"num_train": 150, "num_eval": 75, "batch_size": 32,
                                          "num_variance_estimate": 2000},
                    "beta_vae_sklearn": {"num_train": 150, "num_eval": 75, "batch_size": 32}}
#: the signal panel: (dataset, method, hyperparameters)
SIGNAL_PANEL = {
    "dsprites:beta_vae:4": ("dsprites", "beta_vae", {"beta": 4.0}),
    "dsprites:beta_vae:16": ("dsprites", "beta_vae", {"beta": 16.0}),
    "dsprites:factor_vae:30": ("dsprites", "factor_vae", {"gamma": 30.0}),
    "dsprites:beta_tc_vae:4": ("dsprites", "beta_tc_vae", {"beta": 4.0}),
    "color_dsprites:beta_vae:4": ("color_dsprites", "beta_vae", {"beta": 4.0}),
    "color_dsprites:beta_vae:16": ("color_dsprites", "beta_vae", {"beta": 16.0}),
}
#: arm → knobs (fp32: the common AVX2 laptop CPU's precision); ``lr_final``: cosine decay to it,
#: ``lr_warmup``: linear warm-up updates. A schedule's milestones before its end are mid-schedule.
SIGNAL_ARMS = {
    "s-lr1e-4-b32": dict(lr=1e-4, batch_size=32, updates=4000, untrained=True),
    "s-lr3e-4-b32": dict(lr=3e-4, batch_size=32, updates=4000),
    "s-lr1e-3-b32": dict(lr=1e-3, batch_size=32, updates=2000),
    "s-lr1e-3to1e-4-b32": dict(lr=1e-3, lr_final=1e-4, batch_size=32, updates=2000),
    "s-warmup1000-lr1e-3to1e-4-b32": dict(lr=1e-3, lr_warmup=1000, lr_final=1e-4, batch_size=32, updates=3000),
    "s-lr1e-4-b64": dict(lr=1e-4, batch_size=64, updates=2000),
    # the long anchor: the paper's settings (lr 1e-4, batch 64, float32) for 10,000 updates
    "s-paper-b64-10k": dict(lr=1e-4, batch_size=64, updates=10000),
}
SIGNAL_COLUMNS = ("arm", "model", "dataset", "method", "hyperparams", "lr", "lr_warmup", "lr_final", "batch_size",
                  "precision", "updates", "train_seconds", "reconstruction", "kl", "baseline_share", "active_dims",
                  *(f"{col}_{side}" for _, _, col in SIGNAL_SCORES for side in ("std", "rot")),
                  "eval_seconds", "cpu", "isa")


def run_signal_arm(name: str, arm: dict, models: list[str], out: Path, done: set[tuple[str, str]], cpu: str,
                   eval_batches: int) -> None:
    """Train each panel model of ``models`` under ``arm``; at every milestone score its standardised
    mean codes and their rotated twin (``metrics.controls``) with the same seeds and settings."""
    from disentangle.data import get_dataset
    from disentangle.metrics import evaluate, reference_evaluation_seeds
    from disentangle.metrics.controls import twin_pair
    from disentangle.training import TrainConfig
    import torch

    seeds = reference_evaluation_seeds("mean")
    metrics = [m for m, _, _ in SIGNAL_SCORES]
    for label in models:
        if (name, label) in done:
            continue
        dataset_name, method, hp = SIGNAL_PANEL[label]
        dataset = get_dataset(dataset_name, source="procedural")
        h, w, c = dataset.observation_shape
        baseline = h * w * c * math.log(2)
        probe = dataset.sample(2000, np.random.RandomState(7))[1]
        hp = dict(hp)
        if method == "annealed_vae":
            hp["iteration_threshold"] = max(1, arm["updates"] // 3)
        config = TrainConfig(method, hp, seed=0, steps=arm["updates"], batch_size=arm["batch_size"], lr=arm["lr"],
                             lr_warmup=arm.get("lr_warmup", 0), lr_final=arm.get("lr_final"), precision="fp32",
                             eval_batches=eval_batches, log_every=10**9, checkpoint_every=10**9,
                             factor_vae_double_step=False, progress=False)
        rows = []
        milestones = [m for m in SIGNAL_MILESTONES if m <= arm["updates"] and (m or arm.get("untrained"))]
        with tempfile.TemporaryDirectory(prefix="laptop-signal-") as tmp:
            for milestone, trained, record, model in trained_milestones(config, dataset, milestones, Path(tmp)):
                t1 = time.perf_counter()
                std, rot = twin_pair(dataset, model.represent_mean, seed=milestone + 1, rotation_seed=1000 + milestone)
                scores = {side: evaluate(dataset, fn, metrics=metrics, seed=seeds, settings="fast",
                                         overrides=SIGNAL_OVERRIDES) for side, fn in (("std", std), ("rot", rot))}
                row = dict(arm=name, model=label, dataset=dataset_name, method=method, hyperparams=hp, lr=arm["lr"],
                           lr_warmup=arm.get("lr_warmup", 0), lr_final=arm.get("lr_final", ""),
                           batch_size=arm["batch_size"], precision="fp32", updates=milestone,
                           train_seconds=round(trained, 2), reconstruction=record["reconstruction_loss"],
                           kl=record["kl_loss"], baseline_share=record["reconstruction_loss"] / baseline,
                           active_dims=_active_dims(model, probe), eval_seconds=round(time.perf_counter() - t1, 2),
                           cpu=cpu, isa=torch.backends.cpu.get_cpu_capability())
                for config_name, key, col in SIGNAL_SCORES:
                    for side in ("std", "rot"):
                        row[f"{col}_{side}"] = scores[side][f"{config_name}.{key}"]
                rows.append(row)
                append_csv_rows(out.with_name(out.stem + "_partial.csv"), [row], SIGNAL_COLUMNS)
                print(f"{name:>30} {label:>26} {milestone:>5} upd {trained:7.1f} s  "
                      f"recon {100 * row['baseline_share']:4.1f} %  kl {row['kl']:5.1f}  act {row['active_dims']:2d}  "
                      + "  ".join(f"{col} {row[col + '_std']:.3f}/{row[col + '_rot']:.3f}" for _, _, col in SIGNAL_SCORES),
                      flush=True)
        append_csv_rows(out, rows, SIGNAL_COLUMNS)


#: (label, method, hyperparameters, batch size, precision) timed by ``--cost``; the first is the reference
COST_SETTINGS = (
    ("paper: batch 64, fp32", "beta_vae", {"beta": 4.0}, 64, "fp32"),
    ("batch 64, bf16", "beta_vae", {"beta": 4.0}, 64, "bf16"),
    ("batch 32, fp32", "beta_vae", {"beta": 4.0}, 32, "fp32"),
    ("batch 32, bf16", "beta_vae", {"beta": 4.0}, 32, "bf16"),
    ("FactorVAE update, batch 32, bf16", "factor_vae", {"gamma": 30.0}, 32, "bf16"),
)


def measure_cost(dataset, out: Path, rounds: int, updates: int, cpu: str) -> None:
    """Seconds per 1,000 updates of one model for each ``COST_SETTINGS`` entry, the settings
    interleaved round by round (so a busy machine slows all alike); median over rounds and the
    ratio to the first entry, measured in the same run."""
    from disentangle.training import TrainConfig
    from disentangle.training.engine import Stack

    stacks = {}
    with tempfile.TemporaryDirectory(prefix="laptop-cost-") as tmp:
        for label, method, hp, batch, precision in COST_SETTINGS:
            config = TrainConfig(method, hp, seed=0, steps=10**6, batch_size=batch, lr=1e-3, precision=precision,
                                 eval_batches=0, log_every=10**9, checkpoint_every=10**9,
                                 factor_vae_double_step=False, progress=False)
            stacks[label] = Stack([config], dataset, [Path(tmp) / label.replace(" ", "_").replace(",", "")])
            for _ in range(5):  # warm-up
                stacks[label].train_step()
        times: dict[str, list[float]] = {label: [] for label in stacks}
        for _ in range(rounds):
            for label, stack in stacks.items():
                t0 = time.perf_counter()
                for _ in range(updates):
                    stack.train_step()
                times[label].append(1000 * (time.perf_counter() - t0) / updates)
    ref = float(np.median(times[COST_SETTINGS[0][0]]))
    rows = [{"setting": label, "s_per_1k_updates": round(float(np.median(t)), 2),
             "ratio_to_paper_setting": round(float(np.median(t)) / ref, 3), "rounds": rounds,
             "updates_per_round": updates, "cpu": cpu} for label, t in times.items()]
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for r in rows:
        print(f"{r['setting']:>34}: {r['s_per_1k_updates']:7.1f} s / 1k updates  "
              f"({r['ratio_to_paper_setting']:.2f}x the paper setting)", flush=True)



def report(out: Path) -> None:
    import pandas as pd
    from scipy.stats import spearmanr

    files = [f for f in sorted(out.parent.glob(out.stem + "*.csv")) if f.name != "laptop_cost.csv"]
    df = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    print(f"CPU: {df['cpu'].iloc[0]}\n")
    print("## Learning: median over the panel (reconstruction as % of H·W·C·ln 2)\n")
    learn = df.groupby(["arm", "updates"]).agg(
        models=("model", "nunique"), recon_pct=("baseline_share", lambda s: 100 * s.median()),
        worst_pct=("baseline_share", lambda s: 100 * s.max()), kl=("kl", "median"),
        active=("active_dims", "median"), mig=("mig", "median"), dci=("dci", "median"),
        factor_vae=("factor_vae", "median"), train_s=("train_seconds", "sum")).round(3)
    print(learn.to_markdown() + "\n")
    print("## Per model at each arm's last milestone\n")
    last = df.loc[df.groupby(["arm", "model"])["updates"].idxmax()]
    print(last[["arm", "model", "updates", "reconstruction", "baseline_share", "kl", "active_dims", "mig", "dci",
                "factor_vae"]].round(3).to_markdown(index=False) + "\n")
    print("## Cost: training seconds per 1,000 updates per model, ratio to the reference arm\n")
    per_k = df.groupby(["arm", "model"]).apply(
        lambda g: 1000 * g["train_seconds"].max() / g["updates"].max(), include_groups=False).rename("s_per_k")
    per_k = per_k.reset_index()
    ref = per_k[per_k["arm"] == REFERENCE_ARM].set_index("model")["s_per_k"]
    per_k["ratio_to_reference"] = per_k.apply(lambda r: r["s_per_k"] / ref.get(r["model"], np.nan), axis=1)
    print(per_k.groupby("arm")[["s_per_k", "ratio_to_reference"]].median().round(3).to_markdown() + "\n")
    print(f"## Ordering: Spearman over the panel vs {LONGEST_ARM} at its last milestone\n")
    longest = df[df["arm"] == LONGEST_ARM]
    if longest.empty:
        return
    target = longest[longest["updates"] == longest["updates"].max()].set_index("model")
    rows = []
    for (arm, updates), g in df.groupby(["arm", "updates"]):
        g = g.set_index("model")
        common = g.index.intersection(target.index)
        if len(common) < 4:
            continue
        row = {"arm": arm, "updates": updates, "models": len(common)}
        for score in ("reconstruction", "kl", "mig", "dci", "factor_vae"):
            row[score] = spearmanr(g.loc[common, score], target.loc[common, score]).statistic
        rows.append(row)
    print(pd.DataFrame(rows).round(2).to_markdown(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/laptop_scale.csv"))
    parser.add_argument("--eval-batches", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--report", action="store_true", help="only print the tables from --out")
    parser.add_argument("--cost", action="store_true",
                        help="only time the cost settings (one thread, interleaved) into <out stem>_cost.csv")
    parser.add_argument("--signal", nargs="+", metavar="ARM:MODEL[,MODEL]",
                        help=f"train signal arms ({', '.join(SIGNAL_ARMS)}) on panel models "
                             f"({', '.join(SIGNAL_PANEL)}) and score them against their rotated twins")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cost-updates", type=int, default=40)
    args = parser.parse_args()
    if args.report:
        report(args.out)
        return
    if args.signal:
        if args.threads:
            __import__("torch").set_num_threads(args.threads)
        done = set()
        if args.out.exists():
            with open(args.out) as f:
                done = {(r["arm"], r["model"]) for r in csv.DictReader(f)}
        cpu = cpu_model()
        for item in args.signal:
            arm, _, models = item.partition(":")
            run_signal_arm(arm, SIGNAL_ARMS[arm], models.split(","), args.out, done, cpu, args.eval_batches)
        return
    from disentangle.data import get_dataset

    done: set[tuple[str, str]] = set()
    if args.out.exists():
        with open(args.out) as f:
            done = {(r["arm"], r["model"]) for r in csv.DictReader(f)}
    if args.threads:
        __import__("torch").set_num_threads(args.threads)
    cpu = cpu_model()
    print(f"CPU: {cpu}; torch threads: {__import__('torch').get_num_threads()}", flush=True)
    dataset = get_dataset("dsprites", source="procedural")
    if args.cost:
        measure_cost(dataset, args.out.with_name("laptop_cost.csv"), args.rounds, args.cost_updates, cpu)
        return
    for name in args.arms:
        run_arm(name, ARMS[name], dataset, args.out, done, cpu, args.eval_batches)
    report(args.out)


if __name__ == "__main__":
    main()
