"""Reading a graph folder (:mod:`geodata.roads.build`), or the part of it inside a box.

:func:`read_graph` reads only the edge tiles a box touches and keeps the segments with an
end inside it, numbers their nodes ``0..n-1`` and returns a :class:`RoadGraph`: directed
arcs (a two-way segment gives two), their metres and seconds (the speeds of
:class:`~geodata.roads.speeds.Speeds`), and a CSR matrix of seconds for
:func:`scipy.sparse.csgraph.dijkstra`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import sparse

from geodata.roads.build import EDGE_SCHEMA, FORMAT, TILE_DEG
from geodata.roads.speeds import Speeds

Box = tuple[float, float, float, float]


class RoadsError(ValueError):
    """A graph folder that cannot be read (missing, another format)."""


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a graph folder.

    Raises
    ------
    RoadsError
        When the folder has no manifest of this format.
    """
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        raise RoadsError(f"{folder}: no manifest.json; expected a folder of `planner roads build`")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise RoadsError(
            f"{path}: format {manifest.get('format')!r}; expected {FORMAT!r} (build it again)"
        )
    return manifest


def edge_tiles(folder: Path, box: Box | None = None) -> list[Path]:
    """The tile files :func:`read_edges` opens for ``box`` (every tile without one): those
    the box touches and their neighbours (an edge is filed by its first end)."""
    files = sorted((Path(folder) / "edges").glob("*.parquet"))
    if box is not None:
        w, s, e, n = box
        x0, x1 = math.floor(w / TILE_DEG), math.floor(e / TILE_DEG)
        y0, y1 = math.floor(s / TILE_DEG), math.floor(n / TILE_DEG)
        wanted = []
        for f in files:
            x, y = (int(v) for v in f.stem.split("_"))
            # an edge is filed by its first end: a neighbour tile may hold one ending inside
            if x0 - 1 <= x <= x1 + 1 and y0 - 1 <= y <= y1 + 1:
                wanted.append(f)
        files = wanted
    return files


def read_edges(folder: Path, box: Box | None = None) -> pa.Table:
    """The edges of a graph folder with an end inside ``box`` (all without one): only the
    tiles the box touches are opened (:func:`edge_tiles`)."""
    read_manifest(folder)
    files = edge_tiles(folder, box)
    if not files:
        return EDGE_SCHEMA.empty_table()
    table = pa.concat_tables(pq.read_table(f, schema=EDGE_SCHEMA) for f in files)
    if box is None:
        return table
    w, s, e, n = box
    cols = {c: table[c].to_numpy() for c in ("u_lon", "u_lat", "v_lon", "v_lat")}
    inside = (
        (cols["u_lon"] >= w) & (cols["u_lon"] <= e) & (cols["u_lat"] >= s) & (cols["u_lat"] <= n)
    ) | ((cols["v_lon"] >= w) & (cols["v_lon"] <= e) & (cols["v_lat"] >= s) & (cols["v_lat"] <= n))
    return table.filter(pa.array(inside))


@dataclass(frozen=True, slots=True)
class RoadGraph:
    """A directed road graph with nodes numbered ``0..n-1``.

    Attributes
    ----------
    node_id : ndarray of int64, shape (N,)
        OSM node ids.
    lon, lat : ndarray of float, shape (N,)
    seg_u, seg_v : ndarray of int, shape (E,)
        The segments (local node numbers), as stored: ``u -> v`` is always allowed.
    seg_both : ndarray of bool, shape (E,)
        ``v -> u`` allowed too.
    seg_meters, seg_seconds : ndarray of float, shape (E,)
        ``seg_seconds``: driving ``u -> v``.
    seg_seconds_back : ndarray of float, shape (E,)
        Driving ``v -> u`` (differs from ``seg_seconds`` only by the slope factors; used
        where ``seg_both``).
    seg_highway : ndarray of str, shape (E,)
    seconds : scipy.sparse.csr_matrix, shape (N, N)
        The fastest arc's seconds between two nodes (parallel arcs: the fastest kept).
    meters : scipy.sparse.csr_matrix, shape (N, N)
        Metres of that same arc.
    """

    node_id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    seg_u: np.ndarray
    seg_v: np.ndarray
    seg_both: np.ndarray
    seg_meters: np.ndarray
    seg_seconds: np.ndarray
    seg_seconds_back: np.ndarray
    seg_highway: np.ndarray
    seconds: sparse.csr_matrix
    meters: sparse.csr_matrix

    @property
    def n_nodes(self) -> int:
        return len(self.node_id)

    @property
    def n_segments(self) -> int:
        return len(self.seg_u)

    @classmethod
    def from_edges(cls, table: pa.Table, speeds: Speeds | None = None) -> RoadGraph:
        """The graph of an edge table (the schema of :data:`EDGE_SCHEMA`)."""
        speeds = speeds or Speeds()
        u_id, v_id = table["u"].to_numpy(), table["v"].to_numpy()
        node_id, inverse = np.unique(np.concatenate([u_id, v_id]), return_inverse=True)
        m = len(u_id)
        seg_u, seg_v = inverse[:m], inverse[m:]
        lon = np.empty(len(node_id))
        lat = np.empty(len(node_id))
        lon[seg_u], lat[seg_u] = table["u_lon"].to_numpy(), table["u_lat"].to_numpy()
        lon[seg_v], lat[seg_v] = table["v_lon"].to_numpy(), table["v_lat"].to_numpy()
        meters = table["meters"].to_numpy().astype(float)
        highway = np.asarray(table["highway"].to_numpy(zero_copy_only=False), dtype=str)
        rise = _column(table, "v_ele") - _column(table, "u_ele")
        grade = np.divide(rise, meters, out=np.full(m, np.nan), where=meters > 0)
        surface = (table["unpaved"].to_numpy(zero_copy_only=False), table["tracktype"].to_numpy())
        seconds = speeds.seconds(meters, highway, *surface, slope=grade)
        back = speeds.seconds(meters, highway, *surface, slope=-grade)
        both = ~table["oneway"].to_numpy(zero_copy_only=False).astype(bool)
        a = np.concatenate([seg_u, seg_v[both]])
        b = np.concatenate([seg_v, seg_u[both]])
        sec = np.concatenate([seconds, back[both]])
        met = np.concatenate([meters, meters[both]])
        keep = (a != b) & np.isfinite(sec)
        a, b, sec, met = a[keep], b[keep], sec[keep], met[keep]
        # parallel arcs: keep the fastest (a CSR matrix would add their weights up)
        order = np.lexsort((sec, b, a))
        a, b, sec, met = a[order], b[order], sec[order], met[order]
        first = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
        a, b, sec, met = a[first], b[first], sec[first], met[first]
        n = len(node_id)
        # a zero-second arc would vanish from a sparse matrix: keep it at a microsecond
        sec_m = sparse.csr_matrix((np.maximum(sec, 1e-6), (a, b)), shape=(n, n))
        met_m = sparse.csr_matrix((np.maximum(met, 1e-6), (a, b)), shape=(n, n))
        return cls(
            node_id=node_id,
            lon=lon,
            lat=lat,
            seg_u=seg_u,
            seg_v=seg_v,
            seg_both=both,
            seg_meters=meters,
            seg_seconds=seconds,
            seg_seconds_back=back,
            seg_highway=highway,
            seconds=sec_m,
            meters=met_m,
        )


def _column(table: pa.Table, name: str) -> np.ndarray:
    """A float column as an array (``nan`` for nulls, and all ``nan`` when absent)."""
    if name not in table.column_names:
        return np.full(table.num_rows, np.nan)
    return np.asarray(table[name].to_numpy(zero_copy_only=False), dtype=float)


def read_graph(folder: Path, box: Box | None = None, speeds: Speeds | None = None) -> RoadGraph:
    """The road graph of a folder, or of the part inside ``box``."""
    return RoadGraph.from_edges(read_edges(folder, box), speeds)
