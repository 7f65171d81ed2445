"""The paper's numbers as data (paper §3–§5; Tables 1, 3, 5), and the shape of a claim's test.

Exact values are copied from the ICML text (arXiv 1811.12359 v4): Table 5(a)/(b)
(percent of score variance explained), the 37 % / 59 % averages, and Table 1
(transfer win rates). The claims C2–C12 (book/design.md, "The paper's conclusions as claims")
are declared in :mod:`.paper_claims`, each with a machine-checkable :class:`Expectation`; the
thresholds that turn a qualitative sentence into a test are *our* operationalisation and are
stated in the ``rule`` text shown in every claims table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd


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
