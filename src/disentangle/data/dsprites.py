"""dSprites and its Color / Noisy / Scream variants (`data/ground_truth/dsprites.py`; book/design.md, "Procedural datasets").

Binary sprites come from one of three sources, all exposing ``binary(indices)``:

* ``FileSprites``: the real ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` (only its
  ``imgs`` array is read, memory-mapped, never unpickled — book/design.md, "Dataset files");
* ``ProceduralSprites``: the calibrated renderer (``dsprites_render``), rendering on the fly
  and, once a process has rendered ``GRID_AFTER`` images or ``precompute()`` is called,
  switching to the full 737,280-image grid bit-packed in memory (512 B per image, 377 MB),
  saved once under ``<data root>/cache/`` and memory-mapped by later processes.

The variants draw their colour / noise / crop from the ``rng`` of each call (`data/ground_truth/dsprites.py`).
"""

from __future__ import annotations

import hashlib
import json
import time
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from ..io import atomic_path
from . import dsprites_render
from .base import GridIndex, GroundTruthDataset, Rng, randint
from .download import SCREAM_SHA256, Resource

FACTOR_NAMES = ("shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES = (3, 6, 40, 32, 32)
#: the real file, relative to the data root (as ``python -m disentangle data download dsprites`` saves it)
REAL_FILE = Path("dsprites") / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
#: the painting as ``python -m disentangle data download scream_dsprites`` saves it (`data/ground_truth/dsprites.py`)
SCREAM_FILE = Path("scream") / "scream.jpg"
#: the reference's ``thumbnail((350, 274, 3))`` bound (width, height)
SCREAM_BOUND = (350, 274)
NUM_IMAGES = int(np.prod(FACTOR_SIZES))
#: on-the-fly renders after which a procedural source builds the full grid
GRID_AFTER = 100_000

GRID = GridIndex(FACTOR_SIZES)
#: download name -> the files it fetches (book/design.md, "Dataset files"; ``download``). Wikimedia publishes
#: no checksum for the Scream; it is verified against the reference image's SHA-256 (the copy the
#: package ships), so a re-uploaded painting is refused, not used.
FILES = {
    "dsprites": (Resource((f"https://github.com/deepmind/dsprites-dataset/raw/master/{REAL_FILE.name}",
                           f"https://raw.githubusercontent.com/deepmind/dsprites-dataset/master/{REAL_FILE.name}"),
                          REAL_FILE.as_posix(), ("md5", "7da33b31b13a06f4b04a70402ce90c2e")),),
    "scream": (Resource(("https://upload.wikimedia.org/wikipedia/commons/f/f4/The_Scream.jpg",),
                        SCREAM_FILE.as_posix(), ("sha256", SCREAM_SHA256)),),
}
#: byte → its 8 bits as float32 (MSB first, as np.packbits), for fast unpacking
_BITS_F32 = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).astype(np.float32)


def expected_files(root: Path, name: str = "dsprites") -> list[Path]:
    """The real files of ``name``: the dSprites file, plus the Scream image for Scream-dSprites."""
    return [Path(root) / r.dest for download in VARIANTS[name].files for r in FILES[download]]


# --------------------------------------------------------------------------- binary sources
class FileSprites:
    """The real images, memory-mapped (values 0/1, book/design.md, "Dataset files")."""

    source = "file"

    def __init__(self, path: Path):
        from .formats import npz_array

        self.path = Path(path)
        self.imgs = npz_array(self.path, "imgs")
        if self.imgs.shape != (NUM_IMAGES, 64, 64) or self.imgs.dtype.kind not in "uib":
            from .formats import DatasetFormatError

            raise DatasetFormatError(f"{self.path}: imgs is {self.imgs.dtype} {self.imgs.shape}, expected integer "
                                     f"({NUM_IMAGES}, 64, 64)")

    def binary(self, indices: np.ndarray) -> np.ndarray:
        order = np.argsort(indices, kind="stable")  # sorted reads are kinder to the memory map
        out = np.empty((len(indices), 64, 64), np.float32)
        out[order] = self.imgs[indices[order]]
        return out


def _outlines_digest() -> str:
    """Cache key of the procedural grid: the outlines *and* the rasteriser's code."""
    package = resources.files("disentangle.data")
    text = package.joinpath("assets/dsprites_outlines.json").read_bytes() + package.joinpath("dsprites_render.py").read_bytes()
    return hashlib.sha256(text).hexdigest()[:12]


class ProceduralSprites:
    """The calibrated renderer, with the full grid cached once it pays off."""

    source = "procedural"

    def __init__(self, cache_dir: Path | None = None):
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.packed: np.ndarray | None = None
        self.rendered = 0
        self.grid_seconds: float | None = None
        if self.cache_file is not None and self.cache_file.exists():
            self.packed = _load_grid_cache(self.cache_file)

    @property
    def cache_file(self) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"dsprites_procedural_{_outlines_digest()}.npy"

    def precompute(self, chunk: int = 8192, *, wait: bool = True, workers: int = 1) -> float:
        """Render the whole grid into bit-packed rows (and save it); returns seconds spent.

        With a cache folder, concurrent processes (study workers) take a file lock:
        one renders; with ``wait=False`` the others keep rendering on the fly and
        memory-map its file once it exists (checked again after ``GRID_AFTER`` renders).
        ``workers`` > 1 renders the chunks in that many processes (the same bytes)."""
        if self.packed is not None:
            return 0.0
        if self.cache_file is None:
            return self._render_grid(chunk, workers)
        import fcntl

        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.cache_file.with_suffix(".lock"), "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:  # another process is rendering the grid right now
                self.rendered = 0
                return 0.0
            if self.cache_file.exists():
                self.packed = _load_grid_cache(self.cache_file)
                if self.packed is not None:
                    return 0.0
            return self._render_grid(chunk, workers)

    def _render_grid(self, chunk: int, workers: int = 1) -> float:
        start = time.perf_counter()
        packed = np.empty((NUM_IMAGES, 64 * 64 // 8), np.uint8)
        starts = list(range(0, NUM_IMAGES, chunk))
        ends = [min(lo + chunk, NUM_IMAGES) for lo in starts]
        if workers > 1:
            from concurrent.futures import ProcessPoolExecutor
            from multiprocessing import get_context

            with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
                for lo, hi, rows in zip(starts, ends, pool.map(_render_packed, starts, ends)):
                    packed[lo:hi] = rows
        else:
            for lo, hi in zip(starts, ends):
                packed[lo:hi] = _render_packed(lo, hi)
        if self.cache_file is not None:
            try:
                with atomic_path(self.cache_file) as tmp:
                    with open(tmp, "wb") as f:
                        np.save(f, packed)
            except OSError:
                pass  # a read-only data root only costs the re-render next time
        self.packed = packed
        self.grid_seconds = time.perf_counter() - start
        return self.grid_seconds

    def binary(self, indices: np.ndarray) -> np.ndarray:
        if self.packed is None and self.rendered + len(indices) > GRID_AFTER:
            self.precompute(wait=False)
        if self.packed is not None:
            return _BITS_F32[self.packed[indices]].reshape(len(indices), 64, 64)
        self.rendered += len(indices)
        return dsprites_render.render(GRID.factors_of(indices)).astype(np.float32)


def _render_packed(lo: int, hi: int) -> np.ndarray:
    """Grid images ``lo .. hi - 1`` rendered and bit-packed, one row each."""
    idx = np.arange(lo, hi)
    return np.packbits(dsprites_render.render(GRID.factors_of(idx)).reshape(len(idx), -1), axis=1)


def _load_grid_cache(path: Path) -> np.ndarray | None:
    """The memory-mapped grid cache, or None (with a warning naming it) if it is
    damaged or of another shape: the grid is then rendered again and the cache rewritten."""
    import warnings

    try:
        packed = np.load(path, mmap_mode="r", allow_pickle=False)
        if packed.shape == (NUM_IMAGES, 64 * 64 // 8) and packed.dtype == np.uint8:
            return packed
        why = f"holds {packed.dtype} {packed.shape}"
    except (ValueError, OSError, EOFError) as e:
        why = str(e)
    warnings.warn(f"{path}: damaged procedural dSprites cache ({why}); rendering the grid again", stacklevel=3)
    return None


@lru_cache(maxsize=4)
def procedural_sprites(cache_dir: Path | None) -> ProceduralSprites:
    """One shared procedural source per cache folder (all four variants reuse its grid)."""
    return ProceduralSprites(cache_dir)


# --------------------------------------------------------------------------- datasets
class DSprites(GroundTruthDataset):
    """dSprites with 5 latent factors (`data/ground_truth/dsprites.py: DSprites`): 64×64×1 float32 in {0, 1}."""

    name = "dsprites"
    #: the download names of the files it needs (``FILES``), the first one the command to fetch them all
    files: tuple[str, ...] = ("dsprites",)
    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES
    observation_shape = (64, 64, 1)

    def __init__(self, sprites: FileSprites | ProceduralSprites):
        self.sprites = sprites
        self.source = sprites.source

    def prepare(self, workers: int = 1) -> float:
        """Before a study's workers start: render the procedural grid once, in ``workers``
        processes, so no training worker stalls on it (a no-op for the real files); seconds spent."""
        if isinstance(self.sprites, ProceduralSprites):
            return self.sprites.precompute(workers=workers)
        return 0.0

    def index_of(self, factors: np.ndarray) -> np.ndarray:
        """Row-major index into the real file (bases [245760, 40960, 1024, 32, 1])."""
        return GRID.index_of(factors)

    def factors_of(self, index: np.ndarray) -> np.ndarray:
        return GRID.factors_of(index)

    def binary(self, factors: np.ndarray) -> np.ndarray:
        """(n, 64, 64) float32 0/1 sprites."""
        return self.sprites.binary(np.atleast_1d(self.index_of(factors)))

    def observations(self, factors: np.ndarray, rng: Rng | None = None) -> np.ndarray:
        return self.binary(factors)[..., None]


class ColorDSprites(DSprites):
    """Sprite times a per-image colour ``U(0.5, 1)^3``; black background (`data/ground_truth/dsprites.py: ColorDSprites`)."""

    name = "color_dsprites"
    observation_shape = (64, 64, 3)

    def observations(self, factors: np.ndarray, rng: Rng) -> np.ndarray:
        sprite = self.binary(factors)
        colour = rng.uniform(0.5, 1.0, size=(len(sprite), 1, 1, 3)).astype(np.float32)
        return sprite[..., None] * colour


class NoisyDSprites(DSprites):
    """``min(sprite + U(0,1) noise, 1)`` per pixel and channel (`data/ground_truth/dsprites.py: NoisyDSprites`)."""

    name = "noisy_dsprites"
    observation_shape = (64, 64, 3)

    def observations(self, factors: np.ndarray, rng: Rng) -> np.ndarray:
        sprite = self.binary(factors)
        shape = (len(sprite), 64, 64, 3)
        if isinstance(rng, np.random.Generator):
            noise = rng.random(shape, dtype=np.float32)
        else:  # the reference's draw, so a RandomState gives its exact stream
            noise = rng.uniform(0.0, 1.0, size=shape).astype(np.float32)
        # noise < 1 and the sprite is 0/1, so min(noise + sprite, 1) == max(noise, sprite):
        # one in-place pass instead of a temporary sum and a second pass
        return np.maximum(noise, sprite[..., None], out=noise)


def thumbnail_2018(image: Image.Image, bound: tuple[int, int] = SCREAM_BOUND) -> Image.Image:
    """``image.thumbnail(bound)`` as the Pillow of the study's time (5.x, 2018) computed it
    (`data/ground_truth/dsprites.py: ScreamDSprites`): the size that fits ``bound`` with the aspect ratio kept by
    *truncation*; the JPEG decoder's draft mode asked for exactly that size (DCT scaling by
    1/2, 1/4 or 1/8 while the decoded image still covers it); then one BICUBIC resize.

    Pillow >= 7's ``thumbnail`` differs in pixels: it asks draft mode for ``reducing_gap`` (2)
    times the size, so a 512×652 JPEG is decoded at full size instead of half, adds a box
    ``reduce`` step and rounds the size. ``image`` must be freshly opened (draft mode only
    applies before the pixels are decoded)."""
    x, y = image.size
    if x > bound[0]:
        y = int(max(y * bound[0] / x, 1))
        x = int(bound[0])
    if y > bound[1]:
        x = int(max(x * bound[1] / y, 1))
        y = int(bound[1])
    if (x, y) == image.size:
        image.load()
        return image
    image.draft(None, (x, y))
    return image.resize((x, y), Image.BICUBIC)


def scream_path(source: str, root: Path) -> Path:
    """The Scream image of a ``source``: ``<root>/scream/scream.jpg`` for ``file`` (an error
    naming the path and the download command when it is missing — never a silent fall-back),
    the shipped reference copy for ``procedural``."""
    if source == "file":
        path = Path(root) / SCREAM_FILE
        if not path.is_file():
            from .formats import missing_files_error

            raise missing_files_error("scream_dsprites", [path], "scream_dsprites")
        return path
    with resources.as_file(resources.files("disentangle.data").joinpath("assets/the_scream.jpg")) as path:
        return Path(path)


def load_scream(path: Path) -> tuple[np.ndarray, str]:
    """(The Scream as float32 (H, W, 3) in [0, 1] after :func:`thumbnail_2018`, the file's SHA-256)."""
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    import io

    with Image.open(io.BytesIO(data)) as image:
        small = thumbnail_2018(image).convert("RGB")
    return np.asarray(small, dtype=np.float32) / 255.0, digest


class ScreamDSprites(DSprites):
    """Sprite inverts a random 64×64 crop of The Scream averaged with a random colour (`data/ground_truth/dsprites.py: ScreamDSprites`)."""

    name = "scream_dsprites"
    files = ("dsprites", "scream")
    observation_shape = (64, 64, 3)

    def __init__(self, sprites: FileSprites | ProceduralSprites, scream: Path):
        super().__init__(sprites)
        self.scream, self.scream_sha256 = load_scream(scream)
        self.scream_origin = str(scream)
        if self.scream_sha256 != SCREAM_SHA256:
            import warnings

            warnings.warn(f"{scream}: not the reference Scream image (sha256 {self.scream_sha256[:12]}…, "
                          f"expected {SCREAM_SHA256[:12]}…); its hash is recorded with every run", stacklevel=2)
        h, w, _ = self.scream.shape
        if h < 65 or w < 65:
            raise ValueError(f"the Scream image is {h}x{w}; it must exceed 64x64")

    @property
    def identity(self) -> dict:
        return {**super().identity, "scream_sha256": self.scream_sha256}

    def observations(self, factors: np.ndarray, rng: Rng) -> np.ndarray:
        sprite = self.binary(factors)
        n = len(sprite)
        h, w, _ = self.scream.shape
        x_crop = randint(rng, h - 64, n)  # rows, exclusive upper bound as in the reference
        y_crop = randint(rng, w - 64, n)  # cols
        colour = rng.uniform(0.0, 1.0, size=(n, 1, 1, 3)).astype(np.float32)
        out = np.empty((n, 64, 64, 3), np.float32)
        for i, (x, y) in enumerate(zip(x_crop, y_crop)):
            out[i] = self.scream[x : x + 64, y : y + 64]
        out += colour
        out *= np.float32(0.5)  # background = (patch + colour) / 2
        np.subtract(np.float32(1.0), out, out=out, where=sprite[..., None] == 1.0)  # invert the sprite
        return out


#: the four dSprites datasets by name (their classes' ``name``)
VARIANTS: dict[str, type[DSprites]] = {cls.name: cls for cls in (DSprites, ColorDSprites, NoisyDSprites,
                                                                  ScreamDSprites)}
#: download names that fetch the files of others: each variant fetches what it needs
ALIASES = {cls.name: cls.files for cls in VARIANTS.values() if cls.name not in FILES}


def make(name: str, source: str, root: Path) -> DSprites:
    """One of the four dSprites datasets; ``source`` is ``file`` or ``procedural``."""
    if source == "file":
        missing = [p for p in expected_files(root, name) if not p.exists()]
        if missing:
            from .formats import missing_files_error

            raise missing_files_error(name, missing, name if len(VARIANTS[name].files) > 1 else VARIANTS[name].files[0])
        sprites: FileSprites | ProceduralSprites = _file_sprites(Path(root) / REAL_FILE)
    elif source == "procedural":
        sprites = procedural_sprites(Path(root) / "cache")
    else:
        raise ValueError(f"source must be 'file' or 'procedural', got {source!r}")
    cls = VARIANTS[name]
    return cls(sprites, scream_path(source, root)) if cls is ScreamDSprites else cls(sprites)


@lru_cache(maxsize=2)
def _file_sprites(path: Path) -> FileSprites:
    return FileSprites(path)


def outlines_json() -> dict:
    """The calibrated outlines (for the book's geometry figure)."""
    return json.loads(resources.files("disentangle.data").joinpath("assets/dsprites_outlines.json").read_text())
