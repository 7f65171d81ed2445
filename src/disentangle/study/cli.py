"""``python -m disentangle study run|status|aggregate PARAMS`` (see ``study/api.py``)."""

from __future__ import annotations

import argparse
import sys

from ..params import ParamsError


def cli_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m disentangle study", description="run or inspect a study")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run every pending run (resumes; skips finished runs)")
    run.add_argument("params", help="params file, e.g. params/ci.yaml")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--no-wait", action="store_true", help="slurm executor: return after submitting")
    status = sub.add_parser("status", help="done/running/failed/pending counts and an ETA")
    status.add_argument("params")
    agg = sub.add_parser("aggregate", help="rebuild results.parquet / results.csv from the run folders")
    agg.add_argument("params")
    a = ap.parse_args(argv)

    from .api import aggregate_study, run_study, study_status
    from .results import RESULTS_PARQUET
    from .grid import Study

    try:
        study = Study.from_params(a.params)
        if a.command == "run":
            df = run_study(study, progress=not a.no_progress, wait=not a.no_wait)
            print(f"{len(df)} rows -> {study.results_dir / RESULTS_PARQUET}")
        elif a.command == "status":
            print(study_status(study))
        else:
            df = aggregate_study(study)
            print(f"{len(df)} rows -> {study.results_dir / RESULTS_PARQUET}")
    except ParamsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
