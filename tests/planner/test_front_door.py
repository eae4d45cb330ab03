"""The library's front door: every name of ``planner.__all__`` imports, ``from planner import *``
works in a fresh interpreter, and every public name is documented in docs/library.md."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import planner
from tests.support.paths import REPO

ROOT = REPO


@pytest.mark.parametrize("name", sorted(planner.__all__))
def test_every_public_name_imports(name: str) -> None:
    assert getattr(planner, name) is not None


def test_star_import_in_a_fresh_interpreter() -> None:
    code = (
        "from planner import *\n"
        "import planner\n"
        "missing = [n for n in planner.__all__ if n not in globals()]\n"
        "print(missing)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_violation_is_the_checkers_type() -> None:
    from planner.violation import Violation

    assert planner.Violation is Violation


def test_every_public_name_is_documented() -> None:
    """docs/library.md names each public name inside backticks (``planner.NAME``, ``NAME(...)``,
    ``Plan.check()``, ...)."""
    text = (ROOT / "docs" / "library.md").read_text(encoding="utf-8")
    undocumented = [
        name
        for name in planner.__all__
        if name != "__version__"
        and not re.search(rf"`[^`\n]*(?<!\w){re.escape(name)}\b[^`\n]*`", text)
    ]
    assert undocumented == []
