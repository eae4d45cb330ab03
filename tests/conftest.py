"""Shared fixtures: the tiny scenario folder, its plan, and a headless Chromium; the markers
``browser`` and ``service`` (what ``make test-fast`` leaves out); the system packages tests need
(tests/support/deps.py: a test marked ``needs("chromium")``, or using the ``chromium`` fixture,
is skipped when the package is missing, failed under CI=true) and the session's throwaway
PostgreSQL (tests/support/pg_cluster.py). A fixture that serves one package is in that folder's
conftest.py (tests/maps/, tests/api/)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import deps, pg_cluster
from tests.support.browser import browser
from tests.support.scenario_files import plan_directly, write_tiny

# The tests read English unless they ask for a language (i18n.speaking, PLANNER_LANG in a
# subprocess's environment), whatever the machine's locale.
os.environ["PLANNER_LANG"] = "en"


TESTS = Path(__file__).resolve().parent
SERVICE_FOLDERS = (TESTS / "api" / "server",)
"""Every test here runs the HTTP service (in process or ``planner serve``) and its job workers."""
SERVICE_MODULES = frozenset({"test_api_audit.py", "test_api_backup.py", "test_api_cli.py"})
"""Test modules elsewhere under ``tests/api/`` whose tests run the service."""
SERVICE_FIXTURES = frozenset({"fresh_service", "guizhou_plan", "service", "svc", "served"})
"""Fixtures that start the service: a test using one runs it."""


def _runs_the_service(item: pytest.Item, fixtures: Any) -> bool:
    path = Path(str(item.fspath))
    in_api = TESTS / "api" in path.parents
    return (
        any(folder in path.parents for folder in SERVICE_FOLDERS)
        or (in_api and path.name in SERVICE_MODULES)
        or bool(SERVICE_FIXTURES.intersection(fixtures))
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what tests need by the fixtures they use and their ``postgres`` parameter, and
    which run a browser (``browser``) or the HTTP service (``service``): ``make test-fast``
    leaves those out (and the ``slow`` ones); ``make test`` runs them all."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "chromium" in fixtures:
            item.add_marker(pytest.mark.needs("chromium"))
            item.add_marker(pytest.mark.browser)
        if _runs_the_service(item, fixtures):
            item.add_marker(pytest.mark.service)
        if "redis_url" in fixtures:
            item.add_marker(pytest.mark.needs("redis-server"))
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_postgres = any(isinstance(v, str) and v == "postgres" for v in params.values())
        if on_postgres and not os.environ.get(pg_cluster.ENV):
            item.add_marker(pytest.mark.needs("postgresql"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (or fail, under CI) before any fixture is built: some take a minute."""
    for mark in item.iter_markers("needs"):
        deps.require(*mark.args)


def pytest_sessionfinish() -> None:
    pg_cluster.remove()


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    """A fresh copy of the tiny valid scenario."""
    return write_tiny(tmp_path / "tiny")


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny scenario planned (allocation only: no routes, no coverage)."""
    root = tmp_path_factory.mktemp("maps")
    scenario = write_tiny(root / "tiny")
    return plan_directly(scenario, root / "plan", time_limit=30)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless Chromium (tests/support/browser.py), one per test module."""
    with browser() as b:
        yield b
