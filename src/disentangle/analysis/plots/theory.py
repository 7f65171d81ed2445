"""Figures of Theorem 1's checks (chapter 1; the mathematics is :mod:`disentangle.theory`):
(i) marginals, (ii) joint vs product of marginals, (iii) the Jacobian, (iv) the metric
flip, (v) the image of a 2-D grid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ...theory import MARGINALS, joint_over_product
from .style import WIDTH

_COLOURS = {"vertical": "tab:blue", "horizontal": "tab:orange"}


def entangled_grid(grid: Mapping[str, Any]) -> Figure:
    """(v) Left: the grid (and sample) in z-space; right: their images under f, same colours."""
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 4.0), constrained_layout=True)
    m0, m1 = grid["marginals"]
    panels = ((axes[0], "z", "sample", "grid and sample of z", "z"),
              (axes[1], "fz", "sample_image", "their images under f", "f(z)"))
    for ax, key, sample_key, title, var in panels:
        if grid["sample"] is not None:
            points = grid[sample_key]
            ax.scatter(points[:, 0], points[:, 1], s=2, c="0.75", alpha=0.5, rasterized=True, label="sample")
        for line, direction in zip(grid[key], grid["direction"]):
            ax.plot(line[:, 0], line[:, 1], color=_COLOURS[direction], lw=1.2)
        ax.set_title(title)
        ax.set_xlabel(f"{var}, coordinate 1 ({m0})")
        ax.set_ylabel(f"{var}, coordinate 2 ({m1})")
    lims = [min(a.get_xlim()[0] for a in axes), max(a.get_xlim()[1] for a in axes)], \
           [min(a.get_ylim()[0] for a in axes), max(a.get_ylim()[1] for a in axes)]
    for ax in axes:
        ax.set_xlim(*lims[0])
        ax.set_ylim(*lims[1])
    axes[0].plot([], [], color=_COLOURS["vertical"], label="coordinate 1 fixed")
    axes[0].plot([], [], color=_COLOURS["horizontal"], label="coordinate 2 fixed")
    axes[0].legend(loc="upper right", fontsize=8)
    return fig


def marginal_histograms(z: np.ndarray, fz: np.ndarray, marginals: Sequence[str],
                        ks: pd.DataFrame | None = None, max_panels: int = 6) -> Figure:
    """(i) Per coordinate: histograms of z_i and f(z)_i with the marginal density (first max_panels coordinates)."""
    k = min(len(marginals), max_panels)
    ncols = min(k, 3)
    nrows = -(-k // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(WIDTH, 2.8 * nrows), constrained_layout=True, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= k:
            ax.set_visible(False)
            continue
        dist = MARGINALS[marginals[i]]
        lo, hi = dist.ppf(0.001), dist.ppf(0.999)
        edges = np.linspace(lo, hi, 41)
        ax.hist(z[:, i], bins=edges, density=True, histtype="step", lw=1.5, label="z")
        ax.hist(fz[:, i], bins=edges, density=True, histtype="step", lw=1.5, ls="--", label="f(z)")
        xs = np.linspace(lo, hi, 300)
        ax.plot(xs, dist.pdf(xs), color="k", lw=0.8, label="density")
        title = f"coordinate {i}: {marginals[i]}"
        if ks is not None:
            title += f"\nKS p = {ks.loc[i, 'p vs F_i']:.2f}"
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("value")
        ax.set_ylabel("density")
    axes.flat[0].legend(fontsize=8)
    if k < len(marginals):
        fig.suptitle(f"first {k} of {len(marginals)} coordinates", fontsize=10)
    return fig


def joint_vs_product(samples: Mapping[str, np.ndarray], pair: tuple[int, int] = (0, 1), bins: int = 10,
                     n_scatter: int = 3000) -> Figure:
    """(ii) Top: rank scatter (copula) of a coordinate pair per sample; bottom: joint / product of marginals
    on equal-frequency bins (≡ 1 under independence)."""
    i, j = pair
    k = len(samples)
    fig, axes = plt.subplots(2, k, figsize=(WIDTH, 5.2), constrained_layout=True, squeeze=False)
    ratios = {name: joint_over_product(x, i, j, bins) for name, x in samples.items()}
    spread = max(0.5, max(np.abs(r - 1).max() for r, _ in ratios.values()))
    for c, (name, x) in enumerate(samples.items()):
        u = (np.argsort(np.argsort(x[:, [i, j]], axis=0), axis=0) + 0.5) / len(x)
        ax = axes[0, c]
        ax.scatter(u[:n_scatter, 0], u[:n_scatter, 1], s=1.5, alpha=0.5, rasterized=True)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(f"rank of coord {i}")
        ax.set_ylabel(f"rank of coord {j}")
        ax.set_aspect("equal")
        ratio, tv = ratios[name]
        im = axes[1, c].imshow(ratio.T, origin="lower", extent=(0, 1, 0, 1), cmap="RdBu_r",
                               vmin=1 - spread, vmax=1 + spread)
        axes[1, c].set_title(f"joint / product, TV = {tv:.3f}", fontsize=9)
        axes[1, c].set_xlabel(f"rank of coord {i} (binned)")
        axes[1, c].set_ylabel(f"rank of coord {j} (binned)")
    fig.colorbar(im, ax=axes.ravel().tolist(), label="joint / product of marginals", shrink=0.45, anchor=(0.0, 0.05))
    return fig


def _annotated_heatmap(ax, values: np.ndarray, title: str, cmap: str, vmin: float, vmax: float, fmt: str) -> Any:
    im = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    d = len(values)
    if d <= 5:  # annotate small matrices only; larger ones stay readable as colours
        for (r, c), v in np.ndenumerate(values):
            red, green, blue, _ = im.cmap(im.norm(v))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            ax.text(c, r, format(v, fmt), ha="center", va="center", fontsize=9 if d <= 4 else 8,
                    color="white" if dark else "black")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("input coordinate j")
    ax.set_ylabel("output coordinate i")
    ax.set_xticks(range(d))
    ax.set_yticks(range(d))
    return im


def jacobian_heatmaps(checks: Mapping[str, Any], A: np.ndarray) -> Figure:
    """(iii) A, the analytic Jacobian at one sample point, and the share of points where sign(J_ij) = sign(A_ij)."""
    fig, axes = plt.subplots(1, 3, figsize=(WIDTH, 3.2), constrained_layout=True)
    _annotated_heatmap(axes[0], A, "A (Householder)", "RdBu_r", -1, 1, ".2f")
    J = checks["example"]
    lim = np.abs(J).max()
    _annotated_heatmap(axes[1], J, r"$\partial f_i / \partial z_j$ at one sample", "RdBu_r", -lim, lim, ".2f")
    im = _annotated_heatmap(axes[2], checks["sign_match_per_entry"], "share with sign(J) = sign(A)",
                            "viridis", 0, 1, ".2f")
    fig.colorbar(im, ax=axes[2], shrink=0.8)
    return fig


def metric_flip_bars(flip: pd.DataFrame) -> Figure:
    """(iv) Grouped bars: each score of r = z against factors z and against factors f(z)."""
    fig, ax = plt.subplots(figsize=(WIDTH, 3.6), constrained_layout=True)
    x = np.arange(flip.shape[1])
    width = 0.8 / len(flip)
    for k, (label, row) in enumerate(flip.iterrows()):
        bars = ax.bar(x + (k - (len(flip) - 1) / 2) * width, row.values, width, label=f"r = z vs {label}")
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_xticks(x, flip.columns, fontsize=9)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("score")
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(flip))
    return fig
