"""Did a change alter what the book computes? Compares two builds of the same params file.

    python benchmarks/compare_builds.py BEFORE AFTER [--scale ci]

BEFORE and AFTER are project folders (e.g. a ``git worktree`` of the old commit and this
checkout), each built with ``python -m disentangle book --params params/<scale>.yaml`` from an
empty ``_build``. Compared: every column of ``_build/study/<scale>/results.parquet`` except
timings and package versions (exactly, NaN = NaN), and every output of the executed notebooks
in ``_build/executed/`` (figures byte for byte; text after masking memory addresses, timings,
rates and paths). Prints SAME or DIFFERENT with the differences; exit code 0 / 1.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

#: columns that differ between any two runs of the same study (wall time, package versions)
NOT_COMPARED = re.compile(r"^(time\.|version\.)|elapsed_time$")
#: text that differs between any two executions of the same notebook
MASKS = [
    (re.compile(r"0x[0-9a-f]{6,}"), "0xADDR"),
    (re.compile(r"\d+(\.\d+)?\s*(s|min|ms|seconds)\b"), "T"),
    (re.compile(r"\d+:\d\d(:\d\d)?"), "T"),
    (re.compile(r"[\d.]+ models/hour"), "R models/hour"),
    (re.compile(r"(/[\w.-]+)+/_build/[\w./-]*"), "PATH"),
]


def compare_tables(before: Path, after: Path) -> list[str]:
    a, b = pd.read_parquet(before), pd.read_parquet(after)
    problems = [f"rows: {len(a)} vs {len(b)}"] if len(a) != len(b) else []
    missing, added = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if missing or added:
        problems.append(f"columns only before: {missing}; only after: {added}")
    compared = [c for c in a.columns if c in b.columns and not NOT_COMPARED.search(c)]
    for c in compared:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        try:
            same = len(x) == len(y) and np.array_equal(x, y, equal_nan=True)
        except TypeError:
            same = list(x) == list(y)
        if not same:
            problems.append(f"column {c}: {x[:4]} -> {y[:4]}")
    print(f"results table: {len(a)} rows, {len(compared)} columns compared (timings and versions skipped)")
    return problems


def _mask(text: str) -> str:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


def notebook_outputs(path: Path) -> list[tuple[str, str]]:
    out = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for o in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            if "text" in o:
                out.append(("stream", _mask("".join(o["text"]))))
            for mime, v in o.get("data", {}).items():
                v = "".join(v) if isinstance(v, list) else v
                out.append((mime, _mask(v) if mime.startswith("text") else v))
    return out


def compare_notebooks(before: Path, after: Path) -> list[str]:
    problems = []
    for nb in sorted(before.glob("*.ipynb")):
        other = after / nb.name
        if not other.is_file():
            problems.append(f"{nb.name}: missing in {after}")
            continue
        x, y = notebook_outputs(nb), notebook_outputs(other)
        diffs = [(i, p, q) for i, (p, q) in enumerate(zip(x, y)) if p != q]
        if len(x) != len(y) or diffs:
            problems.append(f"{nb.name}: {len(x)} vs {len(y)} outputs, {len(diffs)} differ")
            problems += [f"  output {i} ({p[0]}): {str(p[1])[:160]!r} -> {str(q[1])[:160]!r}" for i, p, q in diffs[:3]]
        else:
            print(f"{nb.name}: {len(x)} outputs identical")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path, help="project folder built before the change")
    ap.add_argument("after", type=Path, help="project folder built after the change")
    ap.add_argument("--scale", default="ci", help="the params scale both were built with (default: ci)")
    args = ap.parse_args(argv)
    table = Path("_build") / "study" / args.scale / "results.parquet"
    problems = compare_tables(args.before / table, args.after / table)
    problems += compare_notebooks(args.before / "_build" / "executed", args.after / "_build" / "executed")
    if problems:
        print("\n".join(problems))
    print("SAME" if not problems else "DIFFERENT")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
