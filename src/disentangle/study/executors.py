"""Executors: who works through the pending runs (``study.executor.kind``).

* ``sequential``: this process, one group after another (default).
* ``processes``: ``workers`` local processes (spawned), each limited to
  ``threads_per_worker`` threads (``torch.set_num_threads`` + OMP/MKL env).
* ``slurm``: a submitit job array; each task works through ``runs_per_task``
  runs with ``cpus_per_task`` threads.

All executors share one protocol (:func:`work`): a worker claims a run
(``locks.py``) before touching it and re-checks that it is not done, so any
number of workers — local processes, Slurm tasks, a rerun — can share one
results folder without two of them taking the same run. Runs of the same
(dataset, method) are grouped into units of ``training.models_per_batch`` for
batched multi-model training.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from itertools import groupby
from pathlib import Path
from typing import Any, Callable, Sequence

from ..io import DiskFullError
from . import locks
from .backend import Backend
from ..devices import pin_malloc_thresholds
from .grid import Run, Study
from .runs import DONE, FAILED, Worker, run_state

OnFinished = Callable[[Run, str], None]


def work_units(runs: Sequence[Run], size: int) -> list[list[Run]]:
    """Runs grouped by (dataset, method) in ``run_id`` order (the paper's runs in model_num order first),
    in chunks of ``size``."""
    units: list[list[Run]] = []
    ordered = sorted(runs, key=lambda r: r.run_id)
    for _, group in groupby(ordered, key=lambda r: r.group):
        group = list(group)
        units += [group[i:i + size] for i in range(0, len(group), size)]
    return units


def work(study: Study, units: Sequence[Sequence[Run]], backend: Backend | None = None,
         on_finished: OnFinished | None = None) -> dict[str, str]:
    """Claim and execute what is still pending in each unit; returns run_id → state."""
    worker = Worker(study, backend)
    outcome: dict[str, str] = {}
    for unit in units:
        mine = []
        for run in unit:
            d = study.run_dir(run)
            if run_state(run, d) == DONE or not locks.try_claim(d, study.results_dir):
                continue
            if run_state(run, d) == DONE:  # finished by another worker between the check and the claim
                locks.release(d)
                continue
            mine.append(run)
        if not mine:
            continue
        dirs = [study.run_dir(r) for r in mine]
        try:
            with locks.Heartbeat(dirs):
                outcome.update(worker.execute(mine, on_finished))
        finally:
            for d in dirs:
                locks.release(d)
    return outcome


def set_thread_budget(threads: int) -> None:
    """Limit this process to ``threads`` threads (torch intra-op, OpenMP, MKL, BLAS)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch

    torch.set_num_threads(threads)


# --------------------------------------------------------------------------- sequential


def run_sequential(study: Study, runs: Sequence[Run], backend: Backend | None = None,
                   on_finished: OnFinished | None = None) -> dict[str, str]:
    return work(study, work_units(runs, study.training["models_per_batch"]), backend, on_finished)


# --------------------------------------------------------------------------- local processes


class WorkersCrashed(RuntimeError):
    """A worker process died (killed, out of memory); its runs resume on a rerun."""


def _stop_with_parent(parent_pid: int, poll_s: float = 1.0, grace_s: float = 60.0) -> None:
    """Watch the parent process; once it is gone, interrupt this worker's main thread
    (claims are released on the way out) and end the process if that takes too long."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        # a real SIGINT (not _thread.interrupt_main) also wakes a main thread blocked in a sleep or a
        # system call; the worker's handler turns it into KeyboardInterrupt
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(grace_s)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _first_interrupt_only(signum: int, frame: Any) -> None:
    """A worker's SIGINT handler: the first one stops it (KeyboardInterrupt); the next ones, such
    as the parent forwarding the Ctrl-C the whole process group already got, are ignored, so
    they cannot cut short the release of the worker's claims."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def _process_main(study: Study, units: list[list[Run]], backend: Backend | None, threads: int,
                  parent_pid: int | None = None) -> None:
    """A worker process: work through the units; stop quietly (claims released, exit 130) on
    Ctrl-C, on SIGTERM, or when the parent process dies; on a full disk, one line naming the
    file (exit 2) instead of a traceback."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, _first_interrupt_only)
    try:
        if parent_pid is not None:
            _stop_with_parent(parent_pid)
        set_thread_budget(threads)
        pin_malloc_thresholds()  # no page-fault churn in a training worker
        work(study, units, backend)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except DiskFullError as e:
        print(f"error: {e.filename}: {e.strerror}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:  # a second Ctrl-C (the parent forwards one) must not break the exit
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _failed_since(run_dir: Path, since: float) -> bool:
    """A failure recorded by this invocation (not one left by an earlier attempt)."""
    try:
        return (run_dir / "failed.json").stat().st_mtime >= since
    except FileNotFoundError:
        return False


def run_processes(study: Study, runs: Sequence[Run], backend: Backend | None = None,
                  on_finished: OnFinished | None = None, poll_s: float = 0.5) -> dict[str, str]:
    """``executor.workers`` spawned processes share the units through claims;
    this process polls the run folders to report progress."""
    ex = study.executor
    units = work_units(runs, study.training["models_per_batch"])
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_process_main, args=(study, units, backend, ex["threads_per_worker"], os.getpid()),
                         name=f"study-worker-{i}") for i in range(ex["workers"])]
    started = time.time()
    for p in procs:
        p.start()
    reported: dict[str, str] = {}
    try:
        while True:
            alive = any(p.is_alive() for p in procs)
            for run in runs:
                if run.run_id not in reported:
                    state = run_state(run, study.run_dir(run))
                    if state == DONE or (state == FAILED and _failed_since(study.run_dir(run), started)):
                        reported[run.run_id] = state
                        if on_finished is not None:
                            on_finished(run, state)
            if not alive:
                break
            time.sleep(poll_s)
    except BaseException:  # Ctrl-C, SIGTERM: the workers stop too, releasing their claims
        _interrupt(procs)
        raise
    finally:
        for p in procs:
            p.join()
    crashed = [f"{p.name} (exit code {p.exitcode}{', interrupted' if p.exitcode == 130 else ''})"
               for p in procs if p.exitcode != 0]
    if crashed:
        raise WorkersCrashed(f"worker process(es) {', '.join(crashed)} ended abnormally (its error, if any, is "
                             f"above); their runs resume on a rerun")
    return reported


def _interrupt(procs: Sequence[Any], grace_s: float = 30.0) -> None:
    """SIGINT to the live workers, then SIGTERM to any still alive after ``grace_s``."""
    for p in procs:
        if p.is_alive() and p.pid is not None:
            try:
                os.kill(p.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
    deadline = time.time() + grace_s
    for p in procs:
        p.join(max(0.0, deadline - time.time()))
        if p.is_alive():
            p.terminate()


# --------------------------------------------------------------------------- Slurm (submitit)


def slurm_parameters(study: Study) -> dict[str, Any]:
    """``executor.slurm`` as submitit ``AutoExecutor.update_parameters`` arguments."""
    s = study.executor["slurm"]
    out: dict[str, Any] = {"timeout_min": s["time_min"], "gpus_per_node": s["gpus_per_task"],
                           "cpus_per_task": s["cpus_per_task"], "mem_gb": s["mem_gb"], "tasks_per_node": 1,
                           "slurm_array_parallelism": s["array_parallelism"], "name": "disentangle-study"}
    if s["partition"]:
        out["slurm_partition"] = s["partition"]
    return out


def slurm_task(study: Study, runs: list[Run], backend: Backend | None = None) -> dict[str, str]:
    """One array task: its runs, batched per (dataset, method), under claims."""
    set_thread_budget(study.executor["slurm"]["cpus_per_task"])
    return work(study, work_units(runs, study.training["models_per_batch"]), backend)


def task_chunks(study: Study, runs: Sequence[Run]) -> list[list[Run]]:
    """Runs of one (dataset, method) per task, ``runs_per_task`` at most."""
    return work_units(runs, study.executor["slurm"]["runs_per_task"])


class SlurmUnavailable(RuntimeError):
    """``executor.kind: slurm`` on a machine without Slurm (no ``sbatch``)."""


def require_slurm(study: Study) -> None:
    """Raise :class:`SlurmUnavailable` (one line: what is missing, how to run locally) unless
    ``sbatch`` is on PATH; submitit would otherwise run every array task locally, all at once."""
    import shutil

    if shutil.which("sbatch") is None:
        where = f" in {study.params.path}" if getattr(study.params, "path", None) else ""
        raise SlurmUnavailable(
            f"executor.kind is slurm but this machine has no Slurm (`sbatch` is not on PATH): submit from a "
            f"Slurm login node, or set study.executor.kind: processes{where} to run locally "
            f"({study.executor['workers']} worker(s))")


def submit_slurm(study: Study, runs: Sequence[Run], backend: Backend | None = None, executor: Any = None) -> list:
    """Submit the pending runs as one job array; returns the submitit jobs.

    ``executor``: any submitit executor (tests use ``LocalExecutor`` or
    ``DebugExecutor``); default an ``AutoExecutor`` logging to
    ``<results>/slurm/`` configured by :func:`slurm_parameters`.
    """
    if executor is None and runs:
        require_slurm(study)
    import submitit

    if executor is None:  # cluster="slurm": never submitit's silent fallback to local processes
        executor = submitit.AutoExecutor(folder=Path(study.results_dir) / "slurm" / "%j", cluster="slurm")
        executor.update_parameters(**slurm_parameters(study))
    chunks = task_chunks(study, runs)
    if not chunks:
        return []
    return executor.map_array(slurm_task, [study] * len(chunks), chunks, [backend] * len(chunks))
