"""Seeds vs hyperparameters vs objective (paper §5.3 / I.4, Table 5, Figs 3, 13, 14; claims C5/C6).

C5: the paper regresses each score (per dataset) by OLS on categorical
predictors: one-hot(method) (Table 5(a), 37 % on average) and
one-hot(method × strength) (Table 5(b), 59 %). OLS on a full one-hot design
predicts the group means, so R² = 1 − SS_within / SS_total; we compute exactly
that with numpy.

C6: "a good run with a bad hyperparameter can beat a bad run with a good
hyperparameter" (Fig. 3 right) — quantified here because the paper gives no number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .paper_values import TABLE5_METHOD, TABLE5_METHOD_X_VALUE, VARIANCE_EXPLAINED_AVERAGE
from .results_table import present_scores, representation


def r_squared(y, groups) -> float:
    """R² of OLS of ``y`` on one-hot(``groups``) = 1 − SS_within / SS_total.

    Non-finite ``y`` are dropped. Returns NaN when fewer than 2 values remain or
    ``y`` is constant (0/0: there is no variance to explain).
    """
    y = np.asarray(y, dtype=float)
    codes = pd.factorize(np.asarray(groups, dtype=object))[0]
    if len(codes) != len(y):
        raise ValueError(f"y has {len(y)} values but groups has {len(codes)}")
    ok = np.isfinite(y)
    y, codes = y[ok], codes[ok]
    if y.size < 2:
        return float("nan")
    ss_total = float(((y - y.mean()) ** 2).sum())
    if ss_total <= 1e-12 * max(1.0, float((y ** 2).sum())):
        return float("nan")
    sums = np.bincount(codes, weights=y)
    counts = np.bincount(codes)
    group_mean = sums[codes] / counts[codes]
    return 1.0 - float(((y - group_mean) ** 2).sum()) / ss_total


def null_r_squared(n_obs: int, n_groups: int) -> float:
    """Expected R² with *no* group effect (i.i.d. normal scores): (k − 1) / (n − 1).

    With few seeds per group this is far from 0 (e.g. 36 configs × 3 seeds → 33 %),
    so R² from small runs must be read against it.
    """
    return (n_groups - 1) / (n_obs - 1) if n_obs > 1 else float("nan")


def variance_explained(df: pd.DataFrame, *, rep: str = "mean") -> pd.DataFrame:
    """Per dataset × score: R² (in %) of score ~ method and score ~ method × value (Table 5).

    Columns: dataset, metric, n_runs, n_methods, n_configs, method_pct,
    method_x_value_pct, null_method_pct, null_method_x_value_pct (chance level,
    :func:`null_r_squared`), paper_method_pct, paper_method_x_value_pct (NaN
    for datasets outside the paper's table).
    """
    rows = representation(df, rep)
    scores = present_scores(rows)
    out = []
    for dataset, g in rows.groupby("dataset", sort=True):
        config = g["method"].astype(str) + "|" + g["value"].astype(str)
        for name, col in scores.items():
            y = g[col].to_numpy(dtype=float)
            ok = np.isfinite(y)
            n_methods, n_configs = g["method"][ok].nunique(), config[ok].nunique()
            paper_a = TABLE5_METHOD.loc[dataset, name] if dataset in TABLE5_METHOD.index else np.nan
            paper_b = TABLE5_METHOD_X_VALUE.loc[dataset, name] if dataset in TABLE5_METHOD.index else np.nan
            out.append({
                "dataset": dataset, "metric": name, "n_runs": int(ok.sum()),
                "n_methods": n_methods, "n_configs": n_configs,
                "method_pct": 100 * r_squared(y, g["method"]),
                "method_x_value_pct": 100 * r_squared(y, config),
                "null_method_pct": 100 * null_r_squared(int(ok.sum()), n_methods),
                "null_method_x_value_pct": 100 * null_r_squared(int(ok.sum()), n_configs),
                "paper_method_pct": float(paper_a), "paper_method_x_value_pct": float(paper_b),
            })
    return pd.DataFrame(out)


def variance_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Averages of :func:`variance_explained` beside the paper's 37 % / 59 %.

    ``paper_same_cells_pct`` averages the paper's Table 5 over the same
    (dataset, metric) cells we have, which is the like-for-like comparison.
    """
    out = []
    for model in ("method", "method_x_value"):
        out.append({
            "predictors": model,
            "this_run_pct": float(table[f"{model}_pct"].mean()),
            "chance_pct": float(table[f"null_{model}_pct"].mean()),
            "paper_pct": VARIANCE_EXPLAINED_AVERAGE[model],
            "paper_same_cells_pct": float(table[f"paper_{model}_pct"].mean()),
            "n_cells": int(table[f"{model}_pct"].notna().sum()),
        })
    return pd.DataFrame(out)


def seed_vs_hyperparameter(df: pd.DataFrame, *, rep: str = "mean") -> pd.DataFrame:
    """C6 per (dataset, method, score): does a seed at the worst value beat a seed at the best?

    Best / worst value = highest / lowest median over seeds. Columns:
    ``p_bad_beats_good_pct`` = P(random seed at worst value > random seed at
    best value) over all seed pairs (ties counted separately in ``ties_pct``),
    ``range_overlap`` = Jaccard overlap of the two 10–90 % ranges (0 = disjoint),
    n_best / n_worst seeds. Groups with fewer than 2 values are skipped.
    """
    rows = representation(df, rep)
    scores = present_scores(rows)
    if not scores:
        raise ValueError("results table has none of the score columns")
    keys = ["dataset", "method", "value"]
    rows = rows.sort_values(keys, kind="stable")
    config = rows.groupby(keys, sort=True).ngroup().to_numpy()
    bounds = np.concatenate([[0], np.cumsum(np.bincount(config))])
    x = rows[list(scores.values())].to_numpy(dtype=float)
    medians = rows.groupby(keys, sort=True)[list(scores.values())].median()
    out = []
    offset = 0
    for (dataset, method), block in medians.groupby(level=["dataset", "method"], sort=True):
        for j, (name, col) in enumerate(scores.items()):
            med = block[col].to_numpy()
            present = np.flatnonzero(np.isfinite(med))
            if present.size < 2:
                continue
            best, worst = present[np.argmax(med[present])], present[np.argmin(med[present])]
            xb, xw = (x[bounds[offset + i]:bounds[offset + i + 1], j] for i in (best, worst))
            xb, xw = xb[np.isfinite(xb)], xw[np.isfinite(xw)]
            lo_b, hi_b = np.quantile(xb, [0.1, 0.9])
            lo_w, hi_w = np.quantile(xw, [0.1, 0.9])
            inter = max(0.0, min(hi_b, hi_w) - max(lo_b, lo_w))
            union = max(hi_b, hi_w) - min(lo_b, lo_w)
            values = block.index.get_level_values("value")
            out.append({
                "dataset": dataset, "method": method, "metric": name,
                "best_value": values[best], "worst_value": values[worst], "n_best": xb.size, "n_worst": xw.size,
                "p_bad_beats_good_pct": 100 * float((xw[:, None] > xb[None, :]).mean()),
                "ties_pct": 100 * float((xw[:, None] == xb[None, :]).mean()),
                "range_overlap": inter / union if union > 0 else 1.0,
            })
        offset += len(block)
    return pd.DataFrame(out)
