import numpy as np
import pandas as pd
import pytest

from disentangle.analysis.synthetic import synthetic_results
from disentangle.analysis.transfer import paper_layout, score_array, transfer_table, transfer_win_rate


def test_dominant_configurations_always_win():
    df = synthetic_results(["dsprites", "cars3d"], seed=0, seeds=3, values_per_method=3,
                           effect="method_x_value", noise=0.0)
    table = transfer_table(df, seed=0, n_draws=2000)
    assert np.allclose(table["win_rate_pct"], 100)
    assert (table["n_draws_used"] == 2000).all()


def test_random_scores_win_about_half_plus_ties():
    df = synthetic_results(["dsprites", "cars3d"], seed=1, seeds=10, values_per_method=6, effect="noise")
    table = transfer_table(df, seed=0, n_draws=10_000)
    # 36 configs x 10 seeds: ties (same random model) add ~0.3 %; 10k draws -> sd ~0.5 %
    assert table["win_rate_pct"].between(47.5, 53.5).all()
    assert list(table["paper_pct"]) == [80.7, 59.3, 62.6, 54.9]


def test_ties_count_as_wins():
    df = synthetic_results(["dsprites"], seed=0, seeds=3, values_per_method=2)
    for col in [c for c in df.columns if c.startswith(("mig.", "dci.disentanglement"))]:
        df[col] = 0.5
    scores, labels = score_array(df)
    rate, used = transfer_win_rate(scores, metric="same", dataset="same", n_draws=500,
                                   rng=np.random.default_rng(0))
    assert used == 500 and 0 < rate <= 1
    only_constant = scores[:, [labels["metric"].index("MIG")]]
    rate, _ = transfer_win_rate(only_constant, metric="same", dataset="same", n_draws=500,
                                rng=np.random.default_rng(0))
    assert rate == 1.0


def test_single_dataset_makes_cross_dataset_cells_na():
    df = synthetic_results(["dsprites"], seed=0, seeds=3, values_per_method=2)
    table = transfer_table(df, seed=0, n_draws=500).set_index(["metric", "dataset"])
    assert np.isnan(table.loc[("same", "different"), "win_rate_pct"])
    assert table.loc[("same", "different"), "n_draws_used"] == 0
    assert np.isfinite(table.loc[("same", "same"), "win_rate_pct"])
    layout = paper_layout(table.reset_index())
    assert layout.loc["Same metric", "Random different dataset"].startswith("n/a (paper 59.3 %)")
    assert layout.loc["Same metric", "Same dataset"].endswith("(paper 80.7 %)")


def test_one_seed_is_not_enough_and_results_are_deterministic():
    one = synthetic_results(["dsprites"], seed=0, seeds=1, values_per_method=2)
    assert transfer_table(one, seed=0, n_draws=100)["win_rate_pct"].isna().all()
    df = synthetic_results(["dsprites", "cars3d"], seed=0, seeds=3, values_per_method=2)
    pd.testing.assert_frame_equal(transfer_table(df, seed=3, n_draws=500), transfer_table(df, seed=3, n_draws=500))
    with pytest.raises(ValueError):
        transfer_win_rate(score_array(df)[0], metric="other", dataset="same", n_draws=5,
                          rng=np.random.default_rng(0))
