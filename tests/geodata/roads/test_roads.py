"""Road graphs from OpenStreetMap extracts (:mod:`geodata.roads`, ``planner roads``).

Hand-made ``.osm`` files (``tests/data/osm/``) with answers known by hand, and the real Helsinki
extract against an independent shortest path (networkx) on the same edges.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from api.cli import app
from geodata.roads import Clip, Speeds, build_roads, point_matrix, read_graph, road_paths
from tests.support.paths import OSM

OSM = OSM
HELSINKI = Path("/work/shared/osm/helsinki.osm.pbf")
KM = math.degrees(1000 / 6_371_008.8)
"""Degrees per km on the equator and along a meridian (the hand-made files' grid)."""


def _xy(x_km: float, y_km: float) -> tuple[float, float]:
    return 110 + x_km * KM, y_km * KM


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The hand-made files built into graph folders."""
    out = tmp_path_factory.mktemp("hand")
    return {
        name: build_roads(OSM / f"{name}.osm", out / name).folder
        for name in ("river_bridge", "oneway_loop", "gate")
    }


def _matrix(folder: Path, *points: tuple[float, float]):  # type: ignore[no-untyped-def]
    lon, lat = np.array(points).T
    return point_matrix(read_graph(folder), lon, lat)


def test_river_with_one_bridge_is_12_km_by_road(hand: dict[str, Path]) -> None:
    m = _matrix(hand["river_bridge"], _xy(0, 0), _xy(2, 0))
    assert m.meters[0, 1] == pytest.approx(12_000, abs=1)
    assert m.meters[1, 0] == pytest.approx(12_000, abs=1)
    assert m.seconds[0, 1] == pytest.approx(12_000 / (40 / 3.6), abs=0.5)  # tertiary 40 km/h
    assert m.snap.meters.max() < 1e-3


def test_one_way_loop_is_1_km_there_and_3_km_back(hand: dict[str, Path]) -> None:
    m = _matrix(hand["oneway_loop"], _xy(0, 0), _xy(1, 0))
    assert m.meters[0, 1] == pytest.approx(1000, abs=0.5)
    assert m.meters[1, 0] == pytest.approx(3000, abs=0.5)
    assert m.seconds[1, 0] == pytest.approx(3000 / (25 / 3.6), abs=0.5)  # residential


def test_points_inside_a_one_way_segment(hand: dict[str, Path]) -> None:
    """Two points on the one-way A -> B: forwards along it, backwards round the loop."""
    m = _matrix(hand["oneway_loop"], _xy(0.25, 0), _xy(0.75, 0))
    assert m.meters[0, 1] == pytest.approx(500, abs=0.5)
    assert m.meters[1, 0] == pytest.approx(250 + 3000 + 250, abs=0.5)


def test_a_gate_with_access_no_is_driven_round(hand: dict[str, Path]) -> None:
    m = _matrix(hand["gate"], _xy(0, 0), _xy(2, 0))
    assert m.meters[0, 1] == pytest.approx(4000, abs=1)
    edges = pq.read_table(next((hand["gate"] / "edges").glob("*.parquet"))).to_pandas()
    assert set(edges["way"]) == {11}  # the gate's segments, the private road, the footway: gone


def test_a_point_beyond_the_snap_limit_has_no_path(hand: dict[str, Path]) -> None:
    m = _matrix(hand["river_bridge"], _xy(0, 0), _xy(-3, 0), _xy(2, 0))
    assert m.far.tolist() == [1]
    assert m.snap.meters[1] == pytest.approx(3000, abs=1)
    assert np.isinf(m.seconds[1, [0, 2]]).all() and np.isinf(m.seconds[[0, 2], 1]).all()
    assert np.isfinite(m.seconds[0, 2])


def test_disconnected_pieces_are_unreachable_not_large(tmp_path: Path) -> None:
    """The river file clipped to its west bank: the east bank road is cut off."""
    w, s = _xy(-0.5, -0.5)
    e, n = _xy(0.5, 6)
    folder = build_roads(OSM / "river_bridge.osm", tmp_path / "west", Clip((w, s, e, n))).folder
    m = _matrix(folder, _xy(0, 0), _xy(0, 5), _xy(2, 4.9))
    assert m.meters[0, 1] == pytest.approx(5000, abs=1)
    # the bridge segment (one end inside the clip) stays, the east bank road does not
    assert m.snap.segment[2] >= 0 or m.far.tolist() == [2]


def test_speed_overrides_change_seconds_not_metres(hand: dict[str, Path]) -> None:
    g = read_graph(hand["river_bridge"], speeds=Speeds.with_overrides({"tertiary": 60}))
    lon, lat = np.array([_xy(0, 0), _xy(2, 0)]).T
    m = point_matrix(g, lon, lat)
    assert m.seconds[0, 1] == pytest.approx(12_000 / (60 / 3.6), abs=0.5)
    assert m.meters[0, 1] == pytest.approx(12_000, abs=1)
    with pytest.raises(ValueError, match="not known"):
        Speeds.with_overrides({"footway": 5})


def test_unpaved_and_track_grades_slow_down() -> None:
    s = Speeds()
    sec = s.seconds(
        np.array([1000.0, 1000.0, 1000.0]),
        np.array(["tertiary", "tertiary", "track"]),
        np.array([False, True, True]),
        np.array([0, 0, 5]),
    )
    assert sec.tolist() == pytest.approx([90.0, 90.0 / 0.6, 1000 / (15 * 0.4 / 3.6)])


def test_manifest_records_the_extract(hand: dict[str, Path]) -> None:
    manifest = json.loads((hand["gate"] / "manifest.json").read_text())
    assert manifest["extract"]["name"] == "gate.osm"
    assert len(manifest["extract"]["sha256"]) == 64
    assert manifest["counts"]["edges"] == 3
    assert manifest["speeds"]["kmh"]["tertiary"] == 40.0


def test_road_path_follows_the_bridge(hand: dict[str, Path]) -> None:
    lon, lat = np.array([_xy(0, 0), _xy(2, 0)]).T
    (path,) = road_paths(read_graph(hand["river_bridge"]), lon, lat, [(0, 1)])
    assert path is not None
    ys = [round(y / KM, 3) for _, y in path]
    assert max(ys) == pytest.approx(5.0)  # over the bridge, not straight across


# --- the Helsinki extract against networkx --------------------------------------------------


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HELSINKI.is_file():
        pytest.skip("the Helsinki extract is not on this machine")
    return build_roads(HELSINKI, tmp_path_factory.mktemp("hel") / "roads").folder


KMH = {
    "primary": 60,
    "primary_link": 35,
    "secondary": 50,
    "secondary_link": 30,
    "tertiary": 40,
    "tertiary_link": 25,
    "unclassified": 30,
    "residential": 25,
    "service": 15,
    "living_street": 10,
    "road": 25,
    "track": 15,
    "trunk": 70,
    "trunk_link": 40,
    "motorway": 90,
    "motorway_link": 50,
}
"""The documented default km/h (docs/routing.md), typed again here."""


def _networkx(folder: Path) -> nx.DiGraph:
    """The edges of the folder as a networkx graph, seconds computed here."""
    frames = [pq.read_table(f).to_pandas() for f in (folder / "edges").glob("*.parquet")]
    e = pd.concat(frames)
    g = nx.DiGraph()
    for row in e.itertuples():
        factor = 1.0
        if row.tracktype:
            factor = {1: 1.0, 2: 0.8, 3: 0.6, 4: 0.5, 5: 0.4}[row.tracktype]
        elif row.unpaved:
            factor = 0.6
        sec = row.meters / (KMH[row.highway] * factor / 3.6)
        arcs = [(row.u, row.v)] if row.oneway else [(row.u, row.v), (row.v, row.u)]
        for a, b in arcs:
            if a != b and (not g.has_edge(a, b) or g[a][b]["s"] > sec):
                g.add_edge(a, b, s=sec, m=float(row.meters))
        g.nodes[row.u]["xy"] = (row.u_lon, row.u_lat)
        g.nodes[row.v]["xy"] = (row.v_lon, row.v_lat)
    return g


def test_helsinki_matches_networkx(helsinki: Path) -> None:
    g = _networkx(helsinki)
    assert g.number_of_edges() > 2000
    rng = np.random.default_rng(7)
    # points snap to the largest strongly connected part (docs/routing.md "Roads")
    nodes = sorted(max(nx.strongly_connected_components(g), key=len))
    assert len(nodes) > 0.8 * g.number_of_nodes()
    picked = [nodes[i] for i in rng.choice(len(nodes), 25, replace=False)]
    lon, lat = np.array([g.nodes[n]["xy"] for n in picked]).T
    m = point_matrix(read_graph(helsinki), lon, lat)
    assert m.snap.meters.max() < 0.01
    compared = unreachable = 0
    for i, a in enumerate(picked):
        dist, paths = nx.single_source_dijkstra(g, a, weight="s")
        for j, b in enumerate(picked):
            if b not in dist:
                assert math.isinf(m.seconds[i, j]), (i, j)
                unreachable += 1
                continue
            assert m.seconds[i, j] == pytest.approx(dist[b], rel=1e-6, abs=1e-3), (i, j)
            metres = sum(g[x][y]["m"] for x, y in zip(paths[b], paths[b][1:], strict=False))
            assert m.meters[i, j] == pytest.approx(metres, rel=1e-4, abs=0.5), (i, j)
            compared += 1
    assert compared > 300


def test_helsinki_one_way_streets_make_asymmetric_times(helsinki: Path) -> None:
    e = pd.concat(pq.read_table(f).to_pandas() for f in (helsinki / "edges").glob("*.parquet"))
    assert e["oneway"].sum() > 100
    rng = np.random.default_rng(1)
    lon = rng.uniform(24.938, 24.952, 20)
    lat = rng.uniform(60.166, 60.177, 20)
    m = point_matrix(read_graph(helsinki), lon, lat)
    both = np.isfinite(m.seconds) & np.isfinite(m.seconds.T)
    assert (np.abs(m.seconds[both] - m.seconds.T[both]) > 1).any()


# --- the command line -----------------------------------------------------------------------


def test_cli_build_and_matrix(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "roads"
    r = runner.invoke(app, ["roads", "build", str(OSM / "oneway_loop.osm"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    (lon_a, lat_a), (lon_b, lat_b) = _xy(0, 0), _xy(1, 0)
    far_lon, far_lat = _xy(0, -5)
    (tmp_path / "points.csv").write_text(
        f"id,lon,lat\nA,{lon_a},{lat_a}\nB,{lon_b},{lat_b}\nX,{far_lon},{far_lat}\n"
    )
    r = runner.invoke(
        app,
        [
            "roads",
            "matrix",
            str(out),
            "--points",
            str(tmp_path / "points.csv"),
            "--out",
            str(tmp_path / "m.csv"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "X" in r.output  # the point off the network is named
    m = pd.read_csv(tmp_path / "m.csv", dtype={"from": str, "to": str}).set_index(["from", "to"])
    assert len(m) == 9
    assert m.loc[("A", "B"), "meters"] == pytest.approx(1000, abs=0.5)
    assert m.loc[("B", "A"), "meters"] == pytest.approx(3000, abs=0.5)
    assert not m.loc[("A", "X"), "path"] and math.isnan(m.loc[("A", "X"), "seconds"])
    assert m.loc[("A", "A"), "seconds"] == 0


def test_cli_bbox_clip_and_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    w, s = _xy(-0.5, -0.5)
    e, n = _xy(0.5, 6)
    r = runner.invoke(
        app,
        [
            "roads",
            "build",
            str(OSM / "river_bridge.osm"),
            "--out",
            str(tmp_path / "r"),
            "--bbox",
            f"{w},{s},{e},{n}",
        ],
    )
    assert r.exit_code == 0, r.output
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["counts"]["edges"] == 2  # the west bank road and the bridge
    r = runner.invoke(
        app,
        [
            "roads",
            "build",
            str(OSM / "river_bridge.osm"),
            "--out",
            str(tmp_path / "x"),
            "--bbox",
            "1,2,3",
        ],
    )
    assert r.exit_code == 2
    r = runner.invoke(app, ["roads", "build", str(tmp_path / "none.pbf"), "--out", str(tmp_path)])
    assert r.exit_code == 2


# --- streaming, tiles and the county clip ---------------------------------------------------


def _edge_set(folder: Path) -> set[tuple[int, int]]:
    e = pd.concat(pq.read_table(f).to_pandas() for f in (folder / "edges").glob("*.parquet"))
    return set(zip(e["u"].tolist(), e["v"].tolist(), strict=True))


def test_small_batches_give_the_same_graph(helsinki: Path, tmp_path: Path) -> None:
    """Written a hundred segments at a time (the streaming path of a national build)."""
    small = build_roads(HELSINKI, tmp_path / "small", batch_edges=100)
    assert _edge_set(small.folder) == _edge_set(helsinki)
    assert small.nodes == json.loads((helsinki / "manifest.json").read_text())["counts"]["nodes"]


def test_a_box_reads_the_edges_with_an_end_inside(helsinki: Path) -> None:
    from geodata.roads import read_edges

    box = (24.940, 60.168, 24.946, 60.172)
    part = read_edges(helsinki, box).to_pandas()
    whole = read_edges(helsinki).to_pandas()
    w, s, e, n = box

    def inside(lon: pd.Series, lat: pd.Series) -> pd.Series:
        return (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)

    expected = whole[inside(whole.u_lon, whole.u_lat) | inside(whole.v_lon, whole.v_lat)]
    assert 0 < len(part) < len(whole)
    assert set(zip(part.u, part.v, strict=True)) == set(zip(expected.u, expected.v, strict=True))


def test_county_clip_keeps_the_county_and_its_buffer(tmp_path: Path) -> None:
    """Synthetic roads over two neighbouring Guizhou counties, built for one of them."""
    import shapely

    from geodata.china import load_counties
    from geodata.roads import county_clip
    from geodata.roads.synthetic import synthetic_roads_osm

    frame = load_counties()
    gz = frame[frame["province_code"] == "520000"].sort_values("code")
    a = gz.iloc[0]
    b = gz[gz.geometry.touches(a.geometry) | gz.geometry.intersects(a.geometry.buffer(0.01))]
    b = b[b["code"] != a["code"]].iloc[0]
    xml = synthetic_roads_osm(
        {a["code"]: a.geometry, b["code"]: b.geometry}, {}, tmp_path / "two.osm", seed=2
    )
    both = build_roads(xml, tmp_path / "both")
    clip = county_clip([a["code"]], buffer_m=2000)
    one = build_roads(xml, tmp_path / "one", clip)
    assert 0 < one.edges < both.edges
    e = pd.concat(pq.read_table(f).to_pandas() for f in (one.folder / "edges").glob("*.parquet"))
    grown = shapely.buffer(a.geometry, 2000 / 100_000)  # 2 km in degrees, loosely
    ends_in = shapely.contains_xy(grown, e.u_lon, e.u_lat) | shapely.contains_xy(
        grown, e.v_lon, e.v_lat
    )
    assert ends_in.all()
    with pytest.raises(ValueError, match="unknown county"):
        county_clip(["999999"])


def test_helsinki_road_paths_are_as_long_as_the_matrix_says(helsinki: Path) -> None:
    """The drawn path of a leg (nodes between the snapped ends) measures the matrix's metres."""
    from geodata.roads.build import haversine_m

    rng = np.random.default_rng(11)
    lon = rng.uniform(24.938, 24.952, 8)
    lat = rng.uniform(60.166, 60.177, 8)
    graph = read_graph(helsinki)
    m = point_matrix(graph, lon, lat)
    legs = [(i, j) for i in range(8) for j in range(8) if i != j]
    paths = road_paths(graph, lon, lat, legs)
    for (i, j), path in zip(legs, paths, strict=True):
        assert path is not None
        xy = np.array(path[1:-1])  # without the points themselves: snapped end to snapped end
        length = haversine_m(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1]).sum()
        assert length == pytest.approx(m.meters[i, j], rel=2e-3, abs=1.0), (i, j)
