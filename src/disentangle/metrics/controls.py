"""Controls for disentanglement scores: the rotated twin (book/design.md, "Controls and the signal gate").

A score measures *disentanglement* only if it rewards axis alignment, not the mere
information the codes carry about the factors. The paper's Theorem 1 (§3) turns this into a
control: a bijection that mixes the latents keeps every bit of information and destroys the
alignment. Its simplest instance on a learned code is a rotation of the standardised codes:

- :func:`standardised` — ``(r(x) - mean) / std`` per dimension, the mean and std estimated on
  ``n_fit`` observations drawn from ``RandomState(seed)``. MIG, DCI, Modularity and the
  FactorVAE score are unchanged by it (``tests/test_metrics_controls.py``); the BetaVAE score
  and SAP change a little, which is why both sides of a comparison are standardised;
- :func:`rotated_twin` — the standardised codes times a Haar-random orthogonal matrix drawn from
  ``numpy.random.default_rng(seed)``: same information, alignment gone.

A model's score "beats its twin" when ``score(standardised) > score(rotated_twin)``, evaluated
with the same metric settings and evaluation seeds, so the rotation is the only difference.
Dimensions that carry no information (posterior collapse: a constant code) have std 0; they
are left at 0 after centring rather than divided by zero.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .utils import Represent

#: observations used to estimate each code dimension's mean and std
N_FIT = 10_000


def random_rotation(dim: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed ``(dim, dim)`` orthogonal matrix (QR of a Gaussian matrix, signs fixed
    so the distribution is uniform; Mezzadri 2007)."""
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


def code_moments(dataset, represent: Represent, *, seed: int, n_fit: int = N_FIT,
                 batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std of ``represent`` over ``n_fit`` observations sampled from
    ``RandomState(seed)`` (std 0 for a constant dimension)."""
    rng = np.random.RandomState(seed)
    codes = []
    for start in range(0, n_fit, batch_size):
        _, x = dataset.sample(min(batch_size, n_fit - start), rng)
        codes.append(np.asarray(represent(x), dtype=np.float64))
    codes = np.concatenate(codes)
    return codes.mean(axis=0), codes.std(axis=0)


def _scale(std: np.ndarray) -> np.ndarray:
    return np.where(std > 0, std, 1.0)


def standardised(dataset, represent: Represent, *, seed: int, n_fit: int = N_FIT) -> Callable[[np.ndarray], np.ndarray]:
    """``represent`` with every dimension centred and scaled to unit variance (see module docstring)."""
    return twin_pair(dataset, represent, seed=seed, rotation_seed=0, n_fit=n_fit)[0]


def rotated_twin(dataset, represent: Represent, *, seed: int, rotation_seed: int,
                 n_fit: int = N_FIT) -> Callable[[np.ndarray], np.ndarray]:
    """The standardised ``represent`` turned by :func:`random_rotation` (``default_rng(rotation_seed)``)."""
    return twin_pair(dataset, represent, seed=seed, rotation_seed=rotation_seed, n_fit=n_fit)[1]


def twin_pair(dataset, represent: Represent, *, seed: int, rotation_seed: int,
              n_fit: int = N_FIT) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """``(standardised, rotated twin)`` of ``represent`` from one estimate of the code moments."""
    mean, std = code_moments(dataset, represent, seed=seed, n_fit=n_fit)
    scale = _scale(std)
    rotation = random_rotation(len(mean), np.random.default_rng(rotation_seed))

    def represent_standardised(x: np.ndarray) -> np.ndarray:
        return ((np.asarray(represent(x), dtype=np.float64) - mean) / scale).astype(np.float32)

    def represent_rotated(x: np.ndarray) -> np.ndarray:
        return (((np.asarray(represent(x), dtype=np.float64) - mean) / scale) @ rotation).astype(np.float32)
    return represent_standardised, represent_rotated
