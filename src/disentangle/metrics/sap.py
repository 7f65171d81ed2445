"""Separated Attribute Predictability (`evaluation/metrics/sap_score.py: compute_sap`, config ``sap_score``).

Score matrix S (codes x factors): discrete factors (the study's setting) — the
test accuracy of ``LinearSVC(C=0.01, class_weight="balanced")`` fit on the
single code i to predict factor j; continuous factors (unit tests only) —
squared correlation from the *train* set, 0 when var(code) <= 1e-12 (and, unlike
the reference's 0/0, when the factor is constant). SAP = mean over factors of
the gap between the two largest scores of the column.
"""

from __future__ import annotations

import numpy as np
import torch
from joblib import Parallel, delayed

from ..estimators import linear_svc
from .utils import (Array, Represent, Seed, accuracy, as_random_state, check_codes, check_factors,
                    fit_classifier, generate_codes, to_numpy, top_two_gap)


def _squared_correlations(codes: Array, factors: np.ndarray) -> np.ndarray:
    """cov(c_i, y_j)^2 / (var c_i var y_j) with ddof=1; torch codes stay on device."""
    if isinstance(codes, torch.Tensor):
        x = codes.to(torch.float64)
        y = torch.as_tensor(factors, dtype=torch.float64, device=x.device)
        xc, yc = x - x.mean(0), y - y.mean(0)
        n1 = max(len(x) - 1, 1)
        cov, var_x, var_y = (to_numpy(t) for t in (xc.T @ yc / n1, (xc * xc).sum(0) / n1,
                                                     (yc * yc).sum(0) / n1))
    else:
        x, y = codes.astype(np.float64), factors.astype(np.float64)
        xc, yc = x - x.mean(0), y - y.mean(0)
        n1 = max(len(x) - 1, 1)
        cov, var_x, var_y = xc.T @ yc / n1, (xc * xc).sum(0) / n1, (yc * yc).sum(0) / n1
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = cov**2 / (var_x[:, None] * var_y[None, :])
    return np.where((var_x[:, None] > 1e-12) & (var_y[None, :] > 0), scores, 0.0)


def _svc_accuracy(code_train, y_train, code_test, y_test) -> float:
    model = fit_classifier(linear_svc, code_train[:, None], y_train)
    return accuracy(model, code_test[:, None], y_test)


def sap_score_matrix(codes_train: Array, factors_train: np.ndarray, codes_test: Array,
                     factors_test: np.ndarray, *, continuous_factors: bool = False,
                     n_jobs: int = 1) -> np.ndarray:
    if continuous_factors:
        return _squared_correlations(codes_train, factors_train)
    x_train, x_test = to_numpy(codes_train), to_numpy(codes_test)
    d, k = x_train.shape[1], factors_train.shape[1]
    scores = Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(_svc_accuracy)(x_train[:, i], factors_train[:, j], x_test[:, i], factors_test[:, j])
        for i in range(d) for j in range(k))
    return np.asarray(scores, dtype=np.float64).reshape(d, k)


def sap(codes_train: Array, factors_train: Array, codes_test: Array, factors_test: Array, *,
        continuous_factors: bool = False, n_jobs: int = 1) -> dict[str, float]:
    """``{"SAP_score": ...}`` from train/test codes (N, D) and factors (N, K)."""
    codes_train = check_codes(codes_train, "codes_train")
    codes_test = check_codes(codes_test, "codes_test")
    factors_train = check_factors(factors_train, codes_train.shape[0], "factors_train")
    factors_test = check_factors(factors_test, codes_test.shape[0], "factors_test")
    scores = sap_score_matrix(codes_train, factors_train, codes_test, factors_test,
                              continuous_factors=continuous_factors, n_jobs=n_jobs)
    return {"SAP_score": float(np.mean(top_two_gap(scores)))}


def sample_sap(dataset, represent: Represent, *, seed: Seed, num_train: int = 10_000,
               num_test: int = 5_000, batch_size: int = 16, continuous_factors: bool = False,
               n_jobs: int = 1) -> dict[str, float]:
    rng = as_random_state(seed)
    train = generate_codes(dataset, represent, num_train, rng, batch_size)
    test = generate_codes(dataset, represent, num_test, rng, batch_size)
    return sap(*train, *test, continuous_factors=continuous_factors, n_jobs=n_jobs)
