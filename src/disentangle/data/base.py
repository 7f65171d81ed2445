"""The ground-truth dataset interface (`data/ground_truth/ground_truth_data.py: GroundTruthData`).

A dataset exposes only its *latent* factors. ``sample_factors`` draws each
factor uniformly; ``observations`` renders or looks up images (float32 in
[0, 1], shape (n, H, W, C)); stochastic variants draw colour/noise from the
``rng`` passed in. All randomness comes from an explicit
``numpy.random.Generator`` (or legacy ``RandomState``) argument.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

import numpy as np

Rng = np.random.Generator | np.random.RandomState


def randint(rng: Rng, high: int, size) -> np.ndarray:
    """``rng.integers`` / ``rng.randint`` for either numpy RNG flavour."""
    if isinstance(rng, np.random.Generator):
        return rng.integers(0, high, size=size)
    return rng.randint(0, high, size=size)


def uniform(rng: Rng, low: float, high: float, size) -> np.ndarray:
    return rng.uniform(low, high, size=size)


class GroundTruthDataset(ABC):
    """Common interface of every dataset (`data/ground_truth/ground_truth_data.py: GroundTruthData`)."""

    #: registry name, e.g. ``"dsprites"``
    name: str = ""
    #: ``"file"`` (real data) or ``"procedural"`` (rendered offline stand-in)
    source: str = "file"
    factor_names: tuple[str, ...] = ()
    factor_sizes: tuple[int, ...] = ()
    observation_shape: tuple[int, int, int] = (64, 64, 1)

    @property
    def num_factors(self) -> int:
        return len(self.factor_sizes)

    @property
    def label(self) -> str:
        """Name for plots/records; procedural stand-ins say so."""
        return f"{self.name} (procedural)" if self.source == "procedural" else self.name

    @property
    def identity(self) -> dict:
        """What the data is made from, for run records: name and source, plus any
        input file's hash where the source alone does not pin it (Scream-dSprites)."""
        return {"name": self.name, "source": self.source}

    def sample_factors(self, n: int, rng: Rng) -> np.ndarray:
        """(n, K) int64, each factor independently uniform over its values."""
        cols = [randint(rng, s, n) for s in self.factor_sizes]
        return np.stack(cols, axis=1).astype(np.int64) if cols else np.zeros((n, 0), np.int64)

    @abstractmethod
    def observations(self, factors: np.ndarray, rng: Rng) -> np.ndarray:
        """(n, H, W, C) float32 in [0, 1] for the given (n, K) latent factors."""

    def sample(self, n: int, rng: Rng) -> tuple[np.ndarray, np.ndarray]:
        """Factors first, then observations (as the reference does)."""
        f = self.sample_factors(n, rng)
        return f, self.observations(f, rng)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, source={self.source!r}, factor_sizes={self.factor_sizes})"


class GridIndex:
    """Row-major flat index over a full factor grid (last factor fastest)."""

    def __init__(self, sizes: Sequence[int]):
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.bases = np.concatenate([np.cumprod(self.sizes[::-1])[::-1][1:], [1]]).astype(np.int64)
        self.size = int(np.prod(self.sizes))

    def index_of(self, factors: np.ndarray) -> np.ndarray:
        factors = np.asarray(factors, dtype=np.int64)
        if factors.shape[-1] != len(self.sizes):
            raise ValueError(f"expected {len(self.sizes)} factors, got shape {factors.shape}")
        if np.any(factors < 0) or np.any(factors >= self.sizes):
            raise ValueError("factor value out of range")
        return factors @ self.bases

    def factors_of(self, index: np.ndarray) -> np.ndarray:
        index = np.asarray(index, dtype=np.int64)
        if np.any(index < 0) or np.any(index >= self.size):
            raise ValueError("index out of range")
        return (index[..., None] // self.bases) % self.sizes
