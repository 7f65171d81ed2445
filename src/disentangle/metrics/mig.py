"""Mutual Information Gap (`evaluation/metrics/mig.py: compute_mig`, config ``mig``).

MIG = mean over factors k of (m_(1) - m_(2)) / H(v_k), with m the discrete MI
between 20-bin histogram-discretised codes and the integer factors (nats).
Sampling: 10,000 points in batches of 16.
"""

from __future__ import annotations

import numpy as np

from .utils import (Array, Represent, Seed, check_codes, check_factors, discrete_entropy,
                    discrete_mutual_info, generate_codes, histogram_discretize, top_two_gap)


def mig_from_mutual_info(mutual_info: np.ndarray, factor_entropy: np.ndarray) -> float:
    """Mean normalised top-two MI gap. Factors with zero entropy (a single value
    in the sample) are left out — the reference would divide by zero and return
    NaN; NaN here only when no factor varies. A single code has gap m_(1)."""
    gaps = top_two_gap(np.asarray(mutual_info, dtype=np.float64))
    varying = np.asarray(factor_entropy) > 0
    if not varying.any():
        return float("nan")
    return float(np.mean(gaps[varying] / factor_entropy[varying]))


def mig(codes: Array, factors: Array, *, num_bins: int = 20, discretize=None) -> dict[str, float]:
    """``{"discrete_mig": ...}`` for codes (N, D) and integer factors (N, K).

    ``discretize`` (codes → integer codes) replaces the histogram discretiser,
    e.g. ``lambda c: c`` for the reference's identity-discretiser tests."""
    codes = check_codes(codes)
    factors = check_factors(factors, codes.shape[0])
    discrete = discretize(codes) if discretize else histogram_discretize(codes, num_bins)
    mutual_info = discrete_mutual_info(discrete, factors)
    return {"discrete_mig": mig_from_mutual_info(mutual_info, discrete_entropy(factors))}


def sample_mig(dataset, represent: Represent, *, seed: Seed, num_train: int = 10_000,
               batch_size: int = 16, num_bins: int = 20) -> dict[str, float]:
    codes, factors = generate_codes(dataset, represent, num_train, seed, batch_size)
    return mig(codes, factors, num_bins=num_bins)
