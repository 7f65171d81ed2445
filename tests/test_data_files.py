"""File loaders on tiny fixtures written in the real formats (book/design.md, "Dataset files")."""

from __future__ import annotations

import gzip
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from disentangle.data import cars3d, mpi3d, smallnorb
from disentangle.data.formats import (
    DatasetFormatError,
    StateSpaceAtomIndex,
    npz_array,
    read_norb_matrix,
    write_norb_matrix,
)

# ---------------------------------------------------------------------------------------------
# NYU binary matrix


def test_norb_header_layout_matches_the_spec(tmp_path):
    cat = np.arange(5, dtype=np.int32)
    write_norb_matrix(tmp_path / "cat.mat", cat)
    raw = (tmp_path / "cat.mat").read_bytes()
    # int32 magic, ndim 1, then max(3, ndim) = 3 dims padded with 1 (book/design.md, "Dataset files")
    assert struct.unpack("<5i", raw[:20]) == (0x1E3D4C54, 1, 5, 1, 1)
    assert len(raw) == 20 + 5 * 4
    dat = np.zeros((3, 2, 4, 4), np.uint8)
    write_norb_matrix(tmp_path / "dat.mat", dat)
    raw = (tmp_path / "dat.mat").read_bytes()
    assert struct.unpack("<6i", raw[:24]) == (0x1E3D4C55, 4, 3, 2, 4, 4)
    assert len(raw) == 24 + dat.size


@pytest.mark.parametrize("suffix", [".mat", ".mat.gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int16, np.float32, np.float64])
def test_norb_matrix_round_trip(tmp_path, suffix, dtype):
    a = (np.arange(2 * 3 * 4).reshape(2, 3, 4) % 100).astype(dtype)
    write_norb_matrix(tmp_path / f"x{suffix}", a)
    b = read_norb_matrix(tmp_path / f"x{suffix}")
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(b, a)


def test_norb_bad_magic_and_truncation_name_the_file(tmp_path):
    bad = tmp_path / "bad.mat"
    bad.write_bytes(struct.pack("<5i", 0x12345678, 1, 5, 1, 1) + bytes(20))
    with pytest.raises(DatasetFormatError, match=r"bad\.mat.*magic"):
        read_norb_matrix(bad)
    short = tmp_path / "short.mat"
    short.write_bytes(struct.pack("<5i", 0x1E3D4C54, 1, 5, 1, 1) + bytes(12))
    with pytest.raises(DatasetFormatError, match=r"short\.mat.*bytes"):
        read_norb_matrix(short)


# ---------------------------------------------------------------------------------------------
# StateSpaceAtomIndex (`data/ground_truth/util.py`)


def test_state_space_atom_index_reference_case():
    features = np.array([[0, 1], [1, 0], [1, 1], [0, 0]])
    index = StateSpaceAtomIndex([2, 2], features)
    np.testing.assert_array_equal(index.features_to_index(features), [0, 1, 2, 3])
    np.testing.assert_array_equal(index.features_to_index([[0, 0], [1, 1]]), [3, 2])


def test_state_space_atom_index_requires_the_full_grid_once():
    with pytest.raises(ValueError, match="cover"):
        StateSpaceAtomIndex([2, 2], np.array([[0, 1], [1, 0], [1, 1]]))
    with pytest.raises(ValueError, match="more than one"):
        StateSpaceAtomIndex([1, 2], np.array([[0, 1], [0, 0], [0, 1]]))
    with pytest.raises(ValueError, match="out of range"):
        StateSpaceAtomIndex([2, 2], np.array([[0, 1], [1, 0], [1, 2], [0, 0]]))


# ---------------------------------------------------------------------------------------------
# SmallNORB: reduced grid 2 categories × 2 instances × 2 elevations × 3 azimuths × 2 lightings;
# instance 1 in the training file, 0 in the test file (as the real split by instance)


def _norb_split(instance: int, rng: np.random.Generator):
    grid = np.stack(np.meshgrid(range(2), range(2), range(3), range(2), indexing="ij"), -1).reshape(-1, 4)
    grid = grid[rng.permutation(len(grid))]  # the files are not in grid order
    cat = grid[:, 0].astype(np.int32)
    info = np.column_stack([np.full(len(grid), instance), grid[:, 1], 2 * grid[:, 2], grid[:, 3]]).astype(np.int32)
    dat = rng.integers(0, 256, size=(len(grid), 2, 96, 96), dtype=np.uint8)
    return dat, cat, info


def _write_norb(folder: Path, gz_test: bool = False, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Write the six files; return the joined left images and factor table (train then test)."""
    rng = np.random.default_rng(seed)
    images, tables = [], []
    for prefix, instance in zip(smallnorb.SPLIT_PREFIXES, (1, 0)):
        dat, cat, info = _norb_split(instance, rng)
        suffix = ".mat.gz" if gz_test and "testing" in prefix else ".mat"
        for part, arr in zip(smallnorb.PARTS, (dat, cat, info)):
            write_norb_matrix(folder / f"{prefix}-{part}{suffix}", arr)
        images.append(dat[:, 0])
        tables.append(np.column_stack([cat, info[:, 0], info[:, 1], info[:, 2] // 2, info[:, 3]]))
    return np.concatenate(images), np.concatenate(tables)


def _lanczos64(img: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(img).resize((64, 64), Image.LANCZOS))


@pytest.mark.parametrize("gz_test", [False, True])
def test_smallnorb_loads_left_camera_resized_with_instance_nuisance(tmp_path, gz_test):
    left, table = _write_norb(smallnorb.data_dir(tmp_path), gz_test=gz_test)
    ds = smallnorb.load(tmp_path, allow_reduced=True)
    assert ds.factor_names == ("category", "elevation", "azimuth", "lighting")
    assert ds.factor_sizes == (2, 2, 3, 2) and ds.table_sizes == (2, 2, 2, 3, 2)
    assert ds.observation_shape == (64, 64, 1) and ds.source == "file"
    factors = ds.sample_factors(40, np.random.default_rng(3))
    full = ds.full_factors(factors, np.random.default_rng(7))
    assert set(full[:, 1]) == {0, 1}  # the instance is drawn, not fixed
    obs = ds.observations(factors, np.random.default_rng(7))
    assert obs.dtype == np.float32 and obs.shape == (40, 64, 64, 1)
    for row_factors, o in zip(full, obs):
        (row,) = np.flatnonzero((table == row_factors).all(axis=1))
        np.testing.assert_allclose(o[..., 0], _lanczos64(left[row]) / 255, atol=1e-6)


def test_smallnorb_cache_is_written_and_reused(tmp_path):
    _write_norb(smallnorb.data_dir(tmp_path))
    first = smallnorb.load(tmp_path, allow_reduced=True)
    cache = smallnorb.data_dir(tmp_path) / smallnorb.CACHE_NAME
    assert cache.exists()
    again = smallnorb.load(tmp_path, allow_reduced=True)
    np.testing.assert_array_equal(first.images, again.images)
    # different source files (other sizes) invalidate the cache
    _write_norb(smallnorb.data_dir(tmp_path), gz_test=True, seed=1)
    for p in smallnorb.expected_files(tmp_path)[3:]:
        p.unlink()
    rebuilt = smallnorb.load(tmp_path, allow_reduced=True)
    assert not np.array_equal(first.images, rebuilt.images)


def test_smallnorb_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)training-dat\.mat.*python -m disentangle data download smallnorb"):
        smallnorb.load(tmp_path)
    folder = smallnorb.data_dir(tmp_path)
    _write_norb(folder)
    with pytest.raises(DatasetFormatError, match=r"expected"):
        smallnorb.load(tmp_path, cache=False)  # reduced grid without allow_reduced
    # drop one image from the test split: the grid is no longer covered
    name = smallnorb.SPLIT_PREFIXES[1]
    for part in smallnorb.PARTS:
        p = folder / f"{name}-{part}.mat"
        write_norb_matrix(p, np.asarray(read_norb_matrix(p))[1:])
    with pytest.raises(DatasetFormatError, match="cover"):
        smallnorb.load(tmp_path, allow_reduced=True, cache=False)
    # wrong image size names the file
    write_norb_matrix(folder / f"{name}-dat.mat", np.zeros((23, 2, 32, 32), np.uint8))
    with pytest.raises(DatasetFormatError, match=r"testing-dat\.mat.*96"):
        smallnorb.load(tmp_path, allow_reduced=True, cache=False)


# ---------------------------------------------------------------------------------------------
# Cars3D: each image is a constant colour (R = 10·azimuth, G = 60·elevation, B = 100·object)


def _write_car(path: Path, obj: int) -> None:
    im = np.zeros(cars3d.MAT_SHAPE, np.uint8)
    im[:, :, 0] = (10 * np.arange(24))[:, None]
    im[:, :, 1] = (60 * np.arange(4))[None, :]
    im[:, :, 2] = 100 * obj
    scipy.io.savemat(path, {"im": im, "mask": np.zeros((128, 128, 24, 4), np.uint8)})


def test_cars3d_layout_and_sorted_object_ids(tmp_path):
    folder = cars3d.expected_files(tmp_path)[0]
    folder.mkdir(parents=True)
    for name, sorted_position in (("car_c_mesh", 2), ("car_a_mesh", 0), ("car_b_mesh", 1)):
        _write_car(folder / f"{name}.mat", sorted_position)
    ds = cars3d.load(tmp_path, allow_reduced=True)
    assert ds.factor_names == ("elevation", "azimuth", "object") and ds.factor_sizes == (4, 24, 3)
    assert ds.observation_shape == (64, 64, 3)
    factors = ds.factors_of(np.arange(4 * 24 * 3))
    obs = ds.observations(factors, np.random.default_rng(0))
    expected = np.stack([10 * factors[:, 1], 60 * factors[:, 0], 100 * factors[:, 2]], axis=1) / 255
    np.testing.assert_allclose(obs.reshape(len(obs), -1, 3), np.broadcast_to(expected[:, None], (len(obs), 4096, 3)), atol=1e-6)
    np.testing.assert_array_equal(ds.index_of(factors), np.arange(len(factors)))
    assert (cars3d.data_dir(tmp_path) / cars3d.CACHE_NAME).exists()


def test_cars3d_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)cars.*python -m disentangle data download cars3d"):
        cars3d.load(tmp_path)
    folder = cars3d.expected_files(tmp_path)[0]
    folder.mkdir(parents=True)
    _write_car(folder / "car_a_mesh.mat", 0)
    with pytest.raises(DatasetFormatError, match="183"):
        cars3d.load(tmp_path)
    scipy.io.savemat(folder / "car_b_mesh.mat", {"images": np.zeros((2, 2), np.uint8)})
    with pytest.raises(DatasetFormatError, match=r"car_b_mesh\.mat.*'im'"):
        cars3d.load(tmp_path, allow_reduced=True, cache=False)
    scipy.io.savemat(folder / "car_b_mesh.mat", {"im": np.zeros((64, 64, 3, 24, 4), np.uint8)})
    with pytest.raises(DatasetFormatError, match=r"car_b_mesh\.mat.*128"):
        cars3d.load(tmp_path, allow_reduced=True, cache=False)


# ---------------------------------------------------------------------------------------------
# MPI3D: image i is the constant i (N = 36 on sizes (2, 2, 1, 1, 1, 3, 3))

MPI_SIZES = (2, 2, 1, 1, 1, 3, 3)


def _write_mpi3d(path: Path, compressed: bool = False, key: str = "images") -> np.ndarray:
    n = int(np.prod(MPI_SIZES))
    images = np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None], (n, 64, 64, 3)).copy()
    path.parent.mkdir(parents=True, exist_ok=True)
    (np.savez_compressed if compressed else np.savez)(path, **{key: images})
    return images


@pytest.mark.parametrize("compressed", [False, True])
def test_mpi3d_memory_maps_and_indexes_row_major(tmp_path, compressed):
    path = mpi3d.expected_files(tmp_path, "real")[0]
    _write_mpi3d(path, compressed)
    ds = mpi3d.load(tmp_path, "real", factor_sizes=MPI_SIZES)
    assert isinstance(ds.images, np.memmap)
    assert ds.name == "mpi3d_real" and ds.factor_sizes == MPI_SIZES and len(ds.factor_names) == 7
    factors = ds.sample_factors(25, np.random.default_rng(0))
    obs = ds.observations(factors, np.random.default_rng(0))
    np.testing.assert_allclose(obs[:, 0, 0, 0], ds.index_of(factors) / 255, atol=1e-7)
    assert obs.shape == (25, 64, 64, 3) and obs.dtype == np.float32
    assert (path.with_name(path.name + ".images.npy").exists()) == compressed


def test_mpi3d_sizes_from_the_image_count(tmp_path, monkeypatch):
    _write_mpi3d(mpi3d.expected_files(tmp_path, "toy")[0])
    with pytest.raises(DatasetFormatError, match="no known MPI3D release"):
        mpi3d.load(tmp_path, "toy")
    monkeypatch.setitem(mpi3d.SIZES_BY_COUNT, 36, MPI_SIZES)
    assert mpi3d.load(tmp_path, "toy").factor_sizes == MPI_SIZES
    with pytest.raises(DatasetFormatError, match="do not describe"):
        mpi3d.load(tmp_path, "toy", factor_sizes=(2, 2, 1, 1, 1, 3, 4))


def test_mpi3d_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)mpi3d_realistic\.npz.*download mpi3d_realistic"):
        mpi3d.load(tmp_path, "realistic")
    with pytest.raises(ValueError, match="variant"):
        mpi3d.load(tmp_path, "cartoon")
    path = mpi3d.expected_files(tmp_path, "toy")[0]
    _write_mpi3d(path, key="imgs")
    with pytest.raises(DatasetFormatError, match=r"mpi3d_toy\.npz.*'images'.*imgs"):
        mpi3d.load(tmp_path, "toy")
    path.write_bytes(b"not a zip")
    with pytest.raises(DatasetFormatError, match=r"mpi3d_toy\.npz"):
        mpi3d.load(tmp_path, "toy")


def test_npz_array_reads_stored_member_in_place(tmp_path):
    a = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    np.savez(tmp_path / "a.npz", x=a, y=np.zeros(3))
    with zipfile.ZipFile(tmp_path / "a.npz") as zf:
        assert zf.getinfo("x.npy").compress_type == zipfile.ZIP_STORED
    m = npz_array(tmp_path / "a.npz", "x")
    assert isinstance(m, np.memmap)
    np.testing.assert_array_equal(m, a)


def test_gz_reader_rejects_wrong_length(tmp_path):
    p = tmp_path / "x.mat.gz"
    p.write_bytes(gzip.compress(struct.pack("<5i", 0x1E3D4C54, 1, 4, 1, 1) + bytes(8)))
    with pytest.raises(DatasetFormatError, match=r"x\.mat\.gz"):
        read_norb_matrix(p)


# --------------------------------------------------------------------------- fault injection


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
def test_an_object_array_in_an_npz_is_refused_before_any_memory_map(tmp_path, save):
    """Before: an .npz holding an object-dtype array was memory-mapped, and indexing
    it segfaulted the process (rc 139)."""
    path = tmp_path / "evil.npz"
    save(path, imgs=np.array([object(), "x", 3], dtype=object))
    with pytest.raises(DatasetFormatError, match=r"evil\.npz: array 'imgs' holds Python objects"):
        npz_array(path, "imgs")
    assert not list(tmp_path.glob("*.npy"))  # nothing decompressed or mapped


def test_a_cut_npz_names_the_file(tmp_path):
    """Before: an .npz with cut data failed with `mmap length is greater than file size`,
    naming no file."""
    from disentangle.data import get_dataset
    from disentangle.data.dsprites import REAL_FILE

    path = tmp_path / REAL_FILE
    path.parent.mkdir(parents=True)
    np.savez(path, imgs=np.zeros((64, 64, 64), np.uint8))
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])  # the download stopped half way
    with pytest.raises(DatasetFormatError, match=str(path)):
        get_dataset("dsprites", source="file", root=tmp_path)
    # a stored member whose data is cut but whose zip directory survived
    np.savez(tmp_path / "b.npz", x=np.zeros(1000, np.uint8))
    blob = bytearray((tmp_path / "b.npz").read_bytes())
    with zipfile.ZipFile(tmp_path / "b.npz") as zf:
        info = zf.getinfo("x.npy")
    shape_at = blob.index(b"(1000,)", info.header_offset)
    blob[shape_at:shape_at + 7] = b"(9000,)"  # the header promises more than the file holds
    (tmp_path / "b.npz").write_bytes(bytes(blob))
    with pytest.raises(DatasetFormatError, match=r"b\.npz: array 'x' is cut short"):
        npz_array(tmp_path / "b.npz", "x")
