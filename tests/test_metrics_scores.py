"""Array-level scores: MIG, DCI, SAP, Modularity/Explicitness, unsupervised
(`evaluation/metrics/mig.py`, `dci.py`, `sap_score.py`, `modularity_explicitness.py`, `unsupervised_metrics.py`; their `*_test.py`)."""

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from disentangle.data.toy import IdentityObservations
from disentangle.metrics import (completeness, dci, disentanglement, gaussian_total_correlation,
                                 gaussian_wasserstein_correlation, generate_codes, mig, modularity,
                                 modularity_explicitness, sap, unsupervised_scores)

IDENTITY = lambda c: c  # the reference tests' identity discretiser
DIAG5 = np.diag(5.0 * np.ones(5))


class SmallIdentity(IdentityObservations):
    """IdentityObservations with 3 factors (keeps the GBT tests fast)."""
    factor_sizes = (10,) * 3

    def sample_factors(self, n, rng):
        return rng.randint(0, 10, size=(n, 3)) + 1


def sample(ds, rep, n, seed=0):
    return generate_codes(ds, lambda x: rep(np.asarray(x, np.float64)), n, seed)


class PermuteRows:
    """The reference's "bad" representation: shuffle the values within each
    sample, with its own persistent RandomState(0)."""

    def __init__(self):
        self.rs = np.random.RandomState(0)

    def __call__(self, x):
        return np.stack([self.rs.permutation(row) for row in x])


duplicate = lambda x: np.concatenate([x, x], axis=1)
zeros = np.zeros_like


# ---------------------------------------------------------------- MIG
@pytest.mark.parametrize("rep, low, high", [(lambda x: x, 0.9, 1.0), (zeros, 0.0, 0.2),
                                             (duplicate, 0.0, 0.1)])
def test_mig_reference_cases(rep, low, high):
    codes, factors = sample(IdentityObservations(), rep, 3000)
    assert low <= mig(codes, factors, discretize=IDENTITY)["discrete_mig"] <= high


def test_mig_histogram_torch_and_permutation_invariance():
    codes, factors = sample(IdentityObservations(), lambda x: x + 0.01 * np.sin(x * 7), 3000)
    score = mig(codes, factors)["discrete_mig"]
    assert score > 0.9
    assert mig(torch.from_numpy(codes), factors)["discrete_mig"] == pytest.approx(score, abs=1e-12)
    assert mig(codes[:, ::-1], factors)["discrete_mig"] == pytest.approx(score, abs=1e-12)


def test_mig_constant_code_and_single_valued_factor():
    factors = np.random.RandomState(0).randint(5, size=(200, 2))
    assert mig(np.ones((200, 3)), factors)["discrete_mig"] == 0.0
    factors[:, 1] = 4  # a factor with one value is left out (the reference divides by 0)
    codes = factors[:, :1].astype(float)
    assert mig(codes, factors)["discrete_mig"] == pytest.approx(1.0)
    assert math.isnan(mig(codes, np.zeros((200, 1), int))["discrete_mig"])


# ---------------------------------------------------------------- DCI
@pytest.mark.parametrize("matrix, d, c", [
    (DIAG5, 1.0, 1.0),
    (np.array([[1.0, 0], [0, 1], [0, 0]]), 1.0, 1.0),
    (np.zeros((10, 10)), 0.0, 0.0),
    (np.vstack([DIAG5, DIAG5]), 1.0, 1 - math.log(2) / math.log(10)),
    (DIAG5[:2, :], 1.0, 1.0),
    (np.hstack([DIAG5, DIAG5]), 1 - math.log(2) / math.log(10), 1.0),
])
def test_dci_importance_matrices(matrix, d, c):
    assert disentanglement(matrix) == pytest.approx(d, abs=1e-7)
    assert completeness(matrix) == pytest.approx(c, abs=1e-7)


def test_dci_end_to_end_identity_bad_and_duplicated():
    ds = SmallIdentity()
    good = dci(*sample(ds, lambda x: x, 500, 0), *sample(ds, lambda x: x, 500, 1))
    assert 0.9 <= good["disentanglement"] <= 1.0 and 0.9 <= good["completeness"] <= 1.0
    assert good["informativeness_test"] > 0.95
    permute_rows = PermuteRows()
    bad = dci(*sample(ds, permute_rows, 500, 0), *sample(ds, permute_rows, 500, 1))
    assert bad["disentanglement"] <= 0.2 and bad["completeness"] <= 0.2
    dup = dci(*sample(ds, duplicate, 500, 0), *sample(ds, duplicate, 500, 1))
    assert dup["disentanglement"] >= 0.9
    # each factor's importance split over 2 of the 6 codes: 1 - ln2 / ln6
    assert dup["completeness"] == pytest.approx(1 - math.log(2) / math.log(6), abs=0.1)


def test_dci_deterministic_permutation_invariant_and_parallel_equal():
    rs = np.random.RandomState(0)
    factors = rs.randint(4, size=(300, 2))
    codes = np.concatenate([factors + 0.3 * rs.randn(300, 2), rs.randn(300, 1)], 1)
    args = (codes[:200], factors[:200], codes[200:], factors[200:])
    first = dci(*args)
    assert dci(*args, n_jobs=2) == first
    permuted = dci(codes[:200, ::-1], factors[:200], codes[200:, ::-1], factors[200:])
    # GBT split ties are broken by a random feature order (the reference leaves
    # it unseeded), so a column permutation moves DCI by GBT-seed-sized amounts
    assert all(permuted[k] == pytest.approx(v, abs=0.02) for k, v in first.items())


def test_dci_single_valued_factor_in_train_set():
    rs = np.random.RandomState(0)
    factors = np.stack([rs.randint(3, size=100), np.zeros(100, int)], 1)
    scores = dci(factors + rs.rand(100, 2), factors, factors + rs.rand(100, 2), factors)
    assert scores["informativeness_test"] > 0.95  # the constant factor is predicted exactly
    assert 0.0 <= scores["disentanglement"] <= 1.0


# ---------------------------------------------------------------- SAP
@pytest.mark.parametrize("rep, low, high", [(lambda x: x, 0.9, 1.0), (zeros, 0.0, 0.2),
                                             (duplicate, 0.0, 0.2)])
def test_sap_continuous_reference_cases(rep, low, high):
    ds = IdentityObservations()
    score = sap(*sample(ds, rep, 3000, 0), *sample(ds, rep, 3000, 1), continuous_factors=True)
    assert low <= score["SAP_score"] <= high


def test_sap_discrete_identity_and_permutation_invariance():
    ds = SmallIdentity()
    train, test = sample(ds, lambda x: x, 1000, 0), sample(ds, lambda x: x, 1000, 1)
    score = sap(*train, *test)["SAP_score"]
    # one-vs-rest 1-D linear SVMs separate only the extreme classes of 10 ordered
    # ones: ~0.26 accuracy for the matching code vs ~0.1 (chance) for the others
    assert 0.15 < score < 0.5
    assert sap(np.zeros((1000, 3)), train[1], np.zeros((1000, 3)), test[1])["SAP_score"] == 0.0
    assert sap(train[0][:, ::-1], train[1], test[0][:, ::-1], test[1])["SAP_score"] == score
    torch_score = sap(torch.from_numpy(train[0]), train[1], test[0], test[1], continuous_factors=True)
    assert torch_score == sap(*train, *test, continuous_factors=True) or \
        torch_score["SAP_score"] == pytest.approx(sap(*train, *test, continuous_factors=True)["SAP_score"])


# ---------------------------------------------------------------- Modularity / explicitness
@pytest.mark.parametrize("matrix, expected", [
    (DIAG5, 1.0), (np.array([[1.0, 0], [0, 1], [0, 0]]), 2 / 3), (np.zeros((10, 10)), 0.0),
    (np.vstack([DIAG5, DIAG5]), 1.0), (DIAG5[:2, :], 1.0), (np.hstack([DIAG5, DIAG5]), 1 - 1 / 9),
])
def test_modularity_mutual_info_matrices(matrix, expected):
    assert modularity(matrix) == pytest.approx(expected)


@pytest.mark.parametrize("rep, n, low, high", [(lambda x: x, 3000, 0.9, 1.0),
                                                (duplicate, 3000, 0.9, 1.0),
                                                (PermuteRows, 20000, 0.0, 0.2)])
def test_modularity_end_to_end(rep, n, low, high):
    ds = IdentityObservations()
    rep = rep() if rep is PermuteRows else rep
    train = sample(ds, rep, n, 0)
    # explicitness needs test codes; a tiny test set keeps it cheap
    scores = modularity_explicitness(*train, *sample(ds, rep, 50, 1), discretize=IDENTITY)
    assert low <= scores["modularity_score"] <= high


def test_explicitness_identity_is_high_and_constant_code_is_safe():
    ds = SmallIdentity()
    scores = modularity_explicitness(*sample(ds, lambda x: x, 1000, 0), *sample(ds, lambda x: x, 500, 1))
    assert scores["explicitness_score_test"] > 0.9 and scores["explicitness_score_train"] > 0.9
    const = modularity_explicitness(*sample(ds, zeros, 200, 0), *sample(ds, zeros, 100, 1))
    assert const["modularity_score"] == 0.0
    assert const["explicitness_score_test"] == pytest.approx(0.5)


def test_explicitness_missing_test_class_and_single_class_factor():
    rs = np.random.RandomState(0)
    f_train = np.stack([rs.randint(4, size=300), np.zeros(300, int)], 1)
    f_test = f_train[:100].copy()
    f_test[:, 0] = np.minimum(f_test[:, 0], 2)  # class 3 absent from the test set
    scores = modularity_explicitness(f_train + 0.1 * rs.randn(300, 2), f_train,
                                     f_test + 0.1 * rs.randn(100, 2), f_test)
    assert scores["explicitness_score_test"] > 0.9  # the constant factor is left out


# ---------------------------------------------------------------- unsupervised
def test_gaussian_total_correlation_and_wasserstein_closed_forms():
    assert abs(gaussian_total_correlation(np.eye(5))) <= 0.01
    cov = np.array([[1.0, 0.9], [0.9, 1.0]])
    diag = np.diag(np.diag(cov))
    kl = 0.5 * (np.trace(np.linalg.inv(diag) @ cov) - 2 + np.log(np.linalg.det(diag) / np.linalg.det(cov)))
    assert gaussian_total_correlation(cov) == pytest.approx(kl, abs=0.01)
    assert gaussian_total_correlation(cov) == pytest.approx(-0.5 * math.log(1 - 0.81), abs=1e-9)
    assert abs(gaussian_wasserstein_correlation(np.eye(5))) <= 0.01
    expected = np.trace(cov + diag - 2 * scipy.linalg.sqrtm(cov @ diag)).real
    assert gaussian_wasserstein_correlation(cov) == pytest.approx(expected, abs=0.01)


def test_unsupervised_scores_torch_permutation_and_constant_code():
    rs = np.random.RandomState(0)
    z = rs.randn(2000, 3) @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    scores = unsupervised_scores(z)
    assert scores["gaussian_total_correlation"] > 0.05 and scores["mutual_info_score"] > 0
    for other in (unsupervised_scores(torch.from_numpy(z)), unsupervised_scores(z[:, [2, 0, 1]])):
        assert all(other[k] == pytest.approx(v, abs=1e-9) for k, v in scores.items())
    with_const = unsupervised_scores(np.concatenate([z, np.ones((2000, 1))], 1))
    assert with_const["gaussian_total_correlation"] == pytest.approx(scores["gaussian_total_correlation"])
    assert np.isfinite(list(with_const.values())).all()
