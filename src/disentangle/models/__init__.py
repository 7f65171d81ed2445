"""The six methods of the study (`methods/unsupervised/vae.py`) and their registry.

``MODEL_CLASSES`` maps the paper's method names to model classes; each class holds a
stack of K independent models (K = 1 via :func:`build_model`). The names come
from ``vocabulary.METHODS``: each entry's ``module`` holds the class whose
``name`` is the method's, so adding a method is one model file plus one
vocabulary entry (:func:`method_class` finds it).
"""

from __future__ import annotations

import importlib
from typing import Any, Sequence

from .. import vocabulary
from .annealed_vae import AnnealedVAE, AnnealedVAEConfig
from .beta_tc_vae import BetaTCVAE, BetaTCVAEConfig
from .beta_vae import BetaVAE, BetaVAEConfig
from .dip_vae import DIPVAEI, DIPVAEII, DIPVAEIConfig, DIPVAEIIConfig
from .factor_vae import FactorVAE, FactorVAEConfig
from .vae import GaussianVAE, LossParts


def _find_class(method: str) -> type[GaussianVAE]:
    """The model class of a vocabulary method: the class named ``method`` in its entry's ``module``."""
    entry = vocabulary.METHODS.get(method)
    if entry is None:
        raise ValueError(f"unknown method {method!r}; choose one of {sorted(vocabulary.METHODS)}")
    module = importlib.import_module(entry.module, package=__name__)
    found = [c for c in vars(module).values()
             if isinstance(c, type) and issubclass(c, GaussianVAE) and c.__dict__.get("name") == method]
    if len(found) != 1:
        raise ValueError(f"vocabulary method {method!r}: module {module.__name__} must hold exactly one model "
                         f"class with name = {method!r}, found {len(found)}")
    return found[0]


#: the paper's methods → model classes (registry keyed from ``vocabulary``)
MODEL_CLASSES: dict[str, type[GaussianVAE]] = {name: _find_class(name) for name in vocabulary.paper_methods()}


def method_class(method: str) -> type[GaussianVAE]:
    """The model class of any vocabulary method (the paper's, or one added to the vocabulary)."""
    return MODEL_CLASSES[method] if method in MODEL_CLASSES else _find_class(method)


def method_config(method: str, **hyperparams: Any) -> Any:
    """The method's config dataclass; unknown fields raise a ``ValueError``."""
    cls = method_class(method)
    try:
        return cls.Config(**hyperparams)
    except TypeError as e:
        fields = list(cls.Config.__dataclass_fields__)
        raise ValueError(f"bad hyperparameters {hyperparams} for {method} (fields: {fields}): {e}") from None


def build_stacked_model(method: str, hyperparams: Sequence[dict[str, Any]], *, num_channels: int,
                        image_size: int = 64, latent_dim: int = 10, encoder_kernel: int = 2) -> GaussianVAE:
    """A stack of ``len(hyperparams)`` independent models of one method (uninitialised)."""
    configs = [method_config(method, **h) for h in hyperparams]
    return method_class(method)(configs, num_channels=num_channels, image_size=image_size,
                                latent_dim=latent_dim, encoder_kernel=encoder_kernel)


def build_model(method: str, *, num_channels: int, image_size: int = 64, latent_dim: int = 10,
                encoder_kernel: int = 2, **hyperparams: Any) -> GaussianVAE:
    """One model (a stack of K = 1), e.g. ``build_model("beta_vae", num_channels=1, beta=4)``.

    Weights are uninitialised: call ``model.init_weights([torch.Generator().manual_seed(s)])``.
    """
    return build_stacked_model(method, [hyperparams], num_channels=num_channels, image_size=image_size,
                               latent_dim=latent_dim, encoder_kernel=encoder_kernel)


__all__ = [
    "MODEL_CLASSES", "GaussianVAE", "LossParts", "build_model", "build_stacked_model",
    "method_config", "method_class",
    "BetaVAE", "AnnealedVAE", "FactorVAE", "DIPVAEI", "DIPVAEII", "BetaTCVAE",
    "BetaVAEConfig", "AnnealedVAEConfig", "FactorVAEConfig", "DIPVAEIConfig", "DIPVAEIIConfig", "BetaTCVAEConfig",
]
