"""The six methods: registry, loss assembly, stacking, FactorVAE gradients (`methods/unsupervised/vae.py`)."""

import pytest
import torch

from disentangle.models import MODEL_CLASSES, build_model, build_stacked_model
from disentangle.vocabulary import hyperparameter
from disentangle.models.losses import batch_covariance, dip_penalty, gaussian_kl, total_correlation


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _model(method, seed=0, image_size=16, **hp):
    m = build_model(method, num_channels=1, image_size=image_size, **hp)
    m.init_weights([_gen(seed)])
    return m


def test_registry_names_and_hyperparameters():
    assert {m: hyperparameter(m) for m in MODEL_CLASSES} == {
        "beta_vae": "beta", "annealed_vae": "c_max", "factor_vae": "gamma",
        "dip_vae_i": "lambda_od", "dip_vae_ii": "lambda_od", "beta_tc_vae": "beta"}


def test_bad_method_and_hyperparameter_names_are_reported():
    with pytest.raises(ValueError, match="unknown method 'vae'"):
        build_model("vae", num_channels=1)
    with pytest.raises(ValueError, match="bad hyperparameters"):
        build_model("beta_vae", num_channels=1, gamma=3)


def test_method_defaults_follow_the_study():
    assert _model("annealed_vae", c_max=5).configs[0].gamma == 1000
    assert _model("annealed_vae", c_max=5).configs[0].iteration_threshold == 100_000
    assert _model("dip_vae_i").configs[0].lambda_d_factor == 10
    assert _model("dip_vae_ii").configs[0].lambda_d_factor == 1


def _regularizer_inputs(seed=0, k=1, b=8, d=10):
    g = _gen(seed)
    z_mean, z_logvar = torch.randn(k, b, d, generator=g), 0.3 * torch.randn(k, b, d, generator=g)
    z = z_mean + torch.randn(k, b, d, generator=g)
    return dict(kl=gaussian_kl(z_mean, z_logvar), z_mean=z_mean, z_logvar=z_logvar, z=z)


@pytest.mark.parametrize("method, hp, formula", [
    ("beta_vae", {"beta": 4}, lambda kl, m, lv, z, step: 4 * kl),
    ("annealed_vae", {"c_max": 10, "iteration_threshold": 100},
     lambda kl, m, lv, z, step: 1000 * (kl - min(10, 10 * step / 100)).abs()),
    ("dip_vae_i", {"lambda_od": 5}, lambda kl, m, lv, z, step: kl + dip_penalty(batch_covariance(m), 5, 50)),
    ("dip_vae_ii", {"lambda_od": 5}, lambda kl, m, lv, z, step:
        kl + dip_penalty(batch_covariance(m) + torch.diag_embed(lv.exp().mean(-2)), 5, 5)),
    ("beta_tc_vae", {"beta": 6}, lambda kl, m, lv, z, step: kl + 5 * total_correlation(z, m, lv)),
])
@pytest.mark.parametrize("step", [0, 30, 1000])
def test_regularizers(method, hp, formula, step):
    model = _model(method, **hp)
    inp = _regularizer_inputs()
    reg, disc = model.regularize(step=step, generators=[_gen(0)], **inp)
    assert disc is None
    expected = formula(inp["kl"], inp["z_mean"], inp["z_logvar"], inp["z"], step)
    assert torch.allclose(reg, expected, rtol=1e-5)


def test_forward_assembles_loss_and_elbo():
    model = _model("beta_vae", beta=3)
    out = model(torch.rand(8, 1, 16, 16), step=0, generators=[_gen(1)])
    assert torch.allclose(out.loss, out.reconstruction_loss + 3 * out.kl_loss)
    assert torch.allclose(out.regularizer, 3 * out.kl_loss)
    assert torch.allclose(out.elbo, -(out.reconstruction_loss + out.kl_loss))
    assert out.discriminator_loss is None


def test_forward_is_deterministic_given_the_generator():
    x = torch.rand(8, 1, 16, 16)
    a = _model("factor_vae", gamma=10)(x, step=0, generators=[_gen(3)])
    b = _model("factor_vae", gamma=10)(x, step=0, generators=[_gen(3)])
    assert torch.equal(a.loss, b.loss) and torch.equal(a.discriminator_loss, b.discriminator_loss)


@pytest.mark.parametrize("method, values", [
    ("beta_vae", [1, 4, 16]), ("factor_vae", [10, 50, 100]), ("dip_vae_ii", [1, 5, 50]),
    ("annealed_vae", [5, 25, 100]), ("beta_tc_vae", [1, 2, 10]), ("dip_vae_i", [1, 2, 5]),
])
def test_stacked_models_equal_separate_models(method, values):
    name = hyperparameter(method)
    seeds = [11, 12, 13]
    stacked = build_stacked_model(method, [{name: v} for v in values], num_channels=2, image_size=16)
    stacked.init_weights([_gen(s) for s in seeds])
    xs = [torch.rand(6, 2, 16, 16, generator=_gen(100 + i)) for i in range(3)]
    out = stacked(torch.cat(xs, dim=1), step=50_000, generators=[_gen(s + 1) for s in seeds])
    for k, (v, s) in enumerate(zip(values, seeds)):
        alone = build_model(method, num_channels=2, image_size=16, **{name: v})
        alone.init_weights([_gen(s)])
        ref = alone(xs[k], step=50_000, generators=[_gen(s + 1)])
        for part, value in ref.parts().items():
            assert torch.allclose(getattr(out, part)[k], value[0], rtol=1e-5, atol=1e-4), part


def test_factor_vae_gradients_are_separated():
    model = _model("factor_vae", gamma=30)
    vae_params = model.vae_parameters()
    disc_params = list(model.discriminator.parameters())
    out = model(torch.rand(8, 1, 16, 16), step=0, generators=[_gen(1)])
    grads = torch.autograd.grad(out.discriminator_loss.sum(), vae_params + disc_params,
                                retain_graph=True, allow_unused=True)
    assert all(g is None or not g.any() for g in grads[:len(vae_params)])
    assert any(g is not None and g.any() for g in grads[len(vae_params):])
    grads = torch.autograd.grad(out.loss.sum(), vae_params + disc_params, allow_unused=True)
    assert all(g is None or not g.any() for g in grads[len(vae_params):])
    assert all(g is not None and g.any() for g in grads[:len(vae_params)])
    # the TC term does reach the encoder through the discriminator
    tc_only = model(torch.rand(8, 1, 16, 16), step=0, generators=[_gen(1)])
    reg_grads = torch.autograd.grad(tc_only.regularizer.sum() - tc_only.kl_loss.sum(),
                                    list(model.encoder.parameters()), allow_unused=True)
    assert any(g is not None and g.any() for g in reg_grads)


def test_factor_vae_discriminator_optimiser_settings():
    model = _model("factor_vae")
    opts = model.optimisers(1e-4, (0.9, 0.999), 1e-8)
    assert set(opts) == {"vae", "discriminator"}
    group = opts["discriminator"].param_groups[0]
    assert (group["lr"], group["betas"], group["eps"]) == (1e-4, (0.5, 0.9), 1e-8)
    assert {id(p) for p in group["params"]} == {id(p) for p in model.discriminator.parameters()}
    assert {id(p) for p in opts["vae"].param_groups[0]["params"]} == {id(p) for p in model.vae_parameters()}


def test_factor_vae_discriminator_uses_leaky_relu_0_2():
    disc = _model("factor_vae").discriminator
    z = torch.randn(1, 4, 10, generator=_gen(0))

    def manual(slope):
        h = z
        for layer in disc.hidden:
            h = torch.nn.functional.leaky_relu(h @ layer.weight + layer.bias[:, None], slope)
        return h @ disc.logits.weight + disc.logits.bias[:, None]

    out = disc(z)
    assert torch.allclose(out, manual(0.2), atol=1e-5)
    assert not torch.allclose(out, manual(0.01), atol=1e-5)


def test_adam_is_fused_where_torch_has_the_kernel_and_plain_elsewhere():
    from disentangle.models.vae import adam

    cpu = adam([torch.nn.Parameter(torch.zeros(3))], lr=1e-4, betas=(0.9, 0.999), eps=1e-8)
    assert cpu.param_groups[0]["fused"] is True
    meta = adam([torch.nn.Parameter(torch.zeros(3, device="meta"))], lr=1e-4, betas=(0.9, 0.999), eps=1e-8)
    assert not meta.param_groups[0]["fused"] and meta.param_groups[0]["lr"] == 1e-4
