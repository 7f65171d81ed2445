"""Agreement between metrics (paper §5.2, Figs 2, 11, 12; claim C4).

Spearman rank correlation between the six scores (and the unsupervised scores)
over all runs of a dataset, on the mean representation.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from ..study.columns import SCORES, UNSUPERVISED
from .results_table import MIN_POINTS, present_scores, representation

#: the score the paper finds uncorrelated with the rest
MODULARITY = "Modularity"


def score_correlation(df: pd.DataFrame, *, rep: str = "mean",
                      include_unsupervised: bool = True) -> dict[str, pd.DataFrame]:
    """Per dataset, the square Spearman matrix between scores (paper Figs 2, 12).

    Rows/columns use the paper names (``SCORES`` keys, then ``UNSUPERVISED``
    keys). Pairs with fewer than 3 finite runs, or a constant score, are NaN.
    """
    rows = representation(df, rep)
    wanted = {**SCORES, **(UNSUPERVISED if include_unsupervised else {})}
    cols = present_scores(rows, wanted)
    if not cols:
        raise ValueError("results table has none of the score columns")
    out = {}
    for dataset, g in rows.groupby("dataset", sort=True):
        named = g[list(cols.values())].astype(float).set_axis(list(cols), axis=1)
        out[dataset] = named.corr(method="spearman", min_periods=MIN_POINTS)
    return out


def _pair_mean(matrix: pd.DataFrame, names: list[str]) -> float:
    vals = [matrix.loc[a, b] for a, b in itertools.combinations(names, 2)]
    vals = [v for v in vals if np.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")


def agreement_summary(df: pd.DataFrame, *, rep: str = "mean") -> pd.DataFrame:
    """Per dataset (claim C4): mean off-diagonal ρ among the non-Modularity
    scores, mean ρ of Modularity with them, ρ(MIG, DCI), ρ(BetaVAE, FactorVAE),
    and the tightest pair. ``n_runs`` = runs of that dataset.
    """
    matrices = score_correlation(df, rep=rep, include_unsupervised=False)
    rows = representation(df, rep)
    counts = rows.groupby("dataset").size()
    out = []
    for dataset, m in matrices.items():
        core = [s for s in m.columns if s != MODULARITY]
        pairs = [(a, b, m.loc[a, b]) for a, b in itertools.combinations(core, 2) if np.isfinite(m.loc[a, b])]
        best = max(pairs, key=lambda p: p[2]) if pairs else (None, None, np.nan)
        modularity = (float(np.nanmean([m.loc[MODULARITY, s] for s in core]))
                      if MODULARITY in m.columns and np.isfinite([m.loc[MODULARITY, s] for s in core]).any()
                      else np.nan)
        out.append({
            "dataset": dataset, "n_runs": int(counts[dataset]),
            "mean_rho_excl_modularity": _pair_mean(m, core),
            "mean_rho_modularity": modularity,
            "rho_mig_dci": m.loc["MIG", "DCI"] if {"MIG", "DCI"} <= set(m.columns) else np.nan,
            "rho_betavae_factorvae": (m.loc["BetaVAE", "FactorVAE"]
                                      if {"BetaVAE", "FactorVAE"} <= set(m.columns) else np.nan),
            "tightest_pair": f"{best[0]}–{best[1]}" if best[0] else "n/a",
            "tightest_rho": best[2],
        })
    return pd.DataFrame(out)
