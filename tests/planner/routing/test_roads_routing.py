"""Routing on roads: each county's travel minutes from a road graph, built in the county's task;
the independent route checker on the same matrix; ``no_path`` for a stop off the roads; the
summary's travel model; routes.geojson along the roads (docs/routing.md "Roads")."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

import planner
from api.cli import app
from geodata.china import load_counties
from geodata.roads import build_roads, read_graph, road_matrix
from geodata.roads.synthetic import build_synthetic_roads
from maps.plan import read_plan
from planner.routing.problem import RoutingProblem
from planner.routing.solver import SolveOptions, solve_routing
from planner.scenario import RoadSettings
from tests.support.paths import OSM
from tests.support.route_checker import check_routes

HELSINKI = Path("/work/shared/osm/helsinki.osm.pbf")


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HELSINKI.is_file():
        pytest.skip("the Helsinki extract is not on this machine")
    return build_roads(HELSINKI, tmp_path_factory.mktemp("hel") / "roads").folder


def _helsinki_problem(n_stops: int, far: bool) -> RoutingProblem:
    rng = np.random.default_rng(3)
    lon = rng.uniform(24.938, 24.951, n_stops + 1)
    lat = rng.uniform(60.166, 60.176, n_stops + 1)
    if far:  # 5 km out to sea: no road within the snap limit
        lon[-1], lat[-1] = 24.95, 60.12
    return RoutingProblem.from_arrays(
        station_id=np.array(["S"]),
        station_county=np.array(["X"]),
        vehicles=np.array([2]),
        capacity=np.array([30]),
        shift_start=np.array([480]),
        shift_end=np.array([720]),
        days=np.array([2]),
        stop_id=np.array([f"T{j}" for j in range(n_stops)]),
        stop_county=np.array(["X"] * n_stops),
        demand=np.full(n_stops, 8),
        minutes_per_client=np.full(n_stops, 3.0),
        setup_minutes=np.full(n_stops, 5.0),
        travel=np.zeros((n_stops + 1, n_stops + 1)),  # replaced by the roads
        lon=lon,
        lat=lat,
    )


def test_county_matrix_comes_from_the_roads_and_the_checker_agrees(helsinki: Path) -> None:
    p = _helsinki_problem(12, far=True)
    result = solve_routing(
        p, SolveOptions(time_limit=20, workers=1, roads=RoadSettings(str(helsinki)))
    )
    assert result.travel is not None
    expected = road_matrix(helsinki, np.asarray(p.lon), np.asarray(p.lat))
    np.testing.assert_allclose(result.travel, expected.seconds / 60.0)
    on_roads = dataclasses.replace(p, travel=result.travel)
    assert check_routes(on_roads, result) == []
    assert result.reason[-1] == "no_path" and result.served[-1] == 0
    assert (result.served[:-1] > 0).all()
    assert np.isinf(result.snap_m[-1])


def test_road_minutes_are_not_the_great_circle_ones(helsinki: Path) -> None:
    p = _helsinki_problem(6, far=False)
    roads = solve_routing(
        p, SolveOptions(time_limit=10, workers=1, roads=RoadSettings(str(helsinki)))
    )
    assert roads.travel is not None
    off = ~np.eye(7, dtype=bool)
    assert (np.abs(roads.travel - roads.travel.T)[off] > 0.01).any()  # one-way streets
    assert not np.allclose(roads.travel[off], p.travel[off])


def test_counties_on_two_workers_give_the_same_routes(helsinki: Path) -> None:
    """Two counties, each task computing its own matrix: 1 or 2 processes, same result."""
    rng = np.random.default_rng(4)
    lon = rng.uniform(24.938, 24.951, 12)
    lat = rng.uniform(60.166, 60.176, 12)
    p = RoutingProblem.from_arrays(
        station_id=np.array(["S", "R"]),
        station_county=np.array(["X", "Y"]),
        vehicles=np.array([1, 1]),
        capacity=np.array([30, 30]),
        shift_start=np.array([480, 480]),
        shift_end=np.array([600, 600]),
        days=np.array([1, 1]),
        stop_id=np.array([f"T{j}" for j in range(10)]),
        stop_county=np.array(["X", "Y"] * 5),
        demand=np.full(10, 5),
        travel=np.zeros((12, 12)),
        lon=lon,
        lat=lat,
    )
    settings = RoadSettings(str(helsinki))
    a = solve_routing(p, SolveOptions(time_limit=20, workers=1, roads=settings))
    b = solve_routing(p, SolveOptions(time_limit=20, workers=2, roads=settings))
    np.testing.assert_array_equal(a.served, b.served)
    assert a.travel is not None and b.travel is not None
    np.testing.assert_allclose(a.travel, b.travel)
    x, y = [0, 2, 4, 6, 8, 10], [1, 3, 5, 7, 9, 11]  # nodes: stations first, then stops
    assert np.isinf(a.travel[np.ix_(x, y)]).all()  # no path between counties
    assert check_routes(dataclasses.replace(p, travel=a.travel), a) == []


# --- a scenario with [routing] roads -------------------------------------------------------


def _scenario(folder: Path, roads: str | None) -> Path:
    """One Guizhou county, its station at the polygon's inner point and 8 stops inside it."""
    frame = load_counties()
    row = frame[frame["province_code"] == "520000"].sort_values("code").iloc[0]
    poly = row.geometry
    rng = np.random.default_rng(5)
    w, s, e, n = poly.bounds
    pts: list[tuple[float, float]] = []
    while len(pts) < 8:
        x, y = rng.uniform(w, e), rng.uniform(s, n)
        if poly.buffer(-0.01).contains(shapely.Point(x, y)):
            pts.append((round(x, 6), round(y, 6)))
    c = poly.representative_point()
    folder.mkdir(parents=True, exist_ok=True)
    routing = (
        f'\n[routing]\nroads = "{roads}"\n\n[routing.speeds]\nunclassified = 35\n' if roads else ""
    )
    (folder / "scenario.toml").write_text(
        'name = "roads"\nyear = 2006\ncrs = "wgs84"\nsynthetic = true\n\n'
        '[files]\ncounties = "builtin:china"\nstations = "stations.csv"\nstops = "stops.csv"\n'
        + routing,
        encoding="utf-8",
    )
    (folder / "stations.csv").write_text(
        "station_id,county_code,lon,lat,vehicles,clients_per_vehicle_day,shift_start,shift_end,"
        "crew_size,days\n"
        f"S1,{row['code']},{c.x:.6f},{c.y:.6f},2,30,08:00,17:00,2,3\n",
        encoding="utf-8",
    )
    (folder / "stops.csv").write_text(
        "stop_id,county_code,lon,lat,demand\n"
        + "".join(f"T{k},{row['code']},{x},{y},10\n" for k, (x, y) in enumerate(pts)),
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="module")
def on_roads(tmp_path_factory: pytest.TempPathFactory) -> tuple[planner.Scenario, Path]:
    base = tmp_path_factory.mktemp("sc")
    plain = _scenario(base / "plain", None)
    sc = planner.read_scenario(plain)
    sc.report.raise_for_errors()
    build_synthetic_roads(sc.data, base / "sc" / "roads", seed=1)
    folder = _scenario(base / "sc", "roads")
    return planner.read_scenario(folder), base


def test_scenario_routing_section_is_read(on_roads: tuple[planner.Scenario, Path]) -> None:
    sc, base = on_roads
    roads = sc.data.roads
    assert roads is not None
    assert roads.path == str((base / "sc" / "roads").resolve())
    assert roads.speeds == (("unclassified", 35.0),)


def test_bad_routing_section_is_reported(tmp_path: Path) -> None:
    folder = _scenario(tmp_path / "bad", "nowhere")
    report = planner.read_scenario(folder).report
    assert any(i.column == "roads" and i.severity.value == "error" for i in report.issues)
    text = (folder / "scenario.toml").read_text()
    (folder / "scenario.toml").write_text(text.replace('"nowhere"', f'"{tmp_path}"'))
    build_roads(OSM / "gate.osm", tmp_path / "g")
    (folder / "scenario.toml").write_text(
        text.replace('"nowhere"', f'"{tmp_path / "g"}"').replace("unclassified = 35", "footway = 5")
    )
    report = planner.read_scenario(folder).report
    assert any(i.column == "footway" for i in report.issues)


def test_route_on_roads_is_checked_and_drawn_along_the_roads(
    on_roads: tuple[planner.Scenario, Path], tmp_path: Path
) -> None:
    sc, _ = on_roads
    routes = planner.route(sc, params=planner.RoutingParams(time_limit=20, workers=1))
    assert check_routes(routes.problem, routes.result) == []
    assert routes.check() == []
    model = routes.summary.travel_model
    assert model["kind"] == "roads" and model["synthetic"] is True
    assert model["speeds_overrides"] == {"unclassified": 35.0}
    assert list(model["beyond_snap_limit"]) == []
    assert routes.summary.served > 0
    graph = read_graph(Path(model["roads"]))
    road_points = set(zip(graph.lon.round(7).tolist(), graph.lat.round(7).tolist(), strict=True))
    for feature in routes.geojson["features"]:
        coords = feature["geometry"]["coordinates"]
        stops = len(feature["properties"]["stops"])
        assert len(coords) > stops + 2  # not straight legs
        on_graph = sum((round(x, 7), round(y, 7)) in road_points for x, y in coords)
        assert on_graph >= len(coords) - 2 * (stops + 1) * 2  # all but the points and snaps
    routes.write(tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["routing"]["travel_model"]["kind"] == "roads"
    # the map reads the lines along the roads and the stops where they are
    drawn = read_plan(tmp_path / "out").routes
    assert drawn is not None and len(drawn) == len(routes.routes)
    stops = routes.scenario.data.stops
    assert stops is not None
    where = dict(zip(stops.stop_id.tolist(), zip(stops.lon, stops.lat, strict=True), strict=True))
    for route in drawn:
        assert len(route.line) > len(route.stop_ids) + 2
        for sid, xy in zip(route.stop_ids, route.stop_points, strict=True):
            assert xy == pytest.approx(where[sid])
    r = CliRunner().invoke(app, ["map", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output


def test_without_roads_the_summary_says_great_circle(
    on_roads: tuple[planner.Scenario, Path],
) -> None:
    _, base = on_roads
    sc = planner.read_scenario(base / "plain")
    routes = planner.route(sc, params=planner.RoutingParams(time_limit=10, workers=1))
    assert routes.summary.travel_model["kind"] == "great_circle"
    assert routes.result.travel is None
    for feature in routes.geojson["features"]:
        assert len(feature["geometry"]["coordinates"]) == len(feature["properties"]["stops"]) + 2


def test_params_roads_overrides_and_cli(
    on_roads: tuple[planner.Scenario, Path], tmp_path: Path
) -> None:
    _, base = on_roads
    r = CliRunner().invoke(
        app,
        [
            "route",
            str(base / "plain"),
            "--out",
            str(tmp_path / "o"),
            "--time-limit",
            "10",
            "--roads",
            str(base / "sc" / "roads"),
        ],
    )
    assert r.exit_code == 0, r.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["routing"]["travel_model"]["kind"] == "roads"
    r = CliRunner().invoke(
        app, ["route", str(base / "plain"), "--out", str(tmp_path / "p"), "--roads", str(tmp_path)]
    )
    assert r.exit_code == 2


def test_cli_synthetic_roads_say_so(
    on_roads: tuple[planner.Scenario, Path], tmp_path: Path
) -> None:
    _, base = on_roads
    r = CliRunner().invoke(
        app, ["roads", "synthetic", str(base / "plain"), "--out", str(tmp_path / "s")]
    )
    assert r.exit_code == 0, r.output
    assert "SYNTHETIC" in r.output
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["synthetic"] is True and manifest["counts"]["edges"] > 50
    assert manifest["synthetic_spacing_m"] == 4000
    # a grid twice as coarse has about a quarter of the crossings, so fewer segments
    r = CliRunner().invoke(
        app,
        [
            "roads",
            "synthetic",
            str(base / "plain"),
            "--out",
            str(tmp_path / "c"),
            "--spacing",
            "8000",
        ],
    )
    assert r.exit_code == 0, r.output
    coarse = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert coarse["synthetic_spacing_m"] == 8000
    assert coarse["counts"]["edges"] < manifest["counts"]["edges"] / 2
