"""The numba LogisticRegressionCV (estimators/logistic.py) against sklearn 1.9's
``LogisticRegressionCV(Cs=10, cv=KFold(5), lbfgs, accuracy)`` (`evaluation/metrics/downstream_task.py: compute_downstream_task`)."""

import warnings

import numpy as np
import pytest

from disentangle.estimators.logistic import LogisticRegressionCV


def _sklearn(X, y):
    from sklearn.linear_model import LogisticRegressionCV as SkLogisticRegressionCV
    from sklearn.model_selection import KFold
    model = SkLogisticRegressionCV(Cs=10, cv=KFold(n_splits=5), l1_ratios=(0.0,), scoring="accuracy",
                                   solver="lbfgs", max_iter=100, tol=1e-4, use_legacy_attributes=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


def _problem(n, d, k, noise, seed, n_test=1000, labels=None):
    rs = np.random.RandomState(seed)
    w = rs.randn(d, k)
    x = rs.randn(n + n_test, d)
    y = np.argmax(x @ w + noise * rs.randn(n + n_test, k), axis=1)
    if labels is not None:
        y = np.asarray(labels)[y]
    return x[:n], y[:n], x[n:], y[n:]


@pytest.mark.parametrize("n,d,k,noise,seed", [
    (300, 5, 2, 1.0, 0),     # binary, noisy
    (400, 8, 3, 0.5, 1),     # 3 classes
    (600, 10, 10, 0.3, 2),   # 10 classes, separable-ish
    (1000, 10, 10, 2.0, 3),  # 10 classes, noisy
])
def test_matches_sklearn(n, d, k, noise, seed):
    x, y, x_test, y_test = _problem(n, d, k, noise, seed)
    ours, ref = LogisticRegressionCV().fit(x, y), _sklearn(x, y)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    assert ours.C_ == ref.C_
    np.testing.assert_array_equal(ours.Cs_, ref.Cs_)
    assert ours.coef_.shape == ref.coef_.shape and ours.intercept_.shape == ref.intercept_.shape
    # fold scores: identical where the fits converge, a point or two apart otherwise
    score_diff = np.abs(ours.scores_ - ref.scores_.reshape(ours.scores_.shape))
    assert score_diff[:, :5].max() <= 1e-12 and score_diff.max() <= 0.03
    assert np.mean(ours.predict(x_test) == ref.predict(x_test)) >= 0.98
    assert abs(ours.score(x_test, y_test) - ref.score(x_test, y_test)) <= 0.01
    np.testing.assert_allclose(ours.predict_proba(x_test), ref.predict_proba(x_test), atol=1e-3)


def test_converged_coefficients_match():
    # moderate C, well conditioned: every fit converges, so coefficients agree closely
    x, y, _, _ = _problem(500, 6, 4, 3.0, 7)
    ours, ref = LogisticRegressionCV().fit(x, y), _sklearn(x, y)
    assert ours.C_ == ref.C_ and ours.C_ <= 10
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)
    paths = ref.coefs_paths_[:, 0]  # (folds, l1_ratios, Cs, K, D + 1) -> (folds, Cs, K, D + 1)
    np.testing.assert_allclose(ours.coefs_paths_[:, :5], paths[:, :5], atol=1e-4)


def test_binary_labels_and_shapes():
    x, y, x_test, _ = _problem(200, 5, 2, 0.5, 4, labels=[3, 7])
    ours, ref = LogisticRegressionCV().fit(x, y), _sklearn(x, y)
    np.testing.assert_array_equal(ours.classes_, [3, 7])
    assert ours.coef_.shape == (1, 5) and ours.intercept_.shape == (1,)
    assert set(np.unique(ours.predict(x_test))) <= {3, 7}
    assert ours.C_ == ref.C_
    assert np.mean(ours.predict(x_test) == ref.predict(x_test)) >= 0.98
    np.testing.assert_allclose(ours.predict_proba(x_test).sum(axis=1), 1.0)


def test_tiny_train_set_with_missing_classes():
    # n = 10, 5 folds of 2 points, 6 classes: most folds' train parts lack classes
    rs = np.random.RandomState(5)
    x = rs.randn(10, 10)
    y = np.array([0, 1, 2, 3, 4, 5, 0, 1, 2, 5]) * 10
    x_test = rs.randn(200, 10)
    ours, ref = LogisticRegressionCV().fit(x, y), _sklearn(x, y)
    assert ours.C_ == ref.C_
    np.testing.assert_allclose(ours.scores_, ref.scores_.reshape(ours.scores_.shape), atol=1e-12)
    assert np.mean(ours.predict(x_test) == ref.predict(x_test)) >= 0.98
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-3 * max(1, np.abs(ref.coef_).max()))


def test_deterministic_and_thread_independent():
    x, y, x_test, _ = _problem(700, 10, 12, 0.2, 6)
    a = LogisticRegressionCV(n_threads=1).fit(x, y)
    b = LogisticRegressionCV(n_threads=1).fit(x, y)
    c = LogisticRegressionCV(n_threads=2).fit(x, y)
    for other in (b, c):
        np.testing.assert_array_equal(a.coef_, other.coef_)
        np.testing.assert_array_equal(a.intercept_, other.intercept_)
        np.testing.assert_array_equal(a.coefs_paths_, other.coefs_paths_)
        np.testing.assert_array_equal(a.predict_proba(x_test), other.predict_proba(x_test))


def test_bad_input():
    x = np.random.RandomState(0).randn(20, 3)
    with pytest.raises(ValueError, match="one class"):
        LogisticRegressionCV().fit(x, np.zeros(20))
    with pytest.raises(ValueError, match="inconsistent"):
        LogisticRegressionCV().fit(x, np.arange(19) % 2)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        LogisticRegressionCV().fit(bad, np.arange(20) % 2)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        LogisticRegressionCV().fit(bad, np.arange(20) % 2)
    with pytest.raises(ValueError, match="continuous"):
        LogisticRegressionCV().fit(x, np.linspace(0, 1, 20))
    with pytest.raises(ValueError, match="n_splits"):
        LogisticRegressionCV().fit(x[:4], np.arange(4) % 2)
    with pytest.raises(ValueError, match="not fitted"):
        LogisticRegressionCV().predict(x)


@pytest.mark.parametrize("k", [2, 3, 10])
def test_single_c_logistic_regression_matches_sklearn(k):
    # Explicitness' LogisticRegression() (C = 1, `evaluation/metrics/modularity_explicitness.py: compute_modularity_explicitness`): converged fits agree closely
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression
    from disentangle.estimators.logistic import LogisticRegression
    x, y, x_test, _ = _problem(800, 6, k, 1.0, 10 + k, labels=np.arange(k) * 3 + 1)
    ours = LogisticRegression().fit(x, y)
    ref = SkLogisticRegression(C=1.0, solver="lbfgs", max_iter=100, tol=1e-4).fit(x, y)
    assert ours.n_iter_ == ref.n_iter_[0] < 100
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)
    np.testing.assert_allclose(ours.predict_proba(x_test), ref.predict_proba(x_test), atol=1e-6)
    with pytest.raises(ValueError, match="C must be > 0"):
        LogisticRegression(C=0.0)
