import numpy as np
import pandas as pd
import pytest

from disentangle.vocabulary import hyperparameter
from disentangle.analysis.synthetic import synthetic_results
from disentangle.study.columns import (
    PROVENANCE_COLUMNS, RUN_COLUMNS, SCORES, SETTINGS_COLUMNS, TIME_COLUMNS, TRAIN_COLUMNS, UNSUPERVISED,
    downstream_column,
)


def test_schema_has_every_column_and_both_representations():
    df = synthetic_results(["dsprites", "cars3d"], ["beta_vae", "dip_vae_i"], 3, 2, seed=0)
    expected = [*RUN_COLUMNS, *SETTINGS_COLUMNS, *TRAIN_COLUMNS, *TIME_COLUMNS, *PROVENANCE_COLUMNS, *SCORES.values(), *UNSUPERVISED.values(),
                downstream_column("LR", "100:mean_test_accuracy"), downstream_column("GBT", "10000:mean_test_accuracy"),
                downstream_column("GBT", "sample_efficiency")]
    assert [c for c in expected if c not in df.columns] == []
    assert len(df) == 2 * 2 * 3 * 2 * 2
    reps = df.groupby(["dataset", "method", "value", "seed"])["representation"].agg(lambda s: tuple(sorted(s)))
    assert all(r == ("mean", "sampled") for r in reps)
    # cars3d has 3 factors: per-factor columns beyond it are missing
    cars = df[df["dataset"] == "cars3d"]
    assert cars[downstream_column("LR", "100:test_accuracy_factor_3")].isna().all()
    assert cars[downstream_column("LR", "100:test_accuracy_factor_2")].notna().all()


def test_model_num_follows_the_sweep_layout():
    df = synthetic_results(["color_dsprites"], ["factor_vae"], {"factor_vae": [30]}, [7], seed=0)
    # 1800 * dataset 1 + 300 * method 1 + 50 * value index 2 + seed 7
    assert set(df["model_num"]) == {1800 + 300 + 100 + 7}
    assert set(df["hyperparameter"]) == {hyperparameter("factor_vae")}
    assert set(df["origin"]) == {"synthetic"}


def test_same_seed_same_table_and_different_seed_differs():
    a = synthetic_results(seed=3, seeds=2)
    b = synthetic_results(seed=3, seeds=2)
    c = synthetic_results(seed=4, seeds=2)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a[SCORES["MIG"]], c[SCORES["MIG"]])


def test_training_columns_equal_across_representations():
    df = synthetic_results(seed=0, seeds=2).sort_values(["method", "value", "seed"], kind="stable")
    mean, sampled = (df[df["representation"] == r] for r in ("mean", "sampled"))
    np.testing.assert_array_equal(mean["train.elbo"].to_numpy(), sampled["train.elbo"].to_numpy())


@pytest.mark.parametrize("kwargs, message", [
    ({"datasets": ["mnist"]}, "unknown"),
    ({"methods": ["vae"]}, "unknown"),
    ({"effect": "magic"}, "effect"),
    ({"values_per_method": 9}, "values_per_method"),
    ({"noise": -1.0}, "noise"),
    ({"methods": ["beta_vae"], "values_per_method": {"beta_vae": [3]}}, "paper grid"),
])
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        synthetic_results(seed=0, **kwargs)
