"""Theorem 1 (impossibility) and its explicit construction (paper §3, Theorem 1; Appendix A).

For z with independent marginals F_1..F_d, the map

    f = g⁻¹ ∘ h⁻¹ ∘ A ∘ h ∘ g,   g_i = F_i (per-coordinate CDF),   h_i = Ψ⁻¹ (standard-normal quantile),

with A orthogonal and every entry nonzero, is a bijection of supp(z) such that f(z) has the same
distribution as z while every ∂f_i/∂z_j ≠ 0 (z and f(z) are completely entangled). The paper's
family of valid A is the Householder reflection :func:`householder`.

This module holds the construction (:class:`EntanglingMap`), the numerical checks of the chapter
``book/01_impossibility`` — (i) same marginals, (ii) independence, (iii) Jacobian, (iv) the metric
flip, (v) a 2-D grid picture — and the C1 claims table (book/design.md, "The paper's conclusions as claims"). Their figures are
:mod:`disentangle.analysis.plots.theory`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

#: independent marginals by name (frozen scipy distributions; book/design.md, "Theorem 1, numerically")
MARGINALS: Mapping[str, Any] = {
    "uniform": stats.uniform(0.0, 1.0),
    "exponential": stats.expon(),
    "beta": stats.beta(2.0, 5.0),
    "gaussian": stats.norm(),
    "laplace": stats.laplace(),
}

#: smallest tail probability handed to Ψ⁻¹ or F⁻¹ (keeps them finite: Ψ⁻¹(1e-300) ≈ −37)
_P_MIN = 1e-300


def _check_marginals(names: Sequence[str]) -> tuple[str, ...]:
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise ValueError(f"marginals must be a list of names, got {names!r}")
    bad = [n for n in names if n not in MARGINALS]
    if bad:
        raise ValueError(f"unknown marginals {bad}; allowed: {sorted(MARGINALS)}")
    return tuple(names)


def cycle_marginals(names: Sequence[str], dims: int) -> tuple[str, ...]:
    """Marginal of each of ``dims`` coordinates: ``names`` repeated in order (coordinate i gets names[i % len])."""
    names = _check_marginals(names)
    if not names:
        raise ValueError("marginals must not be empty")
    if dims < 1:
        raise ValueError(f"dims must be >= 1, got {dims}")
    return tuple(names[i % len(names)] for i in range(dims))


def sample_latents(marginals: Sequence[str], n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws of z with independent coordinates, coordinate i ~ MARGINALS[marginals[i]]; shape (n, d)."""
    marginals = _check_marginals(marginals)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return np.column_stack([MARGINALS[m].rvs(size=n, random_state=rng) for m in marginals]).astype(np.float64)


def householder(d: int, alpha: float) -> np.ndarray:
    """The paper's orthogonal A = I − 2 v vᵀ with every entry nonzero (paper §3, Theorem 1; Appendix A).

    v_1 = √α, v_i = √((1−α)/(d−1)) for i ≥ 2 (so ‖v‖ = 1), α ∈ (0, ½), d ≥ 2.
    Diagonal: A_ii = 1 − 2 v_i² ≠ 0 since no v_i² equals ½ (for d = 2 this needs α ≠ ½).
    Off-diagonal: A_ij = −2 v_i v_j ≠ 0. The paper prints −v_i v_j, a typo (it would not be orthogonal).
    """
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 2:
        raise ValueError(f"householder: d must be an integer >= 2, got {d!r}")
    if not (isinstance(alpha, (int, float, np.floating)) and 0.0 < float(alpha) < 0.5):
        raise ValueError(f"householder: alpha must be in the open interval (0, 0.5), got {alpha!r}")
    v = np.full(int(d), np.sqrt((1.0 - alpha) / (d - 1)))
    v[0] = np.sqrt(alpha)
    return np.eye(int(d)) - 2.0 * np.outer(v, v)


class EntanglingMap:
    """f = g⁻¹ ∘ h⁻¹ ∘ A ∘ h ∘ g of Theorem 1 with A = :func:`householder` (d, α) (§3, Theorem 1; Appendix A).

    ``marginals`` names the (independent) marginal of each coordinate; d = len(marginals) ≥ 2.
    The CDF step is evaluated on the smaller tail (cdf/ppf left of the median, sf/isf right of it)
    and probabilities are clipped at 1e-300, so ``inverse(f(z)) == z`` to ~1e-12.
    """

    def __init__(self, marginals: Sequence[str], alpha: float):
        self.marginals = _check_marginals(marginals)
        self.d = len(self.marginals)
        self.alpha = float(alpha)
        self.A = householder(self.d, alpha)
        self._dists = [MARGINALS[m] for m in self.marginals]

    def __repr__(self) -> str:
        return f"EntanglingMap(marginals={list(self.marginals)}, alpha={self.alpha})"

    def _as_points(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)
        if z.ndim != 2 or z.shape[1] != self.d:
            raise ValueError(f"expected points of shape (n, {self.d}), got {z.shape}")
        return z

    def to_gaussian(self, z: np.ndarray) -> np.ndarray:
        """h(g(z)) = Ψ⁻¹(F(z)), coordinate-wise: independent marginals → N(0, I)."""
        z = self._as_points(z)
        out = np.empty_like(z)
        for i, dist in enumerate(self._dists):
            left = np.clip(dist.cdf(z[:, i]), _P_MIN, 1.0)
            right = np.clip(dist.sf(z[:, i]), _P_MIN, 1.0)
            out[:, i] = np.where(left < 0.5, stats.norm.ppf(left), stats.norm.isf(right))
        return out

    def from_gaussian(self, s: np.ndarray) -> np.ndarray:
        """g⁻¹(h⁻¹(s)) = F⁻¹(Ψ(s)), coordinate-wise: N(0, I) → independent marginals."""
        s = self._as_points(s)
        out = np.empty_like(s)
        for i, dist in enumerate(self._dists):
            left = np.clip(stats.norm.cdf(s[:, i]), _P_MIN, 1.0)
            right = np.clip(stats.norm.sf(s[:, i]), _P_MIN, 1.0)
            out[:, i] = np.where(s[:, i] < 0.0, dist.ppf(left), dist.isf(right))
        return out

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """f(z) for points z of shape (n, d)."""
        return self.from_gaussian(self.to_gaussian(z) @ self.A.T)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        """f⁻¹(y) = g⁻¹ ∘ h⁻¹ ∘ Aᵀ ∘ h ∘ g (A is orthogonal)."""
        return self.from_gaussian(self.to_gaussian(y) @ self.A)

    def jacobian(self, z: np.ndarray) -> np.ndarray:
        """Analytic ∂f_i/∂z_j at each point, shape (n, d, d) (Appendix A, chain rule).

        With s = h(g(z)), t = A s, y = f(z):  J_ij = A_ij · p_j(z_j) φ(t_i) / (φ(s_j) p_i(y_i)),
        so J_ij ≠ 0 exactly where A_ij ≠ 0 (p = marginal densities, φ = standard-normal density).
        """
        z = self._as_points(z)
        s = self.to_gaussian(z)
        t = s @ self.A.T
        y = self.from_gaussian(t)
        log_in = np.column_stack([dist.logpdf(z[:, j]) for j, dist in enumerate(self._dists)]) - stats.norm.logpdf(s)
        log_out = stats.norm.logpdf(t) - np.column_stack([dist.logpdf(y[:, i]) for i, dist in enumerate(self._dists)])
        return self.A[None] * np.exp(log_out[:, :, None] + log_in[:, None, :])

    def jacobian_fd(self, z: np.ndarray, eps: float = 1e-6) -> np.ndarray:
        """Central finite-difference Jacobian, shape (n, d, d).

        Step eps·max(1, |z_j|), capped at 1e-3 × the distance to the support's edge (g is
        log-singular there), so both evaluation points stay inside the support.
        """
        z = self._as_points(z)
        out = np.empty((len(z), self.d, self.d))
        for j, dist in enumerate(self._dists):
            lo, hi = dist.support()
            to_edge = np.minimum(z[:, j] - lo, hi - z[:, j])
            step = np.minimum(eps * np.maximum(1.0, np.abs(z[:, j])), 1e-3 * to_edge)
            plus, minus = z.copy(), z.copy()
            plus[:, j] += step
            minus[:, j] -= step
            out[:, :, j] = (self(plus) - self(minus)) / (plus[:, j] - minus[:, j])[:, None]
        return out


# --------------------------------------------------------------------------- checks (i)-(v)


def ks_checks(fz: np.ndarray, marginals: Sequence[str], z_reference: np.ndarray) -> pd.DataFrame:
    """(i) Same distribution: per coordinate, KS of f(z)_i against the marginal CDF F_i, and the
    two-sample KS of f(z)_i against an *independent* sample z_reference_i (book/design.md, "Theorem 1, numerically", check (i))."""
    marginals = _check_marginals(marginals)
    rows = []
    for i, name in enumerate(marginals):
        one = stats.kstest(fz[:, i], MARGINALS[name].cdf)
        two = stats.ks_2samp(fz[:, i], z_reference[:, i])
        rows.append({"coordinate": i, "marginal": name, "KS vs F_i": one.statistic, "p vs F_i": one.pvalue,
                     "KS vs fresh z_i": two.statistic, "p vs fresh z_i": two.pvalue})
    return pd.DataFrame(rows).set_index("coordinate")


def rank_bins(x: np.ndarray, bins: int) -> np.ndarray:
    """Equal-frequency bin (0..bins-1) of every entry, per column, from its rank."""
    ranks = np.argsort(np.argsort(x, axis=0, kind="stable"), axis=0)
    return (ranks * bins) // len(x)


def joint_over_product(x: np.ndarray, i: int, j: int, bins: int) -> tuple[np.ndarray, float]:
    """Joint histogram of columns (i, j) on equal-frequency bins divided by the product of its marginals
    (≡ 1 under independence), shape (bins, bins), and the total-variation distance ½Σ|p_ab − p_a p_b|."""
    b = rank_bins(x[:, [i, j]], bins)
    joint = np.zeros((bins, bins))
    np.add.at(joint, (b[:, 0], b[:, 1]), 1.0)
    joint /= len(x)
    product = np.outer(joint.sum(1), joint.sum(0))
    return joint / product, 0.5 * float(np.abs(joint - product).sum())


def independence_checks(samples: Mapping[str, np.ndarray], bins: int = 10) -> pd.DataFrame:
    """(ii) Independence of the coordinates of each sample (book/design.md, "Theorem 1, numerically", check (ii)).

    Per coordinate pair: Spearman ρ and its p-value, and on a bins×bins equal-frequency histogram
    the total-variation distance ½Σ|p_ab − p_a p_b| between joint and product of marginals and the
    χ² independence test's p-value. One row per (sample, pair).
    """
    rows = []
    for source, x in samples.items():
        b = rank_bins(x, bins)
        for i, j in combinations(range(x.shape[1]), 2):
            rho = stats.spearmanr(x[:, i], x[:, j])
            table = np.zeros((bins, bins))
            np.add.at(table, (b[:, i], b[:, j]), 1.0)
            p = table / len(x)
            chi2 = stats.chi2_contingency(table, correction=False)
            rows.append({"sample": source, "pair": f"({i},{j})", "spearman": rho.statistic,
                         "spearman p": rho.pvalue, "TV(joint, product)": 0.5 * np.abs(p - np.outer(p.sum(1), p.sum(0))).sum(),
                         "chi2 p": chi2.pvalue})
    return pd.DataFrame(rows)


def independence_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per sample of :func:`independence_checks`: worst |Spearman|, median and worst TV, smallest χ² p."""
    grouped = table.groupby("sample", sort=False)
    return pd.DataFrame({
        "pairs": grouped.size(),
        "max |spearman|": grouped["spearman"].apply(lambda s: s.abs().max()),
        "median TV": grouped["TV(joint, product)"].median(),
        "max TV": grouped["TV(joint, product)"].max(),
        "min chi2 p": grouped["chi2 p"].min(),
    })


def standardised_rotation(z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """A·z̃ with z̃ the per-column standardised z: the rotation *without* g and h, for contrast.

    Uncorrelated, but for non-Gaussian z neither independent nor with z's marginals (Darmois–Skitovich).
    """
    return ((z - z.mean(0)) / z.std(0)) @ A.T


def jacobian_checks(fmap: EntanglingMap, z: np.ndarray, eps: float = 1e-6) -> dict[str, Any]:
    """(iii) Complete entanglement (book/design.md, "Theorem 1, numerically", check (iii)) at the points z.

    ``rel_error``: per point, max|J − J_fd| / max|J| (analytic vs finite differences), max and median.
    ``nonzero_fraction``: share of nonzero finite-difference entries (entries far in a tail can be
    many orders of magnitude below the point's largest one, so no relative threshold is applied).
    ``sign_match_fraction``: share of points where sign(J_fd) == sign(A) in every entry;
    ``sign_match_per_entry``: that share per (i, j). ``example``: the analytic J at z[0].
    """
    J = fmap.jacobian(z)
    J_fd = fmap.jacobian_fd(z, eps)
    scale = np.abs(J).max(axis=(1, 2))
    rel = np.abs(J - J_fd).max(axis=(1, 2)) / scale
    match = np.sign(J_fd) == np.sign(fmap.A)[None]
    return {
        "points": len(z),
        "max_rel_error": float(rel.max()),
        "median_rel_error": float(np.median(rel)),
        "nonzero_fraction": float((J_fd != 0).mean()),
        "sign_match_fraction": float(match.all(axis=(1, 2)).mean()),
        "sign_match_per_entry": match.mean(axis=0),
        "example": J[0],
        "example_point": z[0],
    }


def factor_bin_edges(factors: np.ndarray, num_bins: int, binning: str) -> list[np.ndarray]:
    """Interior bin edges per column: ``"width"`` = equal-width over [min, max] (the same partition
    MIG applies to codes, `evaluation/metrics/mig.py: compute_mig`), ``"frequency"`` = equal-frequency (sample quantiles)."""
    if binning == "width":
        return [np.linspace(c.min(), c.max(), num_bins + 1)[1:-1] for c in factors.T]
    if binning == "frequency":
        return [np.quantile(c, np.arange(1, num_bins) / num_bins) for c in factors.T]
    raise ValueError(f"binning must be 'width' or 'frequency', got {binning!r}")


def discretise(factors: np.ndarray, edges: Sequence[np.ndarray]) -> np.ndarray:
    """Integer bin ids 0..num_bins-1 per column for the given interior edges."""
    return np.column_stack([np.digitize(c, e) for c, e in zip(factors.T, edges)]).astype(np.int64)


def metric_flip(fmap: EntanglingMap, n_train: int, n_test: int, rng: np.random.Generator, *,
                factor_bins: int = 20, binning: str = "width", seed: int = 0) -> pd.DataFrame:
    """(iv) The flip (§3 after Theorem 1; book/design.md, "Theorem 1, numerically", check (iv)): representation r = z scored against the
    ground-truth factors z and against the equally valid factors f(z).

    Both latent models generate the same P(x) (f(z) ~ z; decoder x = dec(z) vs dec(f⁻¹(ẑ))).
    Continuous factors are discretised into ``factor_bins`` bins (``binning``, edges from the
    training set) because MIG and DCI need discrete factors (`evaluation/metrics/mig.py`, `dci.py`). MIG on the training
    set; DCI trained on the training set, tested on an independent test set.
    """
    from .metrics import dci, mig  # lazy: the metrics package imports torch, which checks (i)-(iii) do not need

    z_train = sample_latents(fmap.marginals, n_train, rng)
    z_test = sample_latents(fmap.marginals, n_test, rng)
    rows = {}
    for label, transform in (("factors = z", lambda z: z), ("factors = f(z)", fmap)):
        v_train, v_test = transform(z_train), transform(z_test)
        edges = factor_bin_edges(v_train, factor_bins, binning)
        y_train, y_test = discretise(v_train, edges), discretise(v_test, edges)
        m = mig(z_train, y_train, num_bins=20)
        d = dci(z_train, y_train, z_test, y_test, seed=seed)
        rows[label] = {"MIG": m["discrete_mig"], "DCI disentanglement": d["disentanglement"],
                       "DCI completeness": d["completeness"], "DCI informativeness (test)": d["informativeness_test"]}
    return pd.DataFrame(rows).T


def grid_image(fmap: EntanglingMap, n_lines: int = 9, n_points: int = 300,
               sample: np.ndarray | None = None) -> dict[str, Any]:
    """(v) A 2-D grid of z (lines at the marginal quantiles 0.05..0.95) and its image under f.

    Returns ``{"z": [lines], "fz": [lines], "direction": ["vertical"/"horizontal", ...], "marginals",
    "sample", "sample_image"}``: each line is an (n_points, 2) array; ``sample`` (optional points of z)
    and its image f(sample) are drawn behind the grid.
    """
    if fmap.d != 2:
        raise ValueError(f"grid_image needs a 2-D map, got d = {fmap.d}")
    d0, d1 = fmap._dists
    levels = np.linspace(0.05, 0.95, n_lines)
    along = np.linspace(0.002, 0.998, n_points)
    lines, direction = [], []
    for q in levels:
        lines.append(np.column_stack([np.full(n_points, d0.ppf(q)), d1.ppf(along)]))
        direction.append("vertical")
        lines.append(np.column_stack([d0.ppf(along), np.full(n_points, d1.ppf(q))]))
        direction.append("horizontal")
    return {"z": lines, "fz": [fmap(line) for line in lines], "direction": direction, "marginals": fmap.marginals,
            "sample": sample, "sample_image": None if sample is None else fmap(sample)}


# --------------------------------------------------------------------------- all checks at once


def theorem_checks(*, dims: int, alpha: float, marginals: Sequence[str], n_samples: int, n_jacobian: int,
                   hist_bins: int, n_metric_train: int, n_metric_test: int, factor_bins: int,
                   factor_binning: str, seed: int) -> dict[str, Any]:
    """Checks (i)-(iv) with the parameters of ``book/01_impossibility``, in that chapter's order of
    random draws (one ``np.random.default_rng(seed)``), so :func:`claims_c1` of the result equals the
    chapter's C1 table. Keys: ``A``, ``ks``, ``independence``, ``jacobian``, ``flip``."""
    rng = np.random.default_rng(seed)
    names = cycle_marginals(marginals, dims)
    fmap = EntanglingMap(names, alpha)
    z = sample_latents(names, n_samples, rng)
    fz = fmap(z)
    z_fresh = sample_latents(names, n_samples, rng)
    samples = {"z": z, "f(z)": fz, "A·z̃ (no g, h)": standardised_rotation(z, fmap.A)}
    return {
        "A": fmap.A,
        "ks": ks_checks(fz, names, z_fresh),
        "independence": independence_checks(samples, bins=hist_bins),
        "jacobian": jacobian_checks(fmap, z[:n_jacobian]),
        "flip": metric_flip(fmap, n_metric_train, n_metric_test, rng, factor_bins=factor_bins,
                            binning=factor_binning, seed=seed),
    }


# --------------------------------------------------------------------------- claims table


def claims_c1(results: Mapping[str, Any], alpha_level: float = 0.01) -> pd.DataFrame:
    """Claims table for C1 (book/design.md, "The paper's conclusions as claims"): claim | paper | this run | agrees?

    ``results`` holds ``A`` (matrix), ``ks`` (:func:`ks_checks`), ``independence``
    (:func:`independence_checks`, rows of sample ``"f(z)"`` are used), ``jacobian``
    (:func:`jacobian_checks`) and ``flip`` (:func:`metric_flip`). Tests use a Bonferroni
    level ``alpha_level / number of tests``.
    """
    A, ks, ind, jac, flip = (results[k] for k in ("A", "ks", "independence", "jacobian", "flip"))
    d = len(A)
    ortho = float(np.abs(A @ A.T - np.eye(d)).max())
    min_entry = float(np.abs(A).min())
    ks_p = float(ks["p vs F_i"].min())
    f_ind = ind[ind["sample"] == "f(z)"]
    ind_p = float(min(f_ind["spearman p"].min(), f_ind["chi2 p"].min()))
    n_ind = 2 * len(f_ind)
    mig_z, mig_f = flip.loc["factors = z", "MIG"], flip.loc["factors = f(z)", "MIG"]
    dci_z, dci_f = flip.loc["factors = z", "DCI disentanglement"], flip.loc["factors = f(z)", "DCI disentanglement"]
    rows = [
        ("A is orthogonal with every entry nonzero", "A = I − 2vvᵀ, α ∈ (0, ½) (off-diagonal −2vᵢvⱼ)",
         f"max|AAᵀ − I| = {ortho:.1e}, min|A_ij| = {min_entry:.3f}", ortho < 1e-10 and min_entry > 0),
        ("f(z) has the same marginals as z", "P(f(z) ≤ u) = P(z ≤ u), exactly",
         f"min KS p over {d} coordinates = {ks_p:.3f}", ks_p > alpha_level / d),
        ("the coordinates of f(z) are independent", "f(z) ~ p(z) = ∏ p(z_i)",
         f"max |Spearman| = {f_ind['spearman'].abs().max():.3f}, min p (Spearman, χ²) = {ind_p:.3f}",
         ind_p > alpha_level / n_ind),
        ("∂f_i/∂z_j ≠ 0 everywhere (complete entanglement)", "all entries nonzero a.e., sign pattern of A",
         f"nonzero share = {jac['nonzero_fraction']:.3f}, sign(J) = sign(A) at {jac['sign_match_fraction']:.1%} "
         f"of {jac['points']} points", jac["nonzero_fraction"] == 1.0 and jac["sign_match_fraction"] == 1.0),
        ("the chain-rule Jacobian is correct", "J_ij = A_ij h_j' g_j' / (h_i' g_i')",
         f"max relative error vs finite differences = {jac['max_rel_error']:.1e}", jac["max_rel_error"] < 1e-4),
        ("r = z is disentangled w.r.t. z, entangled w.r.t. f(z)", "metric ≈ 1 vs low (demo, no number in the paper)",
         f"MIG {mig_z:.2f} → {mig_f:.2f}; DCI disentanglement {dci_z:.2f} → {dci_f:.2f}",
         bool(mig_f < 0.5 * mig_z and dci_f < 0.5 * dci_z)),
    ]
    return pd.DataFrame(rows, columns=["claim", "paper", "this run", "agrees?"]).set_index("claim")
