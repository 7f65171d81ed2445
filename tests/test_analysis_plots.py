import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from disentangle.analysis import correlation, plots, selection, variance  # noqa: E402
from disentangle.analysis.claims import scale_note  # noqa: E402
from disentangle.analysis.synthetic import synthetic_results  # noqa: E402


@pytest.fixture(scope="module")
def df():
    return synthetic_results(["dsprites", "noisy_dsprites"], seed=0, seeds=2, values_per_method=3)


def test_every_figure_builds_and_saves(df, tmp_path):
    scale = scale_note(df)
    figures = {
        "tc": plots.tc_vs_strength(df, dataset="dsprites", scale=scale),
        "tc_scatter": plots.tc_mean_vs_sampled(df, scale=scale),
        "heat": plots.correlation_heatmaps(correlation.score_correlation(df), scale=scale),
        "pairs": plots.score_pairs(df, dataset="dsprites", scale=scale),
        "violins": plots.scores_by_method(df, dataset="dsprites", metric="FactorVAE", scale=scale),
        "transfer": plots.transfer_heatmap(selection.dataset_transfer(df)["DCI"], metric="DCI", scale=scale),
        "downstream": plots.downstream_vs_size(df, dataset="dsprites", scale=scale),
        "efficiency": plots.efficiency_vs_score(df, dataset="noisy_dsprites", metric="MIG", scale=scale),
        "variance": plots.variance_vs_paper(variance.variance_explained(df), scale=scale),
    }
    for name, fig in figures.items():
        assert isinstance(fig, Figure)
        assert fig.get_size_inches()[0] <= 8.5
        assert scale.split(";")[0] in fig._suptitle.get_text()
        plots.save_figure(fig, tmp_path / f"{name}.png", dpi=40)
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
        plt.close(fig)


def test_bad_plot_arguments(df):
    with pytest.raises(ValueError, match="cars3d"):
        plots.tc_vs_strength(df, dataset="cars3d", scale="")
    with pytest.raises(ValueError, match="metric"):
        plots.scores_by_method(df, dataset="dsprites", metric="Accuracy", scale="")
