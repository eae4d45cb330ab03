"""Slope factors from an elevation model (``planner roads build --elevation DEM.tif``): a
hand-made road on a synthetic DEM with a known 10% grade, the times up and down worked out by
hand from the documented factors (docs/routing.md "Slope")."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import rasterio
from affine import Affine
from typer.testing import CliRunner

from api.cli import app
from geodata.roads import build_roads, point_matrix, read_graph

KM = math.degrees(1000 / 6_371_008.8)
"""Degrees per km along the equator (the great-circle metres of the build)."""
UNCLASSIFIED = 30 / 3.6
"""m/s of ``highway=unclassified`` (docs/routing.md, the speed table)."""
UP_10 = 0.6
"""The documented factor of a 9-12% climb."""
DOWN_10 = 0.8
"""The documented factor of a descent steeper than 9%."""


def _osm(path: Path) -> Path:
    """A two-way unclassified road 1 km due east along the equator, nodes at 0, 0.5, 1 km."""
    nodes = "".join(
        f'<node id="{i + 1}" version="1" lat="0.0" lon="{110 + x * KM:.9f}"/>'
        for i, x in enumerate((0.0, 0.5, 1.0))
    )
    way = '<way id="1" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>'
    way += '<tag k="highway" v="unclassified"/></way>'
    path.write_text(f'<?xml version="1.0"?><osm version="0.6">{nodes}{way}</osm>')
    return path


def _dem(path: Path, crs: str | None = "EPSG:4326") -> Path:
    """Ground rising 10 m per 100 m eastwards from 110 E (cells of 1e-5 degrees, 1.1 m)."""
    cell = 1e-5
    width, height = int(1.2 * KM / cell), 20
    west = 110 - 0.1 * KM
    east_m = (west + (np.arange(width) + 0.5) * cell - 110) / KM * 1000
    band = np.tile(0.1 * east_m, (height, 1)).astype(np.float32)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="float32",
        crs=crs,
        transform=Affine(cell, 0, west, 0, -cell, height / 2 * cell),
        nodata=-9999.0,
    ) as ds:
        ds.write(band, 1)
    return path


def test_a_10_percent_grade_is_slower_up_than_down(tmp_path: Path) -> None:
    osm = _osm(tmp_path / "hill.osm")
    flat = build_roads(osm, tmp_path / "flat").folder
    report = build_roads(osm, tmp_path / "hill", elevation=_dem(tmp_path / "dem.tif"))
    nodes = pq.read_table(report.folder / "nodes.parquet").to_pandas().set_index("id")
    assert nodes.loc[[1, 2, 3], "ele"].tolist() == pytest.approx([0, 50, 100], abs=0.1)
    assert report.manifest["elevation"]["name"] == "dem.tif"
    assert report.manifest["elevation"]["segments_without"] == 0
    # west end, a quarter of the way, east end
    lon = np.array([110.0, 110 + 0.25 * KM, 110 + KM])
    lat = np.zeros(3)
    m = point_matrix(read_graph(report.folder), lon, lat)
    up, down = UNCLASSIFIED * UP_10, UNCLASSIFIED * DOWN_10  # 5 m/s and 6.67 m/s
    expected = np.array(
        [
            [0, 250 / up, 1000 / up],  # 50 s, 200 s
            [250 / down, 0, 750 / up],  # 37.5 s, 150 s
            [1000 / down, 750 / down, 0],  # 150 s, 112.5 s
        ]
    )
    assert m.seconds == pytest.approx(expected, abs=0.01)
    assert m.seconds[0, 2] == pytest.approx(200.0, abs=0.01)
    assert m.seconds[2, 0] == pytest.approx(150.0, abs=0.01)
    assert m.meters[0, 2] == pytest.approx(1000, abs=0.01)
    f = point_matrix(read_graph(flat), lon, lat)
    assert f.seconds[0, 2] == f.seconds[2, 0] == pytest.approx(1000 / UNCLASSIFIED, abs=0.01)


def test_gentle_grades_keep_the_class_speed(tmp_path: Path) -> None:
    """The same road with the ground a tenth as steep (1%): no factor either way."""
    dem = _dem(tmp_path / "dem.tif")
    with rasterio.open(dem, "r+") as ds:
        ds.write(ds.read(1) / 10, 1)
    folder = build_roads(_osm(tmp_path / "hill.osm"), tmp_path / "g", elevation=dem).folder
    m = point_matrix(read_graph(folder), np.array([110.0, 110 + KM]), np.zeros(2))
    assert m.seconds[0, 1] == m.seconds[1, 0] == pytest.approx(120.0, abs=0.01)


def test_a_road_off_the_dem_has_no_factor(tmp_path: Path) -> None:
    """Nodes outside the DEM have no elevation: the manifest counts the segments, and the
    times are the class speed's."""
    dem = _dem(tmp_path / "dem.tif")
    osm = tmp_path / "far.osm"
    osm.write_text(_osm(tmp_path / "x.osm").read_text().replace('lat="0.0"', 'lat="1.0"'))
    report = build_roads(osm, tmp_path / "far", elevation=dem)
    assert report.manifest["elevation"]["segments_without"] == 2
    nodes = pq.read_table(report.folder / "nodes.parquet").to_pandas()
    assert nodes["ele"].isna().all()
    m = point_matrix(read_graph(report.folder), np.array([110.0, 110 + KM]), np.ones(2))
    assert m.seconds[0, 1] == pytest.approx(m.meters[0, 1] / UNCLASSIFIED, abs=0.01)


def test_bad_elevation_files_are_named(tmp_path: Path) -> None:
    osm = _osm(tmp_path / "hill.osm")
    with pytest.raises(FileNotFoundError, match=r"nope\.tif"):
        build_roads(osm, tmp_path / "a", elevation=tmp_path / "nope.tif")
    text = tmp_path / "dem.tif"
    text.write_text("not a raster")
    with pytest.raises(ValueError, match=r"dem\.tif: cannot be read as a raster"):
        build_roads(osm, tmp_path / "a", elevation=text)
    bare = _dem(tmp_path / "bare.tif", crs=None)
    with pytest.raises(ValueError, match=r"bare\.tif: no coordinate system"):
        build_roads(osm, tmp_path / "a", elevation=bare)


def test_build_command_takes_an_elevation_model(tmp_path: Path) -> None:
    osm, dem = _osm(tmp_path / "hill.osm"), _dem(tmp_path / "dem.tif")
    out = tmp_path / "roads"
    run = CliRunner().invoke(
        app, ["roads", "build", str(osm), "--out", str(out), "--elevation", str(dem)]
    )
    assert run.exit_code == 0, run.output
    ele = pq.read_table(out / "nodes.parquet")["ele"].to_numpy()
    assert np.nanmax(ele) == pytest.approx(100, abs=0.1)
    bad = CliRunner().invoke(
        app, ["roads", "build", str(osm), "--out", str(out), "--elevation", str(tmp_path / "x.tif")]
    )
    assert bad.exit_code == 2
    assert "x.tif" in bad.output
