"""Executable reproduction of Locatello et al. (ICML 2019).

Subpackages: ``data`` (ground-truth datasets), ``models`` (the six VAEs),
``training`` (trainer, batched multi-model training), ``metrics`` (scores),
``estimators`` (the classifiers the metrics fit),
``study`` (grids, runs, results), ``analysis`` (claims tables, plots),
``theory`` (Theorem 1), ``params`` (params files), ``book`` (the runner).
"""

__version__ = "0.1.0"
