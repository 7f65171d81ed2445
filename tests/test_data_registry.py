"""The dataset registry (``disentangle.data.get_dataset``)."""

import numpy as np
import pytest

import disentangle.data as data
from disentangle import vocabulary
from disentangle.data import dsprites


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("DISENTANGLE_DATA", str(tmp_path))
    dsprites.procedural_sprites.cache_clear()
    return tmp_path


def test_names_and_study_order():
    assert vocabulary.paper_datasets() == (
        "dsprites", "color_dsprites", "noisy_dsprites", "scream_dsprites", "smallnorb", "cars3d", "shapes3d",
    )
    assert set(data.DATASET_NAMES) == set(vocabulary.paper_datasets()) | {"mpi3d_toy", "mpi3d_realistic", "mpi3d_real"}


def test_data_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("DISENTANGLE_DATA", str(tmp_path / "env"))
    assert data.data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data.data_root() == tmp_path / "env"


def test_unknown_name_and_source(root):
    with pytest.raises(ValueError, match="unknown dataset 'mnist'.*dsprites"):
        data.get_dataset("mnist")
    with pytest.raises(ValueError, match="source must be one of"):
        data.get_dataset("dsprites", source="disk")


def test_file_source_without_file_names_path_and_command(root):
    with pytest.raises(FileNotFoundError) as err:
        data.get_dataset("dsprites", source="file")
    msg = str(err.value)
    assert str(root / "dsprites" / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz") in msg
    assert "python -m disentangle data download dsprites" in msg


def test_no_procedural_stand_in_for_norb(root):
    with pytest.raises(ValueError, match="python -m disentangle data download smallnorb"):
        data.get_dataset("smallnorb", source="procedural")
    with pytest.raises(FileNotFoundError, match="python -m disentangle data download"):
        data.get_dataset("smallnorb")  # auto: no file, no stand-in


@pytest.mark.parametrize("name", data.DSPRITES_NAMES)
def test_auto_falls_back_to_procedural(root, name):
    ds = data.get_dataset(name)
    assert ds.source == "procedural" and ds.name == name and "procedural" in ds.label
    f, x = ds.sample(3, np.random.default_rng(0))
    assert x.shape == (3, *ds.observation_shape)


def test_auto_prefers_the_real_file(root, monkeypatch):
    path = root / dsprites.REAL_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(b"placeholder")

    class FakeFile:
        source = "file"

    monkeypatch.setattr(dsprites, "_file_sprites", lambda p: FakeFile())
    ds = data.get_dataset("color_dsprites")
    assert ds.source == "file" and ds.label == "color_dsprites"
