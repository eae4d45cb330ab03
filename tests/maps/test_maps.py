"""The plan maps: offline, complete, escaped and light, checked in a real headless Chromium.

The expected layer counts are computed here from the plan files with plain pandas/json,
independently of maps/. Screenshots go to tests/artifacts/ (ignored by git). The fixtures
(the tiny plan, with and without routing files, and Chromium) are in conftest.py.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from maps import MapInputError, render_map, write_map, write_png
from maps.labels import map_labels
from maps.render import tiles_crs
from tests.support.browser import visit
from tests.support.maps import ARTIFACTS, check_clean, last_text, read_table

XSS = "<img src=x onerror=alert(1)>"
GAODE = "https://webrd01.is.autonavi.com/appmaptile?lang=zh_cn&size=1&style=8&x={x}&y={y}&z={z}"


def expected_counts(folder: Path) -> dict[str, int]:
    """Layer sizes a page must draw, read straight from the plan files."""
    seats = read_table(folder / "seats.csv")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assignments = read_table(folder / "assignments.csv")
    counties = (
        set(seats["county_code"]) | set(summary["county_quota"]) | set(assignments["county_code"])
    )
    service = assignments["county_code"].str[:2] + "0000"
    pairs = {
        (r, s) for r, s in zip(assignments["recruit_province"], service, strict=True) if r != s
    }
    out = {"counties": len(counties), "posts": len(seats), "flows": len(pairs)}
    if (folder / "routes.geojson").is_file():
        features = json.loads((folder / "routes.geojson").read_text())["features"]
        out["routes"] = len(features)
        out["stops"] = sum(len(f["properties"]["stops"]) for f in features)
        out["stations"] = len({f["properties"]["station_id"] for f in features})
    if (folder / "coverage.csv").is_file():
        out["coverage"] = len(read_table(folder / "coverage.csv"))
    return out


# --- in the browser ----------------------------------------------------------------------------


def test_routed_plan_draws_every_layer_offline(routed_dir: Path, chromium: Any) -> None:
    page_file = write_map(routed_dir)
    assert page_file == routed_dir / "map.html"
    drawn: dict[str, int] = {}

    def count_svg(page: Any) -> None:
        for cls in ("wp-county-fill", "wp-route", "wp-stop", "wp-station", "wp-township"):
            drawn[cls] = page.evaluate(f"document.querySelectorAll('path.{cls}').length")
        drawn["labels"] = page.evaluate(
            "[...document.querySelectorAll('.leaflet-control-layers-overlays label')]"
            ".map(l => l.textContent.trim()).join('|')"
        )

    v = visit(chromium, page_file, ARTIFACTS / "map-routed.png", action=count_svg)
    check_clean(v)
    expected = expected_counts(routed_dir)
    assert {k: v.counts.get(k) for k in expected} == expected
    assert v.counts["provinces"] == 34  # every province outline of China
    # drawn as SVG paths: every county, and the routes and stops of the first day only
    assert drawn["wp-county-fill"] == expected["counties"]
    assert drawn["wp-route"] == expected["routes"] // 2
    assert drawn["wp-stop"] == expected["stops"] // 2
    assert drawn["wp-station"] == expected["stations"]
    assert drawn["wp-township"] == expected["coverage"]
    labels = map_labels()
    for key in ("layer_routes", "layer_coverage", "layer_posts", "layer_flows", "layer_stations"):
        assert labels[key] in str(drawn["labels"]).split("|")


def test_plan_without_routing_has_no_routing_layers(plan_dir: Path, chromium: Any) -> None:
    page_file = write_map(plan_dir, out=plan_dir.parent / "plain.html", province="520000")
    labels: list[str] = []

    def read_labels(page: Any) -> None:
        labels.extend(
            page.eval_on_selector_all(
                ".leaflet-control-layers-overlays label", "ls => ls.map(l => l.textContent.trim())"
            )
        )

    v = visit(chromium, page_file, ARTIFACTS / "map-plain-province.png", action=read_labels)
    check_clean(v)
    expected = expected_counts(plan_dir)
    expected["flows"] = len(  # only flows into or out of the province
        {
            (r, s)
            for r, s in zip(
                read_table(plan_dir / "assignments.csv")["recruit_province"],
                read_table(plan_dir / "assignments.csv")["county_code"].str[:2] + "0000",
                strict=True,
            )
            if r != s and "520000" in (r, s)
        }
    )
    assert {k: v.counts.get(k) for k in expected} == expected
    assert not {"routes", "stops", "stations", "coverage"} & set(v.counts)
    assert v.counts["provinces"] == 1
    routing = {map_labels()[k] for k in ("layer_routes", "layer_coverage", "layer_stations")}
    assert labels and not routing & set(labels)


def test_user_strings_show_as_text(
    routed_dir: Path, chromium: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "xss"
    shutil.copytree(routed_dir, folder)
    seats = read_table(folder / "seats.csv")
    seats.loc[0, ["post_id", "township_name", "category"]] = XSS
    seats.to_csv(folder / "seats.csv", index=False, encoding="utf-8-sig")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    summary["scenario"]["name"] = XSS
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    routes = json.loads((folder / "routes.geojson").read_text())
    for f in routes["features"]:
        f["properties"]["stops"][0]["stop_id"] = XSS
        f["properties"]["stops"][0]["arrive"] = XSS
    routes["features"][-1]["properties"]["day"] = XSS  # a day named like the attack
    (folder / "routes.geojson").write_text(json.dumps(routes), encoding="utf-8")
    coverage = read_table(folder / "coverage.csv")
    coverage.loc[0, "township_name"] = XSS
    coverage.to_csv(folder / "coverage.csv", index=False, encoding="utf-8-sig")
    county = seats.loc[0, "county_code"]

    import geodata.china

    real = geodata.china.load_counties

    def renamed(simplified: bool = False) -> Any:  # a county named like the attack
        frame = real(simplified)
        frame.loc[frame["code"] == county, "name"] = XSS
        return frame

    monkeypatch.setattr(geodata.china, "load_counties", renamed)
    page_file = write_map(folder)
    html = page_file.read_text(encoding="utf-8")
    assert XSS not in html  # nowhere as markup, not even inside the JSON

    shown: list[str] = []

    def open_everything(page: Any) -> None:
        page.evaluate(
            """(xss) => new Promise(done => {
              const w = window.westplan;
              const post = w.layers.posts.getLayers().find(m => m.wpRow[2] === xss);
              w.layers.posts.zoomToShowLayer(post, () => { post.openPopup(); done(); });
            })""",
            XSS,
        )
        shown.append(last_text(page, ".leaflet-popup-content"))
        page.evaluate(
            """(code) => {
              const w = window.westplan;
              const c = w.layers.county_fill.getLayers().find(l => l.feature.properties.code === code);
              c.openPopup(c.getBounds().getCenter());
            }""",
            county,
        )
        shown.append(last_text(page, ".leaflet-popup-content"))
        page.evaluate(
            """() => {
              const w = window.westplan, g = w.layers.routes_0;
              const stop = g.getLayers().find(l => l.getPopup && l.getPopup());
              stop._map.closePopup();
              stop.openPopup();
              const town = w.layers.coverage.getLayers()[0];
              town.openTooltip();
            }"""
        )
        shown.append(last_text(page, ".leaflet-popup-content"))
        shown.append(last_text(page, ".leaflet-tooltip"))
        shown.append(page.inner_text(".wp-heading"))
        shown.append(page.inner_text(".wp-day-select"))
        page.click(".leaflet-control-search .search-button")
        page.locator(".leaflet-control-search input").press_sequentially("<img", delay=30)
        page.wait_for_selector(".search-tip", timeout=5000)
        shown.append(page.inner_text(".search-tooltip"))
        page.wait_for_timeout(200)
        shown.append(str(page.evaluate("document.querySelectorAll('img[src=\"x\"]').length")))

    v = visit(chromium, page_file, ARTIFACTS / "map-escaping.png", action=open_everything)
    check_clean(v)
    post, county_card, stop, township, title, days, tips, images = shown
    assert XSS in post and XSS.count("<") == 1
    assert post.count(XSS) == 3  # post id, township, category
    assert XSS in county_card
    assert stop.count(XSS) == 2  # stop id, arrival
    assert XSS in township
    assert XSS in title
    assert XSS in days
    assert XSS in tips
    assert images == "0"


@pytest.mark.slow
def test_national_scenario_size_and_speed(chromium: Any, tmp_path: Path) -> None:
    """Every post and quota county of western-2006 (5,433 posts, 340 counties): <= 5 MB, < 3 s."""
    folder = national_plan(tmp_path / "w2006")
    page_file = write_map(folder)
    size = page_file.stat().st_size
    assert size <= 5_000_000, f"national map is {size:,} bytes"
    v = visit(chromium, page_file, ARTIFACTS / "map-national.png")
    check_clean(v)
    assert v.counts["posts"] == len(read_table(folder / "seats.csv"))
    assert v.ready_ms < 3000, f"layers built after {v.ready_ms:.0f} ms"
    for province in ("510000", "540000", "650000"):
        size = len(render_map(folder, province=province).encode("utf-8"))
        assert size <= 1_000_000, f"{province} map is {size:,} bytes"


def national_plan(folder: Path) -> Path:
    """A plan-shaped folder holding every post and quota county of western-2006.

    No solve (that takes minutes): seats.csv lists the scenario's posts with nothing
    filled and summary.json the county quotas, so the map carries the full geometry and
    every marker of the national plan.
    """
    from geodata.scenario import load_scenario

    sc = load_scenario("builtin:western-2006").data
    assert sc is not None and sc.posts is not None and sc.quotas is not None
    p = sc.posts
    folder.mkdir(parents=True)
    pd.DataFrame(
        {
            "post_id": p.post_id,
            "county_code": p.county_code,
            "township_code": p.township_code,
            "category": p.category,
            "seats": p.seats,
            "filled": 0,
            "relay": p.relay.astype(int),
            "relay_empty": np.where(p.relay, p.seats, 0),
            "township_name": p.township_name,
            "lon": np.round(p.lon, 5),
            "lat": np.round(p.lat, 5),
        }
    ).to_csv(folder / "seats.csv", index=False, encoding="utf-8-sig")
    quota = sc.quotas.general_quota + sc.quotas.special_quota.sum(axis=1)
    summary = {
        "scenario": {"name": sc.name, "year": sc.year, "synthetic": sc.synthetic},
        "county_quota": {
            str(c): int(q)
            for c, q, b in zip(sc.quotas.county_code, quota, sc.quotas.barred, strict=True)
            if not b
        },
    }
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


# --- without a browser -------------------------------------------------------------------------


def test_plan_outputs_the_map_reads(plan_dir: Path) -> None:
    """The columns and keys added for the map agree with the rest of the plan."""
    summary = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    assignments = read_table(plan_dir / "assignments.csv")
    budget = assignments["budget_cny"].astype(int)
    by_service = budget.groupby(assignments["county_code"].str[:2] + "0000").sum()
    assert by_service.to_dict() == summary["budget_cny"]["by_service_province"]
    quotas = read_table(plan_dir.parent / "tiny" / "quotas.csv")
    open_rows = quotas[quotas["barred"].isin(["0", "false", "False", ""])]
    quota = open_rows.filter(like="_quota").astype(int).sum(axis=1)
    assert summary["county_quota"] == dict(zip(open_rows["county_code"], quota, strict=True))
    assert Path(summary["scenario"]["source"]) == (plan_dir.parent / "tiny").resolve()
    seats = read_table(plan_dir / "seats.csv")
    posts = read_table(plan_dir.parent / "tiny" / "posts.csv").set_index("post_id")
    for row in seats.itertuples():
        if posts.loc[row.post_id, "lon"]:
            assert float(row.lon) == pytest.approx(float(posts.loc[row.post_id, "lon"]), abs=1e-5)


def test_page_links_nothing_outside(plan_dir: Path) -> None:
    html = render_map(plan_dir)
    assert "L.map(" in html and "markerClusterGroup" in html
    for tag in re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", html):
        assert not re.search(r"\b(?:src|href)=", tag), tag
    assert "cdn." not in html.split('id="westplan-data"')[0].lower()


def test_gaode_tiles_get_gcj02_coordinates(plan_dir: Path) -> None:
    import prcoords

    assert tiles_crs(GAODE) == "gcj02"
    assert tiles_crs("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == "wgs84"
    assert tiles_crs("https://amap.com.example.org/{z}/{x}/{y}.png") == "wgs84"

    def first_post(html: str) -> list[Any]:
        return list(page_data(html)["posts"]["rows"][0])

    plain = first_post(render_map(plan_dir))
    gaode_html = render_map(plan_dir, tiles=GAODE)
    shifted = first_post(gaode_html)
    seats = read_table(plan_dir / "seats.csv")
    lon, lat = float(seats.loc[0, "lon"]), float(seats.loc[0, "lat"])
    gcj = prcoords.wgs_gcj(prcoords.Coords(lat, lon), False)
    assert plain[:2] == pytest.approx([lat, lon], abs=1e-5)
    assert shifted[:2] == pytest.approx([gcj.lat, gcj.lon], abs=2e-5)
    assert abs(shifted[1] - lon) > 1e-3  # GCJ-02 moves points by hundreds of metres
    assert "autonavi.com" in gaode_html and "L.tileLayer" in gaode_html


def test_coverage_found_through_the_scenario(routed_dir: Path, tmp_path: Path) -> None:
    """Without lon/lat in coverage.csv, townships are placed at their stops' mean point, from
    the scenario given (never read again from summary.json's source)."""
    import planner
    from maps.plan import read_plan as read_map_files

    folder = tmp_path / "plan"
    shutil.copytree(routed_dir, folder)
    coverage = read_table(folder / "coverage.csv").drop(columns=["lon", "lat"])
    coverage.to_csv(folder / "coverage.csv", index=False, encoding="utf-8-sig")
    source = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["scenario"]["source"]
    assert "coverage" not in page_data(render_map(folder))
    files = read_map_files(folder, planner.read_scenario(source))
    rows = page_data(render_map(files))["coverage"]["rows"]
    stops = read_table(Path(source) / "stops.csv")
    assert len(rows) == len(coverage)
    for row in rows:
        mine = stops[stops["township_code"] == row[2]]
        assert row[0] == pytest.approx(mine["lat"].astype(float).mean(), abs=1e-5)
        assert row[1] == pytest.approx(mine["lon"].astype(float).mean(), abs=1e-5)


def page_data(html: str) -> dict[str, Any]:
    """The JSON document of a page."""
    doc = re.search(r'id="westplan-data">(.*?)</script>', html, re.S)
    assert doc is not None
    return dict(json.loads(doc.group(1)))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda f: _edit_csv(f / "seats.csv", "filled", 1, "two"),
            "seats.csv: row 3, column filled",
        ),
        (
            lambda f: _edit_csv(f / "coverage.csv", "met", 0, "maybe"),
            "coverage.csv: row 2, column met",
        ),
        (lambda f: _drop_column(f / "seats.csv", "category"), "missing column(s) category"),
        (lambda f: _edit_route(f, "stops", [{"stop_id": "x"}]), "feature 0, property stops"),
        (lambda f: _edit_route(f, "vehicle", None), "feature 0: missing propert(ies) vehicle"),
        (
            lambda f: (f / "summary.json").write_text("{", encoding="utf-8"),
            "summary.json: not readable",
        ),
    ],
)
def test_bad_plan_files_are_named(
    routed_dir: Path, tmp_path: Path, edit: Any, message: str
) -> None:
    folder = tmp_path / "plan"
    shutil.copytree(routed_dir, folder)
    edit(folder)
    with pytest.raises(MapInputError, match=re.escape(message)):
        render_map(folder)


def _edit_csv(path: Path, column: str, row: int, value: str) -> None:
    frame = read_table(path)
    frame.loc[row, column] = value
    frame.to_csv(path, index=False, encoding="utf-8-sig")


def _drop_column(path: Path, column: str) -> None:
    read_table(path).drop(columns=[column]).to_csv(path, index=False, encoding="utf-8-sig")


def _edit_route(folder: Path, key: str, value: Any) -> None:
    doc = json.loads((folder / "routes.geojson").read_text())
    if value is None:
        del doc["features"][0]["properties"][key]
    else:
        doc["features"][0]["properties"][key] = value
    (folder / "routes.geojson").write_text(json.dumps(doc), encoding="utf-8")


def test_cli_map_and_png(routed_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plan"
    shutil.copytree(routed_dir, folder)
    out = tmp_path / "out" / "m.html"
    result = CliRunner().invoke(app, ["map", str(folder), "--out", str(out), "--png"])
    assert result.exit_code == 0, result.output
    assert out.is_file() and str(out) in result.output.replace("\n", "")
    png = folder / "report.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(png) as im:
        assert im.width > 400 and im.height > 300
        colours = len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0))
    assert colours > 20  # a drawing, not a blank canvas
    bad = CliRunner().invoke(app, ["map", str(folder), "--province", "999999"])
    assert bad.exit_code == 2 and "not a province code" in bad.output
    missing = CliRunner().invoke(app, ["map", str(tmp_path / "nope")])
    # the console wraps a long path anywhere: compare the words
    assert missing.exit_code == 2 and "no such plan folder" in " ".join(missing.output.split())
    assert "Traceback" not in bad.output + missing.output


def test_missing_assets_are_explained(
    plan_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maps.offline import ASSETS_ENV_VAR, AssetsMissing

    monkeypatch.setenv(ASSETS_ENV_VAR, str(tmp_path))
    with pytest.raises(AssetsMissing, match="make assets"):
        render_map(plan_dir)


def test_png_overview(plan_dir: Path, tmp_path: Path) -> None:
    out = write_png(plan_dir, out=tmp_path / "r.png", province="520000")
    assert out.is_file() and out.stat().st_size > 10_000


def _legend_titles(page: Any) -> list[str]:
    """The titles of the legend's sections that show."""
    return page.eval_on_selector_all(
        ".wp-legend-section",
        "ss => ss.filter(s => s.offsetParent !== null)"
        ".map(s => s.querySelector('.wp-title').textContent)",
    )


def test_maps_an_office_reads(
    plan_dir: Path, routed_dir: Path, chromium: Any, tmp_path: Path
) -> None:
    """County names where they fit; a legend section for each drawn layer that is on (the
    flows too, in a colour no category has) and none for a layer not drawn; empty coverage
    draws no layer; on a phone (390x844) the layer list and the legend start folded and the
    legend opens from its button; no flag in the attribution."""
    labels = map_labels()
    seen: dict[str, Any] = {}

    def desk(page: Any) -> None:
        seen["names_start"] = page.evaluate("window.westplan.counts.county_names")
        seen["flow_colour"] = page.evaluate(
            "getComputedStyle(document.querySelector('.wp-flow') || document.body).stroke"
        )
        page.click(f".leaflet-control-layers-overlays label:has-text('{labels['layer_flows']}')")
        seen["titles"] = _legend_titles(page)
        seen["swatches"] = page.eval_on_selector_all(
            ".wp-legend-row .wp-swatch", "ss => ss.map(s => getComputedStyle(s).backgroundColor)"
        )
        page.evaluate("window.westplan.layers.county_names._map.setZoom(3)")
        page.wait_for_timeout(300)
        seen["names_far"] = page.evaluate("window.westplan.counts.county_names")
        page.evaluate(
            "window.westplan.layers.county_names._map"
            ".fitBounds(window.westplan.countyBounds[0], {animate: false})"
        )
        page.wait_for_timeout(300)
        seen["names_near"] = page.evaluate("window.westplan.counts.county_names")
        seen["shown_names"] = page.eval_on_selector_all(
            ".wp-county-name", "ns => ns.map(n => n.textContent)"
        )
        seen["attribution"] = page.inner_html(".leaflet-control-attribution")

    page_file = write_map(plan_dir, out=tmp_path / "office.html", province="520000")
    v = visit(chromium, page_file, ARTIFACTS / "map-office.png", action=desk)
    check_clean(v)
    counties = v.counts["counties"]
    assert seen["names_start"] <= counties
    assert seen["names_far"] == 0  # the whole country: no name fits
    assert 1 <= seen["names_near"] <= counties  # zoomed to a county: its name fits
    county_names = set(read_table(plan_dir / "seats.csv")["county_code"])
    assert len(seen["shown_names"]) == seen["names_near"] and county_names
    assert labels["layer_flows"] in seen["titles"]
    assert labels["layer_coverage"] not in seen["titles"]
    assert "<svg" not in seen["attribution"] and "Leaflet" in seen["attribution"]
    flow = "rgb(17, 17, 17)"
    if seen["flow_colour"] not in ("none", ""):
        assert seen["flow_colour"] == flow
    # the flows' swatch is the only one of its colour: no category, class or vehicle has it
    assert seen["swatches"].count(flow) == 1, seen["swatches"]

    # a plan whose coverage.csv is empty draws no coverage layer and no legend for it
    empty = tmp_path / "empty-coverage"
    shutil.copytree(routed_dir, empty)
    cov = (empty / "coverage.csv").read_text(encoding="utf-8").splitlines()[0]
    (empty / "coverage.csv").write_text(cov + "\n", encoding="utf-8")
    html = render_map(empty)
    assert '"coverage":' not in html

    # a phone: the layer list and the legend start folded; the legend opens from its button
    phone: dict[str, Any] = {}

    def fold(page: Any) -> None:
        phone["layers_open"] = page.evaluate(
            "document.querySelector('.leaflet-control-layers')"
            ".classList.contains('leaflet-control-layers-expanded')"
        )
        phone["folded"] = _legend_titles(page)
        page.click(".wp-legend-toggle")
        phone["open"] = _legend_titles(page)

    v = visit(
        chromium, page_file, ARTIFACTS / "map-office-phone.png", action=fold, viewport=(390, 844)
    )
    check_clean(v)
    assert phone["layers_open"] is False
    assert phone["folded"] == [] and phone["open"], phone
