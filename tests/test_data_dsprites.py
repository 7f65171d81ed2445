"""dSprites and its variants (`data/ground_truth/dsprites.py`; book/design.md, "Procedural datasets")."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from disentangle.data import dsprites, dsprites_render, get_dataset

FIXTURE = Path(__file__).parent / "fixtures" / "dsprites_slice.npz"


@pytest.fixture(scope="module")
def real_slice():
    z = np.load(FIXTURE, allow_pickle=False)
    imgs = np.unpackbits(z["imgs"], axis=1).reshape(-1, 64, 64).astype(bool)
    return imgs, z["latents_classes"], z["original_dataset_indices"]


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("DISENTANGLE_DATA", str(tmp_path))
    dsprites.procedural_sprites.cache_clear()
    return tmp_path


def test_factors_match_the_real_file(root):
    ds = get_dataset("dsprites", source="procedural")
    assert ds.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    assert ds.factor_sizes == (3, 6, 40, 32, 32)
    assert ds.observation_shape == (64, 64, 1)
    assert ds.label == "dsprites (procedural)"


def test_index_bases_and_round_trip(real_slice):
    _, classes, original_index = real_slice
    eye = np.eye(5, dtype=np.int64)
    assert dsprites.GRID.index_of(eye).tolist() == [245760, 40960, 1024, 32, 1]
    assert dsprites.GRID.index_of(np.zeros(5, np.int64)) == 0
    assert dsprites.GRID.index_of(np.array([2, 5, 39, 31, 31])) == 737279
    # the real subset's indices into the full file follow the same order
    np.testing.assert_array_equal(dsprites.GRID.index_of(classes), original_index)
    idx = np.random.default_rng(0).integers(0, 737280, 500)
    np.testing.assert_array_equal(dsprites.GRID.index_of(dsprites.GRID.factors_of(idx)), idx)


def test_renderer_reproduces_real_images_per_shape(real_slice):
    imgs, classes, _ = real_slice
    pred = dsprites_render.render(classes)
    wrong = (pred != imgs).reshape(len(imgs), -1).sum(1)
    # issue target: >= 98 % of real images pixel-exact for each shape
    for shape, name in enumerate(dsprites_render.SHAPES):
        sel = classes[:, 0] == shape
        assert np.mean(wrong[sel] == 0) >= 0.98, (name, np.mean(wrong[sel] == 0))
    assert wrong.max() <= 3  # every miss is a boundary pixel or two
    assert wrong.mean() / 4096 <= 0.0005


def test_orientation_wraps_and_sprites_stay_inside(root):
    ds = get_dataset("dsprites", source="procedural")
    f = ds.sample_factors(60, np.random.default_rng(1))
    f0, f39 = f.copy(), f.copy()
    f0[:, 2], f39[:, 2] = 0, 39  # 2π draws the same image as 0 (book/design.md, "Procedural datasets")
    a, b = ds.observations(f0), ds.observations(f39)
    assert np.mean(np.all(a == b, axis=(1, 2, 3))) >= 0.95
    border = np.concatenate([a[:, :3].ravel(), a[:, -3:].ravel(), a[:, :, :3].ravel(), a[:, :, -3:].ravel()])
    assert border.max() == 0  # real on-pixels lie in rows/cols 3–60


def test_binary_dsprites_values(root):
    ds = get_dataset("dsprites", source="procedural")
    f, x = ds.sample(8, np.random.RandomState(0))
    assert x.dtype == np.float32 and x.shape == (8, 64, 64, 1)
    assert set(np.unique(x)) <= {0.0, 1.0} and np.all(x.sum(axis=(1, 2, 3)) > 40)
    assert f.dtype == np.int64 and np.all(f < np.array(ds.factor_sizes))


@pytest.mark.parametrize("name", ["color_dsprites", "noisy_dsprites", "scream_dsprites"])
@pytest.mark.parametrize("make_rng", [np.random.default_rng, np.random.RandomState])
def test_variants_deterministic_for_a_seed(root, name, make_rng):
    ds = get_dataset(name, source="procedural")
    f1, x1 = ds.sample(6, make_rng(3))
    f2, x2 = ds.sample(6, make_rng(3))
    _, x3 = ds.sample(6, make_rng(4))
    np.testing.assert_array_equal(f1, f2)
    np.testing.assert_array_equal(x1, x2)
    assert not np.array_equal(x1, x3)
    assert x1.dtype == np.float32 and x1.shape == (6, 64, 64, 3)
    assert x1.min() >= 0.0 and x1.max() <= 1.0


def test_color_dsprites(root):
    ds = get_dataset("color_dsprites", source="procedural")
    f = ds.sample_factors(10, np.random.default_rng(0))
    sprite = ds.binary(f).astype(bool)
    x = ds.observations(f, np.random.default_rng(1))
    assert np.all(x[~sprite] == 0.0)
    on = x[sprite]
    assert on.min() >= 0.5 and on.max() <= 1.0
    # one colour per image
    for i in range(10):
        assert len(np.unique(x[i][sprite[i]], axis=0)) == 1


def test_noisy_dsprites(root):
    ds = get_dataset("noisy_dsprites", source="procedural")
    f = ds.sample_factors(10, np.random.default_rng(0))
    sprite = ds.binary(f).astype(bool)
    x = ds.observations(f, np.random.default_rng(1))
    assert np.all(x[sprite] == 1.0)
    background = x[~sprite]
    assert background.max() < 1.0 and abs(background.mean() - 0.5) < 0.01


def test_noisy_dsprites_matches_reference_formula(root):
    """A RandomState gives the reference's exact draw: min(sprite + U(0, 1), 1) (`data/ground_truth/dsprites.py: NoisyDSprites`)."""
    ds = get_dataset("noisy_dsprites", source="procedural")
    f = ds.sample_factors(6, np.random.default_rng(0))
    sprite = ds.binary(f)[..., None]
    expected = np.minimum(sprite + np.random.RandomState(3).uniform(0, 1, (6, 64, 64, 3)).astype(np.float32), 1)
    np.testing.assert_array_equal(ds.observations(f, np.random.RandomState(3)), expected)


class _ExtremeRng:
    """Legacy-RNG stand-in that always draws the largest allowed crop offset."""

    def randint(self, low, high=None, size=None):
        high = low if high is None else high
        return np.full(size, high - 1)

    def uniform(self, low, high, size):
        return np.full(size, 0.25)


def test_scream_crop_bounds_and_inversion(root):
    ds = get_dataset("scream_dsprites", source="procedural")
    h, w, _ = ds.scream.shape
    assert (h, w) == (274, 215)  # thumbnail((350, 274)) of the 652×512 portrait
    f = ds.sample_factors(4, np.random.default_rng(0))
    sprite = ds.binary(f).astype(bool)
    x = ds.observations(f, _ExtremeRng())
    expected = (ds.scream[h - 65 : h - 1, w - 65 : w - 1] + 0.25) / 2
    for i in range(4):
        np.testing.assert_allclose(x[i][~sprite[i]], expected[~sprite[i]], atol=1e-6)
        np.testing.assert_allclose(x[i][sprite[i]], 1 - expected[sprite[i]], atol=1e-6)
    # crops stay inside the painting for every draw
    x = ds.observations(ds.sample_factors(200, np.random.default_rng(5)), np.random.default_rng(6))
    assert x.shape == (200, 64, 64, 3)


#: SHA-256 of the shipped reference image resized as Pillow 5.x's thumbnail((350, 274)) did (uint8 bytes)
SCREAM_2018_SHA256 = "6ae2b3b7a2298fc4135562199cb9e0b867b27570c4525dd5182b9c7f7f9809c5"


def test_scream_resize_is_the_2018_thumbnail_and_pinned(root):
    from PIL import Image

    path = dsprites.scream_path("procedural", root)
    small = np.asarray(dsprites.thumbnail_2018(Image.open(path)).convert("RGB"))
    assert small.shape == (274, 215, 3)
    assert hashlib.sha256(small.tobytes()).hexdigest() == SCREAM_2018_SHA256
    ds = get_dataset("scream_dsprites", source="procedural")
    np.testing.assert_array_equal(ds.scream, small.astype(np.float32) / 255)
    # Pillow >= 7's thumbnail decodes the 512x652 JPEG at full size (draft asked for 2x the
    # target) where 2018's decoded it at half size: different pixels
    modern = Image.open(path)
    modern.thumbnail((350, 274))
    assert modern.size == (215, 274) and np.abs(np.asarray(modern, int) - small).mean() > 0.5
    # sizes truncate as 2018's did (262.5 -> 262); non-JPEG files have no draft mode
    other = root / "other.png"
    Image.fromarray(np.full((300, 400, 3), 200, np.uint8)).save(other)
    assert dsprites.thumbnail_2018(Image.open(other)).size == (350, 262)


def test_scream_image_follows_the_source_and_is_recorded(root):
    path = root / "scream" / "scream.jpg"
    path.parent.mkdir(parents=True)
    path.write_bytes(dsprites.scream_path("procedural", root).read_bytes())
    ds = get_dataset("scream_dsprites", source="procedural")  # the shipped copy, even with a download present
    assert ds.scream_origin.endswith("the_scream.jpg")
    assert ds.identity == {"name": "scream_dsprites", "source": "procedural", "scream_sha256": dsprites.SCREAM_SHA256}
    assert get_dataset("dsprites", source="procedural").identity == {"name": "dsprites", "source": "procedural"}
    # another image (e.g. a later upload of the painting) is used where given, warned about and recorded
    from PIL import Image

    Image.fromarray(np.full((300, 400, 3), 200, np.uint8)).save(path, format="JPEG")
    with pytest.warns(UserWarning, match="not the reference Scream image"):
        other = dsprites.ScreamDSprites(dsprites.procedural_sprites(root / "cache"), path)
    assert other.identity["scream_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert other.scream.shape == (262, 350, 3)


def test_file_source_without_the_scream_is_an_error_not_a_fallback(root):
    with pytest.raises(FileNotFoundError) as e:
        get_dataset("scream_dsprites", source="file")
    message = str(e.value)
    assert str(root / "scream" / "scream.jpg") in message and str(root / dsprites.REAL_FILE) in message
    assert "python -m disentangle data download scream_dsprites" in message
    (root / dsprites.REAL_FILE).parent.mkdir(parents=True)
    (root / dsprites.REAL_FILE).write_bytes(b"")  # present: only the painting is missing
    with pytest.raises(FileNotFoundError, match="scream.jpg") as e:
        get_dataset("scream_dsprites", source="file")
    assert str(root / dsprites.REAL_FILE) not in str(e.value)
    # auto falls back to the procedural stand-in as a whole, and says so in its source
    assert get_dataset("scream_dsprites", source="auto").identity["source"] == "procedural"


def test_precomputed_grid_matches_on_the_fly_render(root, monkeypatch):
    """The bit-packed grid path gives the same images as direct rendering (on a small grid)."""
    sprites = dsprites.ProceduralSprites(root / "cache")
    idx = np.random.default_rng(0).integers(0, dsprites.NUM_IMAGES, 50)
    direct = sprites.binary(idx)
    sprites.packed = np.zeros((dsprites.NUM_IMAGES, 512), np.uint8)
    sprites.packed[idx] = np.packbits(dsprites_render.render(dsprites.GRID.factors_of(idx)).reshape(50, -1), axis=1)
    np.testing.assert_array_equal(sprites.binary(idx), direct)


def test_grid_build_is_not_duplicated_by_a_concurrent_process(tmp_path):
    """While another process holds the grid lock, a second one keeps rendering on
    the fly (no second build) and later memory-maps the finished file."""
    import fcntl

    from disentangle.data.dsprites import ProceduralSprites

    sprites = ProceduralSprites(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    with open(sprites.cache_file.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # "another process" is building
        assert sprites.precompute(wait=False) == 0.0
        assert sprites.packed is None and sprites.rendered == 0
        direct = sprites.binary(np.arange(5))
    np.save(sprites.cache_file, np.zeros((737280, 512), np.uint8))  # the other process's result
    assert sprites.precompute(wait=False) == 0.0
    assert sprites.packed is not None and not np.any(sprites.binary(np.arange(5)))
    assert direct.any(), "on-the-fly rendering kept working while the lock was held"


def test_the_grid_rendered_in_several_processes_is_the_same_bytes(monkeypatch):
    """``prepare(workers)`` (the study renders the grid before its workers start) splits the grid's
    chunks over processes; the packed grid is byte-identical to one process's (first 3,000 images)."""
    monkeypatch.setattr(dsprites, "NUM_IMAGES", 3000)
    one, two = dsprites.ProceduralSprites(None), dsprites.ProceduralSprites(None)
    one._render_grid(chunk=700, workers=1)
    two._render_grid(chunk=700, workers=2)
    assert one.packed.shape == (3000, 512) and one.packed.any()
    np.testing.assert_array_equal(one.packed, two.packed)
