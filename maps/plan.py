"""What a map draws (:class:`PlanFiles`), from a plan and its routes or from a plan folder.

:meth:`PlanFiles.from_results` takes a :class:`~planner.Plan` and/or a
:class:`~planner.RoutePlan` (and their scenario); :func:`read_plan` reads a plan folder written
by ``planner plan`` (``summary.json``, ``seats.csv``, ``assignments.csv`` ...) and, when
routing has run into the same folder, ``routes.geojson`` and ``coverage.csv``, through the
plan folder's one reader (:mod:`geodata.planfolder`): every file optional, the map draws the
layers whose files are present, and a file that is present but malformed raises
:class:`MapInputError` naming the file, the row, the column and what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from geodata.planfolder import PlanFolderError, read_json, read_json_object, read_table
from planner.i18n import _
from planner.summaries import thaw

if TYPE_CHECKING:
    from planner.plan import Plan
    from planner.route_plan import RoutePlan
    from planner.scenario import Scenario

__all__ = [
    "Heading",
    "MapInputError",
    "PlanFiles",
    "VehicleDayLine",
    "read_plan",
    "township_points",
]


class MapInputError(ValueError):
    """A plan folder the map cannot draw; the message names file, row, column and expectation."""


@dataclass(frozen=True, slots=True)
class VehicleDayLine:
    """The line a map draws for one vehicle-day of ``routes.geojson``: the line and its stops
    in visiting order."""

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
class Heading:
    """The scenario a map names in its title."""

    name: str
    year: str = ""
    synthetic: bool = False


@dataclass(frozen=True, slots=True)
class PlanFiles:
    """The tables of a plan that the map uses; ``None`` when the plan lacks them.

    ``county_quota`` is the quota units per non-barred county (``summary.json``);
    ``township_points`` (index: township code; ``lon``, ``lat``) locates coverage rows that
    carry no point of their own (folders of older versions), when the scenario is at hand.
    """

    folder: Path | None
    heading: Heading
    county_quota: Mapping[str, int]
    seats: pd.DataFrame | None
    assignments: pd.DataFrame | None
    routes: tuple[VehicleDayLine, ...] | None
    coverage: pd.DataFrame | None
    township_points: pd.DataFrame | None = None

    @classmethod
    def from_results(
        cls,
        plan: Plan | None = None,
        routes: RoutePlan | None = None,
        scenario: Scenario | None = None,
    ) -> PlanFiles:
        """What a map draws of a plan and/or its routes (and their scenario: default the
        plan's or the routes')."""
        if plan is None and routes is None:
            raise TypeError("nothing to draw: expected a plan or routes")
        scenario = scenario or (plan.scenario if plan is not None else None)
        scenario = scenario or (routes.scenario if routes is not None else None)
        assert scenario is not None
        data = scenario.data
        heading = Heading(scenario.name, str(data.year), bool(data.synthetic))
        if plan is not None:
            info = plan.summary.scenario
            heading = Heading(info.name, str(info.year), info.synthetic)
        return cls(
            folder=None,
            heading=heading,
            county_quota=plan.summary.county_quota if plan is not None else {},
            seats=plan.seats if plan is not None else None,
            assignments=plan.assignments if plan is not None else None,
            routes=_routes_of(thaw(routes.geojson), "routes") if routes is not None else None,
            coverage=routes.coverage if routes is not None else None,
            township_points=township_points(scenario),
        )

    @property
    def name(self) -> str:
        """What the plan is called where its scenario has no name."""
        return self.folder.name if self.folder is not None else "plan"


def township_points(scenario: Scenario | None) -> pd.DataFrame | None:
    """Mean stop location per township of a scenario (``None`` without stops)."""
    if scenario is None or not scenario.valid or scenario.data.stops is None:
        return None
    stops = scenario.data.stops
    frame = pd.DataFrame({"township": stops.township_code, "lon": stops.lon, "lat": stops.lat})
    return frame[frame["township"] != ""].groupby("township")[["lon", "lat"]].mean()


_SEATS = {"post_id", "county_code", "township_code", "category", "seats", "filled", "relay"}
_SEATS_INT = ("seats", "filled", "relay", "relay_empty")
_ASSIGNMENTS = {"county_code", "recruit_province"}
_COVERAGE = {"township_code", "demand", "served", "target", "met"}
_ROUTE_KEYS = ("station_id", "vehicle", "day", "stops")
_STOP_KEYS = ("stop_id", "arrive", "clients")


def read_plan(folder: Path, scenario: Scenario | None = None) -> PlanFiles:
    """Read the files of a plan folder that a map draws.

    Parameters
    ----------
    folder : pathlib.Path
        A folder written by ``planner plan`` (and possibly ``planner route``).
    scenario : Scenario, optional
        Its scenario, to locate coverage rows without a point of their own (never read
        again from ``summary.json``'s source).

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
    try:
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
            flags=("met",),
        )
        routes = _read_routes(folder / "routes.geojson")
    except PlanFolderError as exc:
        raise MapInputError(str(exc)) from None
    named = summary.get("scenario")
    named = named if isinstance(named, dict) else {}
    heading = Heading(
        str(named.get("name", folder.name)),
        str(named.get("year", "")),
        bool(named.get("synthetic", False)),
    )
    quota = summary.get("county_quota")
    return PlanFiles(
        folder,
        heading,
        quota if isinstance(quota, dict) else {},
        seats,
        assignments,
        routes,
        coverage,
        township_points(scenario),
    )


def _read_summary(path: Path) -> dict[str, Any]:
    return read_json_object(path) if path.is_file() else {}


def _read_csv(
    path: Path,
    required: set[str],
    ints: tuple[str, ...],
    floats: tuple[str, ...],
    flags: tuple[str, ...] = (),
) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    return read_table(path, required, ints=ints, floats=floats, flags=flags)


def _read_routes(path: Path) -> tuple[VehicleDayLine, ...] | None:
    if not path.is_file():
        return None
    return _routes_of(read_json(path, geojson=True), path)


def _routes_of(doc: Any, path: Path | str) -> tuple[VehicleDayLine, ...]:
    """The vehicle-days of a GeoJSON document (``routes.geojson``, ``RoutePlan.geojson``)."""
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise MapInputError(_("{path}: expected a GeoJSON FeatureCollection", path=path))
    features = doc.get("features")
    if not isinstance(features, list):
        raise MapInputError(_("{path}: expected a 'features' list", path=path))
    return tuple(_route(path, i, f) for i, f in enumerate(features))


def _route(path: Path | str, i: int, feature: Any) -> VehicleDayLine:
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
        return VehicleDayLine(
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
    return VehicleDayLine(
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
