"""Download the real dataset files (book/design.md, "Dataset files"): ``python -m disentangle data download NAME``.

Every file is streamed to a temp file in its target folder, its checksum verified, then
renamed (or unpacked) into place, so an interrupted or corrupt download never leaves a
file that a loader would accept. The data root is ``root``, else ``$DISENTANGLE_DATA``,
else the user cache folder ``disentangle`` (platformdirs).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import http.client
import importlib
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

from .. import vocabulary
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


@functools.cache
def files() -> dict[str, tuple[Resource, ...]]:
    """Download name -> the files it fetches: the ``FILES`` of every dataset module (book/design.md, "Dataset files").

    Each data module keeps its own files next to its loader; the modules are those of
    ``vocabulary.DATASETS`` (imported on first use; the table is built once)."""
    return {name: resources for module in _data_modules() for name, resources in module.FILES.items()}


@functools.cache
def aliases() -> dict[str, tuple[str, ...]]:
    """Names that fetch the files of other download names: the modules' ``ALIASES`` (e.g. a
    dSprites variant) and each dataset's reference name (``dsprites_full``)."""
    out = {name: targets for module in _data_modules()
           for name, targets in getattr(module, "ALIASES", {}).items()}
    for d in vocabulary.DATASETS.values():
        if d.dlib_name and d.dlib_name not in files() and d.dlib_name not in out:
            out[d.dlib_name] = (d.name,) if d.name in files() else out[d.name]
    return out


def _data_modules() -> list:
    names = dict.fromkeys(d.module for d in vocabulary.DATASETS.values())
    return [importlib.import_module(f"{__package__}.{name}") for name in names]


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
    """The resources a download name needs (aliases resolved)."""
    if name in files():
        return files()[name]
    if name in aliases():
        return tuple(r for target in aliases()[name] for r in files()[target])
    raise KeyError(f"unknown dataset {name!r}; choose one of {download_names()}")


def download_names() -> list[str]:
    """Every name ``python -m disentangle data download`` accepts."""
    return sorted({*files(), *aliases()})


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
    dl.add_argument("name", choices=download_names())
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
