"""The routing stage through the library (``planner.route``) and the `planner route` /
`planner vrp` commands on real files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import planner
from api.cli import app
from geodata.planfolder import read_crews
from planner.routing.problem import RoutingProblem
from planner.routing.solver import SolveOptions, solve_routing
from planner.routing.summary import routing_tables
from tests.support.paths import REPO
from tests.support.route_checker import check_routes

runner = CliRunner()


@pytest.fixture(scope="module")
def county() -> planner.Scenario:
    """The built-in county tier: 1 station, 2 vehicles, 25 stops, 10 days."""
    result = planner.read_scenario("builtin:tier-county")
    assert result.valid and result.data.stations is not None
    return result


def test_county_campaign_is_feasible_and_tables_add_up(county: planner.Scenario) -> None:
    sc = county.data
    p = RoutingProblem.from_scenario(sc)
    r = solve_routing(p, SolveOptions(time_limit=10.0, workers=1))
    assert check_routes(p, r) == []
    tables = routing_tables(p, r)
    cov = tables["coverage"]
    assert cov["served"].sum() == r.served.sum() == tables["visits"]["clients"].sum()
    assert (cov["target"] == np.ceil(0.8 * cov["demand"] - 1e-9)).all()
    assert (cov["met"] == (cov["served"] >= cov["target"])).all()
    # Capacity allows every target here (checked from the inputs), so every target is met.
    cap = int((p.vehicles * p.capacity * p.days).sum())
    if cap >= int(cov["target"].sum()) * 1.1:
        assert cov["met"].all()
    unserved = tables["unserved"]
    assert (unserved["unserved"] == unserved["demand"] - unserved["served"]).all()
    assert (unserved["reason"] != "").all()


def test_routes_write_files_and_merge_summary(county: planner.Scenario, tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(json.dumps({"objective": 12.5}), encoding="utf-8")
    outcome = planner.route(county, params=planner.RoutingParams(time_limit=5.0))
    assert outcome.write(tmp_path) == tmp_path
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective"] == 12.5 and summary["routing"]["routes"] == outcome.summary.routes
    routes = pd.read_csv(tmp_path / "routes.csv", encoding="utf-8-sig", dtype={"county_code": str})
    geo = json.loads((tmp_path / "routes.geojson").read_text(encoding="utf-8"))
    assert len(geo["features"]) == len(routes) == outcome.summary.routes
    feat = geo["features"][0]
    assert feat["geometry"]["type"] == "LineString"
    assert feat["geometry"]["coordinates"][0] == feat["geometry"]["coordinates"][-1]
    assert len(feat["geometry"]["coordinates"]) == len(feat["properties"]["stops"]) + 2
    assert sum(s["clients"] for s in feat["properties"]["stops"]) == feat["properties"]["clients"]
    cov = pd.read_csv(tmp_path / "coverage.csv", encoding="utf-8-sig")
    assert set(cov.columns) >= {"township_code", "demand", "served", "target", "met"}
    assert routes["clients"].sum() == cov["served"].sum() == outcome.summary.served
    # Every township short of its target where capacity allows is listed, with its reason.
    allows = {c.county_code for c in outcome.summary.counties if c.capacity_allows_targets}
    short = cov[cov["county_code"].astype(str).isin(allows) & (cov["served"] < cov["target"])]
    missed = outcome.summary.townships_missed_where_capacity_allows
    assert sorted(m.township_code for m in missed) == sorted(short["township_code"].astype(str))
    assert all(m.reason for m in missed)
    assert outcome.summary.townships_met_where_capacity_allows + len(missed) == len(
        cov[cov["county_code"].astype(str).isin(allows)]
    )


def test_plan_crews_staff_only_some_vehicles(county: planner.Scenario, tmp_path: Path) -> None:
    sc = county.data
    assert sc.stations is not None
    plan = tmp_path / "plan"
    plan.mkdir()
    code = str(sc.stations.county_code[0])
    size = int(sc.stations.crew_size[0])
    pd.DataFrame(  # one vehicle's crew on the county's mobile_service post, one short
        {
            "applicant_id": [f"A{i}" for i in range(size + 1)],
            "post_id": ["P1"] * (size + 1),
            "county_code": [code] * (size + 1),
            "category": ["mobile_service"] * size + ["health"],
        }
    ).to_csv(plan / "assignments.csv", index=False)
    out = tmp_path / "routes"
    res = runner.invoke(
        app,
        [
            "route",
            "builtin:tier-county",
            "--out",
            str(out),
            "--plan",
            str(plan),
            "--time-limit",
            "5",
        ],
    )
    assert res.exit_code == 0, res.output
    routes = pd.read_csv(out / "routes.csv", encoding="utf-8-sig")
    assert set(routes["vehicle"]) == {1}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["routing"]
    assert summary["crews"] == f"plan {plan}"
    p = RoutingProblem.from_scenario(sc, crews={str(sc.stations.station_id[0]): size})
    assert p.staffed.max() == 1
    # Continuing volunteers on the mobile_service post (seats.csv) crew the second vehicle.
    pd.DataFrame(
        {
            "post_id": ["P1"],
            "county_code": [code],
            "category": ["mobile_service"],
            "continuing": [size],
        }
    ).to_csv(plan / "seats.csv", index=False)
    crews = read_crews(plan, sc.stations)
    assert crews == {str(sc.stations.station_id[0]): 2 * size}


def test_cli_route_and_errors(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["route", "builtin:tier-county", "--out", str(tmp_path), "--time-limit", "3"]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "coverage.csv").is_file() and "townships at target" in res.output
    res = runner.invoke(
        app,
        ["route", "builtin:tier-county", "--out", str(tmp_path), "--plan", str(tmp_path / "nope")],
    )
    assert res.exit_code == 2 and "assignments.csv" in res.output


def test_cli_vrp_prints_cost_last(tmp_path: Path) -> None:
    folder = REPO / "benchmarks" / "instances" / "vrp"
    sol = tmp_path / "a.sol"
    res = runner.invoke(
        app, ["vrp", str(folder / "A-n32-k5.vrp"), "--time-limit", "1", "--out", str(sol)]
    )
    assert res.exit_code == 0, res.output
    last = res.output.strip().splitlines()[-1]
    assert last.startswith("cost ")
    assert sol.read_text().strip().splitlines()[-1] == f"Cost {last.split()[1]}"
    bad = tmp_path / "bad.txt"
    bad.write_text("nothing here\n")
    res = runner.invoke(app, ["vrp", str(bad)])
    assert res.exit_code == 1 and "bad.txt" in res.output


def test_same_seed_same_files(county: planner.Scenario, tmp_path: Path) -> None:
    params = planner.RoutingParams(time_limit=30.0, seed=5)
    a = planner.route(county, params=params)
    b = planner.route(county, params=params)
    a.write(tmp_path / "a")
    b.write(tmp_path / "b")
    assert all("time cap" not in s.status for s in a.summary.subproblems)
    for name in ("routes.csv", "visits.csv", "coverage.csv", "routes.geojson"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert a.summary.served == b.summary.served
