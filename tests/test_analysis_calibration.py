"""Resampling schemes, their reference checks, and the calibrated verdict gate (issue 19)."""

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from disentangle.analysis import claims
from disentangle.analysis.bootstrap import BootstrapCI, RunResampler, bootstrap_ci, bootstrap_many
from disentangle.analysis.claims import GateRow, calibrated_gate
from disentangle.analysis.paper_claims import CLAIMS
from disentangle.vocabulary import paper_methods
from disentangle.analysis.synthetic import synthetic_results
from disentangle.params import load

ROOT = Path(__file__).resolve().parents[1]


def _benchmark():
    spec = importlib.util.spec_from_file_location("claims_calibration", ROOT / "benchmarks" / "claims_calibration.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _one_config(values: np.ndarray) -> pd.DataFrame:
    n = values.size
    return pd.DataFrame({"dataset": "d", "method": "m", "value": 1.0, "seed": np.arange(n),
                         "representation": "mean", "x": values})


@pytest.mark.parametrize("scheme", ["distinct", "subsample"])
def test_no_scheme_but_replacement_turns_one_run_into_two_seeds(scheme):
    df = synthetic_results(["dsprites"], ["beta_vae", "factor_vae"], 2, 5, seed=0)
    resampler = RunResampler(df, scheme=scheme)
    rng = np.random.default_rng(0)
    for _ in range(20):
        sample = resampler.draw(rng)
        # each drawn run appears once, with its own seed label and both representations
        assert not sample.duplicated(["config_hash", "representation"]).any()
        assert sample.groupby(["dataset", "method", "value", "seed"])["config_hash"].nunique().eq(1).all()
        own = df.drop_duplicates("config_hash").set_index("config_hash")["seed"]
        assert (sample["seed"].to_numpy() == own.loc[sample["config_hash"]].to_numpy()).all()
        per_config = sample[sample["representation"] == "mean"].groupby(["method", "value"]).size()
        if scheme == "subsample":
            assert per_config.eq(3).all() and len(per_config) == 4   # ceil(5 / 2) of 5 seeds
        else:
            assert per_config.between(1, 5).all()
    assert resampler.spread_scale == (np.sqrt(3 / 2) if scheme == "subsample" else 1.0)


def test_replacement_scheme_does_relabel_duplicates_as_seeds():
    df = synthetic_results(["dsprites"], ["beta_vae"], 2, 3, seed=0)
    sample = RunResampler(df).draw(np.random.default_rng(1))
    assert sample.groupby(["method", "value", "representation"])["seed"].nunique().eq(3).all()
    assert sample.duplicated(["config_hash", "representation"]).any()   # a run fills two seed slots


def test_bad_scheme_and_too_few_runs_for_subsampling_are_rejected():
    df = synthetic_results(["dsprites"], ["beta_vae"], 2, 1, seed=0)
    with pytest.raises(ValueError, match="scheme must be one of"):
        RunResampler(df, scheme="jackknife")
    with pytest.raises(ValueError, match=">= 2 runs"):
        RunResampler(df, scheme="subsample")


@pytest.mark.parametrize("n", [3, 4, 5, 6])
def test_subsample_spread_scale_gives_the_full_sample_variance_of_a_mean(n):
    """Exact, by enumerating every half-sample: Var(half-sample mean) × scale² = s² / n."""
    x = np.random.default_rng(n).normal(size=n)
    m = -(-n // 2)
    means = np.array([x[list(c)].mean() for c in itertools.combinations(range(n), m)])
    scale = RunResampler(_one_config(x), scheme="subsample").spread_scale
    assert means.var() * scale ** 2 == pytest.approx(x.var(ddof=1) / n, rel=1e-12)


def test_percentile_interval_matches_scipy_reference():
    x = np.random.default_rng(3).lognormal(size=60)
    ours = bootstrap_ci(x, np.mean, seed=0, n_boot=8000)
    ref = stats.bootstrap((x,), np.mean, method="percentile", n_resamples=8000,
                          rng=np.random.default_rng(1)).confidence_interval
    width = ref.high - ref.low
    assert abs(ours.lo - ref.low) < 0.05 * width and abs(ours.hi - ref.high) < 0.05 * width
    # the same statistic on a one-configuration results table resampled with replacement
    table = bootstrap_ci(_one_config(x), lambda t: t["x"].mean(), seed=0, n_boot=4000)
    assert abs(table.lo - ref.low) < 0.06 * width and abs(table.hi - ref.high) < 0.06 * width


def test_subsample_interval_matches_scipy_bca_on_an_unstratified_mean():
    x = np.random.default_rng(4).normal(2.0, 1.0, size=200)
    ref = stats.bootstrap((x,), np.mean, method="BCa", n_resamples=4000,
                          rng=np.random.default_rng(2)).confidence_interval
    ours = bootstrap_ci(_one_config(x), lambda t: t["x"].mean(), seed=0, n_boot=2000, scheme="subsample")
    width = ref.high - ref.low
    assert abs(ours.lo - ref.low) < 0.08 * width and abs(ours.hi - ref.high) < 0.08 * width
    # the distinct-run scheme sees ~63 % of the runs without duplicates: too narrow for large n
    distinct = bootstrap_ci(_one_config(x), lambda t: t["x"].mean(), seed=0, n_boot=2000, scheme="distinct")
    assert (distinct.hi - distinct.lo) < 0.85 * width


def _default_design_table(seed: int) -> pd.DataFrame:
    study = load(ROOT / "params" / "default.yaml", root=ROOT).study
    return synthetic_results(study["datasets"], study["methods"], {m: study["values"][m] for m in study["methods"]},
                             study["seeds"], seed=seed)


@pytest.mark.parametrize("scheme", [None, "replacement"])
def test_no_shown_interval_excludes_its_estimate_on_the_default_design(scheme):
    table = claims.claims_table(_default_design_table(0), seed=0, n_boot=15, n_draws=500, scheme=scheme,
                                signal=claims.UNGATED)
    assert np.isfinite(table["estimate"]).all() and len(table) == len(CLAIMS)
    # at 2 seeds per configuration a statistic's bootstrap can be undefined: then it is not decided
    undefined = ~(np.isfinite(table["ci_lo"]) & np.isfinite(table["ci_hi"]))
    assert (table.loc[undefined, "agrees?"] == "inconclusive").all()
    shown = table[~undefined]
    assert len(shown) >= len(CLAIMS) - 3
    assert ((shown["ci_lo"] <= shown["estimate"]) & (shown["estimate"] <= shown["ci_hi"])).all()
    for r in shown.itertuples():   # the text shows the same interval
        lo, hi = (float(v) for v in r._6.split("[")[1].rstrip("]").split(","))
        assert lo <= float(r._6.split(" [")[0]) <= hi


def _row(min_seeds, n_datasets=2, n_methods=6, n_values=3):
    return GateRow("C2", "d", n_datasets, n_methods, n_values, min_seeds, 0.95, 0.0, "subsample", "3 4 5")


def test_calibrated_gate_needs_a_dominated_design_that_reached_the_goals():
    design = {"n_datasets": 2, "n_methods": 6, "n_values": 3, "seeds": 4}
    gate = {"C2": [_row(5), _row(4, n_datasets=7, n_values=6)]}
    note, rule = calibrated_gate("C2", design, gate)
    assert note.startswith("only 4 seed(s)") and "≥ 5" in note and "≥ 5 seeds/config" in rule
    assert calibrated_gate("C2", {**design, "seeds": 5}, gate)[0] is None
    assert "coverage 95 %" in calibrated_gate("C2", {**design, "seeds": 5}, gate)[1]
    # an extra floor can only make the gate stricter
    assert "min_runs = 6" in calibrated_gate("C2", {**design, "seeds": 5}, gate, min_runs=6)[0]
    # smaller than every calibrated design, or never reached
    assert "no calibrated design" in calibrated_gate("C2", {**design, "n_methods": 3}, gate)[0]
    assert "never reached" in calibrated_gate("C2", design, {"C2": [_row(None)]})[0]
    assert "no calibrated design" in calibrated_gate("C3a", design, gate)[0]


def test_claims_table_states_the_gate_and_decides_only_past_it():
    df = synthetic_results(["dsprites"], ["beta_vae", "beta_tc_vae"], 6, 6, seed=0)
    gate = {"C2": [GateRow("C2", "t", 1, 2, 6, 6, 0.97, 0.01, "subsample", "4 6")],
            "C3a": [GateRow("C3a", "t", 1, 2, 6, 7, 0.97, 0.01, "subsample", "4 7")]}
    table = claims.claims_table(df, ["C2", "C3a"], seed=0, n_boot=20, gate=gate).set_index("claim")
    assert table.loc["C2", "agrees?"] == "agrees"
    assert "calibrated gate: ≥ 6 seeds/config" in table.loc["C2", "rule"] and "subsample" in table.loc["C2", "rule"]
    assert table.loc["C3a", "agrees?"] == "inconclusive" and "≥ 7" in table.loc["C3a", "note"]


def test_committed_gate_is_the_one_the_committed_calibration_derives():
    bench = _benchmark()
    summary = pd.read_csv(ROOT / "benchmarks" / "results" / "claims_calibration.csv")
    committed = pd.read_csv(claims.GATE_FILE, dtype={"calibrated_seeds": str})
    derived = bench.gate(summary, claims.gate_scheme(claims.load_gate()))
    derived = pd.read_csv(__import__("io").StringIO(derived.to_csv(index=False)), dtype={"calibrated_seeds": str})
    pd.testing.assert_frame_equal(committed, derived)
    assert set(committed["claim"]) == set(CLAIMS)


def test_gate_takes_the_fewest_seeds_from_which_every_calibrated_count_meets_the_goals():
    bench = _benchmark()
    base = {"label": "d", "n_datasets": 2, "n_methods": 6, "n_values": 3, "scheme": "s", "n_studies": 12,
            "n_null": 6, "n_planted": 6, "n_boot": 40, "coverage": 0.95, "wrong_null": 0.0, "wrong_planted": 0.0}
    widen = {True: 1.5, False: np.nan}
    summary = pd.DataFrame([{**base, "claim": c, "seeds": s, "meets_goals": ok, "widen": widen[ok]}
                            for c, pattern in {"A": (True, False, True), "B": (False, False, False)}.items()
                            for s, ok in zip((3, 4, 5), pattern)])
    gate = bench.gate(summary, "s").set_index("claim")
    assert gate.loc["A", "min_seeds"] == 5 and gate.loc["B", "min_seeds"] == ""
    assert gate.loc["A", "widen"] == 1.5 and gate.loc["B", "widen"] == ""
    # a seed count with too few null or planted studies neither opens nor closes the gate
    summary.loc[(summary["claim"] == "A") & (summary["seeds"] == 4), "n_planted"] = 3
    assert bench.gate(summary, "s").set_index("claim").loc["A", "min_seeds"] == 3


def test_summary_keeps_the_smallest_widening_that_meets_the_goals():
    bench = _benchmark()
    rows = []
    # truth 1.0; estimates at 0.5 with half-width 0.3: covered only when widened ≥ 2x (0.5 + 0.6 > 1.0)
    for effect in ("noise", "plausible"):
        for study in range(bench.MIN_STUDIES):
            rows.append({"label": "d", "n_datasets": 2, "n_methods": 6, "n_values": 3, "seeds": 3,
                         "effect": effect, "population": 0, "study": study, "scheme": "s", "n_boot": 40,
                         "claim": "C4a", "estimate": 0.5, "lo": 0.2, "hi": 0.8, "truth": 1.0, "truth_sd": 0.0,
                         "verdict": "agrees", "truth_verdict": "agrees"})
    summary = bench.summarise(pd.DataFrame(rows))
    assert summary.loc[0, "widen"] == 2.0 and summary.loc[0, "coverage"] == 1.0 and summary.loc[0, "meets_goals"]


def test_claims_table_widens_by_the_calibrated_factor():
    df = synthetic_results(["dsprites", "color_dsprites"], list(paper_methods()), 3, 3, seed=0)
    gate_rows = lambda w: {"C4a": [claims.GateRow("C4a", "d", 2, 6, 3, 3, 0.95, 0.0, "subsample", "3", w)]}
    one = claims.claims_table(df, ["C4a"], seed=0, n_boot=10, gate=gate_rows(1.0), signal=claims.UNGATED).iloc[0]
    two = claims.claims_table(df, ["C4a"], seed=0, n_boot=10, gate=gate_rows(2.0), signal=claims.UNGATED).iloc[0]
    assert two["estimate"] == one["estimate"]
    assert np.isclose(two["ci_hi"] - two["estimate"], 2 * (one["ci_hi"] - one["estimate"]))
    assert np.isclose(two["estimate"] - two["ci_lo"], 2 * (one["estimate"] - one["ci_lo"]))
    assert "×2" in two["rule"] and "widened ×2" in two["note"]


def test_truth_verdicts_and_null_truths():
    bench = _benchmark()
    assert bench.truth_verdict(0.0, "C2") == "inconclusive"      # at the threshold: any decision is wrong
    assert bench.truth_verdict(-0.3, "C2") == "agrees" and bench.truth_verdict(75.0, "C9_same_same") == "agrees"
    rng = np.random.default_rng(0)
    assert bench.null_truth("C5b", 12, 6, rng) == 100.0 and bench.null_truth("C9_same_same", 12, 6, rng) == 50.0
    # one cell: the single winner has the whole share; many cells: close to 1 / methods
    assert bench.null_truth("C7", 1, 6, rng) == 100.0 and bench.null_truth("C7", 600, 6, rng) < 20.0


def test_bootstrap_many_agrees_across_schemes_on_a_constant_statistic():
    df = synthetic_results(["dsprites"], ["beta_vae"], 2, 4, seed=0)
    for scheme in ("replacement", "distinct", "subsample"):
        ci = bootstrap_many(df, lambda t: {"n": float(t["method"].nunique())}, seed=0, n_boot=10, scheme=scheme)["n"]
        assert (ci.estimate, ci.lo, ci.hi) == (1.0, 1.0, 1.0)


def test_a_widened_interval_never_leaves_the_statistics_range():
    df = synthetic_results(["dsprites", "color_dsprites"], list(paper_methods()), 3, 3, seed=0)
    gate = {"C3b": [claims.GateRow("C3b", "d", 2, 6, 3, 3, 0.95, 0.0, "subsample", "3", 50.0)]}
    row = claims.claims_table(df, ["C3b"], seed=0, n_boot=10, gate=gate).iloc[0]
    assert 0.0 <= row["ci_lo"] <= row["estimate"] <= row["ci_hi"] <= 100.0
    assert row["ci_lo"] == 0.0 or row["ci_hi"] == 100.0  # fifty-fold is wider than the range
    ci = BootstrapCI(0.9, 0.5, 1.3, 0.95, 10, 10).clipped(-1.0, 1.0)
    assert (ci.estimate, ci.lo, ci.hi) == (0.9, 0.5, 1.0)


def test_wilson_false_signal_rate_is_the_binomial_tail_past_the_bound():
    bench = _benchmark()
    # at 54 runs the Wilson lower bound first exceeds 1/2 at k = 35 (35/54: 0.515; 34/54: 0.497)
    assert bench.wilson_false_signal(54) == pytest.approx(stats.binom.sf(34, 54, 0.5))
    assert bench.wilson_false_signal(3) == 0.0 and bench.wilson_false_signal(4) == pytest.approx(1 / 16)
