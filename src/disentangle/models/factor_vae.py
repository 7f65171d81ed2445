"""FactorVAE (`methods/unsupervised/vae.py: FactorVAE`; Kim & Mnih, Eq. 2), as the reference implements it.

* ``z_perm`` shuffles each latent column of the *same* minibatch independently
  (permutations drawn from the model's ``torch.Generator``).
* VAE loss: ``recon + KL + gamma * TC`` with ``TC = mean_b(D(z)_0 - D(z)_1)``;
  the gradient flows *through* the discriminator into the encoder, never into
  the discriminator's weights (they are detached for this term).
* Discriminator loss: the negative of ``0.5 mean log p(z)_0 + 0.5 mean log
  p(z_perm)_1`` on ``z.detach()`` / ``z_perm.detach()``, so it never reaches
  the encoder/decoder. Both gradients come from one forward pass at the same
  parameter values (the reference's simultaneous update); the trainer then
  steps both optimisers.
* Discriminator optimiser: Adam(lr 1e-4, betas (0.5, 0.9), eps 1e-8).

Training length (book/design.md, "FactorVAE's double step"): the reference advances the global
step twice per iteration; see ``TrainConfig.factor_vae_double_step``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from ..devices import host_to_device
from .architecture import Discriminator
from .losses import discriminator_loss, discriminator_tc, permute_dims
from .vae import GaussianVAE, adam


@dataclass(frozen=True)
class FactorVAEConfig:
    gamma: float = 10.0


class FactorVAE(GaussianVAE):
    name = "factor_vae"
    Config = FactorVAEConfig

    DISCRIMINATOR_ADAM = {"lr": 1e-4, "betas": (0.5, 0.9), "eps": 1e-8}

    def __init__(self, configs, **architecture):
        super().__init__(configs, **architecture)
        self.discriminator = Discriminator(self.num_models, self.latent_dim)

    def optimisers(self, lr: float, betas: tuple[float, float], eps: float) -> dict[str, torch.optim.Optimizer]:
        opts = super().optimisers(lr, betas, eps)
        opts["discriminator"] = adam(self.discriminator.parameters(), **self.DISCRIMINATOR_ADAM)
        return opts

    def draw_permutations(self, batch_size: int, generators: Sequence[torch.Generator],
                          device: torch.device) -> Tensor:
        """``(K, D, B)``: one independent permutation of the batch per latent and model."""
        perms = [torch.rand(self.latent_dim, batch_size, generator=g).argsort(-1) for g in generators]
        return host_to_device(torch.stack(perms), device)

    def regularize(self, *, kl: Tensor, z: Tensor, generators: Sequence[torch.Generator], **_) -> tuple[Tensor, Tensor]:
        z_perm = permute_dims(z, self.draw_permutations(z.shape[-2], generators, z.device))
        tc = discriminator_tc(self.discriminator(z, detach_parameters=True))
        d_loss = discriminator_loss(self.discriminator(z.detach()), self.discriminator(z_perm.detach()))
        return kl + self.per_model("gamma", kl) * tc, d_loss
