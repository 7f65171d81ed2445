"""Figures of a ground-truth dataset (chapter 2): random samples and factor traversals."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ...data.base import GroundTruthDataset, Rng


def _show(ax, image: np.ndarray) -> None:
    if image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(np.clip(image, 0.0, 1.0), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def dataset_samples(dataset: GroundTruthDataset, n: int = 16, rng: Rng | None = None) -> Figure:
    """A square-ish grid of ``n`` random observations, titled with the dataset label."""
    rng = np.random.default_rng(0) if rng is None else rng
    _, images = dataset.sample(n, rng)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols, 1.2 * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image in zip(axes.ravel(), images):
        ax.axis("on")
        _show(ax, image)
    fig.suptitle(f"{dataset.label}: random samples")
    fig.tight_layout()
    return fig


def factor_traversals(
    dataset: GroundTruthDataset, rng: Rng | None = None, base_factors: np.ndarray | None = None, steps: int = 10
) -> Figure:
    """One row per factor: that factor swept over (up to ``steps``) evenly spaced values,
    the others held at ``base_factors`` (a random draw by default)."""
    rng = np.random.default_rng(0) if rng is None else rng
    base = dataset.sample_factors(1, rng)[0] if base_factors is None else np.asarray(base_factors, np.int64)
    if base.shape != (dataset.num_factors,):
        raise ValueError(f"base_factors must have {dataset.num_factors} entries, got shape {base.shape}")
    cols = min(steps, max(dataset.factor_sizes))
    fig, axes = plt.subplots(
        dataset.num_factors, cols, figsize=(1.1 * cols + 1.2, 1.1 * dataset.num_factors + 0.4), squeeze=False
    )
    for k, (name, size) in enumerate(zip(dataset.factor_names, dataset.factor_sizes)):
        values = np.unique(np.linspace(0, size - 1, min(cols, size)).round().astype(np.int64))
        factors = np.repeat(base[None], len(values), axis=0)
        factors[:, k] = values
        images = dataset.observations(factors, rng)
        for j in range(cols):
            ax = axes[k, j]
            if j < len(values):
                _show(ax, images[j])
                ax.set_xlabel(str(values[j]), fontsize=7, labelpad=1)
            else:
                ax.axis("off")
        axes[k, 0].set_ylabel(name, fontsize=8)
    fig.suptitle(f"{dataset.label}: factor traversals (base {base.tolist()})")
    fig.tight_layout()
    return fig
