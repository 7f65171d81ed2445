"""One run = train → save model → evaluate both representations → records
(`bin/dlib_reproduce: main`), resumable at every step.

Folder ``runs/<run_id>-<train_hash8>/`` (``<model_num:05d>-...`` in the paper's
grid, see ``grid.py``; every file written atomically):

* ``claim``               the worker holding the run (see ``locks.py``)
* ``run_config.json``     the run's full config and hashes
* ``train_config.json``, ``log.jsonl``, ``checkpoints/``, ``model/``,
  ``train_results.json``  written by the trainer (resumes from its checkpoint)
* ``record_<rep>.json``   metric outputs of one representation, with its ``eval_hash``
* ``done.json``           written last: the run is finished for ``config_hash`` (with the model
  files' size and SHA-256, ``model_files``: a model truncated later makes the run damaged)
* ``failed.json``, ``failed.log``  the error and traceback of the last failed attempt
* ``damaged/``            files found damaged, set aside (never deleted)

States: *done* (``done.json`` for the current config hash, its records and
model sound), *running* (a live claim), *failed*, *pending*, and *damaged*: a
file of the folder is not valid JSON, or a stage's output is missing (a model
without ``model.pt``, a ``done.json`` without its records). Rerunning skips
done runs; a run killed while training resumes from its checkpoint; killed
during evaluation, it re-evaluates the representations without a current
record. A damaged run is redone from its last sound stage (:func:`repair`):
the damaged files are moved to ``damaged/``, then evaluation only if the model
is sound, training otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .. import vocabulary
from ..io import DamagedFileError, DiskFullError, atomic_path, atomic_write_json, atomic_write_text, set_aside
from ..io import read_json as _read_json
from . import locks
from .controls import evaluate_twin, twin_current, wants_twin
from .backend import Backend
from .grid import Run, Study, metrics_for
from .killpoints import kill_point

DONE, FAILED, RUNNING, PENDING, DAMAGED = "done", "failed", "running", "pending", "damaged"
STATES = (DONE, RUNNING, FAILED, PENDING, DAMAGED)
#: the files of a trained model folder (``training/saved_model.py``)
MODEL_FILES = ("model.pt", "config.json")
DAMAGED_DIR = "damaged"


def read_json(path: Path) -> dict[str, Any] | None:
    """A run file's JSON, ``None`` if absent; :class:`~disentangle.io.DamagedFileError` naming it if damaged."""
    return _read_json(path)


def read_json_or_none(path: Path) -> dict[str, Any] | None:
    """As :func:`read_json`, but a damaged file reads as absent (``run_problems`` reports it)."""
    try:
        return _read_json(path)
    except DamagedFileError:
        return None


def _json_files(run: Run, run_dir: Path) -> list[Path]:
    return [run_dir / n for n in ("done.json", "run_config.json", "train_config.json", "train_results.json",
                                  "failed.json")] \
        + [run_dir / f"record_{rep}.json" for rep in run.evaluation["representations"]] \
        + [run_dir / "model" / "config.json"]


def model_files(model_dir: Path) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of each model file, recorded in ``done.json`` when the run finishes."""
    import hashlib

    out = {}
    for name in MODEL_FILES:
        f = model_dir / name
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        out[name] = {"size": f.stat().st_size, "sha256": h.hexdigest()}
    return out


def model_problem(model_dir: Path, recorded: dict[str, Any] | None = None, *, checksum: bool = False) -> str | None:
    """Why ``model_dir`` is not a sound trained-model folder, else None. Cheap checks: each
    file exists, is not empty and has the size ``recorded`` (``done.json``'s ``model_files``)
    when the run finished; with ``checksum``, its SHA-256 too."""
    if not model_dir.is_dir():
        return f"{model_dir}: missing (the trained model)"
    for name in MODEL_FILES:
        f = model_dir / name
        if not f.is_file() or f.stat().st_size == 0:
            return f"{f}: {'missing' if not f.is_file() else 'empty'}"
    if recorded is None and not _whole_zip(model_dir / "model.pt"):  # runs finished before sizes were recorded
        return f"{model_dir / 'model.pt'}: truncated (torch's zip archive has no end record)"
    for name, expected in (recorded or {}).items():
        f = model_dir / name
        size = f.stat().st_size if f.is_file() else None
        if size != expected.get("size"):
            return f"{f}: {size} bytes, {expected.get('size')} when the run finished (truncated or overwritten)"
    if checksum and recorded:
        for name, fp in model_files(model_dir).items():
            if name in recorded and fp["sha256"] != recorded[name].get("sha256"):
                return f"{model_dir / name}: its SHA-256 differs from the one recorded when the run finished"
    return None


def _whole_zip(path: Path) -> bool:
    """False for a zip archive (torch's format, it starts with ``PK``) cut short: its end
    record is missing. Two small reads; a file of another format passes."""
    import zipfile

    with open(path, "rb") as f:
        if f.read(2) != b"PK":
            return True
        return zipfile.is_zipfile(f)


_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}


def _json_names(run: Run) -> tuple[str, ...]:
    """:func:`_json_files` relative to the run folder (cached per set of representations)."""
    key = tuple(run.evaluation["representations"])
    if key not in _NAMES:
        _NAMES[key] = tuple(f.as_posix() for f in _json_files(run, Path(".")))
    return _NAMES[key]


def file_sizes(run: Run, run_dir: Path) -> dict[str, int]:
    """Sizes of the run's files that :func:`run_problems` reads (``done.json`` excepted),
    recorded in ``done.json`` for :func:`unchanged_since_done`."""
    sizes = {}
    for name in _json_names(run):
        if name != "done.json" and os.path.isfile(os.path.join(run_dir, name)):
            sizes[name] = os.stat(os.path.join(run_dir, name)).st_size
    return sizes


def unchanged_since_done(run: Run, run_dir: Path) -> bool:
    """True when a finished run's folder is provably as its worker left it, from one small read
    and a few stats: ``done.json`` is for the current config and every file :func:`run_problems`
    would parse (and each model file) still has the size recorded there, the absent ones still
    absent. False means "look closer" (:func:`run_problems` parses every file), never "damaged"."""
    base = os.fspath(run_dir)
    try:
        with open(os.path.join(base, "done.json"), "rb") as f:
            done = json.loads(f.read())
        sizes, models = done["file_sizes"], done["model_files"]
        if done["config_hash"] != run.config_hash:
            return False
        for name in _json_names(run):
            if name != "done.json":
                try:
                    size = os.stat(os.path.join(base, name)).st_size
                except FileNotFoundError:
                    size = None
                if size != sizes.get(name):
                    return False
        return all(os.stat(os.path.join(base, "model", name)).st_size == fp["size"] for name, fp in models.items()) \
            and all(f"record_{rep}.json" in sizes for rep in run.evaluation["representations"]) \
            and "train_results.json" in sizes
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _recorded_model(run: Run, run_dir: Path) -> dict[str, Any] | None:
    """``done.json``'s record of the model files, if it is sound and for the current config."""
    done = read_json_or_none(run_dir / "done.json")
    return done.get("model_files") if done is not None and done.get("config_hash") == run.config_hash else None


def run_problems(run: Run, run_dir: Path) -> list[str]:
    """What is damaged or missing in a run folder: ``"<path>: <problem>"`` lines (empty: sound).

    Damaged JSON files; a model folder without its files next to ``train_results.json``;
    a ``done.json`` (for the current config) without a sound record per representation.
    """
    if unchanged_since_done(run, run_dir):  # the cheap proof, for the thousands of finished runs
        return []
    problems, content = [], {}
    for f in _json_files(run, run_dir):
        try:
            content[f] = _read_json(f)
        except DamagedFileError as e:
            problems.append(str(e))
    done = content.get(run_dir / "done.json")
    if (run_dir / "train_results.json").exists() and not problems:
        current = done is not None and done.get("config_hash") == run.config_hash
        why = model_problem(run_dir / "model", done.get("model_files") if current else None)
        if why is not None:
            problems.append(why)
    if done is not None and done.get("config_hash") == run.config_hash:
        for f in [run_dir / f"record_{rep}.json" for rep in run.evaluation["representations"]] \
                + [run_dir / "train_results.json"]:
            if not f.exists():
                problems.append(f"{f}: missing (done.json says the run is finished)")
    return problems


def run_state(run: Run, run_dir: Path) -> str:
    """done / running / failed / pending / damaged, from the files in ``run_dir``."""
    if not run_dir.is_dir():
        return PENDING
    if unchanged_since_done(run, run_dir):  # done.json for this config, every file as its worker left it
        return DONE
    problems = run_problems(run, run_dir)
    done = read_json_or_none(run_dir / "done.json")
    if not problems and done is not None and done.get("config_hash") == run.config_hash:
        return DONE
    if (run_dir / locks.CLAIM).exists() and not locks.is_stale(run_dir):
        return RUNNING
    if problems:
        return DAMAGED
    if (run_dir / "failed.json").exists():
        return FAILED
    return PENDING


def repair(run: Run, run_dir: Path) -> list[str]:
    """Set aside what :func:`run_problems` finds so that the pipeline redoes the run
    from its last sound stage; returns one line per problem found.

    Damaged JSON files are moved to ``damaged/``. If ``train_results.json`` or the
    model is damaged (or the model is missing next to its train results), the model,
    its train results, records and ``done.json`` go too: training is redone.
    Otherwise the model is kept and only the missing records and ``done.json`` are
    redone (evaluation only).
    """
    problems = run_problems(run, run_dir)
    if not problems:
        return []
    recorded = _recorded_model(run, run_dir)
    damaged = set()
    for f in _json_files(run, run_dir):
        try:
            _read_json(f)
        except DamagedFileError:
            damaged.add(f.relative_to(run_dir).as_posix())
            if f.parent == run_dir:  # a damaged model/config.json goes with its whole model folder
                set_aside(f, run_dir)
    retrain = bool({"train_results.json", "model/config.json"} & damaged) or (
        (run_dir / "train_results.json").exists() and model_problem(run_dir / "model", recorded) is not None)
    if retrain:
        for name in ("model", "train_results.json", "done.json",
                     *(f"record_{rep}.json" for rep in run.evaluation["representations"])):
            if (run_dir / name).exists():
                set_aside(run_dir / name, run_dir)
    elif (run_dir / "done.json").exists() and run_problems(run, run_dir):
        set_aside(run_dir / "done.json", run_dir)  # rewritten once the missing stages are redone
    return problems


@dataclass
class Timings:
    """Wall seconds of one group of runs, by phase (``study_overhead`` reports these)."""

    data: float = 0.0
    train: float = 0.0
    eval: dict[str, dict[str, float]] = field(default_factory=dict)
    controls: dict[str, float] = field(default_factory=dict)  # run_id -> seconds scoring its rotated twin
    total: float = 0.0


class Worker:
    """Executes groups of claimed runs of one study in this process (datasets cached)."""

    def __init__(self, study: Study, backend: Backend | None = None):
        self.study = study
        self.backend = backend or Backend()
        self._datasets: dict[str, Any] = {}
        self._versions: dict[str, str] | None = None
        #: run_id -> the model files' sizes and SHA-256 from the done.json found when it was prepared
        self._model_fingerprints: dict[str, dict[str, Any] | None] = {}

    # -- helpers -----------------------------------------------------------------------
    def dataset(self, run: Run) -> Any:
        if run.dataset not in self._datasets:
            self._datasets[run.dataset] = self.backend.dataset(run.dataset, run.dataset_source, self.study.data_root)
        return self._datasets[run.dataset]

    def versions(self) -> dict[str, str]:
        if self._versions is None:
            self._versions = self.backend.versions()
        return self._versions

    def prepare(self, run: Run, run_dir: Path) -> None:
        """Before (re)starting a claimed run: drop temp files of a killed writer,
        set aside damaged files (:func:`repair`), drop a previous failure and
        records of another config; write ``run_config.json``."""
        for tmp in run_dir.rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        # the model's fingerprint from when it was saved, kept before repair or a new config drops
        # done.json: every done.json of this folder describes its model (the folder is the train hash)
        done = read_json_or_none(run_dir / "done.json")
        self._model_fingerprints[run.run_id] = (done or {}).get("model_files")
        for problem in repair(run, run_dir):
            _say(f"run {run.name}: {problem}; set aside in {run_dir / DAMAGED_DIR}, redoing the run from its "
                 f"last sound stage")
        (run_dir / "failed.json").unlink(missing_ok=True)
        (run_dir / "failed.log").unlink(missing_ok=True)
        done = read_json(run_dir / "done.json")
        if done is not None and done.get("config_hash") != run.config_hash:
            (run_dir / "done.json").unlink()
        stored = read_json(run_dir / "run_config.json")
        if stored is None or stored.get("config_hash") != run.config_hash:
            atomic_write_json(run_dir / "run_config.json", run.config())

    # -- the pipeline --------------------------------------------------------------------
    def execute(self, runs: Sequence[Run], on_finished: Callable[[Run, str], None] | None = None) -> dict[str, str]:
        """Run a group of claimed runs of one (dataset, method); returns run_id → state.

        Training is batched over the group (``training.models_per_batch``); a
        failure is recorded in ``failed.json`` and does not stop the other runs.
        """
        start = time.perf_counter()
        dirs = [self.study.run_dir(r) for r in runs]
        timings = Timings()
        outcome: dict[str, str] = {}
        for run, d in zip(runs, dirs):
            self.prepare(run, d)
            kill_point("run_start")
        try:
            t0 = time.perf_counter()
            dataset = self.dataset(runs[0])
            timings.data = time.perf_counter() - t0
            t0 = time.perf_counter()
            train_results = self._train(runs, dirs, dataset)
            timings.train = time.perf_counter() - t0
        except DiskFullError:  # not the run's fault: every next run would fail alike; stop, naming the file
            raise
        except Exception as e:  # noqa: BLE001 - recorded per run, the study goes on
            for run, d in zip(runs, dirs):
                self._fail(run, d, "train", e)
                outcome[run.run_id] = FAILED
            return self._finish(runs, outcome, on_finished)
        kill_point("train_done")
        evaluated = []
        for run, d in zip(runs, dirs):
            try:
                timings.eval[run.run_id], timings.controls[run.run_id] = self._evaluate(run, d, dataset)
                evaluated.append((run, d))
            except DiskFullError:
                raise
            except Exception as e:  # noqa: BLE001
                self._fail(run, d, "evaluate", e)
                outcome[run.run_id] = FAILED
        timings.total = time.perf_counter() - start
        k = len(runs)
        shared_time = {"data": timings.data / k, "train": timings.train / k}
        bookkeeping = max(0.0, timings.total - timings.data - timings.train
                          - sum(sum(e.values()) for e in timings.eval.values()) - sum(timings.controls.values())) / k
        device = self.backend.resolved_device(self.study.device)
        for run, d in evaluated:
            record = {"config_hash": run.config_hash, "model_num": run.model_num, "run_id": run.run_id,
                      "train": read_json(d / "train_results.json") or train_results[run.run_id],
                      "device": device,
                      "dataset": getattr(dataset, "identity", None),  # e.g. the Scream image's SHA-256
                      "time": {**shared_time, "eval": timings.eval[run.run_id],
                               "controls": timings.controls[run.run_id], "bookkeeping": bookkeeping},
                      "versions": self.versions(), "finished_at": time.time(),
                      "model_files": model_files(d / "model"),  # status/run check the sizes (model_problem)
                      "file_sizes": file_sizes(run, d)}  # and those of the other files (unchanged_since_done)
            with atomic_path(d / "done.json") as tmp:
                tmp.write_text(json.dumps(record, indent=2, sort_keys=True, default=float) + "\n")
                kill_point("done_write")
            outcome[run.run_id] = DONE
        return self._finish(runs, outcome, on_finished)

    @staticmethod
    def _finish(runs: Sequence[Run], outcome: dict[str, str], on_finished) -> dict[str, str]:
        if on_finished is not None:
            for run in runs:
                on_finished(run, outcome[run.run_id])
        return outcome

    def _train(self, runs: Sequence[Run], dirs: Sequence[Path], dataset: Any) -> dict[str, dict]:
        """Train the runs without ``train_results.json``; read the others back."""
        results: dict[str, dict] = {}
        todo = []
        for run, d in zip(runs, dirs):
            stored = read_json(d / "train_results.json")
            if stored is not None and model_problem(d / "model") is None:
                results[run.run_id] = stored
            else:
                todo.append((run, d))
        if todo:
            for run, _ in todo:  # a model trained now has no earlier fingerprint to match
                self._model_fingerprints.pop(run.run_id, None)
            trained = self.backend.train([r for r, _ in todo], dataset, [d for _, d in todo], self.study.device)
            for (run, _), record in zip(todo, trained):
                results[run.run_id] = record
        return results

    def _evaluate(self, run: Run, run_dir: Path, dataset: Any) -> tuple[dict[str, float], float]:
        """Every configured metric on each representation without a current record, then the
        run's rotated twin (``controls.py``) if it has none; returns eval seconds per
        representation and the seconds the twin took (`postprocessing/methods.py`, `bin/dlib_reproduce: main`)."""
        model = None

        def trained_model() -> MeanCodesMemo:  # loaded once, on the first stage that needs it
            nonlocal model
            if model is None:
                model = MeanCodesMemo(self._load_or_retrain(run, run_dir, dataset))
            return model

        seconds: dict[str, float] = {}
        for rep in run.evaluation["representations"]:
            path = run_dir / f"record_{rep}.json"
            stored = read_json(path)
            if stored is not None and stored.get("eval_hash") == run.eval_hash:
                seconds[rep] = stored["eval_time"]
                continue
            t0 = time.perf_counter()
            loaded = trained_model()
            seeds = self.backend.evaluation_seeds(rep)
            metrics = self.backend.evaluate(
                dataset, lambda metric, seed, rep=rep: representation_fn(loaded, rep, seed),
                metrics_for(run.evaluation, rep), seeds, run.evaluation["settings"],
                run.evaluation.get("overrides"), classifiers=run.evaluation.get("classifiers", "paper"))
            seconds[rep] = time.perf_counter() - t0
            record = {"representation": rep, "eval_hash": run.eval_hash, "eval_seeds": seeds,
                      "settings": run.evaluation["settings"],
                      "classifiers": run.evaluation.get("classifiers", "paper"), "metrics": metrics,
                      "eval_time": seconds[rep]}
            with atomic_path(path) as tmp:
                tmp.write_text(json.dumps(record, indent=2, sort_keys=True, default=float) + "\n")
                kill_point("record_write")
        twin_seconds = 0.0
        if wants_twin(self.study, run) and not twin_current(run, run_dir):
            t0 = time.perf_counter()
            evaluate_twin(run, run_dir, trained_model(), dataset, self.backend)
            twin_seconds = time.perf_counter() - t0
        return seconds, twin_seconds

    def _load_or_retrain(self, run: Run, run_dir: Path, dataset: Any) -> Any:
        """The run's trained model; a model whose files cannot be read, or whose SHA-256 differs
        from the one ``done.json`` recorded (checked here, where the file is read anyway), is set
        aside (with its train results and records) and trained again."""
        try:
            recorded = _recorded_model(run, run_dir) or self._model_fingerprints.get(run.run_id)
            why = model_problem(run_dir / "model", recorded, checksum=True)
            if why is not None:
                raise DamagedFileError(why)
            return self.backend.load_model(run_dir / "model", self.study.device)
        except DamagedFileError as e:
            _say(f"run {run.name}: {e}; set aside in {run_dir / DAMAGED_DIR}, training it again")
            for name in ("model", "train_results.json", *(f"record_{rep}.json" for rep in
                                                          run.evaluation["representations"])):
                if (run_dir / name).exists():
                    set_aside(run_dir / name, run_dir)
            self._train([run], [run_dir], dataset)
            return self.backend.load_model(run_dir / "model", self.study.device)

    @staticmethod
    def _fail(run: Run, run_dir: Path, phase: str, error: Exception) -> None:
        """Record a failure: ``failed.log`` (the traceback, for people) and ``failed.json``."""
        trace = "".join(traceback.format_exception(error))
        atomic_write_text(run_dir / "failed.log", trace)
        atomic_write_json(run_dir / "failed.json", {
            "config_hash": run.config_hash, "model_num": run.model_num, "run_id": run.run_id, "phase": phase,
            "error": one_line_error(error), "traceback": trace, "time": time.time()})


def one_line_error(error: BaseException) -> str:
    """``Type: message`` on one line (a multi-line message is joined with ' | ')."""
    text = " | ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return f"{type(error).__name__}: {text}"


def _say(line: str) -> None:
    """One line to stderr, above any progress bar of this process."""
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)


class MeanCodesMemo:
    """A trained model whose ``represent_mean`` remembers its codes per batch of observations.

    The rotated twin (``controls.py``) is scored with the mean representation's evaluation seeds,
    so its metrics draw the very observations the mean representation's metrics drew: the twin's
    codes are the same encodings, standardised and rotated. Keyed by the batch's bytes (BLAKE2b),
    a repeated batch returns a copy of the codes the encoder gave the first time, so every number
    is unchanged and the twin costs its metric fits only. Everything else is the model's own.
    """

    def __init__(self, model: Any):
        self._model = model
        self._codes: dict[tuple, np.ndarray] = {}
        self.hits = self.misses = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def represent_mean(self, x: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        if not isinstance(x, np.ndarray):
            return self._model.represent_mean(x, *args, **kwargs)
        x = np.ascontiguousarray(x)
        key = (x.shape, x.dtype.str, repr((args, sorted(kwargs.items()))),
               hashlib.blake2b(x.data, digest_size=16).digest())
        codes = self._codes.get(key)
        if codes is None:
            self.misses += 1
            codes = self._codes[key] = np.asarray(self._model.represent_mean(x, *args, **kwargs))
        else:
            self.hits += 1
        return codes.copy()


def representation_fn(model: Any, representation: str, eval_seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """``mean``: the encoder mean; ``sampled``: one draw from q(z|x) with fresh
    noise on every call, from an explicit rng seeded by (postprocess seed,
    metric's eval seed) — so a metric's numbers do not depend on which other
    metrics ran before it (`postprocessing/methods.py`)."""
    if representation == "mean":
        return model.represent_mean
    if representation == "sampled":
        rng = np.random.default_rng([vocabulary.POSTPROCESS_SEEDS["sampled"], eval_seed])
        return lambda x: model.represent_sampled(x, rng)
    raise ValueError(f"representation must be 'mean' or 'sampled', got {representation!r}")
