"""Downstream accuracy and sample efficiency (paper §5.5 / I.6, Figs 5, 6, 19–24; claims C11/C12).

Accuracy = ``<downstream>.<n>:mean_test_accuracy`` (`evaluation/metrics/downstream_task.py: compute_downstream_task`); the sizes n
present are detected from the columns. Sample efficiency = accuracy at 100
samples / accuracy at 10,000 (a paper definition, §5.5, not in the reference's code), read from
``<downstream>.sample_efficiency`` or computed when that column is absent. A
study too small to fit 10,000-sample predictors (the laptop scale) uses the
largest size it has as the denominator; :func:`efficiency_sizes` says which,
and the chapter prints it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..study.columns import DOWNSTREAM
from .results_table import present_scores, representation, spearman_block

_ACCURACY = re.compile(r"^(?P<prefix>[a-z_]+)\.(?P<n>\d+):mean_test_accuracy$")


def accuracy_columns(df: pd.DataFrame) -> dict[tuple[str, int], str]:
    """(predictor, n_train) → column, for every mean-test-accuracy column present (sorted by n)."""
    by_prefix = {prefix: name for name, prefix in DOWNSTREAM.items()}
    found = {}
    for col in df.columns:
        match = _ACCURACY.match(col)
        if match and match["prefix"] in by_prefix:
            found[(by_prefix[match["prefix"]], int(match["n"]))] = col
    return dict(sorted(found.items(), key=lambda kv: (kv[0][0], kv[0][1])))


def efficiency_sizes(df: pd.DataFrame, predictor: str) -> tuple[int, int] | None:
    """(numerator, denominator) training sizes of the sample efficiency of ``predictor``:
    (100, 10,000) as in the paper when present, else (100, the largest size > 100), else None."""
    if predictor not in DOWNSTREAM:
        raise ValueError(f"predictor must be one of {list(DOWNSTREAM)}, got {predictor!r}")
    if f"{DOWNSTREAM[predictor]}.sample_efficiency" in df.columns:
        return (100, 10000)
    sizes = [n for (p, n) in accuracy_columns(df) if p == predictor]
    if 100 not in sizes or max(sizes) <= 100:
        return None
    return (100, 10000) if 10000 in sizes else (100, max(sizes))


def sample_efficiency(df: pd.DataFrame, predictor: str) -> pd.Series:
    """acc@100 / acc@10,000 for ``predictor`` ("LR" or "GBT"); the stored column when present
    (denominator: see :func:`efficiency_sizes`)."""
    sizes = efficiency_sizes(df, predictor)
    stored = f"{DOWNSTREAM[predictor]}.sample_efficiency"
    if stored in df.columns:
        return df[stored].astype(float)
    if sizes is None:
        raise KeyError(f"no {stored} column and no accuracy columns at 100 and a larger size to compute it")
    acc = accuracy_columns(df)
    return df[acc[(predictor, sizes[0])]].astype(float) / df[acc[(predictor, sizes[1])]].astype(float)


def _efficiency_predictors(df: pd.DataFrame) -> list[str]:
    return [p for p in DOWNSTREAM if efficiency_sizes(df, p) is not None]


def accuracy_correlation(df: pd.DataFrame) -> pd.DataFrame:
    """C11 (Figs 5, 19): Spearman(score, downstream accuracy) per dataset × score × predictor × size.

    Mean representation for both. Columns: dataset, metric, predictor, n_train, rho, n_runs.
    """
    rows = representation(df, "mean")
    acc = accuracy_columns(rows)
    if not acc:
        raise KeyError("results table has no '<downstream>.<n>:mean_test_accuracy' columns")
    scores = present_scores(rows)
    out = []
    for dataset, g in rows.groupby("dataset", sort=True):
        rho, count = spearman_block(g, list(scores.values()), list(acc.values()))
        for metric, col in scores.items():
            for (predictor, n), acc_col in acc.items():
                out.append({"dataset": dataset, "metric": metric, "predictor": predictor, "n_train": n,
                            "rho": rho.loc[col, acc_col],
                            "n_runs": int(count.loc[col, acc_col])})
    return pd.DataFrame(out)


def efficiency_correlation(df: pd.DataFrame) -> pd.DataFrame:
    """C12 (Figs 6, 20, 21): Spearman(score, sample efficiency) per dataset × score × predictor.

    Columns: dataset, metric, predictor, rho, n_runs.
    """
    rows = representation(df, "mean")
    predictors = _efficiency_predictors(rows)
    if not predictors:
        raise KeyError("results table has no sample-efficiency column and no accuracies at 100 and a larger size")
    scores = present_scores(rows)
    efficiency = pd.DataFrame({p: sample_efficiency(rows, p) for p in predictors}, index=rows.index)
    frame = pd.concat([rows[list(scores.values())], efficiency, rows["dataset"]], axis=1)
    out = []
    for dataset, g in frame.groupby("dataset", sort=True):
        rho, count = spearman_block(g, list(scores.values()), predictors)
        for predictor in predictors:
            for metric, col in scores.items():
                out.append({"dataset": dataset, "metric": metric, "predictor": predictor,
                            "rho": rho.loc[col, predictor],
                            "n_runs": int(count.loc[col, predictor])})
    return pd.DataFrame(out)


def low_accuracy_artefact(df: pd.DataFrame, *, efficiency_quantile: float = 0.75,
                          accuracy_quantile: float = 0.25) -> pd.DataFrame:
    """Runs whose high "efficiency" is an artefact of low accuracy at every size (paper §5.5).

    Flagged per dataset and predictor: efficiency ≥ that dataset's
    ``efficiency_quantile`` *and* accuracy ≤ the dataset's ``accuracy_quantile``
    at both sizes of the ratio (100 and 10,000). Columns: dataset, method,
    value, seed, predictor, efficiency, max_accuracy (over all sizes present).
    """
    if not (0 < accuracy_quantile < 1 and 0 < efficiency_quantile < 1):
        raise ValueError("quantiles must lie strictly between 0 and 1")
    rows = representation(df, "mean")
    acc = accuracy_columns(rows)
    out = []
    for dataset, g in rows.groupby("dataset", sort=True):
        for predictor in _efficiency_predictors(g):
            eff = sample_efficiency(g, predictor)
            cols = [c for (p, _), c in acc.items() if p == predictor]
            ratio_cols = [acc[(predictor, n)] for n in efficiency_sizes(g, predictor) if (predictor, n) in acc]
            low_everywhere = np.logical_and.reduce(
                [g[c] <= g[c].quantile(accuracy_quantile) for c in ratio_cols or cols])
            flagged = g[(eff >= eff.quantile(efficiency_quantile)) & low_everywhere]
            for idx, r in flagged.iterrows():
                out.append({"dataset": dataset, "method": r["method"], "value": r["value"], "seed": r["seed"],
                            "predictor": predictor, "efficiency": float(eff[idx]),
                            "max_accuracy": float(r[cols].max())})
    return pd.DataFrame(out, columns=["dataset", "method", "value", "seed", "predictor", "efficiency",
                                      "max_accuracy"])
