"""Traversal figure and per-dimension KL of a trained model."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from disentangle.data.toy import DummyImages  # noqa: E402
from disentangle.training import TrainConfig, load_model, train  # noqa: E402
from disentangle.training.figures import latent_kl_per_dimension, latent_traversal_figure  # noqa: E402


def test_traversal_figure_and_kl(tmp_path):
    data = DummyImages(channels=3, size=16)
    train(TrainConfig("beta_vae", {"beta": 1}, steps=2, batch_size=4, eval_batches=1, device="cpu",
                      progress=False), data, tmp_path)
    model = load_model(tmp_path / "model", device="cpu")
    images = data.sample(32, np.random.default_rng(0))[1]
    kl = latent_kl_per_dimension(model, images)
    mean, logvar = model.encode(images)
    assert kl.shape == (10,) and np.all(kl >= 0)
    assert np.isclose(kl.sum(), (0.5 * (mean**2 + np.exp(logvar) - logvar - 1)).sum(1).mean(), rtol=1e-5)
    fig = latent_traversal_figure(model, data, np.random.default_rng(1), values=np.linspace(-1, 1, 3))
    assert len(fig.axes) == 10 * 4
    fig.savefig(tmp_path / "t.png")
    assert (tmp_path / "t.png").stat().st_size > 0
