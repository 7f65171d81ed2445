"""A toy 7th method for ``tests/test_vocabulary.py``: adding a method is this one file plus
one ``vocabulary.METHODS`` entry (``module="toy_method"``).

``regularizer = weight * KL / 2``: a β-VAE with half the weight, under another name."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from disentangle.models.vae import GaussianVAE
from disentangle.vocabulary import Method

#: the vocabulary entry a test registers (no paper values and no sweep index: outside the paper's grid)
ENTRY = Method("toy_vae", "ToyVAE", "weight", (), "toy_vae.weight", "toy_method")


@dataclass(frozen=True)
class ToyVAEConfig:
    weight: float = 1.0


class ToyVAE(GaussianVAE):
    name = "toy_vae"
    Config = ToyVAEConfig

    def regularize(self, *, kl: Tensor, **_) -> tuple[Tensor, None]:
        return 0.5 * self.per_model("weight", kl) * kl, None
