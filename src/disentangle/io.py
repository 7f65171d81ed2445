"""Crash-safe file writes: every file is written to a temp file in the same
folder, flushed, fsynced, then renamed over the target (atomic on POSIX).
Long measurements append their rows durably instead (:func:`append_csv_rows`)."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path next to ``target``; rename it onto ``target`` on success.

    On any exception the temp file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


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
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
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
