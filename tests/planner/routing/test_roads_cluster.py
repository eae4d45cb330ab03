"""Routing on roads on a real Dask ``distributed.LocalCluster`` (2 worker processes): each
county's task reads only the edge tiles around its own county (as the tasks report it,
checked against tiles worked out here), and the routes are the local pool's."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import shapely

from geodata.china import load_counties
from geodata.roads.build import build_roads
from geodata.roads.synthetic import synthetic_roads_osm
from planner import workers
from planner.cluster import DaskCluster
from planner.routing.problem import RoutingProblem
from planner.routing.result import RoutingResult
from planner.routing.solver import SolveOptions, solve_routing
from planner.scenario import RoadSettings
from tests.support.route_checker import check_routes

PROVINCES = ("520000", "530000", "450000", "510000")
"""One county from each of four provinces: hundreds of km apart, so no tile is shared."""
TILE = 0.5
"""Degrees of an edge tile (docs/routing.md "What is kept")."""
AROUND_M = 20_000.0
"""What a county's matrix reads around its points' box (docs/routing.md "Drive matrix")."""


def _points(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    w, s, e, nn = poly.bounds
    inner = poly.buffer(-0.02)
    pts: list[tuple[float, float]] = []
    while len(pts) < n:
        x, y = rng.uniform(w, e), rng.uniform(s, nn)
        if inner.contains(shapely.Point(x, y)):
            pts.append((x, y))
    return np.array(pts)


@pytest.fixture(scope="module")
def four_counties_on_roads(tmp_path_factory: pytest.TempPathFactory) -> tuple[RoutingProblem, Path]:
    """Four counties, a station and 6 stops each, and their synthetic roads."""
    frame = load_counties()
    rng = np.random.default_rng(11)
    rows = [frame[frame["province_code"] == p].sort_values("code").iloc[0] for p in PROVINCES]
    codes = [str(r["code"]) for r in rows]
    per = {c: _points(r.geometry, 7, rng) for c, r in zip(codes, rows, strict=True)}
    stations = np.array([per[c][0] for c in codes])
    stops = np.concatenate([per[c][1:] for c in codes])
    tmp = tmp_path_factory.mktemp("roads-cluster")
    osm = synthetic_roads_osm(
        {c: r.geometry for c, r in zip(codes, rows, strict=True)},
        {c: (per[c][:, 0], per[c][:, 1]) for c in codes},
        tmp / "four.osm",
        seed=4,
    )
    folder = build_roads(osm, tmp / "roads").folder
    p = RoutingProblem.from_arrays(
        station_id=np.array([f"S{c}" for c in codes]),
        station_county=np.array(codes),
        vehicles=np.full(4, 1),
        capacity=np.full(4, 30),
        shift_start=np.full(4, 480),
        shift_end=np.full(4, 1020),
        days=np.full(4, 2),
        stop_id=np.array([f"T{c}-{k}" for c in codes for k in range(6)]),
        stop_county=np.repeat(codes, 6),
        demand=np.full(24, 8),
        minutes_per_client=np.full(24, 3.0),
        setup_minutes=np.full(24, 5.0),
        travel=np.zeros((28, 28)),  # replaced by the roads
        lon=np.concatenate([stations[:, 0], stops[:, 0]]),
        lat=np.concatenate([stations[:, 1], stops[:, 1]]),
    )
    return p, folder


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskCluster]:
    """A ``distributed.LocalCluster`` of 2 worker processes (planner.cluster starts it)."""
    with DaskCluster(workers=2) as c:
        c.start()
        yield c


def _expected_tiles(p: RoutingProblem, county: str, folder: Path) -> set[str]:
    """The tiles around a county's points, worked out here: the points' box grown by
    :data:`AROUND_M`, the tiles it covers and their neighbours, those the folder has."""
    at = np.concatenate([p.station_county == county, p.stop_county == county])
    lon, lat = np.asarray(p.lon)[at], np.asarray(p.lat)[at]
    m_per_deg = 6_371_008.8 * math.pi / 180
    dx = AROUND_M / (m_per_deg * math.cos(math.radians(lat.mean())))
    dy = AROUND_M / m_per_deg
    x0, x1 = math.floor((lon.min() - dx) / TILE) - 1, math.floor((lon.max() + dx) / TILE) + 1
    y0, y1 = math.floor((lat.min() - dy) / TILE) - 1, math.floor((lat.max() + dy) / TILE) + 1
    have = {f.name for f in (folder / "edges").iterdir()}
    return {f"{x}_{y}.parquet" for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)} & have


def _same_routes(a: RoutingResult, b: RoutingResult) -> None:
    for field in ("routes", "visits"):
        x, y = getattr(a, field), getattr(b, field)
        for name in x.__dataclass_fields__:
            np.testing.assert_array_equal(getattr(x, name), getattr(y, name), err_msg=name)
    np.testing.assert_array_equal(a.served, b.served)
    np.testing.assert_array_equal(a.reason, b.reason)
    assert a.travel is not None and b.travel is not None
    np.testing.assert_array_equal(a.travel, b.travel)


def test_each_worker_reads_only_its_counties_tiles(
    four_counties_on_roads: tuple[RoutingProblem, Path], cluster: DaskCluster
) -> None:
    p, folder = four_counties_on_roads
    options = SolveOptions(
        time_limit=600.0, seed=3, workers=2, proof_seconds=0.0, roads=RoadSettings(str(folder))
    )
    local = solve_routing(p, options)
    with workers.using(cluster), workers.recording() as rec:
        remote = solve_routing(p, options)
    assert all("time cap" not in s.status for s in local.subproblems)  # reproducible
    _same_routes(local, remote)
    assert check_routes(dataclasses.replace(p, travel=remote.travel), remote) == []
    assert len(remote.routes.station) > 0

    all_tiles = {f.name for f in (folder / "edges").iterdir()}
    expected = {s.county: _expected_tiles(p, s.county, folder) for s in remote.subproblems}
    for s in remote.subproblems:
        read = set(s.road_tiles)
        assert read, s.county
        assert read <= expected[s.county], (s.county, read - expected[s.county])
        others = set().union(*(expected[c] for c in expected if c != s.county))
        assert not read & others, f"county {s.county} read another county's tiles"
        assert len(read) < len(all_tiles)
        sizes = sum((folder / "edges" / t).stat().st_size for t in read)
        assert s.road_bytes == sizes
    # per worker process: the tiles of the counties it ran, no others
    tasks = rec.of("county")
    assert len(tasks) == 4
    pids = set(cluster.worker_pids().values())
    by_worker: dict[str, set[str]] = {}
    ran: dict[str, set[str]] = {}
    # the tasks go largest county first; all have 6 stops, so in county order, as the
    # subproblems are listed
    counties = [s.county for s in remote.subproblems]
    assert counties == sorted(counties)
    for t in tasks:
        county = counties[t.index]
        by_worker.setdefault(t.worker, set()).update(
            next(s.road_tiles for s in remote.subproblems if s.county == county)
        )
        ran.setdefault(t.worker, set()).add(county)
    assert len(by_worker) == 2  # both worker processes ran counties
    assert all(any(str(pid) in w for pid in pids) for w in by_worker)
    for w, tiles in by_worker.items():
        mine = set().union(*(expected[c] for c in ran[w]))
        assert tiles <= mine
        assert tiles < all_tiles  # no worker read the whole graph
