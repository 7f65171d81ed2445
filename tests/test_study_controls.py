"""The study's controls (study/controls.py): rotated twins and untrained encoders are scored with
the study, resumably, and kept apart from the results (issue 23). Fake backend of test_study_fakes."""

import numpy as np
import yaml

from disentangle.study import load_results, run_study
from disentangle.study.columns import CONTROL_COLUMNS, SCORES
from disentangle.study.controls import CONTROLS_FILE
from disentangle.study.grid import Study
from disentangle.study.results import load_controls
from test_study_fakes import FakeBackend, train_calls, write_params


class ScoringBackend(FakeBackend):
    """The fake backend, with scores under the results table's real column names."""

    def evaluate(self, dataset, represent_for, metrics, seeds, settings, overrides=None, classifiers="paper"):
        out = {}
        for metric in metrics:
            x = np.random.default_rng(seeds[metric]).normal(size=(8, 3)) ** 2
            value = float(np.mean(represent_for(metric, seeds[metric])(x)))
            out.update({col: value for col in SCORES.values() if col.startswith(metric + ".")})
            out[f"{metric}.elapsed_time"] = 0.001
        return out


def _params(tmp_path, **controls):
    path = write_params(tmp_path)
    raw = yaml.safe_load(path.read_text())
    if controls:
        raw["study"]["controls"] = controls
    path.write_text(yaml.safe_dump(raw))
    return path


def _dirs(params):
    study = Study.from_params(params)
    return study, {r.run_id: study.run_dir(r) for r in study.runs(FakeBackend().resolve_source)}


def test_every_run_gets_a_rotated_twin_and_each_dataset_untrained_encoders_kept_apart(tmp_path):
    params = _params(tmp_path, untrained_seeds=3)
    df = run_study(params, progress=False, backend=ScoringBackend())
    study, dirs = _dirs(params)
    controls = load_controls(study.results_dir)
    assert list(controls.columns) == [*CONTROL_COLUMNS, *SCORES.values()]
    assert sorted(controls["control"].value_counts().items()) == [("rotated", 4), ("standardised", 4),
                                                                  ("untrained", 3)]
    twins = controls[controls.control != "untrained"].pivot(index="run_id", columns="control",
                                                           values="mig.discrete_mig")
    assert sorted(twins.index) == sorted(dirs) and (twins["standardised"] > twins["rotated"]).all()
    untrained = controls[controls.control == "untrained"]
    assert sorted(untrained.run_id) == [f"untrained-dsprites-s{s}" for s in range(3)]
    assert "control" not in df.columns and len(df) == 8  # the results table holds the runs only
    assert load_results(study.results_dir).equals(df)


def test_controls_change_no_run_identity_and_twin_seeds_pick_the_runs(tmp_path):
    plain = Study.from_params(_params(tmp_path / "a"))
    subset = Study.from_params(_params(tmp_path / "b", twin_seeds=[0], untrained_seeds=0))
    hashes = lambda s: [(r.run_id, r.config_hash) for r in s.runs(FakeBackend().resolve_source)]  # noqa: E731
    assert hashes(plain) == hashes(subset)
    run_study(subset.params.path, progress=False, backend=ScoringBackend())
    controls = load_controls(subset.results_dir)
    assert set(controls["seed"]) == {0} and set(controls["control"]) == {"standardised", "rotated"}


def test_controls_resume_never_redo_finished_work_and_survive_a_damaged_file(tmp_path):
    params = _params(tmp_path, untrained_seeds=2)
    run_study(params, progress=False, backend=ScoringBackend())
    study, dirs = _dirs(params)
    before = {p: p.stat().st_mtime_ns for p in study.results_dir.rglob("*.json")}
    run_study(params, progress=False, backend=ScoringBackend())
    assert {p: p.stat().st_mtime_ns for p in study.results_dir.rglob("*.json")} == before
    first, second = sorted(dirs)[:2]
    (dirs[first] / CONTROLS_FILE).unlink()
    (dirs[second] / CONTROLS_FILE).write_text("{not json")
    untrained = sorted((study.results_dir / "controls").glob("untrained-*.json"))
    untrained[0].unlink()
    run_study(params, progress=False, backend=ScoringBackend())
    after = {p: p.stat().st_mtime_ns for p in study.results_dir.rglob("*.json")}
    redone = {p for p in after if before.get(p) != after[p]}
    assert redone == {dirs[first] / CONTROLS_FILE, dirs[second] / CONTROLS_FILE, untrained[0]}
    assert all(train_calls(d) == [0] for d in dirs.values())  # no run trained twice
    assert len(load_controls(study.results_dir)) == 4 * 2 + 2


class SlowTwinBackend(ScoringBackend):
    """Scoring a twin takes a measurable 0.2 s."""

    def twin_representations(self, dataset, model, seed):
        import time

        time.sleep(0.2)
        return super().twin_representations(dataset, model, seed)


def test_a_twins_seconds_are_its_own_time_column_not_bookkeeping(tmp_path):
    params = _params(tmp_path, twin_seeds=[0], untrained_seeds=0)
    df = run_study(params, progress=False, backend=SlowTwinBackend())
    with_twin = df[df.seed == 0]
    assert (with_twin["time.controls"] >= 0.2).all() and (with_twin["time.bookkeeping"] < 0.2).all()
    assert (df[df.seed != 0]["time.controls"] == 0).all()


def test_mean_codes_memo_reuses_a_batchs_codes_unchanged_and_safe_to_mutate():
    from disentangle.study.runs import MeanCodesMemo

    calls = []

    class Model:
        label = "m"

        def represent_mean(self, x, batch_size=64):
            calls.append(len(x))
            return x.reshape(len(x), -1)[:, :2] * 2.0

    memo = MeanCodesMemo(Model())
    x = np.random.default_rng(0).random((5, 4, 4, 1)).astype(np.float32)
    first = memo.represent_mean(x)
    first[:] = -1  # a metric that scribbles on its codes does not change the memo
    again = memo.represent_mean(x.copy())
    np.testing.assert_array_equal(again, x.reshape(5, -1)[:, :2] * 2.0)
    assert calls == [5]
    memo.represent_mean(x, batch_size=32)  # other arguments, other entry
    memo.represent_mean(x[:3])
    assert calls == [5, 5, 3] and (memo.hits, memo.misses) == (1, 3) and memo.label == "m"


def test_a_run_with_nothing_to_do_keeps_the_table_and_any_change_rebuilds_it(tmp_path):
    import os

    params = _params(tmp_path, untrained_seeds=1)
    first = run_study(params, progress=False, backend=ScoringBackend())
    study, dirs = _dirs(params)
    table = study.results_dir / "results.parquet"
    stamp = table.stat().st_mtime_ns
    again = run_study(params, progress=False, backend=ScoringBackend())
    assert table.stat().st_mtime_ns == stamp and again.equals(first)  # nothing read again, same table
    done = next(iter(dirs.values())) / "done.json"
    os.utime(done, ns=(stamp + 10**9, stamp + 10**9))  # a run finished after the table was written
    run_study(params, progress=False, backend=ScoringBackend())
    assert table.stat().st_mtime_ns != stamp
    stamp = table.stat().st_mtime_ns
    raw = yaml.safe_load(params.read_text())
    raw["study"]["seeds"] = raw["study"]["seeds"][:1]  # fewer runs: the table must drop the others
    params.write_text(yaml.safe_dump(raw))
    fewer = run_study(params, progress=False, backend=ScoringBackend())
    assert table.stat().st_mtime_ns != stamp and len(fewer) < len(first)
    assert load_results(study.results_dir).equals(fewer)
