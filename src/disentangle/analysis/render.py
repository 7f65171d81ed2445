"""Rendering analysis tables for the book without optional dependencies
(no ``tabulate``: pandas' ``to_markdown`` needs it; we do not)."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

#: background colours of the verdict cells
VERDICT_COLOURS = {"agrees": "#d4edda", "disagrees": "#f8d7da", "inconclusive": "#e2e3e5"}


def _cell(value, floatfmt: str) -> str:
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_, numbers.Integral)):
        return "n/a" if not np.isfinite(value) else format(value, floatfmt)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(table: pd.DataFrame, *, floatfmt: str = ".2f", index: bool = False) -> str:
    """A GitHub/MyST pipe table; NaN shown as ``n/a``."""
    frame = table.reset_index() if index else table
    header = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(h.replace("|", "\\|") for h in header) + " |",
             "| " + " | ".join("---" for _ in header) + " |"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v, floatfmt) for v in row) + " |")
    return "\n".join(lines) + "\n"


def styled(table: pd.DataFrame, *, verdict_column: str = "agrees?", precision: int = 2,
           caption: str | None = None) -> Styler:
    """A pandas Styler (HTML in notebooks) colouring the verdict column; hides the index."""
    styler = table.style.format(precision=precision, na_rep="n/a").hide(axis="index")
    if verdict_column in table.columns:
        styler = styler.map(lambda v: f"background-color: {VERDICT_COLOURS.get(v, 'transparent')}",
                            subset=[verdict_column])
    if caption:
        styler = styler.set_caption(caption)
    return styler
