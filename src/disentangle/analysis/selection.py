"""Model selection without supervision (paper §5.4 / I.5, Figs 4, 13, 15–18; claims C7, C8, C10).

C7: no method (or strength) dominates on medians. C8: unsupervised training
scores vs the metrics. C10: do good configurations transfer across datasets?
(Table 1 / C9 lives in :mod:`disentangle.analysis.transfer`.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..study.columns import UNSUPERVISED
from .results_table import (
    MIN_POINTS, RUN_KEY, present_scores, representation, spearman_block,
)

#: unsupervised model-selection scores (paper Fig. 4 centre / Fig. 16): name → (column, representation)
UNSUPERVISED_SELECTORS = {
    "Reconstruction": ("train.reconstruction_loss", "mean"),
    "KL": ("train.kl_loss", "mean"),
    "ELBO": ("train.elbo", "mean"),
    "TC (sampled)": (UNSUPERVISED["GaussianTC"], "sampled"),
    "TC (mean)": (UNSUPERVISED["GaussianTC"], "mean"),
}


def best_method(df: pd.DataFrame, *, rep: str = "mean") -> pd.DataFrame:
    """C7: per (dataset, score), the method with the highest median over all its runs.

    Columns: dataset, metric, winner, winner_median, runner_up, margin
    (winner − runner-up median), n_methods.
    """
    rows = representation(df, rep)
    out = []
    for name, col in present_scores(rows).items():
        med = rows.groupby(["dataset", "method"])[col].median().dropna()
        for dataset, m in med.groupby(level="dataset", sort=True):
            m = m.droplevel("dataset").sort_values(ascending=False)
            out.append({"dataset": dataset, "metric": name, "winner": m.index[0], "winner_median": m.iloc[0],
                        "runner_up": m.index[1] if len(m) > 1 else None,
                        "margin": m.iloc[0] - m.iloc[1] if len(m) > 1 else np.nan, "n_methods": len(m)})
    return pd.DataFrame(out)


def best_value(df: pd.DataFrame, *, rep: str = "mean") -> pd.DataFrame:
    """C7 (rules of thumb): per (dataset, method, score), the strength with the highest median."""
    rows = representation(df, rep)
    out = []
    for name, col in present_scores(rows).items():
        med = rows.groupby(["dataset", "method", "value"])[col].median().dropna()
        for (dataset, method), m in med.groupby(level=["dataset", "method"], sort=True):
            out.append({"dataset": dataset, "method": method, "metric": name,
                        "best_value": m.idxmax()[2], "n_values": len(m)})
    return pd.DataFrame(out)


def winner_summary(winners: pd.DataFrame) -> dict:
    """Summarise :func:`best_method`: cells, distinct winners, the modal winner and its share (%)."""
    if winners.empty:
        return {"n_cells": 0, "n_distinct_winners": 0, "modal_winner": None, "modal_share_pct": np.nan}
    counts = winners["winner"].value_counts()
    return {"n_cells": len(winners), "n_distinct_winners": len(counts), "modal_winner": counts.index[0],
            "modal_share_pct": 100 * counts.iloc[0] / len(winners)}


def unsupervised_vs_scores(df: pd.DataFrame) -> pd.DataFrame:
    """C8: Spearman of each unsupervised score against each metric (mean representation), per dataset.

    Columns: dataset, unsupervised, metric, rho, n_runs. Training losses are
    "lower is better", so a useful selector shows a consistently *negative* ρ.
    """
    metric_rows = representation(df, "mean")
    scores = present_scores(metric_rows)
    selectors = {name: f"__{name}" for name, (col, _) in UNSUPERVISED_SELECTORS.items() if col in df.columns}
    joined = metric_rows[list(RUN_KEY) + list(scores.values())]
    for rep in ("mean", "sampled"):
        cols = {col: f"__{name}" for name, (col, r) in UNSUPERVISED_SELECTORS.items()
                if r == rep and col in df.columns}
        if cols:
            part = representation(df, rep)[list(RUN_KEY) + list(cols)].rename(columns=cols)
            joined = joined.merge(part, on=list(RUN_KEY), how="left", validate="one_to_one")
    out = []
    for dataset, g in joined.groupby("dataset", sort=True):
        rho, count = spearman_block(g, list(selectors.values()), list(scores.values()))
        for name, sel in selectors.items():
            for metric, col in scores.items():
                out.append({"dataset": dataset, "unsupervised": name, "metric": metric,
                            "rho": rho.loc[sel, col], "n_runs": int(count.loc[sel, col])})
    return pd.DataFrame(out)


def dataset_transfer(df: pd.DataFrame, *, rep: str = "mean") -> dict[str, pd.DataFrame]:
    """C10 (Figs 4 right, 17, 18): per score, the dataset × dataset Spearman of the
    per-configuration (method, value) median scores, over the configurations both datasets have.
    """
    rows = representation(df, rep)
    datasets = sorted(rows["dataset"].unique())
    out = {}
    for name, col in present_scores(rows).items():
        med = rows.groupby(["dataset", "method", "value"])[col].median().unstack("dataset")
        mat = med.reindex(columns=datasets).corr(method="spearman", min_periods=MIN_POINTS)
        out[name] = mat.rename_axis(index="dataset", columns="dataset")
    return out
