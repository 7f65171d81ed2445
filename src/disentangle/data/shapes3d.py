"""Shapes3D (`data/ground_truth/shapes3d.py: Shapes3D`; book/design.md, "Dataset files", "Procedural datasets"): the real ``3dshapes.h5`` and an
offline procedural stand-in with the same six factors.

Factors (row-major, orientation fastest): floor_hue 10, wall_hue 10, object_hue 10,
scale 8, shape 4 (cube, cylinder, sphere, capsule), orientation 15 (camera azimuth
-30°…30°).
"""

from __future__ import annotations

import colorsys
from functools import lru_cache
from pathlib import Path

import h5py
import numpy as np
from scipy.ndimage import gaussian_filter

from .base import GridIndex, GroundTruthDataset, Rng
from .download import Resource
from .formats import DatasetFormatError, StoredImageGrid, missing_files_error

DOWNLOAD_NAME = "shapes3d"
FILE_NAME = "3dshapes.h5"
FACTOR_NAMES = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
FACTOR_SIZES = (10, 10, 10, 8, 4, 15)
#: factor values (the 3d-shapes README, `deepmind/3d-shapes`)
HUES = np.linspace(0.0, 0.9, 10)
SCALES = np.linspace(0.75, 1.25, 8)
SHAPES = ("cube", "cylinder", "sphere", "capsule")
ORIENTATIONS_DEG = np.linspace(-30.0, 30.0, 15)
_READ_CHUNK = 20_000
#: download name -> the files it fetches (book/design.md, "Dataset files"; ``download``)
FILES = {DOWNLOAD_NAME: (Resource(("https://storage.googleapis.com/3d-shapes/3dshapes.h5",), f"shapes3d/{FILE_NAME}",
                                  ("sha256", "0a0f6ed98baff276a50f3a081a7434d788da63cb135a98189b2a5b5769be1785")),)}


def expected_files(root: Path) -> list[Path]:
    return [Path(root) / "shapes3d" / FILE_NAME]


# --------------------------------------------------------------------------------------------
# the real file


def _labels_to_classes(labels: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """Class index per label column (sorted unique values, as TFDS does) and the sizes."""
    classes, sizes = [], []
    for column in labels.T:
        values, inverse = np.unique(column, return_inverse=True)
        classes.append(inverse.reshape(-1))
        sizes.append(len(values))
    return np.stack(classes, axis=1), tuple(sizes)


def load(root: Path, *, in_memory: bool = True, allow_reduced: bool = False) -> StoredImageGrid:
    """Load ``<root>/shapes3d/3dshapes.h5``.

    The labels are checked to enumerate the factor grid in row-major order. Images stay
    uint8: ``in_memory`` reads all 5.9 GB once; otherwise rows are read from the file for
    every batch (the file stays open). ``allow_reduced`` accepts a smaller complete grid,
    with sizes taken from the labels (test fixtures).
    """
    path = expected_files(root)[0]
    if not path.exists():
        raise missing_files_error("Shapes3D", [path], DOWNLOAD_NAME)
    try:
        h5 = h5py.File(path, "r")
    except OSError as e:
        raise DatasetFormatError(f"{path}: not a readable HDF5 file ({e})") from None
    if "images" not in h5 or "labels" not in h5:
        keys = sorted(h5.keys())
        h5.close()
        raise DatasetFormatError(f"{path}: expected datasets 'images' and 'labels', found {keys}")
    images, labels = h5["images"], h5["labels"]
    n = images.shape[0]
    if images.dtype != np.uint8 or images.shape[1:] != (64, 64, 3):
        h5.close()
        raise DatasetFormatError(f"{path}: 'images' should be uint8 (N, 64, 64, 3), got {images.dtype} {images.shape}")
    if labels.shape != (n, len(FACTOR_NAMES)):
        h5.close()
        raise DatasetFormatError(f"{path}: 'labels' should be ({n}, 6), got {labels.shape}")
    classes, sizes = _labels_to_classes(labels[()])
    if sizes != FACTOR_SIZES and not allow_reduced:
        h5.close()
        raise DatasetFormatError(f"{path}: labels span factor sizes {sizes}, expected {FACTOR_SIZES}")
    grid = GridIndex(sizes)
    if grid.size != n or not np.array_equal(classes, grid.factors_of(np.arange(n))):
        h5.close()
        raise DatasetFormatError(f"{path}: rows are not the full factor grid {sizes} in row-major order")
    if in_memory:
        data = np.empty(images.shape, dtype=np.uint8)
        for start in range(0, n, _READ_CHUNK):
            stop = min(start + _READ_CHUNK, n)
            images.read_direct(data, np.s_[start:stop], np.s_[start:stop])
        h5.close()
    else:
        data = images
    return StoredImageGrid("shapes3d", FACTOR_NAMES, sizes, data)


# --------------------------------------------------------------------------------------------
# the procedural stand-in (book/design.md, "Procedural datasets")
#
# A pinhole camera orbits the object (camera azimuth = orientation) at the height of the
# walls' top edge, so that edge lies on the horizon: a constant sky band above it. Two
# walls meet in a corner right of the object; the side wall past the corner is darker.
# For each (shape, scale, orientation) five colour-independent layers are ray-cast,
# 3× supersampled: sky, wall, floor (both with the soft shadow), object diffuse, highlight.
# An image is a linear mix of its layers with the sky colour and the three hue colours.

SKY_RGB = np.array([153, 226, 249], dtype=np.float32) / 255
_SUPERSAMPLE = 3
_FOCAL_PX = 100.0
_CAM_DISTANCE = 5.62  # horizontal distance camera -> object axis
_CAM_HEIGHT = 2.24  # = wall height, so the wall top is the horizon
_PITCH = np.arctan(17.0 / _FOCAL_PX)  # horizon at row 15
_LIGHT = np.array([-0.55, 1.0, 0.6]) / np.linalg.norm([-0.55, 1.0, 0.6])
_CORNER = np.array([2.0, 0.0, -3.0])  # where back wall and side wall meet
_ROOM_YAW = np.deg2rad(10.0)  # rotation of the room about the vertical axis
_SIDE_WALL_VALUE = 0.66
_SHADOW_STRENGTH = 0.55
_AMBIENT = 0.32
_N_LAYERS = 5  # sky, wall, floor, object, highlight
_SKY, _BACK_WALL, _SIDE_WALL, _FLOOR = 0, 1, 2, 3


def _hue_rgb(hues: np.ndarray) -> np.ndarray:
    return np.array([colorsys.hsv_to_rgb(h, 1.0, 1.0) for h in hues], dtype=np.float32)


def _camera(theta: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Camera centre (3,) and unit pixel-ray directions (size*size, 3), rows top-down."""
    st, ct, sp, cp = np.sin(theta), np.cos(theta), np.sin(_PITCH), np.cos(_PITCH)
    centre = np.array([_CAM_DISTANCE * st, _CAM_HEIGHT, _CAM_DISTANCE * ct])
    forward = np.array([-st * cp, -sp, -ct * cp])
    right = np.array([ct, 0.0, -st])
    up = np.cross(right, forward)
    px = (np.arange(size) + 0.5) * (64.0 / size) - 32.0
    cols, rows = np.meshgrid(px, px)
    dirs = _FOCAL_PX * forward + cols.reshape(-1, 1) * right - rows.reshape(-1, 1) * up
    return centre, dirs / np.linalg.norm(dirs, axis=1, keepdims=True)


def _room(centre: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Surface kind per ray (sky / back wall / side wall / floor) and the hit points."""
    normals = (
        np.array([np.sin(_ROOM_YAW), 0.0, np.cos(_ROOM_YAW)]),  # back wall, facing the camera
        np.array([-np.cos(_ROOM_YAW), 0.0, np.sin(_ROOM_YAW)]),  # side wall, facing left
    )
    down = dirs[:, 1] < -1e-9  # walls end at the camera's height: upward rays see sky
    ts = []
    for n in normals:
        along = dirs @ n
        ok = down & (along < -1e-9)
        ts.append(np.where(ok, ((_CORNER - centre) @ n) / np.where(ok, along, -1.0), np.inf))
    ts.append(np.where(down, -centre[1] / np.where(down, dirs[:, 1], -1.0), np.inf))
    ts = np.stack(ts)
    t = ts.min(axis=0)
    kind = np.where(np.isfinite(t), ts.argmin(axis=0) + 1, _SKY)
    return kind, centre + np.where(np.isfinite(t), t, 0.0)[:, None] * dirs


def _wall_texture(p: np.ndarray) -> np.ndarray:
    """Faint fixed plaster-like texture in [0.965, 1] from world coordinates."""
    u, v = p[:, 0] + p[:, 2], p[:, 1]
    n = np.sin(7.3 * u + 2.1 * np.sin(3.1 * v)) * np.sin(5.7 * v + 1.7 * np.sin(4.3 * u))
    return 1.0 - 0.035 * (0.5 + 0.5 * n)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product of (n, 3) arrays."""
    return np.einsum("ij,ij->i", a, b)


def _sphere(o: np.ndarray, d: np.ndarray, centre_y: float, radius: float):
    """Ray/sphere centred on the vertical axis: (t, normal); t = inf on a miss."""
    oc = o - np.array([0.0, centre_y, 0.0])
    b = _dot(oc, d)
    disc = b * b - (_dot(oc, oc) - radius * radius)
    t = -b - np.sqrt(np.maximum(disc, 0.0))
    t = np.where((disc > 0) & (t > 1e-4), t, np.inf)
    return t, (oc + np.where(np.isfinite(t), t, 0.0)[:, None] * d) / radius


def _cylinder_side(o: np.ndarray, d: np.ndarray, radius: float, y0: float, y1: float):
    a = d[:, 0] ** 2 + d[:, 2] ** 2
    b = o[:, 0] * d[:, 0] + o[:, 2] * d[:, 2]
    disc = b * b - a * (o[:, 0] ** 2 + o[:, 2] ** 2 - radius**2)
    t = (-b - np.sqrt(np.maximum(disc, 0.0))) / np.maximum(a, 1e-12)
    y = o[:, 1] + t * d[:, 1]
    t = np.where((disc > 0) & (t > 1e-4) & (y >= y0) & (y <= y1), t, np.inf)
    p = o + np.where(np.isfinite(t), t, 0.0)[:, None] * d
    return t, np.stack([p[:, 0], np.zeros_like(t), p[:, 2]], axis=1) / radius


def _top_disc(o: np.ndarray, d: np.ndarray, radius: float, y: float):
    t = (y - o[:, 1]) / np.where(np.abs(d[:, 1]) > 1e-12, d[:, 1], 1e-12)
    p = o + np.where(t > 0, t, 0.0)[:, None] * d
    t = np.where((t > 1e-4) & (p[:, 0] ** 2 + p[:, 2] ** 2 <= radius**2), t, np.inf)
    return t, np.broadcast_to(np.array([0.0, 1.0, 0.0]), o.shape)


def _box(o: np.ndarray, d: np.ndarray, half: float):
    """Axis-aligned cube [-h, h] × [0, 2h] × [-h, h]."""
    lo, hi = np.array([-half, 0.0, -half]), np.array([half, 2 * half, half])
    inv = 1.0 / np.where(np.abs(d) > 1e-12, d, 1e-12)
    t0, t1 = (lo - o) * inv, (hi - o) * inv
    t_near = np.minimum(t0, t1)
    axis = t_near.argmax(axis=1)
    t_enter = t_near[np.arange(len(o)), axis]
    t_exit = np.maximum(t0, t1).min(axis=1)
    t = np.where((t_enter <= t_exit) & (t_enter > 1e-4), t_enter, np.inf)
    normal = np.zeros_like(o)
    normal[np.arange(len(o)), axis] = -np.sign(d[np.arange(len(o)), axis])
    return t, normal


def _nearest(*hits):
    ts = np.stack([t for t, _ in hits])
    which = ts.argmin(axis=0)
    normals = np.stack([np.asarray(n) for _, n in hits])
    return ts.min(axis=0), normals[which, np.arange(ts.shape[1])]


def _object_extent(shape: str, scale: float) -> tuple[float, float]:
    """Height and radius (about the vertical axis) of the object."""
    return {
        "cube": (scale, 0.5 * np.sqrt(2) * scale),
        "cylinder": (scale, 0.5 * scale),
        "sphere": (1.1 * scale, 0.55 * scale),
        "capsule": (2.0 * scale, 0.45 * scale),
    }[shape]


def _object_hit(shape: str, o: np.ndarray, d: np.ndarray, scale: float):
    """Nearest hit (t, normal) of rays (o, d) with the object standing at the origin."""
    if shape == "cube":
        return _box(o, d, 0.5 * scale)
    if shape == "cylinder":
        r = 0.5 * scale
        return _nearest(_cylinder_side(o, d, r, 0.0, scale), _top_disc(o, d, r, scale))
    if shape == "sphere":
        return _sphere(o, d, 0.55 * scale, 0.55 * scale)
    r, height = 0.45 * scale, 2.0 * scale
    return _nearest(_cylinder_side(o, d, r, r, height - r), _sphere(o, d, r, r), _sphere(o, d, height - r, r))


def _may_hit(o: np.ndarray, d: np.ndarray, shape: str, scale: float) -> np.ndarray:
    """Rays passing through the object's bounding sphere (cheap cull)."""
    height, radius = _object_extent(shape, scale)
    oc = np.broadcast_to(o - np.array([0.0, height / 2, 0.0]), d.shape)
    b, c = _dot(oc, d), _dot(oc, oc) - (radius**2 + height**2 / 4) * 1.01
    return (c < 0) | ((b < 0) & (b * b - c > 0))


@lru_cache(maxsize=len(ORIENTATIONS_DEG))
def _background(orient_idx: int):
    """Per orientation: camera centre, rays, surface kind, hit points, surface value."""
    centre, dirs = _camera(np.deg2rad(ORIENTATIONS_DEG[orient_idx]), 64 * _SUPERSAMPLE)
    kind, points = _room(centre, dirs)
    value = np.where(kind == _SIDE_WALL, _SIDE_WALL_VALUE, 1.0) * np.where(kind == _FLOOR, 1.0, _wall_texture(points))
    return centre, dirs, kind, points, value


def render_layers(shape_idx: int, scale_idx: int, orient_idx: int) -> np.ndarray:
    """(64, 64, 5) colour-independent layers of one geometry (book/design.md, "Procedural datasets")."""
    shape, scale = SHAPES[shape_idx], float(SCALES[scale_idx])
    centre, dirs, kind, points, value = _background(orient_idx)
    size = 64 * _SUPERSAMPLE
    n = len(dirs)
    # object (always in front of the room)
    on_obj = np.zeros(n, dtype=bool)
    diffuse_layer, spec_layer = np.zeros(n), np.zeros(n)
    cand = np.flatnonzero(_may_hit(centre[None], dirs, shape, scale))
    t, normal = _object_hit(shape, np.broadcast_to(centre, (len(cand), 3)), dirs[cand], scale)
    hit = np.isfinite(t)
    cand, normal, d = cand[hit], normal[hit], dirs[cand[hit]]
    on_obj[cand] = True
    diffuse = np.clip(normal @ _LIGHT, 0.0, 1.0)
    half = _LIGHT - d
    half /= np.linalg.norm(half, axis=1, keepdims=True)
    spec = 0.55 * np.clip(_dot(normal, half), 0.0, 1.0) ** 24 * (diffuse > 0)
    shade = np.minimum(_AMBIENT + (1.0 - _AMBIENT) * 1.05 * diffuse, 1.0)
    diffuse_layer[cand], spec_layer[cand] = shade * (1.0 - spec), spec
    # soft shadow: hard shadow rays towards the light from the room, then blurred
    shadow = np.zeros(n)
    light = np.broadcast_to(_LIGHT, (n, 3))
    cand = np.flatnonzero((kind != _SKY) & ~on_obj & _may_hit(points, light, shape, scale))
    t, _ = _object_hit(shape, points[cand] + 1e-3 * _LIGHT, light[cand], scale)
    shadow[cand] = np.isfinite(t)
    shadow = gaussian_filter(shadow.reshape(size, size), sigma=1.6 * _SUPERSAMPLE).reshape(-1)
    room = value * (1.0 - _SHADOW_STRENGTH * shadow) * ~on_obj
    layers = np.stack(
        [
            (kind == _SKY) & ~on_obj,
            room * ((kind == _BACK_WALL) | (kind == _SIDE_WALL)),
            room * (kind == _FLOOR),
            diffuse_layer,
            spec_layer,
        ],
        axis=-1,
    )
    ss = _SUPERSAMPLE
    return layers.reshape(64, ss, 64, ss, _N_LAYERS).mean(axis=(1, 3)).astype(np.float32)


class ProceduralShapes3D(GroundTruthDataset):
    """Rendered stand-in for Shapes3D: same factors, sizes and row-major order (book/design.md, "Procedural datasets").

    Deterministic (the ``rng`` is unused). The layers of each of the 480 geometries
    (scale, shape, orientation) are rendered on first use and cached; an image is then
    the layers mixed with its sky and hue colours (one small matrix product).
    """

    name = "shapes3d"
    source = "procedural"
    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES
    observation_shape = (64, 64, 3)
    _CHUNK = 256

    def __init__(self) -> None:
        self.grid = GridIndex(FACTOR_SIZES)
        self._geometry = GridIndex(FACTOR_SIZES[3:])
        # (geometry, layer, pixel) so that colouring is a (3, 5) @ (5, 4096) product
        self._layers = np.zeros((self._geometry.size, _N_LAYERS, 64 * 64), dtype=np.float32)
        self._ready = np.zeros(self._geometry.size, dtype=bool)
        self._hue_rgb = _hue_rgb(HUES)

    def index_of(self, factors: np.ndarray) -> np.ndarray:
        return self.grid.index_of(factors)

    def factors_of(self, index: np.ndarray) -> np.ndarray:
        return self.grid.factors_of(index)

    def _render_missing(self, geometry: np.ndarray) -> None:
        for g in np.unique(geometry[~self._ready[geometry]]):
            scale_idx, shape_idx, orient_idx = self._geometry.factors_of(g)
            layers = render_layers(int(shape_idx), int(scale_idx), int(orient_idx))
            self._layers[g] = layers.reshape(-1, _N_LAYERS).T
            self._ready[g] = True

    def observations(self, factors: np.ndarray, rng: Rng | None = None) -> np.ndarray:
        factors = np.asarray(factors, dtype=np.int64)
        self.grid.index_of(factors)  # validates shape and range
        n = len(factors)
        geometry = self._geometry.index_of(factors[:, 3:])
        self._render_missing(geometry)
        # colours (n, 3, 5): columns sky, wall, floor, object, highlight
        colours = np.empty((n, 3, _N_LAYERS), dtype=np.float32)
        colours[:, :, 0] = SKY_RGB
        colours[:, :, 1] = self._hue_rgb[factors[:, 1]]
        colours[:, :, 2] = self._hue_rgb[factors[:, 0]]
        colours[:, :, 3] = self._hue_rgb[factors[:, 2]]
        colours[:, :, 4] = 1.0
        out = np.empty((n, 3, 64 * 64), dtype=np.float32)
        for start in range(0, n, self._CHUNK):
            sl = slice(start, start + self._CHUNK)
            np.matmul(colours[sl], self._layers[geometry[sl]], out=out[sl])
        np.clip(out, 0.0, 1.0, out=out)
        return np.ascontiguousarray(out.reshape(n, 3, 64, 64).transpose(0, 2, 3, 1))


def procedural() -> ProceduralShapes3D:
    """The offline Shapes3D stand-in (``source="procedural"``)."""
    return ProceduralShapes3D()
