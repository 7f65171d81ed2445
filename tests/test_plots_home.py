"""Figures have one home, ``disentangle.analysis.plots``: no other module of the package
draws (imports matplotlib or seaborn), and no module imports another's private names."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "disentangle"
HOME = PACKAGE / "analysis" / "plots"
DRAWING = ("matplotlib", "seaborn")


def _imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    return [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, (ast.Import, ast.ImportFrom))]


def drawing_imports(path: Path) -> list[str]:
    """The matplotlib/seaborn modules ``path`` imports (at any depth, lazily or not)."""
    names = []
    for node in _imports(path):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif node.level == 0 and node.module:
            names.append(node.module)
    return sorted({n for n in names if n.split(".")[0] in DRAWING})


def private_imports(path: Path) -> list[str]:
    """``module.name`` for every private name ``path`` imports from the package."""
    return [f"{node.module}.{a.name}" for node in _imports(path) if isinstance(node, ast.ImportFrom)
            and (node.level > 0 or (node.module or "").split(".")[0] == "disentangle")
            for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def test_only_the_plots_home_draws():
    outside = [p for p in _modules() if HOME not in p.parents]
    drawing = {str(p.relative_to(PACKAGE)): drawing_imports(p) for p in outside}
    drawing = {k: v for k, v in drawing.items() if v}
    assert not drawing, f"figures belong in analysis/plots/; these modules draw: {drawing}"
    assert all(drawing_imports(p) for p in HOME.glob("[!_]*.py"))  # the home itself does


def test_no_module_imports_a_private_name_of_another():
    found = {str(p.relative_to(PACKAGE)): private_imports(p) for p in _modules()}
    found = {k: v for k, v in found.items() if v}
    assert not found, f"imports of private names (make them public or keep them local): {found}"


def test_the_checks_see_lazy_and_aliased_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from .plots import _palette, WIDTH\n\n\ndef f():\n"
                      "    import matplotlib.pyplot as plt\n    from seaborn import heatmap\n"
                      "    return plt.subplots()\n")
    assert drawing_imports(module) == ["matplotlib.pyplot", "seaborn"]
    assert private_imports(module) == ["plots._palette"]
