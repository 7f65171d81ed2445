"""SmallNORB from the six NYU binary-matrix files (`data/ground_truth/norb.py: SmallNORB`; book/design.md, "Dataset files").

Train and test chunks are joined (train first), only the left camera ``dat[:, 0]`` is
kept, resized 96→64 with PIL Lanczos; the resized uint8 images are cached once in the
data folder. The factor table is [category, instance, elevation, azimuth/2, lighting];
the latent factors are category, elevation, azimuth and lighting, and the instance is a
nuisance drawn uniformly for every observation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import GroundTruthDataset, Rng, randint
from .download import Resource
from .formats import (
    DatasetFormatError,
    StateSpaceAtomIndex,
    files_fingerprint,
    lanczos_resize_u8,
    load_u8_cache,
    missing_files_error,
    read_norb_matrix,
    rows_as_float,
    save_u8_cache,
)

DOWNLOAD_NAME = "smallnorb"
SPLIT_PREFIXES = (
    "smallnorb-5x46789x9x18x6x2x96x96-training",
    "smallnorb-5x01235x9x18x6x2x96x96-testing",
)
PARTS = ("dat", "cat", "info")
FILE_NAMES = tuple(f"{prefix}-{part}.mat" for prefix in SPLIT_PREFIXES for part in PARTS)
#: columns of the factor table and their sizes (`data/ground_truth/norb.py: SmallNORB`)
TABLE_NAMES = ("category", "instance", "elevation", "azimuth", "lighting")
TABLE_SIZES = (5, 10, 9, 18, 6)
LATENT_COLUMNS = (0, 2, 3, 4)
CACHE_NAME = "smallnorb_left_64x64.npz"
IMAGE_SIZE = 96
_NORB = "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/"
_NORB_SHA256 = {  # TensorFlow Datasets' SHA-256 of the .gz files (book/design.md, "Dataset files")
    "smallnorb-5x46789x9x18x6x2x96x96-training-dat.mat": "5ffd6272a07d32695ee1082a26a41a93a37aab8c28da047f8c34ed348d214873",
    "smallnorb-5x46789x9x18x6x2x96x96-training-cat.mat": "2784e542c1922060691090952b6cd6278879a216c90f81476f0f00256d42cdaa",
    "smallnorb-5x46789x9x18x6x2x96x96-training-info.mat": "de7eb932ebe7a4ee16217fead60660d0eb3d23632c2f4d1c51f88c501c17bf32",
    "smallnorb-5x01235x9x18x6x2x96x96-testing-dat.mat": "cf7104eed3e51174d2f65b66d1e5878b9da233b886f161b0d88f4510ba2c7474",
    "smallnorb-5x01235x9x18x6x2x96x96-testing-cat.mat": "ecaf6d5bb8c3bc5eab9cf0258f6d2198dd474e016e374836fc097f2e5ff509ff",
    "smallnorb-5x01235x9x18x6x2x96x96-testing-info.mat": "16adf314226327ee006d1a44db8cfef52773c06c829951d5653a9f6f310248a2",
}
#: download name -> the files it fetches (book/design.md, "Dataset files"; ``download``)
FILES = {DOWNLOAD_NAME: tuple(Resource((f"{_NORB}{name}.gz",), f"smallnorb/{name}", ("sha256", sha), unpack="gunzip")
                              for name, sha in _NORB_SHA256.items())}


def data_dir(root: Path) -> Path:
    return Path(root) / "smallnorb"


def expected_files(root: Path) -> list[Path]:
    """The six uncompressed files (each may instead be present as ``<name>.gz``)."""
    return [data_dir(root) / name for name in FILE_NAMES]


def _present(path: Path) -> Path | None:
    gz = path.with_name(path.name + ".gz")
    return path if path.exists() else gz if gz.exists() else None


class SmallNORB(GroundTruthDataset):
    """Four latent factors; the instance column is resampled per observation (`data/ground_truth/util.py: SplitDiscreteStateSpace`)."""

    name = "smallnorb"
    observation_shape = (64, 64, 1)

    def __init__(self, images: np.ndarray, table: np.ndarray, table_sizes: tuple[int, ...]):
        self.images = images
        self.table_sizes = tuple(int(s) for s in table_sizes)
        self.index = StateSpaceAtomIndex(self.table_sizes, table)
        self.factor_names = tuple(TABLE_NAMES[c] for c in LATENT_COLUMNS)
        self.factor_sizes = tuple(self.table_sizes[c] for c in LATENT_COLUMNS)

    def full_factors(self, factors: np.ndarray, rng: Rng) -> np.ndarray:
        """Insert a uniformly drawn instance column into (n, 4) latent factors."""
        factors = np.asarray(factors, dtype=np.int64)
        if factors.ndim != 2 or factors.shape[1] != len(LATENT_COLUMNS):
            raise ValueError(f"expected (n, {len(LATENT_COLUMNS)}) factors, got {factors.shape}")
        instance = randint(rng, self.table_sizes[1], len(factors)).astype(np.int64)
        return np.column_stack([factors[:, 0], instance, factors[:, 1:]])

    def observations(self, factors: np.ndarray, rng: Rng) -> np.ndarray:
        rows = self.index.features_to_index(self.full_factors(factors, rng))
        return rows_as_float(self.images, rows)


def _read_split(paths: dict[str, Path]) -> tuple[np.ndarray, np.ndarray]:
    """(left-camera 96×96 uint8 images, factor table) of one split."""
    dat, cat, info = (read_norb_matrix(paths[p]) for p in PARTS)
    if dat.dtype != np.uint8 or dat.ndim != 4 or dat.shape[1:] != (2, IMAGE_SIZE, IMAGE_SIZE):
        raise DatasetFormatError(f"{paths['dat']}: expected uint8 (n, 2, 96, 96), got {dat.dtype} {dat.shape}")
    n = dat.shape[0]
    if cat.dtype.kind != "i" or cat.shape != (n,):
        raise DatasetFormatError(f"{paths['cat']}: expected int32 ({n},), got {cat.dtype} {cat.shape}")
    if info.dtype.kind != "i" or info.shape != (n, 4):
        raise DatasetFormatError(f"{paths['info']}: expected int32 ({n}, 4), got {info.dtype} {info.shape}")
    if np.any(info[:, 2] % 2):
        raise DatasetFormatError(f"{paths['info']}: azimuth values must be even (0, 2, ..., 34)")
    table = np.column_stack([cat, info[:, 0], info[:, 1], info[:, 2] // 2, info[:, 3]]).astype(np.int64)
    return np.ascontiguousarray(dat[:, 0]), table


def load(root: Path, *, allow_reduced: bool = False, cache: bool = True) -> SmallNORB:
    """Load both splits from ``<root>/smallnorb/``.

    ``allow_reduced`` accepts a smaller (but complete) factor grid, read from the files'
    own factor table — for test fixtures; otherwise the sizes must be (5, 10, 9, 18, 6).
    """
    wanted = expected_files(root)
    found = [_present(p) for p in wanted]
    if any(f is None for f in found):
        missing = [p for p, f in zip(wanted, found) if f is None]
        raise missing_files_error("SmallNORB", missing, DOWNLOAD_NAME)
    cache_path = data_dir(root) / CACHE_NAME
    fingerprint = files_fingerprint(found)
    cached = load_u8_cache(cache_path, fingerprint) if cache else None
    if cached is not None:
        images, table = cached["images"], cached["table"]
    else:
        splits = [
            _read_split(dict(zip(PARTS, found[i * len(PARTS) : (i + 1) * len(PARTS)])))
            for i in range(len(SPLIT_PREFIXES))
        ]
        images = np.concatenate([lanczos_resize_u8(imgs) for imgs, _ in splits])[..., None]
        table = np.concatenate([t for _, t in splits])
        if cache:
            save_u8_cache(cache_path, fingerprint, images=images, table=table)
    if np.any(table < 0):
        raise DatasetFormatError(f"{data_dir(root)}: negative values in the category/info files")
    sizes = tuple(int(s) for s in table.max(axis=0) + 1)
    if sizes != TABLE_SIZES and not allow_reduced:
        raise DatasetFormatError(
            f"{data_dir(root)}: factor table spans {dict(zip(TABLE_NAMES, sizes))}, expected "
            f"{dict(zip(TABLE_NAMES, TABLE_SIZES))}"
        )
    try:
        return SmallNORB(images, table, sizes)
    except ValueError as e:
        raise DatasetFormatError(f"{data_dir(root)}: {e}") from None
