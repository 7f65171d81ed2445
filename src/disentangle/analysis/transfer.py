"""Transfer-based model selection, Table 1 (paper §5.4 / Table 6; claim C9).

The paper's procedure, per random draw:

1. sample a seed, a metric and a dataset;
2. under that seed, pick the (method, value) configuration with the best score;
3. on the target (same or a random *different* dataset × same or a random
   different metric) compare that configuration at a *different* random seed
   with a random model (random configuration and random seed);
4. a win is transfer ≥ random (ties count as wins, so chance is a little over 50 %).

10,000 draws per cell. Draws whose source column is entirely missing, or
whose target / random model is missing, are dropped (``n_draws_used``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .paper_values import TABLE1_TRANSFER, TRANSFER_DRAWS
from .results_table import present_scores, representation

CELLS = (("same", "same"), ("same", "different"), ("different", "same"), ("different", "different"))


def score_array(df: pd.DataFrame, *, rep: str = "mean") -> tuple[np.ndarray, dict[str, list]]:
    """Scores as an array ``[dataset, metric, config, seed]`` (NaN where absent) and its axis labels."""
    rows = representation(df, rep)
    scores = present_scores(rows)
    if not scores:
        raise ValueError("results table has none of the score columns")
    d_code, d_label = pd.factorize(rows["dataset"], sort=True)
    s_code, s_label = pd.factorize(rows["seed"], sort=True)
    config = rows.groupby(["method", "value"], sort=True)
    c_code = config.ngroup().to_numpy()
    arr = np.full((len(d_label), len(scores), config.ngroups, len(s_label)), np.nan)
    values = rows[list(scores.values())].to_numpy(dtype=float)
    for j in range(len(scores)):
        arr[d_code, j, c_code, s_code] = values[:, j]
    labels = {"dataset": list(d_label), "metric": list(scores), "config": list(config.groups),
              "seed": list(s_label)}
    return arr, labels


def _other(index: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random index in 0..size-1 different from ``index`` (elementwise)."""
    return (index + 1 + rng.integers(0, size - 1, size=index.shape)) % size


def transfer_win_rate(scores: np.ndarray, *, metric: str, dataset: str, n_draws: int,
                      rng: np.random.Generator) -> tuple[float, int]:
    """Win rate (fraction) and number of usable draws for one Table 1 cell.

    ``scores`` from :func:`score_array`; ``metric`` / ``dataset`` ∈ {"same", "different"}.
    NaN (0 draws) when the cell is impossible: < 2 seeds, or "different" with a single dataset/metric.
    """
    if metric not in ("same", "different") or dataset not in ("same", "different"):
        raise ValueError("metric and dataset must each be 'same' or 'different'")
    n_d, n_m, n_c, n_s = scores.shape
    if n_s < 2 or (dataset == "different" and n_d < 2) or (metric == "different" and n_m < 2):
        return float("nan"), 0
    d = rng.integers(0, n_d, n_draws)
    m = rng.integers(0, n_m, n_draws)
    s = rng.integers(0, n_s, n_draws)
    source = scores[d, m, :, s]                                    # (n_draws, configs)
    has_source = np.isfinite(source).any(axis=1)
    best = np.argmax(np.where(np.isfinite(source), source, -np.inf), axis=1)
    d2 = d if dataset == "same" else _other(d, n_d, rng)
    m2 = m if metric == "same" else _other(m, n_m, rng)
    chosen = scores[d2, m2, best, _other(s, n_s, rng)]
    random_model = scores[d2, m2, rng.integers(0, n_c, n_draws), rng.integers(0, n_s, n_draws)]
    ok = has_source & np.isfinite(chosen) & np.isfinite(random_model)
    if not ok.any():
        return float("nan"), 0
    return float(np.mean(chosen[ok] >= random_model[ok])), int(ok.sum())


def transfer_table(df: pd.DataFrame, *, seed: int, n_draws: int = TRANSFER_DRAWS,
                   rep: str = "mean") -> pd.DataFrame:
    """Table 1 with the paper's values beside (C9).

    One row per cell: metric, dataset ("same"/"different"), win_rate_pct,
    paper_pct, n_draws_used. Cells that need two datasets are NaN when the
    table has one. Each cell uses its own stream from ``np.random.default_rng(seed)``.
    """
    scores, _ = score_array(df, rep=rep)
    streams = np.random.default_rng(seed).spawn(len(CELLS))
    out = []
    for (metric, dataset), rng in zip(CELLS, streams):
        rate, used = transfer_win_rate(scores, metric=metric, dataset=dataset, n_draws=n_draws, rng=rng)
        out.append({"metric": metric, "dataset": dataset, "win_rate_pct": 100 * rate,
                    "paper_pct": TABLE1_TRANSFER[(metric, dataset)], "n_draws_used": used})
    return pd.DataFrame(out)


def paper_layout(table: pd.DataFrame) -> pd.DataFrame:
    """Table 1 as printed: rows "Random different metric" / "Same metric", columns
    "Random different dataset" / "Same dataset"; cells "ours % (paper %)" or "n/a"."""
    def cell(r) -> str:
        ours = "n/a" if not np.isfinite(r.win_rate_pct) else f"{r.win_rate_pct:.1f} %"
        return f"{ours} (paper {r.paper_pct:.1f} %)"

    names = {"same": "Same", "different": "Random different"}
    out = pd.DataFrame(index=[f"{names[m]} metric" for m in ("different", "same")],
                       columns=[f"{names[d]} dataset" for d in ("different", "same")], dtype=object)
    for r in table.itertuples():
        out.loc[f"{names[r.metric]} metric", f"{names[r.dataset]} dataset"] = cell(r)
    return out
