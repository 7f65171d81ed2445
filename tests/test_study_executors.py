"""Executors and claims (study/executors.py, study/locks.py): local processes,
two independent workers on one results folder, Slurm through submitit's local
executors, stale-claim recovery."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import submitit

from disentangle.study import run_study
from disentangle.study import locks
from disentangle.study.executors import slurm_parameters, submit_slurm, task_chunks, work_units
from disentangle.study.grid import Study
from test_study_fakes import FakeBackend, train_calls, write_params

TESTS = Path(__file__).resolve().parent


def _dirs(params):
    study = Study.from_params(params)
    return study, {r.model_num: study.run_dir(r) for r in study.runs(FakeBackend().resolve_source)}


@pytest.fixture
def importable_fakes(monkeypatch):
    """Spawned workers must import test_study_fakes too."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))


def test_local_worker_processes_share_the_runs(tmp_path, importable_fakes):
    params = write_params(tmp_path, executor={"kind": "processes", "workers": 2, "threads_per_worker": 2})
    df = run_study(params, progress=False, backend=FakeBackend(step_sleep=0.02))
    _, dirs = _dirs(params)
    assert len(df) == 8
    assert all(train_calls(d) == [0] for d in dirs.values())
    assert all(json.loads((d / "threads.json").read_text())["OMP_NUM_THREADS"] == "2" for d in dirs.values())


def test_two_studies_on_one_results_folder_never_take_the_same_run(tmp_path, importable_fakes):
    params = write_params(tmp_path, seeds=[0, 1, 2])
    script = ("import sys; from disentangle.study import run_study; from test_study_fakes import FakeBackend; "
              "run_study(sys.argv[1], progress=False, backend=FakeBackend(step_sleep=0.03))")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(params)], stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    _, dirs = _dirs(params)
    assert all(train_calls(d) == [0] for d in dirs.values())  # each run trained exactly once
    done_counts = [int(e.split("study: ")[1].split(" run")[0]) for e in errors]
    assert sum(done_counts) == 6 and min(done_counts) >= 1  # both worked, none twice


def test_a_stale_claim_of_a_dead_process_is_taken_over(tmp_path):
    run_dir = tmp_path / "runs" / "00000-x"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_dir.mkdir(parents=True)
    (run_dir / "claim").write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "time": 0}))
    assert locks.is_stale(run_dir)
    assert locks.try_claim(run_dir, tmp_path)
    assert locks.claim_owner(run_dir)["pid"] == os.getpid()
    locks.release(run_dir)
    assert not (run_dir / "claim").exists()


def test_a_live_claim_is_respected(tmp_path):
    run_dir = tmp_path / "runs" / "00000-x"
    run_dir.mkdir(parents=True)
    (run_dir / "claim").write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname(), "time": 0}))
    assert not locks.is_stale(run_dir) and not locks.try_claim(run_dir, tmp_path)
    locks.release(run_dir)  # not ours: left alone
    assert (run_dir / "claim").exists()


def test_a_claim_from_another_host_is_stale_only_without_heartbeat(tmp_path):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    (run_dir / "claim").write_text(json.dumps({"pid": 1, "host": "elsewhere", "time": 0}))
    assert not locks.is_stale(run_dir)
    old = time.time() - locks.STALE_AFTER_S - 1
    os.utime(run_dir / "claim", (old, old))
    assert locks.is_stale(run_dir)


def test_slurm_parameters_come_from_the_params_file(tmp_path):
    params = write_params(tmp_path, executor={"kind": "slurm", "slurm": {
        "partition": "gpu", "time_min": 90, "gpus_per_task": 2, "cpus_per_task": 6, "mem_gb": 20,
        "array_parallelism": 8, "runs_per_task": 3}})
    p = slurm_parameters(Study.from_params(params))
    assert p["slurm_partition"] == "gpu" and p["timeout_min"] == 90 and p["gpus_per_node"] == 2
    assert (p["cpus_per_task"], p["mem_gb"], p["slurm_array_parallelism"]) == (6, 20, 8)
    # AutoExecutor accepts them
    ex = submitit.AutoExecutor(folder=tmp_path / "slurm", cluster="local")
    ex.update_parameters(**{k: v for k, v in p.items() if not k.startswith("slurm_")})


def test_task_chunks_keep_one_dataset_and_method_per_task(tmp_path):
    params = write_params(tmp_path, seeds=[0, 1, 2], executor={"kind": "slurm", "slurm": {"runs_per_task": 2}})
    study, _ = _dirs(params)
    runs = study.runs(FakeBackend().resolve_source)
    chunks = task_chunks(study, runs)
    assert [[r.model_num for r in c] for c in chunks] == [[0, 1], [2], [1200, 1201], [1202]]
    assert work_units(runs, 10) == [runs[:3], runs[3:]]


def test_slurm_executor_with_submitit_debug_executor(tmp_path):
    params = write_params(tmp_path, executor={"kind": "slurm", "slurm": {"runs_per_task": 2}})
    df = run_study(params, progress=False, backend=FakeBackend(),
                   slurm_executor=submitit.DebugExecutor(folder=tmp_path / "slurm"))
    _, dirs = _dirs(params)
    assert len(df) == 8 and all(train_calls(d) == [0] for d in dirs.values())


def test_slurm_job_array_with_submitit_local_executor(tmp_path, importable_fakes):
    params = write_params(tmp_path, executor={"kind": "slurm", "slurm": {"runs_per_task": 2, "cpus_per_task": 1}})
    study, dirs = _dirs(params)
    ex = submitit.LocalExecutor(folder=tmp_path / "slurm")
    ex.update_parameters(timeout_min=5)
    jobs = submit_slurm(study, study.runs(FakeBackend().resolve_source), FakeBackend(), ex)
    assert len(jobs) == 2
    outcomes = [job.result() for job in jobs]
    assert sorted(n for o in outcomes for n in o) == sorted(f"{n:05d}" for n in dirs)  # keyed by run_id
    assert all(state == "done" for o in outcomes for state in o.values())
    assert all(train_calls(d) == [0] for d in dirs.values())


def test_pin_malloc_thresholds_sets_glibc_options_or_says_it_cannot():
    """Study workers pin glibc's malloc thresholds (no page-fault churn); off glibc it reports False."""
    import ctypes

    from disentangle.devices import pin_malloc_thresholds

    try:
        ctypes.CDLL("libc.so.6")
    except OSError:
        assert pin_malloc_thresholds() is False
    else:
        assert pin_malloc_thresholds() is True
