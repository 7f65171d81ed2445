"""Shared readers/writers for the on-disk dataset formats (book/design.md, "Dataset files").

* NYU "binary matrix" files used by SmallNORB (book/design.md, "Dataset files"), plain or ``.gz``.
* Memory-mapping one array of an uncompressed ``.npz`` (MPI3D, book/design.md, "Dataset files").
* ``StateSpaceAtomIndex``: factor vector -> image row lookup (`data/ground_truth/util.py: StateSpaceAtomIndex`).
* What the file loaders share: ``StoredImageGrid`` (uint8 images on a row-major factor
  grid), the missing-file error, Lanczos resizing and a uint8 image cache.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from ..io import atomic_path
from .base import GridIndex, GroundTruthDataset, Rng

# --------------------------------------------------------------------------------------------
# NYU binary matrix (book/design.md, "Dataset files")

NORB_MAGIC_TO_DTYPE: dict[int, np.dtype] = {
    0x1E3D4C55: np.dtype(np.uint8),
    0x1E3D4C54: np.dtype("<i4"),
    0x1E3D4C56: np.dtype("<i2"),
    0x1E3D4C51: np.dtype("<f4"),
    0x1E3D4C53: np.dtype("<f8"),
}
_DTYPE_TO_NORB_MAGIC = {dt: magic for magic, dt in NORB_MAGIC_TO_DTYPE.items()}
_MAX_NDIM = 16


class DatasetFormatError(ValueError):
    """A dataset file exists but does not have the expected format/shape/keys."""


def _open_maybe_gzip(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_norb_header(stream, path: Path) -> tuple[np.dtype, tuple[int, ...], int]:
    """Parse a binary-matrix header from ``stream``; return (dtype, shape, header bytes)."""
    head = stream.read(8)
    if len(head) < 8:
        raise DatasetFormatError(f"{path}: file too short for a NORB binary-matrix header")
    magic, ndim = struct.unpack("<ii", head)
    if magic not in NORB_MAGIC_TO_DTYPE:
        raise DatasetFormatError(
            f"{path}: bad magic number 0x{magic & 0xFFFFFFFF:08X}; expected one of "
            + ", ".join(f"0x{m:08X}" for m in NORB_MAGIC_TO_DTYPE)
            + " (NYU binary matrix)"
        )
    if not 1 <= ndim <= _MAX_NDIM:
        raise DatasetFormatError(f"{path}: implausible ndim {ndim} in NORB header")
    n_stored = max(3, ndim)
    dims_raw = stream.read(4 * n_stored)
    if len(dims_raw) < 4 * n_stored:
        raise DatasetFormatError(f"{path}: truncated NORB header")
    dims = struct.unpack(f"<{n_stored}i", dims_raw)
    if any(d < 0 for d in dims):
        raise DatasetFormatError(f"{path}: negative dimension in NORB header {dims}")
    return NORB_MAGIC_TO_DTYPE[magic], tuple(dims[:ndim]), 8 + 4 * n_stored


def read_norb_matrix(path: str | Path, *, mmap: bool = True) -> np.ndarray:
    """Read a NYU binary-matrix file (``.mat`` or ``.mat.gz``) as a C-order array.

    Uncompressed files are memory-mapped read-only when ``mmap``; ``.gz`` files are
    decompressed into memory. The data length must match the header exactly.
    """
    path = Path(path)
    with _open_maybe_gzip(path) as f:
        dtype, shape, header_len = read_norb_header(f, path)
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if path.suffix != ".gz" and mmap:
            actual = path.stat().st_size - header_len
            if actual != expected:
                raise DatasetFormatError(
                    f"{path}: header says shape {shape} {dtype} ({expected} bytes) but the file has {actual} data bytes"
                )
            return np.memmap(path, dtype=dtype, mode="r", offset=header_len, shape=shape)
        data = f.read()
    if len(data) != expected:
        raise DatasetFormatError(
            f"{path}: header says shape {shape} {dtype} ({expected} bytes) but the file has {len(data)} data bytes"
        )
    return np.frombuffer(data, dtype=dtype).reshape(shape)


def write_norb_matrix(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` as a NYU binary matrix (gzip-compressed if ``path`` ends in ``.gz``)."""
    path = Path(path)
    array = np.ascontiguousarray(array)
    dtype = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
    if dtype not in _DTYPE_TO_NORB_MAGIC:
        raise ValueError(f"dtype {array.dtype} has no NORB binary-matrix type code")
    dims = list(array.shape) + [1] * max(0, 3 - array.ndim)
    header = struct.pack(f"<ii{len(dims)}i", _DTYPE_TO_NORB_MAGIC[dtype], array.ndim, *dims)
    payload = header + array.astype(dtype, copy=False).tobytes(order="C")
    if path.suffix == ".gz":
        payload = gzip.compress(payload, compresslevel=1, mtime=0)
    with atomic_path(path) as tmp:
        tmp.write_bytes(payload)


# --------------------------------------------------------------------------------------------
# npz members (book/design.md, "Dataset files")


def _checked_header(stream, path: Path, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from an ``.npy`` header; refuses object arrays (they would need
    unpickling, and memory-mapping their pointers crashes the process) and Fortran order."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise DatasetFormatError(f"{path}: unsupported .npy format version {version} for {key!r}")
    except DatasetFormatError:
        raise
    except (ValueError, EOFError, OSError) as e:
        raise DatasetFormatError(f"{path}: array {key!r} has a damaged .npy header ({e})") from None
    if dtype.hasobject:
        raise DatasetFormatError(f"{path}: array {key!r} holds Python objects (dtype {dtype}); refusing to load it "
                                 "(only plain numeric arrays are read, never unpickled)")
    if fortran:
        raise DatasetFormatError(f"{path}: array {key!r} is Fortran-ordered; expected C order")
    return tuple(shape), dtype


def npz_array(path: str | Path, key: str) -> np.ndarray:
    """One array of an ``.npz``, read-only and memory-mapped where possible.

    A member stored uncompressed (``np.savez``) is memory-mapped in place. A compressed
    member (``np.savez_compressed``) is first decompressed once to ``<path>.<key>.npy``
    next to the archive (atomic write), which is then memory-mapped. Object arrays and
    truncated or damaged archives are refused (:class:`DatasetFormatError` naming the file)
    before anything is memory-mapped.
    """
    path = Path(path)
    member = f"{key}.npy"
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError) as e:
        raise DatasetFormatError(f"{path}: not an .npz (zip) archive, or truncated: {e}") from None
    with zf:
        names = zf.namelist()
        if member not in names:
            keys = sorted(n.removesuffix(".npy") for n in names)
            raise DatasetFormatError(f"{path}: no array {key!r} in the archive (keys: {keys})")
        info = zf.getinfo(member)
        if info.compress_type == zipfile.ZIP_STORED:
            with open(path, "rb") as f:
                f.seek(info.header_offset)
                local = f.read(30)
                if len(local) < 30:
                    raise DatasetFormatError(f"{path}: truncated archive (array {key!r})")
                name_len, extra_len = struct.unpack("<HH", local[26:30])
                data_start = info.header_offset + 30 + name_len + extra_len
                f.seek(data_start)
                shape, dtype = _checked_header(f, path, key)
                offset = f.tell()
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            size = path.stat().st_size
            if offset + nbytes > size or offset - data_start + nbytes != info.file_size:
                raise DatasetFormatError(
                    f"{path}: array {key!r} is cut short or damaged (needs {nbytes} bytes of {dtype} {shape}, "
                    f"the file holds {max(0, size - offset)}); download it again")
            return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)
        sidecar = path.with_name(f"{path.name}.{key}.npy")
        if not sidecar.exists():
            try:
                with zf.open(member) as src:
                    _checked_header(src, path, key)
                with zf.open(member) as src, atomic_path(sidecar) as tmp, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst, length=16 << 20)
            except (zipfile.BadZipFile, EOFError, zlib.error) as e:
                raise DatasetFormatError(f"{path}: array {key!r} is damaged ({e}); download it again") from None
    with open(sidecar, "rb") as f:
        _checked_header(f, sidecar, key)
    try:
        return np.load(sidecar, mmap_mode="r", allow_pickle=False)
    except ValueError as e:
        raise DatasetFormatError(f"{sidecar}: damaged ({e}); delete it to decompress it again") from None


# --------------------------------------------------------------------------------------------
# factor table -> row lookup (`data/ground_truth/util.py: StateSpaceAtomIndex`)


class StateSpaceAtomIndex:
    """Lookup from a full factor vector to the row of the image showing it (`data/ground_truth/util.py: StateSpaceAtomIndex`).

    ``features`` is the per-image factor table (one row per image). Every cell of the
    grid ``factor_sizes`` must be covered exactly once, otherwise ``ValueError``.
    """

    def __init__(self, factor_sizes: Sequence[int], features: np.ndarray):
        self.factor_sizes = np.asarray(factor_sizes, dtype=np.int64)
        features = np.asarray(features, dtype=np.int64)
        if features.ndim != 2 or features.shape[1] != len(self.factor_sizes):
            raise ValueError(f"features must be (n, {len(self.factor_sizes)}), got {features.shape}")
        states = self._state_index(features)
        n_states = int(np.prod(self.factor_sizes))
        counts = np.bincount(states, minlength=n_states)
        if np.any(counts == 0):
            raise ValueError(
                f"the images do not cover the full factor grid {tuple(self.factor_sizes)}: "
                f"{int(np.sum(counts == 0))} of {n_states} combinations are missing"
            )
        if np.any(counts > 1):
            raise ValueError(f"{int(np.sum(counts > 1))} factor combinations appear on more than one image")
        self._row_of_state = np.empty(n_states, dtype=np.int64)
        self._row_of_state[states] = np.arange(len(features))

    def _state_index(self, features: np.ndarray) -> np.ndarray:
        if np.any(features < 0) or np.any(features >= self.factor_sizes):
            raise ValueError(f"factor value out of range for sizes {tuple(self.factor_sizes)}")
        bases = np.concatenate([np.cumprod(self.factor_sizes[::-1])[::-1][1:], [1]])
        return features @ bases

    def features_to_index(self, features: np.ndarray) -> np.ndarray:
        """Image row of each factor vector (shape (n,) int64)."""
        features = np.asarray(features, dtype=np.int64)
        return self._row_of_state[self._state_index(features)]


# --------------------------------------------------------------------------------------------
# loader helpers


def missing_files_error(dataset: str, paths: Sequence[Path], download_name: str) -> FileNotFoundError:
    """The error every file loader raises when its files are absent."""
    listed = "\n  ".join(str(p) for p in paths)
    return FileNotFoundError(
        f"{dataset}: expected file(s) not found:\n  {listed}\n"
        f"Fetch them with:  python -m disentangle data download {download_name}"
    )


def lanczos_resize_u8(images: np.ndarray, size: int = 64) -> np.ndarray:
    """Resize (n, H, W[, C]) uint8 images to size×size with PIL Lanczos (the reference's ANTIALIAS)."""
    out = np.empty((len(images), size, size, *images.shape[3:]), dtype=np.uint8)
    for i, img in enumerate(images):
        out[i] = np.asarray(Image.fromarray(np.asarray(img)).resize((size, size), Image.LANCZOS))
    return out


def files_fingerprint(paths: Sequence[Path]) -> str:
    """Cheap identity of source files (names and sizes) for cache invalidation."""
    h = hashlib.sha256()
    for p in paths:
        h.update(f"{p.name}:{p.stat().st_size};".encode())
    return h.hexdigest()


def load_u8_cache(cache: Path, fingerprint: str) -> dict[str, np.ndarray] | None:
    """Arrays saved by ``save_u8_cache`` when the fingerprint matches, else None."""
    if not cache.exists():
        return None
    try:
        with np.load(cache, allow_pickle=False) as z:
            if str(z["fingerprint"]) != fingerprint:
                return None
            return {k: z[k] for k in z.files if k != "fingerprint"}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def save_u8_cache(cache: Path, fingerprint: str, **arrays: np.ndarray) -> None:
    """Atomically write a preprocessed-images cache (uncompressed npz)."""
    with atomic_path(cache) as tmp, open(tmp, "wb") as f:
        np.savez(f, fingerprint=np.array(fingerprint), **arrays)


# --------------------------------------------------------------------------------------------
# the dataset shared by the file loaders


class StoredImageGrid(GroundTruthDataset):
    """A full factor grid of stored uint8 images in row-major order (`data/ground_truth/util.py`).

    ``images`` is any (N, H, W, C) uint8 array-like indexable by a sorted int array
    (ndarray, memmap, h5py dataset); only the requested rows are converted to float32.
    """

    def __init__(
        self,
        name: str,
        factor_names: Sequence[str],
        factor_sizes: Sequence[int],
        images,
        source: str = "file",
    ):
        self.name = name
        self.source = source
        self.factor_names = tuple(factor_names)
        self.factor_sizes = tuple(int(s) for s in factor_sizes)
        self.grid = GridIndex(self.factor_sizes)
        if len(images) != self.grid.size:
            raise ValueError(f"{name}: {len(images)} images for a grid of {self.grid.size}")
        self.images = images
        self.observation_shape = tuple(images.shape[1:])

    def index_of(self, factors: np.ndarray) -> np.ndarray:
        return self.grid.index_of(factors)

    def factors_of(self, index: np.ndarray) -> np.ndarray:
        return self.grid.factors_of(index)

    def observations(self, factors: np.ndarray, rng: Rng) -> np.ndarray:
        return rows_as_float(self.images, self.index_of(factors))


def rows_as_float(images, rows: np.ndarray) -> np.ndarray:
    """``images[rows]`` as float32 in [0, 1], reading each distinct row once in sorted order."""
    unique_rows, inverse = np.unique(rows, return_inverse=True)
    batch = np.asarray(images[unique_rows])[inverse.reshape(-1)]
    return np.multiply(batch, np.float32(1 / 255), dtype=np.float32)
