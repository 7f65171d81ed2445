"""The pinned estimators the metrics fit (book/design.md, "Classifier semantics"): one factory per
classifier, with the reference's scikit-learn defaults written out, and the two
classifier semantics of the logistic regressions (``"paper"``, ``"modern"``).

The numba re-implementations live beside this module (:mod:`.logistic`, :mod:`.gbt`);
they are imported on first use (numba is slow to import).
"""

from __future__ import annotations

from typing import Any

import numpy as np


# The reference calls sklearn with defaults (book/design.md, "Classifier semantics"); these are those
# defaults as scikit-learn 1.9 resolves them, written out so a library upgrade
# cannot change them silently. The GBT gets an explicit random_state: the
# reference passes none, which only affects tie-breaking between equally good
# splits (e.g. duplicated codes); a fixed value makes our scores deterministic.
def gradient_boosting_classifier(random_state: int = 0, n_threads: int | None = 1) -> Any:
    """``GradientBoostingClassifier()`` (100 trees, lr 0.1, depth 3, subsample 1) —
    the numba re-implementation in :mod:`.gbt`, which grows sklearn 1.9's trees
    (identical on continuous codes; ``benchmarks/gbt_time.py``) about 10x faster.
    ``n_threads`` grows one stage's trees in parallel (results do not depend on it);
    1 by default because the metrics already fit one factor per thread."""
    from .gbt import GradientBoostingClassifier
    return GradientBoostingClassifier(n_estimators=100, learning_rate=0.1, max_depth=3,
                                      random_state=random_state, n_threads=n_threads)


def sklearn_gradient_boosting_classifier(random_state: int = 0) -> Any:
    """scikit-learn's own ``GradientBoostingClassifier()`` with the same settings
    (the reference estimator; ``classifier="sklearn_gbt"``, for comparisons)."""
    from sklearn.ensemble import GradientBoostingClassifier
    return GradientBoostingClassifier(loss="log_loss", learning_rate=0.1, n_estimators=100,
                                      subsample=1.0, max_depth=3,
                                      min_samples_split=2, min_samples_leaf=1, max_features=None,
                                      random_state=random_state)


def hist_gradient_boosting_classifier(random_state: int = 0) -> Any:
    """The ``settings="fast"`` stand-in for the GBT: histogram GBT with the same
    number of rounds, learning rate and depth (no early stopping)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    return HistGradientBoostingClassifier(learning_rate=0.1, max_iter=100, max_depth=3,
                                          max_leaf_nodes=None, min_samples_leaf=1,
                                          l2_regularization=0.0, early_stopping=False,
                                          random_state=random_state)


#: classifier semantics of the logistic regressions (book/design.md, "Classifier semantics"):
#: ``"paper"`` = scikit-learn 0.20's defaults, as the study ran them (liblinear one-vs-rest
#: ``LogisticRegression()``; one-vs-rest ``LogisticRegressionCV`` with a C per class);
#: ``"modern"`` = scikit-learn >= 0.22's defaults (lbfgs, one multinomial fit).
CLASSIFIER_SEMANTICS = ("paper", "modern")


def check_classifiers(classifiers: str) -> str:
    if classifiers not in CLASSIFIER_SEMANTICS:
        raise ValueError(f"classifiers must be one of {CLASSIFIER_SEMANTICS}, got {classifiers!r}")
    return classifiers


def logistic_regression(classifiers: str = "paper") -> Any:
    """``LogisticRegression()`` with C = 1 and 100 iterations, as the reference calls it
    (BetaVAE score, explicitness).

    ``"paper"``: scikit-learn 0.20's default, liblinear (trust-region Newton on the primal,
    tol 1e-4, intercept penalised as a feature of value ``intercept_scaling=1``) one-vs-rest,
    ``predict_proba`` = per-class logistic normalised to sum 1 — run by scikit-learn's own
    ``OneVsRestClassifier(LogisticRegression(solver="liblinear"))``, the same binary problems
    as 0.20's internal one-vs-rest. ``"modern"``: lbfgs, multinomial (>= 0.22), from the
    numba re-implementation in :mod:`.logistic` (converged fits match sklearn to ~1e-6)."""
    if check_classifiers(classifiers) == "paper":
        return sklearn_logistic_regression(classifiers="paper")
    from .logistic import LogisticRegression
    return LogisticRegression(C=1.0, max_iter=100, tol=1e-4)


def sklearn_logistic_regression(classifiers: str = "paper") -> Any:
    """scikit-learn's own ``LogisticRegression()`` with the settings of
    :func:`logistic_regression` (no ``random_state``: neither solver uses one)."""
    from sklearn.linear_model import LogisticRegression
    if check_classifiers(classifiers) == "paper":
        from sklearn.multiclass import OneVsRestClassifier
        return OneVsRestClassifier(LogisticRegression(C=1.0, l1_ratio=0.0, solver="liblinear", max_iter=100,
                                                      tol=1e-4, intercept_scaling=1.0))
    return LogisticRegression(C=1.0, l1_ratio=0.0, solver="lbfgs", max_iter=100, tol=1e-4)


def logistic_regression_cv(classifiers: str = "paper") -> Any:
    """``LogisticRegressionCV(Cs=10, cv=KFold(n_splits=5))`` (no shuffling), lbfgs
    (100 iterations, tol 1e-4), accuracy scoring — the numba re-implementation in
    :mod:`.logistic` (same folds, path, C selection and refit; converged fits agree with
    sklearn to ~1e-6, unconverged large-C fits to ~0.005 accuracy; ``benchmarks/logistic_time.py``).

    ``"paper"``: one-vs-rest with one C per class, as scikit-learn 0.20 fitted it (each
    binary problem cross-validated by its own accuracy, lbfgs stopped by 0.20's rule on the
    summed loss) = today's ``OneVsRestClassifier(LogisticRegressionCV(...))`` up to where
    unconverged fits stop (tests: 0.20 exactly; 1.9's one-vs-rest to ~1e-3).
    ``"modern"``: one multinomial fit."""
    from .logistic import LogisticRegressionCV, OneVsRestLogisticRegressionCV
    cls = OneVsRestLogisticRegressionCV if check_classifiers(classifiers) == "paper" else LogisticRegressionCV
    return cls(Cs=10, n_folds=5, max_iter=100, tol=1e-4, n_threads=1)


def sklearn_logistic_regression_cv(classifiers: str = "paper") -> Any:
    """scikit-learn's own estimator with the settings of :func:`logistic_regression_cv`
    (the reference; ``predictor="sklearn_logistic_regression"``, for comparisons)."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import KFold
    model = LogisticRegressionCV(Cs=10, cv=KFold(n_splits=5), l1_ratios=(0.0,), scoring="accuracy",
                                 solver="lbfgs", max_iter=100, tol=1e-4, use_legacy_attributes=False)
    if check_classifiers(classifiers) == "paper":
        from sklearn.multiclass import OneVsRestClassifier
        return OneVsRestClassifier(model)
    return model


def logistic_regression_cv_fast(classifiers: str = "paper") -> Any:
    """The ``"fast"`` settings' stand-in for :func:`logistic_regression_cv` (same
    semantics): 5 Cs on the same log grid's span and 3 unshuffled folds (~3x fewer fits)."""
    from .logistic import LogisticRegressionCV, OneVsRestLogisticRegressionCV
    cls = OneVsRestLogisticRegressionCV if check_classifiers(classifiers) == "paper" else LogisticRegressionCV
    return cls(Cs=np.logspace(-4, 4, 5), n_folds=3, max_iter=100, tol=1e-4, n_threads=1)


def linear_svc() -> Any:
    """SAP's ``LinearSVC(C=0.01, class_weight="balanced")`` with 1.9's other defaults
    (``dual="auto"`` → the primal solver here); random_state=0 for determinism."""
    from sklearn.svm import LinearSVC
    return LinearSVC(C=0.01, class_weight="balanced", dual="auto", max_iter=1000, random_state=0)
