"""Run the study's metric configs on one representation (`evaluation/metrics/*.py`, `bin/dlib_reproduce`).

``evaluate`` samples what each metric needs from its own ``RandomState(seed)``
and returns one flat dict keyed ``"<metric config>.<reference key>"`` (the
names of ``vocabulary.METRIC_CONFIGS``) plus ``"<metric config>.elapsed_time"``.
Each config's settings come from the vocabulary; :data:`_RUNNERS` attaches the
code to each name (the one registry of metric configs; ``tests/test_vocabulary.py``
checks it against the vocabulary).

Seeds (`bin/dlib_reproduce: main`): the reference draws every postprocess and evaluation
seed from one master ``RandomState(0)`` with ``randint(2**32)``, in pipeline
order: postprocess mean, sampled, then the 9 metric configs (sorted) for the
mean representation, then for the sampled one. Every model therefore gets the
same evaluation samples. The study's seeds (master seed 0) are written out per
config in ``vocabulary``, so a config added there shifts no other's; another
master seed draws in that order over the vocabulary's configs (sorted).

Classifier semantics (``classifiers``, book/design.md, "Classifier semantics"): ``"paper"`` (default)
fits the logistic regressions of the BetaVAE score, explicitness and the downstream
task as scikit-learn 0.20 did for the study (liblinear one-vs-rest; one-vs-rest
``LogisticRegressionCV`` with a C per class); ``"modern"`` as scikit-learn >= 0.22 does
(lbfgs, multinomial). ``benchmarks/classifier_semantics.py`` compares the two.

Settings (book/design.md, "Metric settings"): ``"paper"`` is
`config/unsupervised_study_v1/metric_configs/*.gin` exactly. ``"fast"`` cross-validates the
downstream logistic regression over 5 Cs x 3 folds instead of 10 x 5 and uses
fewer BetaVAE/FactorVAE points; ``benchmarks/metrics_time.py`` measures its
deviation from ``"paper"``. Both use the same (numba) gradient-boosted trees:
they grow sklearn's trees and are faster than a histogram GBT at n <= 1,000
(``classifier="hist_gbt"`` / ``predictor="hist_boosted_trees"`` remain available
to direct calls of ``dci`` / ``downstream``).
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np

from .. import vocabulary
from ..estimators import check_classifiers
from .beta_vae import beta_vae_score
from .dci import sample_dci
from .downstream import downstream
from .factor_vae import factor_vae_metric
from .mig import sample_mig
from .modularity import sample_modularity_explicitness
from .sap import sample_sap
from .unsupervised import sample_unsupervised
from .utils import Represent

ALL = vocabulary.paper_metric_configs()
REPRESENTATIONS = vocabulary.REPRESENTATIONS

#: keyword arguments of every metric config, per settings name (from ``vocabulary``)
SETTINGS: dict[str, dict[str, dict]] = {
    which: {name: config.settings(which) for name, config in vocabulary.METRIC_CONFIGS.items()}
    for which in vocabulary.SETTINGS_NAMES
}

_RUNNERS: dict[str, Callable[..., dict]] = {
    "beta_vae_sklearn": beta_vae_score,
    "dci": sample_dci,
    "downstream_task_boosted_trees": downstream,
    "downstream_task_logistic_regression": downstream,
    "factor_vae_metric": factor_vae_metric,
    "mig": sample_mig,
    "modularity_explicitness": sample_modularity_explicitness,
    "sap_score": sample_sap,
    "unsupervised": sample_unsupervised,
}


def evaluation_seeds(master_seed: int = 0, representation: str = "mean") -> dict[str, int]:
    """Per-metric evaluation seeds drawn as the reference pipeline does (`bin/dlib_reproduce: main`) from
    ``RandomState(master_seed)``; master seed 0 gives the vocabulary's pinned seeds."""
    if representation not in REPRESENTATIONS:
        raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {representation!r}")
    if master_seed == 0:
        return vocabulary.evaluation_seeds(representation)
    master = np.random.RandomState(master_seed)
    for _ in REPRESENTATIONS:  # the two postprocess seeds come first
        master.randint(2**32)
    seeds = {rep: {name: int(master.randint(2**32)) for name in sorted(vocabulary.METRIC_CONFIGS)}
             for rep in REPRESENTATIONS}
    return seeds[representation]


def reference_evaluation_seeds(representation: str = "mean") -> dict[str, int]:
    """The seeds every model of the study was evaluated with (master seed 0; pinned in ``vocabulary``)."""
    return vocabulary.evaluation_seeds(representation)


def evaluate(dataset, represent: Represent | None = None, *, metrics: Sequence[str] = ALL,
             seed: int | dict[str, int] = 0, settings: str = "paper",
             representation: str = "mean", n_jobs: int = -1,
             overrides: dict[str, dict] | None = None, classifiers: str = "paper",
             represent_for: Callable[[str, int], Represent] | None = None) -> dict[str, float]:
    """Flat dict of every requested metric config's outputs on ``represent``.

    ``represent_for(metric, seed)``: instead of ``represent``, a representation per
    metric config (the study's sampled representation draws its noise from a stream
    seeded per metric, ``study.runs.representation_fn``).
    ``seed``: a master seed (per-metric seeds derived as the reference does for
    ``representation``; 0 reproduces the study's table) or a dict config → seed.
    ``n_jobs``: parallel classifier fits within DCI, SAP and downstream (threads;
    values do not depend on it). ``overrides``: per-config sample sizes replacing
    the settings' numbers (e.g. ``{"dci": {"num_train": 1000}}``) for runs too
    small for the paper's sizes; validated by ``vocabulary.check_overrides``.
    ``classifiers``: one of ``estimators.CLASSIFIER_SEMANTICS`` (see the module docstring)."""
    check_classifiers(classifiers)
    if (represent is None) == (represent_for is None):
        raise ValueError("give exactly one of represent and represent_for")
    unknown = [m for m in metrics if m not in _RUNNERS]
    if unknown:
        raise ValueError(f"unknown metric configs {unknown}; choose from {list(_RUNNERS)}")
    if settings not in SETTINGS:
        raise ValueError(f"settings must be one of {sorted(SETTINGS)}, got {settings!r}")
    seeds = evaluation_seeds(seed, representation) if not isinstance(seed, dict) else seed
    missing = [m for m in metrics if m not in seeds]
    if missing:
        raise ValueError(f"no seed given for {missing}")
    overrides = overrides or {}
    problem = vocabulary.check_overrides(overrides)
    if problem:
        raise ValueError(f"overrides: {problem}")
    results: dict[str, float] = {}
    for name in metrics:
        kwargs = {**SETTINGS[settings][name], **overrides.get(name, {})}
        if isinstance(kwargs.get("num_train"), list):
            kwargs["num_train"] = tuple(kwargs["num_train"])
        config = vocabulary.METRIC_CONFIGS[name]
        if config.parallel:
            kwargs["n_jobs"] = n_jobs
        if config.logistic:
            kwargs["classifiers"] = classifiers
        fn = represent if represent_for is None else represent_for(name, int(seeds[name]))
        start = time.perf_counter()
        scores = _RUNNERS[name](dataset, fn, seed=int(seeds[name]), **kwargs)
        elapsed = time.perf_counter() - start
        results.update({f"{name}.{key}": value for key, value in scores.items()})
        results[f"{name}.elapsed_time"] = elapsed
    return results
