"""The package layout's rule holds: imports run only downward, no import cycles, every
module in a layer (tests/python/_layers.py holds the layers; ARCHITECTURE.md explains them)."""

from __future__ import annotations

import shutil
from pathlib import Path

import _layers
import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "python" / "arielml"


def test_imports_run_downward_without_cycles():
    assert _layers.violations(PACKAGE) == []


def test_every_layer_prefix_names_a_module():
    mods = set(_layers.modules(PACKAGE)) | {"arielml._native"}
    for layer in _layers.LAYERS:
        for prefix in layer:
            assert prefix in mods, f"{prefix} is in LAYERS but not in the package"


def test_modules_stay_small_and_commands_thin():
    """Issue 15's size rules: no module over 400 lines; a command (cli/*_cmd.py) only parses
    options, calls arielml.api (or one stage) and prints, in under 60 lines."""
    sizes = {p: len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert [str(p) for p, n in sizes.items() if n > 400] == []
    assert [str(p) for p, n in sizes.items() if p.name.endswith("_cmd.py") and n >= 60] == []


@pytest.fixture
def copy(tmp_path) -> Path:
    dst = tmp_path / "arielml"
    shutil.copytree(PACKAGE, dst, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    return dst


def _append(path: Path, line: str):
    path.write_text(path.read_text() + "\n" + line + "\n")


def test_a_deliberate_upward_import_fails(copy):
    # inside a function, as a hidden one would be
    _append(copy / "ir" / "graph.py", "def _later():\n    from arielml.build import build_model")
    found = _layers.violations(copy)
    assert any(v.startswith("arielml.ir.graph imports arielml.build: upward") for v in found), found


def test_a_deliberate_cycle_fails(copy):
    # two modules of one package that import each other: no layer rule sees it
    _append(copy / "plan" / "problem.py", "from arielml.plan import lifetimes")
    found = _layers.violations(copy)
    assert any(v.startswith("cycle:") and "arielml.plan.problem" in v and "arielml.plan.lifetimes" in v
               for v in found), found


def test_a_relative_import_cycle_fails(copy):
    _append(copy / "plan" / "problem.py", "def f():\n    from .planners import plan_greedy")
    found = _layers.violations(copy)
    assert any(v.startswith("cycle:") and "arielml.plan.planners" in v for v in found), found


def test_a_module_outside_every_layer_fails(copy):
    (copy / "stray.py").write_text("X = 1\n")
    assert "arielml.stray: in no layer" in _layers.violations(copy)
