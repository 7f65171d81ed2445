import numpy as np
import pytest

from disentangle.analysis.bootstrap import RunResampler, bootstrap_ci, bootstrap_many
from disentangle.analysis.synthetic import synthetic_results
from disentangle.study.columns import SCORES


def test_percentile_ci_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    covered = 0
    for trial in range(120):
        x = rng.normal(1.0, 2.0, size=40)
        ci = bootstrap_ci(x, np.mean, seed=trial, n_boot=300)
        covered += ci.lo <= 1.0 <= ci.hi
        assert ci.lo <= ci.estimate <= ci.hi
    assert 0.85 <= covered / 120 <= 1.0


def test_same_seed_same_interval_and_level_widens_it():
    x = np.random.default_rng(1).normal(size=30)
    a = bootstrap_ci(x, np.median, seed=5, n_boot=200)
    assert a == bootstrap_ci(x, np.median, seed=5, n_boot=200)
    wide = bootstrap_ci(x, np.median, seed=5, n_boot=200, level=0.99)
    assert wide.lo <= a.lo and wide.hi >= a.hi
    assert tuple(a) == (a.estimate, a.lo, a.hi)


def test_groups_are_resampled_independently():
    x, y = np.zeros(20), np.ones(25)
    ci = bootstrap_ci((x, y), lambda g: g[1].mean() - g[0].mean(), seed=0, n_boot=50)
    assert (ci.estimate, ci.lo, ci.hi) == (1.0, 1.0, 1.0)


def test_nan_statistic_gives_nan_interval_and_format_says_na():
    ci = bootstrap_ci(np.arange(5.0), lambda v: np.nan, seed=0, n_boot=10)
    assert np.isnan(ci.lo) and ci.n_valid == 0 and ci.format() == "n/a"


@pytest.mark.parametrize("kwargs", [{"n_boot": 0}, {"level": 1.0}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        bootstrap_ci(np.arange(5.0), np.mean, seed=0, **kwargs)


def test_run_resampler_keeps_design_and_moves_both_representations_together():
    df = synthetic_results(["dsprites"], ["beta_vae", "factor_vae"], 2, 4, seed=0)
    sample = RunResampler(df).draw(np.random.default_rng(0))
    assert len(sample) == len(df)
    # every configuration keeps 4 distinct seed labels, each with one mean + one sampled row
    per_run = sample.groupby(["dataset", "method", "value", "seed"])["representation"].agg(lambda s: tuple(sorted(s)))
    assert all(r == ("mean", "sampled") for r in per_run) and len(per_run) == 16
    # the two rows of a run come from the same original run (same config hash)
    assert sample.groupby(["dataset", "method", "value", "seed"])["config_hash"].nunique().eq(1).all()
    # resampling happens within configurations only
    assert (sample.groupby(["method", "value"])["config_hash"].agg(set)
            .combine(df.groupby(["method", "value"])["config_hash"].agg(set), lambda a, b: a <= b).all())


def test_bootstrap_many_uses_run_resamples_on_a_table():
    df = synthetic_results(["dsprites"], ["beta_vae"], 3, 6, seed=0)
    col = SCORES["MIG"]
    cis = bootstrap_many(df, lambda t: {"mean": t[col].mean(), "nan": np.nan}, seed=0, n_boot=50)
    assert cis["mean"].lo <= df[col].mean() <= cis["mean"].hi
    assert np.isnan(cis["nan"].estimate) and cis["nan"].n_valid == 0
