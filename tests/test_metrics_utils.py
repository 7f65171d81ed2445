"""Shared metric helpers (`evaluation/metrics/utils.py`, `utils_test.py`)."""

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import mutual_info_score

from disentangle.data.toy import IdentityObservations
from disentangle.metrics import (discrete_entropy, discrete_mutual_info, generate_codes,
                                 histogram_discretize, split_train_test)

ROWS = np.array([[.1, .2, .3, .4, .5, .6], [.6, .5, .4, .3, .2, .1]]).T  # (N=6, D=2)


def test_histogram_discretizer_reference_case():
    assert histogram_discretize(ROWS, 3).T.tolist() == [[1, 1, 2, 2, 3, 3], [3, 3, 2, 2, 1, 1]]


def test_histogram_discretizer_matches_numpy_per_column_and_torch():
    codes = np.random.RandomState(0).randn(2000, 4).astype(np.float32)
    expected = np.stack([np.digitize(c, np.histogram(c, 20)[1][:-1]) for c in codes.T], 1)
    assert np.array_equal(histogram_discretize(codes, 20), expected)
    assert np.array_equal(histogram_discretize(torch.from_numpy(codes), 20).numpy(), expected)
    assert expected.min() == 1 and expected.max() == 20


def test_discrete_entropy_and_mutual_info_reference_values():
    assert np.allclose(discrete_entropy(histogram_discretize(ROWS, 3)), [math.log(3)] * 2)
    xs = np.array([[1, 2, 1, 2], [1, 1, 2, 2]]).T
    ys = np.array([[1, 2, 1, 2], [2, 2, 1, 1]]).T
    assert np.allclose(discrete_mutual_info(xs, ys), [[math.log(2), 0], [0, math.log(2)]])


def test_mutual_info_equals_sklearn_including_torch_path():
    rs = np.random.RandomState(1)
    a = rs.randint(20, size=(3000, 6))
    b = np.stack([rs.randint(40, size=3000), a[:, 0] // 2, np.zeros(3000, int)], 1)
    expected = np.array([[mutual_info_score(b[:, j], a[:, i]) for j in range(3)] for i in range(6)])
    assert np.allclose(discrete_mutual_info(a, b), expected, rtol=0, atol=1e-12)
    assert np.allclose(discrete_mutual_info(torch.from_numpy(a), b), expected, rtol=0, atol=1e-12)


def test_split_train_test_uses_ceil():
    train, test = split_train_test(np.zeros((100, 10)), 0.9)
    assert train.shape == (90, 10) and test.shape == (10, 10)
    assert len(split_train_test(np.zeros((7, 1)), 0.5)[0]) == 4


def test_generate_codes_is_deterministic_and_row_aligned():
    ds = IdentityObservations()
    rep = lambda x: x * 2.0
    codes, factors = generate_codes(ds, rep, 37, 5)
    again, _ = generate_codes(ds, rep, 37, np.random.RandomState(5))
    assert codes.shape == (37, 10) and factors.shape == (37, 10)
    assert np.array_equal(codes, 2.0 * factors) and np.array_equal(codes, again)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="shape"):
        histogram_discretize(np.zeros(5))
    with pytest.raises(ValueError, match="rows"):
        discrete_mutual_info(np.zeros((4, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="represent"):
        generate_codes(IdentityObservations(), lambda x: x[:1], 4, 0)


def test_map_factors_returns_factor_order_whatever_the_schedule():
    from disentangle.metrics.utils import map_factors
    factors = np.stack([np.arange(40) % 2, np.arange(40) % 7, np.arange(40) % 3], axis=1)
    started = []

    def job(j):
        started.append(j)
        return j * 10

    assert map_factors(job, factors, n_jobs=1) == [0, 10, 20]
    assert started == [1, 2, 0]  # most classes first
    assert map_factors(job, factors, n_jobs=2) == [0, 10, 20]
