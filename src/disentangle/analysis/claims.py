"""Claims table: paper vs this run, with a stated decision rule (paper.md §4, C2–C12).

Each claim in :data:`~disentangle.analysis.paper_values.CLAIMS` has a scalar
statistic (computed here from the results table), a bootstrap CI over runs
(:mod:`~disentangle.analysis.bootstrap`) and an expectation. The verdict rule:

- **inconclusive** when the run is too small for the claim (fewer than
  ``min_runs`` seeds per configuration, fewer than ``min_levels`` strength
  values, a needed dataset/method/column missing) or the statistic or its CI
  cannot be computed;
- the interval is the bootstrap CI widened, if needed, to include the point
  estimate (small-sample bootstrap bias can only make a verdict more cautious);
- direction claims (statistic < or > threshold): **agrees** when the whole CI
  lies on the claimed side, **disagrees** when it lies wholly on the other
  side, otherwise inconclusive;
- equivalence claims (Table 1 numbers, paper ± tolerance): **agrees** when the
  whole CI lies inside the band, **disagrees** when it lies wholly outside,
  otherwise inconclusive.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from disentangle.analysis import correlation, downstream, selection, total_correlation, transfer, variance
from disentangle.analysis._frame import CONFIG_KEY, RUN_KEY, nanmean_or_nan, require_columns
from disentangle.analysis.bootstrap import BootstrapCI, bootstrap_many
from disentangle.study.columns import DOWNSTREAM, SCORES, UNSUPERVISED
from disentangle.analysis.paper_values import (
    CLAIMS, DATASET_LABELS, DSPRITES_VARIANTS, TRANSFER_DRAWS, Expectation,
)

VERDICTS = ("agrees", "disagrees", "inconclusive")


def verdict(ci: BootstrapCI, expectation: Expectation) -> str:
    """Apply the module's decision rule to one CI (scale checks are done by the caller).

    The interval used is the hull of the CI and the point estimate, so a
    bootstrap distribution that is biased away from the estimate (small-sample
    variance statistics) can only make the verdict more cautious.
    """
    if not (np.isfinite(ci.estimate) and np.isfinite(ci.lo) and np.isfinite(ci.hi)):
        return "inconclusive"
    lo, hi = min(ci.lo, ci.estimate), max(ci.hi, ci.estimate)
    t = expectation.threshold
    if expectation.kind == "direction":
        above, below = lo > t, hi < t
        if expectation.relation == ">":
            return "agrees" if above else "disagrees" if below else "inconclusive"
        return "agrees" if below else "disagrees" if above else "inconclusive"
    band_lo, band_hi = t - expectation.tolerance, t + expectation.tolerance
    if band_lo <= lo and hi <= band_hi:
        return "agrees"
    if hi < band_lo or lo > band_hi:
        return "disagrees"
    return "inconclusive"


# ---------------------------------------------------------------------------------------------
# statistics (one per claim); each returns NaN when the table cannot answer it

class _Tables:
    """The analysis tables of one results table, each computed at most once."""

    def __init__(self, df: pd.DataFrame, seed: int, n_draws: int):
        self.df, self.seed, self.n_draws = df, seed, n_draws
        self._cache: dict[str, object] = {}

    def get(self, name: str, compute: Callable[[pd.DataFrame], object]):
        if name not in self._cache:
            self._cache[name] = compute(self.df)
        return self._cache[name]

    def trend(self) -> pd.DataFrame:
        return self.get("trend", total_correlation.strength_trend)

    def agreement(self) -> pd.DataFrame:
        return self.get("agreement", correlation.agreement_summary)

    def variance(self) -> pd.DataFrame:
        return self.get("variance", variance.variance_explained)

    def scores(self) -> np.ndarray:
        return self.get("scores", lambda df: transfer.score_array(df)[0])


def _trend(rep: str, methods: Sequence[str]) -> Callable[[_Tables], float]:
    def stat(t: _Tables) -> float:
        trend = t.trend()
        return nanmean_or_nan(trend.loc[(trend["representation"] == rep) & trend["method"].isin(methods), "rho"])
    return stat


def _pair_excess(column: str) -> Callable[[_Tables], float]:
    def stat(t: _Tables) -> float:
        s = t.agreement()
        return nanmean_or_nan(s[column] - s["mean_rho_excl_modularity"])
    return stat


def _mean_above_sampled(t: _Tables) -> float:
    f = total_correlation.fraction_mean_above_sampled(t.df)
    return 100 * float(f.loc[f["dataset"] == "all", "fraction"].iloc[0])


def _unsupervised_selection(t: _Tables) -> float:
    means = selection.unsupervised_vs_scores(t.df).groupby("unsupervised")["rho"].mean().abs()
    return float(means.max()) if means.notna().any() else float("nan")


def _dsprites_color(t: _Tables) -> float:
    pair = ("dsprites", "color_dsprites")
    mats = selection.dataset_transfer(t.df)
    return nanmean_or_nan([m.loc[pair] if set(pair) <= set(m.index) else np.nan for m in mats.values()])


def _downstream_dsprites(t: _Tables) -> float:
    c = downstream.accuracy_correlation(t.df)
    return nanmean_or_nan(c.loc[c["dataset"].isin(DSPRITES_VARIANTS) & (c["metric"] != "Modularity"), "rho"])


def _efficiency(t: _Tables) -> float:
    c = downstream.efficiency_correlation(t.df)
    return nanmean_or_nan(c.loc[c["metric"] != "Modularity", "rho"])


def _transfer_cell(metric: str, dataset: str) -> Callable[[_Tables], float]:
    def stat(t: _Tables) -> float:
        rate, _ = transfer.transfer_win_rate(t.scores(), metric=metric, dataset=dataset, n_draws=t.n_draws,
                                             rng=np.random.default_rng(t.seed))
        return 100 * rate
    return stat


#: claim id → statistic (definitions in ``CLAIMS[id].statistic``)
STATISTICS: dict[str, Callable[[_Tables], float]] = {
    "C2": _trend("sampled", ("beta_vae", "beta_tc_vae")),
    "C3a": _trend("mean", ("beta_vae", "beta_tc_vae", "factor_vae")),
    "C3b": _mean_above_sampled,
    "C4a": lambda t: nanmean_or_nan(t.agreement()["mean_rho_excl_modularity"]),
    "C4b": _pair_excess("rho_mig_dci"),
    "C4c": _pair_excess("rho_betavae_factorvae"),
    "C5a": lambda t: nanmean_or_nan(t.variance()["method_pct"]),
    "C5b": lambda t: 100 - nanmean_or_nan(t.variance()["method_x_value_pct"]),
    "C6": lambda t: nanmean_or_nan(variance.seed_vs_hyperparameter(t.df)["p_bad_beats_good_pct"]),
    "C7": lambda t: selection.winner_summary(selection.best_method(t.df))["modal_share_pct"],
    "C8": _unsupervised_selection,
    "C10": _dsprites_color,
    "C11": _downstream_dsprites,
    "C12": _efficiency,
    **{f"C9_{m}_{d}": _transfer_cell(m, d) for m, d in transfer.CELLS},
}


def claim_values(df: pd.DataFrame, claims: Sequence[str], *, seed: int,
                 n_draws: int = TRANSFER_DRAWS) -> tuple[dict[str, float], dict[str, str]]:
    """Each claim's statistic on ``df`` and, for those that cannot be computed, why."""
    tables = _Tables(df, seed, n_draws)
    values, errors = {}, {}
    for cid in claims:
        try:
            values[cid] = float(STATISTICS[cid](tables))
        except (KeyError, ValueError) as err:
            values[cid], errors[cid] = float("nan"), f"cannot compute: {err}"
    return values, errors


# ---------------------------------------------------------------------------------------------
# scale requirements

def _seeds_per_config(df: pd.DataFrame) -> pd.Series:
    return df[list(RUN_KEY)].drop_duplicates().groupby(list(CONFIG_KEY)).size()


def _levels(df: pd.DataFrame, methods: Sequence[str]) -> int:
    sub = df[df["method"].isin(methods)]
    return int(sub.groupby(["dataset", "method"])["value"].nunique().min()) if len(sub) else 0


def _missing_requirement(claim_id: str, df: pd.DataFrame, *, min_runs: int, min_levels: int) -> str | None:
    """Why the table is too small for ``claim_id`` (None if it is large enough)."""
    seeds = int(_seeds_per_config(df).min())
    if seeds < min_runs:
        return f"only {seeds} seed(s) per configuration (rule needs ≥ {min_runs})"
    datasets, methods = set(df["dataset"]), set(df["method"])
    needs_methods = {"C2": ("beta_vae", "beta_tc_vae"), "C3a": ("beta_vae", "beta_tc_vae", "factor_vae")}
    if claim_id in needs_methods:
        wanted = needs_methods[claim_id]
        if not methods & set(wanted):
            return f"needs one of {', '.join(wanted)}"
        if _levels(df, wanted) < min_levels:
            return f"fewer than {min_levels} strength values per method"
    if claim_id in ("C6", "C5b") and int(df.groupby(["dataset", "method"])["value"].nunique().min()) < 2:
        return "needs ≥ 2 strength values per method"
    if claim_id in ("C5a", "C7") and len(methods) < 2:
        return "needs ≥ 2 methods"
    if claim_id.endswith("_different") and claim_id.startswith("C9") and len(datasets) < 2:
        return "needs ≥ 2 datasets"
    if claim_id == "C10" and not {"dsprites", "color_dsprites"} <= datasets:
        return "needs dSprites and Color-dSprites"
    if claim_id == "C11" and not datasets & set(DSPRITES_VARIANTS):
        return "needs a dSprites variant"
    return None


def _claim_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Only the columns the claim statistics read (makes each bootstrap resample cheaper)."""
    keep = [*RUN_KEY, "representation", "value_index", *SCORES.values(), *UNSUPERVISED.values(),
            *(col for col, _ in selection.UNSUPERVISED_SELECTORS.values()),
            *downstream.accuracy_columns(df).values(),
            *(f"{prefix}.sample_efficiency" for prefix in DOWNSTREAM.values())]
    return df[[c for c in dict.fromkeys(keep) if c in df.columns]]


def claims_table(df: pd.DataFrame, claims: Sequence[str] | None = None, *, seed: int, n_boot: int = 200,
                 level: float = 0.95, min_runs: int = 5, min_levels: int = 3,
                 n_draws: int = TRANSFER_DRAWS) -> pd.DataFrame:
    """Paper vs this run for ``claims`` (ids in ``CLAIMS``; default all).

    Columns: claim, section, statement, paper, statistic, this run
    (estimate [95 % CI]), agrees? ∈ {agrees, disagrees, inconclusive}, rule,
    note (why inconclusive), estimate, ci_lo, ci_hi. The CI resamples runs
    within configurations (``n_boot`` replicates, ``np.random.default_rng(seed)``);
    ``min_runs`` (seeds per configuration) and ``min_levels`` (strength values)
    gate every verdict.
    """
    require_columns(df, [*RUN_KEY, "representation"])
    ids = list(CLAIMS) if claims is None else list(claims)
    unknown = [c for c in ids if c not in CLAIMS]
    if unknown:
        raise KeyError(f"unknown claim id(s) {unknown}; known: {list(CLAIMS)}")
    df = _claim_columns(df)
    _, notes = claim_values(df, ids, seed=seed, n_draws=n_draws)
    runnable = [cid for cid in ids if cid not in notes]
    cis = bootstrap_many(df, lambda table: claim_values(table, runnable, seed=seed, n_draws=n_draws)[0],
                         seed=seed, n_boot=n_boot, level=level) if runnable else {}
    rows = []
    for cid in ids:
        claim = CLAIMS[cid]
        ci = cis.get(cid, BootstrapCI(np.nan, np.nan, np.nan, level, n_boot, 0))
        note = notes.get(cid) or _missing_requirement(cid, df, min_runs=min_runs, min_levels=min_levels)
        if note is None and not np.isfinite(ci.estimate):
            note = "statistic undefined on this table"
        elif note is None and not (np.isfinite(ci.lo) and np.isfinite(ci.hi)):
            note = "bootstrap CI undefined"
        result = "inconclusive" if note else verdict(ci, claim.expectation)
        if note is None and not ci.lo <= ci.estimate <= ci.hi:
            note = "estimate outside its bootstrap CI (small-sample bias); the rule used their hull"
        digits = 1 if np.isfinite(ci.estimate) and abs(ci.estimate) >= 10 else 2
        rows.append({
            "claim": cid, "section": claim.section, "statement": claim.text, "paper": claim.paper,
            "statistic": claim.statistic, "this run": ci.format(digits), "agrees?": result,
            "rule": f"{claim.expectation.rule}; CI {100 * level:g} % over runs; ≥ {min_runs} seeds/config",
            "note": note or "", "estimate": ci.estimate, "ci_lo": ci.lo, "ci_hi": ci.hi,
        })
    return pd.DataFrame(rows)


def scale_note(df: pd.DataFrame) -> str:
    """One line per dataset stating the run scale, e.g.
    ``"dSprites (procedural): 6 methods × 3 values × 3 seeds = 54 runs, 2k steps"``."""
    require_columns(df, [*RUN_KEY])
    runs = df.drop_duplicates(list(RUN_KEY))
    lines = []
    for dataset, g in runs.groupby("dataset", sort=True):
        label = DATASET_LABELS.get(dataset, dataset)
        source = g["dataset_source"].iloc[0] if "dataset_source" in g.columns else "file"
        if source != "file":
            label += f" ({source})"
        values = g.groupby("method")["value"].nunique()
        seeds = g.groupby(list(CONFIG_KEY)).size()
        text = (f"{label}: {g['method'].nunique()} methods × {_span(values)} values × "
                f"{_span(seeds)} seeds = {len(g)} runs")
        if "train.global_step" in g.columns and g["train.global_step"].notna().any():
            text += f", {_steps(float(g['train.global_step'].median()))} steps"
        lines.append(text)
    return "; ".join(lines)


def _span(counts: pd.Series) -> str:
    lo, hi = int(counts.min()), int(counts.max())
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def _steps(steps: float) -> str:
    if steps >= 1000:
        return f"{steps / 1000:g}k"
    return f"{steps:g}"
