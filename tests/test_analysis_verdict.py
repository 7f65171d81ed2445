"""The "Does it reproduce?" page: one row per claim, computed exactly as the chapters compute them."""

import ast
import inspect
import json
import shutil
from pathlib import Path

import pytest
import yaml

from disentangle import params, theory
from disentangle.analysis import claims, verdict
from disentangle.analysis.paper_claims import CLAIMS, Claim, claim_chapters
from disentangle.analysis.paper_values import Expectation
from disentangle.vocabulary import paper_methods
from disentangle.analysis.signal import signal_table
from disentangle.analysis.synthetic import synthetic_controls, synthetic_results
from disentangle.study.columns import SCORES
from disentangle.study.results import CONTROLS_CSV, load_controls

ROOT = Path(__file__).resolve().parents[1]


def _code_cells(chapter: str) -> list[str]:
    nb = json.loads((ROOT / "book" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"
            and "parameters" not in c["metadata"].get("tags", [])]


def _claims_call(chapter: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The chapter name and keyword arguments of the chapter's ``claims.chapter_claims(...)`` call, and
    the names the call's cell assigns (name → source)."""
    for source in _code_cells(chapter):
        tree = ast.parse(source)
        assigned = {n.targets[0].id: n.value for n in tree.body
                    if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "claims.chapter_claims":
                return (ast.literal_eval(node.args[0]), {k.arg: ast.unparse(k.value) for k in node.keywords},
                        {name: ast.unparse(value) for name, value in assigned.items()})
    raise AssertionError(f"{chapter}: no claims.chapter_claims call")


def test_every_claim_is_decided_in_exactly_one_chapter():
    ids = [cid for chapter_ids in claim_chapters().values() for cid in chapter_ids]
    assert sorted(ids) == sorted(CLAIMS) and len(ids) == len(set(ids))
    assert set(claim_chapters()) <= set(params.toc_chapters(ROOT)), "every claim's chapter is a page of the book"


@pytest.mark.parametrize("chapter", list(claim_chapters()))
def test_the_page_calls_the_chapters_claims_as_the_chapter_does(chapter):
    name, keywords, assigned = _claims_call(chapter)
    declared = params.notebook_parameters(ROOT / "book" / f"{chapter}.ipynb")
    expected = {name: name for name in claims.CHAPTER_PARAMETERS if name in declared}
    expected["signal"] = "signal"
    assert name == chapter, f"{chapter} shows the claims of {name}"
    assert keywords == expected, f"{chapter} passes {keywords}; the verdict page would pass {expected}"
    assert assigned["signal"] == verdict.SIGNAL_CALL, f"{chapter} reads its signal table otherwise"


def test_no_notebook_names_a_claim_in_its_code():
    """The chapters find their claims by their own name (``chapter_claims``), never by a list of ids."""
    for nb in sorted((ROOT / "book").glob("*.ipynb")):
        for source in _code_cells(nb.stem):
            named = {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant)} & set(CLAIMS)
            assert not named, f"{nb.name} names claim(s) {sorted(named)} in a code cell"


def test_theorem_checks_draw_in_chapter_1s_order():
    """Every call that consumes chapter 1's generator, in order, is the same in theorem_checks."""
    def rng_calls(source: str) -> list[str]:
        calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)
                 and any(isinstance(a, ast.Name) and a.id == "rng" for a in n.args)]
        calls.sort(key=lambda n: (n.lineno, n.col_offset))
        return [ast.unparse(c).removeprefix("theory.") for c in calls]

    chapter = [call for source in _code_cells(verdict.THEOREM_CHAPTER) for call in rng_calls(source)]
    chapter = chapter[:chapter.index(next(c for c in chapter if c.startswith("metric_flip"))) + 1]
    ours = rng_calls(inspect.getsource(theory.theorem_checks))
    assert ours == chapter and len(ours) == 3
    declared = params.notebook_parameters(ROOT / "book" / f"{verdict.THEOREM_CHAPTER}.ipynb")
    assert set(inspect.signature(theory.theorem_checks).parameters) <= set(declared) | {"seed"}


def test_chapter_parameters_are_notebook_defaults_under_the_params_file():
    ci = params.load(ROOT / "params" / "ci.yaml")
    assert verdict.claims_parameters(ci, "05_seeds_and_selection") == {"seed": 0, "n_boot": 30,
                                                                      "transfer_draws": 2000}
    args = verdict.claims_arguments(ci, "03_mean_vs_sampled")
    assert args == {"seed": 0, "n_boot": 50, "min_levels": 3}  # n_boot from ci.yaml, rest defaults
    assert verdict.claims_arguments(ci, "05_seeds_and_selection")["n_draws"] == 2000
    assert "min_levels" not in verdict.claims_arguments(ci, "04_metric_agreement")


@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("verdict")
    shutil.copytree(ROOT / "book", tmp / "book")  # the chapters' notebooks hold their parameters' defaults
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, tmp / name)
    # the default book's design: the smallest the claims gate is calibrated at
    df = synthetic_results(("dsprites", "color_dsprites"), paper_methods(), 3, 3, seed=0, downstream_sizes=(10, 100))
    df.to_parquet(tmp / "results.parquet")
    # the twins score lower (signal) on every score but SAP, whose twins are exchangeable (no signal)
    controls = synthetic_controls(df, seed=0, twin_shift=3.0)
    twins = controls["control"] == "rotated"
    controls.loc[twins, SCORES["SAP"]] = controls.loc[controls["control"] == "standardised", SCORES["SAP"]].to_numpy()
    controls.to_csv(tmp / CONTROLS_CSV, index=False)
    data = yaml.safe_load((ROOT / "params" / "ci.yaml").read_text())
    data["shared"]["results_dir"] = str(tmp)
    data["chapters"] = {
        "01_impossibility": {"dims": 2, "n_samples": 2000, "n_jacobian": 50, "n_metric_train": 500,
                             "n_metric_test": 200},
        "03_mean_vs_sampled": {"n_boot": 10}, "04_metric_agreement": {"n_boot": 10},
        "05_seeds_and_selection": {"n_boot": 10, "transfer_draws": 200}, "06_downstream": {"n_boot": 10},
    }
    path = tmp / "small.yaml"
    path.write_text(yaml.safe_dump(data))
    p = params.load(path)
    return p, df, verdict.verdict_table(p)


def test_verdict_table_has_one_row_per_claim(small_book):
    _, _, table = small_book
    assert list(table["claim"]) == ["C1", *CLAIMS]
    assert list(table.columns) == verdict.COLUMNS
    assert set(table["verdict"]) <= {"agrees", "disagrees", "inconclusive"}
    assert table.set_index("claim").loc["C1", "chapter"] == "01_impossibility"


def test_verdict_rows_equal_the_chapters_tables(small_book):
    """The numbers the chapters print, with the arguments written out as the notebooks pass them."""
    p, df, table = small_book
    rows = table.set_index("claim")
    signal = signal_table(load_controls(verdict.chapter_results(p, "05_seeds_and_selection").parent))
    expected = {
        "03_mean_vs_sampled": claims.claims_table(df, ["C2", "C3a", "C3b"], seed=0, n_boot=10,
                                                  min_levels=3, signal=signal),
        "05_seeds_and_selection": claims.claims_table(df, ["C5a", "C5b", "C6", "C7", "C8", "C9_same_same",
                                                           "C9_same_different", "C9_different_same",
                                                           "C9_different_different", "C10"],
                                                      seed=0, n_boot=10, n_draws=200, signal=signal),
    }
    for chapter, chapter_table in expected.items():
        for row in chapter_table.to_dict("records"):
            assert rows.loc[row["claim"], "this build"] == row["this run"], row["claim"]
            assert rows.loc[row["claim"], "verdict"] == row["agrees?"]
            assert rows.loc[row["claim"], "chapter"] == chapter
    assert (rows["verdict"] != "inconclusive").sum() >= 2, "the calibrated design decides some claims"


def test_c1_row_summarises_chapter_1s_table(small_book):
    p, _, table = small_book
    c1 = theory.claims_c1(theory.theorem_checks(dims=2, alpha=0.3, marginals=["uniform", "exponential"],
                                                n_samples=2000, n_jacobian=50, hist_bins=10, n_metric_train=500,
                                                n_metric_test=200, factor_bins=10, factor_binning="width", seed=0))
    row = table.set_index("claim").loc["C1"]
    assert row["this build"].startswith(f"{int(c1['agrees?'].sum())} of {len(c1)} checks pass")
    assert c1["this run"].iloc[-1] in row["this build"]
    assert row["verdict"] == ("agrees" if c1["agrees?"].all() else "disagrees")


def test_headline_counts():
    import pandas as pd

    table = pd.DataFrame({"verdict": ["agrees", "agrees", "disagrees", "inconclusive", "inconclusive"]})
    text = verdict.headline(table, "default")
    assert "scale **default**" in text
    assert "tested 5 claims" in text and "decided 3: 2 agree with the paper and 1 disagrees" in text
    assert "the other 2 are inconclusive" in text


def test_view_links_each_claim_to_its_chapter(small_book):
    p, _, table = small_book
    html = verdict.verdict_view(table, p.root).data
    assert html.count("<tr>") == 1 + len(table)
    assert '<a href="03_mean_vs_sampled.html" title="3. Mean vs sampled representation">ch. 3</a>' in html


def test_gated_claims_name_the_scores_with_signal(small_book):
    _, _, table = small_book
    rows = table.set_index("claim")
    assert "BetaVAE, FactorVAE, MIG, DCI, Modularity (dSprites, Color-dSprites)" in rows.loc["C5a", "note"]
    assert "signal" not in rows.loc["C2", "note"]


def test_the_page_shows_the_signal_table(small_book):
    p, _, _ = small_book
    html = verdict.signal_section(p).data
    assert "Wilson" in html and "rotated twin" in html
    assert "dSprites" in html and "Color-dSprites" in html and html.count("✗ no signal") == 2
    assert "10 of 12 (dataset, score) cells have signal" in html


def test_the_page_says_when_there_are_no_controls(small_book, tmp_path):
    p, _, _ = small_book
    folder = verdict.chapter_results(p, "04_metric_agreement").parent
    (folder / CONTROLS_CSV).rename(tmp_path / CONTROLS_CSV)
    try:
        html = verdict.signal_section(p).data
        assert "No controls in this study" in html
        assert verdict.chapter_signal(p, "04_metric_agreement").empty
    finally:
        (tmp_path / CONTROLS_CSV).rename(folder / CONTROLS_CSV)


@pytest.fixture
def toy_claim(monkeypatch):
    """A claim registered for one test only (one declaration, as README "Extending the study" says):
    the mean MIG over runs, decided in chapter 4."""
    claim = Claim("C99", "04_metric_agreement", "§5.2 (a test's claim)", "MIG is positive on average.",
                  "not in the paper", "mean MIG over runs", Expectation("direction", 0.0, ">"),
                  lambda t, claim: float(t.df[SCORES["MIG"]].mean()), scores=("MIG",), bounds=(0.0, 1.0))
    monkeypatch.setitem(CLAIMS, claim.id, claim)
    return claim


def test_a_claim_declared_once_reaches_its_chapter_and_the_page(small_book, toy_claim):
    p, df, _ = small_book
    signal = verdict.chapter_signal(p, "04_metric_agreement")
    table = claims.chapter_claims("04_metric_agreement", df, seed=0, n_boot=10, signal=signal).set_index("claim")
    assert list(table.index) == ["C4a", "C4b", "C4c", "C99"]
    row = table.loc["C99"]
    assert row["estimate"] == pytest.approx(df[SCORES["MIG"]].mean()) and row["statistic"] == "mean MIG over runs"
    assert "no calibrated design" in row["note"], "a claim the calibration has not seen is not decided"
    page = verdict.verdict_table(p).set_index("claim")
    assert list(page.index) == ["C1", *CLAIMS] and page.index[-1] == "C99"
    assert page.loc["C99", "chapter"] == "04_metric_agreement"
    assert page.loc["C99", "this build"] == row["this run"] and page.loc["C99", "verdict"] == row["agrees?"]
    assert verdict.arguments_table(p).loc["04_metric_agreement", "claims"] == "C4a, C4b, C4c, C99"
    assert "C99" not in claims.chapter_claims("06_downstream", df, seed=0, n_boot=10, signal=signal)["claim"].tolist()


def test_a_chapter_without_claims_is_an_error(small_book):
    _, df, _ = small_book
    with pytest.raises(KeyError, match="no claim is decided in chapter '02_training'"):
        claims.chapter_claims("02_training", df, seed=0, n_boot=10, signal=None)
