"""Paper vs modern classifier semantics (book/design.md, "Classifier semantics"): with
``classifiers="paper"`` the BetaVAE score, explicitness and the downstream logistic
regression fit as scikit-learn 0.20 did (one-vs-rest), checked against scikit-learn's
own one-vs-rest estimators on the same data."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold
from sklearn.multiclass import OneVsRestClassifier

from disentangle.data.base import GroundTruthDataset
from disentangle.metrics import beta_vae_score, downstream_accuracies, evaluate, modularity_explicitness
from disentangle.metrics.beta_vae import sample_beta_vae_points
from disentangle.estimators.logistic import OneVsRestLogisticRegressionCV


def _codes(kind: str, n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """10-D codes of one factor with k classes: one code aligned with it, the factor
    mixed into every code, or pure noise."""
    rs = np.random.RandomState(seed)
    y = rs.randint(0, k, size=n)
    z = rs.randn(n, 10)
    if kind == "aligned":
        z[:, 0] = y / k + 0.02 * rs.randn(n)
    elif kind == "mixed":
        z = 0.1 * z + np.outer(y / k, rs.randn(10))
    return z, y


def _fit(model, x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(x, y)


def _liblinear_ovr():
    return OneVsRestClassifier(LogisticRegression(solver="liblinear"))


CASES = [(kind, k) for kind in ("aligned", "mixed", "noise") for k in (3, 40)]


@pytest.mark.parametrize("kind,k", CASES)
def test_downstream_paper_is_sklearns_one_vs_rest_cv(kind, k):
    x, y = _codes(kind, 1200, k, seed=k)
    x_train, y_train, x_test, y_test = x[:200], y[:200], x[200:], y[200:]
    ours = _fit(OneVsRestLogisticRegressionCV(), x_train, y_train)  # lbfgs stopped as 0.20 did
    ref = _fit(OneVsRestClassifier(LogisticRegressionCV(Cs=10, cv=KFold(5))), x_train, y_train)
    # 0.20's stopping rule moves a few unconverged fits: at most 1 of the 1,000 test points here
    assert abs(ours.score(x_test, y_test) - ref.score(x_test, y_test)) <= 1e-3 + 1e-12
    assert abs(ours.score(x_train, y_train) - ref.score(x_train, y_train)) <= 1e-2 + 1e-12  # 2 of 200
    # with today's lbfgs stopping rule: the same Cs and probabilities as scikit-learn 1.9's
    today = _fit(OneVsRestLogisticRegressionCV(stopping="sklearn-1.9"), x_train, y_train)
    np.testing.assert_array_equal(today.C_, [np.ravel(e.C_)[0] for e in ref.estimators_])  # a C per class
    np.testing.assert_allclose(today.predict_proba(x_test), ref.predict_proba(x_test), atol=1e-3)
    # the metric's "paper" predictor is this estimator
    scores = downstream_accuracies(x_train, y_train[:, None], x_test, y_test[:, None])
    assert scores["mean_test_accuracy"] == ours.score(x_test, y_test)


def _one_vs_rest_cv_as_in_2018(x, y, x_test):
    """scikit-learn 0.20's one-vs-rest LogisticRegressionCV(Cs=10, cv=KFold(5)) written out:
    per class, labels +-1, summed logistic loss + 0.5/C |w|^2 (intercept free), warm-started
    path over Cs by scipy's ``fmin_l_bfgs_b(pgtol=1e-4, maxiter=100)``, C by the sum over
    folds of binary accuracy, refit from the folds' mean; predictions = argmax."""
    from scipy.optimize import fmin_l_bfgs_b
    from scipy.special import expit, log_expit

    def loss(w, x, t, alpha):
        tz = t * (x @ w[:-1] + w[-1])
        r = (expit(tz) - 1) * t
        return -log_expit(tz).sum() + 0.5 * alpha * w[:-1] @ w[:-1], np.append(x.T @ r + alpha * w[:-1], r.sum())

    def path(x, t, cs, w):
        out = []
        for c in cs:
            w = fmin_l_bfgs_b(loss, w, args=(x, t, 1.0 / c), pgtol=1e-4, maxiter=100)[0]
            out.append(w)
        return out

    cs, classes, decisions = np.logspace(-4, 4, 10), np.unique(y), []
    for k in classes:
        t = np.where(y == k, 1.0, -1.0)
        paths, scores = [], []
        for train, test in KFold(5).split(x):
            paths.append(path(x[train], t[train], cs, np.zeros(x.shape[1] + 1)))
            scores.append([np.mean(np.where(x[test] @ w[:-1] + w[-1] > 0, 1.0, -1.0) == t[test]) for w in paths[-1]])
        best = int(np.argmax(np.sum(scores, axis=0)))
        w = path(x, t, [cs[best]], np.mean([p[best] for p in paths], axis=0))[0]
        decisions.append(x_test @ w[:-1] + w[-1])
    return classes[np.argmax(decisions, axis=0)]


@pytest.mark.parametrize("kind,k,n", [("mixed", 6, 100), ("aligned", 40, 100), ("noise", 3, 300)])
def test_downstream_paper_stops_lbfgs_as_scikit_learn_0_20(kind, k, n):
    x, y = _codes(kind, 6000, k, seed=k)
    x_test, y_test = x[1000:], y[1000:]
    ours = _fit(OneVsRestLogisticRegressionCV(), x[:n], y[:n])
    predicted = _one_vs_rest_cv_as_in_2018(x[:n], y[:n], x_test)
    assert abs(ours.score(x_test, y_test) - np.mean(predicted == y_test)) <= 1e-3
    if (kind, k) == ("mixed", 6):  # where 0.20's stopping rule matters: 1.9's stops earlier
        today = _fit(OneVsRestLogisticRegressionCV(stopping="sklearn-1.9"), x[:n], y[:n])
        assert abs(today.score(x_test, y_test) - ours.score(x_test, y_test)) > 5e-3


def test_downstream_modern_is_one_multinomial_fit_and_differs():
    x, y = _codes("mixed", 1200, 40, seed=1)
    args = (x[:300], y[:300, None], x[300:], y[300:, None])
    ref = _fit(LogisticRegressionCV(Cs=10, cv=KFold(5)), x[:300], y[:300])
    modern = downstream_accuracies(*args, classifiers="modern")
    # the numba multinomial fit matches sklearn's to ~0.005 where large-C fits stop unconverged
    assert abs(modern["mean_test_accuracy"] - ref.score(x[300:], y[300:])) <= 0.01
    assert modern["mean_test_accuracy"] > downstream_accuracies(*args)["mean_test_accuracy"] + 0.05


def _explicitness_reference(x_train, y_train, x_test, y_test):
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    model = _fit(_liblinear_ovr(), (x_train - mean) / std, y_train)
    classes = model.classes_
    return [roc_auc_score(y[:, None] == classes, model.predict_proba((x - mean) / std), average="macro")
            for x, y in ((x_train, y_train), (x_test, y_test))]


@pytest.mark.parametrize("kind,k", CASES)
def test_explicitness_paper_is_liblinear_one_vs_rest(kind, k):
    x, y = _codes(kind, 3000, k, seed=10 + k)
    scores = modularity_explicitness(x[:2000], y[:2000, None], x[2000:], y[2000:, None])
    train, test = _explicitness_reference(x[:2000], y[:2000], x[2000:], y[2000:])
    assert abs(scores["explicitness_score_train"] - train) <= 1e-3
    assert abs(scores["explicitness_score_test"] - test) <= 1e-3


def test_explicitness_modern_differs_on_mixed_codes():
    x, y = _codes("mixed", 3000, 40, seed=3)
    args = (x[:2000], y[:2000, None], x[2000:], y[2000:, None])
    paper, modern = modularity_explicitness(*args), modularity_explicitness(*args, classifiers="modern")
    assert abs(paper["explicitness_score_test"] - modern["explicitness_score_test"]) > 0.01
    np.testing.assert_equal(paper["modularity_score"], modern["modularity_score"])  # no classifier in it


class _Factors(GroundTruthDataset):
    """dSprites-shaped factors (5, with 3 to 40 values), observations = the factors."""
    factor_sizes = (3, 6, 40, 32, 32)
    observation_shape = (1, 1, 5)

    def observations(self, factors, rng):
        return factors.astype(np.float32)[:, None, None, :]


class _Mixed:
    def __init__(self):
        self.weights = np.random.RandomState(0).randn(5, 10)

    def __call__(self, x):
        return x.reshape(len(x), 5) / np.array(_Factors.factor_sizes) @ self.weights


@pytest.mark.parametrize("classifiers", ["paper", "modern"])
def test_beta_vae_score_follows_the_classifier_semantics(classifiers):
    ds, rep = _Factors(), _Mixed()
    scores = beta_vae_score(ds, rep, seed=5, batch_size=8, num_train=300, num_eval=200, classifiers=classifiers)
    rng = np.random.RandomState(5)  # the same draws, in the metric's order
    x_train, y_train = sample_beta_vae_points(ds, rep, 300, rng, 8)
    x_eval, y_eval = sample_beta_vae_points(ds, rep, 200, rng, 8)
    ref = _liblinear_ovr() if classifiers == "paper" else LogisticRegression()
    ref = _fit(ref, x_train, y_train)
    assert abs(scores["eval_accuracy"] - ref.score(x_eval, y_eval)) <= 1e-3
    assert abs(scores["train_accuracy"] - ref.score(x_train, y_train)) <= 1e-3


def test_evaluate_passes_the_semantics_and_rejects_unknown_ones():
    ds, rep = _Factors(), _Mixed()
    small = {"modularity_explicitness": {"num_train": 500, "num_test": 300}}
    paper = evaluate(ds, rep, metrics=["modularity_explicitness"], seed=0, overrides=small)
    again = evaluate(ds, rep, metrics=["modularity_explicitness"], seed=0, overrides=small, classifiers="paper")
    modern = evaluate(ds, rep, metrics=["modularity_explicitness"], seed=0, overrides=small, classifiers="modern")
    key = "modularity_explicitness.explicitness_score_test"
    assert paper[key] == again[key] and paper[key] != modern[key]
    with pytest.raises(ValueError, match="classifiers must be one of"):
        evaluate(ds, rep, metrics=["mig"], seed=0, classifiers="multinomial")
