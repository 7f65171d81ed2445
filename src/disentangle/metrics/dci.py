"""DCI disentanglement, completeness and informativeness (`evaluation/metrics/dci.py: compute_dci`, config ``dci``).

For each factor a ``GradientBoostingClassifier()`` (sklearn's algorithm, grown by the
numba re-implementation in ``gbt.py``; ``classifier="sklearn_gbt"`` runs sklearn's own) is fit on the raw codes;
its impurity importances form column j of the (codes x factors) importance
matrix R. Disentanglement = sum_i rho_i (1 - H_K(R_i.)), completeness =
sum_j rho_j (1 - H_D(R_.j)), informativeness = mean train/test accuracy
(accuracies, not errors — `evaluation/metrics/dci.py: compute_dci`). The per-factor fits are independent and run
in parallel (``n_jobs``), which does not change any value.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import scipy.stats

from ..estimators import (gradient_boosting_classifier, hist_gradient_boosting_classifier,
                          sklearn_gradient_boosting_classifier)
from .utils import (Array, Represent, Seed, accuracy, as_random_state, check_codes, check_factors,
                    feature_importances, fit_classifier, generate_codes, map_factors, to_numpy)

CLASSIFIERS = {"gbt": gradient_boosting_classifier, "hist_gbt": hist_gradient_boosting_classifier,
               "sklearn_gbt": sklearn_gradient_boosting_classifier}


def _weights(totals: np.ndarray) -> np.ndarray:
    total = totals.sum()
    return totals / total if total != 0 else np.ones_like(totals) / len(totals)


def disentanglement(importance: np.ndarray) -> float:
    """Importance-weighted mean over codes of 1 - H_base=K(row); an all-zero
    matrix gives uniform weights (and scores 0)."""
    importance = np.asarray(importance, dtype=np.float64)
    per_code = 1.0 - scipy.stats.entropy(importance.T + 1e-11, base=importance.shape[1])
    return float(np.sum(per_code * _weights(importance.sum(axis=1))))


def completeness(importance: np.ndarray) -> float:
    """Importance-weighted mean over factors of 1 - H_base=D(column)."""
    importance = np.asarray(importance, dtype=np.float64)
    per_factor = 1.0 - scipy.stats.entropy(importance + 1e-11, base=importance.shape[0])
    return float(np.sum(per_factor * _weights(importance.sum(axis=0))))


def _fit_factor(make, x_train, y_train, x_test, y_test):
    model = fit_classifier(make, x_train, y_train)
    return (feature_importances(model, x_train.shape[1]), accuracy(model, x_train, y_train),
            accuracy(model, x_test, y_test))


def importance_matrix(codes_train: np.ndarray, factors_train: np.ndarray, codes_test: np.ndarray,
                      factors_test: np.ndarray, *, seed: int = 0, classifier: str = "gbt",
                      n_jobs: int = 1) -> tuple[np.ndarray, float, float]:
    """(R (D, K), mean train accuracy, mean test accuracy)."""
    if classifier not in CLASSIFIERS:
        raise ValueError(f"classifier must be one of {sorted(CLASSIFIERS)}, got {classifier!r}")
    make = partial(CLASSIFIERS[classifier], seed)
    fits = map_factors(lambda j: _fit_factor(make, codes_train, factors_train[:, j], codes_test,
                                             factors_test[:, j]), factors_train, n_jobs)
    importance = np.stack([f[0] for f in fits], axis=1)
    return importance, float(np.mean([f[1] for f in fits])), float(np.mean([f[2] for f in fits]))


def dci(codes_train: Array, factors_train: Array, codes_test: Array, factors_test: Array, *,
        seed: int = 0, classifier: str = "gbt", n_jobs: int = 1) -> dict[str, float]:
    """DCI scores from train/test codes (N, D) and factors (N, K).

    ``seed`` is the GBT's random_state: the reference leaves it unseeded; it only
    breaks ties between equally good splits. ``classifier``: ``"gbt"`` (sklearn's
    trees, numba), ``"sklearn_gbt"`` (sklearn itself) or ``"hist_gbt"`` (histogram GBT)."""
    codes_train = to_numpy(check_codes(codes_train, "codes_train"))
    codes_test = to_numpy(check_codes(codes_test, "codes_test"))
    factors_train = check_factors(factors_train, len(codes_train), "factors_train")
    factors_test = check_factors(factors_test, len(codes_test), "factors_test")
    if codes_train.shape[1] != codes_test.shape[1]:
        raise ValueError("train and test codes differ in dimension")
    importance, train_acc, test_acc = importance_matrix(
        codes_train, factors_train, codes_test, factors_test, seed=seed, classifier=classifier,
        n_jobs=n_jobs)
    return {"informativeness_train": train_acc, "informativeness_test": test_acc,
            "disentanglement": disentanglement(importance), "completeness": completeness(importance)}


def sample_dci(dataset, represent: Represent, *, seed: Seed, num_train: int = 10_000,
               num_test: int = 5_000, batch_size: int = 16, classifier: str = "gbt",
               n_jobs: int = 1) -> dict[str, float]:
    rng = as_random_state(seed)
    train = generate_codes(dataset, represent, num_train, rng, batch_size)
    test = generate_codes(dataset, represent, num_test, rng, batch_size)
    return dci(*train, *test, classifier=classifier, n_jobs=n_jobs)
