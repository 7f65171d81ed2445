"""The paper's vocabulary: its methods, datasets and metric configs, defined once.

Every other module reads these names, labels, grids, settings and seeds from
here (this module imports nothing from the package and needs no torch). The
registries that attach code to a name (``models.MODEL_CLASSES``, the data modules,
``metrics.evaluate``'s runners) are checked against it by ``tests/test_vocabulary.py``.

Order does not matter anywhere: the position of a run in the reference's sweep
(``model_num``, `config/unsupervised_study_v1/sweep.py`) comes from each entry's explicit ``sweep_index``,
and each metric config's evaluation seeds (`bin/dlib_reproduce: main`) are written out
below. Adding an entry (a method, a dataset, a metric config) renumbers
nothing; an entry with ``sweep_index=None`` is not part of the paper's study and
its runs get an identity outside the paper's grid (``study.grid``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

#: the two representations the study evaluates (`postprocessing/methods.py`)
REPRESENTATIONS = ("mean", "sampled")
#: seeds per configuration in the paper's sweep (`config/unsupervised_study_v1/sweep.py`)
PAPER_SEEDS = 50


@dataclass(frozen=True)
class Method:
    """One of the paper's objectives (paper §4, Table 3; `methods/unsupervised/vae.py`)."""

    name: str  #: the reference's name, used in params files and results tables
    label: str  #: as the paper prints it
    hyperparameter: str  #: the hyperparameter the study sweeps
    paper_values: tuple[float, ...]  #: the swept values, in sweep order (``value_index``)
    gin_binding: str  #: the reference's gin binding of the swept hyperparameter (`config/unsupervised_study_v1/sweep.py`)
    #: the module holding the model class (the class whose ``name`` is this method's):
    #: ``.x`` is ``disentangle.models.x``; an absolute name is any importable module
    module: str
    sweep_index: int | None = None  #: position in the reference's sweep; None: not in the paper


@dataclass(frozen=True)
class Dataset:
    """A ground-truth dataset (`data/ground_truth/`; book/design.md, "Dataset files")."""

    name: str  #: our name, used in params files and results tables
    label: str  #: as the paper prints it
    num_factors: int  #: ground-truth factors of variation (paper §4)
    module: str  #: the ``disentangle.data`` module that loads it
    sweep_index: int | None = None  #: position in the reference's sweep; None: not in the paper
    dlib_name: str | None = None  #: the reference's name, when it differs or exists (`data/ground_truth/named_data.py`)
    procedural: bool = False  #: has an offline procedural stand-in (book/design.md, "Procedural datasets")
    dsprites_variant: bool = False  #: one of "the dSprites variants" (paper §5.5, Figs 5, 19; claim C11)
    variant: str | None = None  #: the module's ``variant`` keyword (``mpi3d``: toy | realistic | real)


@dataclass(frozen=True)
class MetricConfig:
    """One of the study's metric configs (`config/unsupervised_study_v1/metric_configs/*.gin`): its paper settings and seeds."""

    name: str  #: the reference's config name (``<name>.gin``), the prefix of its result columns
    label: str  #: the paper's name of the metric
    paper_settings: Mapping[str, Any]  #: keyword arguments as the study ran it (`config/unsupervised_study_v1/metric_configs/*.gin`)
    #: the reference's evaluation seed per representation (`bin/dlib_reproduce: main`), written out
    seeds: Mapping[str, int]
    #: ``"fast"`` settings: what changes from the paper's (``metrics.evaluate``)
    fast_changes: Mapping[str, Any] = field(default_factory=dict)
    #: the paper's scores of this config: label -> output key (``<name>.<key>`` columns)
    scores: Mapping[str, str] = field(default_factory=dict)
    kind: str = "disentanglement"  #: disentanglement | unsupervised | downstream
    #: fits a logistic regression whose semantics follow ``classifiers`` (``metrics.evaluate``)
    logistic: bool = False
    #: fits one classifier per factor, in parallel threads (``n_jobs``; values do not depend on it)
    parallel: bool = False

    @property
    def overridable(self) -> tuple[str, ...]:
        """The sample-size settings a params file may override: the integer ones."""
        return tuple(k for k, v in self.paper_settings.items() if _is_size(v))

    def settings(self, which: str = "paper") -> dict[str, Any]:
        """Keyword arguments under settings ``which`` (``paper`` or ``fast``)."""
        if which not in SETTINGS_NAMES:
            raise ValueError(f"settings must be one of {list(SETTINGS_NAMES)}, got {which!r}")
        return {**self.paper_settings, **(self.fast_changes if which == "fast" else {})}


def _is_size(v: Any) -> bool:
    ints = v if isinstance(v, tuple) else (v,)
    return all(isinstance(x, int) and not isinstance(x, bool) for x in ints)


SETTINGS_NAMES = ("paper", "fast")
#: the order in which the paper's figures list the scores (e.g. Figure 2)
SCORE_ORDER = ("BetaVAE", "FactorVAE", "MIG", "DCI", "Modularity", "SAP",
               "GaussianTC", "WassersteinCorr", "MeanPairwiseMI", "LR", "GBT")

# --------------------------------------------------------------------------- methods (`sweep.py`, `methods/unsupervised/vae.py`)

METHODS: dict[str, Method] = {m.name: m for m in (
    Method("beta_vae", "β-VAE", "beta", (1, 2, 4, 6, 8, 16), "vae.beta", ".beta_vae", sweep_index=0),
    Method("factor_vae", "FactorVAE", "gamma", (10, 20, 30, 40, 50, 100), "factor_vae.gamma", ".factor_vae",
           sweep_index=1),
    Method("dip_vae_i", "DIP-VAE-I", "lambda_od", (1, 2, 5, 10, 20, 50), "dip_vae.lambda_od", ".dip_vae",
           sweep_index=2),
    Method("dip_vae_ii", "DIP-VAE-II", "lambda_od", (1, 2, 5, 10, 20, 50), "dip_vae.lambda_od", ".dip_vae",
           sweep_index=3),
    Method("beta_tc_vae", "β-TCVAE", "beta", (1, 2, 4, 6, 8, 10), "beta_tc_vae.beta", ".beta_tc_vae",
           sweep_index=4),
    Method("annealed_vae", "AnnealedVAE", "c_max", (5, 10, 25, 50, 75, 100), "annealed_vae.c_max",
           ".annealed_vae", sweep_index=5),
)}

# --------------------------------------------------------------------------- datasets (`sweep.py`, `data/ground_truth/named_data.py`)

DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset("dsprites", "dSprites", 5, "dsprites", sweep_index=0, dlib_name="dsprites_full", procedural=True,
            dsprites_variant=True),
    Dataset("color_dsprites", "Color-dSprites", 5, "dsprites", sweep_index=1, dlib_name="color_dsprites",
            procedural=True, dsprites_variant=True),
    Dataset("noisy_dsprites", "Noisy-dSprites", 5, "dsprites", sweep_index=2, dlib_name="noisy_dsprites",
            procedural=True, dsprites_variant=True),
    Dataset("scream_dsprites", "Scream-dSprites", 5, "dsprites", sweep_index=3, dlib_name="scream_dsprites",
            procedural=True, dsprites_variant=True),
    Dataset("smallnorb", "SmallNORB", 4, "smallnorb", sweep_index=4, dlib_name="smallnorb"),
    Dataset("cars3d", "Cars3D", 3, "cars3d", sweep_index=5, dlib_name="cars3d"),
    Dataset("shapes3d", "Shapes3D", 6, "shapes3d", sweep_index=6, dlib_name="shapes3d", procedural=True),
    # present in the reference's code, not in the study (`data/ground_truth/mpi3d.py`)
    Dataset("mpi3d_toy", "MPI3D-toy", 7, "mpi3d", dlib_name="mpi3d_toy", variant="toy"),
    Dataset("mpi3d_realistic", "MPI3D-realistic", 7, "mpi3d", dlib_name="mpi3d_realistic", variant="realistic"),
    Dataset("mpi3d_real", "MPI3D-real", 7, "mpi3d", dlib_name="mpi3d_real", variant="real"),
)}

# --------------------------------------------------------------------------- metric configs (`metric_configs/*.gin`, `bin/dlib_reproduce: main`)

#: the downstream task's training-set sizes (`evaluation/metrics/downstream_task.py: compute_downstream_task`)
DOWNSTREAM_TRAIN_SIZES = (10, 100, 1_000, 10_000)

METRIC_CONFIGS: dict[str, MetricConfig] = {c.name: c for c in (
    MetricConfig(
        "beta_vae_sklearn", "BetaVAE score",
        dict(batch_size=64, num_train=10_000, num_eval=5_000),
        seeds={"mean": 3071714933, "sampled": 1650906866},
        fast_changes=dict(num_train=2_000, num_eval=1_000),
        scores={"BetaVAE": "eval_accuracy"}, logistic=True),
    MetricConfig(
        "dci", "DCI Disentanglement",
        dict(num_train=10_000, num_test=5_000, batch_size=16, classifier="gbt"),
        seeds={"mean": 3626093760, "sampled": 1879422756},
        scores={"DCI": "disentanglement"}, parallel=True),
    MetricConfig(
        "downstream_task_boosted_trees", "downstream task (boosted trees)",
        dict(num_train=DOWNSTREAM_TRAIN_SIZES, num_test=5_000, batch_size=16, predictor="boosted_trees"),
        seeds={"mean": 2588848963, "sampled": 1277901399},
        scores={"GBT": ""}, kind="downstream", parallel=True),
    MetricConfig(
        "downstream_task_logistic_regression", "downstream task (logistic regression)",
        dict(num_train=DOWNSTREAM_TRAIN_SIZES, num_test=5_000, batch_size=16, predictor="logistic_regression"),
        seeds={"mean": 3684848379, "sampled": 3830135878},
        fast_changes=dict(predictor="logistic_regression_fast"),
        scores={"LR": ""}, kind="downstream", logistic=True, parallel=True),
    MetricConfig(
        "factor_vae_metric", "FactorVAE score",
        dict(batch_size=64, num_train=10_000, num_eval=5_000, num_variance_estimate=10_000, prune_threshold=0.05),
        seeds={"mean": 2340255427, "sampled": 243580376},
        fast_changes=dict(num_train=2_000, num_eval=1_000, num_variance_estimate=5_000),
        scores={"FactorVAE": "eval_accuracy"}),
    MetricConfig(
        "mig", "Mutual Information Gap",
        dict(num_train=10_000, batch_size=16, num_bins=20),
        seeds={"mean": 3638918503, "sampled": 4138900056},
        scores={"MIG": "discrete_mig"}),
    MetricConfig(
        "modularity_explicitness", "Modularity",
        dict(num_train=10_000, num_test=5_000, batch_size=16, num_bins=20),
        seeds={"mean": 1819583497, "sampled": 1171049868},
        scores={"Modularity": "modularity_score"}, logistic=True),
    MetricConfig(
        "sap_score", "SAP score",
        dict(num_train=10_000, num_test=5_000, batch_size=16, continuous_factors=False),
        seeds={"mean": 2678185683, "sampled": 1646868794},
        scores={"SAP": "SAP_score"}, parallel=True),
    MetricConfig(
        "unsupervised", "unsupervised scores",
        dict(num_train=10_000, batch_size=16, num_bins=20),
        seeds={"mean": 2774094101, "sampled": 2051556033},
        scores={"GaussianTC": "gaussian_total_correlation",
                "WassersteinCorr": "gaussian_wasserstein_correlation_norm",
                "MeanPairwiseMI": "mutual_info_score"},
        kind="unsupervised"),
)}
#: postprocessing seeds of the reference pipeline (`bin/dlib_reproduce: main`), drawn before the metric seeds
POSTPROCESS_SEEDS = {"mean": 2357136044, "sampled": 2546248239}


# --------------------------------------------------------------------------- derived views


def paper_methods() -> tuple[str, ...]:
    """The paper's six methods, in the reference's sweep order."""
    return _in_sweep_order(METHODS.values())


def paper_datasets() -> tuple[str, ...]:
    """The paper's seven datasets, in the reference's sweep order."""
    return _in_sweep_order(DATASETS.values())


def _in_sweep_order(entries: Iterable[Method | Dataset]) -> tuple[str, ...]:
    return tuple(e.name for e in sorted((e for e in entries if e.sweep_index is not None),
                                        key=lambda e: e.sweep_index))


def sweep_position(name: str) -> int:
    """A method's or dataset's position in the reference's sweep; names outside it sort after
    (``sorted(names, key=sweep_position)`` lists them in the paper's order)."""
    entry = METHODS.get(name) or DATASETS.get(name)
    if entry is None or entry.sweep_index is None:
        return len(METHODS) + len(DATASETS)
    return entry.sweep_index


def paper_grid() -> dict[str, tuple[float, ...]]:
    """method -> the paper's swept values, in sweep order (`config/unsupervised_study_v1/sweep.py`)."""
    return {m: METHODS[m].paper_values for m in paper_methods()}


def paper_metric_configs() -> tuple[str, ...]:
    """The study's metric configs in the reference's (sorted) order (`config/unsupervised_study_v1/metric_configs/*.gin`)."""
    return tuple(sorted(METRIC_CONFIGS))


def hyperparameter(method: str) -> str:
    """The hyperparameter the study sweeps for ``method`` (`config/unsupervised_study_v1/sweep.py`)."""
    return lookup("method", method).hyperparameter


def dsprites_variants() -> tuple[str, ...]:
    """The datasets the paper groups as "the dSprites variants" (paper §5.5)."""
    return tuple(d.name for d in DATASETS.values() if d.dsprites_variant)


def scores(kind: str = "disentanglement") -> dict[str, str]:
    """Paper label -> results-table column of every score of ``kind`` (disentanglement |
    unsupervised), e.g. ``"MIG": "mig.discrete_mig"``."""
    if kind not in ("disentanglement", "unsupervised"):
        raise ValueError(f"kind must be 'disentanglement' or 'unsupervised', got {kind!r}")
    found = {label: f"{c.name}.{key}" for c in METRIC_CONFIGS.values() if c.kind == kind
             for label, key in c.scores.items()}
    return dict(sorted(found.items(), key=lambda item: _score_position(item[0])))


def downstream_predictors() -> dict[str, str]:
    """Predictor label (``LR``, ``GBT``) -> its downstream-task metric config (`evaluation/metrics/downstream_task.py: compute_downstream_task`)."""
    found = {label: c.name for c in METRIC_CONFIGS.values() if c.kind == "downstream" for label in c.scores}
    return dict(sorted(found.items(), key=lambda item: _score_position(item[0])))


def _score_position(label: str) -> int:
    return SCORE_ORDER.index(label) if label in SCORE_ORDER else len(SCORE_ORDER)


def method_label(name: str) -> str:
    """The paper's label of a method (``"beta_vae"`` -> ``"β-VAE"``); an unknown name as it is."""
    return METHODS[name].label if name in METHODS else name


def dataset_label(name: str) -> str:
    """The paper's label of a dataset (``"dsprites"`` -> ``"dSprites"``); an unknown name as it is."""
    return DATASETS[name].label if name in DATASETS else name


def evaluation_seeds(representation: str = "mean") -> dict[str, int]:
    """metric config -> the reference's evaluation seed for ``representation`` (`bin/dlib_reproduce: main`)."""
    if representation not in REPRESENTATIONS:
        raise ValueError(f"representation must be one of {list(REPRESENTATIONS)}, got {representation!r}")
    return {name: c.seeds[representation] for name, c in METRIC_CONFIGS.items()}


def lookup(kind: str, name: str) -> Method | Dataset | MetricConfig:
    """The entry ``name`` of ``kind`` (method | dataset | metric config), or a ``ValueError`` listing the known ones."""
    table = {"method": METHODS, "dataset": DATASETS, "metric config": METRIC_CONFIGS}[kind]
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}; known: {', '.join(table)}") from None


def check_overrides(overrides: Any) -> str | None:
    """Why a ``metric config -> {setting: number}`` mapping is not valid, else None.

    The one validation of sample-size overrides (params files and ``metrics.evaluate``):
    only the integer settings of a known config; the downstream ``num_train`` is a list."""
    if not isinstance(overrides, Mapping):
        return "must be a mapping metric config -> {setting: number}"
    for metric, changes in overrides.items():
        if metric not in METRIC_CONFIGS:
            return f"unknown metric config {metric!r}; allowed: {list(METRIC_CONFIGS)}"
        if not isinstance(changes, Mapping):
            return f"{metric}: must be a mapping setting -> number"
        allowed = METRIC_CONFIGS[metric].overridable
        for key, value in changes.items():
            if key not in allowed:
                return f"{metric}.{key}: not an overridable setting; allowed: {list(allowed)}"
            many = isinstance(METRIC_CONFIGS[metric].paper_settings[key], tuple)
            ok = (isinstance(value, (list, tuple)) and len(value) > 0 and all(map(_positive_int, value))) \
                if many else _positive_int(value)
            if not ok:
                return (f"{metric}.{key}: must be {'a list of ' if many else 'a '}positive "
                        f"integer{'s' if many else ''}, got {value!r}")
    return None


def _positive_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1
