"""Shared helpers of the metrics (`evaluation/metrics/utils.py`).

Conventions: ``codes`` are float arrays of shape (N, D) and ``factors`` integer
arrays of shape (N, K), one row per sample. (The reference's helpers use the
transposed (D, N) layout; only the layout differs.) Array helpers accept numpy
arrays or torch tensors; the torch path keeps the heavy work (discretisation,
contingency tables, covariance) on the tensor's device.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import numpy as np
import torch
from joblib import Parallel, delayed

from ..data.base import GroundTruthDataset, randint

Array = np.ndarray | torch.Tensor
#: maps a float32 (n, H, W, C) numpy batch to (n, D) codes
Represent = Callable[[np.ndarray], Any]
Seed = int | np.random.RandomState | np.random.Generator

#: images per ``represent`` call when sampling; sampling itself keeps the
#: reference's batch sizes (16 / 64), so the random stream is unchanged.
REPRESENT_CHUNK = 256


# --------------------------------------------------------------------------- conversion
def to_numpy(x: Any) -> np.ndarray:
    """numpy view/copy of an array or torch tensor (dtype kept)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def check_codes(codes: Any, name: str = "codes") -> Array:
    """Validate a (N, D) code matrix (numpy or torch); returns it unchanged."""
    if not isinstance(codes, torch.Tensor):
        codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[0] < 1 or codes.shape[1] < 1:
        raise ValueError(f"{name} must have shape (num_samples, num_codes), got {tuple(codes.shape)}")
    return codes


def check_factors(factors: Any, num_samples: int, name: str = "factors") -> np.ndarray:
    """Validate an integer (N, K) factor matrix with N == num_samples."""
    f = to_numpy(factors)
    if f.ndim != 2 or f.shape[1] < 1:
        raise ValueError(f"{name} must have shape (num_samples, num_factors), got {f.shape}")
    if f.shape[0] != num_samples:
        raise ValueError(f"{name} has {f.shape[0]} rows but the codes have {num_samples}")
    if not np.issubdtype(f.dtype, np.integer):
        if not np.all(np.equal(np.mod(f, 1), 0)):
            raise ValueError(f"{name} must be integer-valued")
        f = f.astype(np.int64)
    return f


def as_random_state(seed: Seed) -> np.random.RandomState | np.random.Generator:
    """An int becomes ``np.random.RandomState(seed)`` (as the reference)."""
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.RandomState(int(seed))
    raise TypeError(f"seed must be an int, RandomState or Generator, got {type(seed).__name__}")


# --------------------------------------------------------------------------- discretisation / MI
def histogram_discretize(codes: Array, num_bins: int = 20) -> Array:
    """Per code (column): ``np.histogram(col, num_bins)`` equal-width edges over
    the column's own [min, max], then ``np.digitize(col, edges[:-1])`` → bin ids
    1..num_bins (the max falls in bin num_bins). `evaluation/metrics/utils.py: _histogram_discretize`.

    Torch tensors are discretised on their device (``bucketize`` with the very
    edges numpy would compute), giving identical ids.
    """
    codes = check_codes(codes)
    if num_bins < 1:
        raise ValueError(f"num_bins must be >= 1, got {num_bins}")
    if isinstance(codes, torch.Tensor):
        lo = codes.min(dim=0).values.cpu().numpy()
        hi = codes.max(dim=0).values.cpu().numpy()
        out = torch.empty(codes.shape, dtype=torch.int64, device=codes.device)
        for d in range(codes.shape[1]):
            # np.histogram's edges depend only on (min, max, dtype)
            edges = np.histogram_bin_edges(np.array([lo[d], hi[d]], dtype=lo.dtype), num_bins)
            bounds = torch.as_tensor(edges[:-1], device=codes.device).to(codes.dtype)
            out[:, d] = torch.bucketize(codes[:, d].contiguous(), bounds, right=True)
        return out
    out = np.empty(codes.shape, dtype=np.int64)
    for d in range(codes.shape[1]):
        edges = np.histogram_bin_edges(codes[:, d], num_bins)
        out[:, d] = np.digitize(codes[:, d], edges[:-1])
    return out


def _one_hot_labels(x: Array) -> tuple[Array, np.ndarray]:
    """One-hot encoding of every column's distinct values, columns concatenated.

    Returns ``(onehot (N, U), sizes (D,))`` with ``sizes[d]`` distinct values in column d.
    """
    n, d = x.shape
    if isinstance(x, torch.Tensor):
        inverse, sizes = [], []
        for j in range(d):
            _, inv = torch.unique(x[:, j], return_inverse=True)
            inverse.append(inv)
            sizes.append(int(inv.max()) + 1)
        offsets = torch.as_tensor(np.concatenate([[0], np.cumsum(sizes)[:-1]]), device=x.device)
        dtype = torch.float64 if x.device.type != "mps" else torch.float32
        onehot = torch.zeros((n, int(sum(sizes))), dtype=dtype, device=x.device)
        onehot.scatter_(1, torch.stack(inverse, 1) + offsets, 1.0)
        return onehot, np.asarray(sizes)
    inverse, sizes = [], []
    for j in range(d):
        _, inv = np.unique(x[:, j], return_inverse=True)
        inverse.append(inv.reshape(-1))
        sizes.append(int(inv.max()) + 1)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    onehot = np.zeros((n, int(sum(sizes))), dtype=np.float64)
    onehot[np.arange(n)[:, None], np.stack(inverse, 1) + offsets] = 1.0
    return onehot, np.asarray(sizes)


def discrete_mutual_info(a: Array, b: Array) -> np.ndarray:
    """m[i, j] = plug-in MI (nats) between column i of ``a`` and column j of ``b``.

    Exactly ``sklearn.metrics.mutual_info_score(b[:, j], a[:, i])`` (same
    formula, same eps-zeroing and clipping), computed for all pairs at once from
    one contingency product. Shape (Da, Db). `evaluation/metrics/utils.py: discrete_mutual_info`.
    """
    a, b = check_codes(a, "a"), check_codes(b, "b")
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"a has {a.shape[0]} rows but b has {b.shape[0]}")
    if isinstance(a, torch.Tensor) and not isinstance(b, torch.Tensor):
        b = torch.as_tensor(b, device=a.device)
    elif isinstance(b, torch.Tensor) and not isinstance(a, torch.Tensor):
        a = torch.as_tensor(a, device=b.device)
    onehot_a, sizes_a = _one_hot_labels(a)
    onehot_b, sizes_b = _one_hot_labels(b)
    contingency = to_numpy(onehot_a.T @ onehot_b).astype(np.float64)
    count_a = to_numpy(onehot_a.sum(0)).astype(np.int64)
    count_b = to_numpy(onehot_b.sum(0)).astype(np.int64)
    n = float(a.shape[0])
    # sklearn's expression, term by term (contingency_sum == pi.sum() == pj.sum() == n)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = contingency / n
        outer = count_a[:, None] * count_b[None, :]
        log_outer = -np.log(outer) + math.log(n) + math.log(n)
        terms = p * (np.log(contingency) - math.log(n)) + p * log_outer
    terms = np.where(contingency > 0, terms, 0.0)
    terms = np.where(np.abs(terms) < np.finfo(np.float64).eps, 0.0, terms)
    starts_a = np.concatenate([[0], np.cumsum(sizes_a)[:-1]])
    starts_b = np.concatenate([[0], np.cumsum(sizes_b)[:-1]])
    mi = np.add.reduceat(np.add.reduceat(terms, starts_a, axis=0), starts_b, axis=1)
    mi = np.clip(mi, 0.0, None)
    mi[(sizes_a[:, None] == 1) | (sizes_b[None, :] == 1)] = 0.0  # sklearn: a single cluster → 0
    return mi


def discrete_entropy(factors: Array) -> np.ndarray:
    """H[j] = ``mutual_info_score(f_j, f_j)`` in nats, shape (K,)."""
    return np.diag(discrete_mutual_info(factors, factors)).copy()


def split_train_test(x: np.ndarray, train_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """First ``ceil(n * train_fraction)`` rows for training, the rest for testing."""
    if not 0.0 <= train_fraction <= 1.0:
        raise ValueError(f"train_fraction must be in [0, 1], got {train_fraction}")
    n_train = int(math.ceil(len(x) * train_fraction))
    return x[:n_train], x[n_train:]


def top_two_gap(matrix: np.ndarray) -> np.ndarray:
    """Per column: largest minus second-largest entry (0 gap beyond a single row)."""
    ordered = np.sort(matrix, axis=0)[::-1]
    second = ordered[1] if len(ordered) > 1 else np.zeros_like(ordered[0])
    return ordered[0] - second


# --------------------------------------------------------------------------- sampling
def encode(represent: Represent, observations: np.ndarray) -> np.ndarray:
    """Codes (n, D) of a batch of observations, as a numpy array."""
    codes = to_numpy(represent(observations))
    if codes.ndim != 2 or codes.shape[0] != len(observations):
        raise ValueError(f"represent must map {len(observations)} observations to (n, D) codes, "
                         f"got shape {codes.shape}")
    return codes


def generate_codes(dataset: GroundTruthDataset, represent: Represent, num_points: int,
                   rng: Seed, batch_size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """The reference's ``generate_batch_factor_code``: repeatedly
    ``dataset.sample(min(remaining, batch_size), rng)``; returns codes (N, D) and
    factors (N, K). Batches are encoded together (``REPRESENT_CHUNK`` images per
    ``represent`` call), which does not change the random stream."""
    if num_points < 1 or batch_size < 1:
        raise ValueError(f"num_points and batch_size must be >= 1, got {num_points}, {batch_size}")
    rng = as_random_state(rng)
    factors, codes, pending = [], [], []

    def flush():
        if pending:
            codes.append(encode(represent, np.concatenate(pending)))
            pending.clear()

    done = 0
    while done < num_points:
        f, x = dataset.sample(min(num_points - done, batch_size), rng)
        factors.append(f)
        pending.append(x)
        done += len(f)
        if sum(len(p) for p in pending) >= REPRESENT_CHUNK:
            flush()
    flush()
    return np.concatenate(codes), np.concatenate(factors).astype(np.int64)


def random_factor_index(dataset: GroundTruthDataset, rng) -> int:
    """``rng.randint(num_factors)`` (a scalar draw, as the reference)."""
    return int(randint(rng, dataset.num_factors, None))


def map_factors(job: Callable[[int], Any], factors: np.ndarray, n_jobs: int = 1) -> list:
    """``[job(j) for j in range(K)]`` over the factor columns, in parallel threads
    (the estimators release the GIL); factors with more classes start first, so
    the slowest fits do not end up last (longest-first scheduling). The order of
    the returned list, and every value, is independent of ``n_jobs``."""
    num_classes = [len(np.unique(factors[:, j])) for j in range(factors.shape[1])]
    order = sorted(range(factors.shape[1]), key=lambda j: -num_classes[j])
    results = Parallel(n_jobs=n_jobs, prefer="threads")(delayed(job)(j) for j in order)
    by_factor = dict(zip(order, results))
    return [by_factor[j] for j in range(factors.shape[1])]


# --------------------------------------------------------------------------- classifiers
class ConstantClassifier:
    """Predicts the single class seen in training (sklearn refuses to fit one class)."""

    def __init__(self, y: np.ndarray):
        self.classes_ = np.unique(y)[:1]

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.full(len(x), self.classes_[0])

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.ones((len(x), 1))


def fit_classifier(make: Callable[[], Any], x: np.ndarray, y: np.ndarray):
    """Fit ``make()`` on (x, y); a single-class y gives a ``ConstantClassifier``
    (`evaluation/metrics/downstream_task.py`: n = 10 may miss classes). Convergence warnings are silenced (as in the paper's runs,
    the iteration caps are part of the pinned estimator)."""
    if len(np.unique(y)) < 2:
        return ConstantClassifier(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # incl. ConvergenceWarning
        return make().fit(x, y)


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(model.predict(x) == y))


def feature_importances(model: Any, num_features: int) -> np.ndarray:
    """|impurity-based importances| of a fitted (hist) GBT; zeros for a constant model.

    For ``HistGradientBoostingClassifier`` (fast settings only) the split gains of
    all trees are summed per feature and normalised, the histogram analogue of
    sklearn's impurity importances."""
    if isinstance(model, ConstantClassifier):
        return np.zeros(num_features)
    if hasattr(model, "_predictors"):
        gains = np.zeros(num_features)
        for stage in model._predictors:
            for predictor in stage:
                nodes = predictor.nodes[~predictor.nodes["is_leaf"].astype(bool)]
                np.add.at(gains, nodes["feature_idx"], nodes["gain"])
        total = gains.sum()
        return gains / total if total > 0 else gains
    return np.abs(model.feature_importances_)
