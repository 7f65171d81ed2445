"""BetaVAE score (`evaluation/metrics/beta_vae.py: compute_beta_vae_sklearn`, config ``beta_vae_sklearn``).

One point: draw k, sample two factor batches of 64, copy factor k of the first
into the second (pairwise), encode both; feature = mean_b |r(x1) - r(x2)|,
label = k. A default ``LogisticRegression`` (``estimators.logistic_regression``) is
fit on 10,000 points and scored on 5,000 fresh ones. ``classifiers="paper"`` (the
study's numbers): scikit-learn 0.20's default, liblinear one-vs-rest, C = 1;
``"modern"``: lbfgs multinomial (scikit-learn >= 0.22). Several points are encoded
per ``represent`` call; the random draws keep the reference's order (k, factors 1, factors 2, images 1, images 2).
"""

from __future__ import annotations

import numpy as np

from ..estimators import check_classifiers, logistic_regression
from .utils import (Represent, Seed, accuracy, as_random_state, encode, fit_classifier,
                    random_factor_index)

#: points whose 2 x batch_size images are encoded in one ``represent`` call
POINTS_PER_CALL = 8


def sample_beta_vae_points(dataset, represent: Represent, num_points: int, rng,
                           batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(features (num_points, D), labels (num_points,))."""
    features, labels = [], []
    for start in range(0, num_points, POINTS_PER_CALL):
        images = []
        for _ in range(min(POINTS_PER_CALL, num_points - start)):
            k = random_factor_index(dataset, rng)
            first = dataset.sample_factors(batch_size, rng)
            second = dataset.sample_factors(batch_size, rng)
            second[:, k] = first[:, k]
            images += [dataset.observations(first, rng), dataset.observations(second, rng)]
            labels.append(k)
        codes = encode(represent, np.concatenate(images))
        codes = codes.reshape(len(images) // 2, 2, batch_size, -1)
        features.append(np.mean(np.abs(codes[:, 0] - codes[:, 1]), axis=1))
    return np.concatenate(features), np.asarray(labels, dtype=np.int64)


def beta_vae_score(dataset, represent: Represent, *, seed: Seed, batch_size: int = 64,
                   num_train: int = 10_000, num_eval: int = 5_000,
                   classifiers: str = "paper") -> dict[str, float]:
    """``train_accuracy`` and ``eval_accuracy`` (the paper reports the latter)."""
    check_classifiers(classifiers)
    if min(batch_size, num_train, num_eval) < 1:
        raise ValueError("batch_size, num_train and num_eval must be >= 1")
    rng = as_random_state(seed)
    x_train, y_train = sample_beta_vae_points(dataset, represent, num_train, rng, batch_size)
    # the reference hands the metric's RandomState to the classifier; neither solver uses it
    model = fit_classifier(lambda: logistic_regression(classifiers), x_train, y_train)
    x_eval, y_eval = sample_beta_vae_points(dataset, represent, num_eval, rng, batch_size)
    return {"train_accuracy": accuracy(model, x_train, y_train),
            "eval_accuracy": accuracy(model, x_eval, y_eval)}
