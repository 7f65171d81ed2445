import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from disentangle.analysis import paper_values
from disentangle.analysis.synthetic import synthetic_results
from disentangle.analysis.variance import (
    null_r_squared, r_squared, seed_vs_hyperparameter, variance_explained, variance_summary,
)


def test_r_squared_equals_ols_on_one_hot():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 5, 200)
    y = groups * 0.3 + rng.normal(size=200)
    onehot = np.eye(5)[groups]
    ols = LinearRegression().fit(onehot, y).score(onehot, y)
    assert r_squared(y, groups) == pytest.approx(ols, abs=1e-10)


def test_r_squared_edge_cases():
    assert r_squared([1.0, 1.0, 2.0, 2.0], ["a", "a", "b", "b"]) == pytest.approx(1.0)
    assert np.isnan(r_squared([3.0, 3.0, 3.0], ["a", "b", "b"]))        # constant score
    assert np.isnan(r_squared([np.nan, 1.0], ["a", "b"]))               # one finite value
    with pytest.raises(ValueError):
        r_squared([1.0, 2.0], ["a"])


def test_pure_noise_r_squared_matches_its_chance_level():
    rng = np.random.default_rng(1)
    values = [r_squared(rng.normal(size=60), np.repeat(np.arange(6), 10)) for _ in range(300)]
    assert np.mean(values) == pytest.approx(null_r_squared(60, 6), abs=0.02)


def test_planted_method_effect_is_fully_explained():
    df = synthetic_results(["dsprites"], seed=0, seeds=3, values_per_method=3, effect="method")
    table = variance_explained(df)
    assert np.allclose(table["method_pct"], 100)
    assert np.allclose(table["method_x_value_pct"], 100)


def test_planted_config_effect_needs_the_strength():
    df = synthetic_results(["dsprites"], seed=0, seeds=3, values_per_method=3, effect="method_x_value")
    table = variance_explained(df)
    assert np.allclose(table["method_x_value_pct"], 100)
    assert (table["method_pct"] < 95).all()


def test_noise_is_near_chance_and_paper_values_sit_beside():
    df = synthetic_results(["dsprites"], seed=0, seeds=10, values_per_method=6, effect="noise")
    table = variance_explained(df)
    assert (table["method_pct"] < 15).all()
    assert table["null_method_pct"].iloc[0] == pytest.approx(100 * 5 / 359)
    row = table.set_index("metric").loc["DCI"]
    assert (row["paper_method_pct"], row["paper_method_x_value_pct"]) == (41, 77)
    summary = variance_summary(table).set_index("predictors")
    assert summary.loc["method", "paper_pct"] == 37 and summary.loc["method_x_value", "paper_pct"] == 59


def test_table5_averages_reproduce_the_quoted_37_and_59():
    assert paper_values.TABLE5_METHOD.to_numpy().mean() == pytest.approx(36.95, abs=0.01)
    assert paper_values.TABLE5_METHOD_X_VALUE.to_numpy().mean() == pytest.approx(58.71, abs=0.01)


def test_seed_vs_hyperparameter_recovers_dominance_and_noise():
    dominant = synthetic_results(["dsprites"], seed=0, seeds=6, values_per_method=6,
                                 effect="method_x_value", noise=0.01)
    table = seed_vs_hyperparameter(dominant)
    assert table["p_bad_beats_good_pct"].max() == 0
    noisy = synthetic_results(["dsprites"], seed=0, seeds=20, values_per_method=6, effect="noise")
    p = seed_vs_hyperparameter(noisy)["p_bad_beats_good_pct"].mean()
    assert 20 < p < 50   # selection of best/worst by median biases below 50 %
    assert ((0 <= table["range_overlap"]) & (table["range_overlap"] <= 1)).all()
