"""FactorVAE score (`evaluation/metrics/factor_vae.py: compute_factor_vae`, config ``factor_vae_metric``).

1. Global variances (ddof=1) of 10,000 encoded samples; active dims have
   std >= 0.05 (the study's ``prune_dims.threshold``; code default 0).
2. One vote: draw k, sample 64 factor vectors sharing row 0's value of factor k,
   encode, d = argmin over active dims of local_var / global_var (ddof=1).
3. Majority-vote classifier code → factor on 10,000 votes; accuracy on them
   (train) and on 5,000 fresh votes (eval).

``num_active_dims`` is the true number of active dims. The reference reports
``len(mask)`` — always the code dimension — which is a bug (`evaluation/metrics/factor_vae.py: compute_factor_vae`).
No active dim gives accuracies 0. With threshold 0 a zero-variance code stays
active and 0/0 = NaN; ``np.argmin`` then returns the first NaN, as the
reference does. Several votes are encoded per ``represent`` call, keeping the
reference's draw order (k, factors, images); the variance-estimate images are
rendered and encoded in chunks of 64 (datasets draw per-image noise in image
order, so the stream is unchanged).
"""

from __future__ import annotations

import numpy as np

from .utils import Represent, Seed, as_random_state, encode, random_factor_index

#: votes whose batch_size images are encoded in one ``represent`` call
VOTES_PER_CALL = 16


def global_variances(dataset, represent: Represent, num_points: int, rng,
                     batch_size: int = 64) -> np.ndarray:
    factors = dataset.sample_factors(num_points, rng)
    codes = np.concatenate([encode(represent, dataset.observations(factors[i:i + batch_size], rng))
                            for i in range(0, num_points, batch_size)])
    return np.var(codes, axis=0, ddof=1)


def sample_votes(dataset, represent: Represent, num_votes: int, rng, variances: np.ndarray,
                 active: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Vote matrix (num_factors, num_codes): votes[k, d] (d indexes active dims)."""
    votes = np.zeros((dataset.num_factors, len(variances)), dtype=np.int64)
    for start in range(0, num_votes, VOTES_PER_CALL):
        images, ks = [], []
        for _ in range(min(VOTES_PER_CALL, num_votes - start)):
            k = random_factor_index(dataset, rng)
            factors = dataset.sample_factors(batch_size, rng)
            factors[:, k] = factors[0, k]
            images.append(dataset.observations(factors, rng))
            ks.append(k)
        codes = encode(represent, np.concatenate(images)).reshape(len(ks), batch_size, -1)
        local = np.var(codes, axis=1, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = local[:, active] / variances[active]
        np.add.at(votes, (np.asarray(ks), np.argmin(ratios, axis=1)), 1)
    return votes


def majority_vote_accuracy(votes: np.ndarray, classifier: np.ndarray) -> float:
    """Share of votes whose code maps to their factor under ``classifier`` (code → factor)."""
    return float(votes[classifier, np.arange(votes.shape[1])].sum() / votes.sum())


def factor_vae_metric(dataset, represent: Represent, *, seed: Seed, batch_size: int = 64,
                      num_train: int = 10_000, num_eval: int = 5_000,
                      num_variance_estimate: int = 10_000,
                      prune_threshold: float = 0.05) -> dict[str, float]:
    """The FactorVAE score ("FactorVAE" in the paper's figures): ``train_accuracy``,
    ``eval_accuracy`` and ``num_active_dims`` (true count)."""
    if min(batch_size, num_variance_estimate) < 2 or min(num_train, num_eval) < 1:
        raise ValueError("batch_size and num_variance_estimate must be >= 2, num_train/num_eval >= 1")
    rng = as_random_state(seed)
    variances = global_variances(dataset, represent, num_variance_estimate, rng, batch_size)
    active = np.sqrt(variances) >= prune_threshold
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
    train_votes = sample_votes(dataset, represent, num_train, rng, variances, active, batch_size)
    classifier = np.argmax(train_votes, axis=0)
    eval_votes = sample_votes(dataset, represent, num_eval, rng, variances, active, batch_size)
    return {"train_accuracy": majority_vote_accuracy(train_votes, classifier),
            "eval_accuracy": majority_vote_accuracy(eval_votes, classifier),
            "num_active_dims": int(active.sum())}
