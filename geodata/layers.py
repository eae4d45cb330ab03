"""GIS layers of a scenario (counties, townships) read through pyogrio.

A layer's CRS must match the one ``scenario.toml`` declares; invalid polygons are repaired
with ``shapely.make_valid`` where that keeps a polygon, with a warning naming the feature.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS

from geodata import crs as crsmod
from planner.i18n import N_
from planner.issues import Report

log = logging.getLogger(__name__)

GIS_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".parquet", ".geoparquet")

_DECLARED_EPSG = {"wgs84": 4326, "gcj02": 4326, "cgcs2000": 4490}
"""EPSG code a layer carries for each declared system (GCJ-02 layers are labelled 4326)."""


@dataclass(frozen=True, slots=True)
class Layer:
    """A checked layer in WGS-84: ``frame`` keeps the attribute columns and geometry."""

    file: str
    frame: gpd.GeoDataFrame


def read_layer(
    path: Path, file: str, declared: str, code_columns: tuple[str, ...], report: Report
) -> Layer | None:
    """Read a GIS layer, check its CRS and geometries and convert it to WGS-84.

    Parameters
    ----------
    code_columns
        Accepted names of the code column, first match wins (``("code", "county_code")``).

    Returns ``None`` (with errors in ``report``) when the layer cannot be used.
    """
    if path.suffix.lower() not in GIS_SUFFIXES:
        report.error(
            file,
            None,
            None,
            "layer-format",
            N_("unsupported layer type {suffix!r}; expected one of {suffixes}"),
            suffix=str(path.suffix),
            suffixes=", ".join(GIS_SUFFIXES),
        )
        return None
    if not path.exists():
        report.error(file, None, None, "missing-file", N_("layer {file} does not exist"), file=file)
        return None
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            frame = gpd.read_parquet(path)
        else:
            frame = gpd.read_file(path, engine="pyogrio")
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        ValueError,
        OSError,
    ) as exc:
        report.error(
            file,
            None,
            None,
            "layer-unreadable",
            N_("cannot read the layer: {reason}"),
            reason=str(exc),
        )
        return None
    return check_layer(frame, file, declared, code_columns, report)


def check_layer(
    frame: gpd.GeoDataFrame,
    file: str,
    declared: str,
    code_columns: tuple[str, ...],
    report: Report,
) -> Layer | None:
    """Check a layer's code column, CRS and geometries and convert it to WGS-84 (the frame
    given is not changed). Returns ``None`` (with errors in ``report``) when it cannot be
    used."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.active_geometry_name is None:
        report.error(
            file,
            None,
            None,
            "layer-format",
            N_("{file} is a {type}; expected a GeoDataFrame with polygons"),
            file=file,
            type=type(frame).__name__,
        )
        return None
    frame = frame.copy()
    code_col = next((c for c in code_columns if c in frame.columns), None)
    if code_col is None:
        report.error(
            file,
            None,
            code_columns[0],
            "missing-column",
            N_("layer has no code column; expected one of {expected}; found {found}"),
            expected=", ".join(code_columns),
            found=", ".join(map(str, frame.columns)),
        )
        return None
    frame[code_col] = frame[code_col].astype(str).str.strip()
    frame = frame.rename(columns={code_col: "code"})
    if not _check_crs(frame, file, declared, report):
        return None
    _repair_geometries(frame, file, report)
    geoms = crsmod.geometries_to_wgs84(np.asarray(frame.geometry.values), declared)
    out = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=geoms, crs="EPSG:4326")
    return Layer(file, out)


def _check_crs(frame: gpd.GeoDataFrame, file: str, declared: str, report: Report) -> bool:
    expected = CRS.from_epsg(_DECLARED_EPSG[declared])
    bounds = frame.total_bounds if len(frame) else np.zeros(4)
    if frame.crs is None:
        if not crsmod.looks_geographic(bounds[[0, 2]], bounds[[1, 3]]):
            report.error(
                file,
                None,
                None,
                "layer-crs",
                N_(
                    "layer has no CRS and coordinates up to {largest:,.0f}, which are not "
                    "degrees; scenario.toml declares crs = {declared!r} (EPSG:{epsg})"
                ),
                largest=np.abs(bounds).max(),
                declared=str(declared),
                epsg=expected.to_epsg(),
            )
            return False
        report.warning(
            file,
            None,
            None,
            "layer-crs",
            N_("layer has no CRS; assumed the declared {declared!r}"),
            declared=str(declared),
        )
        return True
    found = CRS(frame.crs)
    if found.equals(expected, ignore_axis_order=True):
        return True
    if (
        found.is_geographic
        and declared in ("wgs84", "cgcs2000")
        and found.to_epsg()
        in (
            4326,
            4490,
        )
    ):
        # WGS-84 and CGCS2000 agree to centimetres; accept either label
        return True
    name = found.to_string() if found.to_epsg() is None else f"EPSG:{found.to_epsg()}"
    report.error(
        file,
        None,
        None,
        "layer-crs",
        N_(
            "layer is in {crs} ({crs_name}); scenario.toml declares crs = {declared!r} "
            "(EPSG:{epsg}); reproject the layer or change the declaration"
        ),
        crs=name,
        crs_name=found.name,
        declared=str(declared),
        epsg=expected.to_epsg(),
    )
    return False


def _repair_geometries(frame: gpd.GeoDataFrame, file: str, report: Report) -> None:
    geoms = np.asarray(frame.geometry.values)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(missing):
        report.error(
            file,
            None,
            "geometry",
            "empty-geometry",
            N_("feature {feature} (code {code!r}) has no geometry"),
            feature=i + 1,
            code=str(frame["code"].iloc[i]),
        )
    invalid = ~missing & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        fixed = shapely.make_valid(geoms[i])
        polygonal = shapely.get_type_id(geoms[i]) in (3, 6)
        if polygonal:
            fixed = _polygonal_part(fixed)
        feature = {"feature": i + 1, "code": str(frame["code"].iloc[i]), "reason": reason}
        if fixed is None or fixed.is_empty or not fixed.is_valid:
            report.error(
                file,
                None,
                "geometry",
                "invalid-geometry",
                N_(
                    "feature {feature} (code {code!r}) is invalid ({reason}) and cannot be "
                    "repaired safely; expected a valid polygon"
                ),
                **feature,
            )
            continue
        report.warning(
            file,
            None,
            "geometry",
            "repaired-geometry",
            N_(
                "feature {feature} (code {code!r}) was invalid ({reason}); repaired with "
                "make_valid — check its outline"
            ),
            **feature,
        )
        geoms[i] = fixed
    frame.geometry = gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    """Keep the polygons of a repaired geometry (make_valid may add lines or points)."""
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    if not parts:
        return None
    return shapely.union_all(parts)
