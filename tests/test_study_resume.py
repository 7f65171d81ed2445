"""Kill -9 a study at named points and rerun it (study/killpoints.py): every run
present exactly once, no corrupt or temp file, finished runs never retrained."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from disentangle.study.grid import Study
from test_study_fakes import FakeBackend, train_calls, write_params

TESTS = Path(__file__).resolve().parent
SCRIPT = """
import sys
from disentangle.study import run_study
from test_study_fakes import FakeBackend
run_study(sys.argv[1], progress=False, backend=FakeBackend())
"""


def _study(params, kill_at=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    env.pop("DISENTANGLE_TEST_KILL_AT", None)
    if kill_at:
        env["DISENTANGLE_TEST_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-c", SCRIPT, str(params)], env=env, capture_output=True, text=True,
                          timeout=120)


def _snapshot(dirs):
    """model_num -> (train calls, done.json mtime) of finished runs."""
    return {n: (train_calls(d), (d / "done.json").stat().st_mtime_ns)
            for n, d in dirs.items() if (d / "done.json").exists()}


@pytest.mark.parametrize("kill_at", [
    "run_start:2",         # claimed and prepared, before training
    "checkpoint_write:2",  # inside an atomic checkpoint write (temp written, not renamed)
    "train_done:2",        # model saved, nothing evaluated
    "record_write:3",      # inside the atomic write of a representation's record
    "done_write:2",        # inside the atomic write of done.json
    "aggregate_write:1",   # inside the atomic write of results.parquet
])
def test_a_killed_study_resumes_without_loss_or_duplicates(tmp_path, kill_at):
    params = write_params(tmp_path, steps=6, checkpoint_every=2)
    study = Study.from_params(params)
    dirs = {r.model_num: study.run_dir(r) for r in study.runs(FakeBackend().resolve_source)}

    killed = _study(params, kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    before = _snapshot(dirs)
    if kill_at.startswith("checkpoint_write"):
        assert any(p.name.endswith(".tmp") for d in dirs.values() if d.exists() for p in d.iterdir())

    rerun = _study(params)
    assert rerun.returncode == 0, rerun.stderr
    df = pd.read_parquet(study.results_dir / "results.parquet")
    assert sorted(df["model_num"]) == sorted(n for n in dirs for _ in range(2))
    assert not df.duplicated(["model_num", "representation"]).any()
    assert len(pd.read_csv(study.results_dir / "results.csv")) == len(df)
    # finished runs were not touched; the others trained to the end exactly once overall
    after = _snapshot(dirs)
    for n, snap in before.items():
        assert after[n] == snap
    for n, d in dirs.items():
        calls = train_calls(d)
        assert calls[0] == 0 and len(calls) <= 2
        assert json.loads((d / "train_results.json").read_text())["global_step"] == 6
        for f in d.rglob("*.json"):
            json.loads(f.read_text())  # no corrupt file
        assert not (d / "claim").exists()
    if kill_at.startswith("checkpoint_write"):
        # the killed run resumed from its first checkpoint (step 2) instead of restarting
        assert [train_calls(d) for d in dirs.values()][0] == [0, 2]
    leftovers = [p for p in study.results_dir.rglob("*.tmp")]
    assert leftovers == []
