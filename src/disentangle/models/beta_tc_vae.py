"""β-TCVAE (`methods/unsupervised/vae.py: BetaTCVAE`; Chen et al., Eq. 4 with alpha = gamma = 1):
``regularizer = KL + (beta - 1) * TC_hat`` with the constant-free minibatch TC."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from .losses import total_correlation
from .vae import GaussianVAE


@dataclass(frozen=True)
class BetaTCVAEConfig:
    beta: float = 1.0


class BetaTCVAE(GaussianVAE):
    name = "beta_tc_vae"
    Config = BetaTCVAEConfig

    def regularize(self, *, kl: Tensor, z_mean: Tensor, z_logvar: Tensor, z: Tensor, **_) -> tuple[Tensor, None]:
        tc = total_correlation(z, z_mean, z_logvar)
        return kl + (self.per_model("beta", kl) - 1.0) * tc, None
