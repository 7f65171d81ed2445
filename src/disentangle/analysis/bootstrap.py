"""Bootstrap intervals over runs.

The unit of resampling is a *run* (one trained model = one configuration at
one seed; both its representation rows move together). Runs are resampled
*within* their configuration (dataset, method, value), so every resample keeps
the sweep's design. Three schemes (:data:`SCHEMES`):

- ``"replacement"``: the classic bootstrap, runs drawn with replacement, each
  drawn run relabelled with the seed of the slot it fills. A run drawn twice
  then poses as two "different seeds" (a tie with itself, zero seed variance),
  which biases statistics that compare seeds (Table 1 transfer, Table 5).
- ``"distinct"``: a cluster bootstrap whose statistics see a duplicated run
  once: runs are drawn with replacement, duplicates are dropped and every run
  keeps its own seed; the percentile interval of the replicates.
- ``"subsample"``: half-sampling without replacement, ``m = ceil(n / 2)`` of the
  ``n`` runs of each configuration; the spread of the replicates around their
  mean, scaled by ``sqrt(m / (n - m))`` (the finite-population factor that makes a
  size-m subsample's variance that of the full sample), is set around the
  estimate.

Which scheme the claims use is decided by ``benchmarks/claims_calibration.py``
(measured coverage and false-verdict rates), not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .results_table import CONFIG_KEY, RUN_KEY, require_columns


SCHEMES = ("replacement", "distinct", "subsample")


@dataclass(frozen=True)
class BootstrapCI:
    """Point estimate (statistic on the original data) and percentile interval."""

    estimate: float
    lo: float
    hi: float
    level: float
    n_boot: int
    #: replicates with a finite statistic (the interval uses only these)
    n_valid: int

    def __iter__(self):
        return iter((self.estimate, self.lo, self.hi))

    def including_estimate(self) -> "BootstrapCI":
        """The hull of the interval and the estimate (what the claims show and decide on)."""
        if not (np.isfinite(self.estimate) and np.isfinite(self.lo) and np.isfinite(self.hi)):
            return self
        return BootstrapCI(self.estimate, min(self.lo, self.estimate), max(self.hi, self.estimate),
                           self.level, self.n_boot, self.n_valid)

    def widened(self, factor: float) -> "BootstrapCI":
        """Each side's distance from the estimate times ``factor`` (the calibrated widening of
        ``analysis/claims_gate.csv``; 1 leaves the interval as it is)."""
        if factor == 1 or not (np.isfinite(self.estimate) and np.isfinite(self.lo) and np.isfinite(self.hi)):
            return self
        e = self.estimate
        return BootstrapCI(e, e - factor * (e - self.lo), e + factor * (self.hi - e),
                           self.level, self.n_boot, self.n_valid)

    def clipped(self, lo: float, hi: float) -> "BootstrapCI":
        """The interval cut to the values the statistic can take, ``[lo, hi]``."""
        if not (np.isfinite(self.lo) and np.isfinite(self.hi)):
            return self
        return BootstrapCI(self.estimate, float(np.clip(self.lo, lo, hi)), float(np.clip(self.hi, lo, hi)),
                           self.level, self.n_boot, self.n_valid)

    def format(self, digits: int = 2) -> str:
        """e.g. ``"0.41 [0.22, 0.60]"``; ``"n/a"`` when the estimate is not finite."""
        if not np.isfinite(self.estimate):
            return "n/a"
        if not (np.isfinite(self.lo) and np.isfinite(self.hi)):
            return f"{self.estimate:.{digits}f} [CI n/a]"
        return f"{self.estimate:.{digits}f} [{self.lo:.{digits}f}, {self.hi:.{digits}f}]"


class RunResampler:
    """Draws resampled copies of a results table: runs within strata, by ``scheme`` (:data:`SCHEMES`).

    ``unit`` columns identify a run (default: dataset, method, value, seed);
    ``strata`` (a subset of ``unit``, default: dataset, method, value) the
    groups inside which runs are resampled.
    """

    def __init__(self, df: pd.DataFrame, *, unit: Sequence[str] = RUN_KEY, strata: Sequence[str] = CONFIG_KEY,
                 scheme: str = "replacement"):
        if scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
        self.scheme = scheme
        unit, strata = list(unit), list(strata)
        require_columns(df, unit + strata)
        if not set(strata) <= set(unit):
            raise ValueError(f"strata {strata} must be a subset of the unit columns {unit}")
        if df.empty:
            raise ValueError("cannot bootstrap an empty results table")
        unit_id = df.groupby(unit, sort=True).ngroup().to_numpy()
        order = np.argsort(unit_id, kind="stable")
        self._rows = df.iloc[order].reset_index(drop=True)
        unit_sorted = unit_id[order]
        n_units = int(unit_sorted.max()) + 1
        self._unit_len = np.bincount(unit_sorted, minlength=n_units)
        self._unit_start = np.concatenate([[0], np.cumsum(self._unit_len)[:-1]])
        units = self._rows.iloc[self._unit_start][unit].reset_index(drop=True)
        stratum = units.groupby(strata, sort=True).ngroup().to_numpy()
        # slots: units ordered by stratum (then by their unit key, i.e. by seed)
        self._slot_unit = np.argsort(stratum, kind="stable")
        sizes = np.bincount(stratum)
        self._slot_offset = np.repeat(np.cumsum(sizes) - sizes, sizes)
        self._slot_size = np.repeat(sizes, sizes)
        slot_units = units.iloc[self._slot_unit]
        self._slot_labels = {c: slot_units[c].to_numpy() for c in unit if c not in strata}
        self._slot_stratum = np.repeat(np.arange(sizes.size), sizes)
        self._half = np.repeat(-(-sizes // 2), sizes)          # ceil(n / 2) runs kept per stratum
        self.n_units = n_units
        n_min = int(sizes.min())
        if scheme == "subsample" and n_min < 2:
            raise ValueError("the subsample scheme needs >= 2 runs in every configuration")
        m = -(-n_min // 2)
        #: factor on the replicates' spread (subsample scheme): sqrt(m / (n - m)) at the smallest stratum
        self.spread_scale = float(np.sqrt(m / (n_min - m))) if scheme == "subsample" else 1.0

    def draw(self, rng: np.random.Generator) -> pd.DataFrame:
        """One resampled table (new RangeIndex). ``replacement``: non-strata unit columns relabelled
        by slot; ``distinct`` / ``subsample``: each run at most once, with its own labels."""
        if self.scheme == "subsample":
            order = np.lexsort((rng.random(self._slot_stratum.size), self._slot_stratum))
            rank = np.arange(order.size) - self._slot_offset
            slots = np.sort(order[rank < self._half])
            picked = self._slot_unit[slots]
        else:
            picked = self._slot_unit[self._slot_offset + rng.integers(0, self._slot_size)]
            if self.scheme == "distinct":
                picked = np.unique(picked)
        lens = self._unit_len[picked]
        starts = self._unit_start[picked]
        within = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
        out = self._rows.iloc[np.repeat(starts, lens) + within].reset_index(drop=True)
        if self.scheme == "replacement":
            for column, labels in self._slot_labels.items():
                out[column] = np.repeat(labels, lens)
        return out


def _interval(replicates: np.ndarray, level: float, estimate: float = np.nan,
              spread_scale: float | None = None) -> tuple[float, float, int]:
    """Percentile interval of the finite replicates; with ``spread_scale``, the replicates'
    quantiles minus their mean, scaled, around ``estimate`` (subsample scheme)."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size < 2:
        return float("nan"), float("nan"), int(finite.size)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(finite, [alpha, 1.0 - alpha])
    if spread_scale is not None:
        centre = finite.mean()
        lo, hi = estimate + spread_scale * (lo - centre), estimate + spread_scale * (hi - centre)
    return float(lo), float(hi), int(finite.size)


def _check(n_boot: int, level: float) -> None:
    if n_boot < 1:
        raise ValueError("n_boot must be >= 1")
    if not 0 < level < 1:
        raise ValueError("level must lie strictly between 0 and 1")


def bootstrap_replicates(df: pd.DataFrame, statistics: Callable[[pd.DataFrame], Mapping[str, float]], *,
                         seed: int, n_boot: int, scheme: str = "replacement", unit: Sequence[str] = RUN_KEY,
                         strata: Sequence[str] = CONFIG_KEY,
                         estimates: Mapping[str, float] | None = None) -> tuple[dict[str, float], dict[str, np.ndarray],
                                                                              RunResampler]:
    """Estimates on ``df`` and ``n_boot`` replicates per statistic (NaN where undefined)."""
    if n_boot < 1:
        raise ValueError("n_boot must be >= 1")
    resampler = RunResampler(df, unit=unit, strata=strata, scheme=scheme)
    if estimates is None:
        estimates = {name: float(v) for name, v in statistics(df).items()}
    reps = {name: np.full(n_boot, np.nan) for name in estimates}
    rng = np.random.default_rng(seed)
    for b in range(n_boot):
        for name, value in statistics(resampler.draw(rng)).items():
            if name in reps:
                reps[name][b] = float(value)
    return dict(estimates), reps, resampler


def interval_from_replicates(estimate: float, replicates: np.ndarray, *, level: float, scheme: str,
                             spread_scale: float = 1.0) -> BootstrapCI:
    """The ``scheme``'s interval (see the module docstring) from its replicates."""
    _check(max(1, replicates.size), level)
    if not np.isfinite(estimate):
        return BootstrapCI(estimate, np.nan, np.nan, level, replicates.size, 0)
    scale = spread_scale if scheme == "subsample" else None
    lo, hi, n_valid = _interval(replicates, level, estimate, scale)
    return BootstrapCI(float(estimate), lo, hi, level, replicates.size, n_valid)


def bootstrap_many(df: pd.DataFrame, statistics: Callable[[pd.DataFrame], Mapping[str, float]], *,
                   seed: int, n_boot: int = 1000, level: float = 0.95, scheme: str = "replacement",
                   unit: Sequence[str] = RUN_KEY, strata: Sequence[str] = CONFIG_KEY) -> dict[str, BootstrapCI]:
    """CIs of several statistics computed together on the *same* run resamples (``scheme`` in :data:`SCHEMES`).

    ``statistics(table)`` returns name → value; names with a non-finite value on
    the original table get a NaN interval.
    """
    _check(n_boot, level)
    estimates, reps, resampler = bootstrap_replicates(df, statistics, seed=seed, n_boot=n_boot, scheme=scheme,
                                                      unit=unit, strata=strata)
    return {name: interval_from_replicates(est, reps[name], level=level, scheme=scheme,
                                           spread_scale=resampler.spread_scale)
            for name, est in estimates.items()}


def bootstrap_ci(data, statistic: Callable, *, seed: int, n_boot: int = 1000, level: float = 0.95,
                 unit: Sequence[str] = RUN_KEY, strata: Sequence[str] = CONFIG_KEY,
                 scheme: str = "replacement") -> BootstrapCI:
    """Percentile bootstrap CI of ``statistic(data)``.

    ``data`` is one of: a 1-D array-like of per-run values (resampled with
    replacement); a tuple of such arrays (independent groups, each resampled
    within itself; ``statistic`` receives the tuple); or a results DataFrame
    (runs resampled within configurations, see :class:`RunResampler`).
    Randomness: ``np.random.default_rng(seed)``.
    """
    _check(n_boot, level)
    if isinstance(data, pd.DataFrame):
        return bootstrap_many(data, lambda table: {"s": statistic(table)}, seed=seed, n_boot=n_boot, level=level,
                              scheme=scheme, unit=unit, strata=strata)["s"]
    rng = np.random.default_rng(seed)
    if isinstance(data, tuple):
        groups = tuple(np.asarray(g) for g in data)
        if any(g.ndim != 1 or g.size == 0 for g in groups):
            raise ValueError("each group must be a non-empty 1-D array")
        estimate = float(statistic(groups))
        draw = lambda: tuple(g[rng.integers(0, g.size, g.size)] for g in groups)  # noqa: E731
    else:
        values = np.asarray(data)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"data must be a non-empty 1-D array, got shape {values.shape}")
        estimate = float(statistic(values))
        draw = lambda: values[rng.integers(0, values.size, values.size)]  # noqa: E731
    reps = np.array([float(statistic(draw())) for _ in range(n_boot)])
    lo, hi, n_valid = _interval(reps, level) if np.isfinite(estimate) else (np.nan, np.nan, 0)
    return BootstrapCI(estimate, lo, hi, level, n_boot, n_valid)
