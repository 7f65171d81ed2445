"""Sampling-level metrics: BetaVAE, FactorVAE, downstream, ``evaluate``
(`evaluation/metrics/beta_vae.py`, `factor_vae.py`, `downstream_task.py` and their `*_test.py`; book/design.md, "Seeds")."""

import numpy as np
import pytest

from disentangle.data.base import GroundTruthDataset
from disentangle.data.toy import IdentityObservations
from disentangle.metrics import (beta_vae_score, downstream, evaluate, factor_vae_metric,
                                 reference_evaluation_seeds, sample_efficiency)
from disentangle.vocabulary import paper_metric_configs

identity = lambda x: np.asarray(x, np.float64)
zeros = lambda x: np.zeros_like(x, np.float64)


class LabelledPoints(GroundTruthDataset):
    """Observation = factor vector; configurable factor sizes (e.g. Cars3D's 183)."""
    name, source = "points", "procedural"

    def __init__(self, sizes):
        self.factor_sizes = tuple(sizes)

    def observations(self, factors, rng):
        return factors.astype(np.float32)


def test_beta_vae_identity_is_high_and_deterministic():
    ds = IdentityObservations()
    scores = beta_vae_score(ds, identity, seed=0, batch_size=5, num_train=2000, num_eval=2000)
    assert 0.9 <= scores["train_accuracy"] <= 1.0 and 0.9 <= scores["eval_accuracy"] <= 1.0
    small = dict(seed=3, batch_size=5, num_train=200, num_eval=100)
    first = beta_vae_score(ds, identity, **small)
    assert beta_vae_score(ds, identity, **small) == first
    assert beta_vae_score(ds, lambda x: identity(x)[:, ::-1], **small) == first


def test_beta_vae_zero_representation_does_not_crash():
    scores = beta_vae_score(IdentityObservations(), zeros, seed=0, batch_size=5, num_train=200,
                            num_eval=100)
    assert scores["eval_accuracy"] <= 0.3  # all features equal: one class predicted


def test_factor_vae_identity_bad_and_pruning():
    ds = IdentityObservations()
    sizes = dict(batch_size=5, num_train=3000, num_eval=2000, num_variance_estimate=2500)
    good = factor_vae_metric(ds, identity, seed=0, **sizes)
    assert 0.9 <= good["train_accuracy"] <= 1.0 and 0.9 <= good["eval_accuracy"] <= 1.0
    assert good["num_active_dims"] == 10
    # threshold 0 (the code default): zero variance stays active, 0/0 votes land on code 0
    bad = factor_vae_metric(ds, zeros, seed=0, prune_threshold=0.0, **sizes)
    assert 0.0 <= bad["train_accuracy"] <= 0.2 and 0.0 <= bad["eval_accuracy"] <= 0.2
    # the study's threshold 0.05 prunes every dimension: documented zeros
    assert factor_vae_metric(ds, zeros, seed=0, **sizes) == {
        "train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}


def test_factor_vae_counts_true_active_dims_and_is_permutation_invariant():
    ds = IdentityObservations()
    half = lambda x: identity(x) * (np.arange(10) < 5)  # 5 constant codes
    sizes = dict(seed=1, batch_size=8, num_train=300, num_eval=200, num_variance_estimate=500)
    scores = factor_vae_metric(ds, half, **sizes)
    assert scores["num_active_dims"] == 5
    assert factor_vae_metric(ds, lambda x: half(x)[:, ::-1], **sizes) == scores
    assert factor_vae_metric(ds, half, **sizes) == scores


@pytest.mark.parametrize("predictor", ["logistic_regression", "boosted_trees", "hist_boosted_trees"])
def test_downstream_tiny_sets_with_many_classes(predictor):
    ds = LabelledPoints([183, 2])  # Cars3D's 183 objects: 10 samples miss most classes
    scores = downstream(ds, identity, seed=0, predictor=predictor, num_train=(10, 30),
                        num_test=100)
    assert set(scores) == {f"{n}:{k}" for n in (10, 30) for k in (
        "mean_train_accuracy", "mean_test_accuracy", "min_train_accuracy", "min_test_accuracy",
        "train_accuracy_factor_0", "test_accuracy_factor_0", "train_accuracy_factor_1",
        "test_accuracy_factor_1")}
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    assert "sample_efficiency" not in scores


def test_downstream_single_class_factor_and_determinism():
    ds = LabelledPoints([1, 4])
    kwargs = dict(seed=2, num_train=(10,), num_test=50)
    scores = downstream(ds, identity, **kwargs)
    assert scores["10:train_accuracy_factor_0"] == scores["10:test_accuracy_factor_0"] == 1.0
    assert downstream(ds, identity, **kwargs) == scores


def test_sample_efficiency_definition():
    assert sample_efficiency({"100:mean_test_accuracy": 0.4, "10000:mean_test_accuracy": 0.8}) == 0.5
    assert sample_efficiency({"100:mean_test_accuracy": 0.4}) is None


def test_reference_evaluation_seeds_match_the_study_table():
    assert reference_evaluation_seeds("mean")["beta_vae_sklearn"] == 3071714933
    assert reference_evaluation_seeds("mean")["unsupervised"] == 2774094101
    assert reference_evaluation_seeds("sampled")["dci"] == 1879422756
    assert reference_evaluation_seeds("sampled")["unsupervised"] == 2051556033
    assert list(reference_evaluation_seeds("mean")) == list(paper_metric_configs())
    with pytest.raises(ValueError, match="representation"):
        reference_evaluation_seeds("median")


def test_evaluate_namespaces_keys_and_accepts_seed_dicts():
    ds = LabelledPoints([3, 4])
    metrics = ["mig", "unsupervised"]
    out = evaluate(ds, identity, metrics=metrics, seed=0, settings="fast")
    assert {k.split(".")[0] for k in out} == set(metrics)
    assert "mig.discrete_mig" in out and "mig.elapsed_time" in out
    assert "unsupervised.gaussian_total_correlation" in out
    seeds = reference_evaluation_seeds("mean")
    again = evaluate(ds, identity, metrics=metrics, seed={m: seeds[m] for m in metrics}, settings="fast")
    assert again["mig.discrete_mig"] == out["mig.discrete_mig"]
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate(ds, identity, metrics=["irs"], seed=0)
    with pytest.raises(ValueError, match="settings"):
        evaluate(ds, identity, metrics=metrics, seed=0, settings="slow")
