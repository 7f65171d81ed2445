"""Runs, records, the results table, status and the CLI (study/runs.py, results.py, api.py, cli.py),
with the fake backend of ``test_study_fakes``."""

import json

import numpy as np
import pytest

from disentangle.study import load_results, run_study, study_status
from disentangle.study.cli import cli_main
from disentangle.study.columns import PROVENANCE_COLUMNS, RUN_COLUMNS, TIME_COLUMNS, TRAIN_COLUMNS
from disentangle.study.grid import Study
from disentangle.study.runs import representation_fn
from disentangle.vocabulary import POSTPROCESS_SEEDS
from test_study_fakes import FakeBackend, FakeModel, train_calls, write_params


def _run_dirs(params):
    study = Study.from_params(params)
    return study, {r.model_num: study.run_dir(r) for r in study.runs(FakeBackend().resolve_source)}


def test_a_study_trains_evaluates_and_aggregates_every_run(tmp_path):
    params = write_params(tmp_path)
    df = run_study(params, progress=False, backend=FakeBackend())
    study, dirs = _run_dirs(params)
    assert sorted(dirs) == [0, 1, 1200, 1201]
    assert len(df) == 4 * 2 and set(df["representation"]) == {"mean", "sampled"}
    assert not df.duplicated(["model_num", "representation"]).any()
    for col in (*RUN_COLUMNS, *TRAIN_COLUMNS, *TIME_COLUMNS, *PROVENANCE_COLUMNS, "mig.score", "sap_score.score",
                "mig.elapsed_time"):
        assert col in df.columns, col
    row = df[(df.model_num == 1201) & (df.representation == "mean")].iloc[0]
    assert (row.dataset, row.method, row.hyperparameter, row.value, row.seed) == ("dsprites", "beta_tc_vae", "beta", 1.0, 1)
    assert row["train.loss"] == pytest.approx(1.01) and row["train.global_step"] == 6
    assert row.dataset_source == "procedural" and row.origin == "disentangle" and row.device == "cpu"
    for d in dirs.values():
        assert {"run_config.json", "train_results.json", "record_mean.json", "record_sampled.json",
                "done.json"} <= {p.name for p in d.iterdir()}
        assert not (d / "claim").exists() and train_calls(d) == [0]
    # the parquet and csv hold the same table
    assert load_results(study.results_dir).equals(df)
    assert len(np.genfromtxt(study.results_dir / "results.csv", delimiter=",", skip_header=1, dtype=str)) == 8


def test_a_rerun_skips_finished_runs_and_never_double_counts(tmp_path):
    params = write_params(tmp_path)
    first = run_study(params, progress=False, backend=FakeBackend())
    _, dirs = _run_dirs(params)
    mtimes = {n: (d / "done.json").stat().st_mtime_ns for n, d in dirs.items()}
    second = run_study(params, progress=False, backend=FakeBackend())
    assert all(train_calls(d) == [0] for d in dirs.values())
    assert {n: (d / "done.json").stat().st_mtime_ns for n, d in dirs.items()} == mtimes
    assert second.equals(first)


def test_sampled_representation_redraws_noise_from_a_seeded_rng():
    model = FakeModel(2.0)
    x = np.ones((4, 3))
    mean = representation_fn(model, "mean", 7)
    assert np.array_equal(mean(x), 2 * x)
    a, b = representation_fn(model, "sampled", 7), representation_fn(model, "sampled", 7)
    first, second = a(x), a(x)
    assert not np.allclose(first, second)  # fresh noise on every call
    assert np.array_equal(first, b(x)) and np.array_equal(second, b(x))  # same seed, same stream
    assert not np.allclose(representation_fn(model, "sampled", 8)(x), first)
    expected = 2 * x + np.random.default_rng([POSTPROCESS_SEEDS["sampled"], 7]).normal(size=x.shape)
    assert np.array_equal(first, expected)
    with pytest.raises(ValueError, match="representation"):
        representation_fn(model, "median", 7)


def test_records_use_the_same_evaluation_seeds_for_every_model(tmp_path):
    params = write_params(tmp_path)
    run_study(params, progress=False, backend=FakeBackend())
    _, dirs = _run_dirs(params)
    for rep in ("mean", "sampled"):
        for d in dirs.values():
            record = json.loads((d / f"record_{rep}.json").read_text())
            assert record["eval_seeds"] == FakeBackend().evaluation_seeds(rep)


def test_a_changed_training_setting_goes_to_a_new_folder(tmp_path):
    params = write_params(tmp_path, steps=6)
    run_study(params, progress=False, backend=FakeBackend())
    _, old_dirs = _run_dirs(params)
    params = write_params(tmp_path, steps=4)
    status = study_status(params, backend=FakeBackend())
    assert status.counts["pending"] == 4 and status.counts["done"] == 0
    assert sorted(status.stale) == sorted(d.name for d in old_dirs.values())
    df = run_study(params, progress=False, backend=FakeBackend())
    _, new_dirs = _run_dirs(params)
    assert set(new_dirs.values()).isdisjoint(old_dirs.values())
    assert len(df) == 8 and set(df["train.global_step"]) == {4}  # only the current config's rows
    assert all(train_calls(d) == [0] for d in old_dirs.values())


def test_a_changed_evaluation_setting_re_evaluates_without_retraining(tmp_path):
    params = write_params(tmp_path, metrics=["mig", "sap_score"])
    run_study(params, progress=False, backend=FakeBackend())
    params = write_params(tmp_path, metrics=["mig"])
    df = run_study(params, progress=False, backend=FakeBackend())
    _, dirs = _run_dirs(params)
    assert all(train_calls(d) == [0] for d in dirs.values())
    assert "mig.score" in df.columns and "sap_score.score" not in df.columns and len(df) == 8


def test_a_failed_run_is_recorded_and_does_not_stop_the_others(tmp_path, capsys):
    params = write_params(tmp_path)
    df = run_study(params, progress=False, backend=FakeBackend(fail_model_nums=(1,)))
    _, dirs = _run_dirs(params)
    assert sorted(df["model_num"].unique()) == [0, 1200, 1201]
    failed = json.loads((dirs[1] / "failed.json").read_text())
    assert failed["phase"] == "train" and "fake failure of model 1" in failed["error"]
    assert "Traceback" in failed["traceback"] and "_train_one" in failed["traceback"]
    status = study_status(params, backend=FakeBackend())
    assert status.counts == {"done": 3, "running": 0, "failed": 1, "pending": 0, "damaged": 0}
    assert "fake failure of model 1" in str(status)
    # a rerun retries the failed run only
    df = run_study(params, progress=False, backend=FakeBackend())
    assert len(df) == 8 and not (dirs[1] / "failed.json").exists()
    assert train_calls(dirs[1]) == [0] and train_calls(dirs[0]) == [0]


def test_status_counts_and_eta(tmp_path):
    params = write_params(tmp_path, seeds=[0, 1, 2])
    status = study_status(params, backend=FakeBackend())
    assert status.counts["pending"] == 6 and status.eta_s is None and "ETA unknown" in str(status)
    run_study(params, progress=False, backend=FakeBackend(fail_model_nums=(2, 1202)))
    status = study_status(params, backend=FakeBackend())
    assert status.counts["done"] == 4 and status.counts["failed"] == 2
    assert status.mean_run_s > 0 and status.eta_s == pytest.approx(2 * status.mean_run_s)


def test_batched_training_groups_runs_of_one_dataset_and_method(tmp_path):
    params = write_params(tmp_path, seeds=[0, 1, 2], models_per_batch=2)
    df = run_study(params, progress=False, backend=FakeBackend())
    groups = [line.split() for line in (tmp_path / "results" / "train_groups.log").read_text().splitlines()]
    assert groups == [["0", "1"], ["2"], ["1200", "1201"], ["1202"]]
    assert len(df) == 12


def test_cli_status_aggregate_and_bad_params(tmp_path, capsys):
    params = write_params(tmp_path)
    assert cli_main(["status", str(params)]) == 0
    assert "4 runs: 0 done, 0 running, 0 failed, 4 pending" in capsys.readouterr().out
    run_study(params, progress=False, backend=FakeBackend())
    (tmp_path / "results" / "results.parquet").unlink()
    assert cli_main(["aggregate", str(params)]) == 0
    assert "8 rows" in capsys.readouterr().out and len(load_results(tmp_path / "results")) == 8
    assert cli_main(["status", str(params)]) == 0
    assert "4 runs: 4 done" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(params.read_text().replace("seeds:\n  - 0", "seeds:\n  - -1"))
    assert cli_main(["run", str(bad)]) == 2
    assert "study.seeds" in capsys.readouterr().err


def test_load_results_explains_a_missing_table(tmp_path):
    with pytest.raises(FileNotFoundError, match="study aggregate"):
        load_results(tmp_path)
