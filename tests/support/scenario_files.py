"""A tiny hand-written valid scenario, as files, for loader and validation tests.

Two real service counties of Guizhou (520000) paired with Beijing (110000) and Jiangsu
(320000). Post points are the counties' representative points, so they lie inside the real
polygons whatever the cache holds.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from geodata.china import load_counties

TOML = """\
name = "tiny"
year = 2006
crs = "wgs84"
synthetic = true
description = "hand-written test scenario"

[files]
counties = "builtin:china"
quotas = "quotas.csv"
posts = "posts.csv"
continuing = "continuing.csv"
applicants = "applicants.csv"
pairing = "pairing.csv"
targets = "targets.csv"
stations = "stations.csv"
stops = "stops.csv"

[rules]
undergraduate_min_share = 0.85
"""


@dataclass(frozen=True)
class TinyCounty:
    code: str
    name: str
    lon: float
    lat: float


def tiny_counties() -> tuple[TinyCounty, TinyCounty]:
    """The two Guizhou counties of the tiny scenario, with a point inside each."""
    frame = load_counties()
    gz = frame[frame["province_code"] == "520000"].sort_values("code").head(2)
    out = []
    for _, row in gz.iterrows():
        p = row.geometry.representative_point()
        out.append(TinyCounty(row["code"], row["name"], round(p.x, 6), round(p.y, 6)))
    return out[0], out[1]


def write_tiny(folder: Path) -> Path:
    """Write the tiny valid scenario into ``folder`` and return it."""
    a, b = tiny_counties()
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "scenario.toml": TOML,
        "quotas.csv": (
            "county_code,general_quota,youth_center_quota,barred,served_last_year,note\n"
            f"{a.code},2,1,0,1,first county\n"
            f"{b.code},1,0,0,1,\n"
        ),
        "posts.csv": (
            "post_id,county_code,township_code,category,seats,lon,lat,township_name,relay,required_majors,min_degree\n"
            f"PA1,{a.code},{a.code}001,education,2,{a.lon},{a.lat},甲镇,1,,\n"
            f"PA2,{a.code},{a.code}001,health,1,{a.lon},{a.lat},甲镇,0,medicine,bachelor\n"
            f"PA3,{a.code},{a.code}002,education,2,{a.lon},{a.lat},乙镇,0,,\n"
            f"PA4,{a.code},{a.code}002,youth_center,1,{a.lon},{a.lat},乙镇,0,,\n"
            f"PB1,{b.code},{b.code}001,agriculture,2,{b.lon},{b.lat},丙镇,0,,\n"
        ),
        "continuing.csv": "volunteer_id,post_id\nV1,PA3\n",
        "applicants.csv": (
            "applicant_id,recruit_province,degree,major_class,pref_1,pref_2,pref_3,pref_4,pref_5,"
            "home_county_code,home_lon,home_lat,preferred_categories,term_years,health_ok,university\n"
            f"A1,110000,bachelor,education,{a.code},520000,,,,110101,,,education,1,1,北京大学\n"
            f"A2,110000,master,medicine,520000,,,,,110105,,,,2,1,\n"
            "A3,320000,junior_college,agriculture,520000,,,,,,118.78,32.04,,1,1,\n"
            f"A4,320000,bachelor,arts,{b.code},,,,,320102,,,,1,1,\n"
        ),
        "pairing.csv": "service_province,recruit_province,seats\n520000,110000,\n520000,320000,3\n",
        "targets.csv": (
            "province_code,role,target\n520000,service,4\n110000,recruit,3\n320000,recruit,3\n"
        ),
        "stations.csv": (
            "station_id,county_code,lon,lat,vehicles,clients_per_vehicle_day,shift_start,shift_end,crew_size,days\n"
            f"S1,{a.code},{a.lon},{a.lat},2,40,08:00,17:00,2,10\n"
        ),
        "stops.csv": (
            "stop_id,county_code,lon,lat,demand,township_code,minutes_per_client,setup_minutes,open,close,priority\n"
            f"T1,{a.code},{a.lon},{a.lat},30,{a.code}001,6,20,,,1\n"
            f"T2,{a.code},{a.lon},{a.lat},12,{a.code}002,6,20,09:00,12:00,2\n"
        ),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def plan_directly(source: str | Path, out: Path, time_limit: float, routing: bool = False) -> Path:
    """Plan (and with ``routing``, route with the plan's crews) through the library, without
    the command line or the service, into the plan folder ``out``."""
    import planner

    scenario = planner.read_scenario(source)
    plan = planner.allocate(scenario, planner.AllocationParams(time_limit=time_limit))
    plan.write(out)
    if routing:
        params = planner.RoutingParams(time_limit=time_limit)
        planner.route(scenario, plan.crews(), params).write(out)
    return out


def write_spread_tiny(folder: Path) -> Path:
    """The tiny scenario with its township 乙镇 (posts PA3, PA4) moved to the point of its
    county farthest from 甲镇 on a grid of 0.01 degrees, so that a move between them is a line
    on the map."""
    import shapely

    from geodata.china import load_counties

    write_tiny(folder)
    posts = folder / "posts.csv"
    rows = list(csv.DictReader(posts.open(encoding="utf-8")))
    town = next(r for r in rows if r["township_name"] == "乙镇")
    counties = load_counties(simplified=False)
    shape = counties[counties["code"] == town["county_code"]].geometry.iloc[0]
    x0, y0 = float(town["lon"]), float(town["lat"])
    grid = [(x0 + i / 100, y0 + j / 100) for i in range(-20, 21) for j in range(-20, 21)]
    inside = [p for p in grid if shape.buffer(-0.005).contains(shapely.Point(p))]
    far = max(inside, key=lambda p: (p[0] - x0) ** 2 + (p[1] - y0) ** 2)
    for r in rows:
        if r["township_name"] == "乙镇":
            r["lon"], r["lat"] = f"{far[0]:.6f}", f"{far[1]:.6f}"
    with posts.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return folder
