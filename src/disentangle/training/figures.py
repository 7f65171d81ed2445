"""Pictures of a trained model for the book: latent traversals and reconstructions."""

from __future__ import annotations

import numpy as np

from ..data.base import GroundTruthDataset
from .saved_model import TrainedModel


def latent_kl_per_dimension(model: TrainedModel, images: np.ndarray) -> np.ndarray:
    """Batch-mean KL to N(0, 1) of each latent dimension (study.md §1.1), ``(D,)``:
    dimensions near 0 nats are unused ("collapsed")."""
    mean, logvar = model.encode(images)
    return (0.5 * (mean**2 + np.exp(logvar) - logvar - 1)).mean(0)


def latent_traversal_figure(model: TrainedModel, dataset: GroundTruthDataset, rng: np.random.Generator, *,
                            values: np.ndarray | None = None, kl_sample: int = 256):
    """One row per latent dimension: decode the encoder mean of one random image
    with that dimension set to each of ``values`` (default -2..2 in 9 steps).
    Rows are labelled with the dimension's mean KL; the first column is the input
    image and its reconstruction."""
    import matplotlib.pyplot as plt

    values = np.linspace(-2.0, 2.0, 9) if values is None else np.asarray(values, dtype=np.float32)
    _, x = dataset.sample(1, rng)
    kl = latent_kl_per_dimension(model, dataset.sample(kl_sample, rng)[1])
    base = model.represent_mean(x)[0]
    d = model.latent_dim
    z = np.repeat(base[None, None], d, 0).repeat(len(values), 1)  # (D, V, D)
    for i in range(d):
        z[i, :, i] = values
    images = model.decode(z.reshape(-1, d)).reshape(d, len(values), *x.shape[1:])
    recon = model.reconstruct(x)[0]

    fig, axes = plt.subplots(d, len(values) + 1, figsize=(0.9 * (len(values) + 1), 0.9 * d), squeeze=False)
    for i in range(d):
        for j in range(len(values) + 1):
            img = (x[0] if i == 0 else recon if i == 1 else None) if j == 0 else images[i, j - 1]
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if img is not None:
                ax.imshow(img.squeeze(-1) if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1)
            else:
                ax.axis("off")
        axes[i, 1].set_ylabel(f"z{i}\n{kl[i]:.2f}", rotation=0, ha="right", va="center", fontsize=7)
    axes[0, 0].set_title("input", fontsize=7)
    axes[1, 0].set_title("recon", fontsize=7)
    for j, v in enumerate(values):
        axes[0, j + 1].set_title(f"{v:+.1f}", fontsize=7)
    fig.suptitle("latent traversals (row label: dimension, mean KL in nats)", fontsize=8)
    fig.tight_layout()
    return fig
