"""Glue for the book's chapters 2–6: loading the results table a chapter reads (and the
signal table of the controls beside it), the scale caption of every figure, "not enough runs" guards, the chapter-2 run
folders (training logs, the models to picture) and the chapters' tables.

Analyses live in the sibling modules and figures in :mod:`.plots`; this module only
holds what a notebook would otherwise have to spell out in long cells.
"""

from __future__ import annotations

import json
import textwrap
import warnings
import zlib
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

with warnings.catch_warnings():  # tqdm.auto (the trainer's progress bar) warns "IProgress not found" into outputs
    warnings.simplefilter("ignore")
    import tqdm.auto  # noqa: F401

from .. import study as study_api  # noqa: E402
from .. import vocabulary  # noqa: E402
from ..study.columns import RUN_ID_COLUMN  # noqa: E402
from ..study.results import load_controls  # noqa: E402
from . import plots  # noqa: E402
from .claims import scale_note  # noqa: E402
from .signal import signal_table  # noqa: E402
from .plots import CURVE_PARTS  # noqa: E402
from .results_table import CONFIG_KEY, RUN_KEY, present_scores, require_columns  # noqa: E402


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


class StaleResultsError(ValueError):
    """A study's results table holds runs of another configuration than its params file's."""


def _current_runs(params_file: str | Path) -> tuple["study_api.Study", list]:
    study = study_api.Study.from_params(params_file)
    return study, study.runs(study_api.Backend().resolve_source)


def check_current(df: pd.DataFrame, path: Path, params_file: str | Path) -> None:
    """Refuse a table of ``params_file``'s study (``<results_dir>/results.parquet``) that holds
    runs of another configuration (a ``config_hash`` not in the current grid), in one line
    saying which command refreshes it. Tables elsewhere (``results``) are not checked."""
    if not params_file or "config_hash" not in df.columns:
        return
    study, runs = _current_runs(params_file)
    if Path(path).expanduser().resolve().parent != study.results_dir.expanduser().resolve():
        return
    stale = set(df["config_hash"].dropna()) - {r.config_hash for r in runs}
    if stale:
        n = int(df["config_hash"].isin(stale).sum())
        raise StaleResultsError(
            f"{path}: {n} of {len(df)} rows were written for another configuration than {params_file} "
            f"(config hash {sorted(stale)[0][:8]}...); refresh it with `python -m disentangle study run "
            f"{params_file}` (or `study aggregate {params_file}` to keep only the runs already done)")


def load_chapter_results(results: str = "", results_dir: str | Path = "", params_file: str | Path = "") -> pd.DataFrame:
    """Read the results table (parquet, csv, or the reference's aggregated JSON via
    ``load_dlib``); a clear error says how to produce a missing one. With ``params_file``,
    the study's own table is refused if it was written for another configuration
    (:func:`check_current`)."""
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
    check_current(df, path, params_file)
    return df


def load_chapter_signal(results: str = "", results_dir: str | Path = "") -> pd.DataFrame:
    """The signal table (:func:`~disentangle.analysis.signal.signal_table`) of the study whose results
    a chapter reads: the controls beside its results table (``results`` / ``results_dir`` as in
    :func:`results_path`). Empty when the study has no controls; a chapter passes it to
    ``claims_table(..., signal=...)``, whose claims on scores are then inconclusive."""
    return signal_table(load_controls(results_path(results, results_dir).parent))


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


def enough(reason: str | None) -> bool:
    """Whether an analysis can run: True when ``reason`` (from :func:`shortfall`) is
    empty; otherwise display :func:`not_enough` in the analysis' place and return False.
    A chapter writes ``if chapters.enough(chapters.shortfall(df, seeds=2)):``."""
    if not reason:
        return True
    from IPython.display import display

    display(not_enough(reason))
    return False


def show(make: Callable[[], object], reason: str | None = None) -> None:
    """Draw the figure ``make()`` builds (:func:`~disentangle.analysis.plots.show`), or
    display :func:`not_enough` when ``reason`` is set."""
    if enough(reason):
        plots.show(make)


def ordered(df: pd.DataFrame, column: str) -> list[str]:
    """The distinct ``column`` ("dataset" or "method") values of ``df`` in sweep order."""
    return sorted(pd.unique(df[column]), key=vocabulary.sweep_position)


def focus(df: pd.DataFrame, column: str, preferred: str = "") -> str:
    """``preferred`` if ``df`` has it in ``column``, else the first value in sweep order:
    the dataset or method a single-panel figure shows."""
    present = ordered(df, column)
    return preferred if preferred in present else present[0]


def run_ids(df: pd.DataFrame) -> pd.Series:
    """Each row's run identity (``study.grid.run_id``): the ``run_id`` column, which every run of
    ours carries and which is the only key of a run outside the paper's grid (it has no
    ``model_num``). A table of paper-grid runs only drops that column (``study/results.py``) and
    keeps the reference's ``model_num``, whose run_id is ``<model_num:05d>``."""
    if RUN_ID_COLUMN in df.columns:
        ids = df[RUN_ID_COLUMN].astype(object)
    else:
        ids = pd.Series(None, index=df.index, dtype=object)
    missing = ids.isna()
    if missing.any():
        nums = df.loc[missing, "model_num"] if "model_num" in df.columns else pd.Series(dtype=float)
        if len(nums) < int(missing.sum()) or nums.isna().any():
            raise ValueError(f"results table: rows with neither {RUN_ID_COLUMN!r} nor 'model_num'")
        ids = ids.copy()
        ids[missing] = [f"{int(n):05d}" for n in nums]
    return ids.astype(str)


def count_runs(df: pd.DataFrame) -> int:
    """How many runs ``df`` holds (distinct :func:`run_ids`; a run has a row per representation)."""
    return int(run_ids(df).nunique())


# ------------------------------------------------------------------------------------ chapter 2: the grid


def grid_table(params_file: str | Path) -> pd.DataFrame:
    """The study grid of a params file: one row per (dataset, method) with its
    hyperparameter, values, seeds and number of runs, plus a total row."""
    study = study_api.Study.from_params(params_file)
    grid = pd.DataFrame(study.grid(), columns=["dataset", "method", "value", "seed"])
    rows = []
    for (dataset, method), g in grid.groupby(["dataset", "method"], sort=False):
        rows.append({"dataset": vocabulary.dataset_label(dataset), "method": vocabulary.method_label(method),
                     "hyperparameter": vocabulary.hyperparameter(method),
                     "values": ", ".join(f"{v:g}" for v in sorted(g["value"].unique())),
                     "seeds": ", ".join(str(s) for s in sorted(g["seed"].unique())), "runs": len(g)})
    total = {"dataset": "total", "method": "", "hyperparameter": "", "values": "", "seeds": "", "runs": len(grid)}
    return pd.DataFrame([*rows, total])


def results_overview(df: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, method, value): finished seeds and the median of each paper score
    on the mean representation — a compact view of the results table."""
    rows = df[df["representation"] == "mean"] if (df["representation"] == "mean").any() else df
    scores = present_scores(rows)
    grouped = rows.groupby(["dataset", "method", "value"], sort=True)
    out = grouped.size().rename("seeds").to_frame()
    for name, col in scores.items():
        out[f"{name} (median)"] = grouped[col].median()
    out = out.reset_index()
    out["dataset"] = out["dataset"].map(lambda d: vocabulary.dataset_label(d))
    out["method"] = out["method"].map(lambda m: vocabulary.method_label(m))
    return out


def learning_table(df: pd.DataFrame, pixels: dict[str, int]) -> pd.DataFrame:
    """How far training got: per dataset (and per method within it), the median final
    reconstruction loss (``train.reconstruction_loss``, nats per image), its share of the
    know-nothing Bernoulli baseline H·W·C·ln 2 (``pixels[dataset]`` = H·W·C) and the
    median KL. The row ``all methods`` is the dataset's median over every run."""
    require_columns(df, ["dataset", "method", "train.reconstruction_loss", "train.kl_loss"])
    runs = df[~run_ids(df).duplicated().to_numpy()]
    rows = []
    for dataset, g in runs.groupby("dataset", sort=False):
        if dataset not in pixels:
            raise KeyError(f"no image size given for dataset {dataset!r}")
        baseline = pixels[dataset] * np.log(2)
        for method, sub in [("all methods", g), *g.groupby("method", sort=False)]:
            recon = float(sub["train.reconstruction_loss"].median())
            rows.append({"dataset": vocabulary.dataset_label(dataset),
                         "method": vocabulary.method_label(method), "runs": len(sub),
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


def laptop_signal_summary(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Disentanglement per CPU-second (``benchmarks/laptop_scale.py --signal`` CSVs): per arm (learning
    rate and schedule, batch), model and number of updates, reconstruction as % of H·W·C·ln 2, active
    dimensions, and each score of the standardised codes beside their rotated twin's (``trained / twin``).
    Updates 0 is the untrained encoder; a schedule's milestones before its end are mid-schedule."""
    frames = [pd.read_csv(p) for p in paths]
    if not frames:
        raise FileNotFoundError("no laptop_signal CSV given")
    df = pd.concat(frames, ignore_index=True)

    def schedule(r) -> str:
        text = f"{r['lr']:.0e}"
        if pd.notna(r.get("lr_final")) and str(r.get("lr_final")) != "":
            text += f" → {float(r['lr_final']):.0e} (cosine)"
        if r.get("lr_warmup", 0):
            text = f"warm-up {int(r['lr_warmup'])}, " + text
        return text

    out = pd.DataFrame({"model": df["model"].str.replace(":", " ", regex=False), "lr": df.apply(schedule, axis=1),
                        "batch": df["batch_size"], "updates": df["updates"],
                        "recon, % of baseline": (100 * df["baseline_share"]).round(1),
                        "active dims": df["active_dims"]})
    for label, column in (("MIG", "mig"), ("DCI", "dci"), ("FactorVAE", "factor_vae"), ("BetaVAE", "beta_vae")):
        out[f"{label} trained / twin"] = [f"{a:.3f} / {b:.3f}" for a, b in zip(df[f"{column}_std"],
                                                                               df[f"{column}_rot"])]
    return out


def controls_overview(controls: pd.DataFrame) -> pd.DataFrame:
    """The trained scores beside both controls (``study/controls.py``): per dataset and score, for each
    method the median over its runs of ``trained / rotated twin`` (the trained runs' standardised mean
    codes and the same codes after a random rotation), the share of runs beating their twin, and the
    untrained encoder's median. Empty when the study scored no controls."""
    from ..study.columns import SCORES

    if controls is None or not len(controls):
        return pd.DataFrame()
    labels = {col: label for label, col in SCORES.items()}
    rows = []
    twins = controls[controls["control"] != "untrained"]
    for dataset in ordered(controls, "dataset"):
        here = twins[twins["dataset"] == dataset]
        untrained = controls[(controls["control"] == "untrained") & (controls["dataset"] == dataset)]
        for col, label in labels.items():
            row = {"dataset": vocabulary.dataset_label(dataset), "score": label}
            pairs = here.pivot_table(index=["run_id", "method"], columns="control", values=col).dropna()
            if pairs.empty:
                continue
            for method in ordered(here, "method"):
                sub = pairs.xs(method, level="method") if method in pairs.index.get_level_values("method") else None
                if sub is not None and len(sub):
                    row[vocabulary.method_label(method)] = (f"{sub['standardised'].median():.3f} / "
                                                            f"{sub['rotated'].median():.3f}")
            row["beats its twin"] = f"{int((pairs['standardised'] > pairs['rotated']).sum())} of {len(pairs)}"
            row["untrained encoder"] = (f"{untrained[col].median():.3f}" if untrained[col].notna().any() else "–")
            rows.append(row)
    return pd.DataFrame(rows).set_index(["dataset", "score"]).fillna("–")


# ------------------------------------------------------------------------------------ chapter 2: run folders


def run_folders(results_dir: str | Path, params_file: str | Path = "") -> pd.DataFrame:
    """Finished run folders of a study (``runs/*/`` with ``done.json`` and ``model/``):
    model_num (empty outside the paper's grid), run_id, dataset, method, value, seed, folder —
    from each ``run_config.json``. With ``params_file``, only the folders of its grid's runs
    finished for their current config (never those left over from another configuration)."""
    rows = []
    folders = sorted((Path(results_dir) / "runs").glob("*"))
    if params_file:
        _, runs = _current_runs(params_file)
        current = {r.name: r.config_hash for r in runs}
        folders = [f for f in folders if f.name in current
                   and _done_hash(f) == current[f.name]]
    for folder in folders:
        config_path = folder / "run_config.json"
        if not (config_path.is_file() and (folder / "done.json").is_file() and (folder / "model").is_dir()):
            continue
        c = json.loads(config_path.read_text())
        num = c.get("model_num")
        rows.append({"model_num": num, RUN_ID_COLUMN: c.get(RUN_ID_COLUMN) or f"{int(num):05d}",
                     "dataset": c["dataset"], "method": c["method"],
                     "value": float(c["value"]), "seed": c["seed"], "folder": folder})
    columns = ["model_num", RUN_ID_COLUMN, "dataset", "method", "value", "seed", "folder"]
    return pd.DataFrame(rows, columns=columns)


def _done_hash(folder: Path) -> str | None:
    try:
        return (json.loads((folder / "done.json").read_text()) or {}).get("config_hash")
    except (OSError, ValueError, AttributeError):
        return None


#: the most runs chapter 2's training-curves figure draws, one line each: the paper's grid has 252
#: configurations, so at its scale the figure shows one seed of each
CURVE_RUNS = 300


def curve_runs(folders: pd.DataFrame, max_runs: int = CURVE_RUNS) -> pd.DataFrame:
    """The runs of ``folders`` whose training curves are drawn (and read): all of them when there are
    at most ``max_runs``; otherwise the lowest seeds of every (dataset, method, value), as many per
    configuration as fit, at least one."""
    if len(folders) <= max_runs:
        return folders
    config = ["dataset", "method", "value"]
    per_config = max(1, max_runs // folders.groupby(config).ngroups)
    rank = folders.sort_values("seed", kind="stable").groupby(config, sort=False).cumcount()
    return folders[rank.reindex(folders.index) < per_config]


def training_logs(folders: pd.DataFrame) -> pd.DataFrame:
    """The trainer's ``log.jsonl`` of each run in ``folders`` (from :func:`run_folders`), long
    format: run identity, iteration, global_step, part, value. Built as one table from plain
    lists (one JSON parse per file), so 12,600 runs' logs read in seconds."""
    columns = ("iteration", "global_step", "part", "nats", "dataset", "method", "value", "seed")
    out: dict[str, list] = {c: [] for c in columns}
    for r in folders.itertuples():
        try:
            with open(Path(r.folder) / "log.jsonl", encoding="utf-8") as f:
                lines = [line for line in f.read().splitlines() if line.strip()]
        except (FileNotFoundError, NotADirectoryError):
            continue
        entries = json.loads("[" + ",".join(lines) + "]")
        present = set().union(*entries) if entries else set()
        parts = [p for p in CURVE_PARTS if p in present]
        iterations = [e.get("iteration") for e in entries]
        steps = [e.get("global_step") for e in entries]
        n = len(entries) * len(parts)
        for part in parts:
            out["iteration"] += iterations
            out["global_step"] += steps
            out["part"] += [part] * len(entries)
            out["nats"] += [e.get(part, np.nan) for e in entries]
        for name in ("dataset", "method", "value", "seed"):
            out[name] += [getattr(r, name)] * n
    return pd.DataFrame(out, columns=list(columns))


def pick_runs(folders: pd.DataFrame, n: int) -> pd.DataFrame:
    """Up to ``n`` runs to picture: per method, the weakest then the strongest
    regularisation (lowest seed), interleaved across methods (the paper's in sweep order, then
    any other), first dataset only."""
    if folders.empty:
        return folders
    first = folders[folders["dataset"] == focus(folders, "dataset")].sort_values(["value", "seed"])
    methods = ordered(first, "method")
    weakest = [first[first["method"] == m].iloc[0] for m in methods]
    strongest = [first[(first["method"] == m) & (first["value"] == first.loc[first["method"] == m, "value"].max())]
                 .iloc[0] for m in methods]
    picks = pd.DataFrame(weakest + strongest).drop_duplicates(RUN_ID_COLUMN)
    return picks.head(n).reset_index(drop=True)


def run_label(row) -> str:
    """e.g. ``"β-VAE, beta = 16, seed 0"``."""
    hp = vocabulary.hyperparameter(row["method"]).split(".")[-1]
    return f"{vocabulary.method_label(row['method'])}, {hp} = {row['value']:g}, seed {row['seed']}"


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
    out.index = out.index.map(lambda d: vocabulary.dataset_label(d))
    return out.rename_axis(index="dataset", columns=None)


def claims_view(table: pd.DataFrame) -> "HTML":
    """The claims table as shown at the end of a chapter: claim | statement | paper | this run |
    agrees? | statistic | rule | note, as a styled HTML table (verdicts coloured)."""
    from IPython.display import HTML

    from .render import styled

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
    from ..training import load_model

    labels = [run_label(r) for _, r in picks.iterrows()]
    models = [load_model(Path(r.folder) / "model", device=None if device == "auto" else device)
              for r in picks.itertuples()]
    return labels, models
