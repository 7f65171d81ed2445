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

from disentangle import params

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
    assert imgs, f"{chapter} has no figures"
    for img in imgs:
        src = img["src"]
        assert src.startswith("data:image") or (HTML / "book" / src).resolve().is_file(), f"missing image {src}"


def test_intro_states_the_scale():
    text = BeautifulSoup((HTML / "book" / "intro.html").read_text(encoding="utf-8"), "html.parser").get_text(" ")
    text = " ".join(text.split())
    assert "Scale of this build" in text and "(scale ci )" in text and "params/ci.yaml" in text
