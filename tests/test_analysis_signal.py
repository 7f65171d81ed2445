"""The signal rule (analysis/signal.py) and the claims' signal gate (analysis/claims.py, issue 23)."""

import numpy as np
import pandas as pd
import pytest

from disentangle.analysis import claims, signal
from disentangle.analysis.paper_claims import CLAIMS
from disentangle.analysis.synthetic import synthetic_controls, synthetic_results
from disentangle.study.columns import CONTROL_COLUMNS, SCORES
from disentangle.vocabulary import paper_methods

MIG, DCI = SCORES["MIG"], SCORES["DCI"]


@pytest.mark.parametrize("k, n, lo, hi", [
    (0, 10, 0.0, 0.2775),       # Newcombe (1998), Table I: Wilson score interval
    (5, 10, 0.2366, 0.7634),
    (8, 10, 0.4902, 0.9433),
    (10, 10, 0.7225, 1.0),      # k = n: lower bound n / (n + z²)
    (35, 54, 0.5148, 0.7618),
])
def test_wilson_interval_reference_values(k, n, lo, hi):
    got = signal.wilson_interval(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-4)


def test_wilson_interval_without_runs_is_undefined():
    assert all(np.isnan(signal.wilson_interval(0, 0)))


def _controls(std: dict[str, list[float]], rot: dict[str, list[float]], dataset: str = "dsprites",
              untrained: dict[str, list[float]] | None = None) -> pd.DataFrame:
    """A controls table of one dataset: run i's standardised and rotated scores, per score column."""
    n = len(next(iter(std.values())))
    ident = {"run_id": [f"{i:05d}" for i in range(n)], "dataset": dataset, "method": "beta_vae",
             "value": 1.0, "seed": range(n)}
    frames = [pd.DataFrame({"control": "standardised", **ident, **std}),
              pd.DataFrame({"control": "rotated", **ident, **rot})]
    if untrained:
        m = len(next(iter(untrained.values())))
        frames.append(pd.DataFrame({"control": "untrained", "run_id": [f"untrained-{dataset}-s{s}" for s in range(m)],
                                    "dataset": dataset, "method": "", "value": np.nan, "seed": range(m),
                                    **untrained}))
    return pd.concat(frames, ignore_index=True)


def test_every_run_beating_its_twin_is_signal_half_is_not():
    std = {MIG: [0.5] * 10, DCI: [0.5] * 10}
    rot = {MIG: [0.1] * 10, DCI: [0.1] * 5 + [0.9] * 5}
    table = signal.signal_table(_controls(std, rot, untrained={MIG: [0.0, 0.2, 1.0], DCI: [0.3] * 3}))
    assert list(table.columns) == list(signal.COLUMNS)
    rows = table.set_index("score")
    assert (rows.loc["MIG", "n"], rows.loc["MIG", "beats"], rows.loc["MIG", "signal"]) == (10, 10, True)
    # two scored cells (MIG, DCI): Bonferroni z = Φ⁻¹(1 − 0.025 / 2) = 2.2414; k = n: lower bound n / (n + z²)
    assert signal.family_z(2) == pytest.approx(2.2414, abs=1e-4)
    assert rows.loc["MIG", "lo"] == pytest.approx(10 / (10 + 2.2414**2), abs=1e-4)
    assert (rows.loc["DCI", "beats"], rows.loc["DCI", "signal"]) == (5, False)
    assert rows.loc["MIG", "median_untrained"] == pytest.approx(0.2)
    assert rows.loc["MIG", "median_rotated"] == pytest.approx(0.1)
    # a score the controls never scored (column absent) has no signal
    assert (rows.loc["SAP", "n"], rows.loc["SAP", "signal"]) == (0, False)
    assert signal.signal_mask(table) == {"dsprites": {MIG}}


def test_ties_and_nan_scores_are_not_signal():
    # ties do not beat the twin; a run whose twin is unscored drops out of n
    table = signal.signal_table(_controls({MIG: [0.3] * 8, DCI: [np.nan] * 8},
                                          {MIG: [0.3] * 8, DCI: [0.1] * 8})).set_index("score")
    assert (table.loc["MIG", "beats"], table.loc["MIG", "signal"]) == (0, False)
    assert (table.loc["DCI", "n"], table.loc["DCI", "signal"]) == (0, False)
    assert np.isnan(table.loc["DCI", "median_trained"]) and np.isnan(table.loc["DCI", "lo"])


def test_few_runs_are_not_signal_even_when_all_beat():
    # 3 of 3: the Wilson lower bound is 0.44, not above one half
    assert not signal.signal_table(_controls({MIG: [1.0] * 3}, {MIG: [0.0] * 3}))["signal"].any()
    assert signal.signal_table(_controls({MIG: [1.0] * 4}, {MIG: [0.0] * 4})).set_index("score").loc["MIG", "signal"]


def test_empty_controls_give_an_empty_signal_table():
    empty = pd.DataFrame(columns=[*CONTROL_COLUMNS, *SCORES.values()])
    table = signal.signal_table(empty)
    assert table.empty and list(table.columns) == list(signal.COLUMNS)
    assert signal.signal_mask(table) == {}
    with pytest.raises(KeyError, match="control"):
        signal.signal_table(pd.DataFrame({"dataset": ["dsprites"]}))


def test_signal_view_has_one_row_per_dataset():
    df = synthetic_results(("dsprites", "color_dsprites"), ["beta_vae", "factor_vae"], 3, 3, seed=0)
    view = signal.signal_view(signal.signal_table(synthetic_controls(df, seed=0, twin_shift=3.0)))
    assert list(view.index) == ["dSprites", "Color-dSprites"] and list(view.columns) == list(SCORES)
    assert view.map(lambda c: c.endswith("✓ signal")).all().all()


# ------------------------------------------------------------------------------------------- the gate

#: a gate that lets the default design (2 datasets × 6 methods × 3 values × 3 seeds) decide every claim
OPEN_GATE = {c: [claims.GateRow(c, "test", 1, 1, 1, 3, 0.95, 0.0, "subsample", "3")] for c in CLAIMS}
GATED = [c for c in CLAIMS if CLAIMS[c].gated]


@pytest.fixture(scope="module")
def planted():
    return synthetic_results(("dsprites", "color_dsprites"), paper_methods(), 3, 3, seed=0)


def _table(df, ids, sig):
    return claims.claims_table(df, ids, seed=0, n_boot=8, n_draws=300, gate=OPEN_GATE, signal=sig).set_index("claim")


def test_only_the_total_correlation_claims_are_ungated():
    assert sorted(c for c in CLAIMS if not CLAIMS[c].gated) == ["C2", "C3a", "C3b"]
    assert all(set(CLAIMS[c].scores) <= set(SCORES) for c in CLAIMS)


def test_no_signal_makes_every_gated_claim_inconclusive(planted):
    nothing = signal.signal_table(synthetic_controls(planted, seed=0, twin_shift=-5.0))  # twins always higher
    assert not nothing["signal"].any()
    gated = _table(planted, list(CLAIMS), nothing)
    ungated = _table(planted, list(CLAIMS), claims.UNGATED)
    assert (gated.loc[GATED, "agrees?"] == "inconclusive").all()
    assert (gated.loc[GATED, "note"] == claims.NO_SIGNAL).all()
    assert gated.loc[GATED, "estimate"].isna().all()
    # the planted effects would have decided some of them; the total-correlation claims are untouched
    assert (ungated.loc[GATED, "agrees?"] != "inconclusive").any()
    tc = ["C2", "C3a", "C3b"]
    pd.testing.assert_frame_equal(gated.loc[tc], ungated.loc[tc])


def test_without_controls_gated_claims_are_inconclusive(planted):
    empty = signal.signal_table(pd.DataFrame(columns=[*CONTROL_COLUMNS, *SCORES.values()]))
    for sig in (None, empty):
        table = _table(planted, ["C3b", "C4a", "C9_same_same"], sig)
        assert list(table.loc[["C4a", "C9_same_same"], "note"]) == [claims.NO_CONTROLS] * 2
        assert (table.loc[["C4a", "C9_same_same"], "agrees?"] == "inconclusive").all()
        assert table.loc["C3b", "note"] != claims.NO_CONTROLS
    with pytest.raises(ValueError, match="ungated"):
        _table(planted, ["C4a"], "off")


def _partial_signal(df) -> pd.DataFrame:
    """Signal on MIG and DCI on dSprites, on DCI only on Color-dSprites."""
    table = signal.signal_table(synthetic_controls(df, seed=0, twin_shift=3.0))
    keep = ((table["dataset"] == "dsprites") & table["score"].isin(["MIG", "DCI"])) | (
        (table["dataset"] == "color_dsprites") & (table["score"] == "DCI"))
    return table.assign(signal=keep)


def _scrambled(df, rng) -> pd.DataFrame:
    """``df`` with every score *without* signal in :func:`_partial_signal` replaced by noise."""
    out = df.copy()
    for col in SCORES.values():
        for dataset in ("dsprites", "color_dsprites"):
            keep = {"dsprites": {MIG, DCI}, "color_dsprites": {DCI}}[dataset]
            rows = out["dataset"] == dataset
            if col not in keep:
                out.loc[rows, col] = rng.uniform(-5, 5, rows.sum())
    return out


PARTIAL = ["C4a", "C4b", "C5a", "C5b", "C6", "C7", "C8", "C9_same_same", "C9_same_different",
           "C9_different_same", "C9_different_different", "C10", "C11", "C12"]


def test_masked_scores_do_not_change_the_estimates(planted):
    sig = _partial_signal(planted)
    base = _table(planted, PARTIAL, sig)
    other = _table(_scrambled(planted, np.random.default_rng(7)), PARTIAL, sig)
    pd.testing.assert_series_equal(base["estimate"], other["estimate"])
    pd.testing.assert_series_equal(base["this run"], other["this run"])
    # ... while without the gate the same scrambling moves them (the test can fail)
    free = _table(planted, PARTIAL, claims.UNGATED)
    free_other = _table(_scrambled(planted, np.random.default_rng(7)), PARTIAL, claims.UNGATED)
    assert (free["estimate"] != free_other["estimate"]).sum() >= len(PARTIAL) - 2


def test_partial_signal_decides_on_those_scores_and_says_so(planted):
    table = _table(planted, PARTIAL, _partial_signal(planted))
    note = table.loc["C4a", "note"]
    assert "scores with signal: MIG, DCI (dSprites); DCI (Color-dSprites)" in note
    # C4a on MIG and DCI of dSprites alone is ρ(MIG, DCI) there (one pair on one dataset)
    mean = planted[(planted["representation"] == "mean") & (planted["dataset"] == "dsprites")]
    assert table.loc["C4a", "estimate"] == pytest.approx(mean[MIG].corr(mean[DCI], method="spearman"))
    # C4b (ρ(MIG, DCI) minus the mean pair) is 0 where MIG–DCI is the only pair; C10 and the
    # different-metric transfer cells are defined on DCI / two scores
    assert table.loc["C4b", "estimate"] == pytest.approx(0.0)
    assert np.isfinite(table.loc[["C5a", "C7", "C8", "C9_same_same", "C9_different_same", "C10", "C11"],
                                 "estimate"]).all()
    undefined = table["estimate"].isna()
    assert (table.loc[undefined, "agrees?"] == "inconclusive").all()
    assert table.loc[undefined, "note"].str.contains("undefined|cannot compute").all()


def test_a_statistic_undefined_on_the_signal_scores_is_inconclusive(planted):
    only_modularity = signal.signal_table(synthetic_controls(planted, seed=0, twin_shift=3.0))
    only_modularity = only_modularity.assign(signal=only_modularity["score"] == "Modularity")
    table = _table(planted, ["C4a", "C4b", "C9_different_same", "C5a"], only_modularity)
    # C4a reads no Modularity: nothing with signal
    assert table.loc["C4a", "note"] == claims.NO_SIGNAL
    # a single score: the different-metric transfer cell has no other metric to transfer to
    assert table.loc["C9_different_same", "agrees?"] == "inconclusive"
    assert "undefined on the scores with signal" in table.loc["C9_different_same", "note"]
    assert np.isfinite(table.loc["C5a", "estimate"]) and "Modularity (dSprites, Color-dSprites)" in \
        table.loc["C5a", "note"]


def test_a_chapter_reads_the_controls_beside_its_results(tmp_path, planted):
    from disentangle.analysis import chapters
    from disentangle.study.results import CONTROLS_CSV

    assert chapters.load_chapter_signal(results_dir=tmp_path).empty           # no controls: empty table
    synthetic_controls(planted, seed=0, twin_shift=3.0).to_csv(tmp_path / CONTROLS_CSV, index=False)
    for table in (chapters.load_chapter_signal(results_dir=tmp_path),
                  chapters.load_chapter_signal(str(tmp_path / "results.parquet"))):
        assert len(table) == 2 * len(SCORES) and table["signal"].all()


def test_the_rule_is_family_wise_over_the_scored_cells():
    """One cell at 95 % (z = 1.96); twelve cells (two datasets x six scores) at z = 2.87, where 10 of
    12 runs beating their twins is signal for a lone cell but not among twelve."""
    assert signal.family_z(1) == pytest.approx(signal.Z95)
    assert signal.family_z(12) == pytest.approx(2.8653, abs=1e-4)
    lone = signal.signal_table(_controls({MIG: [1.0] * 12}, {MIG: [0.0] * 10 + [2.0] * 2}))
    assert lone.set_index("score").loc["MIG", "signal"]
    std = {col: [1.0] * 12 for col in SCORES.values()}
    rot = {col: [0.0] * 10 + [2.0] * 2 for col in SCORES.values()}
    many = signal.signal_table(pd.concat([_controls(std, rot, "dsprites"), _controls(std, rot, "color_dsprites")]))
    assert len(many) == 12 and not many["signal"].any()
    assert many["lo"].iloc[0] == pytest.approx(signal.wilson_interval(10, 12, signal.family_z(12))[0])
