"""A **synthetic** road network for some counties, written as an OpenStreetMap XML file so
that it goes through the same ``planner roads build`` as a real extract.

Nobody drew these roads: they stand in for an OSM extract where none is at hand (the
built-in scenarios, the tests). Per county, a jittered grid of crossings
(:data:`SPACING_M` apart) inside the county polygon; a random spanning tree of the grid is
kept (every crossing of a county connected) plus a share of the other links; each link is
a way with a few bends (so the roads wiggle as valley roads do); a few straight lines of
crossings become ``secondary`` roads, the rest ``unclassified``, a share ``track`` with a
``tracktype`` grade, a few links one-way. Each given point (a station, a stop) gets an
access road to its nearest crossing of its county. Neighbouring counties are joined by one road.
Deterministic for a seed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import shapely
from scipy.sparse import csgraph, csr_matrix

from geodata.roads.build import BuildReport, build_roads
from planner.scenario import ScenarioData

SPACING_M = 4000.0
"""Distance between neighbouring crossings of the grid."""

KEEP_EXTRA = 0.55
"""Share of the grid links beyond the spanning tree that are kept."""

_M_PER_DEG = 111_195.0


class _Osm:
    """Nodes and ways, numbered as written, streamed to two spool files (a national network
    has millions of nodes: never held as strings) and joined into one OSM XML file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._nodes = (folder / "nodes.part").open("w", encoding="utf-8")
        self._ways = (folder / "ways.part").open("w", encoding="utf-8")
        self.n_nodes = 0
        self.n_ways = 0

    def node(self, lon: float, lat: float) -> int:
        self.n_nodes += 1
        self._nodes.write(
            f'  <node id="{self.n_nodes}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>\n'
        )
        return self.n_nodes

    def way(self, refs: list[int], tags: Mapping[str, str]) -> None:
        self.n_ways += 1
        nd = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        self._ways.write(f'  <way id="{self.n_ways}" version="1">{nd}{tg}</way>\n')

    def write(self, out: Path, note: str) -> None:
        """Join the spools into ``out`` (nodes before ways, as OSM XML orders them)."""
        self._nodes.close()
        self._ways.close()
        with out.open("w", encoding="utf-8") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n')
            f.write(f"<!-- {note} -->\n")
            f.write(
                '<osm version="0.6" generator="westplan geodata.roads.synthetic (SYNTHETIC)">\n'
            )
            for part in ("nodes.part", "ways.part"):
                with (self.folder / part).open(encoding="utf-8") as src:
                    shutil.copyfileobj(src, f, 1 << 20)
            f.write("</osm>\n")


def synthetic_roads_osm(
    polygons: Mapping[str, shapely.Geometry],
    points: Mapping[str, tuple[np.ndarray, np.ndarray]],
    out: Path,
    seed: int = 0,
    spacing_m: float = SPACING_M,
) -> Path:
    """Write the synthetic network of some counties as ``out`` (OSM XML).

    Parameters
    ----------
    polygons : mapping of county code to polygon (WGS-84)
    points : mapping of county code to (lon, lat) arrays
        The points that must be on the network (stations, stops), by county.
    seed : int
    spacing_m : float
        Distance between neighbouring crossings (:data:`SPACING_M`; a national tier is
        built coarser, e.g. 8 km, to stay a few million segments).
    """
    rng = np.random.default_rng(seed)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    codes = sorted(polygons)
    with tempfile.TemporaryDirectory(dir=out.parent) as spool:
        osm = _Osm(Path(spool))
        crossings = {}
        for code in codes:
            lon, lat = points.get(code, (np.zeros(0), np.zeros(0)))
            crossings[code] = _county(
                osm, polygons[code], np.asarray(lon, float), np.asarray(lat, float), rng, spacing_m
            )
        # neighbouring counties joined by a road between their nearest crossings
        for a, b in _neighbours(codes, polygons):
            (ax, ay, an), (bx, by, bn) = crossings[a], crossings[b]
            gap = np.hypot(ax[:, None] - bx[None, :], ay[:, None] - by[None, :])
            i, j = np.unravel_index(np.argmin(gap), gap.shape)
            osm.way([int(an[i]), int(bn[j])], {"highway": "secondary"})
        osm.write(
            out,
            "SYNTHETIC road network made by geodata.roads.synthetic for "
            f"{len(polygons)} counties (seed {seed}); not OpenStreetMap data",
        )
    return out


def _neighbours(
    codes: list[str], polygons: Mapping[str, shapely.Geometry]
) -> list[tuple[str, str]]:
    """Pairs of counties (in code order) whose polygons lie within 0.01 degrees of each other
    (an STRtree query: a national tier has a thousand counties)."""
    geoms = np.array([polygons[c] for c in codes])
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=0.01)
    return sorted(
        {(codes[i], codes[j]) for i, j in zip(left.tolist(), right.tolist(), strict=True) if i < j}
    )


_Link = tuple[int, int, int, int, int, int]
"""A link between two crossings: their numbers, then their grid rows and columns."""


@dataclass(frozen=True)
class _Grid:
    """A county's jittered grid of crossings: positions, steps in degrees, which lie inside."""

    gx: np.ndarray
    gy: np.ndarray
    dx: float
    dy: float
    index: np.ndarray
    """Crossing number of each grid point inside the county (row by row), -1 outside."""

    @property
    def inside(self) -> np.ndarray:
        return self.index >= 0


def _grid(polygon: shapely.Geometry, rng: np.random.Generator, spacing_m: float) -> _Grid:
    """The crossings of a county: a grid of ``spacing_m`` jittered by up to 30 %, those
    inside the polygon (at least the middle one)."""
    w, s, e, n = shapely.bounds(polygon).tolist()
    lat0 = (s + n) / 2
    dx = spacing_m / (_M_PER_DEG * math.cos(math.radians(lat0)))
    dy = spacing_m / _M_PER_DEG
    xs = np.arange(w + dx / 2, e, dx)
    ys = np.arange(s + dy / 2, n, dy)
    gx, gy = np.meshgrid(xs, ys)  # rows: y, columns: x
    gx = gx + rng.uniform(-0.3, 0.3, gx.shape) * dx
    gy = gy + rng.uniform(-0.3, 0.3, gy.shape) * dy
    inside = shapely.contains_xy(polygon, gx, gy)
    if inside.sum() == 0:
        inside[len(ys) // 2, len(xs) // 2] = True
    index = -np.ones(gx.shape, dtype=np.int64)
    index[inside] = np.arange(int(inside.sum()))
    return _Grid(gx, gy, dx, dy, index)


def _links(grid: _Grid, rng: np.random.Generator) -> tuple[list[_Link], np.ndarray, np.ndarray]:
    """The links between neighbouring crossings (``i, j, r, c, rr, cc``), which are kept and
    which form a random spanning tree (kept always, so every crossing is reachable)."""
    index = grid.index
    rows, cols = index.shape
    links: list[_Link] = []
    for r in range(rows):
        for c in range(cols):
            if index[r, c] < 0:
                continue
            for rr, cc in ((r, c + 1), (r + 1, c)):
                if rr < rows and cc < cols and index[rr, cc] >= 0:
                    links.append((int(index[r, c]), int(index[rr, cc]), r, c, rr, cc))
    m = int(grid.inside.sum())
    keep = np.zeros(len(links), dtype=bool)
    tree_link = np.zeros(len(links), dtype=bool)
    if links:
        a = np.array([k[0] for k in links])
        b = np.array([k[1] for k in links])
        weight = rng.uniform(1, 2, len(links))
        tree = csgraph.minimum_spanning_tree(csr_matrix((weight, (a, b)), shape=(m, m)))
        t = tree.tocoo()
        in_tree = set(zip(t.row.tolist(), t.col.tolist(), strict=True))
        for k, (i, j, *_rest) in enumerate(links):
            tree_link[k] = (i, j) in in_tree or (j, i) in in_tree
            keep[k] = tree_link[k] or rng.random() < KEEP_EXTRA
    return links, keep, tree_link


def _link_tags(rng: np.random.Generator, main: bool, in_tree: bool) -> dict[str, str]:
    """A link's OSM tags: a main road along one row and one column, else tracks, gravel and a
    few one-way streets (only off the spanning tree)."""
    tags: dict[str, str] = {"highway": "unclassified"}
    if main:
        tags = {"highway": "secondary"}
    elif rng.random() < 0.3:
        tags = {"highway": "track", "tracktype": f"grade{rng.integers(2, 5)}"}
    elif rng.random() < 0.15:
        tags["surface"] = "gravel"
    # one-way only off the spanning tree, so every crossing stays reachable both ways
    if not in_tree and tags["highway"] != "secondary" and rng.random() < 0.05:
        tags["oneway"] = "yes"
    return tags


def _write_links(
    osm: _Osm,
    grid: _Grid,
    links: list[_Link],
    keep: np.ndarray,
    tree_link: np.ndarray,
    rng: np.random.Generator,
) -> dict[int, int]:
    """Write the crossings and the kept links (each with three bends); the crossings' node ids."""
    gx, gy, dx, dy, index = grid.gx, grid.gy, grid.dx, grid.dy, grid.index
    rows, cols = index.shape
    crossing = {
        int(index[r, c]): osm.node(float(gx[r, c]), float(gy[r, c]))
        for r in range(rows)
        for c in range(cols)
        if index[r, c] >= 0
    }
    main_row = rng.integers(0, rows)
    main_col = rng.integers(0, cols)
    for k, (i, j, r, c, rr, cc) in enumerate(links):
        if not keep[k]:
            continue
        refs = [crossing[i]]
        x0, y0, x1, y1 = gx[r, c], gy[r, c], gx[rr, cc], gy[rr, cc]
        bends = 3
        for q in range(1, bends + 1):
            f = q / (bends + 1)
            # bends across the link: up to a fifth of its length
            px, py = -(y1 - y0) * dx / dy, (x1 - x0) * dy / dx
            off = rng.normal(0, 0.08)
            refs.append(osm.node(x0 + f * (x1 - x0) + off * px, y0 + f * (y1 - y0) + off * py))
        refs.append(crossing[j])
        main = bool(r == rr == main_row or c == cc == main_col)
        osm.way(refs, _link_tags(rng, main, bool(tree_link[k])))
    return crossing


def _join_pieces(
    osm: _Osm, grid: _Grid, links: list[_Link], keep: np.ndarray, crossing: dict[int, int]
) -> None:
    """Crossings the polygon splits into pieces (a concave county): each piece joined to the
    largest by one road between their nearest crossings."""
    cx, cy = grid.gx[grid.inside], grid.gy[grid.inside]
    m = len(cx)
    kept = [(i, j) for k, (i, j, *_rest) in enumerate(links) if keep[k]]
    pairs = np.array(kept, dtype=np.int64).reshape(-1, 2)
    graph = csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
    _, label = csgraph.connected_components(graph, directed=False)
    main = np.flatnonzero(label == np.bincount(label).argmax())
    for piece in sorted(set(label.tolist()) - {int(label[main[0]])}):
        own = np.flatnonzero(label == piece)
        gap = np.hypot(
            (cx[own, None] - cx[None, main]) / grid.dx, (cy[own, None] - cy[None, main]) / grid.dy
        )
        ia, ib = np.unravel_index(np.argmin(gap), gap.shape)
        osm.way([crossing[int(own[ia])], crossing[int(main[ib])]], {"highway": "unclassified"})


def _county(
    osm: _Osm,
    polygon: shapely.Geometry,
    lon: np.ndarray,
    lat: np.ndarray,
    rng: np.random.Generator,
    spacing_m: float = SPACING_M,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Write one county's roads; its crossings' lon, lat and node ids."""
    grid = _grid(polygon, rng, spacing_m)
    links, keep, tree_link = _links(grid, rng)
    crossing = _write_links(osm, grid, links, keep, tree_link, rng)
    cx, cy = grid.gx[grid.inside], grid.gy[grid.inside]  # crossing q is the q-th inside
    _join_pieces(osm, grid, links, keep, crossing)
    # access roads from each point to its nearest crossing
    for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
        d = np.hypot((cx - x) / grid.dx, (cy - y) / grid.dy)
        q = int(np.argmin(d))
        mid = osm.node((x + cx[q]) / 2 + rng.normal(0, 0.05) * grid.dx, (y + cy[q]) / 2)
        osm.way([osm.node(x, y), mid, crossing[q]], {"highway": "unclassified"})
    return cx, cy, np.array([crossing[q] for q in range(len(cx))], dtype=np.int64)


def build_synthetic_roads(
    scenario: ScenarioData, out: Path, seed: int = 0, spacing_m: float = SPACING_M
) -> BuildReport:
    """A synthetic road graph folder for the counties of a scenario's stations and stops:
    :func:`synthetic_roads_osm` built by :func:`~geodata.roads.build.build_roads`; its
    manifest says ``"synthetic": true``.

    Raises
    ------
    ValueError
        When the scenario has no routing tables.
    """
    from geodata.china import load_counties

    st, sp = scenario.stations, scenario.stops
    if st is None or sp is None:
        raise ValueError("the scenario has no routing tables (stations, stops)")
    county = np.concatenate([st.county_code, sp.county_code]).astype(str)
    lon = np.concatenate([st.lon, sp.lon]).astype(float)
    lat = np.concatenate([st.lat, sp.lat]).astype(float)
    codes = sorted(set(county.tolist()))
    frame = load_counties()
    frame = frame[frame["code"].astype(str).isin(codes)]
    polygons = dict(zip(frame["code"].astype(str), frame.geometry.values, strict=True))
    points = {c: (lon[county == c], lat[county == c]) for c in codes}
    out = Path(out)
    xml = out.parent / f"{out.name}.synthetic.osm"
    synthetic_roads_osm(polygons, points, xml, seed, spacing_m)
    report = build_roads(xml, out)
    manifest = {
        **report.manifest,
        "synthetic": True,
        "synthetic_seed": seed,
        "synthetic_spacing_m": spacing_m,
    }
    manifest["note"] = (
        "SYNTHETIC road network (geodata.roads.synthetic): jittered grids per county, not "
        "OpenStreetMap data"
    )
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    xml.unlink()
    return dataclasses.replace(report, manifest=manifest)
