"""Shared fixtures: the tiny scenario folder and the built-in geography."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scenario_files import write_tiny


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    """A fresh copy of the tiny valid scenario."""
    return write_tiny(tmp_path / "tiny")
