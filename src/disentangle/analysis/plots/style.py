"""The house style of the book's figures: page width, one colour per method, the
caption line under every title; showing and saving a figure."""

from __future__ import annotations

import os
from typing import Callable

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.figure import Figure

from ...io import atomic_path
from ...vocabulary import paper_methods

#: the book's page width in inches
WIDTH = 8.0


def add_title(fig: Figure, title: str, caption: str) -> None:
    """``title`` with ``caption`` (the run scale, :func:`~disentangle.analysis.chapters.scale_caption`)
    on a second line."""
    fig.suptitle(f"{title}\n{caption}" if caption else title, fontsize=11)


def method_colours(methods) -> dict[str, tuple]:
    """One colour per method, fixed by the method's place in the paper's list (grey if unknown)."""
    order = paper_methods()
    colours = sns.color_palette("colorblind", len(order))
    return {m: colours[order.index(m)] if m in order else "grey" for m in methods}


def show(make: Callable[[], Figure]) -> None:
    """Build a figure with ``make()`` and show it (``plt.show``: drawn inline in a notebook)."""
    make()
    plt.show()


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: int = 150) -> None:
    """Write ``fig`` atomically (format from the suffix)."""
    suffix = os.path.splitext(str(path))[1].lstrip(".") or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=suffix, bbox_inches="tight")
