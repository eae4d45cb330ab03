"""The geometry of a map page: the scale its polygons are lightened to, the projection to the
tiles' coordinate system (GCJ-02 for Gaode tiles, else WGS-84), and the encoded polylines the
page carries (:mod:`maps.payload` writes them, ``static/westplan.js`` reads them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

Projector = Callable[[np.ndarray], np.ndarray]
"""Maps an (n, 2) array of WGS-84 lon/lat to the page's coordinate system."""


@dataclass(frozen=True, slots=True)
class Scale:
    """How much a map's polygons are lightened.

    ``tolerance`` (degrees) is the coverage simplification of the county polygons (shared
    borders stay shared); ``grid`` (degrees) the precision every polygon coordinate is
    snapped to, keeping the polygons valid.
    """

    tolerance: float
    grid: float

    @classmethod
    def for_extent(cls, extent: float) -> Scale:
        """The scale of a map spanning ``extent`` degrees (its larger side).

        A 1,280-pixel-wide screen shows the whole extent at about ``extent / 1280`` degrees
        per pixel; the tolerance is ``extent / 10000``, an eighth of that (so three zoom
        steps in, corners still do not show), within :data:`TOLERANCE_RANGE`, and the grid
        a tenth of the tolerance, rounded down to a power of ten.
        """
        lo, hi = TOLERANCE_RANGE
        tolerance = float(np.clip(extent / 10000.0, lo, hi))
        grid = 10.0 ** np.floor(np.log10(tolerance / 10.0))
        return cls(tolerance=tolerance, grid=float(grid))


TOLERANCE_RANGE = (0.0002, 0.02)
"""Smallest and largest simplification tolerance (degrees): ~20 m to ~2 km."""


def identity(xy: np.ndarray) -> np.ndarray:
    return xy


def projector(crs: str) -> Projector:
    """A function of an (n, 2) lon/lat array into the output CRS."""
    if crs == "wgs84":
        return identity
    if crs != "gcj02":
        raise ValueError(f"unknown output crs {crs!r}; expected 'wgs84' or 'gcj02'")
    from geodata.crs import wgs84_to_gcj02

    def to_gcj(xy: np.ndarray) -> np.ndarray:
        if len(xy) == 0:
            return xy
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return to_gcj


def lighten(geoms: np.ndarray, scale: Scale, project: Projector) -> np.ndarray:
    """Coverage-simplify, convert and round polygons; tiny parts that vanish are dropped."""
    if scale.tolerance > 0 and len(geoms):
        geoms = shapely.coverage_simplify(geoms, scale.tolerance)
    moved = shapely.transform(geoms, project)
    return np.asarray(shapely.set_precision(moved, scale.grid), dtype=object)


def rounded(values: Any, digits: int) -> list[float]:
    return [round(float(v), digits) for v in values]


def bounds(geoms: gpd.GeoSeries, project: Projector) -> list[list[float]]:
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(geoms, dtype=object))
    (a, b), (c, d) = project(np.array([[x0, y0], [x1, y1]]))
    return [[round(b, 3), round(a, 3)], [round(d, 3), round(c, 3)]]


def encode(geom: shapely.Geometry, grid: float) -> list[list[str]]:
    """A (multi)polygon or (multi)line as parts of Google encoded polylines.

    Each part is a list of strings: a polygon's exterior ring and holes, or one line. Every
    string holds (lat, lon) pairs at the grid's decimals; the page decodes them with
    @mapbox/polyline into Leaflet's nested latlng arrays.
    """
    import polyline

    digits = max(0, round(-np.log10(grid)))

    def enc(coords: Any) -> str:
        return str(polyline.encode([(y, x) for x, y, *_ in coords], digits))

    parts: list[list[str]] = []
    for g in shapely.get_parts(geom):
        if g.geom_type == "Polygon" and not g.is_empty:
            parts.append([enc(g.exterior.coords), *(enc(r.coords) for r in g.interiors)])
        elif g.geom_type in ("LineString", "LinearRing") and not g.is_empty:
            parts.append([enc(g.coords)])
    return parts


def outlines(frame: gpd.GeoDataFrame, scale: Scale, project: Projector) -> list[dict[str, Any]]:
    """The boundaries of the polygons as encoded lines (no fill, not interactive)."""
    geoms = lighten(frame.geometry.to_numpy(), scale, project)
    boundaries = shapely.boundary(geoms)
    return [
        {"p": {"name": name, "code": code}, "g": encode(g, scale.grid)}
        for name, code, g in zip(frame["name"], frame["code"], boundaries, strict=True)
        if g is not None and not g.is_empty
    ]


def points(lon: np.ndarray, lat: np.ndarray, project: Projector) -> np.ndarray:
    """(n, 2) array of lat, lon in the output CRS, rounded to 5 decimals (~1 m)."""
    xy = project(np.column_stack([lon, lat]).astype(float))
    return np.round(xy[:, ::-1], 5)
