"""Crash-safe file writes: every file is written to a temp file in the same
folder, flushed, fsynced, then renamed over the target (atomic on POSIX).
Long measurements append their rows durably instead (:func:`append_csv_rows`)."""

from __future__ import annotations

import csv
import errno
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


#: errno values of a full disk (or an exhausted quota)
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class DiskFullError(OSError):
    """A write failed for lack of space; ``filename`` is the file, ``strerror`` says what to do."""


def disk_full(path: str | os.PathLike, needed: int | None = None) -> DiskFullError:
    """The one-line error of a full disk while writing ``path``: the file, the space the write
    needed (at least ``needed`` bytes: what it had written when the disk filled, or the size of
    the file it replaces), the free space left on its file system, and that what is finished is kept."""
    import shutil

    where = Path(path).parent
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        free = f"{shutil.disk_usage(where).free / 2**20:.1f} MiB free"
    except OSError:
        free = "free space unknown"
    need = f"it needs at least {needed / 2**20:.1f} MiB, " if needed else ""
    return DiskFullError(errno.ENOSPC, f"no space left on device while writing it ({need}{free} on its file "
                                       f"system); free some space and rerun: every finished file is kept", str(path))


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def write_error(error: BaseException, path: str | os.PathLike, needed: int | None = None) -> BaseException:
    """What an error raised while writing ``path`` really is: a KeyboardInterrupt or
    SystemExit that a writer wrapped in another error (torch's zip writer turns both into
    ``RuntimeError: ... unexpected pos``) is that interrupt again; a full disk (an
    ``OSError`` ENOSPC without a file name, or that RuntimeError) is :func:`disk_full`;
    anything else is ``error`` itself."""
    if isinstance(error, DiskFullError):
        return error
    for e in _chain(error):
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            return e
        if isinstance(e, OSError) and e.errno in NO_SPACE:
            return disk_full(path, needed)
    if isinstance(error, RuntimeError) and "unexpected pos" in str(error):  # torch writing to a path
        return disk_full(path, needed)
    return error


def file_mode() -> int:
    """``0o666`` less this process's umask: the mode ``open()`` would give a new file."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc: read it by setting it (and restore it at once)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path next to ``target``; rename it onto ``target`` on success, with the
    mode a new file gets under the user's umask (``mkstemp`` makes it 0600).

    On any exception the temp file is removed and ``target`` is untouched; an interrupt
    wrapped by the writer is raised as itself, a full disk as :class:`DiskFullError` naming
    ``target`` (:func:`write_error`).
    """
    target = Path(target)
    tmp_path = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        try:
            os.chmod(tmp_path, file_mode())
        except PermissionError:  # a file system without modes: the file is still written
            pass
        os.replace(tmp_path, target)
    except BaseException as e:
        needed = _bytes_needed(tmp_path, target)
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)
        real = write_error(e, target, needed)
        if real is e:
            raise
        raise real from None


def _bytes_needed(tmp_path: Path | None, target: Path) -> int | None:
    """A lower bound on the space a failed write needed: what it had written, or the size of
    the file it was replacing, whichever is larger (None if neither is known)."""
    sizes = []
    for p in (tmp_path, target):
        try:
            sizes.append(p.stat().st_size if p is not None else 0)
        except OSError:
            pass
    return max(sizes) or None if sizes else None


def atomic_write_bytes(target: str | os.PathLike, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_json(target: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(target, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


class DamagedFileError(ValueError):
    """A file exists but cannot be read as what it should be; the message names it."""


def read_json(path: str | os.PathLike) -> Any:
    """The JSON content of ``path``; ``None`` if it does not exist; :class:`DamagedFileError`
    naming the file if it is not valid JSON (truncated, overwritten, not UTF-8)."""
    try:
        with open(path, encoding="utf-8") as f:  # not Path.read_text: this runs 50,000 times in an aggregate
            text = f.read()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as e:
        raise DamagedFileError(f"{path}: damaged file (not UTF-8 text: {e.reason})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DamagedFileError(f"{path}: damaged file (not valid JSON: {e.msg} at line {e.lineno})") from None


def set_aside(path: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """Move a damaged file (or folder) inside ``folder`` to ``<folder>/damaged/<same relative
    path>``, replacing an older copy there, so that it is redone but never silently lost.
    Returns its new path."""
    import shutil

    path, folder = Path(path), Path(folder)
    target = folder / "damaged" / path.relative_to(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    os.replace(path, target)
    return target


def append_csv_rows(path: str | os.PathLike, rows: list[dict], columns: list[str] | tuple[str, ...]) -> None:
    """Append ``rows`` to a CSV (header written when the file is new) and fsync, so that a
    killed measurement keeps every row it reported (benchmarks write partial results this way)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with open(path, "a", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns))
        if new:
            writer.writeheader()
        writer.writerows(rows)
        f.flush()
        os.fsync(f.fileno())
