"""The interactive map of a plan: a standalone Folium page with every asset inlined.

The page is built in two halves. Python (this module) reads the plan folder, selects and
lightens the geometry (simplified for the map's extent, snapped to a grid, written as
encoded polylines), classifies the county values with
mapclassify and writes one JSON document into the page. Folium builds the Leaflet map, the
layer groups and the layer control. ``static/westplan.js`` fills the groups from the JSON
document, building every popup and tooltip from DOM text nodes, so a name such as
``<img src=x onerror=alert(1)>`` shows as text. The JSON sits in a
``<script type="application/json">`` element with ``<``, ``>`` and ``&`` escaped, so no
value can end it.

Coordinates are WGS-84 throughout, except for Gaode (Amap) tiles, which are drawn in
GCJ-02: with such a tile URL every coordinate is converted here, with
:func:`geodata.crs.wgs84_to_gcj02`, just before it is written.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from maps import csp
from maps.labels import map_labels
from maps.plan import MapInputError, PlanFiles, Route, read_plan
from planner.geo import provinces_of
from planner.i18n import _ as tr
from planner.i18n import language

__all__ = ["Scale", "render_map", "tiles_crs", "write_map"]

log = logging.getLogger(__name__)

Projector = Callable[[np.ndarray], np.ndarray]
"""Maps an (n, 2) array of WGS-84 lon/lat to the page's coordinate system."""

GCJ02_TILE_HOSTS = ("autonavi.com", "amap.com")
"""Tile hosts whose tiles are in GCJ-02 (Gaode/Amap); data are converted for them."""


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

_METRICS = (("fill", "RdYlGn"), ("relay", "Reds"), ("budget", "Blues"))
"""The county metrics drawn as classed layers, with their colour maps; the layer and legend
title of metric ``m`` is the label ``layer_m`` (:func:`maps.labels.map_labels`)."""


def tiles_crs(tiles: str | None) -> str:
    """The coordinate system a tile URL template expects: ``"gcj02"`` for Gaode, else WGS-84.

    Parameters
    ----------
    tiles : str or None
        A tile URL template such as ``https://webrd01.is.autonavi.com/appmaptile?...``.

    Returns
    -------
    str
        ``"gcj02"`` if the host is one of :data:`GCJ02_TILE_HOSTS`, else ``"wgs84"``.
    """
    if not tiles:
        return "wgs84"
    host = (urlparse(tiles.replace("{s}", "a")).hostname or "").lower()
    return (
        "gcj02" if any(host == h or host.endswith("." + h) for h in GCJ02_TILE_HOSTS) else "wgs84"
    )


def render_map(
    plan_dir: Path | PlanFiles, province: str | None = None, tiles: str | None = None
) -> str:
    """The standalone HTML page of a plan's map.

    Parameters
    ----------
    plan_dir : pathlib.Path or PlanFiles
        A plan folder (``planner plan``, optionally ``planner route`` into the same folder),
        or what to draw of a plan and its routes (:meth:`PlanFiles.from_results`)
    province : str, optional
        Six-digit province code: draw only this province (counties, posts, flows into and
        out of it, its routes and townships) at a finer scale. Default: the whole plan.
    tiles : str, optional
        Tile URL template (``{z}/{x}/{y}``). Default: no tiles, the polygons are the map.

    Returns
    -------
    str
        The page, with every script and style sheet inlined.

    Raises
    ------
    MapInputError
        If the plan folder cannot be read or the province is unknown.
    """
    files = plan_dir if isinstance(plan_dir, PlanFiles) else read_plan(Path(plan_dir))
    payload = build_payload(files, province, tiles_crs(tiles))
    return csp.with_meta(_page(payload, tiles), csp.image_sources(tiles))


def write_map(
    plan_dir: Path | PlanFiles,
    out: Path | None = None,
    province: str | None = None,
    tiles: str | None = None,
) -> Path:
    """Write :func:`render_map` to ``out`` (default ``plan_dir / "map.html"``; required when
    ``plan_dir`` is a :class:`PlanFiles` of results)."""
    page = render_map(plan_dir, province=province, tiles=tiles)
    folder = plan_dir.folder if isinstance(plan_dir, PlanFiles) else Path(plan_dir)
    if out is None and folder is None:
        raise TypeError("write_map of results needs out=, the file to write")
    target = Path(out) if out is not None else Path(folder or ".") / "map.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    log.info("map written to %s (%d bytes)", target, target.stat().st_size)
    return target


# --- the data of a page ----------------------------------------------------------------------


def build_payload(files: PlanFiles, province: str | None, crs: str = "wgs84") -> dict[str, Any]:
    """The JSON document a page draws: every layer's data, lightened and classified.

    Parameters
    ----------
    files : PlanFiles
        The plan folder's tables.
    province : str or None
        Restrict to one province (six-digit code).
    crs : {"wgs84", "gcj02"}
        The coordinate system of the output coordinates.

    Returns
    -------
    dict
        Keys ``labels`` (every text the page shows, :func:`maps.labels.map_labels`),
        ``title``, ``bounds``, ``counties`` (encoded polygons with their values),
        ``classes``, ``provinces``, ``prefectures``, ``posts``, ``flows``, ``routes``,
        ``coverage``; a key whose data the plan lacks is absent.
    """
    from geodata.china import load_provinces

    provinces = load_provinces(simplified=True)
    names = dict(zip(provinces["code"], provinces["name"], strict=True))
    if province is not None and province not in names:
        raise MapInputError(
            tr(
                "--province {province!r}: not a province code; expected one of {codes}",
                province=province,
                codes=", ".join(sorted(names)),
            )
        )
    project = _projector(crs)
    labels = map_labels()
    frame, area, scale = _select(files, province, provinces)
    payload: dict[str, Any] = {
        "labels": labels,
        "title": _title(
            files, frame, f"{names[province]} {province}" if province else None, labels
        ),
        "crs": crs,
        "digits": max(0, round(-np.log10(scale.grid))),
    }
    payload.update(_polygons(files, frame, area, province, scale, project, labels))
    payload.update(_markers(files, frame, provinces, area, province, project))
    if "bounds" not in payload:
        payload["bounds"] = _bounds(area.geometry, project)
    return payload


def _select(
    files: PlanFiles, province: str | None, provinces: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Scale]:
    """The plan's counties (in the province), the map's area and the scale for its extent."""
    from geodata.china import SIMPLIFY_TOLERANCE, load_counties, load_provinces

    selected = _county_codes(files)
    counties = load_counties(simplified=True)
    frame = counties[counties["code"].isin(selected)]
    unknown = sorted(selected - set(frame["code"]))
    if unknown:
        log.warning("%d county code(s) not in the geography: %s", len(unknown), unknown[:5])
    if province:
        frame = frame[frame["province_code"] == province]
    area = provinces[provinces["code"] == province] if province else provinces
    x0, y0, x1, y1 = shapely.total_bounds((frame if len(frame) else area).geometry.to_numpy())
    scale = Scale.for_extent(max(x1 - x0, y1 - y0))
    if scale.tolerance < SIMPLIFY_TOLERANCE["county"]:  # finer than the cached copy
        full = load_counties(simplified=False)
        frame = full[full["code"].isin(frame["code"])]
    if province:  # the province's own outline at the scale of its counties
        full_provinces = load_provinces(simplified=False)
        area = full_provinces[full_provinces["code"] == province]
    log.info(
        "%d counties, simplified at %.4f deg, coordinates on a %g deg grid",
        len(frame),
        scale.tolerance,
        scale.grid,
    )
    return frame.reset_index(drop=True), area, scale


def _polygons(
    files: PlanFiles,
    frame: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame,
    province: str | None,
    scale: Scale,
    project: Projector,
    labels: dict[str, str],
) -> dict[str, Any]:
    """Counties (classified), province and prefecture outlines, and the bounds."""
    out: dict[str, Any] = {}
    if province:  # the province at the scale of its counties
        out["provinces"] = _outlines(area, scale, project)
    else:  # all of China for context, at the cached coarse scale
        out["provinces"] = _outlines(area, Scale(0.0, scale.grid), project)
    if frame.empty:
        return out
    frame = _county_values(frame, files)
    frame["geometry"] = _lighten(frame.geometry.to_numpy(), scale, project)
    out["counties"], out["classes"] = _counties_json(frame, scale.grid, labels)
    out["bounds"] = _bounds((area if province else frame).geometry, project)
    # prefectures dissolved from the drawn counties, so that the borders coincide
    pref = frame.dissolve(by="prefecture_code", method="coverage", as_index=False)
    pref = gpd.GeoDataFrame(
        {"code": pref["prefecture_code"], "name": pref["prefecture_name"]},
        geometry=pref.geometry,
    )
    out["prefectures"] = _outlines(pref, Scale(0.0, scale.grid), _identity)
    return out


def _markers(
    files: PlanFiles,
    frame: gpd.GeoDataFrame,
    provinces: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame,
    province: str | None,
    project: Projector,
) -> dict[str, Any]:
    """Posts, flows, routes and township coverage, each only when the plan has it."""
    out: dict[str, Any] = {}
    if files.seats is not None and not frame.empty:
        out["posts"] = _posts(files.seats, frame.set_index("code"), project)
    if files.assignments is not None:
        flows = _flows(files.assignments, provinces, province, project)
        if flows["rows"]:
            out["flows"] = flows
    if files.routes is not None:
        inside = shapely.union_all(area.geometry.to_numpy()) if province else None
        routes = _routes(files.routes, inside, project)
        if routes["routes"]:
            out["routes"] = routes
    if files.coverage is not None:
        coverage = _coverage(files, province, project)
        if coverage is not None and coverage["rows"]:  # no layer, no legend when empty
            out["coverage"] = coverage
    return out


def _county_codes(files: PlanFiles) -> set[str]:
    codes: set[str] = set(files.county_quota)
    for table in (files.seats, files.assignments, files.coverage):
        if table is not None and "county_code" in table.columns:
            codes |= set(table["county_code"].astype(str))
    return codes


def _title(
    files: PlanFiles, frame: gpd.GeoDataFrame, asked: str | None, labels: dict[str, str]
) -> dict[str, Any]:
    """The heading: scenario, year, synthetic flag and the area the map shows.

    The area is ``asked`` (the name and code of the province asked for), else the one
    prefecture or province that holds every drawn county, else the whole country;
    ``local`` is false for the latter.
    """
    where = frame[["province_code", "province_name", "prefecture_name"]].drop_duplicates()
    area = asked
    if area is None and len(where) == 1:
        area = f"{where['province_name'].iloc[0]} {where['prefecture_name'].iloc[0]}"
    elif area is None and where["province_code"].nunique() == 1:
        area = f"{where['province_name'].iloc[0]} {where['province_code'].iloc[0]}"
    return {
        "scenario": files.heading.name,
        "year": files.heading.year,
        "synthetic": files.heading.synthetic,
        "area": area or labels["national"],
        "local": area is not None,
    }


def _identity(xy: np.ndarray) -> np.ndarray:
    return xy


def _projector(crs: str) -> Projector:
    """A function of an (n, 2) lon/lat array into the output CRS."""
    if crs == "wgs84":
        return _identity
    if crs != "gcj02":
        raise ValueError(f"unknown output crs {crs!r}; expected 'wgs84' or 'gcj02'")
    from geodata.crs import wgs84_to_gcj02

    def to_gcj(xy: np.ndarray) -> np.ndarray:
        if len(xy) == 0:
            return xy
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return to_gcj


def _lighten(geoms: np.ndarray, scale: Scale, project: Projector) -> np.ndarray:
    """Coverage-simplify, convert and round polygons; tiny parts that vanish are dropped."""
    if scale.tolerance > 0 and len(geoms):
        geoms = shapely.coverage_simplify(geoms, scale.tolerance)
    moved = shapely.transform(geoms, project)
    return np.asarray(shapely.set_precision(moved, scale.grid), dtype=object)


def _round(values: Any, digits: int) -> list[float]:
    return [round(float(v), digits) for v in values]


def _bounds(geoms: gpd.GeoSeries, project: Projector) -> list[list[float]]:
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(geoms, dtype=object))
    (a, b), (c, d) = project(np.array([[x0, y0], [x1, y1]]))
    return [[round(b, 3), round(a, 3)], [round(d, 3), round(c, 3)]]


def _county_values(frame: gpd.GeoDataFrame, files: PlanFiles) -> gpd.GeoDataFrame:
    """Quota, placements, fill rate, empty relay seats and budget per county."""
    quota = pd.Series(dict(files.county_quota), dtype="float64")
    frame = frame.copy()
    frame["quota"] = frame["code"].map(quota)
    if files.assignments is not None:
        a = files.assignments
        frame["placed"] = frame["code"].map(a["county_code"].value_counts()).fillna(0)
        if "budget_cny" in a.columns:
            frame["budget"] = frame["code"].map(a.groupby("county_code")["budget_cny"].sum())
            frame["budget"] = frame["budget"].fillna(0)
    if "placed" in frame.columns and quota.size:
        frame["fill"] = np.where(frame["quota"] > 0, frame["placed"] / frame["quota"], np.nan)
    if files.seats is not None and "relay_empty" in files.seats.columns:
        s = files.seats
        relay = s[s["relay"] == 1].groupby("county_code")["relay_empty"].sum()
        frame["relay"] = frame["code"].map(relay).fillna(0)
    if files.coverage is not None:  # townships at their coverage target, of those routed
        county = _coverage_county(files.coverage)
        frame["townships"] = frame["code"].map(county.value_counts())
        frame["met"] = frame["code"].map(files.coverage["met"].groupby(county).sum())
    return frame


def _coverage_county(coverage: pd.DataFrame) -> pd.Series:
    """The county of each row of ``coverage.csv``: its column, else the township's prefix."""
    if "county_code" in coverage.columns:
        return coverage["county_code"].astype(str)
    return coverage["township_code"].str[:6]


def _classify(values: pd.Series, metric: str, cmap: str) -> tuple[np.ndarray, dict[str, Any]]:
    """Class index per value (-1 = no data) and the legend, with mapclassify."""
    import warnings

    import mapclassify
    from matplotlib import colormaps

    y = values.to_numpy(dtype=float)
    ok = np.isfinite(y)
    classes = np.full(len(y), -1, dtype=np.int64)
    if not ok.any():
        return classes, {"labels": [], "colors": []}
    if metric == "fill":
        bins = [b for b in (0.5, 0.8, 0.95, 1.0) if b < y[ok].max()] + [float(y[ok].max())]
        scheme = mapclassify.UserDefined(y[ok], bins=bins)
        labels = _labels(scheme.bins, percent=True)
    else:
        k = min(5, len(np.unique(y[ok])))
        if k < 2:
            scheme = mapclassify.UserDefined(y[ok], bins=[float(y[ok].max())])
        else:
            with warnings.catch_warnings():  # "Numba not installed": the slow path is fast enough
                warnings.simplefilter("ignore", UserWarning)
                scheme = mapclassify.FisherJenks(y[ok], k=k)
        labels = _labels(scheme.bins, percent=False)
    classes[ok] = scheme.yb
    k = len(scheme.bins)
    cm = colormaps[cmap]
    colors = [_hex(cm(x)) for x in np.linspace(0.15, 0.9, k)] if k > 1 else [_hex(cm(0.6))]
    return classes, {"labels": labels, "colors": colors}


def _labels(bins: np.ndarray, percent: bool) -> list[str]:
    def fmt(v: float) -> str:
        return f"{v:.0%}" if percent else f"{v:,.0f}"

    out, low = [], None
    for b in bins:
        out.append(f"≤ {fmt(b)}" if low is None else f"{fmt(low)} – {fmt(b)}")
        low = b
    return out


def _hex(rgba: tuple[float, ...]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in rgba[:3]))


def _encode(geom: shapely.Geometry, grid: float) -> list[list[str]]:
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


def _counties_json(
    frame: gpd.GeoDataFrame, grid: float, labels: dict[str, str]
) -> tuple[list[Any], dict[str, Any]]:
    classes: dict[str, Any] = {}
    cls_cols = []
    for metric, cmap in _METRICS:
        if metric not in frame.columns:
            continue
        idx, legend = _classify(frame[metric], metric, cmap)
        frame[f"c_{metric}"] = idx
        classes[metric] = {"title": labels[f"layer_{metric}"], **legend}
        cls_cols.append(metric)
    features = []
    for row in frame.itertuples(index=False):
        props: dict[str, Any] = {
            "code": row.code,
            "name": row.name,
            "prefecture": row.prefecture_name,
            "province": row.province_name,
            "label": f"{row.name} {row.code}",
        }
        at = row.geometry.representative_point()  # where the county's name is written
        props["at"] = [round(at.y, 5), round(at.x, 5)]
        for col in ("quota", "placed", "fill", "relay", "budget", "townships", "met"):
            value = getattr(row, col, None)
            if value is not None and np.isfinite(value):
                props[col] = round(float(value), 4) if col == "fill" else int(value)
        props["cls"] = {m: int(getattr(row, f"c_{m}")) for m in cls_cols}
        features.append({"p": props, "g": _encode(row.geometry, grid)})
    return features, classes


def _outlines(frame: gpd.GeoDataFrame, scale: Scale, project: Projector) -> list[dict[str, Any]]:
    """The boundaries of the polygons as encoded lines (no fill, not interactive)."""
    geoms = _lighten(frame.geometry.to_numpy(), scale, project)
    boundaries = shapely.boundary(geoms)
    return [
        {"p": {"name": name, "code": code}, "g": _encode(g, scale.grid)}
        for name, code, g in zip(frame["name"], frame["code"], boundaries, strict=True)
        if g is not None and not g.is_empty
    ]


def _points(lon: np.ndarray, lat: np.ndarray, project: Projector) -> np.ndarray:
    """(n, 2) array of lat, lon in the output CRS, rounded to 5 decimals (~1 m)."""
    xy = project(np.column_stack([lon, lat]).astype(float))
    return np.round(xy[:, ::-1], 5)


def _posts(seats: pd.DataFrame, counties: pd.DataFrame, project: Projector) -> dict[str, Any]:
    s = seats[seats["county_code"].isin(counties.index)].reset_index(drop=True)
    lon = s["lon"].to_numpy(float) if "lon" in s.columns else np.full(len(s), np.nan)
    lat = s["lat"].to_numpy(float) if "lat" in s.columns else np.full(len(s), np.nan)
    gap = ~(np.isfinite(lon) & np.isfinite(lat))
    if gap.any():  # an older plan without post points: the county's label point
        lon[gap] = counties.loc[s["county_code"][gap], "label_lon"].to_numpy(float)
        lat[gap] = counties.loc[s["county_code"][gap], "label_lat"].to_numpy(float)
    ll = _points(lon, lat, project)
    categories = sorted(set(s["category"]))
    cat_index = {c: i for i, c in enumerate(categories)}
    blank = pd.Series([""] * len(s), dtype=str)
    columns = (
        ll[:, 0].tolist(),
        ll[:, 1].tolist(),
        s["post_id"].tolist(),
        s["township_code"].tolist(),
        s.get("township_name", blank).astype(str).tolist(),
        [cat_index[c] for c in s["category"]],
        s["seats"].astype(int).tolist(),
        s["filled"].astype(int).tolist(),
        s["relay"].astype(int).tolist(),
        s.get("relay_empty", blank.replace("", "0")).astype(int).tolist(),
        s["county_code"].tolist(),
    )
    rows = [list(row) for row in zip(*columns, strict=True)]
    colors = _palette("tab10" if len(categories) <= 10 else "tab20", len(categories))
    return {"categories": categories, "colors": colors, "rows": rows}


def _palette(name: str, n: int) -> list[str]:
    from matplotlib import colormaps

    cm = colormaps[name]
    size = getattr(cm, "N", 10)
    return [_hex(cm(i % size)) for i in range(n)]


def _flows(
    assignments: pd.DataFrame,
    provinces: gpd.GeoDataFrame,
    province: str | None,
    project: Projector,
) -> dict[str, Any]:
    """Volunteers per (recruiting province, service province), between label points."""
    service = provinces_of(assignments["county_code"])
    pairs = pd.DataFrame({"r": assignments["recruit_province"], "s": service})
    counts = pairs.groupby(["r", "s"]).size()
    where = provinces.set_index("code")
    rows: list[list[Any]] = []
    for (r, s), n in zip(counts.index.tolist(), counts.tolist(), strict=True):
        if r == s or r not in where.index or s not in where.index:
            continue
        if province and province not in (r, s):
            continue
        ends = where.loc[[r, s]]
        pts = _points(ends["label_lon"].to_numpy(), ends["label_lat"].to_numpy(), project)
        names = ends["name"].tolist()
        rows.append([*pts[0].tolist(), *pts[1].tolist(), int(n), r, names[0], s, names[1]])
    return {"rows": rows, "max": max((row[4] for row in rows), default=0)}


def _routes(
    routes: tuple[Route, ...],
    area: shapely.Geometry | None,
    project: Projector,
) -> dict[str, Any]:
    kept = [
        r for r in routes if area is None or shapely.contains_xy(area, r.line[0][0], r.line[0][1])
    ]
    vehicles = sorted({(r.station_id, r.vehicle) for r in kept})
    v_index = {v: i for i, v in enumerate(vehicles)}
    days = sorted({r.day for r in kept}, key=lambda d: (len(d), d))
    out = []
    stations: dict[str, list[Any]] = {}
    for r in kept:
        xy = np.asarray(r.line, dtype=float)
        line = _points(xy[:, 0], xy[:, 1], project)
        xy = np.asarray(r.stop_points, dtype=float).reshape(-1, 2)
        pts = _points(xy[:, 0], xy[:, 1], project)
        stops = [
            [float(pts[k, 0]), float(pts[k, 1]), r.stop_ids[k], k + 1, r.arrivals[k], r.clients[k]]
            for k in range(len(r.stop_ids))
        ]
        out.append(
            {
                "day": days.index(r.day),
                "vehicle": v_index[(r.station_id, r.vehicle)],
                "station": r.station_id,
                "line": line.tolist(),
                "stops": stops,
            }
        )
        if len(r.line) > len(r.stop_ids) and r.station_id not in stations:
            stations[r.station_id] = [float(line[0, 0]), float(line[0, 1]), r.station_id]
    return {
        "days": days,
        "vehicles": [f"{s} / {v}" for s, v in vehicles],
        "colors": _palette("tab20", len(vehicles)),
        "routes": out,
        "stations": list(stations.values()),
    }


def _coverage(files: PlanFiles, province: str | None, project: Projector) -> dict[str, Any] | None:
    cov = files.coverage
    assert cov is not None
    county = _coverage_county(cov)
    if province:
        cov = cov[provinces_of(county) == province]
    cov = cov.reset_index(drop=True)
    if "lon" in cov.columns and "lat" in cov.columns:
        lon, lat = cov["lon"].to_numpy(float), cov["lat"].to_numpy(float)
    else:
        located = files.township_points
        if located is None:
            log.warning(
                "the coverage of %s has no lon/lat columns and no scenario was given to "
                "locate its townships; the coverage layer is left out",
                files.name,
            )
            return None
        lon = cov["township_code"].map(located["lon"]).to_numpy(float)
        lat = cov["township_code"].map(located["lat"]).to_numpy(float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.all():
        log.warning("%d township(s) of coverage.csv have no location", int((~ok).sum()))
    cov, lon, lat = cov[ok].reset_index(drop=True), lon[ok], lat[ok]
    ll = _points(lon, lat, project)
    names = cov["township_name"] if "township_name" in cov.columns else pd.Series([""] * len(cov))
    rows = [
        [
            float(ll[i, 0]),
            float(ll[i, 1]),
            r.township_code,
            str(n),
            int(r.demand),
            int(r.served),
            int(r.target),
            bool(r.met),
        ]
        for i, (r, n) in enumerate(zip(cov.itertuples(index=False), names, strict=True))
    ]
    return {"rows": rows, "max": max((row[4] for row in rows), default=0)}


# --- the page --------------------------------------------------------------------------------


def _page(payload: dict[str, Any], tiles: str | None) -> str:
    import folium
    from branca.element import Element, MacroElement
    from folium.plugins import MarkerCluster
    from jinja2 import Template

    from maps import offline

    offline.assets_dir()  # fail early, with the installation hint
    m = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25, minZoom=3, maxZoom=18)
    m.default_js = [(n, offline.asset_url(p)) for n, p in offline.JS]
    m.default_css = [(n, offline.asset_url(p)) for n, p in offline.CSS]
    labels = payload["labels"]
    if tiles:
        folium.TileLayer(
            tiles=tiles,
            attr=html.escape(urlparse(tiles).hostname or "tiles"),
            name=html.escape(labels["layer_tiles"]),
        ).add_to(m)
    groups: dict[str, Any] = {}

    def group(key: str, show: bool = True, label: str | None = None) -> None:
        name = html.escape(labels[f"layer_{label or key}"])
        groups[key] = folium.FeatureGroup(name=name, show=show).add_to(m)

    for metric, _ in _METRICS:
        if metric in payload.get("classes", {}):
            group(f"county_{metric}", show=not groups, label=metric)
    if "provinces" in payload:
        group("provinces")
    if "prefectures" in payload:
        group("prefectures", show=bool(payload["title"]["local"]))
    if "flows" in payload:
        group("flows", show=False)
    if "posts" in payload:
        cluster = MarkerCluster(name=html.escape(labels["layer_posts"]))
        cluster.default_js, cluster.default_css = [], []
        groups["posts"] = cluster.add_to(m)
    if "coverage" in payload:
        group("coverage")
    if "routes" in payload:  # one layer; westplan.js shows the day chosen in its day control
        group("stations")
        group("routes")
    control = folium.LayerControl(collapsed=False).add_to(m)

    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    data = data.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")

    class Data(Element):
        """The JSON document, rendered verbatim (it is data, never a template)."""

        def __init__(self, text: str) -> None:
            super().__init__("{{ this.text }}")
            self.text = text

    root: Any = m.get_root()
    root.html.add_child(Data(f'<script type="application/json" id="westplan-data">{data}</script>'))
    call = MacroElement()
    refs = ",".join(f'"{k}":{g.get_name()}' for k, g in groups.items())
    call._template = Template(
        "{% macro script(this, kwargs) %}"
        "westplanMap({{ this._parent.get_name() }}, {" + refs + "}, " + control.get_name() + ");"
        "{% endmacro %}"
    )
    call.add_to(m)
    from maps.offline import inline

    page = root.render()
    if page.count("<html>") == 1:  # the page's language, for screen readers and CJK fonts
        page = page.replace("<html>", f'<html lang="{language()}">')
    return inline(page)
