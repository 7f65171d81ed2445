"""Encoder/decoder/discriminator shapes and initialisation (`methods/shared/architectures.py`, `architectures_test.py`)."""

import pytest
import torch

from disentangle.models import build_stacked_model
from disentangle.models.architecture import (
    Decoder, Discriminator, Encoder, StackedConv2d, StackedConvTranspose2d, glorot_bound, glorot_init,
    same_padding, set_conv_impl, set_conv_micro_batch, stacked_layers,
)


def _gens(*seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def test_encoder_shapes_reference_case():
    enc = Encoder(1, num_channels=1, latent_dim=10)
    glorot_init(enc, _gens(0))
    mean, logvar = enc(torch.rand(10, 1, 64, 64))  # reference: (10, 64, 64, 1) input
    assert mean.shape == logvar.shape == (1, 10, 10)


@pytest.mark.parametrize("kernel", [2, 4])
@pytest.mark.parametrize("channels", [1, 3])
def test_encoder_intermediate_shapes_match_the_table(kernel, channels):
    enc = Encoder(1, num_channels=channels, kernel=kernel)
    h = torch.rand(2, channels, 64, 64)
    shapes = []
    for layer in (enc.e1, enc.e2, enc.e3, enc.e4):
        h = layer(h)
        shapes.append(tuple(h.shape[1:]))
    assert shapes == [(32, 32, 32), (32, 16, 16), (64, 8, 8), (64, 4, 4)]
    assert enc.e3.weight.shape[-1] == kernel


def test_same_padding_matches_tf():
    assert same_padding(4) == 1 and same_padding(2) == 0
    with pytest.raises(ValueError, match="even kernel"):
        same_padding(3)
    with pytest.raises(ValueError, match="encoder kernel"):
        Encoder(1, 1, kernel=3)


def test_decoder_from_15_latents_to_64x64x1():
    dec = Decoder(1, num_channels=1, latent_dim=15)
    glorot_init(dec, _gens(0))
    assert dec(torch.randn(1, 7, 15)).shape == (7, 1, 64, 64)


def test_discriminator_on_32x10():
    disc = Discriminator(1, latent_dim=10)
    glorot_init(disc, _gens(0))
    assert disc(torch.randn(1, 32, 10)).shape == (1, 32, 2)
    assert len(disc.hidden) == 6 and all(layer.weight.shape[-1] == 1000 for layer in disc.hidden)


def test_smaller_images_need_a_multiple_of_16():
    enc = Encoder(1, num_channels=3, image_size=32)
    assert enc(torch.rand(2, 3, 32, 32))[0].shape == (1, 2, 10)
    with pytest.raises(ValueError, match="multiple of 16"):
        Encoder(1, num_channels=1, image_size=40)


def test_glorot_uniform_weights_and_zero_biases():
    enc = Encoder(2, num_channels=1)
    glorot_init(enc, _gens(0, 1))
    conv = enc.e1  # 4x4 kernel, 1 -> 32 channels
    assert conv.fan_in == 16 and conv.fan_out == 512
    for layer in stacked_layers(enc):
        bound = glorot_bound(layer.fan_in, layer.fan_out)
        w = layer.weight.detach()
        assert float(w.abs().max()) <= bound
        assert float(w.abs().max()) > 0.9 * bound  # spans the interval
        assert float(w.std()) == pytest.approx(bound / 3**0.5, rel=0.15)  # uniform std
        assert torch.count_nonzero(layer.bias) == 0
    dense = enc.e5
    assert glorot_bound(dense.fan_in, dense.fan_out) == pytest.approx((6 / (1024 + 256)) ** 0.5)


def test_init_is_per_model_and_seeded():
    stacked = Encoder(2, num_channels=1)
    glorot_init(stacked, _gens(5, 6))
    alone = Encoder(1, num_channels=1)
    glorot_init(alone, _gens(6))
    for a, b in zip(stacked.parameters(), alone.parameters()):
        assert torch.equal(a[1:2], b)
    assert not torch.equal(stacked.e1.weight[0], stacked.e1.weight[1])


def test_stacked_conv_equals_separate_convs():
    layer = StackedConv2d(3, 2, 4, 4, 2, 1)
    glorot_init(layer, _gens(0, 1, 2))
    x = torch.rand(5, 6, 8, 8)
    out = layer(x)
    for k in range(3):
        ref = torch.nn.functional.conv2d(x[:, 2 * k:2 * k + 2], layer.weight[k], layer.bias[k], 2, 1)
        assert torch.allclose(out[:, 4 * k:4 * k + 4], ref, atol=1e-6)


@pytest.mark.parametrize("layer_class, args, in_shape", [
    (StackedConv2d, (3, 1, 32, 4, 2, 1), (5, 3, 32, 32)),     # encoder conv 1
    (StackedConv2d, (2, 32, 64, 2, 2, 0), (4, 64, 8, 8)),     # 2x2 kernel, no padding
    (StackedConvTranspose2d, (3, 64, 32, 4, 2, 1), (5, 192, 4, 4)),
    (StackedConvTranspose2d, (2, 32, 3, 4, 2, 1), (4, 64, 8, 8)),  # to RGB logits
])
def test_matmul_convolutions_equal_grouped_ones(layer_class, args, in_shape):
    """The im2col + batched-GEMM path gives the grouped convolution's values and gradients."""
    layer = layer_class(*args)
    glorot_init(layer, _gens(*range(args[0])))
    torch.nn.init.normal_(layer.bias, generator=torch.Generator().manual_seed(9))
    x = torch.rand(in_shape, generator=torch.Generator().manual_seed(1)).contiguous(memory_format=torch.channels_last)
    x.requires_grad_()
    results = {}
    for impl in ("grouped", "matmul"):
        set_conv_impl(layer, impl)
        out = layer(x)
        grads = torch.autograd.grad(out, (x, layer.weight, layer.bias), torch.ones_like(out) + out.detach())
        results[impl] = (out.detach(), *grads)
    for a, b in zip(results["grouped"], results["matmul"]):
        assert a.shape == b.shape
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-5 * float(a.abs().max()))


def test_conv_impl_is_set_network_wide_and_checked():
    model = build_stacked_model("beta_vae", [{"beta": 1.0}] * 2, num_channels=1)
    set_conv_impl(model, "matmul")
    convs = [m for m in model.modules() if isinstance(m, (StackedConv2d, StackedConvTranspose2d))]
    assert len(convs) == 8 and {m.impl for m in convs} == {"matmul"}
    with pytest.raises(ValueError, match="conv impl"):
        set_conv_impl(model, "winograd")


@pytest.mark.parametrize("method", ["beta_vae", "factor_vae"])
def test_conv_micro_batches_give_the_whole_batch_values_and_gradients(method):
    """Convolutions over slices of 2 images (5 = 2 + 2 + 1): same latents, logits, loss and gradients."""
    model = build_stacked_model(method, [{}] * 3, num_channels=1)
    model.init_weights(_gens(0, 1, 2))
    x = (torch.rand(5, 3, 64, 64, generator=torch.Generator().manual_seed(3)) > 0.8).float()
    x = x.contiguous(memory_format=torch.channels_last)
    results = {}
    for size in (None, 2):
        set_conv_micro_batch(model, size)
        assert model.encoder.micro_batch == model.decoder.micro_batch == size
        mean, _ = model.encoder(x)
        logits = model.decoder(mean)
        out = model(x, step=0, generators=_gens(5, 6, 7))
        grads = torch.autograd.grad(out.loss.sum(), model.vae_parameters())
        results[size] = (mean.detach(), logits.detach(), out.loss.detach(), *grads)
    for a, b in zip(results[None], results[2]):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5 * float(a.abs().max()))


def test_conv_micro_batch_is_checked():
    model = build_stacked_model("beta_vae", [{}], num_channels=1)
    for bad in (0, -3, 2.5, True, "32"):
        with pytest.raises(ValueError, match="micro-batch"):
            set_conv_micro_batch(model, bad)


@pytest.mark.parametrize("models", [1, 2])
def test_decoder_maps_are_channels_last_and_hold_each_models_units_in_c_h_w_order(models):
    """Model k's Dense(1024) output becomes its 64 maps of 4x4 (unit c*16 + y*4 + x -> map c at
    (y, x)), stored channels-last; the logits match per-model plain layers."""
    dec = Decoder(models, num_channels=1)
    glorot_init(dec, _gens(*range(models)))
    z = torch.randn(models, 3, 10, generator=torch.Generator().manual_seed(4))
    seen = {}
    dec.d3.register_forward_pre_hook(lambda m, args: seen.update(maps=args[0]))
    logits = dec(z)
    maps = seen["maps"]
    assert maps.shape == (3, 64 * models, 4, 4) and maps.is_contiguous(memory_format=torch.channels_last)
    for k in range(models):
        h = torch.relu(torch.relu(z[k] @ dec.d1.weight[k]) @ dec.d2.weight[k])  # zero biases
        assert torch.allclose(maps[:, 64 * k:64 * (k + 1)], h.reshape(3, 64, 4, 4), atol=1e-6)
        y = h.reshape(3, 64, 4, 4)
        for layer in (dec.d3, dec.d4, dec.d5, dec.d6):
            y = torch.nn.functional.conv_transpose2d(y, layer.weight[k], layer.bias[k], 2, 1)
            y = torch.relu(y) if layer is not dec.d6 else y
        assert torch.allclose(logits[:, k:k + 1], y, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("models, channels", [(1, 1), (2, 3)])
def test_cpu_transposed_conv_to_the_image_runs_as_gemm_plus_overlap_add(models, channels):
    """The decoder's last layer on CPU (_TransposedConvCol2im) gives conv_transpose2d's values
    and gradients, also under bf16 autocast (where it returns its float32 sums)."""
    layer = StackedConvTranspose2d(models, 32, channels, 4, 2, 1)
    glorot_init(layer, _gens(*range(models)))
    torch.nn.init.normal_(layer.bias, generator=torch.Generator().manual_seed(9))
    x = torch.rand(5, 32 * models, 8, 8, generator=torch.Generator().manual_seed(1))
    x = x.contiguous(memory_format=torch.channels_last).requires_grad_()
    w, b = layer.weight.reshape(32 * models, channels, 4, 4), layer.bias.reshape(-1)
    for precision in ("fp32", "bf16"):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            out = layer(x)
            ref = torch.nn.functional.conv_transpose2d(x, w, b, 2, 1, groups=models)
        assert "Col2im" in type(out.grad_fn).__name__ and out.dtype == torch.float32
        assert out.shape == ref.shape == (5, models * channels, 16, 16)
        seed = torch.randn(out.shape, generator=torch.Generator().manual_seed(2))
        grads = torch.autograd.grad(out, (x, layer.weight, layer.bias), seed)
        ref_grads = torch.autograd.grad(ref, (x, layer.weight, layer.bias), seed)
        assert [g.dtype for g in grads] == [r.dtype for r in ref_grads] == [torch.float32] * 3
        tol = 1e-5 if precision == "fp32" else 2e-2
        for a, r in zip((out, *grads), (ref, *ref_grads)):
            assert torch.allclose(a.detach().float(), r.detach().float(), rtol=tol, atol=tol * float(r.detach().abs().max()))


@pytest.mark.parametrize("channels", [1, 3])
def test_encoder_activations_are_channels_last(channels):
    """e2-e4 (and the decoder's d3-d6) see channels-last activations, also from 1-channel images."""
    model = build_stacked_model("beta_vae", [{}], num_channels=channels)
    model.init_weights(_gens(0))
    seen = []
    for layer in (model.encoder.e2, model.encoder.e3, model.encoder.e4, model.decoder.d3, model.decoder.d4,
                  model.decoder.d5, model.decoder.d6):
        layer.register_forward_pre_hook(lambda m, args: seen.append(args[0].is_contiguous(memory_format=torch.channels_last)))
    x = torch.rand(4, channels, 64, 64).contiguous(memory_format=torch.channels_last)
    model(x, step=0, generators=_gens(1))
    assert seen == [True] * 7
