"""Unsupervised scores of a representation (`evaluation/metrics/unsupervised_metrics.py: unsupervised_metrics`, config ``unsupervised``).

From the unbiased code covariance (ddof=1): Gaussian total correlation
KL(N(0, C) || N(0, diag C)), squared 2-Wasserstein distance between the same
two Gaussians (and its ratio to trace C), plus the mean pairwise discrete MI of
20-bin discretised codes over ordered pairs i != j. The factors are not used.

The Wasserstein term's trace(sqrtm(diag(C) C)) is computed as
sum(sqrt(eig(D^1/2 C D^1/2))) — the same number (similar matrices), without
``scipy.linalg.sqrtm``'s complex round-off. Constant codes are independent of
everything: the Gaussian TC is taken over the non-constant codes (the
reference returns NaN for a zero variance). Fewer than two codes: MI score NaN.
"""

from __future__ import annotations

import numpy as np
import torch

from .utils import (Array, Represent, Seed, check_codes, discrete_mutual_info, generate_codes,
                    histogram_discretize, to_numpy)


def covariance(codes: Array) -> np.ndarray:
    """Unbiased (D, D) covariance, float64; torch codes are reduced on device."""
    if isinstance(codes, torch.Tensor):
        x = codes.to(torch.float64) if codes.device.type != "mps" else codes.to(torch.float32)
        xc = x - x.mean(0)
        return to_numpy(xc.T @ xc / (len(x) - 1)).astype(np.float64)
    return np.atleast_2d(np.cov(codes, rowvar=False))


def gaussian_total_correlation(cov: np.ndarray) -> float:
    """0.5 (sum_i log C_ii - log det C) over the codes with C_ii > 0."""
    cov = np.atleast_2d(np.asarray(cov, dtype=np.float64))
    keep = np.diag(cov) > 0
    sub = cov[np.ix_(keep, keep)]
    return float(0.5 * (np.sum(np.log(np.diag(sub))) - np.linalg.slogdet(sub)[1]))


def gaussian_wasserstein_correlation(cov: np.ndarray) -> float:
    """2 trace(C) - 2 trace(sqrtm(diag(C) C))."""
    cov = np.atleast_2d(np.asarray(cov, dtype=np.float64))
    root_var = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    symmetric = root_var[:, None] * cov * root_var[None, :]
    eigenvalues = np.linalg.eigvalsh((symmetric + symmetric.T) / 2)
    return float(2 * np.trace(cov) - 2 * np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))))


def unsupervised_scores(codes: Array, *, num_bins: int = 20) -> dict[str, float]:
    codes = check_codes(codes)
    if codes.shape[0] < 2:
        raise ValueError("the unsupervised scores need at least 2 samples")
    cov = covariance(codes)
    wasserstein = gaussian_wasserstein_correlation(cov)
    trace = np.trace(cov)
    num_codes = codes.shape[1]
    discrete = histogram_discretize(codes, num_bins)
    mutual_info = discrete_mutual_info(discrete, discrete)
    np.fill_diagonal(mutual_info, 0.0)
    return {
        "gaussian_total_correlation": gaussian_total_correlation(cov),
        "gaussian_wasserstein_correlation": wasserstein,
        "gaussian_wasserstein_correlation_norm": float(wasserstein / trace) if trace > 0 else float("nan"),
        "mutual_info_score": (float(mutual_info.sum() / (num_codes**2 - num_codes))
                              if num_codes > 1 else float("nan")),
    }


def sample_unsupervised(dataset, represent: Represent, *, seed: Seed, num_train: int = 10_000,
                        batch_size: int = 16, num_bins: int = 20) -> dict[str, float]:
    codes, _ = generate_codes(dataset, represent, num_train, seed, batch_size)
    return unsupervised_scores(codes, num_bins=num_bins)
