"""Modularity and explicitness (`evaluation/metrics/modularity_explicitness.py: compute_modularity_explicitness`, config ``modularity_explicitness``).

Modularity: from the MI matrix m (codes x factors) of 20-bin discretised train
codes, per code 1 - (sum_j m_ij^2 - t) / (t (K - 1)) with t = max_j m_ij^2, 0
for a code with t = 0; mean over codes. Explicitness: per factor, a default
``LogisticRegression()`` (``estimators.logistic_regression``; ``classifiers="paper"``, the
study's numbers: scikit-learn 0.20's liblinear one-vs-rest, probabilities = per-class
logistic normalised to sum 1; ``"modern"``: lbfgs multinomial) on z-scored
codes (train statistics); macro ROC-AUC of ``predict_proba`` against the
one-hot labels, train and test; mean over factors.

Robustness (the reference would crash in these cases): a constant code is
z-scored with std 1; one-hot label columns are built against the classifier's
classes, and classes absent from (or the only class of) a set are left out of
the macro average; a factor without any valid column scores NaN and is left
out of the mean (NaN when none remains).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import roc_auc_score

from ..estimators import check_classifiers, logistic_regression
from .utils import (Array, Represent, Seed, as_random_state, check_codes, check_factors,
                    discrete_mutual_info, fit_classifier, generate_codes, histogram_discretize, to_numpy)


def modularity(mutual_info: np.ndarray) -> float:
    """Mean per-code modularity of a (codes x factors) MI matrix."""
    squared = np.square(np.asarray(mutual_info, dtype=np.float64))
    top = squared.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (squared.sum(axis=1) - top) / (top * (squared.shape[1] - 1.0))
    return float(np.mean(np.where(top == 0.0, 0.0, 1.0 - delta)))


def normalize(codes: np.ndarray, mean: np.ndarray | None = None,
              std: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-code z-scoring (ddof=0) with given or own statistics; std 0 → 1."""
    mean = codes.mean(axis=0) if mean is None else mean
    if std is None:
        std = codes.std(axis=0)
        std = np.where(std > 0, std, 1.0)
    return (codes - mean) / std, mean, std


def _macro_auc(classes: np.ndarray, y: np.ndarray, proba: np.ndarray) -> float:
    onehot = y[:, None] == classes[None, :]
    present = onehot.any(axis=0) & ~onehot.all(axis=0)
    if not present.any():
        return float("nan")
    return float(roc_auc_score(onehot[:, present], proba[:, present], average="macro"))


def explicitness_per_factor(codes_train: np.ndarray, y_train: np.ndarray, codes_test: np.ndarray,
                            y_test: np.ndarray, classifiers: str = "paper") -> tuple[float, float]:
    model = fit_classifier(lambda: logistic_regression(classifiers), codes_train, y_train)
    return (_macro_auc(model.classes_, y_train, model.predict_proba(codes_train)),
            _macro_auc(model.classes_, y_test, model.predict_proba(codes_test)))


def _nanmean(values: list[float]) -> float:
    values = np.asarray(values, dtype=np.float64)
    return float(values[~np.isnan(values)].mean()) if (~np.isnan(values)).any() else float("nan")


def modularity_explicitness(codes_train: Array, factors_train: Array, codes_test: Array,
                            factors_test: Array, *, num_bins: int = 20,
                            discretize=None, classifiers: str = "paper") -> dict[str, float]:
    """``modularity_score``, ``explicitness_score_train``, ``explicitness_score_test``."""
    check_classifiers(classifiers)
    codes_train = check_codes(codes_train, "codes_train")
    codes_test = check_codes(codes_test, "codes_test")
    factors_train = check_factors(factors_train, codes_train.shape[0], "factors_train")
    factors_test = check_factors(factors_test, codes_test.shape[0], "factors_test")
    discrete = discretize(codes_train) if discretize else histogram_discretize(codes_train, num_bins)
    scores = {"modularity_score": modularity(discrete_mutual_info(discrete, factors_train))}
    x_train, mean, std = normalize(to_numpy(codes_train))
    x_test, _, _ = normalize(to_numpy(codes_test), mean, std)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        per_factor = [explicitness_per_factor(x_train, factors_train[:, j], x_test, factors_test[:, j],
                                              classifiers)
                      for j in range(factors_train.shape[1])]
    scores["explicitness_score_train"] = _nanmean([p[0] for p in per_factor])
    scores["explicitness_score_test"] = _nanmean([p[1] for p in per_factor])
    return scores


def sample_modularity_explicitness(dataset, represent: Represent, *, seed: Seed,
                                   num_train: int = 10_000, num_test: int = 5_000,
                                   batch_size: int = 16, num_bins: int = 20,
                                   classifiers: str = "paper") -> dict[str, float]:
    rng = as_random_state(seed)
    train = generate_codes(dataset, represent, num_train, rng, batch_size)
    test = generate_codes(dataset, represent, num_test, rng, batch_size)
    return modularity_explicitness(*train, *test, num_bins=num_bins, classifiers=classifiers)
