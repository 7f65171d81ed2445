"""Tests of the chapter glue (disentangle.analysis.chapters)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from disentangle.analysis import chapters, claims, plots, variance  # noqa: E402
from disentangle.analysis.synthetic import synthetic_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny() -> pd.DataFrame:
    """The ci study's shape: 1 dataset, 2 methods x 2 values x 2 seeds."""
    return synthetic_results(("dsprites",), ("beta_vae", "beta_tc_vae"),
                             {"beta_vae": [1, 16], "beta_tc_vae": [1, 10]}, 2, seed=0, steps=40)


@pytest.fixture(scope="module")
def two_datasets() -> pd.DataFrame:
    return synthetic_results(("dsprites", "noisy_dsprites"), ("beta_vae", "annealed_vae"), 3, 4, seed=1)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------------------------------- loading


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_load_round_trips_parquet_and_csv(tmp_path, tiny, suffix):
    path = tmp_path / f"results{suffix}"
    tiny.to_parquet(path, index=False) if suffix == ".parquet" else tiny.to_csv(path, index=False)
    back = chapters.load_chapter_results(str(path))
    assert back.shape == tiny.shape
    np.testing.assert_allclose(back["mig.discrete_mig"], tiny["mig.discrete_mig"])


def test_load_prefers_results_over_results_dir_and_accepts_a_folder(tmp_path, tiny):
    (tmp_path / "study").mkdir()
    tiny.to_parquet(tmp_path / "study" / "results.parquet", index=False)
    assert len(chapters.load_chapter_results("", tmp_path / "study")) == len(tiny)
    assert len(chapters.load_chapter_results(str(tmp_path / "study"), "/nonexistent")) == len(tiny)
    assert chapters.results_path("", tmp_path / "study") == tmp_path / "study" / "results.parquet"


def test_load_errors_are_clear(tmp_path, tiny):
    with pytest.raises(FileNotFoundError, match="run chapter 2"):
        chapters.load_chapter_results("", tmp_path)
    with pytest.raises(FileNotFoundError, match="check the `results` parameter"):
        chapters.load_chapter_results(str(tmp_path / "missing.parquet"))
    (tmp_path / "r.xlsx").write_text("x")
    with pytest.raises(ValueError, match="unknown results format '.xlsx'"):
        chapters.load_chapter_results(str(tmp_path / "r.xlsx"))
    tiny.iloc[:0].to_parquet(tmp_path / "empty.parquet", index=False)
    with pytest.raises(ValueError, match="no rows"):
        chapters.load_chapter_results(str(tmp_path / "empty.parquet"))
    with pytest.raises(ValueError, match="set either"):
        chapters.results_path("", "")


# ---------------------------------------------------------------------------------------- captions, guards


def test_scale_caption_states_scale_source_and_counts(tiny):
    caption = chapters.scale_caption(tiny, "ci", width=60)
    flat = caption.replace("\n", " ")
    assert flat.startswith("scale ci")
    assert "SYNTHETIC" in flat and "2 methods × 2 values × 2 seeds = 8 runs, 40 steps" in flat
    assert all(len(line) <= 60 for line in caption.splitlines())


def test_shortfall_names_what_is_missing(tiny, two_datasets):
    assert chapters.shortfall(tiny, seeds=2, values=2, methods=2) is None
    assert chapters.shortfall(tiny, seeds=3) == "needs ≥ 3 seed(s) per configuration, this table has 2"
    assert chapters.shortfall(tiny, datasets=2) == "needs ≥ 2 dataset(s), this table has 1"
    assert chapters.shortfall(tiny, values=3) == "needs ≥ 3 strength value(s) per method, this table has 2"
    assert chapters.shortfall(tiny, runs=9) == "needs ≥ 9 runs per dataset, this table has 8"
    assert "'nope'" in chapters.shortfall(tiny, columns=["nope"])
    assert chapters.shortfall(tiny[tiny["representation"] == "mean"], representations=("sampled",)) \
        == "needs the 'sampled' representation, which this table lacks"
    assert chapters.shortfall(two_datasets, datasets=2, seeds=4, values=3) is None


def test_not_enough_note_and_show(capsys):
    note = chapters.not_enough("needs ≥ 2 dataset(s)")
    assert "Not enough runs at this scale" in note.data and "inconclusive" in note.data
    calls = []
    chapters.show(lambda: calls.append(1), "too small")
    assert calls == []
    chapters.show(lambda: calls.append(1) or plt.figure(), None)
    assert calls == [1]


def test_enough_shows_the_note_instead_of_the_analysis(tiny, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    assert chapters.enough(chapters.shortfall(tiny, seeds=2)) is True
    assert chapters.enough(None) is True and chapters.enough("") is True and shown == []
    assert chapters.enough(chapters.shortfall(tiny, seeds=3)) is False
    assert len(shown) == 1
    assert "Not enough runs" in shown[0].data and "needs ≥ 3 seed(s) per configuration" in shown[0].data


def test_ordered_and_focus_follow_sweep_order(two_datasets):
    assert chapters.ordered(two_datasets, "dataset") == ["dsprites", "noisy_dsprites"]
    assert chapters.ordered(two_datasets, "method") == ["beta_vae", "annealed_vae"]
    assert chapters.focus(two_datasets, "method", "factor_vae") == "beta_vae"
    assert chapters.focus(two_datasets, "method", "annealed_vae") == "annealed_vae"


# ---------------------------------------------------------------------------------------- tables


def test_grid_table_of_the_ci_params():
    table = chapters.grid_table(ROOT / "params" / "ci.yaml")
    assert table["runs"].iloc[-1] == table["runs"].iloc[:-1].sum()
    assert list(table["method"].iloc[:-1]) == ["β-VAE", "β-TCVAE"]
    assert table["values"].iloc[0] == "1, 16"


def test_results_overview_counts_seeds(tiny):
    overview = chapters.results_overview(tiny)
    assert len(overview) == 4 and (overview["seeds"] == 2).all()
    assert "MIG (median)" in overview.columns


def test_table5_side_by_side_puts_paper_values_beside(two_datasets):
    table = variance.variance_explained(two_datasets)
    side = chapters.table5_side_by_side(table, "method")
    ours = table.set_index(["dataset", "metric"]).loc[("dsprites", "MIG"), "method_pct"]
    assert side.loc["dSprites", "MIG"] == f"{ours:.0f} (26)"  # Table 5(a): dSprites, MIG = 26
    assert "(" not in side.loc["Noisy-dSprites", "chance level"]
    with pytest.raises(ValueError, match="model must be"):
        chapters.table5_side_by_side(table, "seed")


def test_claims_view_is_html_with_verdicts(tiny):
    table = claims.claims_table(tiny, ["C3b"], seed=0, n_boot=10)
    html = chapters.claims_view(table).data
    assert "agrees?" in html and "inconclusive" in html and "0x" not in html


# ---------------------------------------------------------------------------------------- run folders


def _write_run(root: Path, num: int, method: str, value: float, seed: int, log: list[dict]) -> None:
    folder = root / "runs" / f"{num:05d}-abcdef12"
    (folder / "model").mkdir(parents=True)
    (folder / "run_config.json").write_text(json.dumps(
        {"model_num": num, "dataset": "dsprites", "method": method, "value": value, "seed": seed}))
    (folder / "done.json").write_text("{}")
    (folder / "log.jsonl").write_text("".join(json.dumps(e) + "\n" for e in log))


def test_run_folders_logs_curves_and_picks(tmp_path):
    log = [{"iteration": i, "global_step": i, "elapsed_time": 0.1 * i, "loss": 100.0 - i,
            "reconstruction_loss": 90.0 - i, "kl_loss": 5.0, "regularizer": 5.0, "elbo": -95.0}
           for i in (10, 20)]
    for num, method, value, seed in [(0, "beta_vae", 1, 0), (1, "beta_vae", 1, 1), (250, "beta_vae", 16, 0),
                                     (1200, "beta_tc_vae", 1, 0), (1450, "beta_tc_vae", 10, 0)]:
        _write_run(tmp_path, num, method, value, seed, log)
    (tmp_path / "runs" / "99999-unfinished").mkdir()
    folders = chapters.run_folders(tmp_path)
    assert list(folders["model_num"]) == [0, 1, 250, 1200, 1450]
    logs = chapters.training_logs(folders)
    assert set(logs["part"]) == set(plots.CURVE_PARTS) and len(logs) == 5 * 2 * 4
    fig = plots.training_curves(logs, caption="s")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "reconstruction loss", "kl loss", "regularizer"]
    picks = chapters.pick_runs(folders, 3)
    assert list(picks["model_num"]) == [0, 1200, 250]  # weakest of each method, then strongest
    assert chapters.run_label(picks.iloc[2]) == "β-VAE, beta = 16, seed 0"
    assert chapters.run_folders(tmp_path / "nowhere").empty


def test_learning_table_reports_reconstruction_against_the_bernoulli_baseline():
    import math

    import pandas as pd

    from disentangle.analysis import chapters

    df = pd.DataFrame({"dataset": ["dsprites"] * 4 + ["color_dsprites"] * 2,
                       "method": ["beta_vae", "beta_vae", "factor_vae", "factor_vae", "beta_vae", "beta_vae"],
                       "model_num": [0, 0, 300, 301, 1800, 1801],  # run 0 appears twice (two representations)
                       "train.reconstruction_loss": [100.0, 100.0, 200.0, 400.0, 800.0, 1000.0],
                       "train.kl_loss": [10.0, 10.0, 5.0, 7.0, 3.0, 5.0]})
    table = chapters.learning_table(df, {"dsprites": 64 * 64, "color_dsprites": 64 * 64 * 3})
    row = table[(table["dataset"] == "dSprites") & (table["method"] == "all methods")].iloc[0]
    assert row["runs"] == 3 and row["reconstruction (median, nats)"] == 200.0
    assert math.isclose(row["% of baseline"], 100 * 200 / (4096 * math.log(2)))
    color = table[(table["dataset"] != "dSprites") & (table["method"] == "all methods")].iloc[0]
    assert color["reconstruction (median, nats)"] == 900.0 and math.isclose(color["baseline H·W·C·ln 2"],
                                                                             3 * 4096 * math.log(2))
    with pytest.raises(KeyError, match="no image size"):
        chapters.learning_table(df, {"dsprites": 4096})


def test_laptop_scale_summary_takes_medians_per_setting_and_milestone(tmp_path):
    import pandas as pd

    from disentangle.analysis import chapters

    rows = [{"arm": "fast", "model": f"m{k}", "method": "beta_vae", "lr": 1e-3, "batch_size": 32,
             "precision": "bf16", "updates": u, "train_seconds": 10.0 * u / 250 * (k + 1),
             "baseline_share": 0.1 / (k + 1), "kl": 5.0, "active_dims": 10, "mig": 0.1 * k, "dci": 0.2,
             "factor_vae": 0.5} for k in range(3) for u in (250, 500)]
    path = tmp_path / "laptop_scale_x.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    table = chapters.laptop_scale_summary([path])
    assert list(table["updates"]) == [250, 500] and table["lr"].iloc[0] == "1e-03"
    first = table.iloc[0]
    assert first["models"] == 3 and abs(first["reconstruction, % of baseline"] - 5.0) < 1e-9
    assert abs(first["mig"] - 0.1) < 1e-9
    with pytest.raises(FileNotFoundError):
        chapters.laptop_scale_summary([])


def test_chapters_find_the_committed_benchmark_tables_from_any_folder(tmp_path, monkeypatch):
    from disentangle.analysis import chapters

    monkeypatch.chdir(tmp_path)  # nbval runs the notebooks from _build/executed, the book from book/
    for name in ("laptop_cost.csv", "classifier_semantics.csv"):
        found = chapters.benchmark_results(name)
        assert [p.name for p in found] == [name] and found[0].is_file()
    assert chapters.benchmark_results("laptop_scale_*.csv")
    assert chapters.benchmark_results("no_such_table.csv") == []


# ---------------------------------------------------------------------------------------- off the paper's grid


def test_a_study_off_the_paper_grid_keeps_every_run_through_chapter_2(tmp_path, monkeypatch):
    """beta = 3 is not one of the paper's values and the toy method is not one of its methods:
    those runs have no model_num, only a run_id. Chapter 2's tables and pictures keep each run."""
    import yaml
    from toy_method import ENTRY

    from disentangle import vocabulary
    from disentangle.study.grid import in_paper_grid, model_num, run_id

    monkeypatch.setitem(vocabulary.METHODS, ENTRY.name, ENTRY)
    values = {"beta_vae": [1, 3], "toy_vae": [0.5]}
    assert 3 not in vocabulary.METHODS["beta_vae"].paper_values
    points = [("dsprites", m, v, s) for m, vs in values.items() for v in vs for s in (0, 1)]
    assert sum(in_paper_grid(*p) for p in points) == 2  # beta = 1, seeds 0 and 1

    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (tmp_path / "_config.yml").write_text("title: test\n")
    params = tmp_path / "off_grid.yaml"
    params.write_text(yaml.safe_dump({
        "shared": {"scale": "ci", "results_dir": str(tmp_path), "data_source": "procedural", "device": "cpu"},
        "study": {"datasets": ["dsprites"], "methods": list(values), "values": values, "seeds": [0, 1]}}))
    grid = chapters.grid_table(params)
    assert grid["runs"].iloc[-1] == 6 and list(grid["values"].iloc[:-1]) == ["1, 3", "0.5"]

    # the results table: a row per (run, representation), model_num empty off the grid
    rows = []
    for i, (d, m, v, s) in enumerate(points):
        num = model_num(d, m, v, s) if in_paper_grid(d, m, v, s) else None
        for rep in ("mean", "sampled"):
            rows.append({"run_id": run_id(d, m, v, s), "model_num": num, "dataset": d, "method": m,
                         "value": float(v), "seed": s, "representation": rep,
                         "train.reconstruction_loss": 100.0 + i, "train.kl_loss": 10.0 + i,
                         "mig.discrete_mig": 0.01 * i})
    df = pd.DataFrame(rows)
    df["model_num"] = df["model_num"].astype("Int64")
    assert chapters.count_runs(df) == 6 and df["model_num"].nunique() == 2
    overview = chapters.results_overview(df)
    assert len(overview) == 3 and (overview["seeds"] == 2).all()
    assert set(overview["value"]) == {1.0, 3.0, 0.5}
    learning = chapters.learning_table(df, {"dsprites": 64 * 64})
    runs = learning.set_index("method")["runs"]
    assert runs["all methods"] == 6 and runs["β-VAE"] == 4 and runs["ToyVAE"] == 2
    assert learning.set_index("method").loc["all methods", "reconstruction (median, nats)"] == 102.5

    # a table of paper-grid runs only has no run_id column: model_num is the key there
    paper_only = df[df["model_num"].notna()].drop(columns="run_id")
    assert list(chapters.run_ids(paper_only).unique()) == ["00000", "00001"]
    assert chapters.learning_table(paper_only, {"dsprites": 4096})["runs"].iloc[0] == 2
    with pytest.raises(ValueError, match="neither"):
        chapters.run_ids(df.drop(columns="run_id"))

    # run folders, training curves and the pictured runs
    log = [{"iteration": i, "global_step": i, "loss": 100.0 - i, "reconstruction_loss": 90.0 - i,
            "kl_loss": 5.0, "regularizer": 5.0, "elbo": -95.0} for i in (10, 20)]
    for d, m, v, s in points:
        rid = run_id(d, m, v, s)
        folder = tmp_path / "runs" / f"{rid}-abcdef12"
        (folder / "model").mkdir(parents=True)
        num = model_num(d, m, v, s) if in_paper_grid(d, m, v, s) else None
        (folder / "run_config.json").write_text(json.dumps(
            {"model_num": num, "run_id": rid, "dataset": d, "method": m, "value": v, "seed": s}))
        (folder / "done.json").write_text("{}")
        (folder / "log.jsonl").write_text("".join(json.dumps(e) + "\n" for e in log))
    folders = chapters.run_folders(tmp_path)
    assert len(folders) == 6 and folders["run_id"].is_unique and folders["model_num"].isna().sum() == 4
    logs = chapters.training_logs(folders)
    assert len(logs.drop_duplicates(["method", "value", "seed"])) == 6
    picks = chapters.pick_runs(folders, 6)
    assert list(picks["run_id"]) == [run_id("dsprites", "beta_vae", 1, 0), run_id("dsprites", "toy_vae", 0.5, 0),
                                     run_id("dsprites", "beta_vae", 3, 0)]
    assert chapters.run_label(picks.iloc[1]) == "ToyVAE, weight = 0.5, seed 0"


def test_curve_runs_keeps_every_run_of_a_small_study_and_the_lowest_seeds_of_a_large_one():
    import itertools

    rows = [{"dataset": d, "method": m, "value": v, "seed": s, "run_id": f"{d}{m}{v}{s}"}
            for d, m, v, s in itertools.product("ab", ("beta_vae", "factor_vae"), (1.0, 2.0, 3.0), range(50))]
    folders = pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # any order
    assert chapters.curve_runs(folders.head(300)).equals(folders.head(300))
    picked = chapters.curve_runs(folders, max_runs=30)  # 12 configurations: 2 lowest seeds each
    assert len(picked) == 24 and set(picked["seed"]) == {0, 1}
    assert picked.groupby(["dataset", "method", "value"]).size().eq(2).all()
    assert len(chapters.curve_runs(folders, max_runs=5)) == 12  # never fewer than one per configuration
