"""Which functions in ``src/`` are long, and do their docstrings say why?

    python benchmarks/function_lengths.py [--max-lines 80] [--root src] [--all]

Lists every function (methods and nested functions included) longer than ``--max-lines``
lines, from its ``def`` (decorators excluded) to its last line, with ``file:line``, its
length and whether its docstring explains the length: a docstring line starting with
:data:`MARKER` ("Long because:"). Exits 1 when a long function has no such line
(``tests/test_function_lengths.py`` runs this check).
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

#: a docstring line starting with this (after indentation) explains why a function is long
MARKER = "Long because:"
DEFAULT_MAX_LINES = 80
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LongFunction:
    path: Path
    line: int
    name: str
    length: int
    reason: str | None  #: the docstring's "Long because:" line, if any

    def format(self, root: Path) -> str:
        where = f"{self.path.relative_to(root) if self.path.is_relative_to(root) else self.path}:{self.line}"
        why = f"explained ({self.reason})" if self.reason else "UNEXPLAINED"
        return f"{where}  {self.name}  {self.length} lines  {why}"


def _reason(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    doc = ast.get_docstring(node) or ""
    for line in doc.splitlines():
        if line.strip().startswith(MARKER):
            return line.strip()
    return None


def long_functions(source_root: Path, max_lines: int = DEFAULT_MAX_LINES) -> list[LongFunction]:
    """Every function under ``source_root`` longer than ``max_lines`` lines, in file order."""
    found = []
    for path in sorted(source_root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > max_lines:
                    found.append(LongFunction(path, node.lineno, node.name, length, _reason(node)))
    return sorted(found, key=lambda f: (str(f.path), f.line))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-lines", type=int, default=DEFAULT_MAX_LINES)
    parser.add_argument("--root", type=Path, default=ROOT / "src")
    args = parser.parse_args(argv)
    found = long_functions(args.root, args.max_lines)
    for f in found:
        print(f.format(ROOT))
    unexplained = [f for f in found if f.reason is None]
    print(f"{len(found)} function(s) over {args.max_lines} lines in {args.root}, "
          f"{len(unexplained)} without a '{MARKER}' line in the docstring")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
