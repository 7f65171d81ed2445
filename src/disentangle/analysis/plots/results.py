"""Figures of the results table (paper Figs 1–6 and appendix analogues), book width ≈ 8 in.

Every function returns a :class:`matplotlib.figure.Figure` and takes ``caption``,
a line stating the run scale (e.g. ``chapters.scale_caption(df, scale)`` or
"3 seeds × 3 values, dSprites (procedural), 2k steps"), printed under the title.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ...study.columns import SCORES
from .. import downstream, total_correlation
from ...vocabulary import dataset_label, method_label, paper_methods, sweep_position
from ..results_table import present_scores, representation, require_columns
from .style import WIDTH, add_title, method_colours



def _dataset_rows(df: pd.DataFrame, dataset: str, rep: str = "mean") -> pd.DataFrame:
    rows = representation(df, rep)
    rows = rows[rows["dataset"] == dataset]
    if rows.empty:
        raise ValueError(f"no {rep!r} rows for dataset {dataset!r}; have {sorted(df['dataset'].unique())}")
    return rows


def tc_vs_strength(df: pd.DataFrame, *, dataset: str, caption: str, column: str = total_correlation.TC,
                   quantity: str = "Gaussian total correlation (nats)") -> Figure:
    """Fig. 1 analogue: median (IQR band) over seeds of TC against strength, sampled | mean."""
    tidy = total_correlation.by_strength(df, column)
    tidy = tidy[tidy["dataset"] == dataset]
    if tidy.empty:
        raise ValueError(f"no rows for dataset {dataset!r}")
    palette = method_colours(tidy["method"].unique())
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 3.8), sharey=True, layout="constrained")
    for ax, rep in zip(axes, ("sampled", "mean")):
        for method, g in tidy[tidy["representation"] == rep].groupby("method"):
            g = g.sort_values("value_index")
            ax.plot(g["value_index"], g["median"], marker="o", color=palette[method],
                    label=method_label(method))
            ax.fill_between(g["value_index"], g["q25"], g["q75"], color=palette[method], alpha=0.15)
        ax.set_yscale("log")
        ax.set_title(f"{rep} representation")
        ax.set_xlabel("strength (sweep index, weak → strong)")
        ax.set_xticks(range(int(tidy["value_index"].max()) + 1))
    axes[0].set_ylabel(quantity + ", log scale")
    axes[1].legend(fontsize=8, loc="best")
    add_title(fig, f"{quantity.split(' (')[0]} vs regularisation strength — {dataset_label(dataset)}",
           caption)
    return fig


def tc_mean_vs_sampled(df: pd.DataFrame, *, caption: str, column: str = total_correlation.TC) -> Figure:
    """Fig. 10 analogue: TC of the mean vs the sampled representation, one point per run (log–log)."""
    pairs = total_correlation.paired(df, column).dropna(subset=["mean", "sampled"])
    fig, ax = plt.subplots(figsize=(WIDTH * 0.6, WIDTH * 0.55), layout="constrained")
    palette = method_colours(pairs["method"].unique())
    for method, g in pairs.groupby("method"):
        ax.scatter(g["sampled"], g["mean"], s=12, alpha=0.7, color=palette[method],
                   label=method_label(method))
    lims = [min(pairs["mean"].min(), pairs["sampled"].min()), max(pairs["mean"].max(), pairs["sampled"].max())]
    ax.plot(lims, lims, color="black", lw=0.8, ls="--", label="mean = sampled")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("TC of sampled representation (nats, log)")
    ax.set_ylabel("TC of mean representation (nats, log)")
    ax.legend(fontsize=7)
    add_title(fig, "Gaussian TC: mean vs sampled representation", caption)
    return fig


def correlation_heatmaps(matrices: dict[str, pd.DataFrame], *, caption: str,
                         title: str = "Spearman rank correlation between scores") -> Figure:
    """Fig. 2 / 12 analogue: one annotated heat map per dataset (from ``correlation.score_correlation``)."""
    if not matrices:
        raise ValueError("no correlation matrices to plot")
    n = len(matrices)
    ncols = min(n, 2)
    nrows = int(np.ceil(n / ncols))
    size = WIDTH / ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(WIDTH, size * nrows * 0.95 + 0.6), squeeze=False,
                             layout="constrained")
    ordered = sorted(matrices.items(), key=lambda kv: sweep_position(kv[0]))
    for ax, (dataset, m) in zip(axes.flat, ordered):
        sns.heatmap(m.astype(float), ax=ax, vmin=-1, vmax=1, cmap="RdBu_r", annot=True,
                    fmt=".2f" if len(m) <= 6 else ".1f", annot_kws={"fontsize": 7}, square=True, cbar=False)
        ax.set_title(dataset_label(dataset), fontsize=10)
        ax.tick_params(labelsize=8)
        ax.set_xlabel("")
        ax.set_ylabel("")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    fig.colorbar(plt.cm.ScalarMappable(cmap="RdBu_r", norm=plt.Normalize(-1, 1)), ax=axes, shrink=0.6,
                 label="Spearman ρ")
    add_title(fig, title, caption)
    return fig


def rho_heatmaps(table: pd.DataFrame, *, rows: str, cols: str, caption: str, title: str,
                 value: str = "rho") -> Figure:
    """One annotated Spearman heat map per dataset of a long table
    (dataset, ``rows``, ``cols``, ``value``), e.g. unsupervised score × metric (Fig. 16)
    or metric × (predictor, size) (Fig. 19)."""
    require_columns(table, ["dataset", rows, cols, value], "correlation table")
    datasets = sorted(table["dataset"].unique(), key=sweep_position)
    if not datasets:
        raise ValueError("no correlations to plot")
    ncols = min(len(datasets), 2)
    nrows = int(np.ceil(len(datasets) / ncols))
    first = table[table["dataset"] == datasets[0]]
    aspect = first[rows].nunique() / max(first[cols].nunique(), 1)
    fig, axes = plt.subplots(nrows, ncols, figsize=(WIDTH, WIDTH / ncols * aspect * nrows + 1.0), squeeze=False,
                             layout="constrained")
    for ax, dataset in zip(axes.flat, datasets):
        sub = table[table["dataset"] == dataset]
        matrix = sub.pivot(index=rows, columns=cols, values=value)
        matrix = matrix.reindex(index=list(dict.fromkeys(sub[rows])), columns=list(dict.fromkeys(sub[cols])))
        sns.heatmap(matrix.astype(float), ax=ax, vmin=-1, vmax=1, cmap="RdBu_r", annot=True, fmt=".2f",
                    annot_kws={"fontsize": 7}, cbar=False)
        ax.set_title(dataset_label(dataset), fontsize=10)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(labelsize=8)
    for ax in axes.flat[len(datasets):]:
        ax.set_visible(False)
    fig.colorbar(plt.cm.ScalarMappable(cmap="RdBu_r", norm=plt.Normalize(-1, 1)), ax=axes, shrink=0.6,
                 label="Spearman ρ")
    add_title(fig, title, caption)
    return fig


def score_pairs(df: pd.DataFrame, *, dataset: str, caption: str) -> Figure:
    """Fig. 11 analogue: pairwise scatter of the six scores (mean representation), coloured by method."""
    rows = _dataset_rows(df, dataset)
    scores = present_scores(rows)
    frame = rows[list(scores.values()) + ["method"]].rename(columns={v: k for k, v in scores.items()})
    frame["method"] = frame["method"].map(lambda m: method_label(m))
    grid = sns.pairplot(frame, hue="method", height=WIDTH / max(len(scores), 1), corner=True,
                        plot_kws={"s": 8, "alpha": 0.6}, diag_kind="hist", diag_kws={"bins": 15})
    grid.figure.set_size_inches(WIDTH, WIDTH * 0.85)
    grid.figure.suptitle(f"Pairwise scores (0–1) — {dataset_label(dataset)}\n{caption}", fontsize=11)
    return grid.figure


def scores_by_method(df: pd.DataFrame, *, dataset: str, metric: str, caption: str,
                     method: str = "factor_vae") -> Figure:
    """Fig. 3 analogue: score per method (left) and per strength for one method (right), violins over seeds."""
    if metric not in SCORES:
        raise ValueError(f"metric must be one of {list(SCORES)}")
    rows = _dataset_rows(df, dataset)
    col = SCORES[metric]
    if method not in set(rows["method"]):
        raise ValueError(f"method {method!r} has no runs on {dataset!r}")
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 3.8), layout="constrained",
                             gridspec_kw={"width_ratios": [3, 2]})
    order = [m for m in paper_methods() if m in set(rows["method"])]
    sns.violinplot(data=rows, x="method", y=col, order=order, hue="method", hue_order=order, legend=False,
                   palette=method_colours(order), cut=0, inner="point", ax=axes[0], density_norm="width")
    axes[0].set_xticks(range(len(order)), [method_label(m) for m in order], rotation=30, ha="right")
    axes[0].set_xlabel("")
    axes[0].set_ylabel(f"{metric} score (0–1)")
    one = rows[rows["method"] == method].sort_values("value")
    one = one.assign(strength=one["value"].map("{:g}".format))
    sns.violinplot(data=one, x="strength", y=col, color=method_colours([method])[method], cut=0, inner="point",
                   ax=axes[1], density_norm="width")
    axes[1].set_xlabel(f"{one['hyperparameter'].iloc[0]} ({method_label(method)})")
    axes[1].set_ylabel("")
    add_title(fig, f"{metric} score by method and by strength — {dataset_label(dataset)}", caption)
    return fig


def transfer_heatmap(matrix: pd.DataFrame, *, metric: str, caption: str) -> Figure:
    """Fig. 4 right analogue: Spearman across datasets of per-configuration median ``metric``."""
    labels = [dataset_label(d) for d in matrix.index]
    fig, ax = plt.subplots(figsize=(WIDTH * 0.6, WIDTH * 0.5), layout="constrained")
    sns.heatmap(matrix.astype(float), ax=ax, vmin=-1, vmax=1, cmap="RdBu_r", annot=True, fmt=".2f", square=True,
                xticklabels=labels, yticklabels=labels, cbar_kws={"label": "Spearman ρ"})
    ax.set_xlabel("")
    ax.set_ylabel("")
    add_title(fig, f"Transfer of {metric} across datasets\n(rank correlation of configuration medians)", caption)
    return fig


def downstream_vs_size(df: pd.DataFrame, *, dataset: str, caption: str) -> Figure:
    """Fig. 5-style: median downstream test accuracy against training-set size, per method (LR | GBT)."""
    rows = _dataset_rows(df, dataset)
    acc = downstream.accuracy_columns(rows)
    if not acc:
        raise KeyError("no downstream accuracy columns")
    predictors = sorted({p for p, _ in acc})
    palette = method_colours(rows["method"].unique())
    fig, axes = plt.subplots(1, len(predictors), figsize=(WIDTH, 3.6), sharey=True, squeeze=False,
                             layout="constrained")
    for ax, predictor in zip(axes[0], predictors):
        sizes = sorted(n for p, n in acc if p == predictor)
        for method in [m for m in paper_methods() if m in palette]:
            g = rows[rows["method"] == method]
            med = [g[acc[(predictor, n)]].median() for n in sizes]
            ax.plot(sizes, med, marker="o", color=palette[method], label=method_label(method))
        ax.set_xscale("log")
        ax.set_xlabel("training examples (log scale)")
        ax.set_title({"LR": "logistic regression", "GBT": "gradient boosted trees"}.get(predictor, predictor))
    axes[0][0].set_ylabel("mean test accuracy over factors (fraction)")
    axes[0][-1].legend(fontsize=8)
    add_title(fig, f"Downstream accuracy vs sample size — {dataset_label(dataset)}", caption)
    return fig


def efficiency_vs_score(df: pd.DataFrame, *, dataset: str, metric: str, caption: str,
                        predictor: str = "GBT") -> Figure:
    """Fig. 6 analogue: sample efficiency (acc@100 / acc@10k) against a score, one point per run."""
    if metric not in SCORES:
        raise ValueError(f"metric must be one of {list(SCORES)}")
    rows = _dataset_rows(df, dataset)
    eff = downstream.sample_efficiency(rows, predictor)
    palette = method_colours(rows["method"].unique())
    fig, ax = plt.subplots(figsize=(WIDTH * 0.7, WIDTH * 0.5), layout="constrained")
    for method in [m for m in paper_methods() if m in palette]:
        mask = (rows["method"] == method).to_numpy()
        ax.scatter(rows[SCORES[metric]].to_numpy()[mask], eff.to_numpy()[mask], s=14, alpha=0.7,
                   color=palette[method], label=method_label(method))
    ax.set_xlabel(f"{metric} score (0–1)")
    num, den = downstream.efficiency_sizes(rows, predictor)
    ax.set_ylabel(f"{predictor} sample efficiency\n(accuracy@{num} / accuracy@{den:,})")
    ax.legend(fontsize=7)
    add_title(fig, f"Sample efficiency vs {metric} — {dataset_label(dataset)}", caption)
    return fig


def efficiency_artefact(df: pd.DataFrame, *, dataset: str, caption: str, predictor: str = "GBT") -> Figure:
    """Sample efficiency against accuracy at 10,000 samples, one point per run: runs
    with low accuracy everywhere reach a high "efficiency" by being bad at every size
    (paper §5.5); the runs :func:`~disentangle.analysis.downstream.low_accuracy_artefact`
    flags are circled."""
    rows = df[(df["representation"] == "mean") & (df["dataset"] == dataset)]
    acc = downstream.accuracy_columns(rows)
    sizes = downstream.efficiency_sizes(rows, predictor)
    if sizes is None or (predictor, sizes[1]) not in acc:
        raise KeyError(f"no {predictor} accuracies to form a sample efficiency")
    big = sizes[1]
    eff = downstream.sample_efficiency(rows, predictor)
    flagged = downstream.low_accuracy_artefact(df)
    flagged = flagged[(flagged["dataset"] == dataset) & (flagged["predictor"] == predictor)]
    key = rows[["method", "value", "seed"]].apply(tuple, axis=1)
    is_flagged = key.isin(set(flagged[["method", "value", "seed"]].apply(tuple, axis=1)))
    palette = method_colours(rows["method"].unique())
    fig, ax = plt.subplots(figsize=(WIDTH * 0.7, WIDTH * 0.5), layout="constrained")
    for method in [m for m in paper_methods() if m in palette]:
        mask = (rows["method"] == method).to_numpy()
        ax.scatter(rows[acc[(predictor, big)]].to_numpy()[mask], eff.to_numpy()[mask], s=14, alpha=0.7,
                   color=palette[method], label=method_label(method))
    if is_flagged.any():
        ax.scatter(rows[acc[(predictor, big)]][is_flagged], eff[is_flagged], s=80, facecolors="none",
                   edgecolors="black", label="low-accuracy artefact")
    ax.set_xlabel(f"{predictor} accuracy with {big:,} training examples (fraction)")
    ax.set_ylabel(f"{predictor} sample efficiency\n(accuracy@100 / accuracy@{big:,})")
    ax.legend(fontsize=7)
    add_title(fig, f"Efficiency vs accuracy — {dataset_label(dataset)}", caption)
    return fig


def variance_vs_paper(table: pd.DataFrame, *, caption: str) -> Figure:
    """Table 5 comparison: our R² (%) against the paper's, (a) method, (b) method × strength."""
    require_columns(table, ["method_pct", "method_x_value_pct", "paper_method_pct", "paper_method_x_value_pct",
                            "null_method_pct", "null_method_x_value_pct", "metric"], "variance table")
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 4.0), sharey=True, layout="constrained")
    for ax, (model, name) in zip(axes, (("method", "(a) objective"), ("method_x_value", "(b) objective × strength"))):
        sns.scatterplot(data=table, x=f"paper_{model}_pct", y=f"{model}_pct", hue="metric", style="dataset"
                        if "dataset" in table.columns else None, ax=ax, s=40, legend=model == "method_x_value")
        ax.plot([0, 100], [0, 100], color="black", lw=0.8, ls="--")
        ax.axhline(float(table[f"null_{model}_pct"].mean()), color="grey", lw=0.8, ls=":",
                   label="chance level (no effect)")
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 100)
        ax.set_xlabel("paper, Table 5 (% variance explained)")
        ax.set_title(name)
    axes[0].set_ylabel("this run (% variance explained)")
    if axes[1].get_legend() is not None:
        sns.move_legend(axes[1], "upper left", bbox_to_anchor=(1.02, 1), fontsize=7, title_fontsize=8)
    add_title(fig, "Variance of each score explained by the objective (OLS R²)", caption)
    return fig
