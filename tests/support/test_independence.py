"""The independent checkers share no code with what they check: read with ``ast``, every import
of ``tests/support/alloc_checker.py`` and ``tests/support/route_checker.py`` (also those under
``if TYPE_CHECKING:`` and inside functions) names the standard library or numpy, never
``planner``, ``geodata``, ``maps``, ``api`` or another test module that might import them."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.support.paths import TESTS

CHECKERS = ("alloc_checker.py", "route_checker.py")
ALLOWED = frozenset(sys.stdlib_module_names) | {"numpy"}
"""Top-level modules a checker may import."""


def imported_modules(source: str) -> list[str]:
    """Every module an ``import`` or ``from ... import`` of ``source`` names (relative imports
    as ``.name``), and the string argument of any ``__import__``/``import_module`` call."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in ("__import__", "import_module"):
                arg = node.args[0] if node.args else None
                found.append(arg.value if isinstance(arg, ast.Constant) else "<dynamic>")
    return found


def test_imported_modules_sees_every_kind_of_import() -> None:
    source = (
        "import os, numpy as np\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from planner.scenario import Rules\n"
        "def f():\n    import geodata.crs\n    from . import zoo\n"
        "importlib.import_module('maps')\n"
    )
    expected = ["os", "numpy", "typing", "planner.scenario", "geodata.crs", ".", "maps"]
    assert sorted(imported_modules(source)) == sorted(expected)


@pytest.mark.parametrize("checker", CHECKERS)
def test_a_checker_imports_only_the_standard_library_and_numpy(checker: str) -> None:
    path: Path = TESTS / "support" / checker
    modules = imported_modules(path.read_text(encoding="utf-8"))
    assert modules, f"{path}: no import found (is the file there?)"
    foreign = [m for m in modules if m.split(".")[0] not in ALLOWED]
    assert foreign == [], f"{path} imports {foreign}: only the standard library and numpy"
