"""The data of a map page: what of a plan (and its routes) is drawn, as one JSON document.

:func:`build_payload` selects the counties, posts, flows, routes and coverage of the plan (or
of one province), classifies the county values with mapclassify, lightens and projects the
geometry (:mod:`maps.geometry`) and adds the page's labels; :mod:`maps.render` writes the
document into the page.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from maps.geometry import (
    Projector,
    Scale,
    bounds,
    encode,
    identity,
    lighten,
    outlines,
    points,
    projector,
)
from maps.labels import map_labels
from maps.plan import MapInputError, PlanFiles, VehicleDayLine
from planner.geo import provinces_of
from planner.i18n import _ as tr

log = logging.getLogger(__name__)


METRICS = (("fill", "RdYlGn"), ("relay", "Reds"), ("budget", "Blues"))
"""The county metrics drawn as classed layers, with their colour maps; the layer and legend
title of metric ``m`` is the label ``layer_m`` (:func:`maps.labels.map_labels`)."""


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
    project = projector(crs)
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
        payload["bounds"] = bounds(area.geometry, project)
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
        out["provinces"] = outlines(area, scale, project)
    else:  # all of China for context, at the cached coarse scale
        out["provinces"] = outlines(area, Scale(0.0, scale.grid), project)
    if frame.empty:
        return out
    frame = _county_values(frame, files)
    frame["geometry"] = lighten(frame.geometry.to_numpy(), scale, project)
    out["counties"], out["classes"] = _counties_json(frame, scale.grid, labels)
    out["bounds"] = bounds((area if province else frame).geometry, project)
    # prefectures dissolved from the drawn counties, so that the borders coincide
    pref = frame.dissolve(by="prefecture_code", method="coverage", as_index=False)
    pref = gpd.GeoDataFrame(
        {"code": pref["prefecture_code"], "name": pref["prefecture_name"]},
        geometry=pref.geometry,
    )
    out["prefectures"] = outlines(pref, Scale(0.0, scale.grid), identity)
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


def _counties_json(
    frame: gpd.GeoDataFrame, grid: float, labels: dict[str, str]
) -> tuple[list[Any], dict[str, Any]]:
    classes: dict[str, Any] = {}
    cls_cols = []
    for metric, cmap in METRICS:
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
        features.append({"p": props, "g": encode(row.geometry, grid)})
    return features, classes


def _posts(seats: pd.DataFrame, counties: pd.DataFrame, project: Projector) -> dict[str, Any]:
    s = seats[seats["county_code"].isin(counties.index)].reset_index(drop=True)
    lon = s["lon"].to_numpy(float) if "lon" in s.columns else np.full(len(s), np.nan)
    lat = s["lat"].to_numpy(float) if "lat" in s.columns else np.full(len(s), np.nan)
    gap = ~(np.isfinite(lon) & np.isfinite(lat))
    if gap.any():  # an older plan without post points: the county's label point
        lon[gap] = counties.loc[s["county_code"][gap], "label_lon"].to_numpy(float)
        lat[gap] = counties.loc[s["county_code"][gap], "label_lat"].to_numpy(float)
    ll = points(lon, lat, project)
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
        pts = points(ends["label_lon"].to_numpy(), ends["label_lat"].to_numpy(), project)
        names = ends["name"].tolist()
        rows.append([*pts[0].tolist(), *pts[1].tolist(), int(n), r, names[0], s, names[1]])
    return {"rows": rows, "max": max((row[4] for row in rows), default=0)}


def _routes(
    routes: tuple[VehicleDayLine, ...],
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
        line = points(xy[:, 0], xy[:, 1], project)
        xy = np.asarray(r.stop_points, dtype=float).reshape(-1, 2)
        pts = points(xy[:, 0], xy[:, 1], project)
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
    ll = points(lon, lat, project)
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
