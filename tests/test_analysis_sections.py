"""Sections 5.1, 5.2, 5.4, 5.5 analyses recover planted effects on synthetic tables."""
import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from disentangle.analysis import correlation, downstream, selection, total_correlation
from disentangle.analysis.results_table import spearman
from disentangle.analysis.synthetic import synthetic_results
from disentangle.study.columns import DOWNSTREAM, SCORES


@pytest.fixture(scope="module")
def plausible():
    return synthetic_results(["dsprites", "noisy_dsprites"], seed=0, seeds=4, values_per_method=6)


def test_spearman_matches_scipy_with_ties_and_guards():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 5, 40).astype(float), rng.normal(size=40)
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)
    assert np.isnan(spearman([1, 2], [2, 1]))                 # fewer than 3 points
    assert np.isnan(spearman([1, 1, 1, 1], [1, 2, 3, 4]))     # constant
    assert spearman([1, 2, np.nan, 4], [1, 2, 9, 3]) == pytest.approx(1.0)


def test_tc_trends_recover_the_planted_directions(plausible):
    trend = total_correlation.strength_trend(plausible).set_index(["dataset", "method", "representation"])
    for method in ("beta_vae", "beta_tc_vae"):
        assert trend.loc[("dsprites", method, "sampled"), "rho"] < -0.8
        assert trend.loc[("dsprites", method, "mean"), "rho"] > 0.8
    assert trend["n_values"].eq(6).all() and trend["min_seeds"].eq(4).all()
    frac = total_correlation.fraction_mean_above_sampled(plausible).set_index(["dataset", "method"])
    assert frac.loc[("all", "all"), "n_runs"] == 2 * 36 * 4
    assert frac.loc[("all", "all"), "fraction"] > 0.7
    assert frac.loc[("dsprites", "annealed_vae"), "fraction"] == 1.0


def test_score_agreement_excludes_modularity(plausible):
    summary = correlation.agreement_summary(plausible).set_index("dataset")
    assert (summary["mean_rho_excl_modularity"] > 0.7).all()
    assert (summary["mean_rho_modularity"].abs() < 0.3).all()
    mats = correlation.score_correlation(plausible)
    m = mats["dsprites"]
    assert set(SCORES) <= set(m.columns) and np.allclose(np.diag(m), 1) and np.allclose(m, m.T)


def test_identical_scores_are_the_tightest_pair(plausible):
    df = plausible.copy()
    df[SCORES["DCI"]] = df[SCORES["MIG"]] * 0.5
    summary = correlation.agreement_summary(df)
    assert np.allclose(summary["rho_mig_dci"], 1.0)
    assert set(summary["tightest_pair"]) == {"MIG–DCI"}


def test_best_method_finds_a_planted_winner():
    df = synthetic_results(["dsprites", "cars3d"], seed=0, seeds=3, values_per_method=2, effect="noise")
    for col in SCORES.values():
        df.loc[df["method"] == "dip_vae_ii", col] += 10
    winners = selection.best_method(df)
    assert set(winners["winner"]) == {"dip_vae_ii"}
    assert selection.winner_summary(winners)["modal_share_pct"] == 100
    assert len(selection.best_value(df)) == 2 * 6 * 6


def test_unsupervised_selectors_table(plausible):
    table = selection.unsupervised_vs_scores(plausible)
    assert set(table["unsupervised"]) == set(selection.UNSUPERVISED_SELECTORS)
    assert len(table) == 2 * len(selection.UNSUPERVISED_SELECTORS) * 6
    assert table["n_runs"].eq(36 * 4).all()


def test_dataset_transfer_is_perfect_when_configs_dominate_everywhere():
    df = synthetic_results(["dsprites", "color_dsprites", "cars3d"], seed=0, seeds=2, values_per_method=3,
                           effect="method_x_value", noise=0.0)
    mats = selection.dataset_transfer(df)
    assert np.allclose(mats["DCI"].to_numpy(), 1.0)
    noise = synthetic_results(["dsprites", "color_dsprites"], seed=0, seeds=2, values_per_method=6, effect="noise")
    assert abs(selection.dataset_transfer(noise)["DCI"].loc["dsprites", "color_dsprites"]) < 0.5


def test_downstream_columns_efficiency_and_correlations(plausible):
    acc = downstream.accuracy_columns(plausible)
    assert set(acc) == {(p, n) for p in DOWNSTREAM for n in (10, 100, 1000, 10000)}
    stored = downstream.sample_efficiency(plausible, "LR")
    computed = downstream.sample_efficiency(plausible.drop(columns=[f"{DOWNSTREAM['LR']}.sample_efficiency"]), "LR")
    np.testing.assert_allclose(stored, computed)
    corr = downstream.accuracy_correlation(plausible)
    big = corr[(corr["n_train"] == 10000) & (corr["metric"] != "Modularity") & (corr["dataset"] == "dsprites")]
    assert (big["rho"] > 0.5).all()
    eff = downstream.efficiency_correlation(plausible)
    assert eff.groupby("metric")["rho"].mean().abs().max() < 0.4
    with pytest.raises(ValueError):
        downstream.sample_efficiency(plausible, "SVM")


def test_low_accuracy_artefact_flags_the_planted_runs(plausible):
    flagged = downstream.low_accuracy_artefact(plausible)
    planted = flagged[(flagged["method"] == "annealed_vae") & (flagged["dataset"] == "noisy_dsprites")]
    assert len(planted) == 2 * 4 * 2          # 2 strongest settings x 4 seeds x 2 predictors
    assert flagged["method"].value_counts().index[0] == "annealed_vae"
    assert (planted["efficiency"] > 0.99).all()


def test_missing_representation_is_a_clear_error(plausible):
    with pytest.raises(ValueError, match="sampled"):
        total_correlation.fraction_mean_above_sampled(plausible[plausible["representation"] == "mean"])
    with pytest.raises(KeyError, match="lacks"):
        correlation.agreement_summary(pd.DataFrame({"dataset": ["dsprites"]}))
