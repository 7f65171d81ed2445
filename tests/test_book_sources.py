"""The book's sources as readers meet them: code fits the page, setup is collapsed, citations
point at the paper and the book, never at files beside the repository."""

import json
import re
from pathlib import Path

import pytest

from disentangle import params

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
#: files that ship beside the repository (the project's spec), not with the book
OUTSIDE_FILES = re.compile(r"\b(paper|study|datasets|landscape|toolchain)\.md\b|\.\./shared\b|/work/" "shared")
MAX_COLUMNS = 88
HIDDEN_INPUT = {"hide-input", "hide-cell", "remove-input", "remove-cell"}


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_every_toc_chapter_is_a_notebook():
    assert [p.stem for p in NOTEBOOKS] == sorted(params.toc_chapters(ROOT))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_cells_fit_88_columns(path):
    too_long = [(i, line) for i, cell in enumerate(_cells(path)) if cell["cell_type"] == "code"
                and "remove-cell" not in cell["metadata"].get("tags", [])
                for line in _source(cell).splitlines() if len(line) > MAX_COLUMNS]
    assert not too_long, f"{path.name}: code lines over {MAX_COLUMNS} columns (cell, line): {too_long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_and_import_cells_are_collapsed(path):
    shown = [i for i, cell in enumerate(_cells(path)) if cell["cell_type"] == "code"
             and re.search(r"^(import|from) \S+", _source(cell), re.M)
             and not HIDDEN_INPUT & set(cell["metadata"].get("tags", []))]
    assert not shown, f"{path.name}: import cells {shown} are shown expanded; tag them hide-input"


@pytest.mark.parametrize("path", [*NOTEBOOKS, ROOT / "book" / "intro.md"], ids=lambda p: p.name)
def test_no_citation_of_files_beside_the_repository(path):
    text = path.read_text(encoding="utf-8")
    found = sorted({m.group(0) for m in OUTSIDE_FILES.finditer(text)})
    assert not found, f"{path.name} cites {found}: cite the paper (section, figure, table) or a book page"
