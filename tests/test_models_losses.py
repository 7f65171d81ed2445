"""Loss terms against the reference's unit-test values (`methods/unsupervised/vae_test.py`)."""

import math

import pytest
import torch

from disentangle.models.annealed_vae import annealed_capacity
from disentangle.models.losses import (
    batch_covariance, bernoulli_reconstruction_loss, dip_penalty, discriminator_loss, gaussian_kl,
    gaussian_log_density, permute_dims, total_correlation,
)


@pytest.mark.parametrize("step, expected", [(0, 0.0), (10, 10.0), (100, 100.0), (101, 100.0)])
def test_annealed_capacity_reference_values(step, expected):
    assert float(annealed_capacity(step, 100.0, 100)) == pytest.approx(expected)


@pytest.mark.parametrize("matrix, expected", [
    (torch.ones(10, 10), 90.0), (torch.zeros(10, 10), 10.0), (torch.eye(10), 0.0), (2 * torch.eye(10), 10.0),
])
def test_dip_penalty_reference_values(matrix, expected):
    assert float(dip_penalty(matrix, 1.0, 1.0)) == pytest.approx(expected)


def test_dip_penalty_weights_off_diagonal_and_diagonal_separately():
    # ones: 90 off-diagonal squares, diagonal exactly 1
    assert float(dip_penalty(torch.ones(10, 10), 2.0, 7.0)) == pytest.approx(180.0)
    assert float(dip_penalty(torch.zeros(10, 10), 2.0, 7.0)) == pytest.approx(70.0)


def test_batch_covariance_is_biased_and_recovers_a_gaussian_covariance():
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert torch.allclose(batch_covariance(x), torch.full((2, 2), 1.0))  # divides by B=2, not B-1
    g = torch.Generator().manual_seed(0)
    cov = torch.tensor([[1.0, 0.5], [0.5, 2.0]])
    samples = torch.randn(50_000, 2, generator=g) @ torch.linalg.cholesky(cov).T
    assert float((batch_covariance(samples) - cov).square().sum()) < 0.1  # vae_test's bound


def test_gaussian_log_density_reference_values():
    assert float(gaussian_log_density(torch.tensor(1.0), torch.tensor(0.0), torch.tensor(0.0))) == pytest.approx(-1.4189, abs=1e-4)
    assert float(gaussian_log_density(torch.tensor(1.0), torch.tensor(1.0), torch.tensor(0.0))) == pytest.approx(-0.919, abs=1e-3)


def test_total_correlation_is_zero_for_one_latent():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(2_000, 1, generator=g)  # exactly 0 for any N (both terms coincide)
    assert float(total_correlation(z, torch.zeros_like(z), torch.zeros_like(z))) == pytest.approx(0.0, abs=1e-4)


def test_total_correlation_omits_the_log_n_constant():
    # reference: -(D-1) ln N = -82.89 for D=10, N=10,000 standard-normal codes. Every
    # sample's term equals that value, so 200 of the samples (against all 10,000
    # encoder distributions) give the same number at 1/50 of the cost.
    g = torch.Generator().manual_seed(0)
    z = torch.randn(10_000, 10, generator=g)
    zeros = torch.zeros_like(z)
    assert float(total_correlation(z[:200], zeros, zeros)) == pytest.approx(-82.89, abs=0.01)
    assert -9 * math.log(10_000) == pytest.approx(-82.89, abs=0.01)


def test_total_correlation_is_larger_for_correlated_codes():
    g = torch.Generator().manual_seed(1)
    base = torch.randn(256, 1, generator=g)
    correlated = base.repeat(1, 4) + 0.05 * torch.randn(256, 4, generator=g)
    independent = torch.randn(256, 4, generator=g)
    logvar = torch.full((256, 4), -6.0)
    assert total_correlation(correlated, correlated, logvar) > total_correlation(independent, independent, logvar) + 0.25


@pytest.mark.parametrize("mu, logvar, expected", [(0.0, 0.0, 0.0), (1.0, 0.0, 5.0), (1.0, 1.0, 8.59)])
def test_gaussian_kl_reference_values(mu, logvar, expected):
    kl = gaussian_kl(torch.full((10, 10), mu), torch.full((10, 10), logvar))
    assert float(kl) == pytest.approx(expected, abs=0.005)


def test_bernoulli_loss_sums_pixels_and_averages_batch():
    logits = torch.zeros(4, 2, 3, 3)  # sigmoid 0.5 -> ln 2 per pixel for any target
    images = torch.rand(4, 2, 3, 3)
    per_model = bernoulli_reconstruction_loss(logits, images, num_models=2)
    assert per_model.shape == (2,)
    assert torch.allclose(per_model, torch.full((2,), 9 * math.log(2)))
    # real-valued targets: minimised at logits = logit(target), where it equals the entropy
    x = torch.full((1, 1, 1, 1), 0.3)
    best = bernoulli_reconstruction_loss(torch.logit(x), x)
    assert float(best) == pytest.approx(-(0.3 * math.log(0.3) + 0.7 * math.log(0.7)), rel=1e-5)


def test_permute_dims_shuffles_each_column_independently():
    z = torch.arange(12.0).reshape(4, 3)
    perms = torch.stack([torch.tensor([1, 0, 3, 2]), torch.tensor([0, 1, 2, 3]), torch.tensor([3, 2, 1, 0])])
    out = permute_dims(z, perms)
    assert out[:, 0].tolist() == z[[1, 0, 3, 2], 0].tolist()
    assert out[:, 1].tolist() == z[:, 1].tolist()
    assert out[:, 2].tolist() == z[[3, 2, 1, 0], 2].tolist()


def test_discriminator_loss_clips_probabilities():
    confident_wrong = torch.tensor([[-100.0, 100.0]])
    loss = discriminator_loss(confident_wrong, -confident_wrong)
    assert float(loss) == pytest.approx(-math.log(1e-6), rel=1e-4)  # 0.5*(-ln 1e-6) twice
    assert float(discriminator_loss(torch.zeros(5, 2), torch.zeros(5, 2))) == pytest.approx(math.log(2))
