"""The files of ``planner roads matrix``: ``POINTS.csv`` in (``id,lon,lat``) and
``MATRIX.csv`` out (``from,to,meters,seconds,path,from_snap_m,to_snap_m``), reader and writer
side by side.

``meters`` and ``seconds`` are empty and ``path`` is ``false`` for a pair without a path;
the snap distances say how far each point lies from the road it joins (empty for a point
beyond the snap limit).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geodata import crs as crsmod
from geodata.roads.matrix import RoadMatrix

MATRIX_COLUMNS = ("from", "to", "meters", "seconds", "path", "from_snap_m", "to_snap_m")


def read_points(path: Path, crs: str = "wgs84") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids, longitudes and latitudes (WGS-84) of a points CSV.

    Raises
    ------
    ValueError
        When a column is missing, an id repeats or a coordinate is not a number.
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in ("id", "lon", "lat") if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: no column {', '.join(missing)}; expected id,lon,lat")
    dup = frame["id"][frame["id"].duplicated()].tolist()
    if dup:
        raise ValueError(f"{path}: id {dup[0]!r} appears twice; expected one row per point")
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(lon) | ~np.isfinite(lat))
    if len(bad):
        i = int(bad[0])
        raise ValueError(
            f"{path}: line {i + 2}: found lon {frame['lon'][i]!r}, lat {frame['lat'][i]!r}; "
            "expected numbers in degrees"
        )
    lon, lat = crsmod.to_wgs84(lon, lat, crs)
    return frame["id"].to_numpy(dtype=str), np.asarray(lon), np.asarray(lat)


def matrix_frame(ids: np.ndarray, m: RoadMatrix) -> pd.DataFrame:
    """One row per ordered pair (``from`` major)."""
    n = len(ids)
    a, b = np.divmod(np.arange(n * n), n)
    ok = np.isfinite(m.seconds.ravel())
    snap = np.where(m.snap.segment >= 0, np.round(m.snap.meters, 1), np.nan)
    return pd.DataFrame(
        {
            "from": ids[a],
            "to": ids[b],
            "meters": np.where(ok, np.round(m.meters.ravel(), 1), np.nan),
            "seconds": np.where(ok, np.round(m.seconds.ravel(), 1), np.nan),
            "path": ok,
            "from_snap_m": snap[a],
            "to_snap_m": snap[b],
        }
    )


def write_matrix(path: Path, ids: np.ndarray, m: RoadMatrix) -> Path:
    """Write ``MATRIX.csv``; a pair without a path has empty metres and seconds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    matrix_frame(ids, m).to_csv(path, index=False, float_format="%.1f")
    return path


def read_matrix(path: Path) -> pd.DataFrame:
    """A ``MATRIX.csv`` as written (empty metres and seconds read as NaN)."""
    frame = pd.read_csv(path, dtype={"from": str, "to": str})
    missing = [c for c in MATRIX_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: no column {', '.join(missing)}; expected {MATRIX_COLUMNS}")
    return frame
