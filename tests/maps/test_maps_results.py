"""Maps draw from a plan and its routes (and their scenario), not by reading the scenario
again from summary.json's source: a routing map of a scenario built from DataFrames shows its
township points, drawn from the objects or from the folder they wrote."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import planner
from maps.payload import build_payload
from maps.plan import PlanFiles, read_plan
from maps.render import render_map
from tests.support.results import STOP_POINTS, guiyang


@pytest.fixture(scope="module")
def solved(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, planner.Scenario, planner.Plan, planner.RoutePlan]:
    sc = guiyang()
    plan = planner.allocate(sc, planner.AllocationParams(time_limit=30))
    routes = planner.route(sc, plan.crews(), planner.RoutingParams(time_limit=10))
    out = tmp_path_factory.mktemp("maps-results") / "plan"
    plan.write(out)
    routes.write(out)
    return out, sc, plan, routes


def _townships(payload: dict) -> dict[str, tuple[float, float]]:
    return {row[2]: (row[1], row[0]) for row in payload["coverage"]["rows"]}  # lat, lon


def _expected() -> dict[str, pytest.approx]:
    return {code: pytest.approx(point, abs=1e-4) for code, point in STOP_POINTS.items()}


def test_routing_map_of_a_dataframe_scenario_shows_its_townships(
    solved: tuple[Path, planner.Scenario, planner.Plan, planner.RoutePlan],
) -> None:
    out, sc, plan, routes = solved
    assert sc.source == ""  # built from DataFrames: nothing to read again
    files = PlanFiles.from_results(plan, routes)
    payload = build_payload(files, None)
    assert _townships(payload) == _expected()
    assert payload["title"]["scenario"] == "guiyang-example"
    assert len(payload["routes"]["routes"]) == len(routes.routes)
    # the folder they wrote draws the same townships
    assert _townships(build_payload(read_plan(out), None)) == _expected()
    page = render_map(files)
    assert "guiyang-example" in page


def test_coverage_without_points_takes_them_from_the_scenario_given(
    solved: tuple[Path, planner.Scenario, planner.Plan, planner.RoutePlan], tmp_path: Path
) -> None:
    """A coverage.csv of an older version (no lon/lat): located from the scenario given,
    never by reading summary.json's source."""
    out, sc, _, _ = solved
    old = tmp_path / "old"
    old.mkdir()
    for p in out.iterdir():
        (old / p.name).write_bytes(p.read_bytes())
    coverage = pd.read_csv(old / "coverage.csv", dtype=str, encoding="utf-8-sig")
    coverage.drop(columns=["lon", "lat"]).to_csv(
        old / "coverage.csv", index=False, encoding="utf-8-sig"
    )
    assert "coverage" not in build_payload(read_plan(old), None)
    assert _townships(build_payload(read_plan(old, sc), None)) == _expected()
