"""Training (`methods/unsupervised/train.py`, `shared.gin`): :func:`train`, the one entry point (one model, or K
models of one method trained together), its :class:`TrainConfig`, and
trained-model folders (:func:`load_model`).

Layers, bottom up: ``config.py`` (what determines a run) → ``saved_model.py``
(model folders) → ``engine.py`` (``train`` and the stacked engine)."""

from ..devices import resolve_device
from .config import TrainConfig, derive_seeds
from .engine import TrainingStopped, read_results, train
from .saved_model import TrainedModel, load_model

__all__ = ["TrainConfig", "TrainedModel", "TrainingStopped", "derive_seeds", "load_model", "read_results",
           "resolve_device", "train"]
