"""The numba GradientBoostingClassifier against sklearn's (`evaluation/metrics/dci.py`, `downstream_task.py`).

On continuous features (no repeated values within a feature) it replays
sklearn's algorithm operation by operation, so the fitted trees are identical;
the agreement thresholds of the other tests are what the study needs
(DCI |Δ| ≤ 0.02) with room for tie-breaking on repeated feature values.
"""

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier as SklearnGBT

from disentangle.metrics.dci import completeness, disentanglement
from disentangle.estimators.gbt import GradientBoostingClassifier


def _problem(seed: int, n: int, d: int, k: int):
    rs = np.random.RandomState(seed)
    x = rs.randn(n, d)
    score = x[:, 0] + 0.5 * x[:, 1] + 0.5 * rs.randn(n)
    return x, np.digitize(score, np.quantile(score, np.linspace(0, 1, k + 1)[1:-1]))


def _assert_agrees(ours, reference, x, x_test, y_test, atol_importance=0.02, atol_proba=0.01):
    assert np.mean(ours.predict(x_test) == reference.predict(x_test)) >= 0.99
    assert np.mean(ours.predict(x) == reference.predict(x)) >= 0.99
    assert abs(ours.score(x_test, y_test) - reference.score(x_test, y_test)) <= 0.01
    np.testing.assert_allclose(ours.feature_importances_, reference.feature_importances_,
                               atol=atol_importance)
    np.testing.assert_allclose(ours.predict_proba(x_test), reference.predict_proba(x_test),
                               atol=atol_proba)


@pytest.mark.parametrize("n, d, n_classes, n_estimators",
                         [(300, 4, 2, 100), (1000, 3, 3, 50), (600, 6, 10, 20)])
def test_reproduces_sklearn_trees_exactly_on_continuous_features(n, d, n_classes, n_estimators):
    x, y = _problem(n_classes, n, d, n_classes)
    x_test, y_test = _problem(100 + n_classes, 500, d, n_classes)
    reference = SklearnGBT(n_estimators=n_estimators, random_state=0).fit(x, y)
    ours = GradientBoostingClassifier(n_estimators=n_estimators, random_state=0).fit(x, y)
    assert ours.fraction_identical_trees(reference) == 1.0
    np.testing.assert_array_equal(ours.decision_function(x_test), reference.decision_function(x_test))
    np.testing.assert_array_equal(ours.feature_importances_, reference.feature_importances_)
    np.testing.assert_array_equal(ours.predict(x_test), reference.predict(x_test))
    np.testing.assert_allclose(ours.predict_proba(x_test), reference.predict_proba(x_test),
                               rtol=1e-12, atol=1e-15)
    assert ours.n_classes_ == n_classes and ours.n_features_in_ == d
    assert ours.feature_importances_.sum() == pytest.approx(1.0)


def test_default_settings_on_two_thousand_points():
    x, y = _problem(7, 2000, 5, 3)
    x_test, y_test = _problem(8, 1000, 5, 3)
    reference = SklearnGBT(random_state=0).fit(x, y)
    ours = GradientBoostingClassifier().fit(x, y)
    _assert_agrees(ours, reference, x, x_test, y_test)
    assert abs(ours.score(x, y) - reference.score(x, y)) <= 0.01
    assert ours.fraction_identical_trees(reference) == 1.0


def test_repeated_feature_values_agree_closely():
    """Rounded features repeat values: sklearn's unstable sort may break
    last-bit ties differently (here 1 tree in 125 differs; sklearn with
    random_state=1 differs from random_state=0 by 0.11 in probability)."""
    x, y = _problem(11, 1000, 4, 5)
    x = np.round(x, 1)
    x_test, y_test = _problem(12, 500, 4, 5)
    x_test = np.round(x_test, 1)
    reference = SklearnGBT(n_estimators=50, random_state=0).fit(x, y)
    ours = GradientBoostingClassifier(n_estimators=50).fit(x, y)
    _assert_agrees(ours, reference, x, x_test, y_test, atol_proba=0.1)
    assert abs(ours.score(x, y) - reference.score(x, y)) <= 0.01
    assert ours.fraction_identical_trees(reference) >= 0.95


@pytest.mark.parametrize("random_state", [0, 3])
def test_duplicated_columns_follow_sklearns_feature_order(random_state):
    """Columns 0, 2 and 4 are copies: every split on them is an exact tie that
    sklearn resolves by its random feature order, which is replayed."""
    rs = np.random.RandomState(random_state)
    z = rs.randn(300, 2)
    x = np.column_stack([z[:, 0], z[:, 1], z[:, 0], rs.randn(300), z[:, 0]])
    y = (z[:, 0] + 0.3 * z[:, 1] + 0.3 * rs.randn(300) > 0).astype(int) + (z[:, 1] > 1)
    reference = SklearnGBT(n_estimators=10, random_state=random_state).fit(x, y)
    ours = GradientBoostingClassifier(n_estimators=10, random_state=random_state).fit(x, y)
    assert ours.fraction_identical_trees(reference) == 1.0
    assert set(np.unique(ours._feature[ours._feature >= 0])) & {2, 4}, \
        "the replay should pick copies other than the lowest index"


def test_labels_constant_feature_and_rare_classes():
    rs = np.random.RandomState(0)
    x = np.column_stack([rs.randn(200), np.full(200, 3.0), rs.randn(200)])
    y = np.where(x[:, 0] + x[:, 2] > 0, 7, 3)
    y[0] = 9  # a class with a single sample
    reference = SklearnGBT(n_estimators=20, random_state=0).fit(x, y)
    ours = GradientBoostingClassifier(n_estimators=20).fit(x, y)
    assert list(ours.classes_) == [3, 7, 9] and ours.n_classes_ == 3
    assert ours.feature_importances_[1] == 0.0
    assert ours.predict(x[:1])[0] == 9
    assert ours.predict(x).dtype == y.dtype
    assert ours.fraction_identical_trees(reference) == 1.0
    np.testing.assert_array_equal(ours.predict(x), reference.predict(x))


@pytest.mark.parametrize("labels", [[0, 1], [0, 1, 2, 2, 3, 3, 4]])
def test_ten_samples(labels):
    rs = np.random.RandomState(1)
    x = rs.randn(10, 3)
    y = np.resize(np.asarray(labels), 10)
    reference = SklearnGBT(random_state=0).fit(x, y)
    ours = GradientBoostingClassifier().fit(x, y)
    assert ours.fraction_identical_trees(reference) == 1.0
    np.testing.assert_array_equal(ours.predict(x), reference.predict(x))
    np.testing.assert_allclose(ours.feature_importances_, reference.feature_importances_,
                               rtol=1e-12)


def test_all_stumps_give_zero_importances():
    """A feature that cannot separate anything: single-node trees only."""
    x = np.ones((6, 2))
    y = np.array([0, 1, 0, 1, 0, 1])
    ours = GradientBoostingClassifier(n_estimators=3).fit(x, y)
    reference = SklearnGBT(n_estimators=3, random_state=0).fit(x, y)
    np.testing.assert_array_equal(ours.feature_importances_, reference.feature_importances_)
    np.testing.assert_allclose(ours.predict_proba(x), reference.predict_proba(x))


def test_deterministic_and_thread_count_independent():
    x, y = _problem(1, 500, 4, 6)
    fits = [GradientBoostingClassifier(n_estimators=15, n_threads=t).fit(x, y) for t in (1, 2, 2, 3)]
    for other in fits[1:]:
        for name in ("_feature", "_threshold", "_left", "_value", "feature_importances_"):
            np.testing.assert_array_equal(getattr(fits[0], name), getattr(other, name))
        np.testing.assert_array_equal(fits[0].decision_function(x), other.decision_function(x))


def test_validates_input():
    x, y = _problem(1, 120, 3, 3)
    with pytest.raises(ValueError, match="two classes"):
        GradientBoostingClassifier().fit(x, np.zeros(len(x)))
    with pytest.raises(ValueError, match="shape"):
        GradientBoostingClassifier().fit(x, y[:-1])
    with pytest.raises(ValueError, match="finite"):
        GradientBoostingClassifier().fit(np.full((4, 2), np.nan), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="features"):
        GradientBoostingClassifier(n_estimators=2).fit(x, y).predict(x[:, :2])
    with pytest.raises(RuntimeError, match="not fitted"):
        GradientBoostingClassifier().predict(x)
    with pytest.raises(ValueError, match="n_estimators"):
        GradientBoostingClassifier(n_estimators=0).fit(x, y)


def test_dci_scores_match_sklearn():
    rs = np.random.RandomState(5)
    n = 800
    factors = np.column_stack([rs.randint(3, size=n), rs.randint(5, size=n), rs.randint(2, size=n)])
    codes = np.column_stack([factors[:, 0] + 0.3 * rs.randn(n), factors[:, 1] + 0.3 * rs.randn(n),
                             0.5 * factors[:, 0] + rs.randn(n), factors[:, 2] + rs.randn(n),
                             rs.randn(n)]).astype(np.float32)
    importance = {}
    for name, make in (("sklearn", SklearnGBT), ("ours", GradientBoostingClassifier)):
        importance[name] = np.stack([make(n_estimators=30, random_state=0)
                                     .fit(codes, factors[:, j]).feature_importances_
                                     for j in range(3)], axis=1)
    np.testing.assert_allclose(importance["ours"], importance["sklearn"], atol=1e-12)
    assert disentanglement(importance["ours"]) == pytest.approx(
        disentanglement(importance["sklearn"]), abs=0.02)
    assert completeness(importance["ours"]) == pytest.approx(completeness(importance["sklearn"]),
                                                             abs=0.02)
