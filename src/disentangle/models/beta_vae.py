"""β-VAE (`methods/unsupervised/vae.py: BetaVAE`): ``regularizer = beta * KL``; beta = 1 is the plain VAE."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from .vae import GaussianVAE


@dataclass(frozen=True)
class BetaVAEConfig:
    beta: float = 1.0


class BetaVAE(GaussianVAE):
    name = "beta_vae"
    Config = BetaVAEConfig

    def regularize(self, *, kl: Tensor, **_) -> tuple[Tensor, None]:
        return self.per_model("beta", kl) * kl, None
