"""Training (study.md §2.4): one model (:func:`train`), K models at once
(:func:`train_batched`), and trained-model folders (:func:`load_model`)."""

from ..devices import resolve_device
from .batched import train_batched
from .engine import TrainingStopped
from .saved_model import TrainedModel, load_model
from .trainer import TrainConfig, derive_seeds, read_results, train

__all__ = ["TrainConfig", "TrainedModel", "TrainingStopped", "derive_seeds", "load_model", "read_results",
           "resolve_device", "train", "train_batched"]
