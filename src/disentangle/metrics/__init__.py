"""The paper's metrics (`config/unsupervised_study_v1/metric_configs/*.gin`), faithful to the reference implementation.

Array-level scores take ``codes`` (N, D) float and ``factors`` (N, K) int, one
row per sample (numpy arrays or torch tensors); sampling-level scores take a
dataset, a ``represent`` callable (float32 (n, H, W, C) → (n, D)) and a seed.
``evaluate`` runs the study's nine metric configs.
"""

from ..estimators import CLASSIFIER_SEMANTICS
from .beta_vae import beta_vae_score
from .dci import completeness, dci, disentanglement
from .downstream import downstream, downstream_accuracies, sample_efficiency
from .evaluate import ALL, SETTINGS, evaluate, evaluation_seeds, reference_evaluation_seeds
from .factor_vae import factor_vae_metric
from .mig import mig
from .modularity import modularity, modularity_explicitness
from .sap import sap
from .unsupervised import (gaussian_total_correlation, gaussian_wasserstein_correlation,
                           unsupervised_scores)
from .utils import (discrete_entropy, discrete_mutual_info, generate_codes, histogram_discretize,
                    split_train_test)

__all__ = [
    "ALL", "CLASSIFIER_SEMANTICS", "SETTINGS", "beta_vae_score", "completeness", "dci", "discrete_entropy",
    "discrete_mutual_info", "disentanglement", "downstream", "downstream_accuracies", "evaluate",
    "evaluation_seeds", "factor_vae_metric", "gaussian_total_correlation",
    "gaussian_wasserstein_correlation", "generate_codes", "histogram_discretize", "mig",
    "modularity", "modularity_explicitness", "reference_evaluation_seeds", "sample_efficiency",
    "sap", "split_train_test", "unsupervised_scores",
]
