import numpy as np
import pytest

from disentangle.analysis import claims
from disentangle.analysis.bootstrap import BootstrapCI
from disentangle.analysis.paper_claims import CLAIMS, Claim, Requires
from disentangle.analysis.paper_values import Expectation
from disentangle.analysis.render import styled, to_markdown
from disentangle.analysis.synthetic import synthetic_results


def _ci(est, lo, hi):
    return BootstrapCI(est, lo, hi, 0.95, 100, 100)


@pytest.mark.parametrize("ci, expectation, expected", [
    (_ci(-0.5, -0.7, -0.2), Expectation("direction", 0.0, "<"), "agrees"),
    (_ci(0.5, 0.2, 0.7), Expectation("direction", 0.0, "<"), "disagrees"),
    (_ci(-0.1, -0.4, 0.2), Expectation("direction", 0.0, "<"), "inconclusive"),
    (_ci(0.5, 0.2, 0.7), Expectation("direction", 0.0, ">"), "agrees"),
    (_ci(0.5, np.nan, np.nan), Expectation("direction", 0.0, ">"), "inconclusive"),
    # estimate outside its CI: the hull decides (here it straddles 0)
    (_ci(-0.1, 0.2, 0.4), Expectation("direction", 0.0, ">"), "inconclusive"),
    (_ci(80.0, 76.0, 85.0), Expectation("equivalence", 80.7, tolerance=10.0), "agrees"),
    (_ci(50.0, 45.0, 55.0), Expectation("equivalence", 80.7, tolerance=10.0), "disagrees"),
    (_ci(70.0, 60.0, 80.0), Expectation("equivalence", 80.7, tolerance=10.0), "inconclusive"),
])
def test_verdict_rule(ci, expectation, expected):
    assert claims.verdict(ci, expectation) == expected


def test_every_claim_has_a_statistic_and_a_valid_expectation():
    assert all(callable(c.compute) and c.id == cid for cid, c in CLAIMS.items())
    with pytest.raises(ValueError, match="not in the vocabulary"):
        Claim("C99", "04_metric_agreement", "", "", "", "", Expectation("direction", 0.0, ">"),
              lambda t, claim: 0.0, methods=("beta_vea",))
    with pytest.raises(ValueError):
        Expectation("direction", 0.0)
    with pytest.raises(ValueError):
        Expectation("equivalence", 1.0)


#: a gate that lets 1-dataset tables with ≥ 5 seeds decide every claim (tests of the rule itself)
SMALL_GATE = {c: [claims.GateRow(c, "test", 1, 1, 1, 5, 0.95, 0.0, "subsample", "5")] for c in CLAIMS}


def test_two_seeds_are_always_inconclusive():
    df = synthetic_results(["dsprites"], seed=0, seeds=2, values_per_method=3)
    table = claims.claims_table(df, seed=0, n_boot=5, n_draws=500, gate=SMALL_GATE, signal=claims.UNGATED)
    assert list(table["claim"]) == list(CLAIMS)
    assert set(table["agrees?"]) == {"inconclusive"} and set(claims.VERDICTS) >= set(table["agrees?"])
    assert table["note"].str.contains("only 2 seed|needs", regex=True).all()
    # the committed calibration never lets 2 seeds decide either
    table = claims.claims_table(df, ["C2", "C4a"], seed=0, n_boot=5, n_draws=500, signal=claims.UNGATED)
    assert set(table["agrees?"]) == {"inconclusive"}


def test_planted_effects_are_recovered_with_enough_runs():
    df = synthetic_results(["dsprites"], seed=0, seeds=6, values_per_method=4)
    table = claims.claims_table(df, ["C2", "C3a", "C4a", "C9_same_different", "C10"], seed=0, n_boot=25,
                                min_runs=5, n_draws=1000, gate=SMALL_GATE, signal=claims.UNGATED).set_index("claim")
    assert table.loc["C2", "agrees?"] == "agrees"          # planted: sampled TC falls with strength
    assert table.loc["C3a", "agrees?"] == "agrees"         # planted: mean TC rises
    assert table.loc["C4a", "agrees?"] == "agrees"         # planted: scores share a latent
    assert table.loc["C2", "ci_lo"] <= table.loc["C2", "estimate"] <= table.loc["C2", "ci_hi"]
    # one dataset: cross-dataset claims cannot be decided
    assert table.loc["C9_same_different", "agrees?"] == "inconclusive"
    assert "2 datasets" in table.loc["C9_same_different", "note"]
    assert table.loc["C10", "note"] == "needs dSprites and Color-dSprites"


def test_noise_does_not_agree_with_the_tc_trend():
    df = synthetic_results(["dsprites"], ["beta_vae", "beta_tc_vae"], 6, 6, seed=1, effect="noise")
    table = claims.claims_table(df, ["C2"], seed=0, n_boot=25, gate=SMALL_GATE).set_index("claim")
    assert table.loc["C2", "agrees?"] != "agrees"


def test_unknown_claim_is_rejected():
    df = synthetic_results(["dsprites"], seed=0, seeds=2, values_per_method=2)
    with pytest.raises(KeyError, match="C99"):
        claims.claims_table(df, ["C99"], seed=0)


def test_scale_note_states_runs_per_cell():
    df = synthetic_results(["dsprites", "cars3d"], ["beta_vae", "factor_vae"], 3, 2, seed=0, steps=2000,
                           dataset_source="procedural")
    note = claims.scale_note(df)
    assert "dSprites (procedural): 2 methods × 3 values × 2 seeds = 12 runs, 2k steps" in note
    assert "Cars3D (procedural)" in note


def test_rendering_without_tabulate():
    df = synthetic_results(["dsprites"], seed=0, seeds=2, values_per_method=2)
    table = claims.claims_table(df, ["C2", "C5a"], seed=0, n_boot=3)
    md = to_markdown(table[["claim", "paper", "this run", "agrees?", "estimate"]])
    lines = md.strip().splitlines()
    assert lines[0] == "| claim | paper | this run | agrees? | estimate |"
    assert len(lines) == 4 and "inconclusive" in md
    html = styled(table[["claim", "agrees?"]], caption="scale").to_html()
    assert "#e2e3e5" in html and "scale" in html
    assert "n/a" in to_markdown(table.assign(estimate=np.nan)[["estimate"]])


@pytest.mark.parametrize("requires, methods, message", [
    (Requires(methods=2), (), "needs ≥ 2 methods"),
    (Requires(datasets=2), (), "needs ≥ 2 datasets"),
    (Requires(values=4), (), "needs ≥ 4 strength values per method"),
    (Requires(all_datasets=("dsprites", "shapes3d")), (), "needs dSprites and Shapes3D"),
    (Requires(), ("dip_vae_i",), "needs one of dip_vae_i"),
    (Requires(), ("beta_vae",), "fewer than 5 strength values per method"),
    (Requires(dsprites_variant=True), (), None),
])
def test_a_claims_declared_requirements_decide_whether_the_table_can_answer_it(monkeypatch, requires, methods,
                                                                               message):
    claim = Claim("C99", "04_metric_agreement", "", "", "", "", Expectation("direction", 0.0, ">"),
                  lambda t, claim: 0.0, methods=methods, requires=requires)
    monkeypatch.setitem(CLAIMS, "C99", claim)
    df = synthetic_results(["dsprites"], ["beta_vae"], seed=0, seeds=2, values_per_method=3)
    assert claims.structural_requirement("C99", df, min_levels=5) == message
