"""Where a tiny study's wall time goes: data, training, evaluation, bookkeeping.

Bookkeeping = everything the study machinery adds around the real work
(planning and hashing, claims, heartbeat, records, done markers, the
aggregated parquet/csv), measured as wall − data − training − evaluation of a
sequential ``run_study``. It must stay below 2 % (issue 6). Process start-up
imports (torch, pandas, pyarrow) are done before timing: they are paid once
per process, not per run. A second ``run_study`` on the finished study
measures the cost of a no-op rerun (planning + state checks + aggregation).

    python benchmarks/study_overhead.py [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml


def _params(folder: Path, steps: int, seeds: list[int], source: str) -> Path:
    (folder / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (folder / "_config.yml").write_text("title: bench\n")
    raw = {"shared": {"scale": "ci", "results_dir": str(folder / "results"), "data_source": source, "device": "cpu"},
           "study": {"datasets": ["dsprites"], "methods": ["beta_vae"], "values": {"beta_vae": [1]},
                     "seeds": seeds,
                     "training": {"steps": steps, "checkpoint_every": max(1, steps // 4), "log_every": 10,
                                  "eval_batches": 2, "models_per_batch": 1},
                     "evaluation": {"settings": "fast", "metrics": ["mig", "sap_score", "unsupervised"]}}}
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller study (CI)")
    a = ap.parse_args()
    import pandas  # noqa: F401  (start-up imports, not study bookkeeping)
    import pyarrow  # noqa: F401
    import torch

    import disentangle.models  # noqa: F401
    import disentangle.training  # noqa: F401
    from disentangle.data.toy import DummyImages
    from disentangle.metrics import SETTINGS
    from disentangle.study import Backend, run_study
    from disentangle.study.api import time_split
    from disentangle.study.grid import Study

    torch.set_num_threads(1)
    points = 300 if a.quick else 2000
    for name in ("mig", "sap_score", "unsupervised"):
        SETTINGS["fast"][name] = {**SETTINGS["fast"][name],
                                  **{k: points for k in ("num_train", "num_test") if k in SETTINGS["fast"][name]}}

    class BenchBackend(Backend):
        def dataset(self, name, source, root):
            try:
                return super().dataset(name, source, root)
            except ImportError:  # get_dataset not available: the reference's DummyData
                return DummyImages(channels=1)

    steps, seeds = (40, [0, 1]) if a.quick else (300, [0, 1, 2])
    folder = Path(tempfile.mkdtemp(prefix="study_overhead_"))
    try:
        params = _params(folder, steps, seeds, "procedural")
        study = Study.from_params(params)
        backend = BenchBackend()
        start = time.perf_counter()
        run_study(study, progress=False, backend=backend)
        wall = time.perf_counter() - start
        runs = study.runs(backend.resolve_source)
        split = time_split(study, runs, wall)
        start = time.perf_counter()
        run_study(study, progress=False, backend=backend)
        noop = time.perf_counter() - start
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"tiny study: {len(runs)} runs x {steps} steps, metrics mig/sap/unsupervised on {points} points, "
          f"2 representations (1 thread; machine shared, timings under load)")
    print(f"{'phase':<12} {'seconds':>9} {'share of wall':>14}")
    for k, v in split.items():
        print(f"{k:<12} {v:9.2f} {100 * v / wall:13.2f}%")
    print(f"{'wall':<12} {wall:9.2f} {100.0:13.2f}%")
    print(f"no-op rerun (all runs done): {noop:.2f} s = {100 * noop / wall:.2f}% of the study's wall time")
    ok = split["bookkeeping"] / wall < 0.02
    print(f"bookkeeping < 2%: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
