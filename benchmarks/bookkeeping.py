"""Bookkeeping at the paper's scale (issue 26): how long `study status`, `study aggregate`, a
`study run` with nothing to do and chapter 2's training curves take on a study of finished runs.

Builds a fake study of ``--seeds`` seeds over the paper's grid (50 seeds: its 12,600 runs), every
run finished as the worker leaves it (run_config, train_config, a ``--log-lines`` training log, a
small model, train results, one record per representation, done.json with the model's size and
SHA-256, its rotated twin's controls.json; and the untrained encoders' controls), without training anything, then times each operation once. The fake folder is kept
(``--out``) so a second call times a warm page cache; ``--rebuild`` writes it again.

    python benchmarks/bookkeeping.py --seeds 50 --out /tmp/bookkeeping    # 12,600 runs
    python benchmarks/bookkeeping.py --seeds 5 --log-lines 300             # 1,260 runs, paper-length logs

Prints one line per operation (seconds, and per 1,000 runs) and appends them to
``benchmarks/results/bookkeeping.csv``; the issue asks for <= 5 s each (training curves <= 20 s)
at 12,600 runs.

Measured 2026-12-08 on the 2-core AMD EPYC of the README, 12,600 runs with the paper's 300 log lines
and every run's controls, one core busy with a training study (these operations use one), one shot
each, after this change (a run whose folder is unchanged since done.json is done from that one read; a
no-op `study run` keeps a table that already holds its runs; chapter 2 reads the curves it draws,
`chapters.curve_runs`): status 2.3 s, aggregate 3.9 s, nothing-to-do run 3.4 s, training curves 2.7 s.
Before it, same folder and hour: 6.1 s, 9.7 s, 7.7 s and 3.8 s (the curves already capped), and 115.7 s
for the curves read in full with the machine fully loaded.
"""

from __future__ import annotations

import argparse
import json
import socket
import time
from pathlib import Path

import yaml

from disentangle import vocabulary
from disentangle.io import append_csv_rows
from disentangle.study import Backend
from disentangle.study.grid import Study
from disentangle.study.controls import CONTROLS_FILE, _untrained_path, twin_hash, untrained_controls
from disentangle.study.runs import file_sizes, model_files

RESULTS = Path(__file__).resolve().parent / "results" / "bookkeeping.csv"


class _NoData(Backend):
    """Resolves dataset sources without loading anything (every run is already finished)."""

    def resolve_source(self, name, source, root):
        return source


def write_params(out: Path, seeds: int) -> Path:
    raw = {"shared": {"scale": "paper", "results_dir": str(out / "results"), "data_source": "file",
                      "device": "cpu"},
           "study": {"datasets": list(vocabulary.paper_datasets()), "methods": list(vocabulary.paper_methods()),
                     "seeds": list(range(seeds)),
                     "training": {"steps": 300_000, "log_every": 1000, "checkpoint_every": 10_000,
                                  "precision": "fp32"},
                     "evaluation": {"settings": "paper"}, "executor": {"kind": "sequential"}}}
    path = out / "bookkeeping.yaml"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw))
    return path


def write_study(params: Path, log_lines: int) -> int:
    """One finished fake run folder per run of the grid; returns the number of runs."""
    study = Study.from_params(params)
    runs = study.runs(_NoData().resolve_source)
    versions = {"version.disentangle": "bench", "version.torch": "x", "version.numpy": "x", "version.sklearn": "x",
                "version.python": "x"}
    for run in runs:
        d = study.run_dir(run)
        (d / "model").mkdir(parents=True, exist_ok=True)
        (d / "run_config.json").write_text(json.dumps(run.config(), default=str))
        (d / "train_config.json").write_text(json.dumps(run.training))
        steps = run.training["steps"]
        (d / "log.jsonl").write_text("".join(
            json.dumps({"iteration": i, "global_step": i, "elapsed_time": 0.1 * i, "loss": 100.0 / i,
                        "reconstruction_loss": 90.0 / i, "kl_loss": 5.0, "regularizer": 5.0, "elbo": -100.0 / i}) + "\n"
            for i in range(steps // log_lines, steps + 1, max(1, steps // log_lines))))
        (d / "model" / "model.pt").write_bytes(b"PK" + bytes(4096))  # not a real archive; only sizes are checked
        (d / "model" / "config.json").write_text(json.dumps({"method": run.method}))
        train = {"loss": 1.0, "reconstruction_loss": 0.9, "kl_loss": 0.1, "regularizer": 0.1, "elbo": -1.0,
                 "global_step": steps, "elapsed_time": 1.0}
        (d / "train_results.json").write_text(json.dumps(train))
        for rep in run.evaluation["representations"]:
            metrics = {f"{m}.score": 0.5 for m in run.evaluation["metrics"]}
            (d / f"record_{rep}.json").write_text(json.dumps(
                {"representation": rep, "eval_hash": run.eval_hash, "eval_seeds": {}, "settings": "paper",
                 "classifiers": "paper", "metrics": metrics, "eval_time": 1.0}))
        (d / "done.json").write_text(json.dumps(
            {"config_hash": run.config_hash, "model_num": run.model_num, "run_id": run.run_id, "train": train,
             "device": "cpu", "dataset": None, "versions": versions, "finished_at": 0.0,
             "time": {"data": 0.0, "train": 1.0, "eval": {rep: 1.0 for rep in run.evaluation["representations"]},
                      "bookkeeping": 0.0},
             "model_files": model_files(d / "model"), "file_sizes": file_sizes(run, d)}))
        scores = {f"{m}.score": 0.5 for m in run.evaluation["metrics"]}
        (d / CONTROLS_FILE).write_text(json.dumps(
            {"controls_hash": twin_hash(run), "run_id": run.run_id, "standardised": scores, "rotated": scores,
             "eval_time": 1.0}))
    for control in untrained_controls(study, runs):  # the study's untrained encoders, already scored
        path = _untrained_path(study, control)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"controls_hash": control.controls_hash, "run_id": control.run_id,
                                    "dataset": control.dataset, "seed": control.seed,
                                    "untrained": {"mig.score": 0.0}, "eval_time": 1.0}))
    return len(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=50, help="seeds per configuration (50: the paper's 12,600 runs)")
    ap.add_argument("--log-lines", type=int, default=4, help="training-log lines per run (the paper's: 300)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/disentangle_bookkeeping"))
    ap.add_argument("--rebuild", action="store_true", help="write the fake study again")
    a = ap.parse_args()

    from disentangle.analysis import chapters
    from disentangle.study import aggregate_study, study_status
    from disentangle.study.api import execute_study

    params = write_params(a.out, a.seeds)
    marker = a.out / f"built-{a.seeds}-{a.log_lines}"
    if a.rebuild or not marker.exists():
        t0 = time.perf_counter()
        n = write_study(params, a.log_lines)
        marker.write_text(str(n))
        print(f"built {n} finished fake runs in {time.perf_counter() - t0:.1f} s under {a.out}")
    n = int(marker.read_text())
    backend = _NoData()
    results_dir = Study.from_params(params).results_dir
    operations = {
        "study status": lambda: study_status(params, backend=backend),
        "study aggregate": lambda: aggregate_study(params, backend=backend),
        "study run (nothing to do)": lambda: execute_study(params, progress=False, backend=backend, wait=False),
        "chapter 2 training curves": lambda: chapters.training_logs(
            chapters.curve_runs(chapters.run_folders(results_dir, params))),
    }
    rows = []
    for name, op in operations.items():
        t0 = time.perf_counter()
        op()
        s = time.perf_counter() - t0
        print(f"{name:28s} {s:7.2f} s  ({1000 * s / n:.2f} s per 1,000 runs; {n} runs, {a.log_lines} log lines)")
        rows.append({"operation": name, "runs": n, "log_lines": a.log_lines, "seconds": round(s, 3),
                     "host": socket.gethostname(), "date": time.strftime("%Y-%m-%d")})
    append_csv_rows(RESULTS, rows, list(rows[0]))


if __name__ == "__main__":
    main()
