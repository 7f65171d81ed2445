"""The reference convolutional encoder/decoder and FactorVAE discriminator
(`methods/shared/architectures.py`), written once for a *stack* of K independent models.

Every parameter carries a leading model axis of length K. Convolutions fold
the K models into the channel axis and run as one grouped convolution
(``groups=K``); dense layers run as one batched matmul. With K = 1 these are
exactly the plain layers, so single-model and batched training share this code.

Layouts (B = batch, K = models, C = image channels, D = latents):

* images / logits: ``(B, K*C, H, W)`` — model k owns channels ``k*C:(k+1)*C``
* latents, dense activations: ``(K, B, features)``

Convolutions have two interchangeable implementations (``CONV_IMPLS``, set with
:func:`set_conv_impl`; same parameters, same numbers up to float rounding):
``"grouped"`` (one grouped cuDNN/oneDNN convolution; on CPU, the transposed
convolution to the image as a GEMM plus overlap-add, :class:`_TransposedConvCol2im`)
and ``"matmul"`` (im2col as a strided view and one batched GEMM over the K models;
transposed convolutions in sub-pixel form).

Convolutional activations are channels-last in memory (the decoder's too), and
the convolutions may run over micro-batches of the batch (:func:`set_conv_micro_batch`):
only per-image layers are split, so dense layers, latents and losses still see
the whole batch and the numbers change only by float rounding. Channels-last
spares oneDNN its layout conversions; micro-batches keep a pass's buffers small
(``training.engine.default_conv_micro_batch`` says when that pays).

Initialisation follows TF1 ``tf.layers`` defaults: Glorot-uniform kernels and
zero biases (`methods/shared/architectures.py`, TF1 `tf.layers` defaults), drawn per model from that model's own
``torch.Generator`` so model k of a stack equals a model trained alone.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: kernel sizes supported for encoder conv layers 3–4 (`methods/shared/architectures.py: conv_encoder`)
ENCODER_KERNELS = (2, 4)
#: convolution implementations (see the module docstring)
CONV_IMPLS = ("grouped", "matmul")


def same_padding(kernel: int) -> int:
    """Symmetric padding equal to TF "same" for stride 2 on even inputs.

    TF pads ``kernel - 2`` pixels in total (split evenly), so k=4 → 1 per
    side and k=2 → 0 (`methods/shared/architectures.py: conv_encoder`). Odd kernels would need asymmetric pads.
    """
    if kernel < 2 or kernel % 2:
        raise ValueError(f"stride-2 'same' convolution needs an even kernel >= 2, got {kernel}")
    return (kernel - 2) // 2


def glorot_bound(fan_in: int, fan_out: int) -> float:
    """Half-width of the Glorot-uniform interval, sqrt(6 / (fan_in + fan_out))."""
    return math.sqrt(6.0 / (fan_in + fan_out))


class _Stacked(nn.Module):
    """A layer with a ``(K, ...)`` weight and a ``(K, out)`` bias."""

    weight: nn.Parameter
    bias: nn.Parameter
    fan_in: int
    fan_out: int

    def reset_parameters(self, model: int, generator: torch.Generator) -> None:
        """Glorot-uniform weight, zero bias for model ``model`` of the stack."""
        bound = glorot_bound(self.fan_in, self.fan_out)
        with torch.no_grad():
            w = torch.empty(self.weight.shape[1:]).uniform_(-bound, bound, generator=generator)
            self.weight[model].copy_(w)
            self.bias[model].zero_()

    @property
    def num_models(self) -> int:
        return self.weight.shape[0]


class StackedConv2d(_Stacked):
    """K independent ``Conv2d`` layers as one grouped convolution."""

    def __init__(self, num_models: int, in_ch: int, out_ch: int, kernel: int, stride: int, padding: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_models, out_ch, in_ch, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(num_models, out_ch))
        self.stride, self.padding = stride, padding
        # TF conv kernel (kh, kw, in, out): fans multiply by the receptive field
        self.fan_in, self.fan_out = in_ch * kernel * kernel, out_ch * kernel * kernel

    impl = "grouped"

    def forward(self, x: Tensor) -> Tensor:
        k, o, i, h, w = self.weight.shape
        if self.impl == "grouped":
            return F.conv2d(x, self.weight.reshape(k * o, i, h, w), self.bias.reshape(-1),
                            self.stride, self.padding, groups=k)
        # im2col as a strided view of the padded input, one GEMM per model (einsum -> bmm over k)
        b, _, height, width = x.shape
        x = F.pad(x.reshape(b, k, i, height, width), (self.padding,) * 4)
        patches = x.unfold(3, h, self.stride).unfold(4, w, self.stride)  # (B, k, i, Ho, Wo, h, w)
        out = torch.einsum("bkihwyx,koiyx->bkohw", patches, self.weight) + self.bias[None, :, :, None, None]
        return out.reshape(b, k * o, *out.shape[-2:])


class StackedConvTranspose2d(_Stacked):
    """K independent ``ConvTranspose2d`` layers as one grouped transposed convolution."""

    def __init__(self, num_models: int, in_ch: int, out_ch: int, kernel: int, stride: int, padding: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_models, in_ch, out_ch, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(num_models, out_ch))
        self.stride, self.padding = stride, padding
        # TF transposed kernel (kh, kw, out, in); Glorot is symmetric in the fans anyway
        self.fan_in, self.fan_out = out_ch * kernel * kernel, in_ch * kernel * kernel

    impl = "grouped"

    def forward(self, x: Tensor) -> Tensor:
        k, i, o, h, w = self.weight.shape
        if self.impl == "grouped":
            if x.device.type == "cpu" and o <= COL2IM_MAX_CHANNELS and (self.stride, self.padding, h, w) == (2, 1, 4, 4):
                return _transposed_conv_col2im(x, self.weight, self.bias)
            return F.conv_transpose2d(x, self.weight.reshape(k * i, o, h, w), self.bias.reshape(-1),
                                      self.stride, self.padding, groups=k)
        if (self.stride, self.padding, h, w) != (2, 1, 4, 4):
            raise NotImplementedError("matmul transposed convolutions support kernel 4, stride 2, padding 1")
        # Sub-pixel form: output pixel (2m+p, 2n+q) is a 2x2 convolution of the 1-padded input
        # at window (m+p, n+q) with taps W[3-p-2t, 3-q-2u]; all four phases in one GEMM per model.
        b, _, height, width = x.shape
        x = F.pad(x.reshape(b, k, i, height, width), (1, 1, 1, 1))
        patches = x.unfold(3, 2, 1).unfold(4, 2, 1)  # (B, k, i, H+1, W+1, 2, 2)
        taps = self.weight[:, :, :, _SUBPIXEL_TAPS][..., _SUBPIXEL_TAPS]  # (k, i, o, p, t, q, u)
        phases = torch.einsum("bkihwtu,kioptqu->bkopqhw", patches, taps)  # (B, k, o, 2, 2, H+1, W+1)
        out = torch.stack([torch.stack([phases[:, :, :, p, q, p:p + height, q:q + width] for q in (0, 1)], -1)
                           for p in (0, 1)], -3)  # (B, k, o, H, 2, W, 2)
        out = out.reshape(b, k, o, 2 * height, 2 * width) + self.bias[None, :, :, None, None]
        return out.reshape(b, k * o, 2 * height, 2 * width)


#: kernel row (column) of sub-pixel phase p, tap t for a 4x4 stride-2 transposed conv: 3 - p - 2t
_SUBPIXEL_TAPS = torch.tensor([[3, 1], [2, 0]])

#: On CPU, transposed convolutions to at most this many channels per model (the decoder's last
#: layer, to the image) run their forward pass as :class:`_TransposedConvCol2im`: oneDNN's kernel
#: spends ~4 ms on the 34 MFLOP of 32 images there (benchmarks/train_throughput.py).
COL2IM_MAX_CHANNELS = 3


def _transposed_conv_col2im(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """:class:`_TransposedConvCol2im`; under autocast its GEMMs run in the low precision, as a
    convolution's would."""
    if torch.is_autocast_enabled(x.device.type):
        dtype = torch.get_autocast_dtype(x.device.type)
        with torch.autocast(x.device.type, enabled=False):
            return _TransposedConvCol2im.apply(x.to(dtype), weight.to(dtype), bias.to(dtype))
    return _TransposedConvCol2im.apply(x, weight, bias)


class _TransposedConvCol2im(torch.autograd.Function):
    """K stacked transposed convolutions (kernel 4, stride 2, padding 1) on CPU: one batched
    GEMM from each input pixel to its 4x4 output patch, then overlap-add. Input pixel (m, n) with
    tap (2s+p, 2t+q) lands on output pixel (2(m+s)+p-1, 2(n+t)+q-1), so the overlap-add is four
    shifted adds, accumulated in float32 (the output is float32 under autocast too). The backward
    pass is the library's (same gradients as ``conv_transpose2d``)."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        k, i, o = weight.shape[:3]
        b, _, h, w = x.shape
        pixels = x.permute(0, 2, 3, 1).reshape(b * h * w, k, i).transpose(0, 1)  # (k, BHW, i); a view if channels-last
        patches = torch.bmm(pixels, weight.reshape(k, i, o * 16)).float()
        patches = patches.reshape(k, b, h, w, o, 2, 2, 2, 2).permute(5, 7, 1, 0, 4, 2, 6, 3, 8)  # (s, t, B, k, o, m, p, n, q)
        out = x.new_zeros(b, k, o, h + 1, 2, w + 1, 2, dtype=torch.float32)  # padded by 1 pixel per side
        for s in (0, 1):
            for t in (0, 1):
                out[:, :, :, s:s + h, :, t:t + w] += patches[s, t]
        ctx.save_for_backward(x, weight)
        return out.reshape(b, k * o, 2 * h + 2, 2 * w + 2)[:, :, 1:-1, 1:-1] + bias.reshape(1, -1, 1, 1)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        x, weight = ctx.saved_tensors
        k, i, o = weight.shape[:3]
        gx, gw, gb = torch.ops.aten.convolution_backward(
            grad.to(x.dtype), x, weight.reshape(k * i, o, 4, 4), [k * o], [2, 2], [1, 1], [1, 1], True, [0, 0], k,
            list(ctx.needs_input_grad))
        return gx, None if gw is None else gw.reshape(weight.shape), None if gb is None else gb.reshape(k, o)


class StackedLinear(_Stacked):
    """K independent dense layers: ``(K, B, in) -> (K, B, out)`` by one batched matmul."""

    def __init__(self, num_models: int, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_models, in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(num_models, out_features))
        self.fan_in, self.fan_out = in_features, out_features

    def forward(self, x: Tensor, *, detach_parameters: bool = False) -> Tensor:
        w, b = (self.weight.detach(), self.bias.detach()) if detach_parameters else (self.weight, self.bias)
        return torch.baddbmm(b.unsqueeze(1), x, w)


def _check_image(image_size: int, num_channels: int) -> int:
    if num_channels < 1:
        raise ValueError(f"num_channels must be >= 1, got {num_channels}")
    if image_size < 16 or image_size % 16:
        raise ValueError(f"image_size must be a multiple of 16 (four stride-2 layers), got {image_size}")
    return image_size // 16


class Encoder(nn.Module):
    """``conv_encoder`` (`methods/shared/architectures.py: conv_encoder`): 4 stride-2 convs, Dense 256, mean and log-variance heads."""

    def __init__(self, num_models: int, num_channels: int, latent_dim: int = 10,
                 image_size: int = 64, kernel: int = 2):
        super().__init__()
        if kernel not in ENCODER_KERNELS:
            raise ValueError(f"encoder kernel must be one of {ENCODER_KERNELS}, got {kernel}")
        side = _check_image(image_size, num_channels)
        k = num_models
        self.e1 = StackedConv2d(k, num_channels, 32, 4, 2, same_padding(4))
        self.e2 = StackedConv2d(k, 32, 32, 4, 2, same_padding(4))
        self.e3 = StackedConv2d(k, 32, 64, kernel, 2, same_padding(kernel))
        self.e4 = StackedConv2d(k, 64, 64, kernel, 2, same_padding(kernel))
        self.e5 = StackedLinear(k, 64 * side * side, 256)
        self.means = StackedLinear(k, 256, latent_dim)
        self.log_var = StackedLinear(k, 256, latent_dim)

    micro_batch: int | None = None  # images per convolution pass (set_conv_micro_batch)

    def convolutions(self, x: Tensor) -> Tensor:
        # in-place ReLUs: a convolution's backward pass needs its input, not its output.
        # From one image channel the layout is ambiguous and e1 returns NCHW: make it channels-last
        h = F.relu_(self.e1(x).contiguous(memory_format=torch.channels_last))
        h = F.relu_(self.e2(h))
        h = F.relu_(self.e3(h))
        return F.relu_(self.e4(h))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(B, K*C, H, W)`` images -> ``(K, B, D)`` means and log-variances."""
        h = in_micro_batches(self.convolutions, x, self.micro_batch)
        k = self.e1.num_models
        h = h.reshape(h.shape[0], k, -1).transpose(0, 1)  # per model: flatten C, H, W
        h = F.relu(self.e5(h))
        return self.means(h), self.log_var(h)


class Decoder(nn.Module):
    """``deconv_decoder`` (`methods/shared/architectures.py: deconv_decoder`): Dense 256, Dense 1024, 4 transposed convs to logits."""

    def __init__(self, num_models: int, num_channels: int, latent_dim: int = 10, image_size: int = 64):
        super().__init__()
        self.side = _check_image(image_size, num_channels)
        k = num_models
        self.d1 = StackedLinear(k, latent_dim, 256)
        self.d2 = StackedLinear(k, 256, 64 * self.side * self.side)
        self.d3 = StackedConvTranspose2d(k, 64, 64, 4, 2, 1)
        self.d4 = StackedConvTranspose2d(k, 64, 32, 4, 2, 1)
        self.d5 = StackedConvTranspose2d(k, 32, 32, 4, 2, 1)
        self.d6 = StackedConvTranspose2d(k, 32, num_channels, 4, 2, 1)

    micro_batch: int | None = None  # images per convolution pass (set_conv_micro_batch)

    def convolutions(self, h: Tensor) -> Tensor:
        h = F.relu_(self.d3(h))
        h = F.relu_(self.d4(h))
        h = F.relu_(self.d5(h))
        return self.d6(h)

    def forward(self, z: Tensor) -> Tensor:
        """``(K, B, D)`` latents -> ``(B, K*C, H, W)`` logits (no output activation)."""
        h = F.relu(self.d1(z))
        h = F.relu(self.d2(h))
        k, b, s = *h.shape[:2], self.side
        # model k's units as (64, s, s) maps, laid out channels-last: (B, s, s, k*64) in memory
        h = h.reshape(k, b, 64, s, s).permute(1, 3, 4, 0, 2).reshape(b, s, s, k * 64).contiguous().permute(0, 3, 1, 2)
        return in_micro_batches(self.convolutions, h, self.micro_batch)


class Discriminator(nn.Module):
    """``fc_discriminator`` (`methods/shared/architectures.py: fc_discriminator`): 6 x [Dense(1000) + LeakyReLU(0.2)], Dense(2) logits."""

    NEGATIVE_SLOPE = 0.2  # TF's leaky_relu default, not PyTorch's 0.01

    def __init__(self, num_models: int, latent_dim: int = 10, hidden: int = 1000, depth: int = 6):
        super().__init__()
        sizes = [latent_dim] + [hidden] * depth
        self.hidden = nn.ModuleList(StackedLinear(num_models, a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.logits = StackedLinear(num_models, hidden, 2)

    def forward(self, z: Tensor, *, detach_parameters: bool = False) -> Tensor:
        """``(K, B, D)`` codes -> ``(K, B, 2)`` logits; class 0 = joint, 1 = permuted.

        ``detach_parameters`` lets gradients reach ``z`` but not the weights.
        """
        h = z
        for layer in self.hidden:
            h = F.leaky_relu(layer(h, detach_parameters=detach_parameters), self.NEGATIVE_SLOPE)
        return self.logits(h, detach_parameters=detach_parameters)


def set_conv_impl(module: nn.Module, impl: str) -> None:
    """Run every stacked (transposed) convolution of ``module`` as ``impl`` (``CONV_IMPLS``)."""
    if impl not in CONV_IMPLS:
        raise ValueError(f"conv impl must be one of {CONV_IMPLS}, got {impl!r}")
    for m in module.modules():
        if isinstance(m, (StackedConv2d, StackedConvTranspose2d)):
            m.impl = impl


def in_micro_batches(layers, x: Tensor, size: int | None) -> Tensor:
    """``layers(x)``, run over consecutive slices of ``size`` images (all at once if ``None``)."""
    if size is None or x.shape[0] <= size:
        return layers(x)
    return torch.cat([layers(part) for part in x.split(size)])


def set_conv_micro_batch(module: nn.Module, images: int | None) -> None:
    """Run the convolutions of every encoder/decoder in ``module`` over micro-batches of
    ``images`` images (``None``: the whole batch at once)."""
    if images is not None and (isinstance(images, bool) or not isinstance(images, int) or images < 1):
        raise ValueError(f"conv micro-batch must be a positive number of images or None, got {images!r}")
    for m in module.modules():
        if isinstance(m, (Encoder, Decoder)):
            m.micro_batch = images


def stacked_layers(module: nn.Module) -> list[_Stacked]:
    """All stacked layers of ``module`` in registration order (the init order)."""
    return [m for m in module.modules() if isinstance(m, _Stacked)]


def glorot_init(module: nn.Module, generators: Sequence[torch.Generator]) -> None:
    """Initialise model k of every stacked layer from ``generators[k]``, layer by layer."""
    layers = stacked_layers(module)
    for k, generator in enumerate(generators):
        for layer in layers:
            layer.reset_parameters(k, generator)
