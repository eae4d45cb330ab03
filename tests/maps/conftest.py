"""The maps' own fixture: the tiny plan with its routing files (``plan_dir`` and ``chromium``
are shared, in tests/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.maps import write_routes


@pytest.fixture(scope="module")
def routed_dir(plan_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny plan with routes.geojson and coverage.csv beside it."""
    folder = tmp_path_factory.mktemp("routed") / "plan"
    shutil.copytree(plan_dir, folder)
    write_routes(folder, plan_dir.parent / "tiny")
    return folder
