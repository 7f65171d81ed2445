"""The results table every analysis reads (one row per run × representation, column
names from :mod:`disentangle.study.columns`): its keys (a configuration, a run), checks
of its columns and representations, and the rank correlations the sections share."""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..study.columns import SCORES

#: a configuration = one cell of the sweep; a run = a configuration at one seed
CONFIG_KEY = ("dataset", "method", "value")
RUN_KEY = ("dataset", "method", "value", "seed")
#: fewer finite points than this and a rank correlation is reported as NaN
MIN_POINTS = 3


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str = "results table") -> None:
    """Raise a KeyError naming every missing column."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"{what} lacks column(s) {missing}")


def representation(df: pd.DataFrame, rep: str) -> pd.DataFrame:
    """Rows of one representation ('mean' or 'sampled'); error if none."""
    if rep not in ("mean", "sampled"):
        raise ValueError(f"representation must be 'mean' or 'sampled', got {rep!r}")
    require_columns(df, [*RUN_KEY, "representation"])
    out = df[df["representation"] == rep]
    if out.empty:
        raise ValueError(f"results table has no rows with representation == {rep!r}")
    return out


def present_scores(df: pd.DataFrame, scores: Mapping[str, str] | None = None) -> dict[str, str]:
    """The subset of ``scores`` (default: the six paper scores) with at least one finite value."""
    scores = dict(SCORES if scores is None else scores)
    return {name: col for name, col in scores.items()
            if col in df.columns and np.isfinite(pd.to_numeric(df[col], errors="coerce")).any()}


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of a 1-D array, ties sharing their average rank (as ``scipy.stats.rankdata``)."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    starts = np.concatenate([[0], np.flatnonzero(xs[1:] != xs[:-1]) + 1])
    ends = np.concatenate([starts[1:], [xs.size]])
    ranks = np.empty(xs.size)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def spearman(x, y) -> float:
    """Spearman rank correlation with average ranks for ties.

    NaN when fewer than :data:`MIN_POINTS` finite pairs remain or either side is constant.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < MIN_POINTS:
        return float("nan")
    rx, ry = average_ranks(x[ok]), average_ranks(y[ok])
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = np.sqrt((rx ** 2).sum() * (ry ** 2).sum())
    return float((rx * ry).sum() / denom) if denom > 0 else float("nan")


def nanmean_or_nan(values) -> float:
    """Mean of the finite entries; NaN (without a warning) when there are none."""
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if arr.size else float("nan")


def spearman_block(frame: pd.DataFrame, rows: list[str], cols: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spearman ρ of every column in ``rows`` against every column in ``cols``, and the
    number of complete pairs behind each ρ (pairwise-complete observations; ρ is NaN
    below :data:`MIN_POINTS` pairs or for a constant column)."""
    names = list(dict.fromkeys(rows + cols))
    values = frame[names].astype(float)
    full = values.corr(method="spearman", min_periods=MIN_POINTS)
    ok = np.isfinite(values.to_numpy()).astype(float)
    counts = pd.DataFrame(ok.T @ ok, index=names, columns=names).astype(int)
    return full.loc[rows, cols], counts.loc[rows, cols]
