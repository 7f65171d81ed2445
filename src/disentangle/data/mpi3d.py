"""MPI3D toy / realistic / real from ``mpi3d_<variant>.npz`` (`data/ground_truth/mpi3d.py: MPI3D`; book/design.md, "Dataset files").

The npz key ``images`` holds (N, 64, 64, 3) uint8 in row-major factor order; it is
memory-mapped (12.7 GB for the current release), never converted as a whole.

Factor sizes are inferred from N: the current public release (all three variants,
1,036,800 images) is [6,6,2,3,3,40,40]; the older 460,800-image release that the
reference's [4,4,2,3,3,40,40] for toy/realistic describes is also accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .formats import DatasetFormatError, StoredImageGrid, missing_files_error, npz_array
from .download import Resource

VARIANTS = ("toy", "realistic", "real")
_MPI3D_MD5 = {  # the MD5s of the Final_Dataset release (book/design.md, "Dataset files")
    "toy": "55889cb7c7dfc655d6e0277beee88868",
    "realistic": "59a6225b88b635365f70c91b3e52f70f",
    "real": "0f33f609918fb5c97996692f91129802",
}
#: download name -> the files it fetches (book/design.md, "Dataset files"; ``download``)
FILES = {f"mpi3d_{variant}": (Resource(
    (f"https://storage.googleapis.com/disentanglement_dataset/Final_Dataset/mpi3d_{variant}.npz",
     f"https://huggingface.co/datasets/waleedgondal/mpi3d/resolve/main/mpi3d_{variant}.npz"),
    f"mpi3d/mpi3d_{variant}.npz", ("md5", md5)),) for variant, md5 in _MPI3D_MD5.items()}
#: download names that fetch the files of others
ALIASES = {"mpi3d": ("mpi3d_toy",)}
FACTOR_NAMES = (
    "object_color",
    "object_shape",
    "object_size",
    "camera_height",
    "background_color",
    "horizontal_axis",
    "vertical_axis",
)
#: image count -> factor sizes of the known releases
SIZES_BY_COUNT = {
    1_036_800: (6, 6, 2, 3, 3, 40, 40),
    460_800: (4, 4, 2, 3, 3, 40, 40),
}


def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"unknown MPI3D variant {variant!r}; choose one of {VARIANTS}")


def expected_files(root: Path, variant: str = "toy") -> list[Path]:
    _check_variant(variant)
    return [Path(root) / "mpi3d" / f"mpi3d_{variant}.npz"]


def load(root: Path, variant: str = "toy", *, factor_sizes: Sequence[int] | None = None) -> StoredImageGrid:
    """Load one variant. ``factor_sizes`` overrides the inference from N (reduced test files)."""
    path = expected_files(root, variant)[0]
    if not path.exists():
        raise missing_files_error(f"MPI3D ({variant})", [path], f"mpi3d_{variant}")
    images = npz_array(path, "images")
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (64, 64, 3):
        raise DatasetFormatError(f"{path}: 'images' should be uint8 (N, 64, 64, 3), got {images.dtype} {images.shape}")
    n = len(images)
    if factor_sizes is None:
        if n not in SIZES_BY_COUNT:
            raise DatasetFormatError(
                f"{path}: {n} images matches no known MPI3D release ({sorted(SIZES_BY_COUNT)})"
            )
        factor_sizes = SIZES_BY_COUNT[n]
    factor_sizes = tuple(int(s) for s in factor_sizes)
    if len(factor_sizes) != len(FACTOR_NAMES) or int(np.prod(factor_sizes)) != n:
        raise DatasetFormatError(f"{path}: factor sizes {factor_sizes} do not describe {n} images")
    return StoredImageGrid(f"mpi3d_{variant}", FACTOR_NAMES, factor_sizes, images)
