"""Mean vs sampled representation (paper §5.1, Figs 1, 8–10; claims C2/C3).

The paper reports, per (dataset, method, strength), the median over seeds of
the Gaussian total correlation (and of the mean pairwise MI) of the mean and of
the sampled representation, and reads off trends *within* a method only
(strength scales differ between methods).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..study.columns import UNSUPERVISED
from .results_table import RUN_KEY, require_columns, spearman

TC = UNSUPERVISED["GaussianTC"]
MI = UNSUPERVISED["MeanPairwiseMI"]


def by_strength(df: pd.DataFrame, column: str = TC) -> pd.DataFrame:
    """Tidy table for the Fig. 1 analogue (paper Figs 1, 8, 9, 27, 28).

    One row per (dataset, method, value, representation): ``value_index``,
    ``median``, ``q25``, ``q75`` over seeds and ``n_seeds``.
    """
    require_columns(df, [*RUN_KEY, "value_index", "representation", column])
    keys = ["dataset", "method", "value", "value_index", "representation"]
    grouped = df.groupby(keys, sort=True)[column]
    out = pd.DataFrame({
        "median": grouped.median(), "q25": grouped.quantile(0.25), "q75": grouped.quantile(0.75),
        "n_seeds": grouped.count(),
    }).reset_index()
    return out


def strength_trend(df: pd.DataFrame, column: str = TC) -> pd.DataFrame:
    """Spearman(strength index, median over seeds of ``column``) per (dataset, method, representation).

    Claims C2 (sampled: negative for β-VAE/β-TCVAE) and C3 (mean: positive,
    except DIP-VAE-I). Columns: ``rho``, ``n_values`` (strength levels),
    ``min_seeds`` (fewest seeds behind any median). ``rho`` is NaN with fewer
    than 3 levels.
    """
    require_columns(df, [*RUN_KEY, "value_index", "representation", column])
    keys = ["dataset", "method", "representation", "value_index"]
    grouped = df.groupby(keys, sort=True)[column]
    stats = pd.DataFrame({"median": grouped.median(), "count": grouped.count()}).reset_index()
    group = stats.groupby(keys[:3], sort=True).ngroup().to_numpy()
    bounds = np.concatenate([[0], np.cumsum(np.bincount(group))])
    level, median, count = (stats[c].to_numpy(dtype=float) for c in ("value_index", "median", "count"))
    first = stats.iloc[bounds[:-1]]
    return pd.DataFrame({
        "dataset": first["dataset"].to_numpy(), "method": first["method"].to_numpy(),
        "representation": first["representation"].to_numpy(),
        "rho": [spearman(level[a:b], median[a:b]) for a, b in zip(bounds[:-1], bounds[1:])],
        "n_values": [int(np.isfinite(median[a:b]).sum()) for a, b in zip(bounds[:-1], bounds[1:])],
        "min_seeds": [int(count[a:b].min()) for a, b in zip(bounds[:-1], bounds[1:])],
    })


def paired(df: pd.DataFrame, column: str = TC) -> pd.DataFrame:
    """One row per run with ``mean`` and ``sampled`` values of ``column`` side by side (Fig. 10)."""
    require_columns(df, [*RUN_KEY, "representation", column])
    wide = df.pivot_table(index=list(RUN_KEY), columns="representation", values=column, aggfunc="first")
    for rep in ("mean", "sampled"):
        if rep not in wide.columns:
            raise ValueError(f"results table has no {rep!r} rows for {column}")
    return wide[["mean", "sampled"]].reset_index().rename_axis(columns=None)


def fraction_mean_above_sampled(df: pd.DataFrame, column: str = TC) -> pd.DataFrame:
    """Share of runs with ``column``(mean) > ``column``(sampled), per (dataset, method) and overall (C3).

    Rows with either value missing are excluded; ``n_runs`` counts the rest.
    The overall row has ``dataset == method == "all"``.
    """
    pairs = paired(df, column).dropna(subset=["mean", "sampled"])
    pairs = pairs.assign(above=pairs["mean"] > pairs["sampled"])
    per = pairs.groupby(["dataset", "method"], sort=True)["above"].agg(["mean", "size"]).reset_index()
    per.columns = ["dataset", "method", "fraction", "n_runs"]
    total = pd.DataFrame([{"dataset": "all", "method": "all",
                           "fraction": float(pairs["above"].mean()) if len(pairs) else np.nan,
                           "n_runs": len(pairs)}])
    return pd.concat([per, total], ignore_index=True)
