"""No function in src/ is longer than 80 lines unless its docstring says why (a line starting
"Long because:"); the check is ``benchmarks/function_lengths.py``."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("function_lengths", ROOT / "benchmarks" / "function_lengths.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_function_over_80_lines_in_src_says_why():
    script = _script()
    unexplained = [f.format(ROOT) for f in script.long_functions(ROOT / "src", 80) if f.reason is None]
    assert unexplained == []


def test_the_scan_measures_functions_and_reads_the_marker(tmp_path):
    script = _script()
    body = "\n".join(f"    x{i} = {i}" for i in range(85))
    (tmp_path / "m.py").write_text(
        f'def short():\n    return 1\n\n\ndef long_plain():\n{body}\n\n\n'
        f'class C:\n    def long_explained(self):\n        """Does a lot.\n\n        Long because: one table.\n        """\n'
        + "\n".join(f"        y{i} = {i}" for i in range(85)) + "\n")
    found = {f.name: f for f in script.long_functions(tmp_path, 80)}
    assert set(found) == {"long_plain", "long_explained"}
    assert found["long_plain"].length == 86 and found["long_plain"].reason is None
    assert found["long_explained"].reason == "Long because: one table."
    assert script.main(["--root", str(tmp_path)]) == 1
    assert script.main(["--root", str(tmp_path), "--max-lines", "100"]) == 0
