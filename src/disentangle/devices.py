"""Where tensors live: picking a torch device and moving host data onto it."""

from __future__ import annotations

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


def host_to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A freshly made CPU tensor on ``device``; to CUDA through pinned memory
    without blocking, so the host can prepare the next step while the GPU works.

    ``tensor`` must not be modified afterwards (the copy may still be in flight).
    """
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)
