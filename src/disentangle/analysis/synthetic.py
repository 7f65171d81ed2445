"""Synthetic results tables with the real schema and optionally planted effects.

For tests and for developing notebooks before real runs exist. Never mix these
rows with real results: ``dataset_source`` is ``"synthetic"`` by default.

Effects (``effect=``):

- ``"plausible"``: a per-run latent "quality" = dataset×method effect + a
  per-method strength effect + seed noise drives the five non-Modularity scores
  (so they correlate), downstream accuracy grows with sample size and quality,
  sampled Gaussian TC falls with strength (flat for FactorVAE), mean TC rises
  (flat and low for DIP-VAE-I), and AnnealedVAE at the two strongest settings on
  Noisy-/Scream-dSprites has chance-level accuracy at every size (the paper's
  efficiency artefact, paper §5.5).
- ``"method"``: every score is a function of the method only (+ ``noise``).
- ``"method_x_value"``: every score is one function of (method, strength index),
  shared by all datasets and scores (+ ``noise``): configurations dominate.
- ``"noise"``: every score, TC and accuracy is i.i.d. noise.

:func:`synthetic_controls` adds a controls table (rotated twins with or without alignment signal)
for the signal gate (``analysis/signal.py``).
"""

from __future__ import annotations

import hashlib
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .. import vocabulary
from ..study.columns import (
    CONTROL_COLUMNS, DOWNSTREAM, PROVENANCE_COLUMNS, RUN_COLUMNS, SCORES, SETTINGS_COLUMNS, TIME_COLUMNS, TRAIN_COLUMNS,
    UNSUPERVISED,
)
from ..study.grid import model_num

EFFECTS = ("plausible", "method", "method_x_value", "noise")
_DEFAULT_NOISE = {"plausible": 1.0, "method": 0.0, "method_x_value": 0.0, "noise": 1.0}

#: the paper's grid, which the synthetic tables mimic (`config/unsupervised_study_v1/sweep.py`)
PAPER_DATASETS = vocabulary.paper_datasets()
PAPER_METHODS = vocabulary.paper_methods()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _grid(datasets: Sequence[str], methods: Sequence[str],
          values_per_method: int | Mapping[str, Sequence[float]], seeds: int | Sequence[int]) -> pd.DataFrame:
    """One row per run with identity columns (model_num as in `config/unsupervised_study_v1/sweep.py`)."""
    unknown = [d for d in datasets if d not in PAPER_DATASETS] + [m for m in methods if m not in PAPER_METHODS]
    if unknown:
        raise ValueError(f"unknown dataset/method name(s) {unknown}; known: {PAPER_DATASETS}, {PAPER_METHODS}")
    if not datasets or not methods:
        raise ValueError("need at least one dataset and one method")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise ValueError("need at least one seed")
    rows = []
    for d in datasets:
        for m in methods:
            hp, sweep_values = vocabulary.hyperparameter(m), vocabulary.METHODS[m].paper_values
            if isinstance(values_per_method, int):
                if not 1 <= values_per_method <= len(sweep_values):
                    raise ValueError(f"values_per_method must be in 1..{len(sweep_values)}")
                idx = np.unique(np.linspace(0, len(sweep_values) - 1, values_per_method).round().astype(int))
                chosen = [(int(i), sweep_values[i]) for i in idx]
            else:
                unknown_values = [v for v in values_per_method[m] if v not in sweep_values]
                if unknown_values:
                    raise ValueError(f"{m}: values {unknown_values} are not in the paper grid {sweep_values}")
                chosen = [(sweep_values.index(v), v) for v in values_per_method[m]]
            for vi, v in chosen:
                for s in seed_list:
                    rows.append({
                        "model_num": model_num(d, m, v, s),
                        "dataset": d, "method": m, "hyperparameter": hp, "value": float(v),
                        "value_index": vi, "seed": int(s),
                    })
    return pd.DataFrame(rows)


def synthetic_results(
    datasets: Sequence[str] = ("dsprites",),
    methods: Sequence[str] = PAPER_METHODS,
    values_per_method: int | Mapping[str, Sequence[float]] = 6,
    seeds: int | Sequence[int] = 3,
    *,
    seed: int,
    effect: str = "plausible",
    noise: float | None = None,
    downstream_sizes: Sequence[int] = (10, 100, 1000, 10000),
    steps: int = 300_000,
    dataset_source: str = "synthetic",
    population_seed: int | None = None,
) -> pd.DataFrame:
    """A results table (one row per run × representation) with every column of
    the real table (study/columns.py; metric keys `config/unsupervised_study_v1/metric_configs/*.gin`).

    ``values_per_method``: an int k picks k evenly spread sweep values per method,
    or a mapping method → values (the paper's, ``vocabulary.METHODS``). Provenance
    columns say ``"synthetic"``. ``seeds``: a count or explicit seed ids.
    ``noise``: std of per-run noise on the latent (default 1 for "plausible",
    0 for "method"/"method_x_value"). All draws come from ``np.random.default_rng(seed)``,
    except, when ``population_seed`` is given, the population's effects (dataset × method,
    method, configuration, strength slope), which then come from
    ``np.random.default_rng(population_seed)``: tables with the same ``population_seed`` and
    different ``seed`` are independent studies of one population (claims calibration).
    """
    if effect not in EFFECTS:
        raise ValueError(f"effect must be one of {EFFECTS}, got {effect!r}")
    noise = _DEFAULT_NOISE[effect] if noise is None else float(noise)
    if noise < 0:
        raise ValueError("noise must be >= 0")
    rng = np.random.default_rng(seed)
    runs = _grid(datasets, methods, values_per_method, seeds)
    n = len(runs)
    m_idx = runs["method"].map(PAPER_METHODS.index).to_numpy()
    d_idx = runs["dataset"].map(PAPER_DATASETS.index).to_numpy()
    k = runs["value_index"].to_numpy().astype(float)

    # latent per-run quality (higher = more disentangled)
    population = rng if population_seed is None else np.random.default_rng(population_seed)
    dataset_method = population.normal(0.0, 1.0, size=(len(PAPER_DATASETS), len(PAPER_METHODS)))
    method_only = population.normal(0.0, 1.5, size=len(PAPER_METHODS))
    config_table = population.normal(0.0, 1.5, size=(len(PAPER_METHODS), 6))
    strength_slope = population.normal(0.0, 0.3, size=len(PAPER_METHODS))
    eps = rng.normal(size=n)
    if effect == "plausible":
        quality = dataset_method[d_idx, m_idx] + strength_slope[m_idx] * k + noise * eps
    elif effect == "method":
        quality = method_only[m_idx] + noise * eps
    elif effect == "method_x_value":
        quality = config_table[m_idx, runs["value_index"].to_numpy()] + noise * eps
    else:
        quality = eps

    train = _train_columns(runs, k, rng, steps)
    tc = _tc_columns(runs, k, m_idx, rng, effect)
    config_hash = [hashlib.sha1(f"{r.dataset}|{r.method}|{r.value}|{r.seed}".encode()).hexdigest()[:12]
                   for r in runs.itertuples()]
    out = []
    for rep, shift in (("mean", 0.0), ("sampled", -0.5)):
        cols = _score_columns(quality + shift, runs, rng, effect, noise)
        cols.update(_downstream_columns(runs, quality + shift, rng, effect, downstream_sizes))
        cols.update(tc[rep])
        identity = runs.assign(representation=rep, dataset_source=dataset_source, config_hash=config_hash,
                               steps=steps, eval_settings="synthetic")
        times = {c: rng.uniform(1, 10, n) for c in TIME_COLUMNS}
        provenance = {c: "synthetic" for c in PROVENANCE_COLUMNS}
        out.append(pd.concat([identity, pd.DataFrame({**train, **cols, **times}, index=runs.index)
                              .assign(**provenance)], axis=1))
    df = pd.concat(out, ignore_index=True)
    first = [*RUN_COLUMNS, *SETTINGS_COLUMNS, *TRAIN_COLUMNS]
    last = [*TIME_COLUMNS, *PROVENANCE_COLUMNS]
    return df[first + sorted(c for c in df.columns if c not in first + last) + last]


def _train_columns(runs: pd.DataFrame, k: np.ndarray, rng: np.random.Generator, steps: int) -> dict:
    """Training results (`methods/unsupervised/train.py`, `shared.gin`): reconstruction rises, KL falls with strength."""
    n = len(runs)
    recon = 40.0 + 8.0 * k + rng.normal(0, 2.0, n)
    kl = 30.0 - 3.0 * k + rng.normal(0, 1.0, n)
    regularizer = kl * (1.0 + 0.5 * k)
    return {
        "train.loss": recon + regularizer, "train.reconstruction_loss": recon, "train.kl_loss": kl,
        "train.regularizer": regularizer, "train.elbo": -(recon + kl),  # `methods/unsupervised/vae.py: BaseVAE`: elbo = -(recon + KL)
        "train.global_step": np.full(n, steps), "train.elapsed_time": rng.uniform(50, 70, n) * steps / 1e4,
    }


def _tc_columns(runs: pd.DataFrame, k: np.ndarray, m_idx: np.ndarray, rng: np.random.Generator,
                effect: str) -> dict[str, dict]:
    """Gaussian TC and pairwise MI (nats) for both representations (paper §5.1, Figs 1, 8–10, 27, 28)."""
    n = len(runs)
    if effect == "noise":
        log_tc = {rep: rng.normal(0, 1, n) for rep in ("mean", "sampled")}
    else:
        # per-method slope of log TC against strength index: sampled falls, mean rises
        down = np.array([0.45, 0.0, 0.15, 0.15, 0.45, 0.35])[m_idx]
        up = np.array([0.35, 0.15, 0.0, 0.2, 0.35, 0.1])[m_idx]
        base_sampled = np.array([0.5, -1.0, -1.0, -1.0, 0.5, 0.5])[m_idx]
        base_mean = np.array([0.5, 0.5, -1.5, 0.5, 0.5, 2.0])[m_idx]
        log_tc = {"sampled": base_sampled - down * k + rng.normal(0, 0.2, n),
                  "mean": base_mean + up * k + rng.normal(0, 0.2, n)}
    out = {}
    for rep, ltc in log_tc.items():
        tc = np.exp(ltc)
        wass = tc * rng.uniform(0.5, 1.5, n)
        out[rep] = {
            UNSUPERVISED["GaussianTC"]: tc,
            "unsupervised.gaussian_wasserstein_correlation": wass,
            UNSUPERVISED["WassersteinCorr"]: wass / rng.uniform(5, 15, n),
            UNSUPERVISED["MeanPairwiseMI"]: 0.05 * tc + rng.uniform(0, 0.02, n),
        }
    return out


def _score_columns(quality: np.ndarray, runs: pd.DataFrame, rng: np.random.Generator,
                   effect: str, noise: float) -> dict:
    """The six scores and their companion keys (`evaluation/metrics/*.py`)."""
    n = len(runs)

    def score(offset: float, scale: float) -> np.ndarray:
        if effect == "noise":
            return rng.uniform(0, 1, n)
        jitter = rng.normal(0, 0.3 * noise, n) if effect == "plausible" else 0.0
        return _sigmoid(scale * quality + offset + jitter)

    beta, factor = score(1.5, 0.8), score(0.5, 0.9)
    mig, dci, sap = score(-2.0, 0.7), score(-1.0, 0.9), score(-3.0, 0.5)
    modularity = rng.uniform(0.7, 0.95, n) if effect in ("plausible", "noise") else score(1.0, 0.5)
    informativeness = _sigmoid(0.5 * quality + 1.0 + rng.normal(0, 0.2, n))
    return {
        "beta_vae_sklearn.eval_accuracy": beta,
        "beta_vae_sklearn.train_accuracy": np.clip(beta + rng.uniform(0, 0.02, n), 0, 1),
        "factor_vae_metric.eval_accuracy": factor,
        "factor_vae_metric.train_accuracy": np.clip(factor + rng.uniform(0, 0.02, n), 0, 1),
        "factor_vae_metric.num_active_dims": np.full(n, 10),  # the reference's bug, `evaluation/metrics/factor_vae.py: compute_factor_vae`
        SCORES["MIG"]: mig,
        SCORES["DCI"]: dci,
        "dci.completeness": np.clip(dci + rng.normal(0, 0.05, n), 0, 1),
        "dci.informativeness_train": np.clip(informativeness + 0.05, 0, 1),
        "dci.informativeness_test": informativeness,
        SCORES["SAP"]: sap,
        SCORES["Modularity"]: modularity,
        "modularity_explicitness.explicitness_score_train": np.clip(informativeness + 0.03, 0, 1),
        "modularity_explicitness.explicitness_score_test": informativeness,
    }


def _downstream_columns(runs: pd.DataFrame, quality: np.ndarray, rng: np.random.Generator, effect: str,
                        sizes: Sequence[int]) -> dict:
    """Downstream accuracies per predictor and size (`evaluation/metrics/downstream_task.py: compute_downstream_task`) plus sample efficiency."""
    n = len(runs)
    n_factors = runs["dataset"].map(lambda d: vocabulary.DATASETS[d].num_factors).to_numpy()
    chance = 1.0 / np.array([3.0, 6.0, 10.0, 20.0, 40.0, 40.0])[:max(n_factors.max(), 1)]
    artefact = (runs["method"].eq("annealed_vae") & runs["dataset"].isin(["noisy_dsprites", "scream_dsprites"])
                & (runs["value_index"] <= 1)).to_numpy() if effect == "plausible" else np.zeros(n, bool)
    out: dict[str, np.ndarray] = {}
    for predictor, prefix in DOWNSTREAM.items():
        bias = 0.3 if predictor == "GBT" else 0.0
        # accuracy = ceiling(quality) × learning curve; the curve's speed is independent of quality,
        # so sample efficiency is unrelated to disentanglement (paper §5.5, Figs 6, 20–23; C12)
        speed = np.exp(rng.uniform(np.log(30), np.log(3000), n))
        # the artefact: chance-level accuracy, the same at every size (efficiency = 1)
        chance_level = chance[None, :] + rng.uniform(0, 0.02, (n, len(chance)))
        for size in sizes:
            per_factor = np.full((n, n_factors.max()), np.nan)
            for f in range(n_factors.max()):
                if effect == "noise":
                    acc = rng.uniform(0.05, 0.95, n)
                else:
                    ceiling = _sigmoid(1.0 + 0.6 * quality + bias + rng.normal(0, 0.1, n))
                    acc = ceiling * (1.0 - 0.7 * np.exp(-size / speed))
                acc = np.where(artefact, chance_level[:, f], acc)
                per_factor[:, f] = np.where(f < n_factors, acc, np.nan)
            train_factor = np.clip(per_factor + 0.1, 0, 1)
            for f in range(n_factors.max()):
                out[f"{prefix}.{size}:test_accuracy_factor_{f}"] = per_factor[:, f]
                out[f"{prefix}.{size}:train_accuracy_factor_{f}"] = train_factor[:, f]
            out[f"{prefix}.{size}:mean_test_accuracy"] = np.nanmean(per_factor, axis=1)
            out[f"{prefix}.{size}:min_test_accuracy"] = np.nanmin(per_factor, axis=1)
            out[f"{prefix}.{size}:mean_train_accuracy"] = np.nanmean(train_factor, axis=1)
            out[f"{prefix}.{size}:min_train_accuracy"] = np.nanmin(train_factor, axis=1)
        if 100 in sizes and 10000 in sizes:
            out[f"{prefix}.sample_efficiency"] = (
                out[f"{prefix}.100:mean_test_accuracy"] / out[f"{prefix}.10000:mean_test_accuracy"])
    return out


def synthetic_controls(results: pd.DataFrame, *, seed: int, twin_shift: float = 0.0,
                       untrained_seeds: int = 3) -> pd.DataFrame:
    """A controls table (``columns.CONTROL_COLUMNS`` + score columns) for a synthetic results table.

    Each run's "standardised" row is its mean-representation scores; its "rotated" twin scores are
    the same scores plus independent Gaussian noise with the score's standard deviation on that
    dataset, minus ``twin_shift`` such deviations. With ``twin_shift`` 0 the pair is exchangeable: every
    run beats its twin with probability 1/2, independently (a study *without alignment signal*, the
    null the Wilson rule of ``analysis/signal.py`` is built for); with ``twin_shift`` s > 0 it beats it
    with probability Φ(s) (the twins score lower, as for codes that are aligned). The
    ``untrained_seeds`` "untrained" rows per dataset are twins of random runs. All draws come from
    ``np.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    mean = results[results["representation"] == "mean"].reset_index(drop=True)
    cols = [c for c in SCORES.values() if c in mean.columns]
    frames = []
    for dataset, g in mean.groupby("dataset", sort=False):
        values = g[cols].to_numpy(dtype=float)
        spread = np.nanstd(values, axis=0)

        def twin(x: np.ndarray) -> np.ndarray:
            return x + spread * (rng.standard_normal(x.shape) - twin_shift)

        identity = pd.DataFrame({"run_id": [f"{int(m):05d}" for m in g["model_num"]], "dataset": dataset,
                                 "method": g["method"].to_numpy(), "value": g["value"].to_numpy(),
                                 "seed": g["seed"].to_numpy()})
        frames.append(identity.assign(control="standardised", **dict(zip(cols, values.T))))
        frames.append(identity.assign(control="rotated", **dict(zip(cols, twin(values).T))))
        raw = twin(values[rng.integers(0, len(g), untrained_seeds)])
        frames.append(pd.DataFrame({"control": "untrained", "run_id": [f"untrained-{dataset}-s{s}" for s in
                                                                       range(untrained_seeds)],
                                    "dataset": dataset, "method": "", "value": np.nan,
                                    "seed": range(untrained_seeds), **dict(zip(cols, raw.T))}))
    return pd.concat(frames, ignore_index=True)[[*CONTROL_COLUMNS, *cols]]
