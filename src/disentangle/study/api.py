"""Python API of studies (what the book and the CLI call).

``run_study(params)`` works through every pending run with the configured
executor, rebuilds the results table and returns it; ``study_status(params)``
counts done / running / failed / pending runs and estimates the time left.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import pandas as pd
from tqdm import tqdm

from .backend import Backend
from .executors import run_processes, run_sequential, submit_slurm
from .grid import Run, Study
from .results import aggregate
from .runs import DONE, FAILED, PENDING, RUNNING, STATES, read_json, run_state

def _plan(params_or_path: Any, backend: Backend | None) -> tuple[Study, Backend, list[Run]]:
    study = Study.from_params(params_or_path)
    backend = backend or Backend()
    return study, backend, study.runs(backend.resolve_source)


def run_seconds(done: dict[str, Any]) -> dict[str, float]:
    """A finished run's wall seconds by phase, from its ``done.json``."""
    t = done["time"]
    return {"data": t["data"], "train": t["train"], "eval": sum(t["eval"].values()), "bookkeeping": t["bookkeeping"]}


def time_split(study: Study, runs: Sequence[Run], wall: float) -> dict[str, float]:
    """Seconds of ``wall`` spent on data, training, evaluation, and the rest
    (bookkeeping: planning, claims, records, aggregation) for runs executed
    sequentially in this process."""
    totals = {"data": 0.0, "train": 0.0, "eval": 0.0}
    for run in runs:
        done = read_json(study.run_dir(run) / "done.json")
        if done is not None:
            for k, v in run_seconds(done).items():
                if k in totals:
                    totals[k] += v
    return {**totals, "bookkeeping": max(0.0, wall - sum(totals.values()))}


def run_study(params_or_path: Any, *, progress: bool = True, backend: Backend | None = None,
              slurm_executor: Any = None, wait: bool = True) -> pd.DataFrame:
    """Run every pending run of a study and return the aggregated results table.

    Finished runs are skipped, interrupted ones resumed, failed ones retried
    (each failure is recorded in its ``failed.json`` and does not stop the
    others). Bad params raise :class:`~disentangle.params.ParamsError` before
    any work. With the ``slurm`` executor, ``wait=False`` returns right after
    submitting (the table then holds what is finished so far).
    """
    start = time.perf_counter()
    study, backend, runs = _plan(params_or_path, backend)
    pending = [r for r in runs if run_state(r, study.run_dir(r)) != DONE]
    bar = tqdm(total=len(runs), initial=len(runs) - len(pending), disable=not progress, unit="run",
               desc=f"study {study.params.shared['scale']}", dynamic_ncols=True)
    finished: dict[int, str] = {}

    def on_finished(run: Run, state: str) -> None:
        finished[run.model_num] = state
        bar.update(1)
        if state == FAILED:
            error = (read_json(study.run_dir(run) / "failed.json") or {}).get("error", "?")
            bar.write(f"run {run.name} ({run.dataset}, {run.method}={run.value:g}, seed {run.seed}) failed: {error}")

    kind = study.executor["kind"]
    try:
        if kind == "sequential":
            run_sequential(study, pending, backend, on_finished)
        elif kind == "processes":
            run_processes(study, pending, backend, on_finished)
        else:
            jobs = submit_slurm(study, pending, backend, slurm_executor)
            bar.write(f"submitted {len(jobs)} array task(s): job {jobs[0].job_id.split('_')[0] if jobs else '-'}")
            if wait:
                for job in jobs:
                    for model_num, state in job.result().items():
                        finished[model_num] = state
    finally:
        bar.close()
    df = aggregate(study, runs)
    wall = time.perf_counter() - start
    n_done = sum(s == DONE for s in finished.values())
    n_failed = sum(s == FAILED for s in finished.values())
    line = f"study: {n_done} run(s) done, {n_failed} failed in {wall:.1f} s"
    if kind == "sequential" and n_done:
        split = time_split(study, [r for r in pending if finished.get(r.model_num) == DONE], wall)
        line += " (" + ", ".join(f"{k} {100 * v / wall:.1f}%" for k, v in split.items()) + ")"
    print(line, file=sys.stderr)
    return df


def aggregate_study(params_or_path: Any, *, backend: Backend | None = None) -> pd.DataFrame:
    """Rebuild ``results.parquet`` / ``results.csv`` from the run folders."""
    study, _, runs = _plan(params_or_path, backend)
    return aggregate(study, runs)


@dataclass
class StudyStatus:
    """Counts of runs per state, failures, stale folders and an ETA."""

    counts: dict[str, int]
    total: int
    failures: list[tuple[str, str]] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
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
    failures, seconds = [], []
    for run in runs:
        d = study.run_dir(run)
        state = run_state(run, d)
        counts[state] += 1
        if state == DONE:
            seconds.append(sum(run_seconds(read_json(d / "done.json")).values()))
        elif state == FAILED:
            failures.append((run.name, (read_json(d / "failed.json") or {}).get("error", "?")))
    names = {r.name for r in runs}
    stale = sorted(p.name for p in study.runs_dir.glob("*") if p.is_dir() and p.name not in names) \
        if study.runs_dir.is_dir() else []
    ex = study.executor
    parallel = {"sequential": 1, "processes": ex["workers"],
                "slurm": ex["slurm"]["array_parallelism"]}[ex["kind"]]
    mean = sum(seconds) / len(seconds) if seconds else None
    left = counts[PENDING] + counts[FAILED] + counts[RUNNING]
    eta = None if mean is None else mean * left / min(parallel, max(left, 1))
    return StudyStatus(counts=counts, total=len(runs), failures=failures, stale=stale, mean_run_s=mean, eta_s=eta)
