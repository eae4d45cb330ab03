"""GIS layers through pyogrio: every supported format, township points, unrepairable polygons."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geodata.scenario import load_scenario
from tests.support.scenario_files import tiny_counties


def _use_layer(folder: Path, key: str, name: str) -> None:
    toml = (folder / "scenario.toml").read_text(encoding="utf-8")
    if key == "counties":
        toml = toml.replace('counties = "builtin:china"', f'counties = "{name}"')
    else:
        toml = toml.replace("[files]\n", f'[files]\n{key} = "{name}"\n')
    (folder / "scenario.toml").write_text(toml, encoding="utf-8")


def _county_squares(d: float = 0.05) -> gpd.GeoDataFrame:
    rows = []
    for c in tiny_counties():
        rows.append(
            {
                "code": c.code,
                "name": c.name,
                "geometry": shapely.box(c.lon - d, c.lat - d, c.lon + d, c.lat + d),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


@pytest.mark.parametrize(
    ("name", "writer"),
    [
        ("counties.gpkg", lambda f, p: f.to_file(p, driver="GPKG", engine="pyogrio")),
        ("counties.shp", lambda f, p: f.to_file(p, engine="pyogrio")),
        ("counties.parquet", lambda f, p: f.to_parquet(p)),
        ("counties.geojson", lambda f, p: f.to_file(p, driver="GeoJSON", engine="pyogrio")),
    ],
)
def test_county_layer_formats(tiny_dir: Path, name: str, writer) -> None:  # type: ignore[no-untyped-def]
    writer(_county_squares(), tiny_dir / name)
    _use_layer(tiny_dir, "counties", name)
    result = load_scenario(tiny_dir)
    assert result.report.ok, result.report.issues
    s = result.data
    assert s is not None
    a, _ = tiny_counties()
    row = list(s.counties.code).index(a.code)
    assert (
        abs(s.counties.centroid_lon[row] - a.lon) < 1e-6
    )  # the square's centre, not the real county


def test_township_points_fill_missing_post_locations(tiny_dir: Path) -> None:
    a, b = tiny_counties()
    towns = gpd.GeoDataFrame(
        {"township_code": [f"{a.code}001", f"{a.code}002", f"{b.code}001"]},
        geometry=[
            shapely.Point(a.lon + 0.001, a.lat),
            shapely.Point(a.lon, a.lat + 0.001),
            shapely.Point(b.lon, b.lat),
        ],
        crs="EPSG:4326",
    )
    towns.to_file(tiny_dir / "townships.gpkg", driver="GPKG", engine="pyogrio")
    _use_layer(tiny_dir, "townships", "townships.gpkg")
    posts = tiny_dir / "posts.csv"
    text = posts.read_text(encoding="utf-8").replace(f",{a.lon},{a.lat},", ",,,")
    posts.write_text(text, encoding="utf-8")
    s = load_scenario(tiny_dir).data
    assert s is not None and s.posts is not None
    assert s.posts.lon[0] == pytest.approx(a.lon + 0.001)
    assert s.posts.lat[2] == pytest.approx(a.lat + 0.001)


def test_unknown_township_in_layer_is_an_error(tiny_dir: Path) -> None:
    a, _ = tiny_counties()
    towns = gpd.GeoDataFrame(
        {"township_code": [f"{a.code}001"]}, geometry=[shapely.Point(a.lon, a.lat)], crs="EPSG:4326"
    )
    towns.to_file(tiny_dir / "townships.gpkg", driver="GPKG", engine="pyogrio")
    _use_layer(tiny_dir, "townships", "townships.gpkg")
    result = load_scenario(tiny_dir)
    assert ("posts.csv", 4, "township_code", "unknown-township") in {
        (i.file, i.line, i.column, i.rule) for i in result.report.errors
    }


def test_collapsed_polygon_cannot_be_repaired(tiny_dir: Path) -> None:
    frame = _county_squares()
    a = tiny_counties()[0]
    frame.loc[0, "geometry"] = shapely.Polygon(
        [(a.lon, a.lat), (a.lon + 0.1, a.lat), (a.lon + 0.2, a.lat), (a.lon, a.lat)]
    )
    frame.to_file(tiny_dir / "counties.geojson", driver="GeoJSON", engine="pyogrio")
    _use_layer(tiny_dir, "counties", "counties.geojson")
    result = load_scenario(tiny_dir)
    assert not result.valid
    assert any(i.rule == "invalid-geometry" and a.code in i.message for i in result.report.errors)
