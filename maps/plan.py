"""Reading a plan folder for the maps: every file optional, every problem named.

A plan folder is written by ``planner plan`` (``summary.json``, ``seats.csv``,
``assignments.csv`` ...) and, when routing has run into the same folder, ``routes.geojson``
and ``coverage.csv``. The map draws the layers whose files are present. A file that is
present but malformed raises :class:`MapInputError` naming the file, the row, the column
and what was expected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.i18n import _

__all__ = ["MapInputError", "PlanFiles", "Route", "read_plan"]


class MapInputError(ValueError):
    """A plan folder the map cannot draw; the message names file, row, column and expectation."""


@dataclass(frozen=True, slots=True)
class Route:
    """One vehicle-day of ``routes.geojson``: the line and its stops in visiting order."""

    station_id: str
    vehicle: str
    day: str
    line: tuple[tuple[float, float], ...]
    """(lon, lat) vertices, depot first."""
    stop_ids: tuple[str, ...]
    arrivals: tuple[str, ...]
    clients: tuple[int, ...]
    stop_points: tuple[tuple[float, float], ...]
    """(lon, lat) of each stop, in order."""


@dataclass(frozen=True, slots=True)
class PlanFiles:
    """The tables of a plan folder that the map uses; ``None`` when the file is absent."""

    folder: Path
    summary: dict[str, Any]
    seats: pd.DataFrame | None
    assignments: pd.DataFrame | None
    routes: tuple[Route, ...] | None
    coverage: pd.DataFrame | None


_SEATS = {"post_id", "county_code", "township_code", "category", "seats", "filled", "relay"}
_SEATS_INT = ("seats", "filled", "relay", "relay_empty")
_ASSIGNMENTS = {"county_code", "recruit_province"}
_COVERAGE = {"township_code", "demand", "served", "target", "met"}
_ROUTE_KEYS = ("station_id", "vehicle", "day", "stops")
_STOP_KEYS = ("stop_id", "arrive", "clients")


def read_plan(folder: Path) -> PlanFiles:
    """Read the files of a plan folder that a map draws.

    Parameters
    ----------
    folder : pathlib.Path
        A folder written by ``planner plan`` (and possibly ``planner route``).

    Returns
    -------
    PlanFiles
        The tables; absent files are ``None``.

    Raises
    ------
    MapInputError
        If the folder does not exist, holds no plan file at all, or a file is malformed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MapInputError(_("{folder}: no such plan folder", folder=folder))
    known = ("summary.json", "seats.csv", "assignments.csv", "routes.geojson", "coverage.csv")
    if not any((folder / name).is_file() for name in known):
        raise MapInputError(
            _(
                "{folder}: not a plan folder; expected at least one of {files}",
                folder=folder,
                files=", ".join(known),
            )
        )
    summary = _read_summary(folder / "summary.json")
    seats = _read_csv(folder / "seats.csv", _SEATS, ints=_SEATS_INT, floats=("lon", "lat"))
    assignments = _read_csv(
        folder / "assignments.csv", _ASSIGNMENTS, ints=("budget_cny",), floats=()
    )
    coverage = _read_csv(
        folder / "coverage.csv",
        _COVERAGE,
        ints=("demand", "served"),
        floats=("target", "lon", "lat"),
    )
    if coverage is not None:
        coverage["met"] = _flags(coverage, "met", folder / "coverage.csv")
    routes = _read_routes(folder / "routes.geojson")
    return PlanFiles(folder, summary, seats, assignments, routes, coverage)


def _read_summary(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MapInputError(
            _("{path}: not readable as JSON ({reason})", path=path, reason=exc)
        ) from None
    if not isinstance(doc, dict):
        raise MapInputError(
            _("{path}: expected a JSON object, found {type}", path=path, type=type(doc).__name__)
        )
    return doc


def _read_csv(
    path: Path, required: set[str], ints: tuple[str, ...], floats: tuple[str, ...]
) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise MapInputError(
            _("{path}: not readable as CSV ({reason})", path=path, reason=exc)
        ) from None
    missing = sorted(required - set(frame.columns))
    if missing:
        raise MapInputError(
            _(
                "{path}: missing column(s) {missing}; found {found}",
                path=path,
                missing=", ".join(missing),
                found=", ".join(frame.columns),
            )
        )
    for column in ints:
        if column in frame.columns:
            frame[column] = _numbers(frame, column, path, integer=True)
    for column in floats:
        if column in frame.columns:
            frame[column] = _numbers(frame, column, path, integer=False)
    return frame


def _numbers(frame: pd.DataFrame, column: str, path: Path, integer: bool) -> pd.Series:
    raw = frame[column].str.strip()
    values = pd.to_numeric(raw.where(raw != "", None), errors="coerce")
    bad = values.isna() & (raw != "") if not integer else values.isna() | (values % 1 != 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise MapInputError(
            _(
                "{path}: row {row}, column {column}: found {found!r}; expected {what}",
                path=path,
                row=row + 2,
                column=column,
                found=frame[column].iloc[row],
                what=_("an integer") if integer else _("a number"),
            )
        )
    return values.astype(np.int64) if integer else values.astype(np.float64)


def _flags(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    raw = frame[column].str.strip().str.lower()
    truth = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
    bad = ~raw.isin(list(truth))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise MapInputError(
            _(
                "{path}: row {row}, column {column}: found {found!r}; expected {what}",
                path=path,
                row=row + 2,
                column=column,
                found=frame[column].iloc[row],
                what=_("1/0 or true/false"),
            )
        )
    return raw.map(truth).astype(bool)


def _read_routes(path: Path) -> tuple[Route, ...] | None:
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MapInputError(
            _("{path}: not readable as GeoJSON ({reason})", path=path, reason=exc)
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise MapInputError(_("{path}: expected a GeoJSON FeatureCollection", path=path))
    features = doc.get("features")
    if not isinstance(features, list):
        raise MapInputError(_("{path}: expected a 'features' list", path=path))
    return tuple(_route(path, i, f) for i, f in enumerate(features))


def _route(path: Path, i: int, feature: Any) -> Route:
    where = _("{path}: feature {i}", path=path, i=i)
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(geometry, dict) or geometry.get("type") != "LineString":
        raise MapInputError(_("{where}: expected a LineString geometry", where=where))
    try:
        line = tuple((float(x), float(y)) for x, y, *_rest in geometry["coordinates"])
    except (KeyError, TypeError, ValueError):
        raise MapInputError(
            _("{where}: coordinates must be [lon, lat] pairs", where=where)
        ) from None
    props = feature.get("properties") or {}
    missing = [k for k in _ROUTE_KEYS if k not in props]
    if missing:
        raise MapInputError(
            _(
                "{where}: missing propert(ies) {missing}; expected {expected}",
                where=where,
                missing=", ".join(missing),
                expected=", ".join(_ROUTE_KEYS),
            )
        )
    stops = props["stops"]
    if not isinstance(stops, list) or not all(
        isinstance(stop, dict) and all(k in stop for k in _STOP_KEYS) for stop in stops
    ):
        raise MapInputError(
            _(
                "{where}, property stops: expected a list of objects with {keys}",
                where=where,
                keys=", ".join(_STOP_KEYS),
            )
        )
    placed = _stop_places(stops)
    if placed is not None and len(line) >= 2:  # a line along the roads: the stops say where
        return Route(
            station_id=str(props["station_id"]),
            vehicle=str(props["vehicle"]),
            day=str(props["day"]),
            line=line,
            stop_ids=tuple(str(stop["stop_id"]) for stop in stops),
            arrivals=tuple(_clock(stop["arrive"]) for stop in stops),
            clients=_counts(where, stops),
            stop_points=placed,
        )
    if len(line) not in (len(stops), len(stops) + 1, len(stops) + 2) or len(line) < 2:
        raise MapInputError(
            _(
                "{where}: {vertices} vertices for {stops} stops; expected the depot, the stops "
                "in order and (optionally) the depot again",
                where=where,
                vertices=len(line),
                stops=len(stops),
            )
        )
    first = 0 if len(line) == len(stops) else 1
    counts = _counts(where, stops)
    return Route(
        station_id=str(props["station_id"]),
        vehicle=str(props["vehicle"]),
        day=str(props["day"]),
        line=line,
        stop_ids=tuple(str(stop["stop_id"]) for stop in stops),
        arrivals=tuple(_clock(stop["arrive"]) for stop in stops),
        clients=counts,
        stop_points=line[first : first + len(stops)],
    )


def _counts(where: str, stops: list[dict[str, Any]]) -> tuple[int, ...]:
    try:
        return tuple(int(stop["clients"]) for stop in stops)
    except (TypeError, ValueError):
        raise MapInputError(_("{where}, stops: clients must be integers", where=where)) from None


def _stop_places(stops: list[dict[str, Any]]) -> tuple[tuple[float, float], ...] | None:
    """Each stop's ``lon``/``lat`` where every stop has them (a line along the roads has
    more vertices than stops); ``None`` otherwise."""
    try:
        return tuple((float(stop["lon"]), float(stop["lat"])) for stop in stops)
    except (KeyError, TypeError, ValueError):
        return None


def _clock(value: Any) -> str:
    """Minutes after midnight as HH:MM; text is kept as written."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        minutes = round(float(value))
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    return str(value)
