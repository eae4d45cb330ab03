"""Coordinate reference systems understood by westplan.

Everything inside westplan is stored and computed in WGS-84 longitude/latitude
(:data:`InternalCRS`, EPSG:4326). Input data from Chinese sources usually arrive in one
of three geographic systems, named here by the short names in :data:`CRS_NAMES`:

``"wgs84"``
    GPS coordinates, EPSG:4326. Passed through unchanged.
``"gcj02"``
    The "Mars coordinates" that Chinese online maps (Amap/Gaode, Tencent, Apple Maps in
    China) are obliged to publish: WGS-84 plus a deliberate non-linear offset of roughly
    100-700 m. The offset formula is public knowledge; the maths is delegated to the
    public-domain library :mod:`prcoords`. Points outside the rough China box used by
    prcoords are left unchanged, as GCJ-02 itself does.
``"cgcs2000"``
    China Geodetic Coordinate System 2000, EPSG:4490. It differs from WGS-84 by
    centimetres; the conversion is done with pyproj.

Accuracy of the GCJ-02 inverse
------------------------------
prcoords offers a one-step inverse (``gcj_wgs``, metre-level error: up to ~5 m measured
over China) and an iterative one. :func:`to_wgs84` refines the one-step answer with two
fixed-point corrections ``w <- w - (wgs_gcj(w) - g)`` (worst round-trip error measured
below 0.2 mm). :func:`geometries_to_wgs84`, meant for millions of polygon vertices, uses
one correction by default (worst ~3 cm, typically a few mm; far below the accuracy of any
administrative boundary) and removes duplicate vertices before transforming, so shared
borders stay exactly shared.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd
import prcoords
import pyproj
import shapely

__all__ = [
    "CGCS2000_EPSG",
    "CRS_NAMES",
    "InternalCRS",
    "geometries_to_wgs84",
    "looks_geographic",
    "to_wgs84",
    "wgs84_to_gcj02",
]

logger = logging.getLogger(__name__)

CRS_NAMES: tuple[str, ...] = ("wgs84", "gcj02", "cgcs2000")
"""Short names of the coordinate systems accepted by :func:`to_wgs84`."""

InternalCRS = "EPSG:4326"
"""The CRS of every coordinate and geometry held inside westplan (WGS-84 lon/lat)."""

CGCS2000_EPSG = "EPSG:4490"

FloatArray = npt.NDArray[np.float64]
_PointFunc = Callable[[float, float, int], tuple[float, float]]

# Below this many distinct points a process pool costs more than it saves.
_MIN_POINTS_FOR_POOL = 50_000
# Chunks per worker, so that uneven chunks still keep both cores busy.
_CHUNKS_PER_WORKER = 4


def _check_crs(crs: str) -> str:
    """Return the normalised CRS short name or raise ``ValueError``."""
    name = crs.strip().lower() if isinstance(crs, str) else crs
    if name not in CRS_NAMES:
        expected = ", ".join(repr(n) for n in CRS_NAMES)
        raise ValueError(f"unknown crs {crs!r}; expected one of {expected}")
    return str(name)


def _as_float_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    lon_a, lat_a = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return lon_a, lat_a


def _gcj_to_wgs_point(lon: float, lat: float, corrections: int) -> tuple[float, float]:
    """GCJ-02 -> WGS-84 for one point: prcoords' one-step inverse plus fixed-point steps."""
    gcj = prcoords.Coords(lat, lon)
    if not prcoords.sanity_in_china_p(gcj):
        return lon, lat
    wgs = prcoords.gcj_wgs(gcj, False)
    w_lat, w_lon = wgs.lat, wgs.lon
    for _ in range(corrections):
        fwd = prcoords.wgs_gcj(prcoords.Coords(w_lat, w_lon), False)
        w_lat -= fwd.lat - lat
        w_lon -= fwd.lon - lon
    return w_lon, w_lat


def _wgs_to_gcj_point(lon: float, lat: float, corrections: int) -> tuple[float, float]:
    """WGS-84 -> GCJ-02 for one point (``corrections`` is unused: the formula is exact)."""
    wgs = prcoords.Coords(lat, lon)
    if not prcoords.sanity_in_china_p(wgs):
        return lon, lat
    gcj = prcoords.wgs_gcj(wgs, False)
    return gcj.lon, gcj.lat


_POINT_FUNCS: dict[str, _PointFunc] = {
    "gcj_to_wgs": _gcj_to_wgs_point,
    "wgs_to_gcj": _wgs_to_gcj_point,
}


def _apply_chunk(
    kind: str, lon: FloatArray, lat: FloatArray, corrections: int
) -> tuple[FloatArray, FloatArray]:
    """Apply a scalar prcoords-based transform to every point of a chunk.

    Module level so that worker processes can receive it by reference.
    """
    func = _POINT_FUNCS[kind]
    out_lon = np.empty_like(lon)
    out_lat = np.empty_like(lat)
    for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
        out_lon[i], out_lat[i] = func(x, y, corrections)
    return out_lon, out_lat


def _apply_in_pool(
    kind: str, lon: FloatArray, lat: FloatArray, corrections: int, workers: int
) -> tuple[FloatArray, FloatArray]:
    """Split the points into chunks and transform them in ``workers`` processes.

    Uses the ``fork`` start method where available (workers need nothing but this
    module, and fork works even when ``__main__`` cannot be re-imported, e.g. stdin
    scripts); ``spawn`` elsewhere. Falls back to a serial loop if the pool breaks.
    """
    n = len(lon)
    bounds = np.linspace(0, n, workers * _CHUNKS_PER_WORKER + 1).astype(int)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context(method)
        ) as pool:
            futures = [
                pool.submit(_apply_chunk, kind, lon[a:b], lat[a:b], corrections)
                for a, b in itertools.pairwise(bounds.tolist())
            ]
            parts = [f.result() for f in futures]
    except (BrokenProcessPool, OSError) as exc:
        logger.warning("process pool failed (%s); transforming %d points serially", exc, n)
        return _apply_chunk(kind, lon, lat, corrections)
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
    )


def _apply_pointwise(
    kind: str, lon: FloatArray, lat: FloatArray, corrections: int, workers: int
) -> tuple[FloatArray, FloatArray]:
    """Transform finite, distinct points once each; NaN/inf pass through unchanged."""
    out_lon = lon.astype(np.float64, copy=True)
    out_lat = lat.astype(np.float64, copy=True)
    flat_lon = out_lon.reshape(-1)
    flat_lat = out_lat.reshape(-1)
    finite = np.isfinite(flat_lon) & np.isfinite(flat_lat)
    if not finite.any():
        return out_lon, out_lat

    # Deduplicate: polygon layers repeat every shared-border vertex. Equal inputs give
    # equal outputs, so shared borders stay bit-identical after the transform.
    packed = np.empty(int(finite.sum()), dtype=np.complex128)
    packed.real = flat_lon[finite]
    packed.imag = flat_lat[finite]
    codes, uniques = pd.factorize(packed)
    u_lon = np.ascontiguousarray(np.real(uniques), dtype=np.float64)
    u_lat = np.ascontiguousarray(np.imag(uniques), dtype=np.float64)

    n = len(u_lon)
    if workers > 1 and n >= _MIN_POINTS_FOR_POOL:
        r_lon, r_lat = _apply_in_pool(kind, u_lon, u_lat, corrections, workers)
    else:
        r_lon, r_lat = _apply_chunk(kind, u_lon, u_lat, corrections)

    flat_lon[finite] = r_lon[codes]
    flat_lat[finite] = r_lat[codes]
    return out_lon, out_lat


@lru_cache(maxsize=1)
def _cgcs2000_transformer() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(CGCS2000_EPSG, InternalCRS, always_xy=True)


def to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str, *, workers: int = 1
) -> tuple[FloatArray, FloatArray]:
    """Convert longitude/latitude arrays from ``crs`` to WGS-84 (EPSG:4326).

    Parameters
    ----------
    lon, lat : array_like
        Longitudes and latitudes in degrees, broadcastable to a common shape. NaN (and
        other non-finite values) pass through unchanged.
    crs : str
        One of :data:`CRS_NAMES` (case-insensitive): ``"wgs84"``, ``"gcj02"`` or
        ``"cgcs2000"``.
    workers : int, default 1
        Processes used for large GCJ-02 inputs (the maths is scalar Python).

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in WGS-84, float64, new arrays of the broadcast shape.

    Raises
    ------
    ValueError
        If ``crs`` is not one of :data:`CRS_NAMES`.

    Notes
    -----
    GCJ-02 points are inverted with prcoords' one-step inverse plus two fixed-point
    corrections (round-trip error below 1 mm). Points outside prcoords' China box are
    returned unchanged.
    """
    name = _check_crs(crs)
    lon_a, lat_a = _as_float_arrays(lon, lat)
    if name == "wgs84":
        return lon_a.copy(), lat_a.copy()
    if name == "cgcs2000":
        x, y = _cgcs2000_transformer().transform(lon_a, lat_a)
        out_lon = np.asarray(x, dtype=np.float64).reshape(lon_a.shape)
        out_lat = np.asarray(y, dtype=np.float64).reshape(lat_a.shape)
        # PROJ marks failures as inf; keep the NaN contract for missing input.
        missing = ~(np.isfinite(lon_a) & np.isfinite(lat_a))
        out_lon[missing] = lon_a[missing]
        out_lat[missing] = lat_a[missing]
        return out_lon, out_lat
    return _apply_pointwise("gcj_to_wgs", lon_a, lat_a, corrections=2, workers=workers)


def wgs84_to_gcj02(
    lon: npt.ArrayLike, lat: npt.ArrayLike, *, workers: int = 1
) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 longitude/latitude to GCJ-02, e.g. to draw on Gaode tiles.

    Parameters
    ----------
    lon, lat : array_like
        WGS-84 longitudes and latitudes in degrees; NaN passes through.
    workers : int, default 1
        Processes used for large inputs.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in GCJ-02. Points outside prcoords' China box are unchanged.
    """
    lon_a, lat_a = _as_float_arrays(lon, lat)
    return _apply_pointwise("wgs_to_gcj", lon_a, lat_a, corrections=0, workers=workers)


def geometries_to_wgs84(
    geoms: npt.ArrayLike, crs: str, *, workers: int = 1, precise: bool = False
) -> npt.NDArray[np.object_]:
    """Convert an array of shapely geometries from ``crs`` to WGS-84.

    Parameters
    ----------
    geoms : array_like of shapely.Geometry
        Geometries with lon/lat coordinates in ``crs``. ``None`` entries stay ``None``.
    crs : str
        One of :data:`CRS_NAMES`.
    workers : int, default 1
        Processes used for the GCJ-02 maths when there are many distinct vertices.
    precise : bool, default False
        For GCJ-02, apply two fixed-point corrections (sub-millimetre) instead of one
        (worst ~3 cm, about a third cheaper).

    Returns
    -------
    numpy.ndarray
        New geometries (object array of the input's shape). They are not re-validated:
        the transform is a smooth sub-kilometre shift, but callers that need validity
        should check ``shapely.is_valid``.
    """
    name = _check_crs(crs)
    arr = np.asarray(geoms, dtype=object)
    if name == "wgs84":
        return np.array(shapely.transform(arr, lambda xy: xy), dtype=object)

    def convert(xy: FloatArray) -> FloatArray:
        if name == "cgcs2000":
            x, y = to_wgs84(xy[:, 0], xy[:, 1], name)
        else:
            x, y = _apply_pointwise(
                "gcj_to_wgs", xy[:, 0], xy[:, 1], corrections=2 if precise else 1, workers=workers
            )
        return np.column_stack([x, y])

    return np.array(shapely.transform(arr, convert), dtype=object)


def looks_geographic(lon: npt.ArrayLike, lat: npt.ArrayLike) -> bool:
    """Tell whether coordinates plausibly are degrees of longitude/latitude.

    Parameters
    ----------
    lon, lat : array_like
        Candidate x/y values.

    Returns
    -------
    bool
        True when every finite longitude lies in [-180, 180] and every finite latitude
        in [-90, 90], and each array has at least one finite value. A table in a
        projected CRS (metres) fails this test.
    """
    lon_a, lat_a = _as_float_arrays(lon, lat)
    x = lon_a[np.isfinite(lon_a)]
    y = lat_a[np.isfinite(lat_a)]
    if x.size == 0 or y.size == 0:
        return False
    return bool(np.all((x >= -180) & (x <= 180)) and np.all((y >= -90) & (y <= 90)))
