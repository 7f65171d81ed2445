import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from disentangle import theory  # noqa: E402
from disentangle.analysis import correlation, plots, selection, variance  # noqa: E402
from disentangle.analysis.claims import scale_note  # noqa: E402
from disentangle.analysis.synthetic import synthetic_results  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def df():
    return synthetic_results(["dsprites", "noisy_dsprites"], seed=0, seeds=2, values_per_method=3)


def test_every_figure_builds_and_saves(df, tmp_path):
    caption = scale_note(df)
    figures = {
        "tc": plots.tc_vs_strength(df, dataset="dsprites", caption=caption),
        "tc_scatter": plots.tc_mean_vs_sampled(df, caption=caption),
        "heat": plots.correlation_heatmaps(correlation.score_correlation(df), caption=caption),
        "pairs": plots.score_pairs(df, dataset="dsprites", caption=caption),
        "violins": plots.scores_by_method(df, dataset="dsprites", metric="FactorVAE", caption=caption),
        "transfer": plots.transfer_heatmap(selection.dataset_transfer(df)["DCI"], metric="DCI", caption=caption),
        "downstream": plots.downstream_vs_size(df, dataset="dsprites", caption=caption),
        "efficiency": plots.efficiency_vs_score(df, dataset="noisy_dsprites", metric="MIG", caption=caption),
        "variance": plots.variance_vs_paper(variance.variance_explained(df), caption=caption),
    }
    for name, fig in figures.items():
        assert isinstance(fig, Figure)
        assert fig.get_size_inches()[0] <= 8.5
        assert caption.split(";")[0] in fig._suptitle.get_text()
        plots.save_figure(fig, tmp_path / f"{name}.png", dpi=40)
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
        plt.close(fig)


def test_bad_plot_arguments(df):
    with pytest.raises(ValueError, match="cars3d"):
        plots.tc_vs_strength(df, dataset="cars3d", caption="")
    with pytest.raises(ValueError, match="metric"):
        plots.scores_by_method(df, dataset="dsprites", metric="Accuracy", caption="")


def test_rho_heatmaps_one_panel_per_dataset():
    table = pd.DataFrame({"dataset": ["dsprites"] * 2 + ["cars3d"] * 2, "row": ["a", "b"] * 2,
                          "col": ["x", "x", "x", "x"], "rho": [0.5, -0.2, 0.1, np.nan]})
    fig = plots.rho_heatmaps(table, rows="row", cols="col", caption="s", title="t")
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert titles == ["dSprites", "Cars3D"]
    assert fig._suptitle.get_text() == "t\ns"


def test_efficiency_artefact_plot_circles_flagged_runs():
    df = synthetic_results(("noisy_dsprites",), ("beta_vae", "annealed_vae"), 6, 5, seed=2)
    fig = plots.efficiency_artefact(df, dataset="noisy_dsprites", caption="s")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "low-accuracy artefact" in labels


def test_method_colours_follow_the_paper_order_and_captions_go_under_titles():
    colours = plots.method_colours(["factor_vae", "beta_vae", "a_new_method"])
    assert colours["a_new_method"] == "grey" and colours["beta_vae"] != colours["factor_vae"]
    assert plots.method_colours(["factor_vae"])["factor_vae"] == colours["factor_vae"]
    fig = plt.figure()
    plots.add_title(fig, "title", "")
    assert fig._suptitle.get_text() == "title"
    plots.add_title(fig, "title", "scale ci")
    assert fig._suptitle.get_text() == "title\nscale ci"


class _LinearModel:
    """A stand-in trained model: code = first 3 pixels, image = code tiled."""

    latent_dim = 3

    def represent_mean(self, x):
        return np.asarray(x).reshape(len(x), -1)[:, :3].astype(np.float32)

    def encode(self, x):
        mean = self.represent_mean(x)
        return mean, np.zeros_like(mean)

    def decode(self, z):
        z = np.asarray(z, dtype=np.float32)
        return np.tile(z[:, None, None, :1], (1, 4, 4, 1)) + 10 * z[:, 1, None, None, None] \
            + 100 * z[:, 2, None, None, None]

    def reconstruct(self, x):
        return self.decode(self.represent_mean(x))


def test_traversal_changes_one_dimension_per_row():
    image = np.zeros((4, 4, 1), np.float32)
    image.flat[:3] = [0.1, 0.2, 0.3]
    grid = plots.traversal_grid(_LinearModel(), image, span=1.0, steps=3)
    assert grid.shape == (3, 3, 4, 4, 1)
    # row d sweeps z_d over [-1, 0, 1] with the others at the encoding (0.1, 0.2, 0.3)
    np.testing.assert_allclose(grid[0, :, 0, 0, 0], np.array([-1, 0, 1]) + 2 + 30, rtol=1e-6)
    np.testing.assert_allclose(grid[2, :, 0, 0, 0], 0.1 + 2 + 100 * np.array([-1, 0, 1]), rtol=1e-6)
    with pytest.raises(ValueError, match="span"):
        plots.traversal_grid(_LinearModel(), image, span=0)
    fig = plots.latent_traversals(_LinearModel(), image, label="m", caption="s", span=1.0, steps=3)
    assert len(fig.axes) == 9
    assert [fig.axes[3 * d].get_ylabel() for d in range(3)] == ["z0", "z1", "z2"]
    fig = plots.reconstructions([_LinearModel()], ["m"], np.stack([image, image]), caption="s")
    assert len(fig.axes) == 4


def test_traversal_rows_carry_each_dimensions_kl():
    images = np.zeros((2, 4, 4, 1), np.float32)
    images[0].flat[:3] = [1.0, 2.0, 0.0]
    images[1].flat[:3] = [-1.0, 0.0, 0.0]
    model = _LinearModel()
    # unit variance (logvar 0): KL_d = mean over images of mean_d² / 2
    kl = plots.latent_kl_per_dimension(model, images)
    np.testing.assert_allclose(kl, [0.5, 1.0, 0.0])
    fig = plots.latent_traversals(model, images[0], label="m", caption="s", steps=2, kl_per_dim=kl)
    assert [fig.axes[2 * d].get_ylabel() for d in range(3)] == ["z0\n0.50 nats", "z1\n1.00 nats", "z2\n0.00 nats"]


def test_kl_per_dimension_of_a_trained_model(tmp_path):
    from disentangle.data.toy import DummyImages
    from disentangle.training import TrainConfig, load_model, train

    data = DummyImages(channels=3, size=16)
    train(TrainConfig("beta_vae", {"beta": 1}, steps=2, batch_size=4, eval_batches=1, device="cpu",
                      progress=False), data, tmp_path)
    model = load_model(tmp_path / "model", device="cpu")
    images = data.sample(32, np.random.default_rng(0))[1]
    kl = plots.latent_kl_per_dimension(model, images)
    mean, logvar = model.encode(images)
    assert kl.shape == (10,) and np.all(kl >= 0)
    assert np.isclose(kl.sum(), (0.5 * (mean**2 + np.exp(logvar) - logvar - 1)).sum(1).mean(), rtol=1e-5)
    fig = plots.latent_traversals(model, images[0], label="β-VAE", caption="s", steps=3, kl_per_dim=kl)
    assert len(fig.axes) == 10 * 3
    plots.save_figure(fig, tmp_path / "t.png", dpi=40)
    assert (tmp_path / "t.png").stat().st_size > 1000


def test_theorem_figures_build():
    fmap = theory.EntanglingMap(["uniform", "exponential", "beta"], alpha=0.3)
    rng = np.random.default_rng(0)
    z, z_ref = (theory.sample_latents(fmap.marginals, 2000, rng) for _ in range(2))
    fz = fmap(z)
    ks = theory.ks_checks(fz, fmap.marginals, z_ref)
    flip = pd.DataFrame({"MIG": [0.9, 0.1], "DCI disentanglement": [0.9, 0.2]},
                        index=["factors = z", "factors = f(z)"])
    grid = theory.grid_image(theory.EntanglingMap(["uniform", "exponential"], 0.3), 3, 20, z[:50, :2])
    figures = {
        "grid": plots.entangled_grid(grid),
        "marginals": plots.marginal_histograms(z, fz, fmap.marginals, ks),
        "joint": plots.joint_vs_product({"z": z, "f(z)": fz}),
        "jacobian": plots.jacobian_heatmaps(theory.jacobian_checks(fmap, z[:50]), fmap.A),
        "flip": plots.metric_flip_bars(flip),
    }
    assert all(isinstance(f, Figure) and f.get_size_inches()[0] == plots.WIDTH for f in figures.values())
    assert [ax.get_title() for ax in figures["grid"].axes] == ["grid and sample of z", "their images under f"]
    assert figures["marginals"].axes[0].get_title() == f"coordinate 0: uniform\nKS p = {ks.loc[0, 'p vs F_i']:.2f}"
    assert len(figures["flip"].axes[0].patches) == 2 * 2  # one bar per (factors, score)


def test_dataset_pictures_show_samples_and_one_row_per_factor():
    from disentangle.data.toy import DummyImages

    dataset = DummyImages(size=8)
    fig = plots.dataset_samples(dataset, n=5, rng=np.random.default_rng(0))
    assert len(fig.axes) == 6 and sum(ax.axison for ax in fig.axes) == 5  # 2 rows of 3, 5 shown
    fig = plots.factor_traversals(dataset, rng=np.random.default_rng(0), steps=4)
    assert len(fig.axes) == dataset.num_factors * 4
    assert [fig.axes[4 * k].get_ylabel() for k in range(dataset.num_factors)] == list(dataset.factor_names)
    with pytest.raises(ValueError, match="base_factors must have 10 entries"):
        plots.factor_traversals(dataset, base_factors=np.zeros(3))
