"""Ground-truth datasets (study.md §3, datasets.md). Entry point: ``get_dataset``.

``get_dataset(name, source="auto", root=None)``:

* ``source="file"``: the real files under the data root (``python -m disentangle data download NAME``);
* ``source="procedural"``: the offline stand-in (the four dSprites datasets and shapes3d);
* ``source="auto"``: the real file when present, else the procedural stand-in, else an error.

Each file-backed module (``shapes3d``, ``smallnorb``, ``cars3d``, ``mpi3d``) exposes
``load(root) -> GroundTruthDataset`` (FileNotFoundError naming the files and the download
command when they are missing) and ``expected_files(root) -> list[Path]``; ``shapes3d``
also ``procedural()``. They are imported lazily.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Iterator

import numpy as np

from .base import GridIndex, GroundTruthDataset, Rng
from .download import data_root

#: the study's datasets, in the paper's order (study.md §0)
STUDY_DATASETS = (
    "dsprites",
    "color_dsprites",
    "noisy_dsprites",
    "scream_dsprites",
    "smallnorb",
    "cars3d",
    "shapes3d",
)
DSPRITES_NAMES = ("dsprites", "color_dsprites", "noisy_dsprites", "scream_dsprites")
#: name → (module, keyword arguments of its ``load`` / ``expected_files``)
_FILE_MODULES: dict[str, tuple[str, dict]] = {
    "shapes3d": ("shapes3d", {}),
    "smallnorb": ("smallnorb", {}),
    "cars3d": ("cars3d", {}),
    "mpi3d_toy": ("mpi3d", {"variant": "toy"}),
    "mpi3d_realistic": ("mpi3d", {"variant": "realistic"}),
    "mpi3d_real": ("mpi3d", {"variant": "real"}),
}
DATASET_NAMES = DSPRITES_NAMES + tuple(_FILE_MODULES)
SOURCES = ("auto", "file", "procedural")
#: datasets with a procedural stand-in
PROCEDURAL_NAMES = DSPRITES_NAMES + ("shapes3d",)


def _module(name: str):
    module = "dsprites" if name in DSPRITES_NAMES else _FILE_MODULES[name][0]
    return importlib.import_module(f".{module}", __name__)


def expected_files(name: str, root: str | Path | None = None) -> list[Path]:
    """The real files ``name`` needs under the data root."""
    _check_name(name)
    kwargs = {"name": name} if name in DSPRITES_NAMES else _FILE_MODULES[name][1]
    return list(_module(name).expected_files(data_root(root), **kwargs))


def _check_name(name: str) -> None:
    if name not in DATASET_NAMES:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_NAMES)}")


def get_dataset(name: str, source: str = "auto", root: str | Path | None = None) -> GroundTruthDataset:
    """The dataset ``name`` from ``source`` (``auto`` | ``file`` | ``procedural``); see the module doc."""
    _check_name(name)
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    root = data_root(root)
    if source == "auto":
        present = all(p.exists() for p in expected_files(name, root))
        source = "file" if present or name not in PROCEDURAL_NAMES else "procedural"
    if source == "procedural" and name not in PROCEDURAL_NAMES:
        files = "\n  ".join(str(p) for p in expected_files(name, root))
        raise ValueError(
            f"{name} has no procedural stand-in; it needs the real file(s):\n  {files}\n"
            f"Fetch them with:  python -m disentangle data download {name}"
        )
    module = _module(name)
    if name in DSPRITES_NAMES:
        return module.make(name, source, root)
    if source == "procedural":
        return module.procedural()
    return module.load(root, **_FILE_MODULES[name][1])


def to_torch(images: np.ndarray, device=None):
    """(n, H, W, C) float32 numpy → (n, C, H, W) float32 torch tensor on ``device``."""
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
    if device is None:
        return tensor
    from ..devices import host_to_device

    return host_to_device(tensor, torch.device(device))


def torch_batches(
    dataset: GroundTruthDataset, batch_size: int, rng: Rng, device=None, num_batches: int | None = None
) -> Iterator[tuple[np.ndarray, "torch.Tensor"]]:  # noqa: F821
    """Endless (or ``num_batches``) i.i.d. batches: ``(factors (n, K) int64, images NCHW float32 tensor)``."""
    count = 0
    while num_batches is None or count < num_batches:
        factors, images = dataset.sample(batch_size, rng)
        yield factors, to_torch(images, device)
        count += 1


__all__ = [
    "DATASET_NAMES",
    "DSPRITES_NAMES",
    "PROCEDURAL_NAMES",
    "STUDY_DATASETS",
    "GridIndex",
    "GroundTruthDataset",
    "data_root",
    "expected_files",
    "get_dataset",
    "to_torch",
    "torch_batches",
]
