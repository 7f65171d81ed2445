"""Every figure of the book, one home (nothing else in the package draws).

* :mod:`.results` — the results table: paper Figs 1–6 and appendix analogues;
* :mod:`.training` — trained models (chapter 2): training curves, reconstructions,
  latent traversals;
* :mod:`.datasets` — a ground-truth dataset: random samples, factor traversals (chapter 2);
* :mod:`.theory` — Theorem 1's checks (chapter 1);
* :mod:`.style` — page width, method colours, the caption line, showing and saving.

Every function returns a :class:`matplotlib.figure.Figure`; those of the results and of
trained models take ``caption``, the run scale printed under the title. Nothing here
selects a backend.
"""

from .results import (correlation_heatmaps, downstream_vs_size, efficiency_artefact, efficiency_vs_score,
                      rho_heatmaps, score_pairs, scores_by_method, tc_mean_vs_sampled, tc_vs_strength,
                      transfer_heatmap, variance_vs_paper)
from .datasets import dataset_samples, factor_traversals
from .style import WIDTH, add_title, method_colours, save_figure, show
from .theory import entangled_grid, jacobian_heatmaps, joint_vs_product, marginal_histograms, metric_flip_bars
from .training import (CURVE_PARTS, latent_kl_per_dimension, latent_traversals, reconstructions,
                       training_curves, traversal_grid)

__all__ = [
    "CURVE_PARTS", "WIDTH", "add_title", "correlation_heatmaps", "dataset_samples", "downstream_vs_size",
    "efficiency_artefact", "efficiency_vs_score", "entangled_grid", "factor_traversals", "jacobian_heatmaps",
    "joint_vs_product", "latent_kl_per_dimension", "latent_traversals", "marginal_histograms",
    "method_colours", "metric_flip_bars", "reconstructions", "rho_heatmaps", "save_figure", "score_pairs",
    "scores_by_method", "show", "tc_mean_vs_sampled", "tc_vs_strength", "training_curves", "transfer_heatmap",
    "traversal_grid", "variance_vs_paper",
]
