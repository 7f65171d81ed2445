"""Tiny datasets for tests (`data/ground_truth/dummy_data.py`): the reference's test doubles."""

from __future__ import annotations

import numpy as np

from .base import GroundTruthDataset, Rng, randint


class IdentityObservations(GroundTruthDataset):
    """10 factors with values 1..10; the observation *is* the factor vector.

    Mirrors the reference's ``IdentityObservationsData`` (values 1..10, not 0..9).
    ``factor_sizes`` is reported as 10 per factor (the values' count).
    """

    name = "identity"
    source = "procedural"
    factor_names = tuple(f"f{i}" for i in range(10))
    factor_sizes = (10,) * 10
    observation_shape = (10,)  # not an image

    def sample_factors(self, n: int, rng: Rng) -> np.ndarray:
        return (randint(rng, 10, (n, 10)) + 1).astype(np.int64)

    def observations(self, factors: np.ndarray, rng: Rng) -> np.ndarray:
        return np.asarray(factors, dtype=np.float32)


class DummyImages(GroundTruthDataset):
    """10 factors of size 5; i.i.d. uniform-noise 64x64xC images unrelated to
    the factors (the reference's ``DummyData``); for shape and plumbing tests."""

    name = "dummy"
    source = "procedural"
    factor_names = tuple(f"f{i}" for i in range(10))
    factor_sizes = (5,) * 10

    def __init__(self, channels: int = 1, size: int = 64):
        self.observation_shape = (size, size, channels)

    def observations(self, factors: np.ndarray, rng: Rng) -> np.ndarray:
        n = len(factors)
        return rng.uniform(0.0, 1.0, size=(n, *self.observation_shape)).astype(np.float32)
