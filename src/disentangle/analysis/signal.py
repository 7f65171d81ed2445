"""The signal rule: which disentanglement scores measure alignment in this study (issue 23).

A disentanglement score can only support a claim about disentanglement if it rewards axis
alignment, not the mere information the codes carry: the paper's Theorem 1 (§3) mixes the
latents by a bijection that keeps every bit of information and destroys the alignment, and the
controls table (:func:`disentangle.study.results.load_controls`, :mod:`disentangle.metrics.controls`)
scores each trained run's standardised mean codes and their *rotated twin* (the same codes times a
seeded random rotation, same metric settings and evaluation seeds).

The rule, per (dataset, score), over the runs that have both a standardised and a rotated row
with a finite score:

- n = those runs, k = the runs whose standardised score is *strictly* greater than their twin's;
- the share k / n gets a Wilson score interval (Wilson 1927; it stays inside [0, 1] and is
  honest at small n and at k = n, where the normal interval collapses) at the family-wise 95 %
  level over the table's m scored cells (Bonferroni: z = Φ⁻¹(1 − 0.025 / m), 2.87 for the 12
  cells of two datasets × six scores). Per cell at 95 %, a study without alignment would show
  signal somewhere about one time in five (``benchmarks/results/signal_gate_calibration.md``);
  corrected, about one in forty;
- the score has **signal** on that dataset when the interval's lower bound is above 0.5: more
  runs beat their twin than a coin would give, beyond sampling error. A score never scored
  (n = 0) has no signal. k/n = 1 gives the lower bound n / (n + z²): at m = 12 cells a dataset
  needs at least 9 runs with twins even when every one beats its twin.

Scores without signal are set aside by the claims gate (:func:`disentangle.analysis.claims.claims_table`,
keyword ``signal``): a claim about disentanglement scores is decided only on the scores with signal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import vocabulary
from ..study.columns import CONTROL_COLUMNS, SCORES

#: the two-sided 95 % normal quantile of the Wilson interval
Z95 = 1.959963984540054
#: a score has signal when the Wilson lower bound of its beat-the-twin share exceeds this
CHANCE = 0.5
COLUMNS = ("dataset", "score", "column", "n", "beats", "share", "lo", "hi", "signal",
           "median_trained", "median_rotated", "median_untrained")


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial share ``k / n`` (NaN, NaN when ``n`` is 0)."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def _median(values: pd.Series) -> float:
    values = pd.to_numeric(values, errors="coerce").dropna()
    return float(values.median()) if len(values) else float("nan")


def family_z(cells: int, level: float = 0.95) -> float:
    """The normal quantile of a two-sided Bonferroni interval over ``cells`` intervals at family ``level``."""
    from scipy.stats import norm

    return float(norm.ppf(1 - (1 - level) / (2 * max(1, cells))))


def signal_table(controls: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, score) the beat-the-twin share and whether the score has signal (module rule).

    ``controls``: the controls table (``columns.CONTROL_COLUMNS`` + score columns). Columns
    :data:`COLUMNS`: dataset, score (paper label), column, n (runs with both rows scored),
    beats (k), share, lo, hi (Wilson, family-wise 95 % over the scored cells), signal, and the medians of the standardised, rotated
    and untrained rows (NaN where there are none). Empty (columns only) without controls.
    """
    missing = [c for c in CONTROL_COLUMNS if c not in controls.columns]
    if missing:
        raise KeyError(f"controls table lacks column(s) {missing}")
    kind = controls["control"]
    trained, rotated, untrained = (controls[kind == k] for k in ("standardised", "rotated", "untrained"))
    key = ["dataset", "run_id"]
    rows = []
    for dataset in sorted(pd.unique(controls["dataset"]), key=vocabulary.sweep_position):
        std = trained[trained["dataset"] == dataset]
        rot = rotated[rotated["dataset"] == dataset]
        raw = untrained[untrained["dataset"] == dataset]
        for label, col in SCORES.items():
            if col not in controls.columns:
                std_s = rot_s = raw_s = pd.Series(dtype=float)
                pairs = pd.DataFrame(columns=["std", "rot"], dtype=float)
            else:
                std_s, rot_s, raw_s = std[col], rot[col], raw[col]
                pairs = std[[*key, col]].rename(columns={col: "std"}).merge(
                    rot[[*key, col]].rename(columns={col: "rot"}), on=key, validate="one_to_one")
                pairs = pairs[["std", "rot"]].apply(pd.to_numeric, errors="coerce").dropna()
            n, k = len(pairs), int((pairs["std"] > pairs["rot"]).sum())
            rows.append({"dataset": dataset, "score": label, "column": col, "n": n, "beats": k,
                         "share": k / n if n else float("nan"),
                         "median_trained": _median(std_s), "median_rotated": _median(rot_s),
                         "median_untrained": _median(raw_s)})
    z = family_z(sum(r["n"] > 0 for r in rows))
    for r in rows:
        r["lo"], r["hi"] = wilson_interval(r["beats"], r["n"], z)
        r["signal"] = bool(r["n"] > 0 and r["lo"] > CHANCE)
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype({"n": int, "beats": int, "signal": bool})


def signal_mask(table: pd.DataFrame) -> dict[str, set[str]]:
    """Dataset → the score columns with signal there (every dataset of ``table``, possibly empty sets)."""
    return {dataset: set(g.loc[g["signal"].astype(bool), "column"])
            for dataset, g in table.groupby("dataset", sort=False)}


def signal_view(table: pd.DataFrame) -> pd.DataFrame:
    """The signal table as the book shows it: one row per dataset, one column per score, cells
    ``"k/n = share [lo, hi] ✓"`` (✓ signal, ✗ none, "not scored" when n is 0)."""
    def cell(r) -> str:
        if r.n == 0:
            return "not scored"
        mark = "✓ signal" if r.signal else "✗ no signal"
        return f"{r.beats}/{r.n} = {100 * r.share:.0f} % [{100 * r.lo:.0f}, {100 * r.hi:.0f}] {mark}"

    if table.empty:
        return pd.DataFrame(columns=list(SCORES)).rename_axis(index="dataset")
    cells = table.assign(cell=[cell(r) for r in table.itertuples()])
    out = cells.pivot(index="dataset", columns="score", values="cell")
    out = out.reindex(index=list(dict.fromkeys(table["dataset"])), columns=[s for s in SCORES if s in out.columns])
    out.index = out.index.map(vocabulary.dataset_label)
    return out.rename_axis(index="dataset", columns=None)
