"""``python -m disentangle study run|status|aggregate PARAMS`` (see ``study/api.py``).

``study run`` exits 0 only when every run of the study is done; otherwise it
ends with the list of runs not done (one-line reason, log path) and exits 1.
Ctrl-C (or SIGTERM, as Slurm sends) stops the workers, releases their claims
and says how to resume (exit 130).
"""

from __future__ import annotations

import argparse
import signal
import sys

from ..params import ParamsError


def cli_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m disentangle study", description="run or inspect a study")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run every pending run (resumes; skips finished runs); exit 1 if any is "
                                     "not done at the end")
    run.add_argument("params", help="params file, e.g. params/ci.yaml")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--no-wait", action="store_true",
                     help="do not wait for runs held by other processes; slurm executor: return after submitting")
    status = sub.add_parser("status", help="done/running/failed/pending/damaged counts and an ETA")
    status.add_argument("params")
    agg = sub.add_parser("aggregate", help="rebuild results.parquet / results.csv from the run folders")
    agg.add_argument("params")
    a = ap.parse_args(argv)

    from .api import aggregate_study, execute_study, study_status
    from .grid import Study
    from .results import RESULTS_PARQUET

    try:
        study = Study.from_params(a.params)
    except ParamsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if a.command == "status":
        print(study_status(study))
        return 0
    if a.command == "aggregate":
        df = aggregate_study(study)
        print(f"{len(df)} rows -> {study.results_dir / RESULTS_PARQUET}")
        return 0
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # scancel: stop as on Ctrl-C
    try:
        outcome = execute_study(study, progress=not a.no_progress, wait=not a.no_wait)
    except KeyboardInterrupt:
        print(f"\ninterrupted: claims released; finished runs are kept. Resume with:\n"
              f"  python -m disentangle study run {a.params}", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(f"{len(outcome.table)} rows -> {study.results_dir / RESULTS_PARQUET}")
    for line in outcome.closing_lines():
        print(line, file=sys.stderr)
    if not outcome.ok:
        print(f"study not finished: fix what the lines above name, then rerun "
              f"`python -m disentangle study run {a.params}` (finished runs are kept)", file=sys.stderr)
        return 1
    return 0
