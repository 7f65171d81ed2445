"""The downloader against a local HTTP server on 127.0.0.1 (book/design.md, "Dataset files")."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from disentangle.data import cars3d, download, dsprites, mpi3d, shapes3d, smallnorb
from disentangle.data.download import DownloadError, Resource, cli_main, data_root, fetch
from disentangle.data.formats import write_norb_matrix


class _Server:
    """Serves ``routes[path] = (status, body, declared_length)``; counts requests."""

    def __init__(self):
        self.routes: dict[str, tuple[int, bytes, int | None]] = {}
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.hits.append(self.path)
                status, body, declared = server.routes.get(self.path, (404, b"not found", None))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body) if declared is None else declared))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def serve(self, path: str, body: bytes, status: int = 200, declared: int | None = None) -> str:
        self.routes[path] = (status, body, declared)
        return self.base + path


@pytest.fixture
def server():
    s = _Server()
    s.thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()
    s.thread.join()


def _resource(body: bytes, dest: str = "x/file.bin", unpack: str = "none", checksum: str | None = None) -> Resource:
    return Resource(("http://unused.invalid/file.bin",), dest, ("sha256", checksum or hashlib.sha256(body).hexdigest()), unpack)


def _left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def test_fetch_success_verifies_and_renames(server, tmp_path):
    body = bytes(range(256)) * 1000
    url = server.serve("/file.bin", body)
    path = fetch(_resource(body), tmp_path, urls=[url], progress=False)
    assert path == tmp_path / "x" / "file.bin" and path.read_bytes() == body
    assert _left_in(tmp_path / "x") == ["file.bin"]  # no stray temp file
    fetch(_resource(body), tmp_path, urls=[url], progress=False)  # present: not fetched again
    assert server.hits == ["/file.bin"]


@pytest.mark.parametrize(
    "route, match",
    [
        ((200, b"payload", None), "checksum mismatch"),
        ((404, b"nope", None), "HTTP 404"),
        ((500, b"boom", None), "HTTP 500"),
        ((200, b"partial body", 1000), "truncated"),
    ],
)
def test_fetch_failures_leave_nothing(server, tmp_path, route, match):
    server.routes["/file.bin"] = route
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(DownloadError, match=match):
        fetch(_resource(b"", checksum=wrong), tmp_path, urls=[server.base + "/file.bin"], progress=False)
    assert _left_in(tmp_path / "x") == []


def test_fetch_tries_mirrors_in_order(server, tmp_path):
    body = b"mirror payload"
    good = server.serve("/good.bin", body)
    path = fetch(_resource(body), tmp_path, urls=[server.base + "/missing.bin", good], progress=False)
    assert path.read_bytes() == body and server.hits == ["/missing.bin", "/good.bin"]


def test_corrupt_gzip_with_matching_checksum_is_not_installed(server, tmp_path):
    body = b"\x1f\x8b" + b"garbage" * 10
    url = server.serve("/f.mat.gz", body)
    with pytest.raises(DownloadError, match="decompress"):
        fetch(_resource(body, dest="n/f.mat", unpack="gunzip"), tmp_path, urls=[url], progress=False)
    assert _left_in(tmp_path / "n") == []


def _norb_arrays() -> dict[str, np.ndarray]:
    """Tiny SmallNORB: 1 category, instance 1 (train) / 0 (test), 1 elevation, azimuth, lighting."""
    arrays = {}
    for prefix, instance in zip(smallnorb.SPLIT_PREFIXES, (1, 0)):
        arrays[f"{prefix}-dat.mat"] = np.full((1, 2, 96, 96), 40 + instance, np.uint8)
        arrays[f"{prefix}-cat.mat"] = np.zeros(1, np.int32)
        arrays[f"{prefix}-info.mat"] = np.array([[instance, 0, 0, 0]], np.int32)
    return arrays


def test_download_smallnorb_end_to_end(server, tmp_path, monkeypatch):
    arrays = _norb_arrays()
    staged = tmp_path / "staged"
    checksums = {}
    for name, arr in arrays.items():
        write_norb_matrix(staged / f"{name}.gz", arr)
        body = (staged / f"{name}.gz").read_bytes()
        server.serve(f"/norb/{name}.gz", body)
        checksums[name] = hashlib.sha256(body).hexdigest()
    patched = tuple(dataclasses.replace(r, checksum=("sha256", checksums[Path(r.dest).name])) for r in download.files()["smallnorb"])
    monkeypatch.setitem(download.files(), "smallnorb", patched)
    root = tmp_path / "data"
    paths = download.download("smallnorb", root, progress=False, base_url=server.base + "/norb/")
    assert sorted(paths) == sorted(smallnorb.expected_files(root))
    assert all(gzip.decompress((staged / f"{p.name}.gz").read_bytes()) == p.read_bytes() for p in paths)
    ds = smallnorb.load(root, allow_reduced=True)
    assert ds.factor_sizes == (1, 1, 1, 1) and ds.table_sizes == (1, 2, 1, 1, 1)
    x = ds.observations(np.zeros((8, 4), np.int64), np.random.default_rng(0))
    assert set(np.round(x[:, 0, 0, 0] * 255).astype(int)) == {40, 41}


def test_download_cars3d_tarball_end_to_end(server, tmp_path, monkeypatch):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, obj in (("car_001_mesh", 0), ("car_002_mesh", 1)):
            mat = io.BytesIO()
            scipy.io.savemat(mat, {"im": np.full(cars3d.MAT_SHAPE, 100 * obj, np.uint8)})
            info = tarfile.TarInfo(f"data/cars/{name}.mat")
            info.size = len(mat.getvalue())
            tar.addfile(info, io.BytesIO(mat.getvalue()))
        for member, payload in (("data/cars/list.txt", b"car_001_mesh\ncar_002_mesh\n"), ("data/shapes48.mat", b"x")):
            info = tarfile.TarInfo(member)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    body = buf.getvalue()
    (resource,) = download.files()["cars3d"]
    monkeypatch.setitem(download.files(), "cars3d", (dataclasses.replace(resource, checksum=("md5", hashlib.md5(body).hexdigest())),))
    url = server.serve("/nips2015-analogy-data.tar.gz", body)
    (path,) = download.download("cars3d", tmp_path, progress=False, url_override=url)
    assert path == cars3d.expected_files(tmp_path)[0]
    assert _left_in(path) == ["car_001_mesh.mat", "car_002_mesh.mat", "list.txt"]
    assert [p.name for p in cars3d.data_dir(tmp_path).iterdir()] == ["cars"]  # no staging left
    ds = cars3d.load(tmp_path, allow_reduced=True)
    assert ds.factor_sizes == (4, 24, 2)
    np.testing.assert_allclose(ds.observations(np.array([[1, 2, 1]]), None)[0, 0, 0], 100 / 255, atol=1e-6)


def test_registry_matches_the_loaders_and_the_spec(tmp_path):
    for r in download.resources_for("smallnorb"):
        assert r.checksum[0] == "sha256" and r.unpack == "gunzip"
    assert {tmp_path / r.dest for r in download.files()["smallnorb"]} == set(smallnorb.expected_files(tmp_path))
    assert [tmp_path / r.dest for r in download.files()["shapes3d"]] == shapes3d.expected_files(tmp_path)
    assert [tmp_path / r.dest for r in download.files()["cars3d"]] == cars3d.expected_files(tmp_path)
    for v in mpi3d.VARIANTS:
        assert [tmp_path / r.dest for r in download.files()[f"mpi3d_{v}"]] == mpi3d.expected_files(tmp_path, v)
    assert download.files()["dsprites"][0].checksum == ("md5", "7da33b31b13a06f4b04a70402ce90c2e")
    shipped = Path(download.__file__).parent / "assets" / "the_scream.jpg"
    assert download.files()["scream"][0].checksum == ("sha256", hashlib.sha256(shipped.read_bytes()).hexdigest())
    assert all(r.checksum for rs in download.files().values() for r in rs)
    assert [r.dest for r in download.resources_for("scream_dsprites")] == [dsprites.REAL_FILE.as_posix(), "scream/scream.jpg"]
    with pytest.raises(KeyError, match="unknown dataset"):
        download.resources_for("mnist")
    with pytest.raises(ValueError, match="base_url"):
        download.download("smallnorb", tmp_path, url_override="http://127.0.0.1:9/x")


def test_data_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv(download.ENV_VAR, str(tmp_path / "env"))
    assert data_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert data_root() == tmp_path / "env"
    monkeypatch.delenv(download.ENV_VAR)
    assert data_root().name == "disentangle"


def test_cli(server, tmp_path, monkeypatch, capsys):
    body = b"fake h5 bytes"
    (resource,) = download.files()["shapes3d"]
    monkeypatch.setitem(download.files(), "shapes3d", (dataclasses.replace(resource, checksum=("sha256", hashlib.sha256(body).hexdigest())),))
    server.serve("/mirror/3dshapes.h5", body)
    args = ["download", "shapes3d", "--root", str(tmp_path), "--base-url", server.base + "/mirror", "--no-progress"]
    assert cli_main(args) == 0
    assert capsys.readouterr().out.strip() == str(shapes3d.expected_files(tmp_path)[0])
    assert cli_main(["download", "cars3d", "--root", str(tmp_path), "--base-url", server.base + "/none", "--no-progress"]) == 2
    assert "HTTP 404" in capsys.readouterr().err


def test_a_failed_download_leaves_no_empty_folders(server, tmp_path):
    """Before: a failed download left the empty folders it had made for the file."""
    server.routes["/file.bin"] = (500, b"boom", None)
    root = tmp_path / "cache"
    (root / "kept").mkdir(parents=True)  # folders that were there before stay
    with pytest.raises(DownloadError, match="HTTP 500"):
        fetch(_resource(b"", dest="a/b/file.bin"), root, urls=[server.base + "/file.bin"], progress=False)
    assert sorted(p.name for p in root.rglob("*")) == ["kept"]


def test_scream_download_is_checksummed(server, tmp_path):
    resource = download.files()["scream"][0]
    reference = (Path(download.__file__).parent / "assets" / "the_scream.jpg").read_bytes()
    other = server.serve("/other.jpg", reference[:-1] + b"\x00")  # one byte differs
    with pytest.raises(DownloadError, match="sha256 checksum mismatch"):
        fetch(resource, tmp_path, urls=[other], progress=False)
    assert not (tmp_path / "scream" / "scream.jpg").exists()
    assert not (tmp_path / "scream").exists() or not list((tmp_path / "scream").iterdir())  # no temp file
    path = fetch(resource, tmp_path, urls=[server.serve("/The_Scream.jpg", reference)], progress=False)
    assert path == tmp_path / "scream" / "scream.jpg" and path.read_bytes() == reference
