"""Drive metres and seconds between points over a :class:`~geodata.roads.graph.RoadGraph`.

Each point is snapped to the nearest drivable segment of a large strongly connected part of
the graph (:data:`SMALL_COMPONENT`) (a shapely STRtree on those segments in
a local metric plane around the points; the snap distance is reported). A point farther
than ``snap_limit_m`` (:data:`SNAP_LIMIT_M`) is not snapped: every pair with it is
unreachable and the caller names it. From a snapped point a vehicle leaves along its
segment (towards ``v``; towards ``u`` too when the segment is two-way) and arrives the same
way. The shortest times between the segments' ends are Dijkstra's
(:func:`scipy.sparse.csgraph.dijkstra` from each point's exits); the metres are those of the
fastest path. A pair without a path has ``inf`` seconds and metres, never a large number.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from geodata.roads.graph import Box, RoadGraph, edge_tiles, read_graph
from geodata.roads.speeds import Speeds

SNAP_LIMIT_M = 1000.0
"""A point farther than this from every drivable segment is not on the network: its pairs
are unreachable and the matrix names it (1 km: a township stop is on a road, a village
1 km from the nearest mapped road has a road the extract lacks)."""

SEARCH_BUFFER_M = 20_000.0
"""The graph around the points' bounding box that a matrix reads: paths between a county's
points may leave the county's box (a valley road around a ridge), up to this far."""

SMALL_COMPONENT = 500
"""Strongly connected parts of fewer nodes are fragments that points do not snap to
(OSRM's default is 1,000; a county's road network read by its box has tens of thousands)."""

_M_PER_DEG = math.radians(1) * 6_371_008.8  # the haversine sphere
_AT_NODE = 1e-9
"""A snap this close to a segment's end (as a fraction) is at its node."""


@dataclass(frozen=True, slots=True)
class Snap:
    """Where the points join the network.

    Attributes
    ----------
    segment : ndarray of int, shape (P,)
        The segment each point is on (-1: farther than the limit).
    fraction : ndarray of float, shape (P,)
        Position along the segment from ``u`` (0) to ``v`` (1).
    meters : ndarray of float, shape (P,)
        Straight distance from the point to the segment.
    lon, lat : ndarray of float, shape (P,)
        The snapped position.
    """

    segment: np.ndarray
    fraction: np.ndarray
    meters: np.ndarray
    lon: np.ndarray
    lat: np.ndarray


@dataclass(frozen=True, slots=True)
class RoadMatrix:
    """Metres and seconds for every ordered pair of points (``inf``: no path)."""

    meters: np.ndarray
    seconds: np.ndarray
    snap: Snap
    snap_limit_m: float
    edges: int = 0
    """Road segments of the graph the matrix was computed on."""
    tiles: tuple[str, ...] = ()
    """The edge tiles read for it (file names under ``edges/``; :func:`road_matrix`)."""
    bytes_read: int = 0
    """Their size on disk."""

    @property
    def far(self) -> np.ndarray:
        """Indices of the points farther than the snap limit from every road."""
        return np.flatnonzero(self.snap.segment < 0)


def _plane(lon0: float, lat0: float) -> tuple[float, float]:
    return _M_PER_DEG * math.cos(math.radians(lat0)), _M_PER_DEG


def snap_points(
    graph: RoadGraph, lon: np.ndarray, lat: np.ndarray, limit_m: float = SNAP_LIMIT_M
) -> Snap:
    """Snap each point to its nearest segment (see the module docstring)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    p = len(lon)
    seg = np.full(p, -1, dtype=np.int64)
    frac = np.zeros(p)
    dist = np.full(p, np.inf)
    slon, slat = lon.copy(), lat.copy()
    if graph.n_segments == 0 or p == 0:
        return Snap(seg, frac, dist, slon, slat)
    lon0, lat0 = float(np.nanmean(lon)), float(np.nanmean(lat))
    kx, ky = _plane(lon0, lat0)
    candidates = _main_segments(graph)
    cu, cv = graph.seg_u[candidates], graph.seg_v[candidates]
    ux, uy = (graph.lon[cu] - lon0) * kx, (graph.lat[cu] - lat0) * ky
    vx, vy = (graph.lon[cv] - lon0) * kx, (graph.lat[cv] - lat0) * ky
    lines = shapely.linestrings(np.stack([np.stack([ux, uy], 1), np.stack([vx, vy], 1)], axis=1))
    tree = shapely.STRtree(lines)
    pts = shapely.points((lon - lon0) * kx, (lat - lat0) * ky)
    (which, near), d = tree.query_nearest(pts, return_distance=True, all_matches=False)
    nearest = candidates[near]
    nearest_line = lines[near]
    f = shapely.line_locate_point(nearest_line, pts[which], normalized=True)
    f = np.where(np.isfinite(f), f, 0.0)  # a zero-length segment: its start
    ok = d <= limit_m
    seg[which[ok]] = nearest[ok]
    frac[which] = f
    dist[which] = d
    on = shapely.line_interpolate_point(nearest_line, f, normalized=True)
    slon[which] = shapely.get_x(on) / kx + lon0
    slat[which] = shapely.get_y(on) / ky + lat0
    return Snap(seg, frac, dist, slon, slat)


def _main_segments(graph: RoadGraph) -> np.ndarray:
    """The segments a point may snap to: those inside a strongly connected part of the graph
    of at least :data:`SMALL_COMPONENT` nodes (or the largest part, when none is that big),
    as OSRM does, so that a point never lands on a fragment cut off by the clip, a one-way
    dead end or a driveway mapped apart from the streets."""
    _, label = csgraph.connected_components(graph.seconds, directed=True, connection="strong")
    size = np.bincount(label)
    big = size >= min(SMALL_COMPONENT, int(size.max()))
    keep = big[label[graph.seg_u]] & (label[graph.seg_u] == label[graph.seg_v])
    return np.flatnonzero(keep)


def _ends(graph: RoadGraph, snap: Snap) -> tuple[list, list]:
    """Per point, its exits ``[(node, seconds, metres)]`` and entries (same form)."""
    exits: list[list[tuple[int, float, float]]] = []
    entries: list[list[tuple[int, float, float]]] = []
    for s, t in zip(snap.segment.tolist(), snap.fraction.tolist(), strict=True):
        if s < 0:
            exits.append([])
            entries.append([])
            continue
        sec, met = float(graph.seg_seconds[s]), float(graph.seg_meters[s])
        back = float(graph.seg_seconds_back[s])  # v -> u: another slope factor
        u, v = int(graph.seg_u[s]), int(graph.seg_v[s])
        out = [(v, (1 - t) * sec, (1 - t) * met)]
        into = [(u, t * sec, t * met)]
        if graph.seg_both[s]:
            out.append((u, t * back, t * met))
            into.append((v, (1 - t) * back, (1 - t) * met))
        # a point on a node is that node: left and reached by every arc of it
        if t <= _AT_NODE:
            out.append((u, 0.0, 0.0))
            into.append((u, 0.0, 0.0))
        if t >= 1 - _AT_NODE:
            out.append((v, 0.0, 0.0))
            into.append((v, 0.0, 0.0))
        exits.append(out)
        entries.append(into)
    return exits, entries


def _arc_keys(seconds: sparse.csr_matrix, meters: sparse.csr_matrix) -> tuple[np.ndarray, ...]:
    """Sorted keys ``a * n + b`` of the arcs and their metres, to look arcs up by their ends
    (``seconds`` and ``meters`` share their sparsity)."""
    m = meters.tocsr()
    m.sort_indices()
    n = m.shape[0]
    rows = np.repeat(np.arange(n), np.diff(m.indptr))
    return rows.astype(np.int64) * n + m.indices, m.data


def _path_meters(arcs: tuple[np.ndarray, ...], pred: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Metres along the shortest-time trees ``pred`` (one row a tree) from their roots to
    ``targets``: all the paths walked up at once, one vectorised step an arc."""
    keys, metres = arcs
    n = pred.shape[1]
    rows = np.broadcast_to(np.arange(pred.shape[0])[:, None], (pred.shape[0], len(targets)))
    cur = np.broadcast_to(targets[None, :], rows.shape).copy()
    total = np.zeros(rows.shape)
    up = pred[rows, cur]
    alive = up >= 0
    while alive.any():
        key = up[alive].astype(np.int64) * n + cur[alive]
        total[alive] += metres[np.searchsorted(keys, key)]
        cur[alive] = up[alive]
        up = pred[rows, cur]
        alive = up >= 0
    return total


def _sources(exits: list) -> np.ndarray:
    return np.array(sorted({a for ex in exits for a, _, _ in ex}), dtype=np.int64)


def point_matrix(
    graph: RoadGraph, lon: np.ndarray, lat: np.ndarray, snap_limit_m: float = SNAP_LIMIT_M
) -> RoadMatrix:
    """Metres and seconds between every ordered pair of points over ``graph``.

    One Dijkstra tree a snapped point: the point is a node of its own with arcs to its exits
    (the parts of its segment to their ends), so its tree holds the fastest way out.
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    p = len(lon)
    snap = snap_points(graph, lon, lat, snap_limit_m)
    exits, entries = _ends(graph, snap)
    secs = np.full((p, p), np.inf)
    mets = np.full((p, p), np.inf)
    on = np.flatnonzero(snap.segment >= 0)
    if len(on):
        n = graph.n_nodes
        a = [n + i for i in on.tolist() for _ in exits[i]]
        b = [x for i in on.tolist() for x, _, _ in exits[i]]
        sa = [sec for i in on.tolist() for _, sec, _ in exits[i]]
        ma = [met for i in on.tolist() for _, _, met in exits[i]]
        seconds, meters = _with_points(graph, p, a, b, sa, ma)
        dist, pred = csgraph.dijkstra(seconds, indices=n + on, return_predecessors=True)
        # every point's entries, padded to the same number
        width = max(len(entries[j]) for j in on.tolist())
        e_node = np.zeros((p, width), dtype=np.int64)
        e_sec = np.full((p, width), np.inf)
        e_met = np.zeros((p, width))
        for j in on.tolist():
            for k, (node, sec, met) in enumerate(entries[j]):
                e_node[j, k], e_sec[j, k], e_met[j, k] = node, sec, met
        nodes, inverse = np.unique(e_node, return_inverse=True)
        inverse = inverse.reshape(e_node.shape)
        node_m = _path_meters(_arc_keys(seconds, meters), pred, nodes)
        cand = dist[:, nodes][:, inverse] + e_sec[None, :, :]  # (sources, points, entries)
        best = np.argmin(cand, axis=2)
        pick = np.take_along_axis(cand, best[:, :, None], axis=2)[:, :, 0]
        via = np.take_along_axis(inverse[None, :, :].repeat(len(on), 0), best[:, :, None], 2)
        extra = np.take_along_axis(e_met[None, :, :].repeat(len(on), 0), best[:, :, None], 2)
        metres = np.take_along_axis(node_m, via[:, :, 0], axis=1) + extra[:, :, 0]
        secs[on, :] = pick
        mets[on, :] = np.where(np.isfinite(pick), metres, np.inf)
        _same_segment(graph, snap, secs, mets)
    np.fill_diagonal(secs, 0.0)
    np.fill_diagonal(mets, 0.0)
    return RoadMatrix(mets, secs, snap, snap_limit_m, graph.n_segments)


def _with_points(
    graph: RoadGraph, p: int, a: list[int], b: list[int], sa: list[float], ma: list[float]
) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """The graph's seconds and metres with ``p`` point nodes after its nodes and the arcs
    ``a -> b`` from them (the fastest of parallel arcs; a zero arc kept at a nanosecond)."""
    n = graph.n_nodes + p
    sec = graph.seconds.tocoo()
    met = graph.meters.tocoo()
    rows = np.concatenate([sec.row, np.asarray(a, np.int64)])
    cols = np.concatenate([sec.col, np.asarray(b, np.int64)])
    s_all = np.concatenate([sec.data, np.maximum(np.asarray(sa, float), 1e-9)])
    m_all = np.concatenate([met.data, np.maximum(np.asarray(ma, float), 1e-9)])
    order = np.lexsort((s_all, cols, rows))
    rows, cols, s_all, m_all = rows[order], cols[order], s_all[order], m_all[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
    rows, cols, s_all, m_all = rows[first], cols[first], s_all[first], m_all[first]
    return (
        sparse.csr_matrix((s_all, (rows, cols)), shape=(n, n)),
        sparse.csr_matrix((m_all, (rows, cols)), shape=(n, n)),
    )


def _same_segment(graph: RoadGraph, snap: Snap, secs: np.ndarray, mets: np.ndarray) -> None:
    """Two points on one segment: along it, where its direction allows."""
    seg = snap.segment
    for s in np.unique(seg[seg >= 0]).tolist():
        on = np.flatnonzero(seg == s)
        if len(on) < 2:
            continue
        for i in on.tolist():
            for j in on.tolist():
                d = snap.fraction[j] - snap.fraction[i]
                if d >= 0 or graph.seg_both[s]:
                    along = graph.seg_seconds[s] if d >= 0 else graph.seg_seconds_back[s]
                    sec, met = abs(d) * along, abs(d) * graph.seg_meters[s]
                    if sec < secs[i, j]:
                        secs[i, j], mets[i, j] = sec, met


def points_box(lon: np.ndarray, lat: np.ndarray, buffer_m: float = SEARCH_BUFFER_M) -> Box:
    """The points' bounding box grown by ``buffer_m``."""
    lat0 = float(np.nanmean(lat))
    dx = buffer_m / (_M_PER_DEG * max(math.cos(math.radians(lat0)), 0.2))
    dy = buffer_m / _M_PER_DEG
    return (
        float(np.nanmin(lon)) - dx,
        float(np.nanmin(lat)) - dy,
        float(np.nanmax(lon)) + dx,
        float(np.nanmax(lat)) + dy,
    )


def road_matrix(
    folder: Path,
    lon: np.ndarray,
    lat: np.ndarray,
    speeds: Speeds | None = None,
    snap_limit_m: float = SNAP_LIMIT_M,
    buffer_m: float = SEARCH_BUFFER_M,
) -> RoadMatrix:
    """The matrix of some points over the part of a graph folder around them (it says which
    tiles were read and their bytes)."""
    box = points_box(lon, lat, buffer_m)
    graph = read_graph(folder, box, speeds)
    files = edge_tiles(folder, box)
    m = point_matrix(graph, lon, lat, snap_limit_m)
    read = sum(f.stat().st_size for f in files)
    return dataclasses.replace(m, tiles=tuple(f.name for f in files), bytes_read=read)


def road_paths(
    graph: RoadGraph,
    lon: np.ndarray,
    lat: np.ndarray,
    legs: list[tuple[int, int]],
    snap_limit_m: float = SNAP_LIMIT_M,
) -> list[list[tuple[float, float]] | None]:
    """The fastest road path of each leg ``(i, j)`` between points as ``(lon, lat)``
    vertices: the point, its snapped position, the nodes, the snapped end, the end point;
    ``None`` for a leg without a path."""
    snap = snap_points(graph, lon, lat, snap_limit_m)
    exits, entries = _ends(graph, snap)
    needed = sorted({i for i, _ in legs})
    src = _sources([exits[i] for i in needed])
    if len(src) == 0:
        return [None if i != j else [] for i, j in legs]
    dist, pred = csgraph.dijkstra(graph.seconds, indices=src, return_predecessors=True)
    row = {int(a): k for k, a in enumerate(src.tolist())}
    out: list[list[tuple[float, float]] | None] = []
    for i, j in legs:
        head = [(float(lon[i]), float(lat[i])), (float(snap.lon[i]), float(snap.lat[i]))]
        tail = [(float(snap.lon[j]), float(snap.lat[j])), (float(lon[j]), float(lat[j]))]
        best, choice = math.inf, None
        for a, sa, _ in exits[i]:
            for b, sb, _ in entries[j]:
                s = sa + dist[row[a], b] + sb
                if s < best:
                    best, choice = s, (row[a], b)
        same = snap.segment[i] >= 0 and snap.segment[i] == snap.segment[j]
        if same:
            d = snap.fraction[j] - snap.fraction[i]
            s_id = int(snap.segment[i])
            along = graph.seg_seconds[s_id] if d >= 0 else graph.seg_seconds_back[s_id]
            if (d >= 0 or graph.seg_both[s_id]) and abs(d) * along <= best:
                out.append(head + tail)
                continue
        if choice is None or not math.isfinite(best):
            out.append(None)
            continue
        k, b = choice
        nodes = [b]
        while pred[k, nodes[-1]] >= 0:
            nodes.append(int(pred[k, nodes[-1]]))
        nodes.reverse()
        out.append(head + [(float(graph.lon[n]), float(graph.lat[n])) for n in nodes] + tail)
    return out
