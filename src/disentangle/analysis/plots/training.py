"""Figures of trained models (chapter 2): training curves from the trainer's logs,
reconstructions, and latent traversals (with each dimension's KL).

Models are anything with the :class:`~disentangle.training.TrainedModel` methods
used here (``represent_mean``, ``decode``, ``reconstruct``, ``encode``).
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ...vocabulary import method_label, paper_methods
from .style import WIDTH, add_title, method_colours

#: loss parts shown as training curves (names of the trainer's log entries, `methods/unsupervised/train.py`)
CURVE_PARTS = ("loss", "reconstruction_loss", "kl_loss", "regularizer")


def training_curves(logs: pd.DataFrame, *, caption: str) -> Figure:
    """Training curves: each loss part (nats per image, averaged over ``log_every``
    steps) against the global step, one line per run, coloured by method."""
    if logs.empty:
        raise ValueError("no training logs to plot")
    parts = [p for p in CURVE_PARTS if p in set(logs["part"])]
    palette = method_colours(logs["method"].unique())
    fig, axes = plt.subplots(1, len(parts), figsize=(WIDTH, 3.2), layout="constrained", squeeze=False)
    for ax, part in zip(axes[0], parts):
        sub = logs[logs["part"] == part]
        for (method, value, seed, dataset), g in sub.groupby(["method", "value", "seed", "dataset"], sort=True):
            ax.plot(g["global_step"], g["nats"], color=palette[method], lw=1, alpha=0.7)
        ax.set_title(part.replace("_", " "), fontsize=10)
        ax.set_xlabel("global step")
        ax.ticklabel_format(axis="y", useOffset=False)
    axes[0][0].set_ylabel("nats per image")
    handles = [plt.Line2D([], [], color=palette[m], label=method_label(m))
               for m in paper_methods() if m in palette]
    axes[0][-1].legend(handles=handles, fontsize=7)
    add_title(fig, "Training curves (one line per run)", caption)
    return fig


def _show_image(ax, image: np.ndarray) -> None:
    ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])


def reconstructions(models: Sequence, labels: Sequence[str], images: np.ndarray, *, caption: str) -> Figure:
    """Inputs (top row) and each model's reconstruction of them (one row per model)."""
    if len(models) != len(labels):
        raise ValueError("need one label per model")
    n = len(images)
    rows = [images, *[m.reconstruct(images) for m in models]]
    names = ["input", *labels]
    fig, axes = plt.subplots(len(rows), n, figsize=(WIDTH, WIDTH / n * len(rows) * 1.05 + 0.6),
                             squeeze=False, layout="constrained")
    for i, (row, name) in enumerate(zip(rows, names)):
        for j in range(n):
            _show_image(axes[i][j], row[j])
        axes[i][0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    add_title(fig, "Reconstructions (decoder mean of the encoder mean)", caption)
    return fig


def traversal_grid(model, image: np.ndarray, *, span: float = 2.0, steps: int = 7) -> np.ndarray:
    """Latent traversal of one image: for each latent dimension, decode the encoder
    mean with that dimension set to ``steps`` values in [-span, span];
    shape (latent_dim, steps, H, W, C)."""
    if span <= 0 or steps < 2:
        raise ValueError("span must be > 0 and steps >= 2")
    z = model.represent_mean(image[None])[0]
    grid = np.repeat(z[None, None], model.latent_dim, axis=0).repeat(steps, axis=1)
    values = np.linspace(-span, span, steps)
    for d in range(model.latent_dim):
        grid[d, :, d] = values
    decoded = model.decode(grid.reshape(-1, model.latent_dim))
    return decoded.reshape(model.latent_dim, steps, *decoded.shape[1:])


def latent_kl_per_dimension(model, images: np.ndarray) -> np.ndarray:
    """Batch-mean KL to N(0, 1) of each latent dimension (`methods/unsupervised/vae.py: BaseVAE`), ``(D,)``:
    dimensions near 0 nats are unused ("collapsed")."""
    mean, logvar = model.encode(images)
    return (0.5 * (mean**2 + np.exp(logvar) - logvar - 1)).mean(0)


def latent_traversals(model, image: np.ndarray, *, label: str, caption: str, span: float = 2.0,
                      steps: int = 7, kl_per_dim: np.ndarray | None = None) -> Figure:
    """One row per latent dimension: the decoded image as that dimension sweeps
    [-span, span] (others at the encoder mean of ``image``); ``kl_per_dim`` (from
    :func:`latent_kl_per_dimension`), if given, labels each row with its KL."""
    grid = traversal_grid(model, image, span=span, steps=steps)
    dims = grid.shape[0]
    fig, axes = plt.subplots(dims, steps, figsize=(WIDTH * 0.6, WIDTH * 0.6 / steps * dims + 0.7),
                             squeeze=False, layout="constrained")
    for d in range(dims):
        for j in range(steps):
            _show_image(axes[d][j], grid[d, j])
        row = f"z{d}" if kl_per_dim is None else f"z{d}\n{kl_per_dim[d]:.2f} nats"
        axes[d][0].set_ylabel(row, rotation=0, ha="right", va="center", fontsize=8)
    for j, v in enumerate(np.linspace(-span, span, steps)):
        axes[-1][j].set_xlabel(f"{v:+.1f}", fontsize=7)
    add_title(fig, f"Latent traversals — {label}", caption)
    return fig
