"""Loss terms of the six methods (`methods/unsupervised/vae.py`). All are in nats.

Every function accepts leading "stack" axes (e.g. K models), reducing only over
the batch axis (second-to-last for codes) so a stack of models is one call.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

LOG_2PI = math.log(2.0 * math.pi)


def bernoulli_reconstruction_loss(logits: Tensor, images: Tensor, num_models: int = 1) -> Tensor:
    """Sigmoid cross-entropy on logits, summed over pixels and channels, averaged
    over the batch (`methods/shared/losses.py: bernoulli_loss`). Targets may be real-valued in [0, 1].

    ``logits``/``images``: ``(B, K*C, H, W)``; returns ``(K,)``.
    """
    per_pixel = F.binary_cross_entropy_with_logits(logits, images, reduction="none")
    return per_pixel.reshape(per_pixel.shape[0], num_models, -1).sum(-1).mean(0)


def gaussian_kl(z_mean: Tensor, z_logvar: Tensor) -> Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)), summed over latents, batch-averaged
    (`methods/unsupervised/vae.py: compute_gaussian_kl`): ``(..., B, D) -> (...)``."""
    return 0.5 * (z_mean.square() + z_logvar.exp() - z_logvar - 1.0).sum(-1).mean(-1)


def gaussian_log_density(x: Tensor, mean: Tensor, logvar: Tensor) -> Tensor:
    """Elementwise log N(x; mean, exp(logvar)) (`methods/unsupervised/vae.py: gaussian_log_density`)."""
    return -0.5 * ((x - mean).square() * torch.exp(-logvar) + logvar + LOG_2PI)


def total_correlation(z: Tensor, z_mean: Tensor, z_logvar: Tensor) -> Tensor:
    """β-TCVAE's minibatch TC estimate *without* the log(N·B) constants
    (`methods/unsupervised/vae.py: total_correlation`), hence usually negative.

    ``log q(z_j|x_i)`` is evaluated for every sample j of ``z`` (..., M, D)
    under every encoder distribution i of ``z_mean``/``z_logvar`` (..., N, D);
    in training z is the batch's own sample (M = N = B). Returns ``(...)``.
    """
    log_qz_pairs = gaussian_log_density(z.unsqueeze(-2), z_mean.unsqueeze(-3), z_logvar.unsqueeze(-3))
    log_qz = torch.logsumexp(log_qz_pairs.sum(-1), dim=-1)             # (..., B)
    log_prod_qz = torch.logsumexp(log_qz_pairs, dim=-2).sum(-1)        # (..., B)
    return (log_qz - log_prod_qz).mean(-1)


def batch_covariance(x: Tensor) -> Tensor:
    """Biased (divide-by-B) covariance over the batch axis (`methods/unsupervised/vae.py: compute_covariance_z_mean`):
    ``(..., B, D) -> (..., D, D)``."""
    mean = x.mean(-2)
    second = x.transpose(-1, -2) @ x / x.shape[-2]
    return second - mean.unsqueeze(-1) * mean.unsqueeze(-2)


def dip_penalty(matrix: Tensor, lambda_od: Tensor | float, lambda_d: Tensor | float) -> Tensor:
    """``lambda_od * sum_{i!=j} M_ij^2 + lambda_d * sum_i (M_ii - 1)^2``
    (`methods/unsupervised/vae.py: regularize_diag_off_diag_dip`): ``(..., D, D) -> (...)``."""
    diag = torch.diagonal(matrix, dim1=-2, dim2=-1)
    off_diag_sq = matrix.square().sum((-2, -1)) - diag.square().sum(-1)
    return lambda_od * off_diag_sq + lambda_d * (diag - 1.0).square().sum(-1)


def permute_dims(z: Tensor, permutations: Tensor) -> Tensor:
    """FactorVAE's ``shuffle_codes`` (`methods/unsupervised/vae.py: shuffle_codes`): shuffle each latent column
    independently across the batch. ``z``: ``(..., B, D)``; ``permutations``:
    ``(..., D, B)`` with one permutation of ``range(B)`` per latent."""
    return torch.gather(z, -2, permutations.transpose(-1, -2))


CLIP = 1e-6  # probabilities are clipped to [CLIP, 1 - CLIP] before any log


def discriminator_tc(logits_z: Tensor) -> Tensor:
    """FactorVAE's TC estimate ``mean_b(logit_0 - logit_1)`` (`methods/unsupervised/vae.py: FactorVAE`):
    ``(..., B, 2) -> (...)``."""
    return (logits_z[..., 0] - logits_z[..., 1]).mean(-1)


def discriminator_loss(logits_z: Tensor, logits_z_perm: Tensor) -> Tensor:
    """Negative of ``0.5 mean log p_z[:,0] + 0.5 mean log p_zperm[:,1]`` with
    softmax probabilities clipped to [1e-6, 1 - 1e-6] (`methods/unsupervised/vae.py: FactorVAE`)."""
    p_z = torch.softmax(logits_z, -1).clamp(CLIP, 1.0 - CLIP)
    p_perm = torch.softmax(logits_z_perm, -1).clamp(CLIP, 1.0 - CLIP)
    return -(0.5 * p_z[..., 0].log().mean(-1) + 0.5 * p_perm[..., 1].log().mean(-1))
