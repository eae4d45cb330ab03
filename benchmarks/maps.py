"""Map sizes and load times: westplan's offline page against folium's default rendering.

For the national map of a western-2006 plan and a few province maps, prints the HTML size,
the Python time to render it, and the time until headless Chromium (network off) has built
the map, for

* ``westplan``: ``maps.render_map`` (assets inlined, geometry simplified per extent,
  snapped to a grid and encoded as polylines, one JSON document, DOM-built popups);
* ``folium default``: the same layers written the usual folium way: ``folium.GeoJson`` of
  the cached simplified counties with a ``GeoJsonTooltip``, province outlines as
  ``GeoJson``, one ``folium.CircleMarker`` with a ``folium.Popup`` per post in a
  ``MarkerCluster``. Folium links Leaflet, jQuery, Bootstrap and Font Awesome from CDNs;
  offline that page stays blank, so for its load time the benchmark answers the Leaflet
  and MarkerCluster URLs from the local npm files and lets the rest fail (they are counted
  as requests leaving the file).

Usage: ``python benchmarks/maps.py [--plan DIR] [--repeat N]``. Without ``--plan`` the
western-2006 plan is computed first (about two minutes).
"""

from __future__ import annotations

import argparse
import html
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from maps import render_map
from maps.offline import assets_dir
from tests.support.browser import PageVisit, browser, visit

PROVINCES = ("510000", "540000", "650000")
"""Sichuan (most posts), Tibet (largest counties), Xinjiang."""


def folium_default(plan: Path, province: str | None) -> str:
    """The plan's counties, outlines and posts written with folium's ordinary API."""
    import folium
    from folium.plugins import MarkerCluster

    from geodata.china import load_counties, load_provinces

    seats = pd.read_csv(plan / "seats.csv", dtype={"county_code": str, "township_code": str})
    assignments = pd.read_csv(plan / "assignments.csv", dtype={"county_code": str})
    counties = load_counties(simplified=True)
    counties = counties[counties["code"].isin(set(seats["county_code"]))]
    provinces = load_provinces(simplified=True)
    if province:
        counties = counties[counties["province_code"] == province]
        provinces = provinces[provinces["code"] == province]
        seats = seats[seats["county_code"].str[:2] == province[:2]]
    placed = assignments["county_code"].value_counts()
    counties = counties.assign(placed=counties["code"].map(placed).fillna(0).astype(int))
    m = folium.Map(tiles=None)
    folium.GeoJson(
        counties[["code", "name", "placed", "geometry"]],
        name="counties",
        style_function=lambda f: {"fillColor": "#4daf4a", "color": "#555", "weight": 0.6},
        tooltip=folium.GeoJsonTooltip(["name", "code", "placed"]),
    ).add_to(m)
    folium.GeoJson(
        provinces[["code", "name", "geometry"]].assign(geometry=provinces.boundary),
        name="provinces",
    ).add_to(m)
    cluster = MarkerCluster(name="posts").add_to(m)
    for r in seats.itertuples(index=False):
        text = html.escape(f"{r.post_id} {r.township_code} {r.category} {r.seats} {r.filled}")
        folium.CircleMarker([r.lat, r.lon], radius=6, popup=folium.Popup(text)).add_to(cluster)
    folium.LayerControl().add_to(m)
    m.fit_bounds(
        [
            [counties.total_bounds[1], counties.total_bounds[0]],
            [counties.total_bounds[3], counties.total_bounds[2]],
        ]
    )
    return str(m.get_root().render())


def local_copy(url: str) -> Path | None:
    """The npm file that answers a CDN URL of Leaflet or MarkerCluster, if any."""
    folder = assets_dir()
    if "/leaflet@" in url and url.endswith("leaflet.js"):
        return folder / "leaflet/dist/leaflet.js"
    if "/leaflet@" in url and url.endswith("leaflet.css"):
        return folder / "leaflet/dist/leaflet.css"
    if "markercluster" in url.lower():
        name = url.rsplit("/", 1)[-1]
        path = folder / "leaflet.markercluster/dist" / name
        return path if path.is_file() else None
    return None


def measure(b: object, page: Path, repeat: int, cdn: bool) -> tuple[float, PageVisit]:
    """Median seconds until the map is built (westplan: its ready mark; folium: load)."""
    times, last = [], PageVisit()
    for _ in range(repeat):
        if cdn:
            last = visit(b, page, ready="document.readyState === 'complete'", serve=local_copy)
        else:
            last = visit(b, page)
        times.append(last.ready_ms / 1000.0)
    return statistics.median(times), last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plan", type=Path, help="a western-2006 plan folder")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    plan = args.plan
    if plan is None:
        import planner

        plan = Path(tempfile.mkdtemp()) / "western-2006"
        print(f"planning western-2006 into {plan} …", flush=True)
        planner.allocate(planner.read_scenario("builtin:western-2006")).write(plan)
    out = Path(tempfile.mkdtemp())
    rows = []
    with browser() as b:
        for province in (None, *PROVINCES):
            label = province or "national"
            for variant in ("westplan", "folium default"):
                t0 = time.perf_counter()
                page = (
                    render_map(plan, province=province)
                    if variant == "westplan"
                    else (folium_default(plan, province))
                )
                render_s = time.perf_counter() - t0
                path = out / f"{label}-{variant.replace(' ', '-')}.html"
                path.write_text(page, encoding="utf-8")
                load_s, v = measure(b, path, args.repeat, cdn=variant != "westplan")
                rows.append(
                    {
                        "map": label,
                        "variant": variant,
                        "html_MB": round(path.stat().st_size / 1e6, 2),
                        "render_s": round(render_s, 2),
                        "built_in_browser_s": round(load_s, 2),
                        "requests_leaving_file": len(v.requests),
                        "errors": len(v.page_errors) + len(v.console_errors),
                    }
                )
    table = pd.DataFrame(rows)
    ours = table[table["variant"] == "westplan"].set_index("map")
    theirs = table[table["variant"] == "folium default"].set_index("map")
    ratio = pd.DataFrame(
        {
            "size_ratio_folium/westplan": (theirs["html_MB"] / ours["html_MB"]).round(1),
            "load_ratio_folium/westplan": (
                theirs["built_in_browser_s"] / ours["built_in_browser_s"]
            ).round(1),
        }
    )
    print(f"plan: {plan}; headless Chromium, network off, median of {args.repeat} loads")
    print(table.to_string(index=False))
    print()
    print(ratio.to_string())
    print("limits: national <= 5 MB, province <= 1 MB, national built < 3 s")


if __name__ == "__main__":
    main()
