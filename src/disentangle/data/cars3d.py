"""Cars3D from the per-car MATLAB files of Reed et al. (`data/ground_truth/cars3d.py: Cars3D`; book/design.md, "Dataset files").

Each ``cars/*.mat`` holds ``im`` of shape (128, 128, 3, 24, 4) = (H, W, RGB, azimuth,
elevation). ``einsum("abcde->deabc")`` gives (azimuth, elevation, H, W, 3); each image is
thumbnailed to 64×64 with Lanczos. Factors (row-major): elevation 4, azimuth 24, object
= one per file.

Object ids follow the **sorted** file names. The reference used the unsorted directory
listing, which differs between machines; sorting only relabels the object factor.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io
from PIL import Image

from .base import GridIndex
from .download import Resource
from .formats import (
    DatasetFormatError,
    StoredImageGrid,
    files_fingerprint,
    load_u8_cache,
    missing_files_error,
    save_u8_cache,
)

DOWNLOAD_NAME = "cars3d"
#: download name -> the files it fetches (book/design.md, "Dataset files"; ``download``)
FILES = {DOWNLOAD_NAME: (Resource(("http://www.scottreed.info/files/nips2015-analogy-data.tar.gz",
                                   "http://www-personal.umich.edu/~reedscot/files/nips2015-analogy-data.tar.gz"),
                                  "cars3d/cars", ("md5", "4e866a7919c1beedf53964e6f7a23686"), unpack="cars3d"),)}
FACTOR_NAMES = ("elevation", "azimuth", "object")
N_ELEVATIONS, N_AZIMUTHS, N_OBJECTS = 4, 24, 183
MAT_SHAPE = (128, 128, 3, N_AZIMUTHS, N_ELEVATIONS)
CACHE_NAME = "cars3d_64x64.npz"


def data_dir(root: Path) -> Path:
    return Path(root) / "cars3d"


def expected_files(root: Path) -> list[Path]:
    """The folder holding one ``car_***_mesh.mat`` per car."""
    return [data_dir(root) / "cars"]


def _thumbnail_64(image: np.ndarray) -> np.ndarray:
    pil = Image.fromarray(image)
    pil.thumbnail((64, 64), Image.LANCZOS)
    return np.asarray(pil)


def _read_car(path: Path) -> np.ndarray:
    """(96, 64, 64, 3) uint8 in (azimuth, elevation) order."""
    try:
        mat = scipy.io.loadmat(path)
    except Exception as e:  # scipy raises several types for a corrupt file
        raise DatasetFormatError(f"{path}: not a readable MATLAB file ({e})") from None
    if "im" not in mat:
        raise DatasetFormatError(f"{path}: no 'im' array (keys: {sorted(k for k in mat if not k.startswith('__'))})")
    im = mat["im"]
    if im.shape != MAT_SHAPE or im.dtype != np.uint8:
        raise DatasetFormatError(f"{path}: 'im' should be uint8 {MAT_SHAPE}, got {im.dtype} {im.shape}")
    views = np.einsum("abcde->deabc", im).reshape(-1, *MAT_SHAPE[:3])
    return np.stack([_thumbnail_64(v) for v in views])


def load(root: Path, *, allow_reduced: bool = False, cache: bool = True) -> StoredImageGrid:
    """Load ``<root>/cars3d/cars/*.mat``; ``allow_reduced`` accepts fewer than 183 cars (tests)."""
    cars_dir = expected_files(root)[0]
    files = sorted(cars_dir.glob("*.mat")) if cars_dir.is_dir() else []
    if not files:
        raise missing_files_error("Cars3D", [cars_dir / "car_*_mesh.mat"], DOWNLOAD_NAME)
    if len(files) != N_OBJECTS and not allow_reduced:
        raise DatasetFormatError(f"{cars_dir}: found {len(files)} .mat files, expected {N_OBJECTS}")
    sizes = (N_ELEVATIONS, N_AZIMUTHS, len(files))
    cache_path = data_dir(root) / CACHE_NAME
    fingerprint = files_fingerprint(files)
    cached = load_u8_cache(cache_path, fingerprint) if cache else None
    if cached is not None:
        images = cached["images"]
    else:
        grid = GridIndex(sizes)
        images = np.empty((grid.size, 64, 64, 3), dtype=np.uint8)
        view = np.arange(N_AZIMUTHS * N_ELEVATIONS)
        for obj, path in enumerate(files):
            factors = np.column_stack([view % N_ELEVATIONS, view // N_ELEVATIONS, np.full_like(view, obj)])
            images[grid.index_of(factors)] = _read_car(path)
        if cache:
            save_u8_cache(cache_path, fingerprint, images=images)
    return StoredImageGrid("cars3d", FACTOR_NAMES, sizes, images)
