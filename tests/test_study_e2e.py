"""End to end with the real trainer and metrics at tiny sizes: a study trains,
saves, evaluates both representations and aggregates; a rerun is a no-op."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from disentangle.data.toy import DummyImages
from disentangle.study import Backend, load_results, run_study
from disentangle.study.grid import Study
from test_study_fakes import write_params

METRICS = ["mig", "sap_score", "unsupervised"]


class DummyDataBackend(Backend):
    """The real backend on the reference's DummyData (`data/ground_truth/dummy_data.py`)."""

    def dataset(self, name, source, root):
        return DummyImages(channels=1)


@pytest.fixture
def tiny_fast_settings(monkeypatch):
    """The "fast" metric settings with a few hundred points (seconds, not minutes)."""
    from disentangle.metrics import SETTINGS

    for name in METRICS:
        small = {k: 200 for k in ("num_train", "num_test") if k in SETTINGS["fast"][name]}
        monkeypatch.setitem(SETTINGS["fast"], name, {**SETTINGS["fast"][name], **small})


def test_real_trainer_and_metrics_end_to_end(tmp_path, tiny_fast_settings):
    params = write_params(tmp_path, methods=("beta_vae",), seeds=[0, 1], steps=4, checkpoint_every=2,
                          models_per_batch=2, metrics=METRICS, eval_batches=1)
    df = run_study(params, progress=False, backend=DummyDataBackend())  # batched: one stack of 2 models
    assert sorted(set(df.model_num)) == [0, 1] and len(df) == 4
    for col in ("mig.discrete_mig", "sap_score.SAP_score", "unsupervised.gaussian_total_correlation",
                "train.loss", "train.global_step"):
        assert col in df.columns and np.isfinite(df[col].astype(float)).all(), col
    assert set(df["train.global_step"]) == {4}
    mean, sampled = (df[df.representation == r].set_index("model_num") for r in ("mean", "sampled"))
    assert not np.allclose(mean["unsupervised.gaussian_total_correlation"],
                           sampled["unsupervised.gaussian_total_correlation"])
    study = Study.from_params(params)
    mtimes = {p: p.stat().st_mtime_ns for p in study.runs_dir.rglob("*") if p.is_file()}
    again = run_study(params, progress=False, backend=DummyDataBackend())
    assert again.drop(columns=[c for c in again if c.startswith("time.")]).equals(
        df.drop(columns=[c for c in df if c.startswith("time.")]))
    assert {p: p.stat().st_mtime_ns for p in study.runs_dir.rglob("*") if p.is_file()} == mtimes
    assert load_results(study.results_dir).equals(again)


KILL_SCRIPT = """
import sys
import disentangle.training.engine as engine
from contextlib import contextmanager
from disentangle.study.killpoints import kill_point
from disentangle.metrics import SETTINGS
from disentangle.study import run_study
from test_study_e2e import DummyDataBackend, METRICS

for name in METRICS:  # as the tiny_fast_settings fixture
    SETTINGS["fast"][name] = {**SETTINGS["fast"][name],
                              **{k: 200 for k in ("num_train", "num_test") if k in SETTINGS["fast"][name]}}
real_atomic_path = engine.atomic_path

@contextmanager
def atomic_path_with_kill_point(target):
    with real_atomic_path(target) as tmp:
        yield tmp
        if "checkpoints" in str(target):
            kill_point("checkpoint_write")

engine.atomic_path = atomic_path_with_kill_point
run_study(sys.argv[1], progress=False, backend=DummyDataBackend())
"""


def test_real_trainer_killed_during_a_checkpoint_write_resumes(tmp_path):
    params = write_params(tmp_path, methods=("beta_vae",), seeds=[0], steps=4, checkpoint_every=2,
                          metrics=["mig"], eval_batches=1)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    killed = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(params)], capture_output=True, text=True,
                            env={**env, "DISENTANGLE_TEST_KILL_AT": "checkpoint_write:2"}, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    study = Study.from_params(params)
    run_dir = study.run_dir(study.runs(DummyDataBackend().resolve_source)[0])
    assert [p.name for p in (run_dir / "checkpoints").glob("iteration-*.pt")] == ["iteration-00000002.pt"]
    rerun = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(params)], capture_output=True, text=True,
                           env=env, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    df = pd.read_parquet(study.results_dir / "results.parquet")
    assert len(df) == 2 and set(df["train.global_step"]) == {4}
    assert not list(run_dir.rglob("*.tmp")) and not (run_dir / "checkpoints").exists()
