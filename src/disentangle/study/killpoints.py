"""Crash-test hook: ``DISENTANGLE_TEST_KILL_AT=<point>:<n>`` makes the process
SIGKILL itself the n-th time it reaches ``kill_point(<point>)`` (n defaults to 1).

Used by the resumability tests (tests/test_study_resume.py) to kill a study at
named points: ``run_start``, ``train_done``, ``record_write`` (inside the atomic
write of a record, temp file written, not yet renamed), ``done_write``,
``aggregate_write``; test doubles add their own (``checkpoint_write``).
Unset (always, outside tests), it costs one dict lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "DISENTANGLE_TEST_KILL_AT"
_hits: dict[str, int] = {}


def kill_point(name: str) -> None:
    """SIGKILL this process if ``$DISENTANGLE_TEST_KILL_AT`` names this point and hit count."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    point, _, count = spec.partition(":")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
