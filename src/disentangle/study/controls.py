"""The study's controls: rotated twins and untrained encoders, kept apart from the runs (book/design.md, "Controls and the signal gate").

A disentanglement score carries signal only if it rewards *alignment* with the factors, not
the information the codes hold about them (the paper's Theorem 1, §3: a bijection that mixes the
latents keeps the information and destroys the alignment). Every study therefore scores two
controls, with the same metric settings and evaluation seeds as its runs:

* **the rotated twin** of each trained run whose seed is in ``study.controls.twin_seeds``
  (null: every seed): its mean codes standardised, and the same codes turned by a random rotation
  (``metrics.controls``; rotation ``default_rng([ROTATION_SEED, seed])``, moments from
  ``RandomState(MOMENTS_SEED)``), both scored on the study's disentanglement metric configs.
  Written to ``runs/<run>/controls.json`` with its ``controls_hash``, by the worker right after the
  run's own evaluation (or later, by :func:`run_controls`, for runs finished without it);
* **the untrained encoder** of each dataset: the reference encoder at initialisation, with the
  study's training seeds' derivation for seeds ``0 .. untrained_seeds - 1`` and no update,
  scored on the same configs: ``controls/untrained-<dataset>-s<seed>-<hash8>.json``.

Neither is a run: they change no run's hash, never enter ``results.parquet``, and the
aggregated ``controls.csv`` (``columns.CONTROL_COLUMNS``) is read only by the signal rule
(``analysis/signal.py``) and the chapters' controls tables. No claim statistic reads them.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from .. import vocabulary
from ..io import DamagedFileError, atomic_path, read_json
from .columns import CONTROL_COLUMNS, SCORES
from .grid import RUN_PROTOCOL, Run, Study, stable_hash

#: version of what a control computes; part of every controls hash
CONTROL_PROTOCOL = 1
#: the rotation of run seed ``s`` is ``numpy.random.default_rng([ROTATION_SEED, s])``'s Haar draw
ROTATION_SEED = 23
#: the per-dimension mean and std of the codes are estimated on ``RandomState(MOMENTS_SEED)``'s observations
MOMENTS_SEED = 2019
#: the method whose network gives the untrained encoder (the encoder is the same for every method)
UNTRAINED_METHOD = "beta_vae"
CONTROLS_FILE = "controls.json"
UNTRAINED_DIR = "controls"


def read_json_or_none(path: Path) -> dict[str, Any] | None:
    """A control file's JSON; a damaged one reads as absent (the control is scored again)."""
    try:
        return read_json(path)
    except DamagedFileError:
        return None


def control_metrics(evaluation: dict[str, Any]) -> list[str]:
    """The study's disentanglement metric configs (the ones a control is scored on)."""
    return [m for m in evaluation["metrics"] if vocabulary.METRIC_CONFIGS[m].kind == "disentanglement"]


def wants_twin(study: Study, run: Run) -> bool:
    seeds = study.controls["twin_seeds"]
    return bool(control_metrics(run.evaluation)) and (seeds is None or run.seed in seeds)


def twin_hash(run: Run) -> str:
    return stable_hash({"protocol": CONTROL_PROTOCOL, "eval_hash": run.eval_hash, "rotation_seed": ROTATION_SEED,
                        "moments_seed": MOMENTS_SEED, "metrics": control_metrics(run.evaluation)})


def twin_current(run: Run, run_dir: Path) -> bool:
    stored = read_json_or_none(run_dir / CONTROLS_FILE)
    return stored is not None and stored.get("controls_hash") == twin_hash(run)


def _write(path: Path, record: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True, default=float) + "\n")


def _scores(backend: Any, dataset: Any, represent, evaluation: dict[str, Any]) -> dict[str, Any]:
    return backend.evaluate(dataset, lambda metric, seed: represent, control_metrics(evaluation),
                            backend.evaluation_seeds("mean"), evaluation["settings"], evaluation.get("overrides"),
                            classifiers=evaluation.get("classifiers", "paper"))


def evaluate_twin(run: Run, run_dir: Path, model: Any, dataset: Any, backend: Any) -> float:
    """Score run's standardised mean codes and their rotated twin; write ``controls.json``; seconds."""
    t0 = time.perf_counter()
    standardised, rotated = backend.twin_representations(dataset, model, run.seed)
    record = {"controls_hash": twin_hash(run), "run_id": run.run_id, "rotation_seed": [ROTATION_SEED, run.seed],
              "standardised": _scores(backend, dataset, standardised, run.evaluation),
              "rotated": _scores(backend, dataset, rotated, run.evaluation)}
    record["eval_time"] = time.perf_counter() - t0
    _write(run_dir / CONTROLS_FILE, record)
    return record["eval_time"]


@dataclass(frozen=True)
class UntrainedControl:
    """The reference encoder at initialisation (seed ``seed``) on ``dataset``."""

    dataset: str
    dataset_source: str
    seed: int
    training: dict
    evaluation: dict
    controls_hash: str

    @property
    def run_id(self) -> str:
        return f"untrained-{self.dataset}-s{self.seed}"

    @property
    def name(self) -> str:
        return f"{self.run_id}-{self.controls_hash[:8]}"


def untrained_controls(study: Study, runs: Sequence[Run]) -> list[UntrainedControl]:
    """One untrained control per (dataset of ``runs``, seed ``0 .. untrained_seeds - 1``)."""
    out = []
    for run in {r.dataset: r for r in runs}.values():
        if not control_metrics(run.evaluation):
            continue
        architecture = {k: run.training[k] for k in ("latent_dim", "encoder_kernel")}
        for seed in range(study.controls["untrained_seeds"]):
            h = stable_hash({"protocol": CONTROL_PROTOCOL, "run_protocol": RUN_PROTOCOL, "dataset": run.dataset,
                             "dataset_source": run.dataset_source, "seed": seed, "architecture": architecture,
                             "eval_hash": run.eval_hash, "metrics": control_metrics(run.evaluation)})
            out.append(UntrainedControl(run.dataset, run.dataset_source, seed, dict(run.training),
                                        dict(run.evaluation), h))
    return out


def _untrained_path(study: Study, control: UntrainedControl) -> Path:
    return study.results_dir / UNTRAINED_DIR / f"{control.name}.json"


def run_controls(study: Study, finished: Sequence[Run], backend: Any, *, progress: bool = True) -> int:
    """Score every control the ``finished`` (done) runs of a study still lack: the rotated twins of
    runs finished without theirs, then the untrained encoders of their datasets. Resumable (each
    control is one atomic file). Returns how many were scored."""
    t0, done = time.perf_counter(), 0
    datasets: dict[str, Any] = {}

    def dataset(name: str, source: str) -> Any:
        if name not in datasets:
            datasets[name] = backend.dataset(name, source, study.data_root)
        return datasets[name]

    for run in finished:
        run_dir = study.run_dir(run)
        if wants_twin(study, run) and not twin_current(run, run_dir):
            model = backend.load_model(run_dir / "model", study.device)
            evaluate_twin(run, run_dir, model, dataset(run.dataset, run.dataset_source), backend)
            done += 1
    for control in untrained_controls(study, finished):
        path = _untrained_path(study, control)
        if read_json_or_none(path) is not None:
            continue
        data = dataset(control.dataset, control.dataset_source)
        model = backend.untrained_model(data, control.training, control.seed, study.device)
        start = time.perf_counter()
        scores = _scores(backend, data, model.represent_mean, control.evaluation)
        _write(path, {"controls_hash": control.controls_hash, "run_id": control.run_id, "dataset": control.dataset,
                      "seed": control.seed, "untrained": scores, "eval_time": time.perf_counter() - start})
        done += 1
    if done and progress:
        print(f"controls: {done} scored (rotated twins, untrained encoders) in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
    return done


def collect_controls(study: Study, runs: Sequence[Run]) -> pd.DataFrame:
    """The controls table (``columns.CONTROL_COLUMNS`` + the score columns) of the current controls."""
    rows = []
    for run in runs:
        stored = read_json_or_none(study.run_dir(run) / CONTROLS_FILE) if wants_twin(study, run) else None
        if stored is None or stored.get("controls_hash") != twin_hash(run):
            continue
        for kind in ("standardised", "rotated"):
            rows.append({"control": kind, "run_id": run.run_id, "dataset": run.dataset, "method": run.method,
                         "value": run.value, "seed": run.seed, **_score_cells(stored[kind])})
    for control in untrained_controls(study, runs):
        stored = read_json_or_none(_untrained_path(study, control))
        if stored is not None and stored.get("controls_hash") == control.controls_hash:
            rows.append({"control": "untrained", "run_id": control.run_id, "dataset": control.dataset,
                         "method": "", "value": float("nan"), "seed": control.seed,
                         **_score_cells(stored["untrained"])})
    return pd.DataFrame(rows, columns=[*CONTROL_COLUMNS, *SCORES.values()])


def _score_cells(metrics: dict[str, Any]) -> dict[str, float]:
    return {col: float(metrics[col]) if col in metrics else float("nan") for col in SCORES.values()}
