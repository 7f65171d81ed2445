"""Download the real dataset files (datasets.md §1): ``python -m disentangle data download NAME``.

Every file is streamed to a temp file in its target folder, its checksum verified, then
renamed (or unpacked) into place, so an interrupted or corrupt download never leaves a
file that a loader would accept. The data root is ``root``, else ``$DISENTANGLE_DATA``,
else the user cache folder ``disentangle`` (platformdirs).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import platformdirs
from tqdm import tqdm

from ..io import atomic_path

ENV_VAR = "DISENTANGLE_DATA"
#: SHA-256 of the reference Scream image (512×652 RGB JPEG; shipped as ``assets/the_scream.jpg``)
SCREAM_SHA256 = "45d763b132ba2075f4ff3dd26bce7db155bb1a5574be8d1bfb7d412dae260d04"
_CHUNK = 1 << 20
_TIMEOUT_S = 60


class DownloadError(RuntimeError):
    """A download failed or did not verify; nothing was left in place."""


@dataclass(frozen=True)
class Resource:
    """One downloadable file.

    ``dest`` is relative to the data root; ``checksum`` is (algorithm, hex digest) of the
    bytes served (None where no published checksum is known); ``unpack`` is "none",
    "gunzip" (dest is the decompressed file) or "cars3d" (dest is the folder receiving the
    tarball's ``data/cars/*.mat`` and ``list.txt``). ``urls`` are tried in order.
    """

    urls: tuple[str, ...]
    dest: str
    checksum: tuple[str, str] | None
    unpack: str = "none"

    @property
    def file_name(self) -> str:
        return self.urls[0].rsplit("/", 1)[-1]


_NORB = "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/"
_NORB_SHA256 = {  # datasets.md §1.4 (of the .gz files)
    "smallnorb-5x46789x9x18x6x2x96x96-training-dat.mat": "5ffd6272a07d32695ee1082a26a41a93a37aab8c28da047f8c34ed348d214873",
    "smallnorb-5x46789x9x18x6x2x96x96-training-cat.mat": "2784e542c1922060691090952b6cd6278879a216c90f81476f0f00256d42cdaa",
    "smallnorb-5x46789x9x18x6x2x96x96-training-info.mat": "de7eb932ebe7a4ee16217fead60660d0eb3d23632c2f4d1c51f88c501c17bf32",
    "smallnorb-5x01235x9x18x6x2x96x96-testing-dat.mat": "cf7104eed3e51174d2f65b66d1e5878b9da233b886f161b0d88f4510ba2c7474",
    "smallnorb-5x01235x9x18x6x2x96x96-testing-cat.mat": "ecaf6d5bb8c3bc5eab9cf0258f6d2198dd474e016e374836fc097f2e5ff509ff",
    "smallnorb-5x01235x9x18x6x2x96x96-testing-info.mat": "16adf314226327ee006d1a44db8cfef52773c06c829951d5653a9f6f310248a2",
}
_DSPRITES_FILE = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
_MPI3D_MD5 = {  # datasets.md §1.6 (Final_Dataset release)
    "toy": "55889cb7c7dfc655d6e0277beee88868",
    "realistic": "59a6225b88b635365f70c91b3e52f70f",
    "real": "0f33f609918fb5c97996692f91129802",
}

#: dataset name -> the files it needs (datasets.md §1)
DATASETS: dict[str, tuple[Resource, ...]] = {
    "dsprites": (
        Resource(
            (
                f"https://github.com/deepmind/dsprites-dataset/raw/master/{_DSPRITES_FILE}",
                f"https://raw.githubusercontent.com/deepmind/dsprites-dataset/master/{_DSPRITES_FILE}",
            ),
            f"dsprites/{_DSPRITES_FILE}",
            ("md5", "7da33b31b13a06f4b04a70402ce90c2e"),
        ),
    ),
    # Wikimedia publishes no checksum; the file is verified against the reference image's
    # SHA-256 (the copy the package ships), so a re-uploaded painting is refused, not used.
    "scream": (Resource(("https://upload.wikimedia.org/wikipedia/commons/f/f4/The_Scream.jpg",), "scream/scream.jpg",
                        ("sha256", SCREAM_SHA256)),),
    "shapes3d": (
        Resource(
            ("https://storage.googleapis.com/3d-shapes/3dshapes.h5",),
            "shapes3d/3dshapes.h5",
            ("sha256", "0a0f6ed98baff276a50f3a081a7434d788da63cb135a98189b2a5b5769be1785"),
        ),
    ),
    "smallnorb": tuple(
        Resource((f"{_NORB}{name}.gz",), f"smallnorb/{name}", ("sha256", sha), unpack="gunzip")
        for name, sha in _NORB_SHA256.items()
    ),
    "cars3d": (
        Resource(
            (
                "http://www.scottreed.info/files/nips2015-analogy-data.tar.gz",
                "http://www-personal.umich.edu/~reedscot/files/nips2015-analogy-data.tar.gz",
            ),
            "cars3d/cars",
            ("md5", "4e866a7919c1beedf53964e6f7a23686"),
            unpack="cars3d",
        ),
    ),
    **{
        f"mpi3d_{variant}": (
            Resource(
                (
                    f"https://storage.googleapis.com/disentanglement_dataset/Final_Dataset/mpi3d_{variant}.npz",
                    f"https://huggingface.co/datasets/waleedgondal/mpi3d/resolve/main/mpi3d_{variant}.npz",
                ),
                f"mpi3d/mpi3d_{variant}.npz",
                ("md5", md5),
            ),
        )
        for variant, md5 in _MPI3D_MD5.items()
    },
}
#: study dataset names that share the files of another
ALIASES: dict[str, tuple[str, ...]] = {
    "dsprites_full": ("dsprites",),
    "color_dsprites": ("dsprites",),
    "noisy_dsprites": ("dsprites",),
    "scream_dsprites": ("dsprites", "scream"),
    "mpi3d": ("mpi3d_toy",),
}


def data_root(root: str | os.PathLike | None = None) -> Path:
    """``root``, else ``$DISENTANGLE_DATA``, else the user cache folder ``disentangle``."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    return Path(platformdirs.user_cache_dir("disentangle"))


def _stream(url: str, out: Path, algorithm: str, progress: bool, label: str) -> str:
    """Write the body at ``url`` to ``out``; return its hex digest. Raises DownloadError."""
    digest = hashlib.new(algorithm)
    request = urllib.request.Request(url, headers={"User-Agent": "disentangle-downloader/1"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response, open(out, "wb") as f:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            received = 0
            with tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=not progress, leave=False) as bar:
                while chunk := response.read(_CHUNK):
                    f.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            f.flush()
            os.fsync(f.fileno())
    except urllib.error.HTTPError as e:
        raise DownloadError(f"{url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
        raise DownloadError(f"{url}: {type(e).__name__}: {e}") from None
    if total is not None and received != total:
        raise DownloadError(f"{url}: truncated download, got {received} of {total} bytes")
    return digest.hexdigest()


def _unpack_cars3d(archive: Path, final: Path) -> None:
    """Extract ``data/cars/*.mat`` and ``list.txt`` from the tarball into the folder ``final``."""
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        n_mat = 0
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                parts = Path(member.name).parts
                wanted = member.isfile() and len(parts) >= 2 and parts[-2] == "cars"
                if not wanted or not (member.name.endswith(".mat") or parts[-1] == "list.txt"):
                    continue
                src = tar.extractfile(member)
                with src, open(staging / parts[-1], "wb") as dst:  # basename only: no path traversal
                    shutil.copyfileobj(src, dst, _CHUNK)
                n_mat += member.name.endswith(".mat")
        if n_mat == 0:
            raise DownloadError(f"{archive.name}: the archive holds no data/cars/*.mat files")
        os.replace(staging, final)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise DownloadError(f"{final}: cannot unpack the Cars3D archive: {e}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _install(resource: Resource, downloaded: Path, final: Path) -> None:
    if resource.unpack == "none":
        os.replace(downloaded, final)
    elif resource.unpack == "gunzip":
        try:
            with gzip.open(downloaded, "rb") as src, atomic_path(final) as tmp, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
        except (OSError, EOFError) as e:
            raise DownloadError(f"{final}: cannot decompress the downloaded .gz: {e}") from None
    elif resource.unpack == "cars3d":
        _unpack_cars3d(downloaded, final)
    else:
        raise ValueError(f"unknown unpack mode {resource.unpack!r}")


def _present(final: Path) -> bool:
    return any(final.iterdir()) if final.is_dir() else final.is_file()


def fetch(
    resource: Resource,
    root: Path,
    *,
    progress: bool = True,
    urls: Sequence[str] | None = None,
    force: bool = False,
) -> Path:
    """Download, verify and install one resource under ``root``; return its final path.

    Already-present files are kept unless ``force``. ``urls`` replaces the resource's own
    (tests, mirrors). Each URL is tried in turn; all failures are reported together.
    """
    final = Path(root) / resource.dest
    if _present(final) and not force:
        return final
    created = [d for d in (final.parent, *final.parent.parents) if not d.exists()]  # deepest first
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _fetch_into(resource, final, progress=progress, urls=urls, force=force)
    except BaseException:
        for d in created:  # a failed download leaves no empty folders behind
            try:
                d.rmdir()
            except OSError:
                break
        raise


def _fetch_into(resource: Resource, final: Path, *, progress: bool, urls: Sequence[str] | None,
                force: bool) -> Path:
    if resource.checksum is None:
        warnings.warn(f"{final.name}: no published checksum is known; the download is not verified", stacklevel=3)
    algorithm, expected = resource.checksum or ("sha256", None)
    errors = []
    for url in urls or resource.urls:
        fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
        os.close(fd)
        part = Path(name)
        try:
            digest = _stream(url, part, algorithm, progress, final.name)
            if expected is not None and digest != expected:
                raise DownloadError(
                    f"{url}: {algorithm} checksum mismatch (expected {expected}, got {digest}); the file was removed"
                )
            if force and final.is_dir():
                shutil.rmtree(final)
            _install(resource, part, final)
            return final
        except DownloadError as e:
            errors.append(str(e))
        finally:
            part.unlink(missing_ok=True)
    raise DownloadError(f"could not fetch {final}:\n  " + "\n  ".join(errors))


def resources_for(name: str) -> tuple[Resource, ...]:
    """The resources a dataset name needs (aliases resolved)."""
    if name in DATASETS:
        return DATASETS[name]
    if name in ALIASES:
        return tuple(r for target in ALIASES[name] for r in DATASETS[target])
    raise KeyError(f"unknown dataset {name!r}; choose one of {sorted({*DATASETS, *ALIASES})}")


def download(
    name: str,
    root: str | os.PathLike | None = None,
    *,
    progress: bool = True,
    url_override: str | None = None,
    base_url: str | None = None,
    force: bool = False,
) -> list[Path]:
    """Fetch every file of dataset ``name`` into the data root; return the final paths.

    ``url_override`` replaces the URL of a single-file dataset; ``base_url`` replaces the
    folder part of every URL (a mirror, or a local test server).
    """
    resources = resources_for(name)
    if url_override is not None and len(resources) != 1:
        raise ValueError(f"url_override needs a single-file dataset; {name!r} has {len(resources)} files (use base_url)")
    root = data_root(root)
    paths = []
    for r in resources:
        if url_override is not None:
            urls = [url_override]
        elif base_url is not None:
            urls = [f"{base_url.rstrip('/')}/{r.file_name}"]
        else:
            urls = None
        paths.append(fetch(r, root, progress=progress, urls=urls, force=force))
    return paths


def cli_main(argv: Sequence[str]) -> int:
    """``python -m disentangle data download NAME [--root DIR] [--base-url URL] [--force]``."""
    ap = argparse.ArgumentParser(prog="python -m disentangle data", description="dataset files")
    sub = ap.add_subparsers(dest="command", required=True)
    dl = sub.add_parser("download", help="download and verify a dataset's files")
    dl.add_argument("name", choices=sorted({*DATASETS, *ALIASES}))
    dl.add_argument("--root", help=f"data folder (default: ${ENV_VAR} or the user cache folder)")
    dl.add_argument("--base-url", help="fetch the files from this folder URL instead (a mirror)")
    dl.add_argument("--force", action="store_true", help="download again even if present")
    dl.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = ap.parse_args(list(argv))
    try:
        paths = download(args.name, args.root, progress=not args.no_progress, base_url=args.base_url, force=args.force)
    except DownloadError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for p in paths:
        print(p)
    return 0
