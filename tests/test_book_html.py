"""The built ci book: a page per chapter, figures embedded, no error output.

Runs in `make nbval` after `python -m disentangle book --params params/ci.yaml`
(DISENTANGLE_REQUIRE_BUILD=1; a missing build is a failure). Skipped in the unit
pass: the build found there may be any scale's (e.g. `make book`'s default one).
"""

import os
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from disentangle import book, params

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"

if os.environ.get("DISENTANGLE_REQUIRE_BUILD") != "1":
    pytest.skip("checks the ci book built by `make test` (DISENTANGLE_REQUIRE_BUILD=1)", allow_module_level=True)
if not (HTML / "index.html").is_file():
    raise RuntimeError(f"no built book at {HTML}: run `python -m disentangle book --params params/ci.yaml`")

CI = params.load(ROOT / "params" / "ci.yaml")


def _page(chapter: str) -> BeautifulSoup:
    path = HTML / "book" / f"{chapter}.html"
    assert path.is_file(), f"no page for {chapter}"
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@pytest.mark.parametrize("chapter", params.toc_chapters(ROOT))
def test_every_toc_chapter_has_a_page(chapter):
    _page(chapter)


@pytest.mark.parametrize("chapter", [c for c in params.toc_chapters(ROOT) if c in CI.chapters])
def test_executed_chapter_pages(chapter):
    soup = _page(chapter)
    text = soup.get_text(" ")
    assert "not executed with" not in text, f"{chapter} rendered as a placeholder"
    assert "Traceback (most recent call last)" not in text
    assert not soup.select(".output.traceback, .output.error, div.output_error")
    for err in soup.select(".output.stderr, .cell_output .stderr"):
        assert not re.search(r"\b\w*Error\b", err.get_text()), f"{chapter}: error in stderr output: {err.get_text()[:200]}"
    imgs = soup.select(".cell_output img")
    assert imgs or chapter in book.SUMMARY_PAGES, f"{chapter} has no figures"
    for img in imgs:
        src = img["src"]
        assert src.startswith("data:image") or (HTML / "book" / src).resolve().is_file(), f"missing image {src}"


def test_intro_states_the_scale():
    text = BeautifulSoup((HTML / "book" / "intro.html").read_text(encoding="utf-8"), "html.parser").get_text(" ")
    text = " ".join(text.split())
    assert "Scale of this build" in text and "(scale ci )" in text and "params/ci.yaml" in text


# --------------------------------------------------------------------------- offline, no dead links

PAGES = sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts)
#: the only places outside the site a link may lead: the paper, the datasets' homes, the libraries used
ALLOWED_EXTERNAL = (
    "https://arxiv.org/abs/1811.12359", "https://arxiv.org/pdf/1811.12359", "https://proceedings.mlr.press/v97/",
    "https://github.com/deepmind/dsprites-dataset", "https://github.com/google-deepmind/dsprites-dataset",
    "https://github.com/deepmind/3d-shapes", "https://github.com/google-deepmind/3d-shapes",
    "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small", "http://www.scottreed.info",
    "https://github.com/rr-learning/disentanglement_dataset", "https://github.com/google-research/disentanglement_lib",
    "https://papermill.readthedocs.io", "https://jupyterbook.org", "https://pytorch.org", "https://numpy.org",
    "https://docs.scipy.org", "https://scikit-learn.org", "https://pandas.pydata.org", "https://matplotlib.org",
    "https://seaborn.pydata.org", "https://www.sphinx-doc.org", "https://www.mathjax.org",
)
EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|//)", re.I)


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _references(soup: BeautifulSoup):
    for tag in soup.find_all(["a", "link", "script", "img", "iframe", "source", "embed"]):
        for attr in ("href", "src"):
            if tag.get(attr):
                yield tag, tag[attr]


def test_pages_found():
    names = {p.relative_to(HTML).as_posix() for p in PAGES}
    assert {"index.html", "book/intro.html", "book/00_verdict.html"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(HTML).as_posix())
def test_no_script_or_style_from_outside_the_site(page):
    outside = [url for tag, url in _references(_soup(page))
               if tag.name != "a" and EXTERNAL.match(url) and not url.startswith("data:")]
    assert not outside, f"{page.name} loads {outside} from outside the site (it must work offline)"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(HTML).as_posix())
def test_external_links_only_to_the_paper_datasets_and_libraries(page):
    links = [url for tag, url in _references(_soup(page)) if tag.name == "a" and EXTERNAL.match(url)
             and not url.startswith(("mailto:", "javascript:"))]
    bare_md = [u for u in links if re.match(r"^https?://[^/]*\.md/?$", u, re.I)]
    assert not bare_md, f"{page.name}: links to files beside the repository rendered as {bare_md}"
    other = [u for u in links if not u.startswith(ALLOWED_EXTERNAL)]
    assert not other, f"{page.name}: links outside the site that are not the paper, a dataset or a library: {other}"
    assert not re.search(r"\b(paper|study|datasets)\.md\b", page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(HTML).as_posix())
def test_local_links_resolve(page):
    soup = _soup(page)
    missing = []
    for tag, url in _references(soup):
        if EXTERNAL.match(url):
            continue
        target, _, fragment = url.partition("#")
        target = target.split("?", 1)[0]
        path = (page.parent / target).resolve() if target else page
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            missing.append(url)
        elif fragment and path.suffix == ".html" and tag.name == "a":
            ids = {t["id"] for t in _soup(path).find_all(id=True)} if path != page else \
                {t["id"] for t in soup.find_all(id=True)}
            if fragment not in ids:
                missing.append(url)
    assert not missing, f"{page.name}: links to missing local targets {missing}"


def test_math_is_typeset_by_the_sites_own_mathjax():
    scripts = [s["src"] for s in _page("01_impossibility").find_all("script", src=True) if "mathjax" in s["src"].lower()]
    assert scripts and all(not EXTERNAL.match(s) for s in scripts), scripts
    assert all((HTML / "book" / s).resolve().is_file() for s in scripts)


# --------------------------------------------------------------------------- the verdict page

def _claims_rows(table) -> dict[str, dict[str, str]]:
    heads = [th.get_text(" ", strip=True) for th in table.find("thead").find_all("th")]
    rows = {}
    for tr in table.find("tbody").find_all("tr"):
        cells = [c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])]
        row = dict(zip(heads[-len(cells):], cells))
        rows[row["claim"]] = row
    return rows


def test_verdict_page_has_one_row_per_claim_and_leads_with_the_count():
    from disentangle.analysis.paper_claims import CLAIMS

    soup = _page("00_verdict")
    rows = soup.select("table.verdicts tbody tr")
    claims = [r.find("td").find("b").get_text().replace("\u200b", "") for r in rows]
    assert claims == ["C1", *CLAIMS]
    verdicts = [r.find_all("td")[3].get_text(" ", strip=True).split()[0] for r in rows]
    first = soup.select_one("main h1").find_next("p").get_text(" ", strip=True)
    decided = sum(v != "inconclusive" for v in verdicts)
    assert f"(scale ci ) tested {len(rows)} claims" in first, first
    assert f"decided {decided}: {verdicts.count('agrees')} agree" in first, first
    assert soup.select_one("main h1").get_text(strip=True).startswith("Does it reproduce?")
    toc = [a.get_text(strip=True) for a in _soup(HTML / "book" / "intro.html").select("nav.bd-links a")]
    assert toc[:2] == [toc[0], "Does it reproduce?"] and toc[0].startswith("Challenging"), \
        f"the verdict page comes right after the intro: {toc}"


def test_verdict_page_numbers_equal_the_chapters():
    from disentangle.analysis.paper_claims import claim_chapters
    from disentangle.analysis.verdict import THEOREM_CHAPTER

    rows = {}
    for r in _page("00_verdict").select("table.verdicts tbody tr"):
        cells = r.find_all("td")
        rows[cells[0].find("b").get_text()] = {
            "chapter": cells[0].find("a")["href"], "this build": cells[2].get_text(" ", strip=True),
            "verdict": cells[3].get_text(" ", strip=True)}
    for chapter, ids in claim_chapters().items():
        table = _claims_rows(_page(chapter).find("table", id="T_claims"))
        for cid in ids:
            assert rows[cid]["chapter"] == f"{chapter}.html"
            assert rows[cid]["this build"] == table[cid]["this run"], cid
            assert rows[cid]["verdict"].startswith(table[cid]["agrees?"]), cid
    c1 = next(t for t in _page(THEOREM_CHAPTER).select("table.dataframe") if "agrees?" in t.get_text())
    agrees = [tr.find_all("td")[-1].get_text(strip=True) for tr in c1.find("tbody").find_all("tr")]
    flip = c1.find("tbody").find_all("tr")[-1].find_all("td")[-2].get_text(" ", strip=True)
    assert rows["C1"]["this build"].startswith(f"{agrees.count('True')} of {len(agrees)} checks pass")
    assert flip in rows["C1"]["this build"]


# --------------------------------------------------------------------------- re-run boxes and downloads

def _downloads(soup: BeautifulSoup) -> dict[str, Path]:
    return {a.get_text(strip=True): (HTML / "book" / a["href"]).resolve() for a in soup.select("a.download")}


@pytest.mark.parametrize("chapter", [c for c in params.toc_chapters(ROOT) if c in CI.chapters])
def test_every_page_has_a_rerun_box_with_command_section_and_time(chapter):
    import json

    soup = _page(chapter)
    box = next(a for a in soup.select("div.admonition") if "Re-run this" in a.get_text())
    text = " ".join(box.get_text(" ").split())
    assert f"python -m disentangle book --params params/ci.yaml --only {chapter}" in text
    assert any(pre.get_text().startswith(f"{chapter}:") for pre in box.select("pre")), "the params section"
    seconds = json.loads((ROOT / "_build" / "executed" / "manifest.json").read_text())[chapter]["seconds"]
    assert re.search(r"took (\d+\.\d) (s|min|h) to execute", text), text
    if seconds < 90:
        assert f"took {seconds:.1f} s to execute" in text
    files = _downloads(box)
    assert "params/ci.yaml" in files and files["params/ci.yaml"].read_bytes() == (ROOT / "params" / "ci.yaml").read_bytes()


def test_results_and_params_downloads_resolve():
    import pandas as pd

    files = _downloads(_soup(HTML / "book" / "intro.html"))
    assert set(files) == {"params/ci.yaml", "results.csv"}, files
    assert files["params/ci.yaml"].read_bytes() == (ROOT / "params" / "ci.yaml").read_bytes()
    csv = pd.read_csv(files["results.csv"])
    parquet = pd.read_parquet(Path(CI.shared["results_dir"]) / "results.parquet")
    assert csv.shape == parquet.shape and list(csv.columns) == list(parquet.columns)
    assert csv["model_num"].tolist() == parquet["model_num"].tolist()
    for chapter in ("03_mean_vs_sampled", "00_verdict"):
        assert _downloads(_page(chapter))["results.csv"] == files["results.csv"]


@pytest.mark.parametrize("chapter", [c for c in params.toc_chapters(ROOT) if c in CI.chapters])
def test_rendered_code_fits_88_columns(chapter):
    soup = _page(chapter)
    long = [line for cell in soup.select("div.cell") if "tag_injected-parameters" not in cell["class"]
            for pre in cell.select("div.cell_input pre") for line in pre.get_text().splitlines() if len(line) > 88]
    assert not long, f"{chapter}: code lines over 88 columns: {long}"
