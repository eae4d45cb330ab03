"""``planner roads build``: the drivable network of an OpenStreetMap extract as a graph folder.

The extract is streamed once with pyosmium (node locations kept in an index that may live on
disk, ``storage``), so a national extract never has to fit in memory as objects. Every way
whose ``highway`` class has a speed (:data:`~geodata.roads.speeds.DEFAULT_KMH`) and that a
car may use is cut into its segments (one edge per pair of consecutive nodes, so an edge's
geometry is its two end points):

- ``access``, ``vehicle``, ``motor_vehicle`` or ``motorcar`` = ``no`` / ``private`` on the
  way drops it; on a node (a gate, a bollard) it drops the segments that touch the node;
- ``oneway=yes|true|1`` keeps the drawn direction only, ``oneway=-1|reverse`` the opposite
  one (the edge is stored reversed), ``junction=roundabout|circular`` and ``highway=motorway``
  are one-way unless ``oneway=no``;
- ``surface`` (unpaved or not) and ``tracktype`` are kept for the speeds;
- with an elevation model (``elevation``, a GeoTIFF DEM), each node's elevation (the cell
  holding it, :mod:`geodata.roads.elevation`), for the slope factors.

Segments are kept when one end lies inside the clip (a bounding box, or county polygons
with a buffer). They are written in batches into tiles of :data:`TILE_DEG` degrees
(``edges/<x>_<y>.parquet``, by the tile of the first end), so a county's task reads only
the tiles its bounding box touches (:mod:`geodata.roads.graph`). ``manifest.json`` records
the extract (name, size, sha256, timestamp of its header), the clip, the counts and the
speed table of the build.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from geodata.roads.elevation import Elevation
from geodata.roads.speeds import DEFAULT_KMH, UNPAVED_SURFACES, Speeds

log = logging.getLogger(__name__)

FORMAT = "westplan-roads/1"
"""Format name written in ``manifest.json``; the reader refuses others."""

TILE_DEG = 0.5
"""Edge tiles are squares of this many degrees (about 50 km): a county touches a few."""

BATCH_EDGES = 1_000_000
"""Edges held in memory before a batch is written (about 100 MB)."""

EDGE_SCHEMA = pa.schema(
    [
        ("u", pa.int64()),
        ("v", pa.int64()),
        ("u_lon", pa.float64()),
        ("u_lat", pa.float64()),
        ("v_lon", pa.float64()),
        ("v_lat", pa.float64()),
        ("meters", pa.float32()),
        ("highway", pa.string()),
        ("oneway", pa.bool_()),
        ("unpaved", pa.bool_()),
        ("tracktype", pa.int8()),
        ("way", pa.int64()),
        ("u_ele", pa.float32()),
        ("v_ele", pa.float32()),
    ]
)
"""One row per road segment ``u -> v`` (OSM node ids); ``oneway`` false: both directions;
``u_ele``, ``v_ele`` the ends' elevations in metres (``nan`` without an elevation model; a
folder built before they existed reads them as null)."""

_CLOSED = frozenset({"no", "private"})
_ACCESS_KEYS = ("access", "vehicle", "motor_vehicle", "motorcar")
_ONEWAY_YES = frozenset({"yes", "true", "1"})
_ONEWAY_REVERSE = frozenset({"-1", "reverse"})
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class Clip:
    """Where to keep roads: a box ``(west, south, east, north)`` in degrees and optionally
    polygons (already buffered) inside it. ``None`` box: the whole extract."""

    box: tuple[float, float, float, float] | None = None
    polygons: shapely.Geometry | None = None
    label: str = "whole extract"

    @classmethod
    def from_polygons(cls, geometry: shapely.Geometry, buffer_m: float, label: str) -> Clip:
        """Polygons (WGS-84) grown by ``buffer_m`` metres (in degrees at their latitude)."""
        lat = float(shapely.centroid(geometry).y)
        deg = buffer_m / 111_320.0 / max(math.cos(math.radians(lat)), 0.2)
        grown = shapely.buffer(geometry, deg)
        shapely.prepare(grown)
        w, s, e, n = shapely.bounds(grown).tolist()
        return cls((w, s, e, n), grown, label)

    def keep(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Which points lie inside the clip."""
        if self.box is None:
            return np.ones(len(lon), dtype=bool)
        w, s, e, n = self.box
        inside = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
        if self.polygons is not None and inside.any():
            idx = np.flatnonzero(inside)
            inside[idx] = shapely.contains_xy(self.polygons, lon[idx], lat[idx])
        return inside


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build wrote."""

    folder: Path
    edges: int
    nodes: int
    ways: int
    tiles: int
    seconds: float
    manifest: dict[str, Any]


def haversine_m(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Great-circle metres between points (degrees)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def tile_of(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tile column and row of points."""
    return (
        np.floor(np.asarray(lon) / TILE_DEG).astype(np.int64),
        np.floor(np.asarray(lat) / TILE_DEG).astype(np.int64),
    )


def build_roads(
    extract: Path,
    out: Path,
    clip: Clip | None = None,
    *,
    storage: str = "flex_mem",
    batch_edges: int = BATCH_EDGES,
    elevation: Path | None = None,
) -> BuildReport:
    """Read ``extract`` (``.osm.pbf``, ``.osm``, ``.osm.bz2``) and write the graph folder ``out``.

    Parameters
    ----------
    extract : Path
        An OpenStreetMap extract.
    out : Path
        The graph folder; replaced when it exists and holds a manifest.
    clip : Clip, optional
        Keep only segments with an end inside it (default: everything drivable).
    storage : str
        pyosmium's node-location index: ``flex_mem`` (memory, the default) or, for a
        national extract on a small machine, ``dense_file_array,FILE`` (on disk).
    batch_edges : int
        Edges held before a batch is written.
    elevation : Path, optional
        A DEM GeoTIFF: each node's elevation is stored (``u_ele``, ``v_ele``, ``nodes.parquet``
        ``ele``) and the arcs get slope factors when read.

    Raises
    ------
    FileNotFoundError
        When ``extract`` (or ``elevation``) does not exist.
    ValueError
        When ``elevation`` is not a raster with a coordinate system.
    """
    import osmium  # the reader is needed only here

    extract = Path(extract)
    if not extract.is_file():
        raise FileNotFoundError(f"{extract}: no such OpenStreetMap extract")
    clip = clip or Clip()
    if elevation is not None:
        with Elevation(elevation):  # a bad DEM is said before the extract is read
            pass
    t0 = time.perf_counter()
    out = Path(out)
    if out.exists() and (out / "manifest.json").exists():
        shutil.rmtree(out)
    parts = out / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    writer = _TileWriter(parts)
    fp = (
        osmium.FileProcessor(str(extract))
        .with_locations(storage)
        .with_filter(osmium.filter.KeyFilter("highway", "barrier", *_ACCESS_KEYS))
    )
    timestamp = fp.header.get("osmosis_replication_timestamp") or fp.header.get("timestamp")
    ways = _read_ways(fp, writer, clip, batch_edges)
    if elevation is not None:
        with Elevation(elevation) as dem:
            tiles, edges, without = writer.compact(out / "edges", dem)
    else:
        tiles, edges, without = writer.compact(out / "edges")
    shutil.rmtree(parts)
    nodes = _write_nodes(out)
    seconds = time.perf_counter() - t0
    counts = {"edges": edges, "nodes": nodes, "ways": ways, "tiles": tiles}
    manifest = _manifest(
        extract, clip, timestamp, counts, _elevation_note(elevation, edges, without)
    )
    manifest["build_seconds"] = round(seconds, 3)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    log.info("roads: %s edges, %s nodes in %s tiles (%.1f s)", edges, nodes, tiles, seconds)
    return BuildReport(out, edges, nodes, ways, tiles, seconds, manifest)


def _manifest(
    extract: Path,
    clip: Clip,
    timestamp: str | None,
    counts: dict[str, int],
    elevation: dict[str, Any] | None,
) -> dict[str, Any]:
    """The graph folder's ``manifest.json``: the extract (name, size, sha256, timestamp), the
    clip, the tiles, the counts, the speeds and the elevation source."""
    return {
        "format": FORMAT,
        "extract": {
            "name": extract.name,
            "bytes": extract.stat().st_size,
            "sha256": _sha256(extract),
            "timestamp": timestamp or None,
        },
        "clip": {"label": clip.label, "box": list(clip.box) if clip.box else None},
        "tile_degrees": TILE_DEG,
        "counts": counts,
        "speeds": Speeds().as_dict(),
        "elevation": elevation,
    }


def _read_ways(fp: Any, writer: _TileWriter, clip: Clip, batch_edges: int) -> int:
    """Stream the extract's drivable ways into ``writer`` in batches of ``batch_edges``
    edges; the number of ways kept. Nodes come first in an extract, so a closed barrier
    node (``access=no``, a gate) is known before the ways that pass it."""
    import osmium

    closed_nodes: set[int] = set()
    rows = _Rows()
    ways = 0
    for obj in fp:
        if isinstance(obj, osmium.osm.Node):
            if _closed(obj.tags):
                closed_nodes.add(obj.id)
            continue
        if not isinstance(obj, osmium.osm.Way):
            continue
        tags = obj.tags
        highway = tags.get("highway")
        if highway not in DEFAULT_KMH or _closed(tags) or tags.get("area") == "yes":
            continue
        ways += rows.add_way(obj, highway, _direction(tags, highway), tags, closed_nodes)
        if len(rows) >= batch_edges:
            writer.write(rows.table(clip))
            rows = _Rows()
    writer.write(rows.table(clip))
    return ways


def _elevation_note(dem: Path | None, edges: int, without: int) -> dict[str, Any] | None:
    """The manifest's ``elevation``: the DEM (name, bytes, sha256) and the segments with an
    end it does not cover (no slope factor for them)."""
    if dem is None:
        return None
    dem = Path(dem)
    return {
        "name": dem.name,
        "bytes": dem.stat().st_size,
        "sha256": _sha256(dem),
        "segments": edges,
        "segments_without": without,
    }


def _closed(tags: Any) -> bool:
    return any(tags.get(k) in _CLOSED for k in _ACCESS_KEYS)


def _direction(tags: Any, highway: str) -> int:
    """0 both ways, 1 as drawn, -1 against the drawing."""
    oneway = tags.get("oneway", "")
    if oneway in _ONEWAY_YES:
        return 1
    if oneway in _ONEWAY_REVERSE:
        return -1
    if oneway == "no":
        return 0
    if tags.get("junction") in ("roundabout", "circular") or highway == "motorway":
        return 1
    return 0


def _tracktype(tags: Any) -> int:
    value = tags.get("tracktype", "")
    return int(value[5]) if value.startswith("grade") and value[5:6] in "12345" else 0


class _Rows:
    """Segments of a batch, column by column."""

    def __init__(self) -> None:
        self.cols: dict[str, list[Any]] = {name: [] for name in EDGE_SCHEMA.names}
        self.cols.pop("meters")

    def __len__(self) -> int:
        return len(self.cols["u"])

    def add_way(self, way: Any, highway: str, direction: int, tags: Any, closed: set[int]) -> int:
        ids, lons, lats = [], [], []
        for n in way.nodes:
            if not n.location.valid():  # a node the extract cut off: the way breaks there
                ids.append(-1)
                lons.append(math.nan)
                lats.append(math.nan)
                continue
            ids.append(n.ref)
            lons.append(n.lon)
            lats.append(n.lat)
        unpaved = tags.get("surface", "") in UNPAVED_SURFACES
        track = _tracktype(tags)
        c = self.cols
        added = 0
        for k in range(len(ids) - 1):
            a, b = (k, k + 1) if direction >= 0 else (k + 1, k)
            if ids[a] < 0 or ids[b] < 0 or ids[a] in closed or ids[b] in closed:
                continue
            c["u"].append(ids[a])
            c["v"].append(ids[b])
            c["u_lon"].append(lons[a])
            c["u_lat"].append(lats[a])
            c["v_lon"].append(lons[b])
            c["v_lat"].append(lats[b])
            c["highway"].append(highway)
            c["oneway"].append(direction != 0)
            c["unpaved"].append(unpaved)
            c["tracktype"].append(track)
            c["way"].append(way.id)
            added = 1
        return added

    def table(self, clip: Clip) -> pa.Table:
        arrays = {name: np.asarray(values) for name, values in self.cols.items()}
        n = len(self)
        if n == 0:
            return EDGE_SCHEMA.empty_table()
        ulon, ulat = arrays["u_lon"].astype(float), arrays["u_lat"].astype(float)
        vlon, vlat = arrays["v_lon"].astype(float), arrays["v_lat"].astype(float)
        keep = clip.keep(ulon, ulat) | clip.keep(vlon, vlat)
        arrays["meters"] = haversine_m(ulon, ulat, vlon, vlat).astype(np.float32)
        arrays["u_ele"] = arrays["v_ele"] = np.full(n, np.nan, dtype=np.float32)
        return pa.table(
            {
                name: pa.array(arrays[name][keep], type=EDGE_SCHEMA.field(name).type)
                for name in EDGE_SCHEMA.names
            },
            schema=EDGE_SCHEMA,
        )


class _TileWriter:
    """Batches split by tile into ``parts/<x>_<y>/<batch>.parquet``, then one file a tile."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.batch = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        tx, ty = tile_of(table["u_lon"].to_numpy(), table["u_lat"].to_numpy())
        key = tx * 1_000_003 + ty
        order = np.argsort(key, kind="stable")
        table, key, tx, ty = table.take(order), key[order], tx[order], ty[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        ends = np.r_[starts[1:], len(key)]
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            sub = self.folder / f"{tx[a]}_{ty[a]}"
            sub.mkdir(exist_ok=True)
            pq.write_table(table.slice(a, b - a), sub / f"{self.batch:06d}.parquet")
        self.batch += 1

    def compact(self, edges: Path, dem: Elevation | None = None) -> tuple[int, int, int]:
        """One parquet file per tile, with the ends' elevations from ``dem`` (read a tile at
        a time); returns (tiles, edges, edges with an end the DEM does not cover)."""
        edges.mkdir(parents=True, exist_ok=True)
        tiles = total = without = 0
        for sub in sorted(p for p in self.folder.iterdir() if p.is_dir()):
            table = pa.concat_tables(pq.read_table(f) for f in sorted(sub.glob("*.parquet")))
            if dem is not None:
                u_ele = dem.at(table["u_lon"].to_numpy(), table["u_lat"].to_numpy())
                v_ele = dem.at(table["v_lon"].to_numpy(), table["v_lat"].to_numpy())
                without += int((~np.isfinite(u_ele) | ~np.isfinite(v_ele)).sum())
                for name, values in (("u_ele", u_ele), ("v_ele", v_ele)):
                    column = pa.array(values.astype(np.float32), type=pa.float32())
                    table = table.set_column(table.schema.get_field_index(name), name, column)
            pq.write_table(table, edges / f"{sub.name}.parquet", compression="zstd")
            tiles += 1
            total += table.num_rows
        return tiles, total, without


def _write_nodes(out: Path) -> int:
    """``nodes.parquet``: every node id with its location and elevation (``ele``, ``nan``
    without), in two passes over the tiles: the ids of each tile, then one sort of all of
    them picks each node's first tile (16 bytes a node held), and the rows are written a
    tile at a time."""
    files = sorted((out / "edges").glob("*.parquet"))
    per_tile = [_tile_nodes(f, with_rows=False)[0] for f in files]
    all_ids = np.concatenate(per_tile) if per_tile else np.zeros(0, dtype=np.int64)
    first = np.zeros(len(all_ids), dtype=bool)
    first[np.unique(all_ids, return_index=True)[1]] = True
    del all_ids
    schema = pa.schema(
        [("id", pa.int64()), ("lon", pa.float64()), ("lat", pa.float64()), ("ele", pa.float32())]
    )
    written, start = 0, 0
    with pq.ParquetWriter(out / "nodes.parquet", schema, compression="zstd") as writer:
        for f, ids in zip(files, per_tile, strict=True):
            keep = first[start : start + len(ids)]
            start += len(ids)
            _, rows = _tile_nodes(f, with_rows=True)
            table = pa.table({k: v[keep] for k, v in rows.items()}, schema=schema)
            writer.write_table(table)
            written += table.num_rows
        if not files:
            writer.write_table(schema.empty_table())
    return written


def _tile_nodes(f: Path, with_rows: bool) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The distinct node ids of a tile's edges (sorted) and, if asked, their columns."""
    t = pq.read_table(f)
    ids = np.concatenate([t["u"].to_numpy(), t["v"].to_numpy()])
    unique, index = np.unique(ids, return_index=True)
    if not with_rows:
        return unique, {}
    rows = {"id": unique}
    for name, a, b in (
        ("lon", "u_lon", "v_lon"),
        ("lat", "u_lat", "v_lat"),
        ("ele", "u_ele", "v_ele"),
    ):
        both = np.concatenate(
            [t[a].to_numpy(zero_copy_only=False), t[b].to_numpy(zero_copy_only=False)]
        )
        rows[name] = both[index]
    return unique, rows


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def county_clip(codes: Iterable[str], buffer_m: float = 10_000.0) -> Clip:
    """The clip of some counties of the built-in geography, grown by ``buffer_m``.

    Raises
    ------
    ValueError
        When a code is not a county of the built-in geography.
    """
    from geodata.china import load_counties

    wanted = [str(c).strip() for c in codes if str(c).strip()]
    counties = load_counties()
    found = counties[counties["code"].astype(str).isin(wanted)]
    missing = sorted(set(wanted) - set(found["code"].astype(str)))
    if missing:
        raise ValueError(
            f"unknown county codes {', '.join(missing)}; expected codes of the built-in "
            f"geography (e.g. 431202)"
        )
    geometry = shapely.union_all(np.asarray(found.geometry.values))
    return Clip.from_polygons(geometry, buffer_m, f"counties {','.join(wanted)} + {buffer_m:g} m")
