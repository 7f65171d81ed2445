"""The paper's numbers and claims as data (paper §3–§5; Tables 1, 3, 5).

Exact values are copied from the ICML text (arXiv 1811.12359 v4): Table 5(a)/(b)
(percent of score variance explained), the 37 % / 59 % averages, and Table 1
(transfer win rates). The qualitative claims C2–C12 (book/design.md, "The paper's conclusions as claims") carry a
machine-checkable :class:`Expectation`; the thresholds that turn a qualitative
sentence into a test are *our* operationalisation and are stated in the
``rule`` text shown in every claims table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from .. import vocabulary

#: Table 5 as printed (rows in the paper's order), one CSV next to this module
TABLE5_FILE = Path(__file__).with_name("table5.csv")


def _table5(which: str) -> pd.DataFrame:
    table = pd.read_csv(TABLE5_FILE)
    frame = table[table["table"] == which].drop(columns="table").set_index("dataset")
    frame.columns.name = "metric"
    return frame.astype("int64")


#: Table 5(a): percent of variance explained by the objective alone (paper §5.3)
TABLE5_METHOD = _table5("method")
#: Table 5(b): percent of variance explained by objective × strength (36 categories)
TABLE5_METHOD_X_VALUE = _table5("method_x_value")
#: the averages quoted in the text (percent): objective 37 %, objective × strength 59 %
VARIANCE_EXPLAINED_AVERAGE = {"method": 37.0, "method_x_value": 59.0}

#: Table 1 (= Table 6): transfer win rates in percent, keyed (metric, dataset) ∈ {"same", "different"}²
TABLE1_TRANSFER: dict[tuple[str, str], float] = {
    ("same", "same"): 80.7,
    ("same", "different"): 59.3,
    ("different", "same"): 62.6,
    ("different", "different"): 54.9,
}
#: number of random draws in the paper's transfer procedure
TRANSFER_DRAWS = 10_000


@dataclass(frozen=True)
class Expectation:
    """A machine-checkable reading of a claim.

    ``kind="direction"``: the statistic should lie on the ``relation`` side of
    ``threshold`` (e.g. ``"<", 0`` = negative). ``kind="equivalence"``: the
    statistic should lie within ``threshold ± tolerance`` (used for the exact
    Table 1 numbers).
    """

    kind: Literal["direction", "equivalence"]
    threshold: float
    relation: Literal["<", ">"] | None = None
    tolerance: float | None = None

    def __post_init__(self) -> None:
        if self.kind == "direction" and self.relation not in ("<", ">"):
            raise ValueError("a direction expectation needs relation '<' or '>'")
        if self.kind == "equivalence" and (self.tolerance is None or self.tolerance <= 0):
            raise ValueError("an equivalence expectation needs a positive tolerance")

    @property
    def rule(self) -> str:
        if self.kind == "direction":
            return f"statistic {self.relation} {self.threshold:g}"
        return f"statistic within {self.threshold:g} ± {self.tolerance:g}"


@dataclass(frozen=True)
class Claim:
    """One testable claim (book/design.md, "The paper's conclusions as claims"): what the paper says, what we measure."""

    id: str
    section: str
    text: str
    paper: str
    statistic: str
    expectation: Expectation
    #: the disentanglement scores (``SCORES`` labels) the statistic reads; empty: none (C2, C3a, C3b
    #: read only total correlation). A claim that reads scores is gated by the signal rule
    #: (:mod:`~disentangle.analysis.signal`): decided only on the scores that beat their rotated twins
    scores: tuple[str, ...] = ()

    @property
    def gated(self) -> bool:
        """Whether the signal rule gates the claim (its statistic reads disentanglement scores)."""
        return bool(self.scores)


#: every disentanglement score, and those the paper's agreement and downstream claims average over
ALL_SCORES = tuple(vocabulary.scores("disentanglement"))
NON_MODULARITY = tuple(s for s in ALL_SCORES if s != "Modularity")


CLAIMS: dict[str, Claim] = {c.id: c for c in (
    Claim("C2", "§5.1, Figs 1 left, 8",
          "Sampled-representation TC falls as regularisation strength grows (β-VAE, β-TCVAE).",
          "decreasing on all datasets (figure only)",
          "mean over datasets × {β-VAE, β-TCVAE} of Spearman(strength, median sampled Gaussian TC)",
          Expectation("direction", 0.0, "<")),
    Claim("C3a", "§5.1, Figs 1 right, 9",
          "Mean-representation TC rises with strength (β-VAE, β-TCVAE, FactorVAE).",
          "increasing (figure only)",
          "mean over datasets × {β-VAE, β-TCVAE, FactorVAE} of Spearman(strength, median mean Gaussian TC)",
          Expectation("direction", 0.0, ">")),
    Claim("C3b", "§5.1, Fig 10",
          "For many models the mean-representation TC exceeds the sampled-representation TC.",
          "'a large number of models' (no number)",
          "share of runs with TC(mean) > TC(sampled), in %",
          Expectation("direction", 50.0, ">")),
    Claim("C4a", "§5.2, Figs 2, 12",
          "All metrics except Modularity are positively rank-correlated.",
          "mild to strong positive (figure only)",
          "mean over datasets of the mean off-diagonal Spearman among the 5 non-Modularity scores",
          Expectation("direction", 0.0, ">"), NON_MODULARITY),
    Claim("C4b", "§5.2, Fig 11",
          "MIG ↔ DCI is among the tightest pairs.",
          "strongest pair on dSprites (figure only)",
          "mean over datasets of ρ(MIG, DCI) − mean off-diagonal ρ (non-Modularity)",
          Expectation("direction", 0.0, ">"), NON_MODULARITY),
    Claim("C4c", "§5.2, Fig 12",
          "BetaVAE ↔ FactorVAE is among the tightest pairs.",
          "especially similar (figure only)",
          "mean over datasets of ρ(BetaVAE, FactorVAE) − mean off-diagonal ρ (non-Modularity)",
          Expectation("direction", 0.0, ">"), NON_MODULARITY),
    Claim("C5a", "§5.3, Table 5(a)",
          "The objective alone explains less than half of the score variance.",
          "37 % on average",
          "mean over datasets × 6 scores of R²(score ~ method), in %",
          Expectation("direction", 50.0, "<"), ALL_SCORES),
    Claim("C5b", "§5.3, Table 5(b)",
          "A substantial share of the variance is due to the random seed.",
          "41 % (100 − 59 %)",
          "mean over datasets × 6 scores of 1 − R²(score ~ method × value), in %",
          Expectation("direction", 20.0, ">"), ALL_SCORES),
    Claim("C6", "§5.3, Figs 3 right, 14",
          "A good run with a bad hyperparameter often beats a bad run with a good one.",
          "'in many cases' (no number)",
          "mean over (dataset, method, score) of P(seed at worst-median value > seed at best-median value), in %",
          Expectation("direction", 10.0, ">"), ALL_SCORES),
    Claim("C7", "§5.4, Figs 4 left, 13",
          "No method dominates: the best method varies across datasets and metrics.",
          "no consistent winner (figure only)",
          "share of (dataset, score) cells won by the most frequent winning method, in %",
          Expectation("direction", 100.0, "<"), ALL_SCORES),
    Claim("C8", "§5.4, Figs 4 centre, 16",
          "Unsupervised training scores do not consistently select disentangled models.",
          "'some correlations, no clear pattern'",
          "max over unsupervised scores of |mean over (dataset, score) Spearman|",
          Expectation("direction", 0.5, "<"), ALL_SCORES),
    Claim("C9_same_same", "§5.4, Table 1",
          "Transfer, same metric & same dataset (different seed).",
          "80.7 %",
          "win rate of the selected configuration vs a random model, in %",
          Expectation("equivalence", 80.7, tolerance=10.0), ALL_SCORES),
    Claim("C9_same_different", "§5.4, Table 1",
          "Transfer, same metric & different dataset.",
          "59.3 %",
          "win rate of the selected configuration vs a random model, in %",
          Expectation("equivalence", 59.3, tolerance=10.0), ALL_SCORES),
    Claim("C9_different_same", "§5.4, Table 1",
          "Transfer, different metric & same dataset.",
          "62.6 %",
          "win rate of the selected configuration vs a random model, in %",
          Expectation("equivalence", 62.6, tolerance=10.0), ALL_SCORES),
    Claim("C9_different_different", "§5.4, Table 1",
          "Transfer, different metric & different dataset.",
          "54.9 %",
          "win rate of the selected configuration vs a random model, in %",
          Expectation("equivalence", 54.9, tolerance=10.0), ALL_SCORES),
    Claim("C10", "§5.4, Figs 4 right, 17, 18",
          "Good hyperparameters transfer between dSprites and Color-dSprites.",
          "high rank correlation for this pair only (figure only)",
          "mean over scores of Spearman(dSprites, Color-dSprites) of the per-configuration median",
          Expectation("direction", 0.5, ">"), ALL_SCORES),
    Claim("C11", "§5.5, Figs 5, 19",
          "Metrics (except Modularity) correlate with downstream accuracy on the dSprites variants.",
          "positive (figure only)",
          "mean over dSprites variants × 5 scores × predictors × sizes of Spearman(score, accuracy)",
          Expectation("direction", 0.0, ">"), NON_MODULARITY),
    Claim("C12", "§5.5, Figs 6, 20–23",
          "Disentanglement does not reliably improve sample efficiency (acc@100 / acc@10k).",
          "weak or inconsistent (figure only)",
          "mean over datasets × 5 scores × predictors of Spearman(score, efficiency)",
          Expectation("direction", 0.3, "<"), NON_MODULARITY),
)}

