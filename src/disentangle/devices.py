"""Where tensors live: picking a torch device and moving host data onto it."""

from __future__ import annotations

import os

import torch


def resolve_device(device: str | torch.device) -> torch.device:
    """"auto" picks cuda > mps > cpu; anything else is passed to ``torch.device``."""
    if str(device) != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def native_bf16(device: str | torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively, so mixed precision pays:
    CUDA GPUs that support it, CPUs with AVX-512-BF16 or AMX (1.7x here,
    benchmarks/train_throughput.py; AVX2-only CPUs emulate it, several times slower)."""
    device = resolve_device(device)
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    if not _cpu_isa_allows_bf16():
        return False
    cpu = getattr(torch, "cpu", None)
    checks = [getattr(cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    try:
        return any(bool(check()) for check in checks if check is not None)
    except RuntimeError:  # a torch build without these probes: be safe
        return False


#: ``ONEDNN_MAX_CPU_ISA`` values that cap oneDNN below AVX-512 (its convolutions then have no native bf16)
_ONEDNN_BELOW_AVX512 = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2")


def _cpu_isa_allows_bf16() -> bool:
    """False when the process is capped below AVX-512, by ``ATEN_CPU_CAPABILITY`` (PyTorch's own
    kernels: ``torch.backends.cpu.get_cpu_capability()``) or ``ONEDNN_MAX_CPU_ISA`` (oneDNN's
    convolutions): an AVX-512 CPU emulating an AVX2 laptop must train as that laptop would."""
    if os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper() in _ONEDNN_BELOW_AVX512:
        return False
    capability = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", lambda: "")()
    return not capability or "AVX512" in capability.upper() or "AMX" in capability.upper()


def resolve_precision(precision: str, device: str | torch.device) -> str:
    """``"auto"`` → ``"bf16"`` where :func:`native_bf16` holds for ``device``, else ``"fp32"``;
    ``"fp32"`` and ``"bf16"`` are returned unchanged."""
    if precision != "auto":
        return precision
    return "bf16" if native_bf16(device) else "fp32"


def host_to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A freshly made CPU tensor on ``device``; to CUDA through pinned memory
    without blocking, so the host can prepare the next step while the GPU works.

    ``tensor`` must not be modified afterwards (the copy may still be in flight).
    """
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def pin_malloc_thresholds() -> bool:
    """glibc only: serve blocks up to 32 MiB from the heap and never trim it, so a training
    process stops returning its whole-batch buffers to the OS every step and page-faulting them
    back in (measured by ``benchmarks/train_throughput.py``; the numbers are unchanged). Returns
    whether the thresholds were set (False off glibc)."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # malloc.h
    return bool(libc.mallopt(m_mmap_threshold, 32 << 20)) and bool(libc.mallopt(m_trim_threshold, 1 << 30))
