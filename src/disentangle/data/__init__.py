"""Ground-truth datasets (`data/ground_truth/`; book/design.md, "Dataset files"). Entry point: ``get_dataset``.

``get_dataset(name, source="auto", root=None)``:

* ``source="file"``: the real files under the data root (``python -m disentangle data download NAME``);
* ``source="procedural"``: the offline stand-in (the four dSprites datasets and shapes3d);
* ``source="auto"``: the real file when present, else the procedural stand-in, else an error.

Each dataset's module is named by its ``vocabulary`` entry and imported lazily.
The file-backed ones (``shapes3d``, ``smallnorb``, ``cars3d``, ``mpi3d``) expose
``load(root) -> GroundTruthDataset`` (FileNotFoundError naming the files and the
download command when they are missing) and ``expected_files(root) -> list[Path]``;
``shapes3d`` also ``procedural()``; ``dsprites`` builds its four datasets with ``make``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from .. import vocabulary
from .base import GridIndex, GroundTruthDataset, Rng
from .download import data_root

#: the four dSprites datasets (the ``dsprites`` module)
DSPRITES_NAMES = tuple(name for name, d in vocabulary.DATASETS.items() if d.module == "dsprites")
#: every dataset ``get_dataset`` knows
DATASET_NAMES = tuple(vocabulary.DATASETS)
SOURCES = ("auto", "file", "procedural")
#: datasets with a procedural stand-in
PROCEDURAL_NAMES = tuple(name for name, d in vocabulary.DATASETS.items() if d.procedural)


def _module(name: str):
    return importlib.import_module(f".{vocabulary.DATASETS[name].module}", __name__)


def _kwargs(name: str) -> dict:
    """The keyword arguments of a file module's ``load`` / ``expected_files`` for ``name``."""
    variant = vocabulary.DATASETS[name].variant
    return {"variant": variant} if variant is not None else {}


def expected_files(name: str, root: str | Path | None = None) -> list[Path]:
    """The real files ``name`` needs under the data root."""
    _check_name(name)
    module = _module(name)
    kwargs = {"name": name} if hasattr(module, "make") else _kwargs(name)
    return list(module.expected_files(data_root(root), **kwargs))


def _check_name(name: str) -> None:
    if name not in vocabulary.DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(vocabulary.DATASETS)}")


def get_dataset(name: str, source: str = "auto", root: str | Path | None = None) -> GroundTruthDataset:
    """The dataset ``name`` from ``source`` (``auto`` | ``file`` | ``procedural``); see the module doc."""
    _check_name(name)
    procedural = vocabulary.DATASETS[name].procedural
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    root = data_root(root)
    if source == "auto":
        present = all(p.exists() for p in expected_files(name, root))
        source = "file" if present or not procedural else "procedural"
    if source == "procedural" and not procedural:
        files = "\n  ".join(str(p) for p in expected_files(name, root))
        raise ValueError(
            f"{name} has no procedural stand-in; it needs the real file(s):\n  {files}\n"
            f"Fetch them with:  python -m disentangle data download {name}"
        )
    module = _module(name)
    if hasattr(module, "make"):  # a module of several datasets that builds each from its name (dsprites)
        return module.make(name, source, root)
    if source == "procedural":
        return module.procedural()
    return module.load(root, **_kwargs(name))


__all__ = [
    "DATASET_NAMES",
    "DSPRITES_NAMES",
    "PROCEDURAL_NAMES",
    "GridIndex",
    "GroundTruthDataset",
    "data_root",
    "expected_files",
    "get_dataset",
]
