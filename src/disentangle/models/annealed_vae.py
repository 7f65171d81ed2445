"""AnnealedVAE (`methods/unsupervised/vae.py: AnnealedVAE`; Burgess et al., Eq. 8): ``gamma * |KL - C(step)|``."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .vae import GaussianVAE


@dataclass(frozen=True)
class AnnealedVAEConfig:
    c_max: float = 25.0
    gamma: float = 1000.0
    iteration_threshold: int = 100_000


def annealed_capacity(step: int, c_max: Tensor | float, iteration_threshold: Tensor | float) -> Tensor:
    """``C(step) = min(c_max, c_max * step / iteration_threshold)``: a linear ramp
    from 0 nats at global step 0 to ``c_max``, constant afterwards (`methods/unsupervised/vae.py: anneal`)."""
    c_max = torch.as_tensor(c_max, dtype=torch.float32)
    return torch.minimum(c_max, c_max * step / iteration_threshold)


class AnnealedVAE(GaussianVAE):
    name = "annealed_vae"
    Config = AnnealedVAEConfig

    def regularize(self, *, kl: Tensor, step: int, **_) -> tuple[Tensor, None]:
        capacity = annealed_capacity(step, self.per_model("c_max", kl), self.per_model("iteration_threshold", kl))
        return self.per_model("gamma", kl) * (kl - capacity).abs(), None
