"""The package's imports go down the floors and never in a circle (issue 16, DEVELOPERS.md).

Floors, bottom up: the vocabulary and plumbing; params; data, models and the
estimators; metrics and training; theory and the study; analysis; the book; the
command line. A module may import its own subpackage or any lower floor. Lazy
imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "disentangle"

FLOORS = {
    "vocabulary": 0, "io": 0, "devices": 0, "__init__": 0,
    "params": 1,
    "data": 2, "models": 2, "estimators": 2,
    "metrics": 3, "training": 3,
    "theory": 4, "study": 4,
    "analysis": 5,
    "book": 6,
    "__main__": 7, "results": 7,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level:
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("disentangle"):
        return []
    out = []
    for alias in node.names:  # ``from . import claims`` imports a submodule
        sub = f"{target}.{alias.name}"
        out.append(sub if sub in MODULES else target)
    return out


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                deps.update(_resolve(name, path.name == "__init__.py", node))
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("disentangle"))
        graph[name] = {d for d in deps if d in MODULES and d != name}
    return graph


def _component(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_has_a_floor():
    assert sorted({_component(m) for m in MODULES} - set(FLOORS)) == []


def _upward(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{a} -> {b}" for a, deps in graph.items() for b in deps
                  if _component(a) != _component(b) and FLOORS[_component(b)] >= FLOORS[_component(a)])


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, str] = {}
    cycles: list[str] = []

    def visit(node, stack):
        state[node] = "open"
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_no_import_goes_up_the_floors():
    assert _upward(_graph()) == []


def test_no_import_circle():
    assert _cycles(_graph()) == []


def test_the_walk_sees_an_upward_import_and_a_circle():
    """Fault injection: an invented upward edge and an invented circle are reported."""
    graph = _graph()
    graph["disentangle.params"] = graph["disentangle.params"] | {"disentangle.analysis.claims"}
    assert "disentangle.params -> disentangle.analysis.claims" in _upward(graph)
    graph = _graph()
    graph["disentangle.vocabulary"] = graph["disentangle.vocabulary"] | {"disentangle.params"}
    graph["disentangle.params"] = graph["disentangle.params"] | {"disentangle.vocabulary"}
    assert any("disentangle.vocabulary" in c and "disentangle.params" in c for c in _cycles(graph))
