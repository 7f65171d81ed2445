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
from disentangle.analysis.paper_values import CLAIMS
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


def _claims_call(chapter: str) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """The claim ids and keyword arguments of the chapter's ``claims.claims_table(...)`` call, and the
    names the call's cell assigns (name → source)."""
    for source in _code_cells(chapter):
        tree = ast.parse(source)
        assigned = {n.targets[0].id: n.value for n in tree.body
                    if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "claims.claims_table":
                ids = node.args[1]
                ids = assigned[ids.id] if isinstance(ids, ast.Name) else ids
                return (ast.literal_eval(ids), {k.arg: ast.unparse(k.value) for k in node.keywords},
                        {name: ast.unparse(value) for name, value in assigned.items()})
    raise AssertionError(f"{chapter}: no claims.claims_table call")


def test_every_claim_is_decided_in_exactly_one_chapter():
    ids = [cid for chapter_ids in verdict.CHAPTER_CLAIMS.values() for cid in chapter_ids]
    assert sorted(ids) == sorted(CLAIMS) and len(ids) == len(set(ids))


@pytest.mark.parametrize("chapter", list(verdict.CHAPTER_CLAIMS))
def test_the_page_calls_claims_table_as_the_chapter_does(chapter):
    ids, keywords, assigned = _claims_call(chapter)
    declared = params.notebook_parameters(ROOT / "book" / f"{chapter}.ipynb")
    expected = {kw: name for kw, name in verdict.CLAIMS_TABLE_ARGUMENTS.items() if name in declared}
    expected["signal"] = "signal"
    assert tuple(ids) == verdict.CHAPTER_CLAIMS[chapter]
    assert keywords == expected, f"{chapter} passes {keywords}; the verdict page would pass {expected}"
    assert assigned["signal"] == verdict.SIGNAL_CALL, f"{chapter} reads its signal table otherwise"


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
        "05_seeds_and_selection": claims.claims_table(df, list(verdict.CHAPTER_CLAIMS["05_seeds_and_selection"]),
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
