"""A plan folder reads back as the plan and routes that wrote it, and results are values: a
change to what a result hands out does not reach the result, its check or its files."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import planner
from tests.support.alloc_checker import check_plan
from tests.support.results import guiyang

PLAN_TABLES = ("assignments", "unassigned", "seats", "fairness")
ROUTE_TABLES = ("routes", "visits", "coverage", "unserved")


@pytest.fixture(scope="module")
def solved(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, planner.Scenario, planner.Plan, planner.RoutePlan]:
    sc = guiyang()
    plan = planner.allocate(sc, planner.AllocationParams(time_limit=30))
    routes = planner.route(sc, plan.crews(), planner.RoutingParams(time_limit=10))
    out = tmp_path_factory.mktemp("folder") / "plan"
    plan.write(out)
    routes.write(out)
    return out, sc, plan, routes


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix != ".xlsx"}


def test_read_plan_is_the_plan_that_wrote_it(
    solved: tuple[Path, planner.Scenario, planner.Plan, planner.RoutePlan], tmp_path: Path
) -> None:
    out, sc, plan, _ = solved
    again = planner.read_plan(out, sc)
    for name in PLAN_TABLES:
        pd.testing.assert_frame_equal(again.tables[name], plan.tables[name], check_exact=True)
    assert again.summary == plan.summary
    assert again.objective == plan.objective and again.status == plan.status
    assert np.array_equal(again.solution.post_of, plan.solution.post_of)
    assert again.check() == plan.check() == []
    assert again.crews() == plan.crews()
    # written again, the same files byte for byte (the workbook aside)
    again.write(tmp_path / "again")
    routes_free = {k: v for k, v in _files(out).items() if k.split(".")[0] in PLAN_TABLES}
    assert {k: v for k, v in _files(tmp_path / "again").items() if k != "summary.json"} == (
        routes_free
    )


def test_read_routes_are_the_routes_that_wrote_them(
    solved: tuple[Path, planner.Scenario, planner.Plan, planner.RoutePlan],
) -> None:
    out, sc, plan, routes = solved
    with pytest.raises(ValueError, match="crews given by hand"):
        planner.read_routes(out, sc)  # route(sc, plan.crews()): the summary says "given"
    again = planner.read_routes(out, sc, crews=plan.crews())
    for name in ROUTE_TABLES:
        pd.testing.assert_frame_equal(again.tables[name], routes.tables[name], check_exact=True)
    assert again.summary == routes.summary
    assert again.geojson == routes.geojson
    assert np.array_equal(again.result.served, routes.result.served)
    assert np.array_equal(again.result.visits.stop, routes.result.visits.stop)
    # the files keep whole minutes: only R7 (times against the travel matrix, exact to the
    # fraction of a minute) can tell them from the solver's times
    assert routes.check() == [] and {v.rule for v in again.check()} <= {"R7"}


def test_read_plan_finds_the_scenario_by_its_source(plan_dir: Path) -> None:
    """A folder planned from a scenario folder reads back without being given the scenario;
    its assignments pass the independent checker."""
    plan = planner.read_plan(plan_dir)
    written = pd.read_csv(plan_dir / "assignments.csv", dtype=str, encoding="utf-8-sig")
    assert list(plan.assignments["applicant_id"]) == list(written["applicant_id"])
    assignment = dict(zip(written["applicant_id"], written["post_id"], strict=True))
    result = check_plan(plan.scenario.data, assignment)
    assert result.violations == [] and result.objective == pytest.approx(plan.objective)


def test_a_changed_folder_or_a_missing_scenario_is_refused(
    solved: tuple[Path, planner.Scenario, planner.Plan, planner.RoutePlan], tmp_path: Path
) -> None:
    out, sc, _, _ = solved
    with pytest.raises(ValueError, match="built from DataFrames"):
        planner.read_plan(out)
    changed = tmp_path / "changed"
    changed.mkdir()
    for p in out.iterdir():
        (changed / p.name).write_bytes(p.read_bytes())
    seats = (changed / "seats.csv").read_text(encoding="utf-8-sig").replace("P1,", "P1 ,", 1)
    (changed / "seats.csv").write_text(seats, encoding="utf-8-sig")
    with pytest.raises(ValueError, match="seats"):
        planner.read_plan(changed, sc)


def test_results_are_values(
    solved: tuple[Path, planner.Scenario, planner.Plan, planner.RoutePlan], tmp_path: Path
) -> None:
    """Every way of changing a result changes a copy: the result, its check() and its files
    stay as solved."""
    out, _, plan, routes = solved
    before = {name: plan.tables[name] for name in PLAN_TABLES}
    a = plan.assignments
    a.iloc[0, a.columns.get_loc("post_id")] = "NO-SUCH-POST"
    with warnings.catch_warnings():  # pandas says these reach a copy only: so they do
        warnings.simplefilter("ignore")
        plan.assignments["post_id"] = "NO-SUCH-POST"
        plan.tables["seats"].loc[:, "filled"] = 99
        del plan.seats["filled"]
        routes.coverage["met"] = False
        routes.routes.iloc[0, 0] = "X"
    for name in PLAN_TABLES:
        pd.testing.assert_frame_equal(plan.tables[name], before[name])
    assert plan.assignments["post_id"].ne("NO-SUCH-POST").all()
    assert routes.coverage["met"].equals(pd.read_csv(out / "coverage.csv")["met"])
    with pytest.raises(TypeError):
        plan.tables["assignments"] = a  # type: ignore[index]
    with pytest.raises(ValueError, match="read-only"):
        plan.solution.post_of[0] = 3
    with pytest.raises(ValueError, match="read-only"):
        routes.result.served[0] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.summary = plan.summary  # type: ignore[misc]
    with pytest.raises(TypeError):
        routes.geojson["features"][0]["properties"]["clients"] = 0  # type: ignore[index]
    assert plan.check() == [] and routes.check() == []
    plan.write(tmp_path / "again")
    routes.write(tmp_path / "again")
    for name in (*PLAN_TABLES, *ROUTE_TABLES):
        assert (tmp_path / "again" / f"{name}.csv").read_bytes() == (
            out / f"{name}.csv"
        ).read_bytes(), name
