"""Python API of studies (what the book and the CLI call).

``run_study(params)`` works through every pending run with the configured
executor, rebuilds the results table and returns it; ``study_status(params)``
counts done / running / failed / pending runs and estimates the time left.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pandas as pd
from tqdm import tqdm

from .backend import Backend
from .executors import run_processes, run_sequential, submit_slurm
from .controls import run_controls
from .grid import Run, Study
from .results import aggregate, load_results, table_is_current
from . import locks
from .runs import DAMAGED, DONE, FAILED, PENDING, RUNNING, STATES, read_json_or_none, run_problems, run_state

def _check_results_dir(study: Study) -> None:
    """A ``results_dir`` (or a folder above it) that is a file is an error naming it, in
    ``run``, ``status`` and ``aggregate`` alike."""
    import errno

    for path in (study.results_dir, *study.results_dir.parents):
        if path.exists():
            if not path.is_dir():
                where = f" (shared.results_dir in {study.params.path})" if getattr(study.params, "path", None) else ""
                raise NotADirectoryError(errno.ENOTDIR, f"a file, not a folder: the study's results folder cannot "
                                                        f"be made here{where}; move the file or set another "
                                                        f"results_dir", str(path))
            return


def _plan(params_or_path: Any, backend: Backend | None) -> tuple[Study, Backend, list[Run]]:
    study = Study.from_params(params_or_path)
    _check_results_dir(study)
    backend = backend or Backend()
    return study, backend, study.runs(backend.resolve_source)


def run_seconds(done: dict[str, Any]) -> dict[str, float]:
    """A finished run's wall seconds by phase, from its ``done.json``."""
    t = done["time"]
    return {"data": t["data"], "train": t["train"], "eval": sum(t["eval"].values()),
            "controls": t.get("controls", 0.0), "bookkeeping": t["bookkeeping"]}


def time_split(study: Study, runs: Sequence[Run], wall: float) -> dict[str, float]:
    """Seconds of ``wall`` spent on data, training, evaluation, the rotated twins, and the rest
    (bookkeeping: planning, claims, records, aggregation) for runs executed
    sequentially in this process."""
    totals = {"data": 0.0, "train": 0.0, "eval": 0.0, "controls": 0.0}
    for run in runs:
        done = read_json_or_none(study.run_dir(run) / "done.json")
        if done is not None:
            for k, v in run_seconds(done).items():
                if k in totals:
                    totals[k] += v
    return {**totals, "bookkeeping": max(0.0, wall - sum(totals.values()))}


@dataclass
class Unfinished:
    """A run that is not done after ``study run``: why, and where to look."""

    run: Run
    state: str
    reason: str
    log: Path

    def __str__(self) -> str:
        r = self.run
        return (f"{r.name} ({r.dataset}, {r.method}={r.value:g}, seed {r.seed}): {self.state}: {self.reason} "
                f"[{self.log}]")


def unfinished_run(study: Study, run: Run) -> Unfinished | None:
    """Why ``run`` is not done (None if it is): the one-line reason and the file that tells more."""
    d = study.run_dir(run)
    state = run_state(run, d)
    if state == DONE:
        return None
    if state == FAILED:
        failed = read_json_or_none(d / "failed.json") or {}
        log = d / "failed.log" if (d / "failed.log").exists() else d / "failed.json"
        return Unfinished(run, state, failed.get("error", "?").splitlines()[0], log)
    if state == DAMAGED:
        return Unfinished(run, state, run_problems(run, d)[0] + "; a rerun redoes it from its last sound stage",
                          d / "damaged")
    if state == RUNNING:
        return Unfinished(run, state, f"held by {locks.describe_owner(d)}", d / "log.jsonl")
    return Unfinished(run, state, "not started or interrupted; a rerun resumes it", d)


@dataclass
class StudyOutcome:
    """What one ``study run`` did: the table, the runs finished or failed in this
    invocation, and every run of the study that is not done at the end."""

    table: pd.DataFrame
    finished: dict[str, str]
    unfinished: list[Unfinished]
    wall_s: float
    submitted: int = 0

    @property
    def ok(self) -> bool:
        """True when every run of the study is done."""
        return not self.unfinished

    def closing_lines(self, limit: int = 50) -> list[str]:
        """The closing list: each run not done, its one-line reason and its log path."""
        if not self.unfinished:
            return []
        counts = {s: sum(u.state == s for u in self.unfinished) for s in STATES if s != DONE}
        head = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        lines = [f"{len(self.unfinished)} run(s) not done ({head}):"]
        lines += [f"  {u}" for u in self.unfinished[:limit]]
        if len(self.unfinished) > limit:
            lines.append(f"  ... and {len(self.unfinished) - limit} more (`python -m disentangle study status` "
                         f"lists every failed and damaged run)")
        return lines


def models_per_hour(n: int, seconds: float) -> float:
    return 3600.0 * n / seconds if seconds > 0 else 0.0


def execute_study(params_or_path: Any, *, progress: bool = True, backend: Backend | None = None,
                  slurm_executor: Any = None, wait: bool = True, poll_s: float = 2.0) -> StudyOutcome:
    """Run every pending run of a study (see :func:`run_study`) and say how it went.

    Runs held by another live process (a second ``study run``, Slurm tasks) are
    waited for when ``wait`` (a line says who holds what); runs they leave
    unfinished are then taken over. With ``wait=False`` they are listed as
    unfinished instead. Never returns a partial table silently: every run not done
    at the end is in :attr:`StudyOutcome.unfinished`.
    """
    start = time.perf_counter()
    study, backend, runs = _plan(params_or_path, backend)
    with locks.global_lock(study.results_dir):  # an unwritable results folder fails here, naming it
        pass
    done_at_start = {r.run_id for r in runs if run_state(r, study.run_dir(r)) == DONE}
    pending = [r for r in runs if r.run_id not in done_at_start]
    bar = tqdm(total=len(runs), initial=len(runs) - len(pending), disable=not progress, unit="run",
               desc=f"study {study.params.shared['scale']}", dynamic_ncols=True)
    finished: dict[str, str] = {}

    def on_finished(run: Run, state: str) -> None:
        finished[run.run_id] = state
        bar.update(1)
        if state == FAILED:
            error = (read_json_or_none(study.run_dir(run) / "failed.json") or {}).get("error", "?")
            bar.write(f"run {run.name} ({run.dataset}, {run.method}={run.value:g}, seed {run.seed}) failed: {error}",
                      file=sys.stderr)

    kind = study.executor["kind"]
    submitted = 0
    if pending and kind != "slurm":  # the grid before the stack: no training worker stalls on it
        for run in {r.dataset: r for r in pending}.values():
            seconds = backend.prepare_dataset(run.dataset, run.dataset_source, study.data_root,
                                              max(1, study.executor["workers"] * study.executor["threads_per_worker"]))
            if seconds and progress:
                bar.write(f"prepared {run.dataset} ({run.dataset_source}) once for every worker in {seconds:.0f} s",
                          file=sys.stderr)
    monitor = TrainingMonitor(study, pending, bar, finished, start) if progress else None
    try:
        if monitor is not None:
            monitor.start()
        if kind == "slurm":
            jobs = submit_slurm(study, pending, backend, slurm_executor)
            submitted = len(jobs)
            bar.write(f"submitted {len(jobs)} array task(s): job {jobs[0].job_id.split('_')[0] if jobs else '-'}",
                      file=sys.stderr)
            if wait:
                for job in jobs:
                    for key, state in job.result().items():
                        finished[key] = state
        else:
            _work_and_wait(study, pending, backend, on_finished, wait, poll_s, bar)
    finally:
        if monitor is not None:
            monitor.stop()
        bar.close()
    scored = 0
    if kind != "slurm" or wait:  # finished runs are never redone: only the pending ones are looked at again
        done = [r for r in runs if r.run_id in done_at_start or run_state(r, study.run_dir(r)) == DONE]
        scored = run_controls(study, done, backend, progress=progress)
    # a run with nothing to do leaves a table that already holds exactly these runs as they are
    df = load_results(study.results_dir) if not pending and not scored and table_is_current(study, runs) \
        else aggregate(study, runs)
    wall = time.perf_counter() - start
    # runs done at the start stay done (finished runs are never redone): only the others are looked at again
    unfinished = [u for r in pending if (u := unfinished_run(study, r)) is not None]
    if kind == "slurm" and not wait:
        unfinished = [u for u in unfinished if u.state not in (PENDING, RUNNING)] if submitted else unfinished
    outcome = StudyOutcome(table=df, finished=finished, unfinished=unfinished, wall_s=wall, submitted=submitted)
    n_done = sum(s == DONE for s in finished.values())
    n_failed = sum(s == FAILED for s in finished.values())
    line = f"study: {n_done} run(s) done, {n_failed} failed in {wall:.1f} s"
    if kind == "sequential" and n_done:
        split = time_split(study, [r for r in pending if finished.get(r.run_id) == DONE], wall)
        line += " (" + ", ".join(f"{k} {100 * v / wall:.1f}%" for k, v in split.items()) + ")"
    if n_done:
        line += f"; {models_per_hour(n_done, wall):.1f} models/hour"
    line += f"; {len(runs) - len(unfinished)}/{len(runs)} runs of the study done"
    print(line, file=sys.stderr)
    return outcome


def _work_and_wait(study: Study, pending: Sequence[Run], backend: Backend, on_finished, wait: bool,
                   poll_s: float, bar: Any) -> None:
    """Execute the claimable pending runs; then wait for runs held by other live
    processes and take over those they leave unfinished. Each run is attempted at
    most once by this process; a run another process failed is not retried here."""
    attempted: set[str] = set()
    offered: dict[str, int] = {}
    seen_held: set[str] = set()
    announced: frozenset = frozenset()
    kind = study.executor["kind"]
    while True:
        states = {r.run_id: run_state(r, study.run_dir(r)) for r in pending if r.run_id not in attempted}
        todo = [r for r in pending if r.run_id in states and states[r.run_id] != DONE
                and not (r.run_id in seen_held and states[r.run_id] == FAILED)]
        free = [r for r in todo if states[r.run_id] != RUNNING]
        held = [r for r in todo if states[r.run_id] == RUNNING]
        if free:
            run = run_sequential if kind == "sequential" else run_processes
            outcome = run(study, free, backend, on_finished)
            for r in free:  # a run lost to another process's claim is looked at again, twice at most
                offered[r.run_id] = offered.get(r.run_id, 0) + 1
                if r.run_id in outcome or offered[r.run_id] > 2:
                    attempted.add(r.run_id)
            continue
        if not held or not wait:
            return
        seen_held |= {r.run_id for r in held}
        key = frozenset(r.run_id for r in held)
        if key != announced:
            announced = key
            owners: dict[str, list[str]] = {}
            for r in held:
                owners.setdefault(locks.describe_owner(study.run_dir(r)), []).append(r.name)
            held_by = "; ".join(f"{owner}: {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}"
                                for owner, names in owners.items())
            bar.write(f"waiting for {len(held)} run(s) held by other live process(es) ({held_by}); "
                      f"Ctrl-C stops waiting", file=sys.stderr)
        time.sleep(poll_s)


def run_study(params_or_path: Any, *, progress: bool = True, backend: Backend | None = None,
              slurm_executor: Any = None, wait: bool = True) -> pd.DataFrame:
    """Run every pending run of a study and return the aggregated results table.

    Finished runs are skipped, interrupted ones resumed, failed ones retried
    (each failure is recorded in its ``failed.json`` / ``failed.log`` and does not
    stop the others), damaged ones redone from their last sound stage; runs held
    by another live process are waited for. Bad params raise
    :class:`~disentangle.params.ParamsError` before any work. With the ``slurm``
    executor, ``wait=False`` returns right after submitting (the table then holds
    what is finished so far). Every run left not done is listed on stderr; use
    :func:`execute_study` to get that list (``python -m disentangle study run``
    exits non-zero on it).
    """
    outcome = execute_study(params_or_path, progress=progress, backend=backend, slurm_executor=slurm_executor,
                            wait=wait)
    for line in outcome.closing_lines():
        print(line, file=sys.stderr)
    return outcome.table


#: seconds between two updates of the per-run training progress
PROGRESS_EVERY_S = 2.0


class TrainingMonitor:
    """Per-run training progress on the study's bar, read from the run folders (so it
    works for any number of worker processes): step, loss of each run being trained,
    and models per hour finished by this invocation."""

    def __init__(self, study: Study, runs: Sequence[Run], bar: Any, finished: dict[str, str], start: float,
                 every_s: float | None = None):
        self.study, self.runs, self.bar, self.finished, self.t0 = study, list(runs), bar, finished, start
        self.every_s = PROGRESS_EVERY_S if every_s is None else every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="study-progress")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.bar.set_postfix_str(self.line(), refresh=True)
            except Exception:  # noqa: BLE001 - progress display never stops a study
                pass

    def line(self) -> str:
        parts = [f"{r.run_id} {p}" for r in self.runs if r.run_id not in self.finished
                 and (p := training_progress(r, self.study.run_dir(r))) is not None]
        done = sum(s == DONE for s in self.finished.values())
        rate = models_per_hour(done, time.perf_counter() - self.t0)
        shown = "; ".join(parts[:4]) + (f" (+{len(parts) - 4})" if len(parts) > 4 else "")
        return f"{shown} | {rate:.1f} models/h" if shown else f"{rate:.1f} models/h"


def training_progress(run: Run, run_dir: Path) -> str | None:
    """``step S/T loss L`` of a run being trained (claimed, with a training log), else None."""
    if not (run_dir / locks.CLAIM).exists():
        return None
    try:
        text = (run_dir / "log.jsonl").read_text()
        last = json.loads(text.rstrip("\n").rsplit("\n", 1)[-1])
    except (OSError, ValueError, IndexError):
        return None
    loss = last.get("loss")
    loss_text = f" loss {loss:.4g}" if isinstance(loss, (int, float)) else ""
    return f"step {last.get('global_step', '?')}/{run.training['steps']}{loss_text}"


def aggregate_study(params_or_path: Any, *, backend: Backend | None = None) -> pd.DataFrame:
    """Rebuild ``results.parquet`` / ``results.csv`` from the run folders."""
    study, _, runs = _plan(params_or_path, backend)
    return aggregate(study, runs)


@dataclass
class StudyStatus:
    """Counts of runs per state, failures (with their log), damaged runs (with the
    damaged files), stale folders and an ETA."""

    counts: dict[str, int]
    total: int
    failures: list[tuple[str, str]] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    damaged: list[tuple[str, list[str]]] = field(default_factory=list)
    mean_run_s: float | None = None
    eta_s: float | None = None

    def __str__(self) -> str:
        parts = ", ".join(f"{self.counts[s]} {s}" for s in STATES)
        lines = [f"{self.total} runs: {parts}"]
        if self.mean_run_s is not None:
            eta = "done" if self.eta_s == 0 else _duration(self.eta_s)
            lines.append(f"mean run time {_duration(self.mean_run_s)}; ETA {eta}")
        else:
            lines.append("ETA unknown (no finished run yet)")
        lines += [f"failed {name}: {error}" for name, error in self.failures]
        if self.damaged:
            lines.append(f"{len(self.damaged)} damaged run(s) (redone from their last sound stage by `study run`):")
            lines += [f"  damaged {name}: {problem}" for name, problems in self.damaged for problem in problems]
        if self.stale:
            lines.append(f"{len(self.stale)} folder(s) of other configs (ignored): {', '.join(self.stale[:5])}"
                         + (" ..." if len(self.stale) > 5 else ""))
        return "\n".join(lines)


def _duration(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def study_status(params_or_path: Any, *, backend: Backend | None = None) -> StudyStatus:
    """Where a study stands; ETA = mean run time × runs left / parallel workers."""
    study, _, runs = _plan(params_or_path, backend)
    counts = dict.fromkeys(STATES, 0)
    failures, seconds, damaged = [], [], []
    for run in runs:
        d = study.run_dir(run)
        state = run_state(run, d)
        counts[state] += 1
        if state == DONE:
            seconds.append(sum(run_seconds(read_json_or_none(d / "done.json")).values()))
        elif state == FAILED:
            u = unfinished_run(study, run)
            failures.append((run.name, f"{u.reason} [{u.log}]"))
        elif state == DAMAGED:
            damaged.append((run.name, run_problems(run, d)))
    names = {r.name for r in runs}
    stale = sorted(p.name for p in study.runs_dir.glob("*") if p.is_dir() and p.name not in names) \
        if study.runs_dir.is_dir() else []
    ex = study.executor
    parallel = {"sequential": 1, "processes": ex["workers"],
                "slurm": ex["slurm"]["array_parallelism"]}[ex["kind"]]
    mean = sum(seconds) / len(seconds) if seconds else None
    left = counts[PENDING] + counts[FAILED] + counts[RUNNING] + counts[DAMAGED]
    eta = None if mean is None else mean * left / min(parallel, max(left, 1))
    return StudyStatus(counts=counts, total=len(runs), failures=failures, stale=stale, mean_run_s=mean, eta_s=eta,
                       damaged=damaged)
