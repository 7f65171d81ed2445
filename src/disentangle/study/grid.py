"""The study grid (`config/unsupervised_study_v1/sweep.py`) and the identity of a run.

A study is ``datasets x methods x values x seeds`` taken from a params file.
A run of the paper's grid (a dataset and a method with a ``sweep_index`` in
``vocabulary``, one of the method's ``paper_values``, a seed in 0..49) keeps the
reference's stable index

    model_num = 1800 * dataset.sweep_index + 300 * method.sweep_index + 50 * value_index + seed

(``value_index``: the value's position in ``paper_values``). The indices are the
vocabulary's explicit ``sweep_index`` fields, never positions in a list, so
reordering or extending the vocabulary renumbers nothing.

Runs outside the paper's grid (documented decision)
---------------------------------------------------
A method, dataset or value outside the paper's grid, or a seed >= 50, has no
``model_num`` (``None``). Its identity is the string
``x-<dataset>-<method>-<repr(float(value))>-s<seed>``: injective by construction
(vocabulary names contain no ``-``; ``repr`` of a float round-trips; the seed is
last), and it cannot meet a paper run, whose identity is ``<model_num:05d>``
(digits only). ``Run.run_id`` is that identity for every run: it names the
folder (``<run_id>-<train_hash8>``, so paper runs keep ``<model_num:05d>-<hash8>``)
and keys runs in the executors, the study's reports and the results table's
``run_id`` column (``model_num`` and ``value_index`` are empty there for such runs).

Run identity (documented decision)
----------------------------------
* ``train_hash`` covers everything that changes the *trained model*: dataset,
  its resolved source (``file`` / ``procedural``; ``auto`` is resolved first),
  method, hyperparameter and value, seed, and the training settings steps,
  batch_size, latent_dim, encoder_kernel, factor_vae_double_step,
  eval_batches, plus :data:`RUN_PROTOCOL`; ``precision``, ``lr`` and (for
  AnnealedVAE) ``annealed_vae_iteration_threshold`` only when they differ from
  the reference's (fp32, 1e-4, 100,000), so runs keep the hashes they had before
  the settings existed. ``precision: auto`` is resolved first (``Study.training``).
* ``eval_hash`` covers the evaluation: metric settings, classifier semantics
  (``classifiers``) and metric configs (plus :data:`RUN_PROTOCOL`). Unlike
  ``precision``, ``classifiers`` is hashed even at its default ("paper"): the
  paper semantics changed the numbers of the old default (today's multinomial
  fits), so records evaluated before the key existed must not pass for current
  ones; they are re-evaluated, the trained models are kept (``train_hash`` is
  unchanged). ``config_hash`` = hash of both plus the list of
  representations: the run's full config.
* A run lives in ``runs/<run_id>-<train_hash[:8]>/`` (``<model_num:05d>-...`` for a paper run). A changed training
  setting therefore gives a *new folder* (the old one is never mistaken for the
  new run and is reported as stale). A changed evaluation setting keeps the
  trained model and *re-evaluates* it (each record stores its ``eval_hash``).
* Not hashed, because they do not change the numbers: ``log_every``,
  ``checkpoint_every``, ``models_per_batch`` (a model trained in a stack equals
  the model trained alone up to float rounding), device, executor, paths.
  Package versions (torch, numpy, sklearn, disentangle) are *recorded* in every
  row but not hashed: a patch release must not invalidate 12,600 GPU runs.
  Bump :data:`RUN_PROTOCOL` when a code change alters what a run computes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import vocabulary
from ..params import STUDY_SCHEMA, Params, load, reference_deviations

#: version of what a run computes; part of every hash (see module docstring)
RUN_PROTOCOL = 1
#: the strides of the reference's sweep (`config/unsupervised_study_v1/sweep.py`): 6 methods x 6 values x 50 seeds per dataset
RUNS_PER_DATASET = 1800
RUNS_PER_METHOD = 300
RUNS_PER_VALUE = 50

#: training settings that change the trained numbers (always hashed); the others that do
#: (precision, lr, lr_warmup, lr_final, AnnealedVAE's threshold) are hashed where they differ
#: from the reference's (``params.reference_deviations``)
HASHED_TRAINING = ("steps", "batch_size", "latent_dim", "encoder_kernel", "factor_vae_double_step", "eval_batches")
#: prefix of the identity of a run outside the paper's grid
EXTENSION_PREFIX = "x"


def _paper_index(dataset: str, method: str, value: float, seed: int) -> tuple[int, int, int, int] | str:
    """(dataset, method, value, seed) indices of a paper-grid point, else why it is not one."""
    d, m = vocabulary.lookup("dataset", dataset), vocabulary.lookup("method", method)
    if d.sweep_index is None:
        return f"dataset {dataset!r} is not in the paper's grid (datasets: {list(vocabulary.paper_datasets())})"
    if m.sweep_index is None:
        return f"method {method!r} is not in the paper's grid (methods: {list(vocabulary.paper_methods())})"
    if value not in m.paper_values:
        return f"{method}: value {value!r} not in the paper grid {list(m.paper_values)}"
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < vocabulary.PAPER_SEEDS:
        return f"seed must be in 0..{vocabulary.PAPER_SEEDS - 1} for the paper's grid, got {seed!r}"
    return d.sweep_index, m.sweep_index, m.paper_values.index(value), seed


def in_paper_grid(dataset: str, method: str, value: float, seed: int) -> bool:
    """Whether the run is one of the paper's 12,600 (it then has a ``model_num``)."""
    return not isinstance(_paper_index(dataset, method, value, seed), str)


def model_num(dataset: str, method: str, value: float, seed: int) -> int:
    """The reference's index of a paper-grid run (`config/unsupervised_study_v1/sweep.py`); ``ValueError`` outside the grid."""
    index = _paper_index(dataset, method, value, seed)
    if isinstance(index, str):
        raise ValueError(index)
    d, m, v, seed = index
    return RUNS_PER_DATASET * d + RUNS_PER_METHOD * m + RUNS_PER_VALUE * v + seed


def run_id(dataset: str, method: str, value: float, seed: int) -> str:
    """A run's identity: ``<model_num:05d>`` in the paper's grid, else
    ``x-<dataset>-<method>-<repr(float(value))>-s<seed>`` (module docstring)."""
    if in_paper_grid(dataset, method, value, seed):
        return f"{model_num(dataset, method, value, seed):05d}"
    vocabulary.lookup("dataset", dataset), vocabulary.lookup("method", method)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return f"{EXTENSION_PREFIX}-{dataset}-{method}-{float(value)!r}-s{seed}"


def grid_point(num: int) -> tuple[str, str, float, int]:
    """Inverse of :func:`model_num`: ``(dataset, method, value, seed)``."""
    d, rest = divmod(num, RUNS_PER_DATASET)
    m, rest = divmod(rest, RUNS_PER_METHOD)
    v, seed = divmod(rest, RUNS_PER_VALUE)
    datasets = {e.sweep_index: e.name for e in vocabulary.DATASETS.values() if e.sweep_index is not None}
    methods = {e.sweep_index: e for e in vocabulary.METHODS.values() if e.sweep_index is not None}
    if num < 0 or d not in datasets or m not in methods or v >= len(methods[m].paper_values):
        raise ValueError(f"model_num {num} is not in the paper's grid (0..{RUNS_PER_DATASET * len(datasets) - 1})")
    return datasets[d], methods[m].name, methods[m].paper_values[v], seed


def metrics_for(evaluation: dict[str, Any], representation: str) -> list[str]:
    """Metric configs evaluated on ``representation`` (``sampled_metrics`` may narrow the sampled one)."""
    if representation == "sampled" and evaluation.get("sampled_metrics") is not None:
        return [m for m in evaluation["metrics"] if m in evaluation["sampled_metrics"]]
    return list(evaluation["metrics"])


def stable_hash(obj: Any) -> str:
    """SHA-256 of the canonical JSON of ``obj`` (sorted keys, floats as floats)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class Run:
    """One model of the study: a grid point plus its full config and hashes."""

    model_num: int | None  #: the reference's index; None outside the paper's grid
    dataset: str
    dataset_source: str
    method: str
    hyperparameter: str
    value: float
    value_index: int | None  #: position in the method's paper values; None for another value
    seed: int
    training: dict[str, Any] = field(compare=False, hash=False)
    evaluation: dict[str, Any] = field(compare=False, hash=False)
    train_hash: str = ""
    eval_hash: str = ""
    config_hash: str = ""
    run_id: str = ""  #: ``<model_num:05d>`` or ``x-...`` outside the paper's grid (module docstring)

    @property
    def name(self) -> str:
        """Folder name: ``<run_id>-<train_hash[:8]>`` (``<model_num:05d>-...`` for a paper run)."""
        return f"{self.run_id}-{self.train_hash[:8]}"

    @property
    def group(self) -> tuple[str, str]:
        """Runs of one group can be trained together (batched training)."""
        return (self.dataset, self.method)

    def config(self) -> dict[str, Any]:
        """The full config that ``config_hash`` covers (stored as ``run_config.json``)."""
        return {"protocol": RUN_PROTOCOL, "model_num": self.model_num, "run_id": self.run_id, "dataset": self.dataset,
                "dataset_source": self.dataset_source, "method": self.method,
                "hyperparameter": self.hyperparameter, "value": self.value, "seed": self.seed,
                "training": self.training, "evaluation": self.evaluation,
                "train_hash": self.train_hash, "eval_hash": self.eval_hash, "config_hash": self.config_hash}


def make_run(dataset: str, dataset_source: str, method: str, value: float, seed: int,
             training: dict[str, Any], evaluation: dict[str, Any]) -> Run:
    """Build a :class:`Run` and its hashes (see the module docstring)."""
    value = float(value)
    hp = vocabulary.hyperparameter(method)
    train_part = {"protocol": RUN_PROTOCOL, "dataset": dataset, "dataset_source": dataset_source,
                  "method": method, "hyperparameter": hp, "value": value, "seed": seed,
                  "training": {k: training[k] for k in HASHED_TRAINING}}
    # settings added after runs existed are hashed only when they differ from the
    # reference's, so earlier runs keep their hashes
    for key, setting in reference_deviations(training, (method,)).items():
        if key not in HASHED_TRAINING:
            train_part["training"][key] = STUDY_SCHEMA["training"][key].type(setting)
    if train_part["training"].get("precision", "fp32") not in ("fp32", "bf16"):
        raise ValueError(f"precision {training['precision']!r} must be resolved first (Study.training)")
    eval_part = {"protocol": RUN_PROTOCOL, "settings": evaluation["settings"],
                 "classifiers": evaluation.get("classifiers", "paper"), "metrics": sorted(evaluation["metrics"])}
    if evaluation.get("sampled_metrics") is not None:
        eval_part["sampled_metrics"] = sorted(evaluation["sampled_metrics"])
    if evaluation.get("overrides"):
        eval_part["overrides"] = evaluation["overrides"]
    train_hash, eval_hash = stable_hash(train_part), stable_hash(eval_part)
    config_hash = stable_hash({"train": train_hash, "eval": eval_hash,
                               "representations": sorted(evaluation["representations"])})
    paper = in_paper_grid(dataset, method, value, seed)
    paper_values = vocabulary.METHODS[method].paper_values
    return Run(model_num=model_num(dataset, method, value, seed) if paper else None, dataset=dataset,
               dataset_source=dataset_source, method=method, hyperparameter=hp, value=value,
               value_index=paper_values.index(value) if value in paper_values else None,
               seed=seed, training=dict(training), evaluation=dict(evaluation),
               train_hash=train_hash, eval_hash=eval_hash, config_hash=config_hash,
               run_id=run_id(dataset, method, value, seed))


@dataclass
class Study:
    """A study read from a params file (``shared`` + ``study`` sections)."""

    params: Params

    @classmethod
    def from_params(cls, params_or_path: "Params | str | Path | Study") -> "Study":
        """From a :class:`Params`, a params-file path (validated first) or a Study."""
        if isinstance(params_or_path, Study):
            return params_or_path
        if isinstance(params_or_path, Params):
            return cls(params_or_path)
        return cls(load(params_or_path))

    @property
    def results_dir(self) -> Path:
        return Path(self.params.shared["results_dir"])

    @property
    def runs_dir(self) -> Path:
        return self.results_dir / "runs"

    @property
    def training(self) -> dict[str, Any]:
        """The params' training section with ``precision: auto`` resolved for this
        study's device (the resolved precision is part of the runs' identity)."""
        training = dict(self.params.study["training"])
        if training.get("precision") == "auto":
            from ..devices import resolve_precision  # imports torch: only when needed

            training["precision"] = resolve_precision("auto", self.device)
        return training

    @property
    def evaluation(self) -> dict[str, Any]:
        return self.params.study["evaluation"]

    @property
    def executor(self) -> dict[str, Any]:
        return self.params.study["executor"]

    @property
    def controls(self) -> dict[str, Any]:
        """Which controls the study scores (``study/controls.py``)."""
        return self.params.study["controls"]

    @property
    def device(self) -> str:
        return self.params.shared["device"]

    @property
    def data_source(self) -> str:
        return self.params.shared["data_source"]

    @property
    def data_root(self) -> str | None:
        return self.params.shared["data_root"]

    def grid(self) -> list[tuple[str, str, float, int]]:
        """``(dataset, method, value, seed)`` of every run in :func:`run_id` order: the
        paper's runs in model_num order (five zero-padded digits: model_num < 12,600), then
        the others (``x-...``)."""
        s = self.params.study
        points = [(d, m, float(v), seed)
                  for d in s["datasets"] for m in s["methods"]
                  for v in s["values"].get(m, vocabulary.METHODS[m].paper_values)
                  for seed in s["seeds"]]
        return sorted(points, key=lambda point: run_id(*point))

    def runs(self, resolve_source: Callable[[str, str, str | None], str]) -> list[Run]:
        """Every run with its hashes; ``resolve_source(name, source, root)`` turns
        ``auto`` into the source actually used (it enters the hash)."""
        sources: dict[str, str] = {}
        out = []
        for dataset, method, value, seed in self.grid():
            if dataset not in sources:
                sources[dataset] = resolve_source(dataset, self.data_source, self.data_root)
            out.append(make_run(dataset, sources[dataset], method, value, seed, self.training, self.evaluation))
        return out

    def run_dir(self, run: Run) -> Path:
        return self.runs_dir / run.name
