"""Trained-model folders and their use as representations (`methods/unsupervised/train.py`, `postprocessing/methods.py`).

A folder holds ``model.pt`` (the state dict of a one-model stack: every tensor
has a leading model axis of length 1) and ``config.json`` (method,
hyperparameters, architecture, seed, dataset). :func:`load_model` returns a
:class:`TrainedModel` with the reference's exported signatures: encoder mean /
log-variance, sampled representation, reconstructions, decoder.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..devices import resolve_device
from ..io import DamagedFileError, atomic_path, atomic_write_json, read_json
from ..models import GaussianVAE, build_stacked_model

MODEL_FORMAT = "disentangle-model-1"


def save_model(model: GaussianVAE, k: int, folder: str | Path, **info: Any) -> None:
    """Save model ``k`` of a stack as a one-model folder (``model.pt`` + ``config.json``)."""
    folder = Path(folder)
    state = {n: t[k:k + 1].detach().cpu().clone() for n, t in model.state_dict().items()}
    with atomic_path(folder / "model.pt") as tmp, open(tmp, "wb") as f:
        torch.save(state, f)  # a file object, not a path: the archive is not named after the temp file
    atomic_write_json(folder / "config.json", {
        "format": MODEL_FORMAT, "method": model.name, "hyperparams": model.hyperparams(k),
        "architecture": model.architecture(), **info})


def _as_generator_noise(rng: np.random.Generator | torch.Generator, shape: tuple[int, int]) -> torch.Tensor:
    if isinstance(rng, torch.Generator):
        return torch.randn(shape, generator=rng)
    if isinstance(rng, (np.random.Generator, np.random.RandomState)):
        return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
    raise TypeError(f"rng must be a numpy Generator/RandomState or torch.Generator, got {type(rng).__name__}")


class TrainedModel:
    """A trained model used as a representation function (inputs NHWC in [0, 1])."""

    def __init__(self, model: GaussianVAE, config: dict[str, Any], device: torch.device):
        if model.num_models != 1:
            raise ValueError("TrainedModel wraps a single model")
        self.model, self.config, self.device = model.eval(), config, device

    @property
    def latent_dim(self) -> int:
        return self.model.latent_dim

    def _images(self, x: np.ndarray | torch.Tensor) -> torch.Tensor:
        """NHWC numpy or torch (or NCHW torch) images -> NCHW float tensor."""
        t = torch.as_tensor(np.asarray(x, dtype=np.float32)) if isinstance(x, np.ndarray) else x.float()
        c, s = self.model.num_channels, self.model.image_size
        if t.dim() == 4 and tuple(t.shape[1:]) == (s, s, c):
            return t.permute(0, 3, 1, 2)
        if t.dim() == 4 and tuple(t.shape[1:]) == (c, s, s):
            return t
        raise ValueError(f"expected images of shape (n, {s}, {s}, {c}) (or NCHW tensors), got {tuple(t.shape)}")

    @torch.no_grad()
    def encode(self, x: np.ndarray | torch.Tensor, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """Encoder means and log-variances, each ``(n, D)`` numpy (``gaussian_encoder``)."""
        images = self._images(x)
        means, logvars = [], []
        for i in range(0, len(images), batch_size):
            m, lv = self.model.encoder(images[i:i + batch_size].to(self.device))
            means.append(m[0].cpu())
            logvars.append(lv[0].cpu())
        if not means:
            return np.zeros((0, self.latent_dim), np.float32), np.zeros((0, self.latent_dim), np.float32)
        return torch.cat(means).numpy(), torch.cat(logvars).numpy()

    def represent_mean(self, x: np.ndarray | torch.Tensor, batch_size: int = 64) -> np.ndarray:
        """The ``mean`` representation (`postprocessing/methods.py`): encoder means, ``(n, D)``."""
        return self.encode(x, batch_size)[0]

    def represent_sampled(self, x: np.ndarray | torch.Tensor, rng: np.random.Generator | torch.Generator,
                          batch_size: int = 64) -> np.ndarray:
        """The ``sampled`` representation (`postprocessing/methods.py`): one draw from q(z|x), fresh noise per call."""
        mean, logvar = self.encode(x, batch_size)
        eps = _as_generator_noise(rng, mean.shape).numpy()
        return mean + np.exp(logvar / 2) * eps

    @torch.no_grad()
    def decode(self, z: np.ndarray | torch.Tensor, batch_size: int = 64) -> np.ndarray:
        """Decoder images ``sigmoid(logits)`` for latents ``(n, D)``, as NHWC numpy."""
        z = torch.as_tensor(np.asarray(z, dtype=np.float32)) if isinstance(z, np.ndarray) else z.float()
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected latents of shape (n, {self.latent_dim}), got {tuple(z.shape)}")
        out = [torch.sigmoid(self.model.decoder(z[i:i + batch_size].to(self.device)[None])).cpu()
               for i in range(0, len(z), batch_size)]
        if not out:
            s, c = self.model.image_size, self.model.num_channels
            return np.zeros((0, s, s, c), np.float32)
        return torch.cat(out).permute(0, 2, 3, 1).numpy()

    def reconstruct(self, x: np.ndarray | torch.Tensor, batch_size: int = 64) -> np.ndarray:
        """Reconstructions ``sigmoid(decoder(encoder mean))``, NHWC numpy."""
        return self.decode(self.represent_mean(x, batch_size), batch_size)


def load_weights(path: Path) -> dict[str, Any]:
    """``torch.load`` of a file this package wrote (tensors only, ``weights_only``); a
    missing, truncated or foreign file raises an error naming ``path``."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, ValueError, OSError, pickle.UnpicklingError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DamagedFileError(f"{path}: damaged or not a disentangle weights file ({first})") from None


def load_model(folder: str | Path, device: str | torch.device | None = None) -> TrainedModel:
    """Load a model folder written by training; ``device`` None picks cuda > mps > cpu."""
    folder = Path(folder)
    config_path = folder / "config.json"
    if not config_path.exists():
        raise FileNotFoundError(f"no trained model in {folder} (missing config.json)")
    config = read_json(config_path)  # DamagedFileError naming the file if truncated
    if not isinstance(config, dict) or config.get("format") != MODEL_FORMAT:
        found = config.get("format") if isinstance(config, dict) else type(config).__name__
        raise DamagedFileError(f"{config_path}: not a model config (format {found!r}, expected {MODEL_FORMAT!r})")
    model = build_stacked_model(config["method"], [config["hyperparams"]], **config["architecture"])
    model.load_state_dict(load_weights(folder / "model.pt"))
    dev = resolve_device("auto") if device is None else torch.device(device)
    return TrainedModel(model.to(dev), config, dev)
