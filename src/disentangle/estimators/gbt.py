"""A fast re-implementation of sklearn's ``GradientBoostingClassifier()`` in numba
(`evaluation/metrics/dci.py` and `downstream_task.py` "boosted trees").

Same estimator as scikit-learn 1.9 with the study's defaults (log loss, 100
stages, learning rate 0.1, depth-3 regression trees on the negative gradient,
exact best splits with the squared-error criterion, ``subsample=1``,
``min_samples_split=2``, ``min_samples_leaf=1``, ``max_features=None``). The
algorithm is sklearn's, step by step, including its floating-point order of
operations where that decides between (mathematically) equal candidates:

* ``X`` is cast to float32; raw predictions start at the link of the clipped
  class priors (multiclass: ``log(p / gmean(p))``; binary: ``logit(p)``).
* Every stage fits one tree per class (one for binary problems) to the
  negative gradient ``onehot - softmax(raw)`` (binary: ``y - expit(raw)``),
  computed with sklearn's loss formulas (``sum_exp_minus_max``; the binary
  branch at raw = -37).
* Trees grow depth-first (left child first) exactly as sklearn's
  ``DepthFirstTreeBuilder`` + ``BestSplitter``: the same Fisher-Yates feature
  order from the same ``rand_r`` stream (one seed per tree, drawn from
  ``RandomState(random_state)`` stage by stage), constant-feature bookkeeping
  (``FEATURE_THRESHOLD`` = 1e-7 in float32), candidate positions between values
  more than ``FEATURE_THRESHOLD`` apart, midpoint thresholds
  ``v_prev / 2 + v / 2``, the proxy ``S_l**2 / n_l + S_r**2 / n_r`` with
  ``S_l`` accumulated as sklearn's criterion does (forward, or backwards from
  the node total when that is shorter), strict ``>`` (first best wins), node
  totals summed in sklearn's sample order (sorted by the last feature visited,
  then partitioned with its in-place swap loop), children impurities
  ``sq_sum / n - mean**2`` and the leaf rules ``impurity <= eps``,
  ``improvement + eps < 0``.
* Leaves get sklearn's Newton step, ``(K-1)/K * mean(r) / mean(p (1 - p))``
  (binary: without ``(K-1)/K``), the means summed pairwise like numpy's
  ``np.average``; 0 if ``|denominator| < 1e-150``.
* ``feature_importances_``: per tree with more than one node, the sum over
  split nodes of ``n imp - n_l imp_l - n_r imp_r`` divided by the root's
  ``n``; the mean over those trees, normalised to sum 1.

What is faster: each feature is sorted once per fit (sklearn sorts every
feature in every node of every tree); a node's samples in a feature's order
are kept by stable partitioning of the presorted index lists, so a tree costs
O(depth x features x samples); a candidate's proxy is estimated with a table of
reciprocals and recomputed with sklearn's divisions only where it may beat the
best so far (a relative margin of 1e-12, far above the estimate's rounding
error), so the chosen split is the one sklearn's comparisons choose; the trees
of one stage run in parallel threads (the kernels release the GIL; results do
not depend on the thread count). Measured: ``benchmarks/gbt_time.py``.

Where it can differ from sklearn: sklearn sorts a node's samples with an
unstable introsort, here ties in *exactly equal* feature values keep the
presorted (sample index) order. Within a group of equal values only the order
of additions differs, i.e. the last bits of partial sums; that matters only
when two candidate splits are tied to the last bit (stage-0 residuals take two
values per tree, so exact ties are common there). Continuous features without
repeated values reproduce sklearn's trees exactly.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.special
import scipy.stats
from numba import njit

__all__ = ["GradientBoostingClassifier"]

#: sklearn's ``FEATURE_THRESHOLD`` (float32 constant in ``tree/_partitioner.pxd``)
FEATURE_THRESHOLD = np.float32(1e-7)
#: sklearn's ``EPSILON`` in the tree builder / splitter
EPSILON = float(np.finfo(np.float64).eps)
#: sklearn's ``RAND_R_MAX`` (``tree/_utils.pxd``)
RAND_R_MAX = 2147483647


# --------------------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def _negative_gradient(raw, y, multiclass, out):
    """out[k, i] = -gradient of the half multinomial (binomial) loss, sklearn's formulas."""
    n, n_trees = raw.shape
    p = np.empty(n_trees)
    for i in range(n):
        if multiclass:
            top = raw[i, 0]
            for k in range(1, n_trees):
                if top < raw[i, k]:
                    top = raw[i, k]
            total = 0.0
            for k in range(n_trees):
                p[k] = math.exp(raw[i, k] - top)
                total += p[k]
            for k in range(n_trees):
                target = 1.0 if y[i] == k else 0.0
                out[k, i] = -(p[k] / total - target)
        else:
            r = raw[i, 0]
            target = 1.0 if y[i] == 1 else 0.0
            if r > -37.0:
                e = math.exp(-r)
                g = ((1.0 - target) - target * e) / (1.0 + e)
            else:
                g = math.exp(r) - target
            out[0, i] = -g


@njit(cache=True, nogil=True)
def _pairwise_sum(a, lo, n):
    """numpy's pairwise summation of a[lo:lo + n] (``np.sum`` of a contiguous float64 array)."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    if n <= 128:
        r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
        r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
        i = 8
        stop = n - n % 8
        while i < stop:
            r0 += a[lo + i]
            r1 += a[lo + i + 1]
            r2 += a[lo + i + 2]
            r3 += a[lo + i + 3]
            r4 += a[lo + i + 4]
            r5 += a[lo + i + 5]
            r6 += a[lo + i + 6]
            r7 += a[lo + i + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[lo + i]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise_sum(a, lo, n2) + _pairwise_sum(a, lo + n2, n - n2)


@njit(cache=True, nogil=True)
def _next_random(state):
    """sklearn's ``our_rand_r`` (32-bit xorshift): (new state, value)."""
    if state == 0:
        state = 1
    state ^= (state << 13) & 0xFFFFFFFF
    state ^= state >> 17
    state ^= (state << 5) & 0xFFFFFFFF
    return state, state % (RAND_R_MAX + 1)


@njit(cache=True, nogil=True)
def _fit_trees(k_lo, k_hi, xt, presort, y, multiclass, n_classes, neg_g, raw, seeds,
               learning_rate, max_depth, feature, threshold, left, right, value, node_count,
               importance):
    """One stage's trees k_lo..k_hi-1: grow each on its negative gradient row ``neg_g[k]``
    (:func:`_grow_tree`), record its importances, set its leaf values (:func:`_leaf_values`)
    and add ``learning_rate * leaf value`` to ``raw[:, k]``. Tree arrays (trees, max nodes)
    are filled in sklearn's node order."""
    n_features, n = xt.shape
    max_nodes = feature.shape[1]
    ords = np.empty((n_features, n), np.int32)  # per feature: node segments in value order
    samples = np.empty(n, np.int32)  # sklearn's ``samples`` array
    leaf_of = np.empty(n, np.int32)
    node_impurity = np.empty(max_nodes)
    node_weight = np.empty(max_nodes)
    inverse = np.empty(n + 1)  # reciprocals for the proxy's estimate
    inverse[0] = 0.0
    for m in range(1, n + 1):
        inverse[m] = 1.0 / m
    factor = (n_classes - 1) / n_classes
    for k in range(k_lo, k_hi):
        count = _grow_tree(xt, presort, neg_g[k], np.int64(seeds[k]), max_depth, inverse, ords, samples,
                           leaf_of, feature[k], threshold[k], left[k], right[k], node_impurity, node_weight)
        node_count[k] = count
        _tree_importances(feature[k], left[k], right[k], count, node_impurity, node_weight, importance[k])
        _leaf_values(neg_g[k], y, k if multiclass else 1, multiclass, factor, leaf_of, count, value[k])
        for i in range(n):
            raw[i, k] += learning_rate * value[k, leaf_of[i]]


@njit(cache=True, nogil=True)
def _grow_tree(xt, presort, r, state, max_depth, inverse, ords, samples, leaf_of, feature, threshold,
               left, right, node_impurity, node_weight):
    """Grow one tree on the residuals ``r`` as sklearn's ``DepthFirstTreeBuilder`` does (a
    stack, left child first), splitting each node with :func:`_split_node`. Fills the tree
    arrays, each node's impurity and weight, and each sample's leaf; returns the node count."""
    n_features, n = xt.shape
    features = np.empty(n_features, np.int64)
    constant_features = np.zeros(n_features, np.int64)
    goes_left = np.zeros(n, np.bool_)
    buffer = np.empty(n, np.int32)
    stack_size = 2 * max_depth + 2
    st_bounds = np.empty((stack_size, 4), np.int64)  # start, end, depth, parent
    st_left = np.empty(stack_size, np.bool_)
    st_impurity = np.empty(stack_size)
    st_constant = np.empty(stack_size, np.int64)
    for i in range(n):
        samples[i] = i
    for f in range(n_features):
        features[f] = f
    st_bounds[0, 0], st_bounds[0, 1], st_bounds[0, 2], st_bounds[0, 3] = 0, n, 0, -1
    st_left[0], st_impurity[0], st_constant[0] = False, np.inf, 0
    top = 1
    count = 0
    while top > 0:
        top -= 1
        start, end, depth, parent = st_bounds[top, 0], st_bounds[top, 1], st_bounds[top, 2], st_bounds[top, 3]
        is_left, impurity, n_known = st_left[top], st_impurity[top], st_constant[top]
        weight = float(end - start)
        total = 0.0
        sq_total = 0.0
        for q in range(start, end):
            v = r[samples[q]]
            total += v
            sq_total += v * v
        if count == 0:  # the root's impurity
            impurity = sq_total / weight - (total / weight) ** 2.0
        best_pos = end
        best_feature = -2
        best_threshold = -2.0
        impurity_left = 0.0
        impurity_right = 0.0
        n_total = n_known
        if not (depth >= max_depth or end - start < 2 or impurity <= EPSILON):
            state, best_pos, best_feature, best_threshold, impurity_left, impurity_right, n_total = _split_node(
                xt, presort, ords, r, samples, features, constant_features, state, start, end, depth,
                n_known, impurity, total, sq_total, inverse)
        # ---- add the node
        node = count
        count += 1
        if parent >= 0:
            if is_left:
                left[parent] = node
            else:
                right[parent] = node
        left[node] = -1
        right[node] = -1
        node_impurity[node] = impurity
        node_weight[node] = weight
        if best_pos >= end:  # a leaf
            feature[node] = -2
            threshold[node] = -2.0
            for q in range(start, end):
                leaf_of[samples[q]] = node
            continue
        feature[node] = best_feature
        threshold[node] = best_threshold
        if depth + 1 < max_depth:  # not needed when the children are leaves by depth
            _split_sorted_orders(presort, ords, samples, start, best_pos, end, depth, goes_left, buffer)
        # push right then left (left is processed first)
        st_bounds[top, 0], st_bounds[top, 1], st_bounds[top, 2], st_bounds[top, 3] = best_pos, end, depth + 1, node
        st_left[top], st_impurity[top], st_constant[top] = False, impurity_right, n_total
        top += 1
        st_bounds[top, 0], st_bounds[top, 1], st_bounds[top, 2], st_bounds[top, 3] = start, best_pos, depth + 1, node
        st_left[top], st_impurity[top], st_constant[top] = True, impurity_left, n_total
        top += 1
    return count


@njit(cache=True, nogil=True)
def _split_node(xt, presort, ords, r, samples, features, constant_features, state, start, end, depth,
                n_known, impurity, total, sq_total, inverse):
    """sklearn's ``BestSplitter.node_split_best`` on the node ``samples[start:end]``: draw the
    features in sklearn's Fisher-Yates order (setting constant ones aside), scan each
    (:func:`_scan_feature`), then sort and partition ``samples`` by the best split
    (:func:`_partition_samples`) and reject it if it does not improve the impurity.

    Returns (random state, best position, feature, threshold, left impurity, right impurity,
    known constant features); best position = ``end``: no split (a leaf)."""
    n_features, n = xt.shape
    best_proxy = -np.inf
    best_pos = end
    best_feature = -2
    best_threshold = -2.0
    n_total = n_known
    f_i = n_features
    n_visited = 0
    n_found = 0
    n_drawn = 0
    last_sorted = -1
    while f_i > n_total and (n_visited < n_features or n_visited <= n_found + n_drawn):
        n_visited += 1
        state, draw = _next_random(state)
        f_j = n_drawn + draw % (f_i - n_found - n_drawn)
        if f_j < n_known:
            features[n_drawn], features[f_j] = features[f_j], features[n_drawn]
            n_drawn += 1
            continue
        f_j += n_found
        f = features[f_j]
        row = presort[f] if depth == 0 else ords[f]
        xf = xt[f]
        v_first = xf[row[start]]
        v_last = xf[row[end - 1]]
        if v_last != v_first:  # sorting all-equal values leaves the order alone
            last_sorted = f
        if v_last <= v_first + FEATURE_THRESHOLD:
            features[f_j], features[n_total] = features[n_total], features[f_j]
            n_found += 1
            n_total += 1
            continue
        f_i -= 1
        features[f_i], features[f_j] = features[f_j], features[f_i]
        best_proxy, best_pos, best_feature, best_threshold = _scan_feature(
            xf, row, r, f, start, end, total, inverse, best_proxy, best_pos, best_feature, best_threshold)
    impurity_left = 0.0
    impurity_right = 0.0
    if best_pos < end:
        _partition_samples(samples, presort, ords, last_sorted, xt[best_feature], best_threshold, start, end,
                           depth)
        impurity_left, impurity_right = _children_impurities(r, samples, start, best_pos, end, total, sq_total)
        n_left = float(best_pos - start)
        n_right = float(end - best_pos)
        weight = float(end - start)
        improvement = (weight / float(n)) * (impurity - (n_right / weight * impurity_right)
                                             - (n_left / weight * impurity_left))
        if improvement + EPSILON < 0.0:
            best_pos = end
    for q in range(n_known):
        features[q] = constant_features[q]
    for q in range(n_known, n_total):
        constant_features[q] = features[q]
    return state, best_pos, best_feature, best_threshold, impurity_left, impurity_right, n_total


@njit(cache=True, nogil=True)
def _scan_feature(xf, row, r, f, start, end, total, inverse, best_proxy, best_pos, best_feature,
                  best_threshold):
    """The candidate splits of feature ``f`` (values ``xf``, the node's samples in value order
    ``row[start:end]``) against the best so far; returns the new best (proxy, position,
    feature, threshold).

    sklearn's ``criterion.update`` adds the samples since the last candidate one by one (or,
    when the rest of the node is shorter, subtracts the rest from the total); the proxy is
    first estimated with reciprocals and computed exactly (as sklearn does) only where it may
    beat the best."""
    sum_left = 0.0
    pos = start
    prev = xf[row[start]]
    for p in range(start + 1, end):
        sum_left += r[row[p - 1]]
        v = xf[row[p]]
        if v <= prev + FEATURE_THRESHOLD:
            prev = v
            continue
        if (p - pos) > (end - p):
            sum_left = total
            for q in range(end - 1, p - 1, -1):
                sum_left -= r[row[q]]
        pos = p
        sum_right = total - sum_left
        estimate = sum_left * sum_left * inverse[p - start] + sum_right * sum_right * inverse[end - p]
        if estimate >= best_proxy * (1.0 - 1e-12):
            proxy = sum_left * sum_left / float(p - start) + sum_right * sum_right / float(end - p)
            if proxy > best_proxy:
                best_proxy = proxy
                best_pos = p
                best_feature = f
                best_threshold = np.float64(prev) / 2.0 + np.float64(v) / 2.0
        prev = v
    return best_proxy, best_pos, best_feature, best_threshold


@njit(cache=True, nogil=True)
def _partition_samples(samples, presort, ords, last_sorted, xb, threshold, start, end, depth):
    """sklearn's sample order after a split: ``samples[start:end]`` are left sorted by the
    last feature sorted (the node's order of ``last_sorted``), then partitioned in place by
    ``xb <= threshold`` with its swap loop (``partition_samples_final``)."""
    if last_sorted >= 0:
        row = presort[last_sorted] if depth == 0 else ords[last_sorted]
        for q in range(start, end):
            samples[q] = row[q]
    a = start
    b = end
    while a < b:
        if xb[samples[a]] <= threshold:
            a += 1
        else:
            b -= 1
            samples[a], samples[b] = samples[b], samples[a]


@njit(cache=True, nogil=True)
def _children_impurities(r, samples, start, pos, end, total, sq_total):
    """The impurities ``sq_sum / n - mean**2`` of the children ``samples[start:pos]`` and
    ``samples[pos:end]``, the sums accumulated as sklearn's criterion does."""
    n_left = float(pos - start)
    n_right = float(end - pos)
    if (pos - start) <= (end - pos):
        sum_left = 0.0
        for q in range(start, pos):
            sum_left += r[samples[q]]
    else:
        sum_left = total
        for q in range(end - 1, pos - 1, -1):
            sum_left -= r[samples[q]]
    sum_right = total - sum_left
    sq_left = 0.0
    for q in range(start, pos):
        v = r[samples[q]]
        sq_left += v * v
    sq_right = sq_total - sq_left
    return (sq_left / n_left - (sum_left / n_left) ** 2.0,
            sq_right / n_right - (sum_right / n_right) ** 2.0)


@njit(cache=True, nogil=True)
def _split_sorted_orders(presort, ords, samples, start, pos, end, depth, goes_left, buffer):
    """The children's segments of every feature's value order: a stable partition of the
    node's segment ``[start, end)`` of ``ords[f]`` (``presort[f]`` at the root) into the
    samples going left (``samples[start:pos]``), then those going right."""
    for q in range(start, end):
        goes_left[samples[q]] = q < pos
    for f in range(presort.shape[0]):
        source = presort[f] if depth == 0 else ords[f]
        row = ords[f]
        a = start
        b = 0
        for q in range(start, end):
            s = source[q]
            if goes_left[s]:
                row[a] = s
                a += 1
            else:
                buffer[b] = s
                b += 1
        for q in range(b):
            row[a + q] = buffer[q]


@njit(cache=True, nogil=True)
def _tree_importances(feature, left, right, count, node_impurity, node_weight, out):
    """sklearn's ``Tree.compute_feature_importances(normalize=False)``: per split node,
    ``n imp - n_l imp_l - n_r imp_r``, summed per feature and divided by the root's ``n``."""
    for f in range(out.shape[0]):
        out[f] = 0.0
    for node in range(count):
        lc = left[node]
        if lc != -1:
            rc = right[node]
            out[feature[node]] += (node_weight[node] * node_impurity[node] - node_weight[lc] * node_impurity[lc]
                                   - node_weight[rc] * node_impurity[rc])
    for f in range(out.shape[0]):
        out[f] /= node_weight[0]


@njit(cache=True, nogil=True)
def _leaf_values(r, y, positive, multiclass, factor, leaf_of, count, value):
    """sklearn's Newton step per leaf, ``factor * mean(r) / mean(p (1 - p))`` (``factor`` =
    (K-1)/K for multiclass problems, none for binary ones), the means summed pairwise over the
    leaf's samples in index order; 0 if ``|denominator| < 1e-150``. ``positive``: the class
    whose probability the tree's residuals ``r`` are ``onehot - p`` of."""
    n = r.shape[0]
    gbuf = np.empty(n)
    hbuf = np.empty(n)
    leaf_count = np.zeros(count + 1, np.int64)  # the leaves' samples as slices of gbuf/hbuf
    for i in range(n):
        leaf_count[leaf_of[i] + 1] += 1
    for node in range(count):
        leaf_count[node + 1] += leaf_count[node]
    for i in range(n):
        node = leaf_of[i]
        slot = leaf_count[node]
        leaf_count[node] += 1
        g = r[i]
        prob = (1.0 if y[i] == positive else 0.0) - g
        gbuf[slot] = g
        hbuf[slot] = prob * (1.0 - prob)
    lo = 0
    for node in range(count):
        value[node] = 0.0
        hi = leaf_count[node]
        m = hi - lo
        if m > 0:
            numerator = _pairwise_sum(gbuf, lo, m) / float(m)
            if multiclass:
                numerator *= factor
            denominator = _pairwise_sum(hbuf, lo, m) / float(m)
            if abs(denominator) >= 1e-150:
                value[node] = numerator / denominator
        lo = hi


@njit(cache=True, nogil=True)
def _predict_raw(x, feature, threshold, left, right, value, learning_rate, raw):
    """raw[i, k] += learning_rate * leaf value, stage by stage (sklearn's predict_stages)."""
    n = x.shape[0]
    n_stages, n_trees, _ = feature.shape
    for i in range(n):
        for stage in range(n_stages):
            for k in range(n_trees):
                node = 0
                while left[stage, k, node] != -1:
                    if x[i, feature[stage, k, node]] <= threshold[stage, k, node]:
                        node = left[stage, k, node]
                    else:
                        node = right[stage, k, node]
                raw[i, k] += learning_rate * value[stage, k, node]


# --------------------------------------------------------------------------- estimator
class GradientBoostingClassifier:
    """``sklearn.ensemble.GradientBoostingClassifier(n_estimators, learning_rate,
    max_depth, random_state)`` with sklearn's other defaults, fitted with numba
    kernels (see the module docstring).

    ``n_threads``: threads growing the trees of one stage (None: all CPUs);
    results do not depend on it.
    """

    def __init__(self, n_estimators: int = 100, learning_rate: float = 0.1, max_depth: int = 3,
                 random_state: int | np.random.RandomState | None = 0, n_threads: int | None = None):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.random_state = random_state
        self.n_threads = n_threads

    # ------------------------------------------------------------------ fit
    def fit(self, X, y) -> "GradientBoostingClassifier":
        if int(self.n_estimators) < 1 or int(self.max_depth) < 1 or not self.learning_rate > 0:
            raise ValueError("n_estimators and max_depth must be >= 1 and learning_rate > 0, got "
                             f"{self.n_estimators}, {self.max_depth}, {self.learning_rate}")
        x = _check_x(X)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or len(y) != len(x):
            raise ValueError(f"y must have shape ({len(x)},), got {y.shape}")
        self.classes_, encoded = np.unique(y, return_inverse=True)
        self.n_classes_ = len(self.classes_)
        if self.n_classes_ < 2:
            raise ValueError("y must contain at least two classes, got "
                             f"{self.n_classes_}: {self.classes_.tolist()}")
        self.n_features_in_ = x.shape[1]
        self._raw_init = _prior_raw(encoded.reshape(-1).astype(np.int64), self.n_classes_)
        importance = self._fit_stages(x, encoded.reshape(-1).astype(np.int64))
        relevant = importance.reshape(-1, x.shape[1])[self._node_count.reshape(-1) > 1]
        if len(relevant) == 0:
            self.feature_importances_ = np.zeros(x.shape[1])
        else:
            average = np.mean(relevant, axis=0, dtype=np.float64)
            self.feature_importances_ = average / np.sum(average)
        return self

    def _fit_stages(self, x: np.ndarray, encoded: np.ndarray) -> np.ndarray:
        """Fit the stages one after the other, each stage's trees on the negative gradient at
        the raw predictions so far (:func:`_fit_trees`, in threads); sets the tree arrays and
        returns the per-tree importances (stages, trees, features)."""
        n, n_features = x.shape
        multiclass = self.n_classes_ > 2
        n_trees = self.n_classes_ if multiclass else 1
        n_stages, depth = int(self.n_estimators), int(self.max_depth)
        raw = np.empty((n, n_trees))
        raw[:] = self._raw_init[None, :]
        xt = np.ascontiguousarray(x.T)
        presort = np.empty((n_features, n), np.int32)
        for f in range(n_features):
            presort[f] = np.argsort(xt[f], kind="stable")
        rng = self.random_state if isinstance(self.random_state, np.random.RandomState) \
            else np.random.RandomState(self.random_state)
        shape = (n_stages, n_trees, 2 ** (depth + 1) - 1)
        self._feature, self._threshold = np.full(shape, -2, np.int64), np.full(shape, -2.0)
        self._left, self._right = np.full(shape, -1, np.int64), np.full(shape, -1, np.int64)
        self._value, self._node_count = np.zeros(shape), np.zeros(shape[:2], np.int64)
        importance = np.zeros((n_stages, n_trees, n_features))
        neg_g = np.empty((n_trees, n))
        n_threads = min(self._threads(), n_trees)
        blocks = np.linspace(0, n_trees, n_threads + 1).round().astype(int)
        pool = ThreadPoolExecutor(n_threads) if n_threads > 1 else None
        try:
            for stage in range(n_stages):
                # one splitter seed per tree, in sklearn's order
                seeds = np.array([rng.randint(0, RAND_R_MAX) for _ in range(n_trees)], np.int64)
                _negative_gradient(raw, encoded, multiclass, neg_g)
                args = (xt, presort, encoded, multiclass, self.n_classes_, neg_g, raw, seeds,
                        float(self.learning_rate), depth, self._feature[stage], self._threshold[stage],
                        self._left[stage], self._right[stage], self._value[stage],
                        self._node_count[stage], importance[stage])
                if pool is None:
                    _fit_trees(0, n_trees, *args)
                else:
                    list(pool.map(lambda b: _fit_trees(blocks[b], blocks[b + 1], *args),
                                  range(n_threads)))
        finally:
            if pool is not None:
                pool.shutdown()
        return importance

    def _threads(self) -> int:
        if self.n_threads is not None:
            if int(self.n_threads) < 1:
                raise ValueError(f"n_threads must be >= 1 or None, got {self.n_threads}")
            return int(self.n_threads)
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not on Linux
            return os.cpu_count() or 1

    # ------------------------------------------------------------------ predict
    def decision_function(self, X) -> np.ndarray:
        """Raw predictions: (n,) for binary problems, else (n, n_classes)."""
        raw = self._raw_predict(X)
        return raw[:, 0] if raw.shape[1] == 1 else raw

    def predict_proba(self, X) -> np.ndarray:
        raw = self._raw_predict(X)
        if raw.shape[1] == 1:
            p1 = scipy.special.expit(raw[:, 0])
            return np.column_stack([1 - p1, p1])
        return scipy.special.softmax(raw, axis=1)

    def predict(self, X) -> np.ndarray:
        raw = self._raw_predict(X)
        encoded = (raw[:, 0] >= 0).astype(int) if raw.shape[1] == 1 else np.argmax(raw, axis=1)
        return self.classes_[encoded]

    def score(self, X, y) -> float:
        """Mean accuracy."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def fraction_identical_trees(self, reference) -> float:
        """Share of trees equal to those of a fitted sklearn ``GradientBoostingClassifier``
        with the same settings: node order, features, thresholds and leaf values."""
        same = 0
        stages, trees = reference.estimators_.shape
        for s in range(stages):
            for k in range(trees):
                tree = reference.estimators_[s, k].tree_
                c = self._node_count[s, k]
                leaf = tree.children_left == -1
                same += bool(c == tree.node_count
                             and np.array_equal(self._left[s, k, :c], tree.children_left)
                             and np.array_equal(self._feature[s, k, :c][~leaf], tree.feature[~leaf])
                             and np.array_equal(self._threshold[s, k, :c][~leaf], tree.threshold[~leaf])
                             and np.array_equal(self._value[s, k, :c][leaf], tree.value[leaf, 0, 0]))
        return same / (stages * trees)

    def _raw_predict(self, X) -> np.ndarray:
        if not hasattr(self, "classes_"):
            raise RuntimeError("this GradientBoostingClassifier is not fitted yet")
        x = _check_x(X)
        if x.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {x.shape[1]} features, the model was fit on "
                             f"{self.n_features_in_} features")
        raw = np.empty((len(x), len(self._raw_init)))
        raw[:] = self._raw_init[None, :]
        _predict_raw(x, self._feature, self._threshold, self._left, self._right, self._value,
                     float(self.learning_rate), raw)
        return raw


def _prior_raw(encoded: np.ndarray, n_classes: int) -> np.ndarray:
    """The initial raw predictions: ``DummyClassifier(strategy="prior")`` and sklearn's link of
    the clipped class priors (multiclass: ``log(p / gmean(p))``; binary: ``logit(p)``)."""
    prior = np.bincount(encoded, minlength=n_classes).astype(np.float64)
    prior = prior / prior.sum()
    eps = np.finfo(np.float64).eps
    if n_classes > 2:
        p = np.clip(prior[None, :], eps, 1 - eps, dtype=np.float64)
        return np.log(p / scipy.stats.gmean(p, axis=1)[:, None])[0]
    p = np.clip(prior[1:], eps, 1 - eps, dtype=np.float64)
    return scipy.special.logit(p)


def _check_x(X) -> np.ndarray:
    x = np.asarray(X, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"X must have shape (num_samples, num_features), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("X must be finite")
    return np.ascontiguousarray(x)
