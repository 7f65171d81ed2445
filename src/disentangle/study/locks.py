"""Worker file locks (run claims): two workers on one results folder never take the same run.

A claim is a file ``<run folder>/claim`` created with ``O_CREAT | O_EXCL``
holding ``{pid, host, time}``; a heartbeat thread touches it every
``HEARTBEAT_S`` while the run is worked on. A claim is *stale* when its
heartbeat is older than ``STALE_AFTER_S`` — on every host, so a dead owner is
noticed even when its PID has been reused (a container restart, another
node) — or, sooner, when its owner is a dead process on this host. Breaking a stale claim happens under an ``fcntl`` lock on
``<results>/claims.lock``, so two workers cannot both break it and both win.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..io import NO_SPACE, write_error

CLAIM = "claim"
HEARTBEAT_S = 30.0
STALE_AFTER_S = 600.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_owner(run_dir: Path) -> dict | None:
    """The claim's content, or None if unclaimed (or unreadable: being created)."""
    try:
        owner = json.loads((run_dir / CLAIM).read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return owner if isinstance(owner, dict) else None


def describe_owner(run_dir: Path) -> str:
    """``pid N on HOST`` of the claim's owner (``an unknown process`` if unreadable)."""
    owner = claim_owner(run_dir)
    return "an unknown process" if owner is None else f"pid {owner.get('pid')} on {owner.get('host')}"


def is_stale(run_dir: Path, now: float | None = None) -> bool:
    """True if the run's claim exists and its owner is gone (see module docstring)."""
    path = run_dir / CLAIM
    owner = claim_owner(run_dir)
    try:
        age = (now or time.time()) - path.stat().st_mtime
    except FileNotFoundError:
        return False
    if owner is None:  # empty/partial claim: the creator died between open and write
        return age > 5.0
    if age > STALE_AFTER_S:  # no heartbeat: the owner is gone, whatever holds its PID now
        return True
    return owner.get("host") == socket.gethostname() and not _pid_alive(int(owner.get("pid", -1)))


def _create(path: Path) -> bool:
    """Create the claim file (False if it exists); a full disk is :class:`~disentangle.io.DiskFullError`
    naming it, and leaves no empty claim behind."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    except OSError as e:
        if e.errno in NO_SPACE:
            raise write_error(e, path) from None
        raise
    try:
        with os.fdopen(fd, "w") as f:
            json.dump({"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}, f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as e:
        path.unlink(missing_ok=True)
        real = write_error(e, path)
        if real is e:
            raise
        raise real from None
    return True


@contextmanager
def global_lock(results_dir: Path) -> Iterator[None]:
    results_dir.mkdir(parents=True, exist_ok=True)
    with open(results_dir / "claims.lock", "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def try_claim(run_dir: Path, results_dir: Path) -> bool:
    """Claim ``run_dir`` for this process; False if someone alive holds it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / CLAIM
    if _create(path):
        return True
    with global_lock(results_dir):
        if not is_stale(run_dir):
            return False
        path.unlink(missing_ok=True)
        return _create(path)


def release(run_dir: Path) -> None:
    """Drop this process's claim (only if it is ours)."""
    owner = claim_owner(run_dir)
    if owner and owner.get("pid") == os.getpid() and owner.get("host") == socket.gethostname():
        (run_dir / CLAIM).unlink(missing_ok=True)


class Heartbeat:
    """Touch the claim files of the runs being worked on, every ``HEARTBEAT_S``."""

    def __init__(self, run_dirs: list[Path]):
        self.run_dirs = run_dirs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            for d in self.run_dirs:
                try:
                    os.utime(d / CLAIM)
                except FileNotFoundError:
                    pass

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
