"""The paper's claims C2–C12, one declaration each (paper §5; book/design.md, "The paper's conclusions as claims").

A :class:`Claim` holds everything about one claim: the chapter that decides it, the paper's section,
statement and value, the statistic (in words, and the function that computes it from the results
table), the values the statistic can take, the :class:`~disentangle.analysis.paper_values.Expectation`
that turns the statement into a test, the scores it reads (the signal gate), the methods it speaks of
and what the table must hold for it to be answerable (:class:`Requires`). :data:`CLAIMS` is the one
registry: the claims tables (:mod:`.claims`), the chapters and the verdict page all read it, so adding
a claim is one entry below (plus, where none of the statistics here fits, one statistic function).

C1 (Theorem 1, §3) is not a statistic of the results table: chapter 1 checks it numerically
(:mod:`disentangle.theory`); its statement is :data:`THEOREM`, from which the verdict page builds its row.

The paper's numbers the claims quote (Tables 1 and 5) are in :mod:`.paper_values`; the thresholds that
turn a qualitative sentence into a test are *our* operationalisation and are stated in the ``rule``
text shown in every claims table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .. import vocabulary
from ..vocabulary import dataset_label, dsprites_variants
from . import correlation, downstream, selection, total_correlation, transfer, variance
from .paper_values import TABLE1_TRANSFER, Expectation
from .results_table import nanmean_or_nan

#: every disentanglement score, and those the paper's agreement and downstream claims average over
ALL_SCORES = tuple(vocabulary.scores("disentanglement"))
NON_MODULARITY = tuple(s for s in ALL_SCORES if s != "Modularity")
#: the values a statistic can take (a widened interval is clipped to them)
RANK = (-1.0, 1.0)  # rank correlations and their means
PERCENT = (0.0, 100.0)  # shares and win rates


# ---------------------------------------------------------------------------------------------
# the results table's analysis tables, which the statistics share

class Tables:
    """The analysis tables of one results table, each computed at most once (a statistic reads
    ``tables.df`` for anything else; ``seed`` and ``n_draws`` are the claims table's)."""

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


# ---------------------------------------------------------------------------------------------
# the declaration

@dataclass(frozen=True)
class Requires:
    """What a results table's *layout* must hold for a claim (seeds per configuration are the calibrated
    gate's, ``analysis/claims_gate.csv``; the methods a claim speaks of are :attr:`Claim.methods`)."""

    #: at least this many methods / datasets
    methods: int = 1
    datasets: int = 1
    #: at least this many strength values per (dataset, method)
    values: int = 1
    #: every one of these datasets
    all_datasets: tuple[str, ...] = ()
    #: at least one dSprites variant (``vocabulary.dsprites_variants``)
    dsprites_variant: bool = False


@dataclass(frozen=True)
class Claim:
    """One testable claim (book/design.md, "The paper's conclusions as claims"): what the paper says,
    what we measure, and where."""

    id: str
    #: the book chapter (notebook name) whose claims table decides it
    chapter: str
    section: str
    text: str
    #: what the paper gives (a number only for Tables 1 and 5)
    paper: str
    #: the statistic in words, as the claims table shows it
    statistic: str
    expectation: Expectation
    #: the statistic itself: ``compute(tables, claim)`` → a float (NaN when the table cannot answer it;
    #: a KeyError or ValueError is shown as "cannot compute")
    compute: Callable[[Tables, "Claim"], float] = field(repr=False)
    #: the disentanglement scores (``SCORES`` labels) the statistic reads; empty: none (C2, C3a, C3b
    #: read only total correlation). A claim that reads scores is gated by the signal rule
    #: (:mod:`~disentangle.analysis.signal`): decided only on the scores that beat their rotated twins
    scores: tuple[str, ...] = ()
    #: the values the statistic can take
    bounds: tuple[float, float] = RANK
    #: the methods the claim speaks of (its statistic reads only them): the table needs one of them with
    #: at least the chapter's ``min_levels`` strength values; empty: every method
    methods: tuple[str, ...] = ()
    requires: Requires = Requires()

    def __post_init__(self) -> None:
        # a claim names methods, datasets and scores of the vocabulary, never new ones
        unknown = ([m for m in self.methods if m not in vocabulary.METHODS]
                   + [d for d in self.requires.all_datasets if d not in vocabulary.DATASETS]
                   + [s for s in self.scores if s not in ALL_SCORES])
        if unknown:
            raise ValueError(f"claim {self.id}: {unknown} not in the vocabulary (vocabulary.py)")

    @property
    def gated(self) -> bool:
        """Whether the signal rule gates the claim (its statistic reads disentanglement scores)."""
        return bool(self.scores)

    def shortfall(self, df: pd.DataFrame, *, min_levels: int = 3) -> str | None:
        """Why the table's layout cannot answer the claim (a dataset, method or enough strength
        values missing); None if it can."""
        need, datasets, methods = self.requires, set(df["dataset"]), set(df["method"])
        if self.methods:
            if not methods & set(self.methods):
                return f"needs one of {', '.join(self.methods)}"
            if _levels(df, self.methods) < min_levels:
                return f"fewer than {min_levels} strength values per method"
        if need.values > 1 and int(df.groupby(["dataset", "method"])["value"].nunique().min()) < need.values:
            return f"needs ≥ {need.values} strength values per method"
        if len(methods) < need.methods:
            return f"needs ≥ {need.methods} methods"
        if len(datasets) < need.datasets:
            return f"needs ≥ {need.datasets} datasets"
        if not set(need.all_datasets) <= datasets:
            return f"needs {' and '.join(dataset_label(d) for d in need.all_datasets)}"
        if need.dsprites_variant and not datasets & set(dsprites_variants()):
            return "needs a dSprites variant"
        return None


def _levels(df: pd.DataFrame, methods: Sequence[str]) -> int:
    sub = df[df["method"].isin(methods)]
    return int(sub.groupby(["dataset", "method"])["value"].nunique().min()) if len(sub) else 0


# ---------------------------------------------------------------------------------------------
# statistics shared by several claims, or too long for a lambda

def _trend(rep: str) -> Callable[[Tables, Claim], float]:
    def stat(t: Tables, claim: Claim) -> float:
        trend = t.trend()
        return nanmean_or_nan(trend.loc[(trend["representation"] == rep) & trend["method"].isin(claim.methods),
                                        "rho"])
    return stat


def _pair_excess(column: str) -> Callable[[Tables, Claim], float]:
    def stat(t: Tables, claim: Claim) -> float:
        s = t.agreement()
        return nanmean_or_nan(s[column] - s["mean_rho_excl_modularity"])
    return stat


def _mean_above_sampled(t: Tables, claim: Claim) -> float:
    f = total_correlation.fraction_mean_above_sampled(t.df)
    return 100 * float(f.loc[f["dataset"] == "all", "fraction"].iloc[0])


def _unsupervised_selection(t: Tables, claim: Claim) -> float:
    means = selection.unsupervised_vs_scores(t.df).groupby("unsupervised")["rho"].mean().abs()
    return float(means.max()) if means.notna().any() else float("nan")


def _dsprites_color(t: Tables, claim: Claim) -> float:
    pair = claim.requires.all_datasets
    mats = selection.dataset_transfer(t.df)
    return nanmean_or_nan([m.loc[pair] if set(pair) <= set(m.index) else np.nan for m in mats.values()])


def _downstream_dsprites(t: Tables, claim: Claim) -> float:
    c = downstream.accuracy_correlation(t.df)
    return nanmean_or_nan(c.loc[c["dataset"].isin(dsprites_variants()) & (c["metric"] != "Modularity"), "rho"])


def _efficiency(t: Tables, claim: Claim) -> float:
    c = downstream.efficiency_correlation(t.df)
    return nanmean_or_nan(c.loc[c["metric"] != "Modularity", "rho"])


def _transfer_cell(metric: str, dataset: str) -> Callable[[Tables, Claim], float]:
    def stat(t: Tables, claim: Claim) -> float:
        rate, _ = transfer.transfer_win_rate(t.scores(), metric=metric, dataset=dataset, n_draws=t.n_draws,
                                             rng=np.random.default_rng(t.seed))
        return 100 * rate
    return stat


def _transfer_claim(metric: str, dataset: str, text: str) -> Claim:
    """C9, one cell of Table 1: the paper's win rate ± 10 points."""
    paper = TABLE1_TRANSFER[(metric, dataset)]
    return Claim(f"C9_{metric}_{dataset}", "05_seeds_and_selection", "§5.4, Table 1", text, f"{paper:g} %",
                 "win rate of the selected configuration vs a random model, in %",
                 Expectation("equivalence", paper, tolerance=10.0), _transfer_cell(metric, dataset), ALL_SCORES,
                 PERCENT, requires=Requires(datasets=2 if dataset == "different" else 1))


# ---------------------------------------------------------------------------------------------
# the registry: claim id → claim, in the paper's (and the verdict page's) order

@dataclass(frozen=True)
class TheoremClaim:
    """C1, the paper's Theorem 1: decided by chapter 1's numerical checks (:func:`disentangle.theory.theorem_checks`),
    not by a statistic of the results table."""

    id: str
    chapter: str
    section: str
    text: str
    paper: str


THEOREM = TheoremClaim("C1", "01_impossibility", "§3, Theorem 1; Appendix A",
                       "Unsupervised disentanglement is unidentifiable without inductive biases.",
                       "Theorem 1: infinitely many bijections f with f(z) ~ z and every ∂f_i/∂z_j ≠ 0")


CLAIMS: dict[str, Claim] = {c.id: c for c in (
    Claim("C2", "03_mean_vs_sampled", "§5.1, Figs 1 left, 8",
          "Sampled-representation TC falls as regularisation strength grows (β-VAE, β-TCVAE).",
          "decreasing on all datasets (figure only)",
          "mean over datasets × {β-VAE, β-TCVAE} of Spearman(strength, median sampled Gaussian TC)",
          Expectation("direction", 0.0, "<"), _trend("sampled"),
          methods=("beta_vae", "beta_tc_vae")),
    Claim("C3a", "03_mean_vs_sampled", "§5.1, Figs 1 right, 9",
          "Mean-representation TC rises with strength (β-VAE, β-TCVAE, FactorVAE).",
          "increasing (figure only)",
          "mean over datasets × {β-VAE, β-TCVAE, FactorVAE} of Spearman(strength, median mean Gaussian TC)",
          Expectation("direction", 0.0, ">"), _trend("mean"),
          methods=("beta_vae", "beta_tc_vae", "factor_vae")),
    Claim("C3b", "03_mean_vs_sampled", "§5.1, Fig 10",
          "For many models the mean-representation TC exceeds the sampled-representation TC.",
          "'a large number of models' (no number)",
          "share of runs with TC(mean) > TC(sampled), in %",
          Expectation("direction", 50.0, ">"), _mean_above_sampled, bounds=PERCENT),
    Claim("C4a", "04_metric_agreement", "§5.2, Figs 2, 12",
          "All metrics except Modularity are positively rank-correlated.",
          "mild to strong positive (figure only)",
          "mean over datasets of the mean off-diagonal Spearman among the 5 non-Modularity scores",
          Expectation("direction", 0.0, ">"),
          lambda t, claim: nanmean_or_nan(t.agreement()["mean_rho_excl_modularity"]), NON_MODULARITY),
    Claim("C4b", "04_metric_agreement", "§5.2, Fig 11",
          "MIG ↔ DCI is among the tightest pairs.",
          "strongest pair on dSprites (figure only)",
          "mean over datasets of ρ(MIG, DCI) − mean off-diagonal ρ (non-Modularity)",
          Expectation("direction", 0.0, ">"), _pair_excess("rho_mig_dci"), NON_MODULARITY),
    Claim("C4c", "04_metric_agreement", "§5.2, Fig 12",
          "BetaVAE ↔ FactorVAE is among the tightest pairs.",
          "especially similar (figure only)",
          "mean over datasets of ρ(BetaVAE, FactorVAE) − mean off-diagonal ρ (non-Modularity)",
          Expectation("direction", 0.0, ">"), _pair_excess("rho_betavae_factorvae"), NON_MODULARITY),
    Claim("C5a", "05_seeds_and_selection", "§5.3, Table 5(a)",
          "The objective alone explains less than half of the score variance.",
          "37 % on average",
          "mean over datasets × 6 scores of R²(score ~ method), in %",
          Expectation("direction", 50.0, "<"),
          lambda t, claim: nanmean_or_nan(t.variance()["method_pct"]), ALL_SCORES, PERCENT,
          requires=Requires(methods=2)),
    Claim("C5b", "05_seeds_and_selection", "§5.3, Table 5(b)",
          "A substantial share of the variance is due to the random seed.",
          "41 % (100 − 59 %)",
          "mean over datasets × 6 scores of 1 − R²(score ~ method × value), in %",
          Expectation("direction", 20.0, ">"),
          lambda t, claim: 100 - nanmean_or_nan(t.variance()["method_x_value_pct"]), ALL_SCORES, PERCENT,
          requires=Requires(values=2)),
    Claim("C6", "05_seeds_and_selection", "§5.3, Figs 3 right, 14",
          "A good run with a bad hyperparameter often beats a bad run with a good one.",
          "'in many cases' (no number)",
          "mean over (dataset, method, score) of P(seed at worst-median value > seed at best-median value), in %",
          Expectation("direction", 10.0, ">"),
          lambda t, claim: nanmean_or_nan(variance.seed_vs_hyperparameter(t.df)["p_bad_beats_good_pct"]),
          ALL_SCORES, PERCENT, requires=Requires(values=2)),
    Claim("C7", "05_seeds_and_selection", "§5.4, Figs 4 left, 13",
          "No method dominates: the best method varies across datasets and metrics.",
          "no consistent winner (figure only)",
          "share of (dataset, score) cells won by the most frequent winning method, in %",
          Expectation("direction", 100.0, "<"),
          lambda t, claim: selection.winner_summary(selection.best_method(t.df))["modal_share_pct"],
          ALL_SCORES, PERCENT, requires=Requires(methods=2)),
    Claim("C8", "05_seeds_and_selection", "§5.4, Figs 4 centre, 16",
          "Unsupervised training scores do not consistently select disentangled models.",
          "'some correlations, no clear pattern'",
          "max over unsupervised scores of |mean over (dataset, score) Spearman|",
          Expectation("direction", 0.5, "<"), _unsupervised_selection, ALL_SCORES, (0.0, 1.0)),
    _transfer_claim("same", "same", "Transfer, same metric & same dataset (different seed)."),
    _transfer_claim("same", "different", "Transfer, same metric & different dataset."),
    _transfer_claim("different", "same", "Transfer, different metric & same dataset."),
    _transfer_claim("different", "different", "Transfer, different metric & different dataset."),
    Claim("C10", "05_seeds_and_selection", "§5.4, Figs 4 right, 17, 18",
          "Good hyperparameters transfer between dSprites and Color-dSprites.",
          "high rank correlation for this pair only (figure only)",
          "mean over scores of Spearman(dSprites, Color-dSprites) of the per-configuration median",
          Expectation("direction", 0.5, ">"), _dsprites_color, ALL_SCORES,
          requires=Requires(all_datasets=("dsprites", "color_dsprites"))),
    Claim("C11", "06_downstream", "§5.5, Figs 5, 19",
          "Metrics (except Modularity) correlate with downstream accuracy on the dSprites variants.",
          "positive (figure only)",
          "mean over dSprites variants × 5 scores × predictors × sizes of Spearman(score, accuracy)",
          Expectation("direction", 0.0, ">"), _downstream_dsprites, NON_MODULARITY,
          requires=Requires(dsprites_variant=True)),
    Claim("C12", "06_downstream", "§5.5, Figs 6, 20–23",
          "Disentanglement does not reliably improve sample efficiency (acc@100 / acc@10k).",
          "weak or inconsistent (figure only)",
          "mean over datasets × 5 scores × predictors of Spearman(score, efficiency)",
          Expectation("direction", 0.3, "<"), _efficiency, NON_MODULARITY),
)}


def chapter_ids(chapter: str) -> list[str]:
    """The ids of the claims chapter ``chapter`` decides, in registry order."""
    return [cid for cid, claim in CLAIMS.items() if claim.chapter == chapter]


def claim_chapters() -> dict[str, list[str]]:
    """Chapter → the ids of the claims it decides, chapters in the order their first claim is registered."""
    out: dict[str, list[str]] = {}
    for cid, claim in CLAIMS.items():
        out.setdefault(claim.chapter, []).append(cid)
    return out
