"""Elevations of road nodes from a digital elevation model (a GeoTIFF read with rasterio), for
the slope factors of :mod:`geodata.roads.speeds`.

A node's elevation is the value of the DEM cell that holds it (no interpolation: SRTM's 30 m
cells are shorter than most road segments); a node outside the DEM or on a *nodata* cell has
none (``nan``), and an arc with an end without elevation gets no slope factor.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import numpy as np


class Elevation:
    """An open DEM: :meth:`at` samples it; use as a context manager (closes the file).

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When rasterio cannot read it as a raster, or it has no coordinate system.
    """

    def __init__(self, path: Path) -> None:
        import rasterio
        from rasterio.errors import RasterioIOError

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such elevation model (expected a GeoTIFF)")
        try:
            self.ds = rasterio.open(self.path)
        except RasterioIOError as exc:
            raise ValueError(
                f"{self.path}: cannot be read as a raster ({exc}); expected a GeoTIFF DEM"
            ) from None
        if self.ds.crs is None:
            self.ds.close()
            raise ValueError(f"{self.path}: no coordinate system; expected e.g. EPSG:4326")

    def __enter__(self) -> Elevation:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.ds.close()

    def at(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Metres above sea level of points (WGS-84), ``nan`` outside the DEM or on nodata;
        reads only the window around the points."""
        from rasterio.crs import CRS
        from rasterio.transform import rowcol
        from rasterio.warp import transform
        from rasterio.windows import Window

        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        out = np.full(len(lon), np.nan)
        ok = np.isfinite(lon) & np.isfinite(lat)
        if not ok.any():
            return out
        xs, ys = lon[ok], lat[ok]
        if self.ds.crs != CRS.from_epsg(4326):
            xs, ys = (np.asarray(v) for v in transform("EPSG:4326", self.ds.crs, xs, ys))
        rows, cols = (np.asarray(v, dtype=np.int64) for v in rowcol(self.ds.transform, xs, ys))
        inside = (rows >= 0) & (rows < self.ds.height) & (cols >= 0) & (cols < self.ds.width)
        if not inside.any():
            return out
        r0, r1 = int(rows[inside].min()), int(rows[inside].max())
        c0, c1 = int(cols[inside].min()), int(cols[inside].max())
        window = Window(c0, r0, c1 - c0 + 1, r1 - r0 + 1)
        band = self.ds.read(1, window=window, masked=True)
        values = np.ma.filled(band.astype(float), np.nan)
        got = np.full(len(xs), np.nan)
        got[inside] = values[rows[inside] - r0, cols[inside] - c0]
        out[ok] = got
        return out
