"""Tests of geodata.crs: GCJ-02 / CGCS2000 / WGS-84 conversions on real coordinates."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata import crs

# Public test vectors (degrees), accurate to ~1e-4 deg.
BEIJING_STATION_WGS = (116.42079, 39.90105)
BEIJING_STATION_GCJ = (116.42703, 39.90245)
TIANANMEN_GCJ = (116.397131, 39.908746)
TIANANMEN_WGS = (116.3909, 39.90734)


def metres(lon1, lat1, lon2, lat2):
    """Haversine distance in metres (vectorised)."""
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * np.arcsin(np.sqrt(h))


def test_constants():
    assert crs.CRS_NAMES == ("wgs84", "gcj02", "cgcs2000")
    assert crs.InternalCRS == "EPSG:4326"


def test_beijing_station_wgs_to_gcj():
    lon, lat = crs.wgs84_to_gcj02(*BEIJING_STATION_WGS)
    assert float(lon) == pytest.approx(BEIJING_STATION_GCJ[0], abs=1e-4)
    assert float(lat) == pytest.approx(BEIJING_STATION_GCJ[1], abs=1e-4)


def test_beijing_station_gcj_to_wgs():
    lon, lat = crs.to_wgs84(*BEIJING_STATION_GCJ, "gcj02")
    assert float(lon) == pytest.approx(BEIJING_STATION_WGS[0], abs=1e-4)
    assert float(lat) == pytest.approx(BEIJING_STATION_WGS[1], abs=1e-4)


def test_tiananmen_gcj_to_wgs():
    lon, lat = crs.to_wgs84(np.array([TIANANMEN_GCJ[0]]), np.array([TIANANMEN_GCJ[1]]), "gcj02")
    assert lon[0] == pytest.approx(TIANANMEN_WGS[0], abs=1e-4)
    assert lat[0] == pytest.approx(TIANANMEN_WGS[1], abs=1e-4)
    # and the offset is the famous few hundred metres
    assert 300 < metres(lon[0], lat[0], *TIANANMEN_GCJ) < 800


china_lon = st.floats(min_value=74.0, max_value=134.0, allow_nan=False)
china_lat = st.floats(min_value=19.0, max_value=52.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=50))
def test_round_trip_wgs_gcj_wgs_below_1cm(points):
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    g_lon, g_lat = crs.wgs84_to_gcj02(lon, lat)
    assert np.all(metres(lon, lat, g_lon, g_lat) > 10)  # GCJ-02 really moved them
    w_lon, w_lat = crs.to_wgs84(g_lon, g_lat, "gcj02")
    assert np.max(metres(lon, lat, w_lon, w_lat)) < 0.01


def test_round_trip_dense_grid_and_polygon_path():
    """Worst case over a dense grid: points API < 1 cm, polygon path (one correction) < 5 cm."""
    rng = np.random.default_rng(20240601)
    lon = rng.uniform(74, 134, 20_000)
    lat = rng.uniform(19, 52, 20_000)
    g_lon, g_lat = crs.wgs84_to_gcj02(lon, lat)
    w_lon, w_lat = crs.to_wgs84(g_lon, g_lat, "gcj02")
    assert metres(lon, lat, w_lon, w_lat).max() < 0.01

    line = shapely.linestrings(np.column_stack([g_lon, g_lat]))
    back = shapely.get_coordinates(crs.geometries_to_wgs84(np.array([line]), "gcj02")[0])
    assert metres(lon, lat, back[:, 0], back[:, 1]).max() < 0.05


def test_nan_passes_through_every_crs():
    lon = np.array([116.4, np.nan, 100.0, np.nan])
    lat = np.array([39.9, 30.0, np.nan, np.nan])
    for name in crs.CRS_NAMES:
        out_lon, out_lat = crs.to_wgs84(lon, lat, name)
        assert np.array_equal(np.isnan(out_lon), np.isnan(lon)), name
        assert np.array_equal(np.isnan(out_lat), np.isnan(lat)), name
        assert np.isfinite(out_lon[0]) and np.isfinite(out_lat[0])
    g_lon, g_lat = crs.wgs84_to_gcj02(lon, lat)
    assert np.array_equal(np.isnan(g_lon), np.isnan(lon))
    assert np.array_equal(np.isnan(g_lat), np.isnan(lat))


def test_unknown_crs_names_value_and_expected():
    with pytest.raises(ValueError) as info:
        crs.to_wgs84(np.array([1.0]), np.array([2.0]), "bd09")
    message = str(info.value)
    assert "'bd09'" in message
    for name in crs.CRS_NAMES:
        assert name in message
    with pytest.raises(ValueError, match="EPSG:3857"):
        crs.geometries_to_wgs84(np.array([shapely.Point(1, 2)]), "EPSG:3857")


def test_crs_name_is_case_insensitive():
    a = crs.to_wgs84(116.4, 39.9, "GCJ02")
    b = crs.to_wgs84(116.4, 39.9, "gcj02")
    assert a == b


def test_cgcs2000_is_wgs84_within_1e6_deg():
    rng = np.random.default_rng(3)
    lon = rng.uniform(74, 134, 1000)
    lat = rng.uniform(19, 52, 1000)
    out_lon, out_lat = crs.to_wgs84(lon, lat, "cgcs2000")
    assert np.max(np.abs(out_lon - lon)) < 1e-6
    assert np.max(np.abs(out_lat - lat)) < 1e-6


def test_wgs84_is_identity_copy():
    lon = np.array([116.4, 87.6])
    lat = np.array([39.9, 43.8])
    out_lon, out_lat = crs.to_wgs84(lon, lat, "wgs84")
    assert np.array_equal(out_lon, lon) and np.array_equal(out_lat, lat)
    out_lon[0] = 0.0
    assert lon[0] == 116.4


def test_points_outside_china_unchanged():
    # Paris, Sydney, Tokyo (east of the GCJ box), New York
    lon = np.array([2.35, 151.2, 139.69, -74.0])
    lat = np.array([48.86, -33.87, 35.69, 40.71])
    out_lon, out_lat = crs.to_wgs84(lon, lat, "gcj02")
    assert np.array_equal(out_lon, lon) and np.array_equal(out_lat, lat)
    g_lon, g_lat = crs.wgs84_to_gcj02(lon, lat)
    assert np.array_equal(g_lon, lon) and np.array_equal(g_lat, lat)


def test_shape_is_kept_and_scalars_broadcast():
    lon = np.full((2, 3), 104.06)
    lat = np.full((2, 3), 30.67)
    out_lon, out_lat = crs.to_wgs84(lon, lat, "gcj02")
    assert out_lon.shape == (2, 3) and out_lat.shape == (2, 3)
    out_lon, out_lat = crs.to_wgs84(lon, 30.67, "gcj02")
    assert out_lat.shape == (2, 3)


def test_process_pool_gives_identical_results():
    rng = np.random.default_rng(7)
    lon = rng.uniform(74, 134, 60_000)
    lat = rng.uniform(19, 52, 60_000)
    serial = crs.to_wgs84(lon, lat, "gcj02", workers=1)
    pooled = crs.to_wgs84(lon, lat, "gcj02", workers=2)
    assert np.array_equal(serial[0], pooled[0]) and np.array_equal(serial[1], pooled[1])


def test_geometries_to_wgs84_shifts_polygons_and_keeps_none():
    square = shapely.box(108.0, 27.5, 108.1, 27.6)  # near Huaihua, Hunan
    out = crs.geometries_to_wgs84(np.array([square, None], dtype=object), "gcj02")
    assert out[1] is None
    assert out[0].geom_type == "Polygon" and out[0].is_valid
    src = shapely.get_coordinates(square)
    dst = shapely.get_coordinates(out[0])
    d = metres(src[:, 0], src[:, 1], dst[:, 0], dst[:, 1])
    assert np.all((d > 50) & (d < 800))
    # identical input vertices give identical output vertices (shared borders stay shared)
    assert np.array_equal(dst[0], dst[-1])
    same = crs.geometries_to_wgs84(np.array([square]), "wgs84")[0]
    assert same.equals_exact(square, 0)


def test_geometries_and_points_agree():
    lon = np.array([103.83, 91.13, 87.62])
    lat = np.array([36.06, 29.65, 43.83])
    pts = shapely.points(lon, lat)
    geo = shapely.get_coordinates(crs.geometries_to_wgs84(pts, "gcj02", precise=True))
    p_lon, p_lat = crs.to_wgs84(lon, lat, "gcj02")
    assert np.allclose(geo[:, 0], p_lon, atol=1e-9) and np.allclose(geo[:, 1], p_lat, atol=1e-9)


def test_looks_geographic():
    assert crs.looks_geographic(np.array([116.4, 87.6]), np.array([39.9, 43.8]))
    assert crs.looks_geographic(np.array([116.4, np.nan]), np.array([39.9, np.nan]))
    assert not crs.looks_geographic(np.array([116.4, np.nan]), np.array([39.9, 1e7]))
    # UTM / Web Mercator metres
    assert not crs.looks_geographic(np.array([500_000.0]), np.array([4_400_000.0]))
    assert not crs.looks_geographic(np.array([116.4, 181.0]), np.array([39.9, 10.0]))
    assert not crs.looks_geographic(np.array([np.nan]), np.array([np.nan]))
    assert crs.looks_geographic(-180.0, 90.0)
