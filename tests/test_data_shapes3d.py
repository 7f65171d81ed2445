"""Shapes3D: the real-file loader on a tiny 3dshapes.h5 and the procedural stand-in
(book/design.md, "Dataset files", "Procedural datasets")."""

from __future__ import annotations

import colorsys
from pathlib import Path

import h5py
import numpy as np
import pytest

from disentangle.data import shapes3d
from disentangle.data.base import GridIndex
from disentangle.data.formats import DatasetFormatError

REDUCED = (2, 2, 2, 2, 2, 3)
VALUES = (shapes3d.HUES, shapes3d.HUES, shapes3d.HUES, shapes3d.SCALES, np.arange(4.0), shapes3d.ORIENTATIONS_DEG)


def _write_h5(path: Path, order: np.ndarray | None = None, labels_key: str = "labels") -> np.ndarray:
    """Reduced grid in row-major order; image i is the constant i. Returns the images."""
    grid = GridIndex(REDUCED)
    n = grid.size
    classes = grid.factors_of(np.arange(n))
    labels = np.column_stack([VALUES[k][classes[:, k]] for k in range(6)])
    images = np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None], (n, 64, 64, 3)).copy()
    if order is not None:
        labels, images = labels[order], images[order]
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=images, chunks=(8, 64, 64, 3), compression="gzip")
        f.create_dataset(labels_key, data=labels)
    return images


@pytest.mark.parametrize("in_memory", [True, False])
def test_h5_loader_row_major(tmp_path, in_memory):
    _write_h5(shapes3d.expected_files(tmp_path)[0])
    ds = shapes3d.load(tmp_path, in_memory=in_memory, allow_reduced=True)
    assert ds.factor_names == shapes3d.FACTOR_NAMES and ds.factor_sizes == REDUCED
    assert ds.observation_shape == (64, 64, 3) and ds.source == "file" and ds.label == "shapes3d"
    assert isinstance(ds.images, np.ndarray) == in_memory
    factors = ds.sample_factors(50, np.random.default_rng(0))  # repeats and unsorted rows
    obs = ds.observations(factors, np.random.default_rng(0))
    assert obs.dtype == np.float32 and obs.shape == (50, 64, 64, 3)
    np.testing.assert_allclose(obs[:, 5, 7, 1], ds.index_of(factors) / 255, atol=1e-7)
    np.testing.assert_array_equal(ds.factors_of(ds.index_of(factors)), factors)


def test_h5_loader_errors(tmp_path):
    path = shapes3d.expected_files(tmp_path)[0]
    with pytest.raises(FileNotFoundError, match=r"(?s)3dshapes\.h5.*python -m disentangle data download shapes3d"):
        shapes3d.load(tmp_path)
    _write_h5(path)
    with pytest.raises(DatasetFormatError, match=r"3dshapes\.h5.*\(10, 10, 10, 8, 4, 15\)"):
        shapes3d.load(tmp_path)
    _write_h5(path, order=np.random.default_rng(0).permutation(int(np.prod(REDUCED))))
    with pytest.raises(DatasetFormatError, match="row-major"):
        shapes3d.load(tmp_path, allow_reduced=True)
    _write_h5(path, labels_key="latents")
    with pytest.raises(DatasetFormatError, match=r"3dshapes\.h5.*'labels'"):
        shapes3d.load(tmp_path, allow_reduced=True)
    path.write_bytes(b"not hdf5")
    with pytest.raises(DatasetFormatError, match=r"3dshapes\.h5"):
        shapes3d.load(tmp_path)


# ---------------------------------------------------------------------------------------------
# procedural stand-in


@pytest.fixture(scope="module")
def proc():
    return shapes3d.procedural()


def _hsv(rgb) -> tuple[float, float, float]:
    return colorsys.rgb_to_hsv(*map(float, rgb))


def test_procedural_interface(proc):
    assert proc.source == "procedural" and "procedural" in proc.label
    assert proc.factor_sizes == (10, 10, 10, 8, 4, 15) and proc.observation_shape == (64, 64, 3)
    f = proc.sample_factors(30, np.random.default_rng(0))
    x = proc.observations(f, np.random.default_rng(1))
    assert x.dtype == np.float32 and x.shape == (30, 64, 64, 3)
    assert x.min() >= 0 and x.max() <= 1
    np.testing.assert_array_equal(x, proc.observations(f, np.random.default_rng(2)))  # deterministic
    np.testing.assert_array_equal(x[3], proc.observations(f[3:4], None)[0])  # batch-independent
    np.testing.assert_array_equal(proc.factors_of(proc.index_of(f)), f)
    assert proc.index_of(np.array([[1, 0, 0, 0, 0, 0]]))[0] == 48000  # row-major, floor hue slowest (the 3d-shapes README)
    with pytest.raises(ValueError):
        proc.observations(np.array([[0, 0, 0, 8, 0, 0]]))


def test_procedural_every_factor_changes_the_image(proc):
    base = np.array([2, 5, 7, 3, 1, 4])
    ref = proc.observations(base[None])[0]
    for k, size in enumerate(proc.factor_sizes):
        for v in range(size):
            if v == base[k]:
                continue
            f = base.copy()
            f[k] = v
            diff = np.abs(proc.observations(f[None])[0] - ref).max(axis=-1)
            assert (diff > 0.05).sum() >= 10, (proc.factor_names[k], v)


def test_procedural_scene_colours(proc):
    """Sky band, wall/floor hue at S = V = 1, object hue (book/design.md, "Procedural datasets")."""
    f = np.array([[fh, wh, oh, 0, 0, 7] for fh, wh, oh in [(0, 3, 6), (4, 9, 1), (8, 1, 5)]])
    x = proc.observations(f)
    np.testing.assert_allclose(x[:, :13], np.broadcast_to(shapes3d.SKY_RGB, x[:, :13].shape), atol=1e-6)
    for (fh, wh, oh), img in zip(f[:, :3], x):
        floor, wall, obj = img[62, 2], img[25, 4], img[47, 30]
        for rgb, hue_idx in ((floor, fh), (wall, wh), (obj, oh)):
            h, s, v = _hsv(rgb)
            assert abs((h - shapes3d.HUES[hue_idx] + 0.5) % 1 - 0.5) < 0.02 and s > 0.97
        assert _hsv(floor)[2] > 0.99 and _hsv(wall)[2] > 0.95


def test_procedural_object_size_grows_with_scale(proc):
    heights = []
    for scale in (0, 7):
        on = proc.observations(np.array([[0, 0, 5, scale, 3, 7]]))[0]
        obj = np.abs(on - proc.observations(np.array([[0, 0, 0, scale, 3, 7]]))[0]).max(-1) > 0.1
        rows = np.flatnonzero(obj.any(axis=1))
        heights.append(rows.max() - rows.min())
        assert 50 <= rows.max() <= 57  # stands on the floor
    assert 20 <= heights[0] < heights[1] <= 48  # capsule ~26 px at 0.75, ~45 px at 1.25
