"""Glue for the book's chapters 2–6: loading the results table a chapter reads,
the scale caption of every figure, "not enough runs" guards, and the chapter-2
pictures built from run folders (training curves, reconstructions, traversals).

Analyses live in the sibling modules; this module only holds what a notebook
would otherwise have to spell out in long cells.
"""

from __future__ import annotations

import json
import textwrap
import warnings
import zlib
from pathlib import Path
from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

with warnings.catch_warnings():  # tqdm.auto (the trainer's progress bar) warns "IProgress not found" into outputs
    warnings.simplefilter("ignore")
    import tqdm.auto  # noqa: F401

import disentangle.study as study_api  # noqa: E402

from disentangle.analysis._frame import CONFIG_KEY, RUN_KEY, require_columns  # noqa: E402
from disentangle.analysis.claims import scale_note  # noqa: E402
from disentangle.analysis.paper_values import DATASET_LABELS, METHOD_LABELS, METHODS  # noqa: E402
from disentangle.analysis.plots import WIDTH, _palette, _title  # noqa: E402

#: loss parts shown as training curves (names of the trainer's log entries, study.md §2.4)
CURVE_PARTS = ("loss", "reconstruction_loss", "kl_loss", "regularizer")


# ------------------------------------------------------------------------------------ results


def results_path(results: str = "", results_dir: str | Path = "") -> Path:
    """The table a chapter reads: ``results`` if set (a file, or a folder holding
    ``results.parquet``), else ``<results_dir>/results.parquet``."""
    if results:
        path = Path(results).expanduser()
        return path / "results.parquet" if path.is_dir() else path
    if not results_dir:
        raise ValueError("set either `results` (a results table) or `results_dir` (a study folder)")
    return Path(results_dir).expanduser() / "results.parquet"


def load_chapter_results(results: str = "", results_dir: str | Path = "") -> pd.DataFrame:
    """Read the results table (parquet, csv, or the reference's aggregated JSON via
    ``load_dlib``); a clear error says how to produce a missing one."""
    path = results_path(results, results_dir)
    if not path.is_file():
        hint = ("check the `results` parameter" if results else
                "run chapter 2 (`make chapter NAME=02_training`) or `python -m disentangle study run PARAMS` first")
        raise FileNotFoundError(f"no results table at {path}: {hint}")
    readers: dict[str, Callable[[Path], pd.DataFrame]] = {
        ".parquet": pd.read_parquet, ".csv": pd.read_csv, ".json": study_api.load_dlib}
    if path.suffix not in readers:
        raise ValueError(f"{path}: unknown results format {path.suffix!r}; use one of {sorted(readers)}")
    df = readers[path.suffix](path)
    require_columns(df, [*RUN_KEY, "representation"], f"results table {path}")
    if df.empty:
        raise ValueError(f"{path}: the results table has no rows (no run finished yet)")
    return df


def scale_caption(df: pd.DataFrame, scale: str = "", *, width: int = 95) -> str:
    """The run scale printed under every figure title (wrapped at ``width`` characters), e.g.
    ``"scale ci · dSprites (procedural): 2 methods × 2 values × 2 seeds = 8 runs, 40 steps"``."""
    note = scale_note(df)
    origin = set(df["origin"].dropna()) if "origin" in df.columns else set()
    prefix = []
    if scale:
        prefix.append(f"scale {scale}")
    if "disentanglement_lib" in origin:
        prefix.append("disentanglement_lib records")
    if (df.get("dataset_source") == "synthetic").any():
        prefix.append("SYNTHETIC results (not real runs)")
    return textwrap.fill(" · ".join([*prefix, note]), width=width, break_long_words=False)


# ------------------------------------------------------------------------------------ guards


def shortfall(df: pd.DataFrame, *, runs: int = 1, seeds: int = 1, values: int = 1, methods: int = 1,
              datasets: int = 1, columns: Sequence[str] = (), representations: Sequence[str] = ()) -> str | None:
    """Why ``df`` is too small for an analysis (None when it is large enough).

    ``runs``: runs per dataset; ``seeds``: runs per configuration; ``values``: strength values per
    (dataset, method); ``methods`` / ``datasets``: distinct ones; ``columns``:
    each must be present with a finite value; ``representations``: must occur.
    """
    require_columns(df, [*RUN_KEY, "representation"])
    need = {"runs": runs, "seeds": seeds, "values": values, "methods": methods, "datasets": datasets}
    runs = df.drop_duplicates(list(RUN_KEY))
    have = {
        "runs": int(runs.groupby("dataset").size().min()) if len(runs) else 0,
        "seeds": int(runs.groupby(list(CONFIG_KEY)).size().min()) if len(runs) else 0,
        "values": int(runs.groupby(["dataset", "method"])["value"].nunique().min()) if len(runs) else 0,
        "methods": runs["method"].nunique(), "datasets": runs["dataset"].nunique(),
    }
    what = {"runs": "runs per dataset", "seeds": "seed(s) per configuration", "values": "strength value(s) per method",
            "methods": "method(s)", "datasets": "dataset(s)"}
    for key, n in need.items():
        if have[key] < n:
            return f"needs ≥ {n} {what[key]}, this table has {have[key]}"
    for col in columns:
        if col not in df.columns or not np.isfinite(pd.to_numeric(df[col], errors="coerce")).any():
            return f"needs column {col!r}, which this table lacks"
    for rep in representations:
        if not (df["representation"] == rep).any():
            return f"needs the {rep!r} representation, which this table lacks"
    return None


def not_enough(reason: str) -> "Markdown":
    """The note a chapter shows instead of an analysis its table cannot support."""
    from IPython.display import Markdown

    return Markdown(f"> **Not enough runs at this scale** — {reason}. The claims table reports the "
                    "corresponding claims as *inconclusive*.")


def show(make: Callable[[], Figure], reason: str | None = None) -> None:
    """Draw ``make()`` (and ``plt.show()`` it), or display :func:`not_enough` when
    ``reason`` is set."""
    from IPython.display import display

    if reason:
        display(not_enough(reason))
        return
    make()
    plt.show()


def ordered(df: pd.DataFrame, column: str) -> list[str]:
    """The distinct ``column`` ("dataset" or "method") values of ``df`` in sweep order."""
    order = METHODS if column == "method" else tuple(DATASET_LABELS)
    return sorted(pd.unique(df[column]), key=lambda v: order.index(v) if v in order else len(order))


def focus(df: pd.DataFrame, column: str, preferred: str = "") -> str:
    """``preferred`` if ``df`` has it in ``column``, else the first value in sweep order:
    the dataset or method a single-panel figure shows."""
    present = ordered(df, column)
    return preferred if preferred in present else present[0]


# ------------------------------------------------------------------------------------ chapter 2: the grid


def grid_table(params_file: str | Path) -> pd.DataFrame:
    """The study grid of a params file: one row per (dataset, method) with its
    hyperparameter, values, seeds and number of runs, plus a total row."""
    from disentangle.models import hyperparameter_name

    study = study_api.Study.from_params(params_file)
    grid = pd.DataFrame(study.grid(), columns=["dataset", "method", "value", "seed"])
    rows = []
    for (dataset, method), g in grid.groupby(["dataset", "method"], sort=False):
        rows.append({"dataset": DATASET_LABELS.get(dataset, dataset), "method": METHOD_LABELS.get(method, method),
                     "hyperparameter": hyperparameter_name(method),
                     "values": ", ".join(f"{v:g}" for v in sorted(g["value"].unique())),
                     "seeds": ", ".join(str(s) for s in sorted(g["seed"].unique())), "runs": len(g)})
    total = {"dataset": "total", "method": "", "hyperparameter": "", "values": "", "seeds": "", "runs": len(grid)}
    return pd.DataFrame([*rows, total])


def results_overview(df: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, method, value): finished seeds and the median of each paper score
    on the mean representation — a compact view of the results table."""
    from disentangle.analysis._frame import present_scores

    rows = df[df["representation"] == "mean"] if (df["representation"] == "mean").any() else df
    scores = present_scores(rows)
    grouped = rows.groupby(["dataset", "method", "value"], sort=True)
    out = grouped.size().rename("seeds").to_frame()
    for name, col in scores.items():
        out[f"{name} (median)"] = grouped[col].median()
    out = out.reset_index()
    out["dataset"] = out["dataset"].map(lambda d: DATASET_LABELS.get(d, d))
    out["method"] = out["method"].map(lambda m: METHOD_LABELS.get(m, m))
    return out


def learning_table(df: pd.DataFrame, pixels: dict[str, int]) -> pd.DataFrame:
    """How far training got: per dataset (and per method within it), the median final
    reconstruction loss (``train.reconstruction_loss``, nats per image), its share of the
    know-nothing Bernoulli baseline H·W·C·ln 2 (``pixels[dataset]`` = H·W·C) and the
    median KL. The row ``all methods`` is the dataset's median over every run."""
    require_columns(df, ["dataset", "method", "model_num", "train.reconstruction_loss", "train.kl_loss"])
    runs = df.drop_duplicates("model_num")
    rows = []
    for dataset, g in runs.groupby("dataset", sort=False):
        if dataset not in pixels:
            raise KeyError(f"no image size given for dataset {dataset!r}")
        baseline = pixels[dataset] * np.log(2)
        for method, sub in [("all methods", g), *g.groupby("method", sort=False)]:
            recon = float(sub["train.reconstruction_loss"].median())
            rows.append({"dataset": DATASET_LABELS.get(dataset, dataset),
                         "method": METHOD_LABELS.get(method, method), "runs": len(sub),
                         "reconstruction (median, nats)": recon, "baseline H·W·C·ln 2": baseline,
                         "% of baseline": 100 * recon / baseline,
                         "KL (median, nats)": float(sub["train.kl_loss"].median())})
    return pd.DataFrame(rows)


#: measured tables the chapters show, committed beside the benchmarks that wrote them
BENCHMARK_RESULTS = Path(__file__).resolve().parents[3] / "benchmarks" / "results"


def benchmark_results(pattern: str) -> list[Path]:
    """The committed benchmark tables matching ``pattern`` (e.g. ``"laptop_scale_*.csv"``),
    found from the library's own checkout, so a chapter finds them whatever its working
    folder; empty for an installed package without the repository."""
    return sorted(BENCHMARK_RESULTS.glob(pattern))


def laptop_scale_summary(paths: Sequence[str | Path]) -> pd.DataFrame:
    """The learning measurements behind the default scale (``benchmarks/laptop_scale.py`` CSVs):
    per setting (learning rate, batch size, precision) and number of updates, the panel's median
    reconstruction as % of H·W·C·ln 2, median KL, active dimensions, MIG, DCI and FactorVAE score.
    (Costs are measured separately, settings interleaved: ``laptop_cost.csv``.)"""
    frames = [pd.read_csv(p) for p in paths]
    if not frames:
        raise FileNotFoundError("no laptop_scale CSV given")
    df = pd.concat(frames, ignore_index=True)
    out = df.groupby(["arm", "updates"], sort=False).agg(
        lr=("lr", "first"), batch=("batch_size", "first"), precision=("precision", "first"),
        models=("model", "nunique"), recon_pct=("baseline_share", lambda s: 100 * s.median()),
        kl=("kl", "median"), active_dims=("active_dims", "median"), mig=("mig", "median"),
        dci=("dci", "median"), factor_vae=("factor_vae", "median"))
    out = out.reset_index().rename(columns={"recon_pct": "reconstruction, % of baseline"})
    out["lr"] = out["lr"].map(lambda v: f"{v:.0e}")
    return out.drop(columns=["arm"])


# ------------------------------------------------------------------------------------ chapter 2: run folders


def run_folders(results_dir: str | Path) -> pd.DataFrame:
    """Finished run folders of a study (``runs/*/`` with ``done.json`` and ``model/``):
    model_num, dataset, method, value, seed, folder — from each ``run_config.json``."""
    rows = []
    for folder in sorted((Path(results_dir) / "runs").glob("*")):
        config_path = folder / "run_config.json"
        if not (config_path.is_file() and (folder / "done.json").is_file() and (folder / "model").is_dir()):
            continue
        c = json.loads(config_path.read_text())
        rows.append({"model_num": c["model_num"], "dataset": c["dataset"], "method": c["method"],
                     "value": float(c["value"]), "seed": c["seed"], "folder": folder})
    return pd.DataFrame(rows, columns=["model_num", "dataset", "method", "value", "seed", "folder"])


def training_logs(folders: pd.DataFrame) -> pd.DataFrame:
    """The trainer's ``log.jsonl`` of each run in ``folders`` (from :func:`run_folders`), long
    format: run identity, iteration, global_step, part, value."""
    frames = []
    for r in folders.itertuples():
        path = Path(r.folder) / "log.jsonl"
        if not path.is_file():
            continue
        log = pd.DataFrame([json.loads(line) for line in path.read_text().splitlines() if line.strip()])
        parts = [p for p in CURVE_PARTS if p in log.columns]
        long = log.melt(id_vars=["iteration", "global_step"], value_vars=parts, var_name="part", value_name="nats")
        frames.append(long.assign(dataset=r.dataset, method=r.method, value=r.value, seed=r.seed))
    if not frames:
        return pd.DataFrame(columns=["dataset", "method", "value", "seed", "iteration", "global_step", "part", "nats"])
    return pd.concat(frames, ignore_index=True)


def plot_training_curves(logs: pd.DataFrame, *, scale: str) -> Figure:
    """Training curves: each loss part (nats per image, averaged over ``log_every``
    steps) against the global step, one line per run, coloured by method."""
    if logs.empty:
        raise ValueError("no training logs to plot")
    parts = [p for p in CURVE_PARTS if p in set(logs["part"])]
    palette = _palette(logs["method"].unique())
    fig, axes = plt.subplots(1, len(parts), figsize=(WIDTH, 3.2), layout="constrained", squeeze=False)
    for ax, part in zip(axes[0], parts):
        sub = logs[logs["part"] == part]
        for (method, value, seed, dataset), g in sub.groupby(["method", "value", "seed", "dataset"], sort=True):
            ax.plot(g["global_step"], g["nats"], color=palette[method], lw=1, alpha=0.7)
        ax.set_title(part.replace("_", " "), fontsize=10)
        ax.set_xlabel("global step")
        ax.ticklabel_format(axis="y", useOffset=False)
    axes[0][0].set_ylabel("nats per image")
    handles = [plt.Line2D([], [], color=palette[m], label=METHOD_LABELS.get(m, m))
               for m in METHODS if m in palette]
    axes[0][-1].legend(handles=handles, fontsize=7)
    _title(fig, "Training curves (one line per run)", scale)
    return fig


def pick_runs(folders: pd.DataFrame, n: int) -> pd.DataFrame:
    """Up to ``n`` runs to picture: per method, the weakest then the strongest
    regularisation (lowest seed), interleaved across methods, first dataset only."""
    if folders.empty:
        return folders
    first = folders[folders["dataset"] == focus(folders, "dataset")].sort_values(["value", "seed"])
    methods = [m for m in METHODS if m in set(first["method"])]
    weakest = [first[first["method"] == m].iloc[0] for m in methods]
    strongest = [first[(first["method"] == m) & (first["value"] == first.loc[first["method"] == m, "value"].max())]
                 .iloc[0] for m in methods]
    picks = pd.DataFrame(weakest + strongest).drop_duplicates("model_num")
    return picks.head(n).reset_index(drop=True)


def run_label(row) -> str:
    """e.g. ``"β-VAE, beta = 16, seed 0"``."""
    from disentangle.models import hyperparameter_name

    hp = hyperparameter_name(row["method"]).split(".")[-1]
    return f"{METHOD_LABELS.get(row['method'], row['method'])}, {hp} = {row['value']:g}, seed {row['seed']}"


def _show_image(ax, image: np.ndarray) -> None:
    ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_reconstructions(models: Sequence, labels: Sequence[str], images: np.ndarray, *, scale: str) -> Figure:
    """Inputs (top row) and each model's reconstruction of them (one row per model)."""
    if len(models) != len(labels):
        raise ValueError("need one label per model")
    n = len(images)
    rows = [images, *[m.reconstruct(images) for m in models]]
    names = ["input", *labels]
    fig, axes = plt.subplots(len(rows), n, figsize=(WIDTH, WIDTH / n * len(rows) * 1.05 + 0.6),
                             squeeze=False, layout="constrained")
    for i, (row, name) in enumerate(zip(rows, names)):
        for j in range(n):
            _show_image(axes[i][j], row[j])
        axes[i][0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    _title(fig, "Reconstructions (decoder mean of the encoder mean)", scale)
    return fig


def traversal_grid(model, image: np.ndarray, *, span: float = 2.0, steps: int = 7) -> np.ndarray:
    """Latent traversal of one image: for each latent dimension, decode the encoder
    mean with that dimension set to ``steps`` values in [-span, span];
    shape (latent_dim, steps, H, W, C)."""
    if span <= 0 or steps < 2:
        raise ValueError("span must be > 0 and steps >= 2")
    z = model.represent_mean(image[None])[0]
    grid = np.repeat(z[None, None], model.latent_dim, axis=0).repeat(steps, axis=1)
    values = np.linspace(-span, span, steps)
    for d in range(model.latent_dim):
        grid[d, :, d] = values
    decoded = model.decode(grid.reshape(-1, model.latent_dim))
    return decoded.reshape(model.latent_dim, steps, *decoded.shape[1:])


def plot_traversals(model, image: np.ndarray, *, label: str, scale: str, span: float = 2.0,
                    steps: int = 7, kl_per_dim: np.ndarray | None = None) -> Figure:
    """One row per latent dimension: the decoded image as that dimension sweeps
    [-span, span] (others at the encoder mean of ``image``)."""
    grid = traversal_grid(model, image, span=span, steps=steps)
    dims = grid.shape[0]
    fig, axes = plt.subplots(dims, steps, figsize=(WIDTH * 0.6, WIDTH * 0.6 / steps * dims + 0.7),
                             squeeze=False, layout="constrained")
    for d in range(dims):
        for j in range(steps):
            _show_image(axes[d][j], grid[d, j])
        axes[d][0].set_ylabel(f"z{d}", rotation=0, ha="right", va="center", fontsize=8)
    for j, v in enumerate(np.linspace(-span, span, steps)):
        axes[-1][j].set_xlabel(f"{v:+.1f}", fontsize=7)
    _title(fig, f"Latent traversals — {label}", scale)
    return fig


# ------------------------------------------------------------------------------------ chapters 5 and 6


def table5_side_by_side(table: pd.DataFrame, model: str) -> pd.DataFrame:
    """Table 5 layout (dataset × metric) with cells ``"ours (paper)"`` in percent, from
    :func:`~disentangle.analysis.variance.variance_explained`; ``model`` is
    ``"method"`` (Table 5(a)) or ``"method_x_value"`` (Table 5(b)). The last
    column is the chance level (R² expected with no effect)."""
    if model not in ("method", "method_x_value"):
        raise ValueError("model must be 'method' or 'method_x_value'")
    require_columns(table, ["dataset", "metric", f"{model}_pct", f"paper_{model}_pct", f"null_{model}_pct"],
                    "variance table")

    def cell(r) -> str:
        ours = "n/a" if not np.isfinite(r[f"{model}_pct"]) else f"{r[f'{model}_pct']:.0f}"
        paper = r[f"paper_{model}_pct"]
        return ours if not np.isfinite(paper) else f"{ours} ({paper:.0f})"

    cells = table.assign(cell=table.apply(cell, axis=1))
    out = cells.pivot(index="dataset", columns="metric", values="cell")
    out["chance level"] = cells.groupby("dataset")[f"null_{model}_pct"].mean().map("{:.0f}".format)
    out.index = out.index.map(lambda d: DATASET_LABELS.get(d, d))
    return out.rename_axis(index="dataset", columns=None)


def rho_heatmaps(table: pd.DataFrame, *, rows: str, cols: str, scale: str, title: str,
                 value: str = "rho") -> Figure:
    """One annotated Spearman heat map per dataset of a long table
    (dataset, ``rows``, ``cols``, ``value``), e.g. unsupervised score × metric (Fig. 16)
    or metric × (predictor, size) (Fig. 19)."""
    require_columns(table, ["dataset", rows, cols, value], "correlation table")
    datasets = sorted(table["dataset"].unique(), key=lambda d: list(DATASET_LABELS).index(d)
                      if d in DATASET_LABELS else len(DATASET_LABELS))
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
        ax.set_title(DATASET_LABELS.get(dataset, dataset), fontsize=10)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(labelsize=8)
    for ax in axes.flat[len(datasets):]:
        ax.set_visible(False)
    fig.colorbar(plt.cm.ScalarMappable(cmap="RdBu_r", norm=plt.Normalize(-1, 1)), ax=axes, shrink=0.6,
                 label="Spearman ρ")
    _title(fig, title, scale)
    return fig


def plot_efficiency_artefact(df: pd.DataFrame, *, dataset: str, scale: str, predictor: str = "GBT") -> Figure:
    """Sample efficiency against accuracy at 10,000 samples, one point per run: runs
    with low accuracy everywhere reach a high "efficiency" by being bad at every size
    (paper.md §3(d)); the runs :func:`~disentangle.analysis.downstream.low_accuracy_artefact`
    flags are circled."""
    from disentangle.analysis import downstream

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
    palette = _palette(rows["method"].unique())
    fig, ax = plt.subplots(figsize=(WIDTH * 0.7, WIDTH * 0.5), layout="constrained")
    for method in [m for m in METHODS if m in palette]:
        mask = (rows["method"] == method).to_numpy()
        ax.scatter(rows[acc[(predictor, big)]].to_numpy()[mask], eff.to_numpy()[mask], s=14, alpha=0.7,
                   color=palette[method], label=METHOD_LABELS[method])
    if is_flagged.any():
        ax.scatter(rows[acc[(predictor, big)]][is_flagged], eff[is_flagged], s=80, facecolors="none",
                   edgecolors="black", label="low-accuracy artefact")
    ax.set_xlabel(f"{predictor} accuracy with {big:,} training examples (fraction)")
    ax.set_ylabel(f"{predictor} sample efficiency\n(accuracy@100 / accuracy@{big:,})")
    ax.legend(fontsize=7)
    _title(fig, f"Efficiency vs accuracy — {DATASET_LABELS.get(dataset, dataset)}", scale)
    return fig


def claims_view(table: pd.DataFrame) -> "HTML":
    """The claims table as shown at the end of a chapter: claim | statement | paper | this run |
    agrees? | statistic | rule | note, as a styled HTML table (verdicts coloured)."""
    from IPython.display import HTML

    from disentangle.analysis.render import styled

    cols = ["claim", "statement", "paper", "this run", "agrees?", "statistic", "rule", "note"]
    return HTML(styled(table[cols], caption="this run = estimate [bootstrap 95 % CI over runs]")
                .set_uuid("claims").to_html())


def captioned(table: pd.DataFrame, caption: str) -> "HTML":
    """A table with a caption, as HTML (a Styler's own repr would print its memory address)."""
    from IPython.display import HTML

    return HTML(table.style.format(precision=2, na_rep="n/a").set_caption(caption)
                .set_uuid(f"t{zlib.crc32(caption.encode())}").to_html())


def load_picked(picks: pd.DataFrame, device: str = "auto") -> tuple[list[str], list]:
    """Labels and loaded models (``training.load_model``) of the runs :func:`pick_runs` chose."""
    from disentangle.training import load_model

    labels = [run_label(r) for _, r in picks.iterrows()]
    models = [load_model(Path(r.folder) / "model", device=None if device == "auto" else device)
              for r in picks.itertuples()]
    return labels, models
