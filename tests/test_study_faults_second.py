"""Fault injection, second sweep (issue 26): stale or mixed results in the chapters, damaged
models, Slurm that isn't there, signals and full disks mid-write, hostile params files, the
failing cell's number, file modes.

Each test injects the fault a new user met on a tiny study; its docstring says what they
met before the fix.
"""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from disentangle.__main__ import main
from disentangle.analysis import chapters
from disentangle.study import run_study, study_status
from disentangle.study.api import execute_study
from disentangle.study.grid import Study
from test_study_fakes import FakeBackend, train_calls, write_params

TESTS = Path(__file__).resolve().parent


def _dirs(params):
    study = Study.from_params(params)
    return study, {r.model_num: study.run_dir(r) for r in study.runs(FakeBackend().resolve_source)}


def _one_line_error(capsys, argv, code=2):
    assert main(argv) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("error: "), err
    assert len(err.strip().splitlines()) <= 2, err
    return err


# --------------------------------------------------------------------------- 1. no stale or mixed results


def test_a_chapter_refuses_the_table_of_another_configuration_and_lists_only_current_folders(tmp_path):
    """Before: after changing `steps`, chapter 3 showed the old study's table while `study
    status` said 0 runs were done; after steps 20 -> 30 -> 20, chapter 2's curves mixed the
    20- and 30-step logs, and the pictured model was the 30-step one."""
    params = write_params(tmp_path, steps=6)
    run_study(params, progress=False, backend=FakeBackend())
    results_dir = tmp_path / "results"
    assert len(chapters.load_chapter_results("", results_dir, params)) == 8
    six = set(chapters.run_folders(results_dir, params)["folder"])
    assert len(six) == 4

    write_params(tmp_path, steps=8)  # the user edits steps; the table is the 6-step study's
    with pytest.raises(chapters.StaleResultsError) as e:
        chapters.load_chapter_results("", results_dir, params)
    message = str(e.value)
    assert len(message.splitlines()) == 1 and str(results_dir / "results.parquet") in message
    assert f"python -m disentangle study run {params}" in message
    assert chapters.run_folders(results_dir, params).empty  # none of the 8-step runs is done
    assert len(chapters.run_folders(results_dir)) == 4  # without params: every finished folder, as before
    # a table kept elsewhere (the `results` parameter) is the user's choice: not checked
    shutil.copy(results_dir / "results.csv", tmp_path / "kept.csv")
    assert len(chapters.load_chapter_results(str(tmp_path / "kept.csv"), "", params)) == 8

    run_study(params, progress=False, backend=FakeBackend())
    eight = set(chapters.run_folders(results_dir, params)["folder"])
    assert len(eight) == 4 and not eight & six
    assert len(chapters.load_chapter_results("", results_dir, params)) == 8
    write_params(tmp_path, steps=6)  # back to 6: only the 6-step folders, never the 8-step ones
    assert set(chapters.run_folders(results_dir, params)["folder"]) == six
    status = study_status(params, backend=FakeBackend())
    assert status.counts["done"] == 4 and len(status.stale) == 4  # leftovers are listed by status


# --------------------------------------------------------------------------- 2. a damaged model is not finished


def test_a_truncated_model_of_a_finished_run_is_damaged_set_aside_and_retrained(tmp_path, capsys):
    """Before: `status` and `run` said "4/4 runs done" with a truncated model.pt (the check was
    only that it exists and is not empty); chapter 2 then failed with DamagedFileError and the
    only fix was to delete the folder by hand."""
    params = write_params(tmp_path)
    run_study(params, progress=False, backend=FakeBackend())
    _, dirs = _dirs(params)
    model = dirs[1] / "model" / "model.pt"
    whole = model.read_bytes()
    model.write_bytes(whole[:-1])  # still a number to the fake loader: only the recorded size tells

    status = study_status(params, backend=FakeBackend())
    assert status.counts["done"] == 3 and status.counts["damaged"] == 1
    assert str(model) in str(status) and "truncated" in str(status)
    capsys.readouterr()
    outcome = execute_study(params, progress=False, backend=FakeBackend())
    assert outcome.ok and len(outcome.table) == 8
    assert str(model) in capsys.readouterr().err  # the repair names the file
    assert train_calls(dirs[1]) == [0, 0]  # retrained
    assert (dirs[1] / "damaged" / "model" / "model.pt").read_bytes() == whole[:-1]  # set aside, not lost
    assert model.read_bytes() == whole
    assert [train_calls(d) for n, d in dirs.items() if n != 1] == [[0], [0], [0]]
    done = json.loads((dirs[1] / "done.json").read_text())
    assert done["model_files"]["model.pt"]["size"] == len(whole) and len(done["model_files"]["model.pt"]["sha256"]) == 64


# --------------------------------------------------------------------------- 3. Slurm that isn't there


def test_slurm_executor_without_sbatch_is_a_one_line_error_and_runs_nothing(tmp_path, capsys, monkeypatch):
    """Before: `executor.kind: slurm` on a machine without Slurm printed "submitted 2 array
    task(s): job 26482" (a local process id) and ran every array task locally, all at once."""
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no sbatch anywhere
    params = write_params(tmp_path, executor={"kind": "slurm", "workers": 2})
    err = _one_line_error(capsys, ["study", "run", str(params), "--no-progress"])
    assert "sbatch" in err and "executor.kind: processes" in err and str(params) in err
    assert not list((tmp_path / "results").glob("runs/*/train_calls.log"))  # nothing ran

    fake = tmp_path / "bin" / "sbatch"  # a cluster's sbatch is on PATH: submission is attempted
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'sbatch: error: fake' >&2\nexit 1\n")
    fake.chmod(0o755)
    from disentangle.study.executors import require_slurm

    require_slurm(Study.from_params(params))


# --------------------------------------------------------------------------- 4, 5. signals and full disks mid-write


class _DyingFile:
    """A file object whose second write raises ``error`` (a signal, or the OS's ENOSPC)."""

    def __init__(self, f, error):
        self.f, self.error, self.writes = f, error, 0

    def write(self, b):
        self.writes += 1
        if self.writes == 2:
            raise self.error
        return self.f.write(b)

    def flush(self):
        self.f.flush()


class DyingSave(FakeBackend):
    """Saves model 0 with torch's zip writer (as the trainer does) into a file that dies mid-write, once."""

    def __init__(self, error):
        super().__init__()
        self.error, self.fired = error, False

    def _train_one(self, run, out_dir):
        if run.model_num == 0 and not self.fired:
            import torch

            from disentangle.io import atomic_path

            self.fired = True
            with atomic_path(out_dir / "model" / "model.pt") as tmp, open(tmp, "wb") as f:
                torch.save({"w": torch.zeros(10_000)}, _DyingFile(f, self.error))
        return super()._train_one(run, out_dir)


def test_a_signal_during_a_model_write_stops_the_study_and_the_run_resumes(tmp_path, capsys, monkeypatch):
    """Before: torch's zip writer turned the KeyboardInterrupt (Ctrl-C, or SIGTERM as Slurm sends
    it) into `RuntimeError: ... unexpected pos`, recorded as an ordinary run failure; the process
    trained and evaluated the next runs and exited 1 a minute later instead of 130."""
    from disentangle.study import api

    params = write_params(tmp_path)
    backend = DyingSave(KeyboardInterrupt())
    monkeypatch.setattr(api, "Backend", lambda: backend)
    assert main(["study", "run", str(params), "--no-progress"]) == 130
    assert "interrupted" in capsys.readouterr().err
    _, dirs = _dirs(params)
    assert not (dirs[0] / "failed.json").exists()  # not a run failure
    assert not (dirs[0] / "model").exists() or not list((dirs[0] / "model").glob("*"))  # nothing half-written
    assert [train_calls(d) for n, d in dirs.items() if n != 0] == [[], [], []]  # no next run started
    assert not list(dirs[0].rglob("claim"))  # released
    assert execute_study(params, progress=False, backend=FakeBackend()).ok  # and it resumes


def test_a_full_disk_while_saving_a_model_is_one_line_naming_the_file(tmp_path, capsys, monkeypatch):
    """Before: `RuntimeError: [enforce fail at inline_container.cc:672] . unexpected pos ...`,
    saying neither "no space" nor which file, recorded as a failure of each run in turn."""
    from disentangle.study import api

    params = write_params(tmp_path)
    monkeypatch.setattr(api, "Backend", lambda: DyingSave(OSError(errno.ENOSPC, "No space left on device")))
    err = _one_line_error(capsys, ["study", "run", str(params), "--no-progress"])
    _, dirs = _dirs(params)
    assert f"{dirs[0] / 'model' / 'model.pt'}: no space left on device" in err and "kept" in err
    assert not (dirs[0] / "failed.json").exists()
    assert [train_calls(d) for n, d in dirs.items() if n != 0] == [[], [], []]  # the study stopped there


def test_torch_writing_to_a_path_on_a_full_disk_is_named():
    """torch.save to a path reports a full disk only as `unexpected pos`; it is named as a full disk."""
    from disentangle.io import DiskFullError, write_error

    error = write_error(RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 46 vs 0"), "/x/m.pt")
    assert isinstance(error, DiskFullError) and str(error).startswith("[Errno 28] no space left on device")
    assert error.filename == "/x/m.pt"


# --------------------------------------------------------------------------- 6. a completely full disk


def _fsync_fails_for(monkeypatch, name_part):
    """os.fsync raises a bare ENOSPC (no file name, as the kernel reports it) on files whose name contains ``name_part``."""
    real = os.fsync

    def fsync(fd):
        if name_part in os.path.basename(os.readlink(f"/proc/self/fd/{fd}")):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="maps a file descriptor to its file via /proc")
@pytest.mark.parametrize("name_part", ["claim", "record_mean.json", "failed.log", "results.parquet"])
def test_a_full_disk_is_one_line_naming_the_file(tmp_path, capsys, monkeypatch, name_part):
    """Before: `OSError: [Errno 28] No space left on device` arrived without a file name, so it was
    treated as a bug: a 37-49-line traceback, in the claim file, a record, failed.log and the parquet write."""
    from disentangle.study import api

    params = write_params(tmp_path)
    backend = FakeBackend(fail_model_nums=(0,) if name_part == "failed.log" else ())
    monkeypatch.setattr(api, "Backend", lambda: backend)
    _fsync_fails_for(monkeypatch, name_part)
    err = _one_line_error(capsys, ["study", "run", str(params), "--no-progress"])
    _, dirs = _dirs(params)
    path = tmp_path / "results" / name_part if name_part == "results.parquet" else dirs[0] / name_part
    assert err.startswith(f"error: {path}: no space left on device"), err
    assert not list((tmp_path / "results").rglob("claim"))  # no claim left behind
    assert not list((tmp_path / "results").rglob("*.tmp"))  # nor a temp file

    monkeypatch.undo()  # space freed: the study finishes
    assert execute_study(params, progress=False, backend=FakeBackend()).ok


# --------------------------------------------------------------------------- 7, 8. params files have limits


def _timed_params_error(path):
    import time

    from disentangle.params import ParamsError, load

    t0 = time.perf_counter()
    with pytest.raises(ParamsError) as e:
        load(path)
    assert time.perf_counter() - t0 < 1.0
    return str(e.value)


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    """Before: a 2 KB file of nine anchors, each a list of nine references to the previous one,
    used as `steps: *b8`, made validation build the repr of the expanded value: 2.4 GB after 55 s,
    then a MemoryError with a traceback."""
    params = write_params(tmp_path)
    bomb = ["b0: &b0 [x, x, x, x, x, x, x, x, x]"]
    bomb += [f"b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * 9)}]" for i in range(1, 9)]
    text = params.read_text().replace("  training:\n", "  training:\n    steps: *b8\n", 1)
    text = text.replace("    steps: 6\n", "")
    params.write_text("\n".join(["bombs:"] + [f"  {line}" for line in bomb]) + "\n" + text)
    assert len(params.read_bytes()) < 4096
    message = _timed_params_error(params)
    assert str(params) in message and "anchor" in message and len(message) < 600
    for command in (["params", str(params)], ["study", "status", str(params)]):
        assert main(command) == 2


def test_a_huge_params_file_is_refused_by_its_size(tmp_path, capsys):
    """Before: a 55 MB params file (7 M seeds) kept `params` and `study status` running past
    300 s at 4.4 GB."""
    params = write_params(tmp_path)
    with open(params, "a") as f:  # 55 MB of seeds, as the user wrote them
        f.write("# " + "0, " * (55 * 2**20 // 3) + "\n")
    message = _timed_params_error(params)
    assert str(params) in message and "MiB" in message and len(message.splitlines()) == 1
    err = _one_line_error(capsys, ["study", "status", str(params)])
    assert str(params) in err


def test_a_grid_beyond_ten_paper_studies_is_refused_and_values_are_shown_short(tmp_path):
    """A grid larger than the paper's 12,600 runs ten times over is an error, not hours of
    planning; a bad value is shown in about 80 characters, never as the repr of all of it."""
    import yaml

    params = write_params(tmp_path)
    raw = yaml.safe_load(params.read_text())
    raw["study"]["seeds"] = list(range(10))  # 2 methods x 7,000 values x 10 seeds = 140,000 runs
    raw["study"]["values"] = {m: list(range(1, 7_001)) for m in raw["study"]["values"]}
    raw["study"]["training"]["steps"] = "x" * 100_000
    params.write_text(yaml.safe_dump(raw))
    assert params.stat().st_size < 256 * 2**10
    message = _timed_params_error(params)
    assert "140,000 runs" in message and "126,000" in message
    [steps] = [line for line in message.splitlines() if "training.steps" in line]
    assert len(steps) < 200, steps


# --------------------------------------------------------------------------- 9. the failing cell is named right


@pytest.mark.parametrize("failing", [3, 5])
def test_the_failing_cell_is_counted_in_the_chapters_own_notebook(tmp_path, failing):
    """Before: the cell number was read from the notebook after papermill had inserted its error
    cells: a failure in cell 3 was reported with another cell's first line, one in cell 5 as a
    markdown heading."""
    import nbformat
    from papermill.exceptions import PapermillExecutionError
    from papermill.execute import raise_for_execution_errors

    from disentangle import book

    template = ["x = 1  # parameters", "a = 1", "## A heading", "b = 2", "c = 3"]
    template[failing - 1] = f"raise ValueError('boom in cell {failing}')"
    cells = [nbformat.v4.new_code_cell(template[0], metadata={"tags": ["parameters"]}),
             nbformat.v4.new_code_cell("x = 2", metadata={"tags": ["injected-parameters"]})]
    cells += [nbformat.v4.new_markdown_cell(s) if s.startswith("#") else nbformat.v4.new_code_cell(s)
              for s in template[1:]]
    executed_index = failing  # the injected cell comes right after cell 1
    cells[executed_index].outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="boom",
                                                            traceback=[])]
    nb = nbformat.v4.new_notebook(cells=cells)
    path = tmp_path / "failed.ipynb"
    with pytest.raises(PapermillExecutionError) as e:  # papermill inserts its error cells and writes the notebook
        raise_for_execution_errors(nb, str(path))
    assert e.value.cell_index == executed_index
    assert book._template_cell(path, e.value.cell_index) == (failing, f"raise ValueError('boom in cell {failing}')")


# --------------------------------------------------------------------------- also: a results_dir that is a file


def test_a_results_dir_that_is_a_file_is_one_line_in_run_and_status(tmp_path, capsys):
    """Before: `run` said "File exists" (naming nothing), while `status` reported 4 pending runs."""
    (tmp_path / "occupied").write_text("a file, not a folder")
    params = write_params(tmp_path, results_dir=tmp_path / "occupied")
    for command in ("run", "status", "aggregate"):
        err = _one_line_error(capsys, ["study", command, str(params)])
        assert f"error: {tmp_path / 'occupied'}: a file, not a folder" in err and str(params) in err


# --------------------------------------------------------------------------- also: file modes


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_study_files_are_written_with_the_users_umask(tmp_path, umask, mode):
    """Before: every study file (records, models, results.csv) was written 0600 whatever the
    umask (mkstemp's mode), so colleagues on a shared cluster could not read the results."""
    old = os.umask(umask)
    try:
        params = write_params(tmp_path)
        run_study(params, progress=False, backend=FakeBackend())
    finally:
        os.umask(old)
    _, dirs = _dirs(params)
    files = [tmp_path / "results" / "results.csv", tmp_path / "results" / "results.parquet",
             dirs[0] / "done.json", dirs[0] / "record_mean.json", dirs[0] / "model" / "model.pt",
             dirs[0] / "run_config.json"]
    assert {f.name: oct(f.stat().st_mode & 0o777) for f in files} == {f.name: oct(mode) for f in files}


def test_a_full_disk_in_a_worker_process_is_one_line_not_a_traceback(tmp_path, capfd):
    """With `executor.kind: processes`, the worker printed the full traceback of the ENOSPC and the
    study went on to fail the next runs; now it prints one line naming the file and stops (exit 2)."""
    from disentangle.study.executors import WorkersCrashed

    params = write_params(tmp_path, executor={"kind": "processes", "workers": 1, "threads_per_worker": 1})
    with pytest.raises(WorkersCrashed, match="exit code 2"):
        execute_study(params, progress=False, backend=DyingSave(OSError(errno.ENOSPC, "No space left on device")))
    err = capfd.readouterr().err
    _, dirs = _dirs(params)
    assert f"error: {dirs[0] / 'model' / 'model.pt'}: no space left on device" in err
    assert "Traceback" not in err
    assert [train_calls(d) for n, d in dirs.items() if n != 0] == [[], [], []]


def test_a_truncated_torch_model_without_a_recorded_size_is_still_found(tmp_path):
    """Runs finished before done.json recorded the model's size: a torch (zip) model.pt cut short
    has no end record, which two small reads find."""
    import torch

    from disentangle.study.runs import model_problem

    model = tmp_path / "model"
    model.mkdir()
    torch.save({"w": torch.zeros(1000)}, model / "model.pt")
    (model / "config.json").write_text("{}")
    assert model_problem(model) is None
    whole = (model / "model.pt").read_bytes()
    (model / "model.pt").write_bytes(whole[: len(whole) - 100])
    assert "truncated" in model_problem(model) and str(model / "model.pt") in model_problem(model)


def test_a_full_disk_says_how_much_space_the_write_needed(tmp_path):
    """Issue 26 item 5: the one line names the file, the space needed (at least what was written when
    the disk filled, or the size of the file being replaced) and the free space; nothing is left behind."""
    from disentangle.io import DiskFullError, atomic_path

    target = tmp_path / "model.pt"
    with pytest.raises(DiskFullError) as e:
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"\0" * (3 * 2**20))
            raise OSError(errno.ENOSPC, "No space left on device")
    assert "it needs at least 3.0 MiB" in str(e.value) and "MiB free" in str(e.value)
    assert e.value.filename == str(target) and list(tmp_path.iterdir()) == []
    target.write_bytes(b"\0" * (5 * 2**20))  # a file being rewritten needs about its own size
    with pytest.raises(DiskFullError, match=r"needs at least 5\.0 MiB"):
        with atomic_path(target):
            raise OSError(errno.ENOSPC, "No space left on device")
    assert target.stat().st_size == 5 * 2**20  # the finished file is kept


def test_a_model_overwritten_at_the_same_size_is_caught_by_its_checksum_when_read(tmp_path, capsys):
    """Issue 26 item 2: status checks sizes (cheap); the SHA-256 recorded in done.json is checked
    whenever the study reads the model again (here: a lost record makes it re-evaluate), and a model
    that differs is set aside and retrained, never evaluated."""
    params = write_params(tmp_path)
    run_study(params, progress=False, backend=FakeBackend())
    _, dirs = _dirs(params)
    model = dirs[1] / "model" / "model.pt"
    whole = model.read_bytes()
    tampered = whole.replace(b"1", b"7", 1)
    assert tampered != whole and len(tampered) == len(whole)
    model.write_bytes(tampered)
    (dirs[1] / "record_mean.json").unlink()
    capsys.readouterr()
    outcome = execute_study(params, progress=False, backend=FakeBackend())
    assert outcome.ok and "SHA-256 differs" in capsys.readouterr().err
    assert train_calls(dirs[1]) == [0, 0] and model.read_bytes() == whole
    assert (dirs[1] / "damaged" / "model" / "model.pt").read_bytes() == tampered
