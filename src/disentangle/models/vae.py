"""The Gaussian-encoder VAE skeleton shared by all six methods (`methods/unsupervised/vae.py: BaseVAE`).

A model object holds a *stack* of K independent models of one method (K = 1
for ordinary use); each may have its own hyperparameter values. Loss parts are
returned per model, shape ``(K,)``; ``loss.sum()`` is what gets minimised
(the models share no parameters, so each gets exactly its own gradient).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Sequence

import torch
from torch import Tensor, nn

from ..devices import host_to_device
from .architecture import Decoder, Encoder, glorot_init
from .losses import bernoulli_reconstruction_loss, gaussian_kl


@dataclass
class LossParts:
    """Per-model loss parts (`methods/unsupervised/vae.py: BaseVAE`), each of shape ``(K,)``.

    ``loss = reconstruction_loss + regularizer``; ``elbo = -(reconstruction_loss + kl_loss)``.
    ``discriminator_loss`` is set only for FactorVAE (minimised by its own optimiser).
    """

    loss: Tensor
    reconstruction_loss: Tensor
    kl_loss: Tensor
    regularizer: Tensor
    elbo: Tensor
    discriminator_loss: Tensor | None = None

    def parts(self) -> dict[str, Tensor]:
        """The named parts that are set, in logging order."""
        return {k: v for k, v in vars(self).items() if v is not None}


def adam(params, *, lr: float, betas: tuple[float, float], eps: float) -> torch.optim.Adam:
    """PyTorch's Adam, fused on CPU and CUDA (torch >= 2.4): one kernel per parameter tensor
    instead of a dozen (on CPU 0.6 vs 2.8 ms per step for the 690k VAE weights), the same update
    up to float rounding. Other devices (e.g. MPS) get the plain form."""
    params = list(params)
    fused = all(p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, fused=fused)


class GaussianVAE(nn.Module):
    """Base class: encoder, reparameterised sample, decoder, Bernoulli loss, KL.

    Subclasses set ``name`` (their key in ``vocabulary.METHODS``, whose entry names
    the swept field of ``Config``), ``Config`` (a dataclass of the method's settings)
    and implement :meth:`regularize`.
    """

    name: ClassVar[str]
    Config: ClassVar[type]

    def __init__(self, configs: Sequence[Any], *, num_channels: int, image_size: int = 64,
                 latent_dim: int = 10, encoder_kernel: int = 2):
        super().__init__()
        if not configs:
            raise ValueError("need at least one model config")
        for c in configs:
            if not isinstance(c, self.Config):
                raise TypeError(f"{self.name} expects {self.Config.__name__}, got {type(c).__name__}")
        self.configs = tuple(configs)  # frozen dataclasses, so per_model's cache stays valid
        self._per_model: dict[tuple[str, torch.dtype, torch.device], Tensor] = {}
        self.num_models = len(configs)
        self.num_channels, self.image_size, self.latent_dim = num_channels, image_size, latent_dim
        self.encoder_kernel = encoder_kernel
        self.encoder = Encoder(self.num_models, num_channels, latent_dim, image_size, encoder_kernel)
        self.decoder = Decoder(self.num_models, num_channels, latent_dim, image_size)

    def per_model(self, field: str, like: Tensor) -> Tensor:
        """A config field as a ``(K,)`` tensor (one value per stacked model) on ``like``'s device
        (made once per field, dtype and device: no host-to-device copy per step)."""
        key = (field, like.dtype, like.device)
        if key not in self._per_model:
            values = torch.tensor([float(getattr(c, field)) for c in self.configs], dtype=like.dtype)
            self._per_model[key] = values.to(like.device)
        return self._per_model[key]

    def architecture(self) -> dict[str, int]:
        return {"num_channels": self.num_channels, "image_size": self.image_size,
                "latent_dim": self.latent_dim, "encoder_kernel": self.encoder_kernel}

    def hyperparams(self, model: int = 0) -> dict[str, Any]:
        return asdict(self.configs[model])

    def init_weights(self, generators: Sequence[torch.Generator]) -> None:
        """Glorot-uniform / zero init (`methods/shared/architectures.py`, TF1 `tf.layers` defaults), model k from ``generators[k]``."""
        if len(generators) != self.num_models:
            raise ValueError(f"need {self.num_models} generators, got {len(generators)}")
        glorot_init(self, generators)

    def vae_parameters(self) -> list[nn.Parameter]:
        return [*self.encoder.parameters(), *self.decoder.parameters()]

    def optimisers(self, lr: float, betas: tuple[float, float], eps: float) -> dict[str, torch.optim.Optimizer]:
        """The VAE Adam over encoder + decoder (`methods/unsupervised/train.py`, `shared.gin`); FactorVAE adds one."""
        return {"vae": adam(self.vae_parameters(), lr=lr, betas=betas, eps=eps)}

    def draw_noise(self, batch_size: int, generators: Sequence[torch.Generator], device: torch.device) -> Tensor:
        """Reparameterisation noise ``(K, B, D)``, model k from ``generators[k]``."""
        eps = [torch.randn(batch_size, self.latent_dim, generator=g) for g in generators]
        return host_to_device(torch.stack(eps), device)

    def forward(self, x: Tensor, *, step: int, generators: Sequence[torch.Generator]) -> LossParts:
        """Loss parts for a batch ``x`` of shape ``(B, K*C, H, W)`` at global ``step``.

        Under ``torch.autocast`` (mixed precision) only the encoder and decoder run in
        the low precision: their outputs are cast back, and the sample, losses and
        regulariser are computed in float32.
        """
        z_mean, z_logvar = (t.float() for t in self.encoder(x))
        z = z_mean + torch.exp(z_logvar / 2) * self.draw_noise(x.shape[0], generators, x.device)  # elementwise: float32
        logits = self.decoder(z).float()
        with torch.autocast(x.device.type, enabled=False):  # e.g. DIP's covariance, FactorVAE's discriminator
            reconstruction = bernoulli_reconstruction_loss(logits, x, self.num_models)
            kl = gaussian_kl(z_mean, z_logvar)
            regularizer, discriminator_loss = self.regularize(
                kl=kl, z_mean=z_mean, z_logvar=z_logvar, z=z, step=step, generators=generators)
        return LossParts(loss=reconstruction + regularizer, reconstruction_loss=reconstruction,
                         kl_loss=kl, regularizer=regularizer, elbo=-(reconstruction + kl),
                         discriminator_loss=discriminator_loss)

    def regularize(self, *, kl: Tensor, z_mean: Tensor, z_logvar: Tensor, z: Tensor, step: int,
                   generators: Sequence[torch.Generator]) -> tuple[Tensor, Tensor | None]:
        """``(regularizer (K,), discriminator loss (K,) or None)``."""
        raise NotImplementedError
