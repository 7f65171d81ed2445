"""Fault injection for studies (study/runs.py, api.py, locks.py, executors.py, cli.py):
one bad file never blocks a study, every failure is visible, every error names its file.

Each test damages or interrupts a small fake study the way a user or a cluster
would, and its docstring says what the user met before the fix.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from disentangle.__main__ import main
from disentangle.study import locks, run_study, study_status
from disentangle.study import api as study_api
from disentangle.study.api import execute_study, training_progress
from disentangle.study.grid import Study
from test_study_fakes import FakeBackend, train_calls, write_params

TESTS = Path(__file__).resolve().parent


def _dirs(params):
    study = Study.from_params(params)
    return study, {r.model_num: study.run_dir(r) for r in study.runs(FakeBackend().resolve_source)}


def _env():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    env.pop("DISENTANGLE_TEST_KILL_AT", None)
    return env


def _truncate(path: Path) -> None:
    text = path.read_text()
    path.write_text(text[: len(text) // 2])


# --------------------------------------------------------------------------- damaged run folders


@pytest.mark.parametrize("damaged, retrained", [
    ("done.json", False),           # evaluation results sound: only done.json is rewritten
    ("record_mean.json", False),    # the model is sound: re-evaluate only
    ("run_config.json", False),
    ("train_results.json", True),   # the model's record is gone: train again
    ("model/config.json", True),
])
def test_a_damaged_json_in_one_run_is_named_and_that_run_redone(tmp_path, capsys, damaged, retrained):
    """Before: a truncated JSON in one run folder made `study status`, `run` and
    `aggregate` crash with a JSONDecodeError naming no file; nobody could find it
    among 12,600 runs, and the whole study was blocked."""
    params = write_params(tmp_path)
    run_study(params, progress=False, backend=FakeBackend())
    study, dirs = _dirs(params)
    bad = dirs[1] / damaged
    _truncate(bad)
    others = {n: (d / "done.json").stat().st_mtime_ns for n, d in dirs.items() if n != 1}

    status = study_status(params, backend=FakeBackend())
    assert status.counts["damaged"] == 1 and status.counts["done"] == 3
    assert status.damaged[0][0] == dirs[1].name and str(bad) in status.damaged[0][1][0]
    assert f"damaged {dirs[1].name}: {bad}" in str(status)

    capsys.readouterr()
    outcome = execute_study(params, progress=False, backend=FakeBackend())
    assert outcome.ok and len(outcome.table) == 8
    assert str(bad) in capsys.readouterr().err  # the repair names the file
    assert train_calls(dirs[1]) == ([0, 0] if retrained else [0])
    assert (dirs[1] / "damaged" / damaged).exists()  # set aside, not deleted
    json.loads(bad.read_text())  # rewritten sound
    assert {n: (d / "done.json").stat().st_mtime_ns for n, d in dirs.items() if n != 1} == others
    assert study_status(params, backend=FakeBackend()).counts["done"] == 4


def test_aggregate_skips_a_damaged_run_instead_of_crashing(tmp_path):
    """Before: `study aggregate` crashed on one damaged record and wrote no table."""
    params = write_params(tmp_path)
    run_study(params, progress=False, backend=FakeBackend())
    _, dirs = _dirs(params)
    _truncate(dirs[1200] / "record_sampled.json")
    assert main(["study", "aggregate", str(params)]) == 0
    df = pd.read_parquet(tmp_path / "results" / "results.parquet")
    assert sorted(set(df["model_num"])) == [0, 1, 1201]


@pytest.mark.parametrize("remove", ["model", "model/model.pt"])
def test_train_results_without_a_sound_model_is_trained_again(tmp_path, remove):
    """Before: a folder with train_results.json but no model/ failed forever with
    `no trained model in .../model`, and a deleted model.pt was never noticed."""
    params = write_params(tmp_path)
    run_study(params, progress=False, backend=FakeBackend())
    _, dirs = _dirs(params)
    target = dirs[0] / remove
    if target.is_dir():
        import shutil

        shutil.rmtree(target)
    else:
        target.unlink()
    status = study_status(params, backend=FakeBackend())
    assert status.counts["damaged"] == 1 and str(dirs[0] / "model") in str(status)
    assert execute_study(params, progress=False, backend=FakeBackend()).ok
    assert train_calls(dirs[0]) == [0, 0] and (dirs[0] / "model" / "model.pt").exists()
    assert [train_calls(d) for n, d in dirs.items() if n != 0] == [[0], [0], [0]]


def test_a_model_file_that_cannot_be_read_is_trained_again(tmp_path):
    """Before: a corrupt model.pt failed the evaluation on every rerun until deleted by hand."""
    params = write_params(tmp_path)
    run_study(params, progress=False, backend=FakeBackend())
    _, dirs = _dirs(params)
    (dirs[1] / "model" / "model.pt").write_text("garbage")
    (dirs[1] / "record_mean.json").unlink()  # evaluation needs the model again
    assert execute_study(params, progress=False, backend=FakeBackend()).ok
    assert train_calls(dirs[1]) == [0, 0]
    assert (dirs[1] / "damaged" / "model" / "model.pt").read_text() == "garbage"


# --------------------------------------------------------------------------- failures are visible


def test_study_run_lists_each_failed_run_and_is_not_ok(tmp_path, capsys):
    """Before: `study run` printed `0 run(s) done, 4 failed` and exited 0, so CI and
    Slurm scripts could not tell."""
    params = write_params(tmp_path)
    outcome = execute_study(params, progress=False, backend=FakeBackend(fail_model_nums=(1, 1200)))
    _, dirs = _dirs(params)
    assert not outcome.ok and [u.run.model_num for u in outcome.unfinished] == [1, 1200]
    lines = outcome.closing_lines()
    assert lines[0] == "2 run(s) not done (2 failed):"
    assert f"  {dirs[1].name} (dsprites, beta_vae=1, seed 1): failed: RuntimeError: fake failure of model 1 " \
           f"[{dirs[1] / 'failed.log'}]" in lines
    assert "Traceback" in (dirs[1] / "failed.log").read_text()


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
def test_cli_exits_non_zero_when_runs_fail(tmp_path):
    """Before: `device: cuda` on a machine without CUDA failed every run, and the command exited 0."""
    params = write_params(tmp_path, methods=("beta_vae",), seeds=[0], steps=2)
    params.write_text(params.read_text().replace("device: cpu", "device: cuda"))
    r = subprocess.run([sys.executable, "-m", "disentangle", "study", "run", str(params), "--no-progress"],
                       capture_output=True, text=True, env=_env(), timeout=300, cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "1 run(s) not done (1 failed):" in r.stderr and "failed.log]" in r.stderr
    assert "study not finished" in r.stderr and "Traceback" not in r.stderr


def test_a_second_study_run_waits_for_runs_held_by_a_live_process(tmp_path, capsys):
    """Before: a second concurrent `study run` returned a half table with rc 0 and no notice."""
    params = write_params(tmp_path)
    study, dirs = _dirs(params)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dirs[1].mkdir(parents=True)
        (dirs[1] / "claim").write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname(), "time": 0}))
        held = execute_study(params, progress=False, backend=FakeBackend(), wait=False)
        assert not held.ok and [(u.run.model_num, u.state) for u in held.unfinished] == [(1, "running")]
        assert f"held by pid {holder.pid} on {socket.gethostname()}" in held.closing_lines()[1]
        # the holder lets go without finishing (say it was interrupted): the waiting process takes over
        threading.Timer(1.0, lambda: (dirs[1] / "claim").unlink()).start()
        capsys.readouterr()
        outcome = execute_study(params, progress=False, backend=FakeBackend(), poll_s=0.1)
    finally:
        holder.kill()
    assert outcome.ok and len(outcome.table) == 8
    err = capsys.readouterr().err
    assert f"waiting for 1 run(s) held by other live process(es) (pid {holder.pid} on " in err
    assert dirs[1].name in err and train_calls(dirs[1]) == [0]


# --------------------------------------------------------------------------- claims and workers


def test_a_claim_without_heartbeat_is_stale_even_if_its_pid_lives_again(tmp_path):
    """Before: a claim holding a live PID (reused after a container restart) with a
    two-day-old heartbeat showed `1 running` forever, and `run` skipped that run."""
    params = write_params(tmp_path)
    _, dirs = _dirs(params)
    dirs[0].mkdir(parents=True)
    claim = dirs[0] / "claim"
    claim.write_text(json.dumps({"pid": 1, "host": socket.gethostname(), "time": 0}))
    assert not locks.is_stale(dirs[0])  # fresh heartbeat: respected
    old = time.time() - 2 * 86400
    os.utime(claim, (old, old))
    assert locks.is_stale(dirs[0])
    assert study_status(params, backend=FakeBackend()).counts["running"] == 0
    assert execute_study(params, progress=False, backend=FakeBackend()).ok
    assert train_calls(dirs[0]) == [0] and not claim.exists()


def _live(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (dead, not yet reaped by its new parent) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _claim_pids(dirs):
    return {locks.claim_owner(d)["pid"] for d in dirs.values() if locks.claim_owner(d)}


def _wait_for(condition, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


STUDY_SCRIPT = """
import sys
import disentangle.study.api as api
from disentangle.__main__ import main
from test_study_fakes import FakeBackend
api.Backend = lambda: FakeBackend(step_sleep=float(sys.argv[2]))
sys.exit(main(["study", "run", sys.argv[1], "--no-progress"]))
"""


def test_workers_stop_when_their_parent_dies(tmp_path):
    """Before: kill -9 of `study run` left its two workers training; a rerun then
    reported `0 run(s) done ... 0 rows` with rc 0."""
    params = write_params(tmp_path, steps=200, checkpoint_every=50, executor={"kind": "processes", "workers": 2})
    _, dirs = _dirs(params)
    parent = subprocess.Popen([sys.executable, "-c", STUDY_SCRIPT, str(params), "0.05"], env=_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_for(lambda: len(_claim_pids(dirs)) == 2), "the workers never claimed runs"
        workers = _claim_pids(dirs)
        parent.kill()
        parent.wait()
        assert _wait_for(lambda: not any(_live(p) for p in workers), timeout=45), "orphaned workers kept training"
        assert _claim_pids(dirs) == set()  # they released their claims on the way out
    finally:
        parent.kill()
    assert study_status(params, backend=FakeBackend()).counts["running"] == 0  # a rerun takes the runs over


def test_ctrl_c_stops_the_workers_releases_claims_and_says_how_to_resume(tmp_path):
    """Before: Ctrl-C printed three tracebacks (114 lines) and no line saying how to resume."""
    params = write_params(tmp_path, steps=400, checkpoint_every=100, executor={"kind": "processes", "workers": 2})
    _, dirs = _dirs(params)
    proc = subprocess.Popen([sys.executable, "-c", STUDY_SCRIPT, str(params), "0.05"], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert _wait_for(lambda: len(_claim_pids(dirs)) == 2), "the workers never claimed runs"
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: every process of the group
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert f"Resume with:\n  python -m disentangle study run {params}" in err
    assert _claim_pids(dirs) == set()


# --------------------------------------------------------------------------- progress


def test_training_progress_per_run_with_two_worker_processes(tmp_path, capsys, monkeypatch):
    """Before: `study run` showed only a runs-level bar that sat at 0/N during training."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setattr(study_api, "PROGRESS_EVERY_S", 0.1)
    params = write_params(tmp_path, steps=40, checkpoint_every=20, executor={"kind": "processes", "workers": 2})
    outcome = execute_study(params, progress=True, backend=FakeBackend(step_sleep=0.05))
    err = capsys.readouterr().err
    assert outcome.ok
    shown = {n for n in (0, 1, 1200, 1201) if any(f"{n} step " in part for part in err.split("\r"))}
    assert len(shown) >= 2, err[-2000:]  # runs trained by both workers were shown
    assert "/40 loss " in err and "models/h" in err
    summary = [line for line in err.splitlines() if line.startswith("study: ")]
    assert "models/hour" in summary[0] and summary[0].endswith("4/4 runs of the study done")


def test_training_progress_reads_the_run_log(tmp_path):
    params = write_params(tmp_path, steps=6)
    study, _ = _dirs(params)
    run = study.runs(FakeBackend().resolve_source)[0]
    d = study.run_dir(run)
    d.mkdir(parents=True)
    (d / "log.jsonl").write_text('{"global_step": 2, "loss": 3.0}\n{"global_step": 4, "loss": 2.5}\n')
    assert training_progress(run, d) is None  # not claimed: not being trained
    (d / "claim").write_text("{}")
    assert training_progress(run, d) == "step 4/6 loss 2.5"


# --------------------------------------------------------------------------- one-line errors


def _short_error(capsys, argv, max_lines=2):
    """The error of ``main(argv)``: exit 2, no traceback, ``max_lines`` lines plus the --debug hint."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" not in err and err.startswith("error: "), err
    assert len(err.strip().splitlines()) <= max_lines + 1, err
    return err


def test_user_errors_are_one_or_two_lines_naming_the_file(tmp_path, capsys):
    """Before: a missing dataset file with `data_source: auto`, an unwritable results
    folder and an unknown command gave tracebacks, or the usage text without saying
    what was wrong."""
    params = write_params(tmp_path, data_source="auto")
    params.write_text(params.read_text().replace("- dsprites", "- smallnorb") + f"\n")
    text = params.read_text().replace("  data_source: auto", f"  data_source: auto\n  data_root: {tmp_path / 'data'}")
    params.write_text(text)
    err = _short_error(capsys, ["study", "run", str(params), "--no-progress"], max_lines=8)  # one line per file
    assert str(tmp_path / "data" / "smallnorb") in err and "data download smallnorb" in err

    (tmp_path / "occupied").write_text("a file, not a folder")
    params = write_params(tmp_path, results_dir=tmp_path / "occupied" / "results")
    err = _short_error(capsys, ["study", "run", str(params), "--no-progress"])
    assert str(tmp_path / "occupied") in err

    err = _short_error(capsys, ["stduy", "run", str(params)])
    assert "unknown command 'stduy'" in err and "study" in err

    with pytest.raises(OSError):  # --debug shows the full traceback
        main(["--debug", "study", "run", str(params), "--no-progress"])
