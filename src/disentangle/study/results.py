"""The results table: one row per (run, representation), columns from
``study/columns.py`` (book/design.md, "The results table").

* :func:`aggregate` rebuilds ``results.parquet`` / ``results.csv`` from the
  run folders (only runs *done* for the current config; never double counts).
* :func:`load_results` reads the table back.
* :func:`load_dlib` reads the reference library's aggregated JSON (`utils/results.py`,
  `utils/aggregate_results.py`: one row per model × representation × metric config, gin-literal
  strings) into the same schema.
"""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..io import DamagedFileError, atomic_path
from .. import vocabulary
from .locks import global_lock
from .columns import (PROVENANCE_COLUMNS, RUN_COLUMNS, RUN_ID_COLUMN, SETTINGS_COLUMNS, TIME_COLUMNS,
                      TRAIN_COLUMNS, metric_column)
from .grid import Run, Study, model_num
from .killpoints import kill_point
from .runs import read_json_or_none as read_json

RESULTS_PARQUET = "results.parquet"
RESULTS_CSV = "results.csv"
BASE_COLUMNS = (*RUN_COLUMNS, *SETTINGS_COLUMNS, *TRAIN_COLUMNS)
TAIL_COLUMNS = (*TIME_COLUMNS, *PROVENANCE_COLUMNS)


def _cell(v: Any) -> Any:
    """Scalars stay; anything else (lists, dicts) becomes its JSON text (parquet needs one type per column)."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return json.dumps(v, default=float)


def order_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Base columns (with ``run_id`` when runs outside the paper's grid are present), then metric
    columns (sorted), then timings and provenance."""
    for c in (*BASE_COLUMNS, *TAIL_COLUMNS):
        if c not in df.columns:
            df[c] = None
    # every row of ours carries its run_id; a table of paper runs only keeps its reference columns
    identity = [RUN_ID_COLUMN] if RUN_ID_COLUMN in df.columns and df["model_num"].isna().any() else []
    if not identity:
        df = df.drop(columns=RUN_ID_COLUMN, errors="ignore")
    base = [*RUN_COLUMNS, *identity, *SETTINGS_COLUMNS, *TRAIN_COLUMNS]
    metric = sorted(c for c in df.columns if c not in base and c not in TAIL_COLUMNS)
    df = df[[*base, *metric, *TAIL_COLUMNS]]
    for c in ("model_num", "value_index", "seed"):
        # runs outside the paper's grid have no model_num / value_index: a nullable column then
        df[c] = df[c].astype("int64" if df[c].notna().all() else "Int64")
    df["value"] = df["value"].astype("float64")
    return df.sort_values(["model_num", *identity, "representation"], kind="stable",
                          na_position="last").reset_index(drop=True)


def run_rows(run: Run, run_dir: Path) -> list[dict[str, Any]]:
    """The rows of one finished run (empty if it is not done for its current config)."""
    done = read_json(run_dir / "done.json")
    if done is None or done.get("config_hash") != run.config_hash:
        return []
    rows = []
    for rep in run.evaluation["representations"]:
        record = read_json(run_dir / f"record_{rep}.json")
        if record is None or record.get("eval_hash") != run.eval_hash:
            return []
        row: dict[str, Any] = {
            "model_num": run.model_num, "dataset": run.dataset, "dataset_source": run.dataset_source,
            "method": run.method, "hyperparameter": run.hyperparameter, "value": run.value,
            "value_index": run.value_index, "seed": run.seed, "representation": rep,
            "config_hash": run.config_hash, "steps": run.training["steps"],
            "eval_settings": run.evaluation["settings"],
            **{f"train.{k}": _cell(v) for k, v in done["train"].items()},
            **{k: _cell(v) for k, v in record["metrics"].items()},
            "time.data": done["time"]["data"], "time.train": done["time"]["train"],
            "time.eval": record["eval_time"],
            "time.controls": done["time"].get("controls", float("nan")),  # NaN: finished before it was timed
            "time.bookkeeping": done["time"]["bookkeeping"],
            "origin": "disentangle", "device": done["device"], **done["versions"],
            RUN_ID_COLUMN: run.run_id,
        }
        rows.append(row)
    return rows


def collect(study: Study, runs: Sequence[Run]) -> pd.DataFrame:
    """The table of every run that is done for its current config (no file written)."""
    rows = [row for run in runs for row in run_rows(run, study.run_dir(run))]
    if not rows:
        return order_columns(pd.DataFrame(columns=list(BASE_COLUMNS)))
    return order_columns(pd.DataFrame(rows))


def aggregate(study: Study, runs: Sequence[Run]) -> pd.DataFrame:
    """Rebuild ``results.parquet`` and ``results.csv`` from the run folders.

    Serialised by the study-wide lock (two workers finishing at once), each file
    written atomically; temp files of a killed aggregation are removed first.
    """
    df = collect(study, runs)
    out = study.results_dir
    with global_lock(out):
        for name in (RESULTS_PARQUET, RESULTS_CSV):
            for tmp in out.glob(f".{name}.*.tmp"):
                tmp.unlink(missing_ok=True)
        with atomic_path(out / RESULTS_PARQUET) as tmp:
            df.to_parquet(tmp, index=False)
            kill_point("aggregate_write")
        with atomic_path(out / RESULTS_CSV) as tmp:
            df.to_csv(tmp, index=False)
        from .controls import collect_controls  # the controls table, apart from the results

        controls = collect_controls(study, runs)
        if len(controls) or (out / CONTROLS_CSV).exists():
            with atomic_path(out / CONTROLS_CSV) as tmp:
                controls.to_csv(tmp, index=False)
    return df


def table_is_current(study: Study, runs: Sequence[Run]) -> bool:
    """Whether the results files already hold exactly ``runs`` as their folders are now: the table's
    config hashes are theirs, and no run's ``done.json``, rotated twin or untrained control was
    written after ``results.parquet``, ``results.csv`` and ``controls.csv``. A ``study run`` with
    nothing to do then leaves the table alone instead of reading every run again; any doubt (a
    missing or unreadable file) reads as "not current"."""
    from .controls import CONTROLS_FILE, UNTRAINED_DIR

    out = study.results_dir
    try:
        written = min((out / name).stat().st_mtime_ns for name in (RESULTS_PARQUET, RESULTS_CSV))
        if (out / CONTROLS_CSV).exists():
            written = min(written, (out / CONTROLS_CSV).stat().st_mtime_ns)
        hashes = pd.read_parquet(out / RESULTS_PARQUET, columns=["config_hash"])["config_hash"]
    except Exception:  # noqa: BLE001 - a damaged or old table is rebuilt, never trusted
        return False
    if set(hashes) != {run.config_hash for run in runs}:
        return False
    files = [study.run_dir(run) / name for run in runs for name in ("done.json", CONTROLS_FILE)]
    files += list((out / UNTRAINED_DIR).glob("*.json"))
    for path in files:
        try:
            if path.stat().st_mtime_ns >= written:  # a tie (a coarse clock) is not proof
                return False
        except FileNotFoundError:
            continue
    return True


def load_results(results_dir: str | Path) -> pd.DataFrame:
    """The aggregated table of a study's results folder (``shared.results_dir``)."""
    path = Path(results_dir) / RESULTS_PARQUET
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; run `python -m disentangle study aggregate PARAMS` first")
    return pd.read_parquet(path)


CONTROLS_CSV = "controls.csv"


def load_controls(results_dir: str | Path) -> pd.DataFrame:
    """The controls table of a study's results folder (``columns.CONTROL_COLUMNS`` + the score
    columns); an empty table with those columns if the study has none."""
    from .columns import CONTROL_COLUMNS, SCORES

    path = Path(results_dir) / CONTROLS_CSV
    if not path.is_file():
        return pd.DataFrame(columns=[*CONTROL_COLUMNS, *SCORES.values()])
    try:
        table = pd.read_csv(path, dtype={"run_id": str, "method": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DamagedFileError(f"{path}: damaged controls table ({err}); rerun "
                               f"`python -m disentangle study aggregate PARAMS` to rebuild it") from None
    return table


# --------------------------------------------------------------------------- the reference's records

#: the reference's dataset names (`data/ground_truth/named_data.py`) → ours, for the paper's datasets (``vocabulary``)
DLIB_DATASETS = {vocabulary.DATASETS[name].dlib_name: name for name in vocabulary.paper_datasets()}
#: the gin binding that holds each method's swept hyperparameter (`config/unsupervised_study_v1/sweep.py`)
DLIB_BINDINGS = {name: vocabulary.METHODS[name].gin_binding for name in vocabulary.paper_methods()}
DLIB_REPRESENTATIONS = {"@mean_representation": "mean", "@sampled_representation": "sampled"}


def gin_literal(value: Any) -> Any:
    """A gin binding's string form → Python: ``"'beta_vae'"`` → ``beta_vae``, ``"1.0"`` → 1.0;
    references such as ``"@mean_representation"`` stay strings."""
    if not isinstance(value, str):
        return value
    try:
        return ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        return value.strip()


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def load_dlib(path: str | Path) -> pd.DataFrame:
    """The reference's aggregated results JSON (``dlib_aggregate_results``, pandas
    ``to_json()`` column orientation) as our results table.

    Metric rows are pivoted into one row per (model, representation); dataset
    names are mapped (``dsprites_full`` → ``dsprites``); the method comes from
    ``train_config.model.name`` and the hyperparameter from its binding.
    """
    path = Path(path)
    with open(path, encoding="utf-8") as f:
        raw = pd.read_json(f, orient="columns", dtype=False)
    need = ["train_config.dataset.name", "train_config.model.name", "train_config.model.random_seed",
            "postprocess_config.postprocess.postprocess_fn", "evaluation_config.evaluation.name"]
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: not a disentanglement_lib aggregate (missing columns {missing})")
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    seen: set[tuple[int, str, str]] = set()
    for i, rec in enumerate(raw.to_dict(orient="records")):
        where = f"{path}: row {i}"
        dataset = gin_literal(rec["train_config.dataset.name"])
        method = gin_literal(rec["train_config.model.name"])
        if dataset not in DLIB_DATASETS:
            raise ValueError(f"{where}: unknown dataset {dataset!r}; known: {sorted(DLIB_DATASETS)}")
        if method not in DLIB_BINDINGS:
            raise ValueError(f"{where}: unknown model.name {method!r}; known: {sorted(DLIB_BINDINGS)}")
        binding = f"train_config.{DLIB_BINDINGS[method]}"
        if _missing(rec.get(binding)):
            raise ValueError(f"{where}: {method} row lacks its hyperparameter binding {binding!r}")
        value = float(gin_literal(rec[binding]))
        seed = int(gin_literal(rec["train_config.model.random_seed"]))
        num = model_num(DLIB_DATASETS[dataset], method, value, seed)
        stored = rec.get("train_config.model.model_num")
        if not _missing(stored) and int(gin_literal(stored)) != num:
            raise ValueError(f"{where}: model_num {gin_literal(stored)} does not match its config (expected {num})")
        fn = gin_literal(rec["postprocess_config.postprocess.postprocess_fn"])
        if fn not in DLIB_REPRESENTATIONS:
            raise ValueError(f"{where}: unknown postprocess_fn {fn!r}")
        rep = DLIB_REPRESENTATIONS[fn]
        metric = gin_literal(rec["evaluation_config.evaluation.name"])
        row = rows.setdefault((num, rep), {
            "model_num": num, "dataset": DLIB_DATASETS[dataset], "dataset_source": "file", "method": method,
            "hyperparameter": vocabulary.hyperparameter(method), "value": value,
            "value_index": vocabulary.METHODS[method].paper_values.index(value), "seed": seed, "representation": rep,
            "config_hash": None, "eval_settings": "paper", "origin": "disentanglement_lib", "time.eval": 0.0,
            "steps": (None if _missing(rec.get("train_config.model.training_steps"))
                      else int(gin_literal(rec["train_config.model.training_steps"]))),
        })
        for key, v in rec.items():
            if key.startswith("train_results.") and key != "train_results.uuid" and not _missing(v):
                row[f"train.{key.removeprefix('train_results.')}"] = gin_literal(v)
        metric_keys = [k for k in rec if k.startswith("evaluation_results.") and k != "evaluation_results.uuid"]
        if (num, rep, metric) in seen:
            raise ValueError(f"{where}: duplicate record for model {num}, {rep}, metric {metric!r}")
        seen.add((num, rep, metric))
        for key in metric_keys:
            if not _missing(rec[key]):
                row[metric_column(metric, key.removeprefix("evaluation_results."))] = _cell(rec[key])
        row.setdefault(metric_column(metric, "elapsed_time"), float("nan"))
        elapsed = rec.get("evaluation_results.elapsed_time")
        row["time.eval"] += 0.0 if _missing(elapsed) else float(elapsed)
    for row in rows.values():
        row["time.train"] = row.get("train.elapsed_time")
    if not rows:
        return order_columns(pd.DataFrame(columns=list(BASE_COLUMNS)))
    return order_columns(pd.DataFrame(list(rows.values())))
