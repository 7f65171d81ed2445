"""Every citation resolves from a clone: no line in src/, tests/, benchmarks/ or book/ names a
document the repository does not contain (the project's former spec files, or the folder beside
the checkout that held them). Cite the paper by section, figure or table, the reference
implementation by file and function, or ``book/design.md`` by heading (its section
"Where the code cites its sources")."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("src", "tests", "benchmarks", "book")
SKIPPED_DIRS = {"_build", "__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
#: documents that lived beside the repository, never in it (spelt in pieces so this file passes)
OUTSIDE_DOCS = ("study", "paper", "datasets", "toolchain", "landscape")
OUTSIDE = re.compile(r"\b(" + "|".join(OUTSIDE_DOCS) + r")\.md\b" + r"|\.\./shared\b|/work/" "shared")


def outside_citations(text: str) -> list[tuple[int, str]]:
    """(line number, line) of each line of ``text`` that names a document outside the repository."""
    return [(n, line) for n, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]


def _text_files():
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if not path.is_file() or SKIPPED_DIRS & set(path.relative_to(ROOT).parts):
                continue
            data = path.read_bytes()
            if b"\0" in data:
                continue
            try:
                yield path, data.decode("utf-8")
            except UnicodeDecodeError:
                continue


def test_no_line_cites_a_document_outside_the_repository():
    hits = [f"{path.relative_to(ROOT)}:{n}: {line.strip()[:120]}"
            for path, text in _text_files() for n, line in outside_citations(text)]
    assert not hits, "citations of documents the repository does not contain:\n" + "\n".join(hits)


def test_the_scan_covers_every_scanned_folder():
    seen = {path.relative_to(ROOT).parts[0] for path, _ in _text_files()}
    assert seen == set(SCANNED)


@pytest.mark.parametrize("line", [
    "BetaVAE score (" + "study" + ".md §5.1)",
    "claims (" + "paper" + ".md §4, C2–C12)",
    "# " + "datasets" + ".md §1.4",
    "see " + "toolchain" + ".md: two 1-thread streams",
    "(" + "landscape" + ".md)",
    "open('../" + "shared/spec/x')",
])
def test_fault_injection_an_outside_citation_is_caught(line, tmp_path, monkeypatch):
    """The check can fail: a line naming an outside document, written into a scanned folder."""
    assert outside_citations(f"fine\n{line}\n") == [(2, line)]
    fake = tmp_path / "src"
    fake.mkdir()
    (fake / "injected.py").write_text(f'"""{line}"""\n', encoding="utf-8")
    for top in SCANNED[1:]:
        (tmp_path / top).mkdir()
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    with pytest.raises(AssertionError, match="injected.py:1"):
        test_no_line_cites_a_document_outside_the_repository()


@pytest.mark.parametrize("line", [
    'book/design.md, "Procedural datasets"',
    "paper §5.2, Figs 2, 11, 12",
    "`evaluation/metrics/mig.py: compute_mig`",
    "the paper's study (`params/paper.yaml`)",
])
def test_resolvable_citations_pass(line):
    assert outside_citations(line) == []
