"""DIP-VAE-I and DIP-VAE-II (`methods/unsupervised/vae.py: DIPVAE`; Kumar et al., Eqs. 6–7).

``regularizer = KL + lambda_od * sum_{i!=j} M_ij^2 + lambda_d * sum_i (M_ii - 1)^2``
with ``lambda_d = lambda_d_factor * lambda_od`` and the *biased* batch covariance:

* DIP-VAE-I:  M = Cov[mu],                           lambda_d_factor = 10
* DIP-VAE-II: M = Cov[mu] + mean_b diag(exp(logvar)), lambda_d_factor = 1
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .losses import batch_covariance, dip_penalty
from .vae import GaussianVAE


@dataclass(frozen=True)
class DIPVAEIConfig:
    lambda_od: float = 1.0
    lambda_d_factor: float = 10.0


@dataclass(frozen=True)
class DIPVAEIIConfig:
    lambda_od: float = 1.0
    lambda_d_factor: float = 1.0


class DIPVAEI(GaussianVAE):
    name = "dip_vae_i"
    Config = DIPVAEIConfig

    def matrix(self, z_mean: Tensor, z_logvar: Tensor) -> Tensor:
        return batch_covariance(z_mean)

    def regularize(self, *, kl: Tensor, z_mean: Tensor, z_logvar: Tensor, **_) -> tuple[Tensor, None]:
        lambda_od = self.per_model("lambda_od", kl)
        lambda_d = self.per_model("lambda_d_factor", kl) * lambda_od
        return kl + dip_penalty(self.matrix(z_mean, z_logvar), lambda_od, lambda_d), None


class DIPVAEII(DIPVAEI):
    name = "dip_vae_ii"
    Config = DIPVAEIIConfig

    def matrix(self, z_mean: Tensor, z_logvar: Tensor) -> Tensor:
        return batch_covariance(z_mean) + torch.diag_embed(z_logvar.exp().mean(-2))
