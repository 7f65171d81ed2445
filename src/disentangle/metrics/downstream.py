"""Downstream classification from the representation (`evaluation/metrics/downstream_task.py: compute_downstream_task`, configs
``downstream_task_logistic_regression`` and ``downstream_task_boosted_trees``).

For each train size n (10, 100, 1,000, 10,000): sample n train points and a
*fresh* test set of 5,000, fit one predictor per factor on the raw codes, and
record train/test accuracies. Predictors: ``LogisticRegressionCV(Cs=10,
cv=KFold(5))`` and ``GradientBoostingClassifier()`` (pinned in ``utils``; both
re-implemented in numba, ``logistic.py`` and ``gbt.py``). The logistic regression's
semantics follow ``classifiers``: ``"paper"`` (the study's numbers) = scikit-learn 0.20's
one-vs-rest fit with one C per class; ``"modern"`` = one multinomial fit (>= 0.22).
``"sklearn_logistic_regression"`` and ``"sklearn_boosted_trees"`` run sklearn's own estimators, ``"hist_boosted_trees"``
a histogram GBT. Sample efficiency (a paper definition, not in the code) =
``100:mean_test_accuracy / 10000:mean_test_accuracy``.

Tiny train sets (n = 10, e.g. 183 Cars3D objects): a single-class factor is
predicted as that constant class; otherwise sklearn 1.9 fits with the classes
present (folds missing classes are fine for LogisticRegressionCV).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..estimators import (check_classifiers, gradient_boosting_classifier,
                          hist_gradient_boosting_classifier, logistic_regression_cv,
                          logistic_regression_cv_fast, sklearn_gradient_boosting_classifier,
                          sklearn_logistic_regression_cv)
from .utils import (Array, Represent, Seed, accuracy, as_random_state, check_codes, check_factors,
                    fit_classifier, generate_codes, map_factors, to_numpy)

PREDICTORS = {
    "logistic_regression": logistic_regression_cv,
    "logistic_regression_fast": logistic_regression_cv_fast,
    "sklearn_logistic_regression": sklearn_logistic_regression_cv,
    "boosted_trees": gradient_boosting_classifier,
    "hist_boosted_trees": hist_gradient_boosting_classifier,
    "sklearn_boosted_trees": sklearn_gradient_boosting_classifier,
}
#: predictors whose semantics follow ``classifiers``
_LOGISTIC = ("logistic_regression", "logistic_regression_fast", "sklearn_logistic_regression")


def _fit_factor(make, x_train, y_train, x_test, y_test) -> tuple[float, float]:
    model = fit_classifier(make, x_train, y_train)
    return accuracy(model, x_train, y_train), accuracy(model, x_test, y_test)


def downstream_accuracies(codes_train: Array, factors_train: Array, codes_test: Array,
                          factors_test: Array, *, predictor: str = "logistic_regression",
                          n_jobs: int = 1, prefix: str = "", classifiers: str = "paper") -> dict[str, float]:
    """Per-factor and aggregated train/test accuracies of one train/test pair,
    keys ``"{prefix}mean_test_accuracy"`` etc. (prefix e.g. ``"100:"``)."""
    if predictor not in PREDICTORS:
        raise ValueError(f"predictor must be one of {sorted(PREDICTORS)}, got {predictor!r}")
    check_classifiers(classifiers)
    make = PREDICTORS[predictor]
    if predictor in _LOGISTIC:
        make = lambda: PREDICTORS[predictor](classifiers)  # noqa: E731
    x_train = to_numpy(check_codes(codes_train, "codes_train"))
    x_test = to_numpy(check_codes(codes_test, "codes_test"))
    y_train = check_factors(factors_train, len(x_train), "factors_train")
    y_test = check_factors(factors_test, len(x_test), "factors_test")
    fits = map_factors(lambda j: _fit_factor(make, x_train, y_train[:, j], x_test,
                                             y_test[:, j]), y_train, n_jobs)
    train_acc, test_acc = np.array([f[0] for f in fits]), np.array([f[1] for f in fits])
    scores = {}
    for i, (tr, te) in enumerate(fits):
        scores[f"{prefix}train_accuracy_factor_{i}"] = float(tr)
        scores[f"{prefix}test_accuracy_factor_{i}"] = float(te)
    scores[f"{prefix}mean_train_accuracy"] = float(train_acc.mean())
    scores[f"{prefix}mean_test_accuracy"] = float(test_acc.mean())
    scores[f"{prefix}min_train_accuracy"] = float(train_acc.min())
    scores[f"{prefix}min_test_accuracy"] = float(test_acc.min())
    return scores


def sample_efficiency(scores: dict[str, float]) -> float | None:
    """``100:mean_test_accuracy / 10000:mean_test_accuracy`` (paper §5); None if absent."""
    if "100:mean_test_accuracy" in scores and "10000:mean_test_accuracy" in scores:
        return scores["100:mean_test_accuracy"] / scores["10000:mean_test_accuracy"]
    return None


def downstream(dataset, represent: Represent, *, seed: Seed, predictor: str = "logistic_regression",
               num_train: Sequence[int] = (10, 100, 1_000, 10_000), num_test: int = 5_000,
               batch_size: int = 16, n_jobs: int = 1, classifiers: str = "paper") -> dict[str, float]:
    """The downstream-task metric: train sizes in order, each with a fresh
    test set, all drawn from one ``RandomState(seed)``."""
    rng = as_random_state(seed)
    scores: dict[str, float] = {}
    for n in num_train:
        train = generate_codes(dataset, represent, n, rng, batch_size)
        test = generate_codes(dataset, represent, num_test, rng, batch_size)
        scores.update(downstream_accuracies(*train, *test, predictor=predictor, n_jobs=n_jobs,
                                            prefix=f"{n}:", classifiers=classifiers))
    efficiency = sample_efficiency(scores)
    if efficiency is not None:
        scores["sample_efficiency"] = efficiency
    return scores
