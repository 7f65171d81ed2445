"""The conda path gives the stack pip gives: environment.yml takes every package from conda-forge
(the `pytorch` channel stopped publishing after 2.5) with pyproject.toml's version bounds."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: pip name -> conda-forge name, where they differ
CONDA_NAME = {"torch": "pytorch"}


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    return match.group(1).lower(), match.group(2).replace(" ", "")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in ("book", "test"):
        reqs += project["optional-dependencies"][extra]
    return dict(_split(r.split("#")[0]) for r in reqs)


def _environment() -> tuple[list[str], dict[str, str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs: dict[str, str] = {}
    for dep in env["dependencies"]:
        for spec in dep["pip"] if isinstance(dep, dict) else [dep]:
            if spec.startswith("-e") or spec in ("pip",) or spec.startswith("python="):
                continue
            name, bounds = _split(spec)
            specs[name] = bounds
    return env["channels"], specs


def test_environment_takes_pytorch_from_conda_forge_only():
    channels, specs = _environment()
    assert channels == ["conda-forge"], f"environment.yml channels {channels}: use conda-forge only"
    assert "pytorch" in specs and "torch" not in specs


def test_environment_has_pyprojects_packages_and_bounds():
    _, specs = _environment()
    for name, bounds in _pyproject_requirements().items():
        conda_name = CONDA_NAME.get(name, name)
        assert conda_name in specs, f"environment.yml lacks {conda_name} (pyproject.toml: {name}{bounds})"
        assert specs[conda_name] == bounds, (
            f"environment.yml: {conda_name}{specs[conda_name]}, pyproject.toml: {name}{bounds}")
