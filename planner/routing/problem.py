"""The routing problem of planning model section 3, frozen and ready for the solver.

A :class:`RoutingProblem` holds stations (depots), stops and the travel-time matrix between
them as read-only numpy arrays. Node ``i < n_stations`` is station ``i``; node
``n_stations + j`` is stop ``j``. Travel times are minutes; ``inf`` marks a pair with no path
(unreachable, never zero).

Two constructors: :meth:`RoutingProblem.from_scenario` takes a validated scenario (and the
crews staffed per station); :meth:`RoutingProblem.from_arrays` needs only numpy arrays and is
what tests and generators use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from planner.frozen import Frozen
from planner.geo import haversine_km
from planner.scenario import Rules, ScenarioData, TravelTimes
from planner.schema import STATIONS, STOPS

DEFAULT_RULES = Rules()
"""The planning model's defaults (the coverage target of a problem built from arrays)."""

NO_WINDOW = -1
"""``open``/``close`` value of a stop without a time window."""


def _ro(a: np.ndarray) -> np.ndarray:
    """A read-only copy of ``a``; an array already read-only that owns its data (made so by
    its builder, such as the travel matrix of :meth:`RoutingProblem.from_scenario`) is kept
    as it is, not copied."""
    if isinstance(a, np.ndarray) and a.flags.owndata and not a.flags.writeable:
        return a
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


_STATION_FIELDS = (
    "station_county",
    "vehicles",
    "capacity",
    "shift_start",
    "shift_end",
    "crew_size",
    "days",
)
"""Per-station arrays besides the id (shape (S,)); ``staffed`` is (S, days)."""
_STOP_FIELDS = (
    "stop_county",
    "stop_township",
    "demand",
    "minutes_per_client",
    "setup_minutes",
    "open",
    "close",
    "priority",
)
"""Per-stop arrays besides the id (shape (T,))."""


@dataclass(frozen=True, slots=True)
class RoutingProblem(Frozen):
    """Stations, stops, crews and travel times of one mobile-service campaign.

    Attributes
    ----------
    station_id, station_county : ndarray of str, shape (S,)
    vehicles : ndarray of int, shape (S,)
        Vehicles of each station.
    capacity : ndarray of int, shape (S,)
        Clients one vehicle can serve in a day.
    shift_start, shift_end : ndarray of int, shape (S,)
        Minutes after midnight; a route leaves and returns within them.
    crew_size : ndarray of int, shape (S,)
    days : ndarray of int, shape (S,)
        Campaign days of each station.
    staffed : ndarray of int, shape (S, H)
        Vehicles whose crew is staffed, per station and campaign day (``H = max(days)``);
        0 on days past the station's campaign. A vehicle runs on a day only when staffed.
    stop_id, stop_county, stop_township : ndarray of str, shape (T,)
    demand : ndarray of int, shape (T,)
        Clients of each stop.
    minutes_per_client, setup_minutes : ndarray of float, shape (T,)
    open, close : ndarray of int, shape (T,)
        Time window in minutes after midnight, ``NO_WINDOW`` (-1) when the stop has none: a
        visit (set-up and service) lies inside ``[open, close]``.
    priority : ndarray of int, shape (T,)
        1 is ordinary; a larger number weighs the stop's demand beyond its target more.
    travel : ndarray of float, shape (S + T, S + T)
        Minutes between nodes; ``inf`` where there is no path.
    coverage_target : float
        Share of each township's demand to reach first (default 0.8).
    lon, lat : ndarray of float, shape (S + T,)
        Node coordinates (WGS-84), for outputs only; ``NaN`` when unknown.
    """

    station_id: np.ndarray
    station_county: np.ndarray
    vehicles: np.ndarray
    capacity: np.ndarray
    shift_start: np.ndarray
    shift_end: np.ndarray
    crew_size: np.ndarray
    days: np.ndarray
    staffed: np.ndarray
    stop_id: np.ndarray
    stop_county: np.ndarray
    stop_township: np.ndarray
    demand: np.ndarray
    minutes_per_client: np.ndarray
    setup_minutes: np.ndarray
    open: np.ndarray
    close: np.ndarray
    priority: np.ndarray
    travel: np.ndarray
    coverage_target: float = DEFAULT_RULES.coverage_target
    lon: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lat: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n_stations(self) -> int:
        return len(self.station_id)

    @property
    def n_stops(self) -> int:
        return len(self.stop_id)

    @property
    def horizon(self) -> int:
        """Campaign days of the longest station campaign."""
        return int(self.staffed.shape[1])

    def stop_node(self, j: np.ndarray | int) -> np.ndarray | int:
        """Node index of stop ``j``."""
        return self.n_stations + j

    def target(self) -> np.ndarray:
        """Clients to reach first at each stop: ceil(coverage_target x demand)."""
        return np.ceil(self.coverage_target * self.demand - 1e-9).astype(np.int64)

    def township_targets(self, stops: np.ndarray) -> tuple[dict[str, list[int]], dict[str, int]]:
        """The townships of ``stops``: each one's stops, and its target,
        ceil(coverage_target x the township's demand)."""
        towns: dict[str, list[int]] = {}
        for j in np.asarray(stops).tolist():
            towns.setdefault(str(self.stop_township[j]), []).append(int(j))
        goal = {
            w: math.ceil(self.coverage_target * int(self.demand[js].sum()) - 1e-9)
            for w, js in towns.items()
        }
        return towns, goal

    def subset(self, stations: np.ndarray, stops: np.ndarray) -> RoutingProblem:
        """The problem restricted to some stations and stops (e.g. one county's)."""
        nodes = np.concatenate([stations, self.n_stations + np.asarray(stops)])
        return RoutingProblem(
            **{
                f: _ro(getattr(self, f)[stations])
                for f in ("station_id", "staffed", *_STATION_FIELDS)
            },
            **{f: _ro(getattr(self, f)[stops]) for f in ("stop_id", *_STOP_FIELDS)},
            travel=_ro(self.travel[np.ix_(nodes, nodes)]),
            coverage_target=self.coverage_target,
            lon=_ro(self.lon[nodes]),
            lat=_ro(self.lat[nodes]),
        )

    # constructors ----------------------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        *,
        station_id: np.ndarray,
        station_county: np.ndarray,
        vehicles: np.ndarray,
        capacity: np.ndarray,
        shift_start: np.ndarray,
        shift_end: np.ndarray,
        days: np.ndarray,
        stop_id: np.ndarray,
        stop_county: np.ndarray,
        demand: np.ndarray,
        travel: np.ndarray,
        crew_size: np.ndarray | None = None,
        crews: np.ndarray | None = None,
        stop_township: np.ndarray | None = None,
        minutes_per_client: np.ndarray | None = None,
        setup_minutes: np.ndarray | None = None,
        open: np.ndarray | None = None,
        close: np.ndarray | None = None,
        priority: np.ndarray | None = None,
        coverage_target: float = DEFAULT_RULES.coverage_target,
        lon: np.ndarray | None = None,
        lat: np.ndarray | None = None,
    ) -> RoutingProblem:
        """Build and check a problem from arrays (defaults of the data contract:
        :data:`planner.schema.STATIONS` and :data:`planner.schema.STOPS`).

        ``crews`` is the number of volunteers staffing each station's vehicles; ``None``
        means every vehicle is staffed (the station's declared crew). A station staffs
        ``min(vehicles, crews // crew_size)`` vehicles on each of its campaign days.

        Raises
        ------
        ValueError
            When shapes disagree or a number is out of range; the message names the field.
        """
        s = len(station_id)
        t = len(stop_id)
        vehicles = np.asarray(vehicles, dtype=np.int64)
        days = np.asarray(days, dtype=np.int64)
        crew_size, staffed = _staffing(s, vehicles, days, crew_size, crews)
        travel = np.asarray(travel, dtype=float)

        def opt(a: np.ndarray | None, default: float, dtype: type) -> np.ndarray:
            return np.full(t, default, dtype=dtype) if a is None else np.asarray(a, dtype=dtype)

        problem = cls(
            station_id=_ro(np.asarray(station_id, dtype=str)),
            station_county=_ro(np.asarray(station_county, dtype=str)),
            vehicles=_ro(vehicles),
            capacity=_ro(np.asarray(capacity, dtype=np.int64)),
            shift_start=_ro(np.asarray(shift_start, dtype=np.int64)),
            shift_end=_ro(np.asarray(shift_end, dtype=np.int64)),
            crew_size=_ro(crew_size),
            days=_ro(days),
            staffed=_ro(staffed.astype(np.int64)),
            stop_id=_ro(np.asarray(stop_id, dtype=str)),
            stop_county=_ro(np.asarray(stop_county, dtype=str)),
            stop_township=_ro(
                np.asarray(stop_id if stop_township is None else stop_township, dtype=str)
            ),
            demand=_ro(np.asarray(demand, dtype=np.int64)),
            minutes_per_client=_ro(
                opt(minutes_per_client, STOPS.default("minutes_per_client"), float)
            ),
            setup_minutes=_ro(opt(setup_minutes, STOPS.default("setup_minutes"), float)),
            open=_ro(opt(open, NO_WINDOW, np.int64)),
            close=_ro(opt(close, NO_WINDOW, np.int64)),
            priority=_ro(opt(priority, STOPS.default("priority"), np.int64)),
            travel=_ro(travel),
            coverage_target=float(coverage_target),
            lon=_ro(np.full(s + t, np.nan) if lon is None else np.asarray(lon, dtype=float)),
            lat=_ro(np.full(s + t, np.nan) if lat is None else np.asarray(lat, dtype=float)),
        )
        problem._check()
        return problem

    @classmethod
    def from_scenario(
        cls, scenario: ScenarioData, crews: dict[str, int] | None = None
    ) -> RoutingProblem:
        """Build the problem of a validated scenario.

        Parameters
        ----------
        scenario : ScenarioData
            Must have ``stations`` and ``stops``.
        crews : dict, optional
            Volunteers staffing each station's vehicles, by station id (from a plan's
            ``mobile_service`` assignments). ``None``: the stations' declared crews, every
            vehicle staffed. A station missing from the dict has no crew.

        Travel times: ``travel_times.csv`` where the scenario has it (an empty ``minutes``
        is a pair with no path; a pair listed in one direction only is taken as symmetric),
        else, and for pairs it does not list, great-circle km x circuity / speed between the
        nodes of one county. A station serves only its own county's stops, so pairs of
        different counties that ``travel_times.csv`` does not list have no path (``inf``):
        only the county blocks are computed, which keeps the national tier's 16,000 nodes
        within one matrix of 2 GB instead of a dozen temporaries of that size.
        """
        st, sp = scenario.stations, scenario.stops
        if st is None or sp is None:
            raise ValueError("the scenario has no routing tables (stations.csv, stops.csv)")
        rules = scenario.rules
        lon = np.concatenate([st.lon, sp.lon]).astype(float)
        lat = np.concatenate([st.lat, sp.lat]).astype(float)
        county = np.concatenate([st.county_code, sp.county_code]).astype(str)
        travel = county_travel_minutes(lon, lat, county, rules.circuity, rules.speed_kmh)
        ids = np.concatenate([st.station_id, sp.stop_id]).astype(str)
        if scenario.travel_times is not None:
            travel = overlay_travel_times(travel, ids, scenario.travel_times)
        travel.flags.writeable = False  # built here: the problem keeps it without a copy
        crew_arr = None
        if crews is not None:
            crew_arr = np.array([int(crews.get(str(i), 0)) for i in st.station_id], np.int64)
        return cls.from_arrays(
            station_id=st.station_id,
            station_county=st.county_code,
            vehicles=st.vehicles,
            capacity=st.clients_per_vehicle_day,
            shift_start=st.shift_start,
            shift_end=st.shift_end,
            days=st.days,
            crew_size=st.crew_size,
            crews=crew_arr,
            stop_id=sp.stop_id,
            stop_county=sp.county_code,
            stop_township=np.where(
                np.asarray(sp.township_code, dtype=str) == "", sp.stop_id, sp.township_code
            ),
            demand=sp.demand,
            minutes_per_client=sp.minutes_per_client,
            setup_minutes=sp.setup_minutes,
            open=sp.open,
            close=sp.close,
            priority=np.where(np.asarray(sp.priority) > 0, sp.priority, 1),
            travel=travel,
            coverage_target=rules.coverage_target,
            lon=lon,
            lat=lat,
        )

    # checks ----------------------------------------------------------------------------------

    def _check(self) -> None:
        s, t = self.n_stations, self.n_stops
        for name in _STATION_FIELDS:
            _check_shape(name, getattr(self, name), (s,))
        for name in _STOP_FIELDS:
            _check_shape(name, getattr(self, name), (t,))
        _check_shape("travel", self.travel, (s + t, s + t))
        _check_shape("lon", self.lon, (s + t,))
        for name in ("vehicles", "capacity", "days", "demand", "crew_size"):
            a = getattr(self, name)
            if (a < 0).any():
                raise ValueError(f"{name}: found {a.min()}; expected numbers >= 0")
        if (self.shift_end < self.shift_start).any():
            raise ValueError("shift_end: found a shift that ends before it starts")
        if (self.minutes_per_client < 0).any() or (self.setup_minutes < 0).any():
            raise ValueError("minutes_per_client, setup_minutes: expected numbers >= 0")
        if np.isnan(self.travel).any() or (self.travel < 0).any():
            raise ValueError("travel: expected minutes >= 0 or inf (no path); found NaN or < 0")
        if not 0.0 <= self.coverage_target <= 1.0:
            raise ValueError(f"coverage_target: found {self.coverage_target}; expected 0..1")


def _check_shape(name: str, a: np.ndarray, shape: tuple[int, ...]) -> None:
    if np.shape(a) != shape:
        raise ValueError(f"{name}: found shape {np.shape(a)}; expected {shape}")


def default_travel_minutes(
    lon: np.ndarray, lat: np.ndarray, circuity: float, speed_kmh: float
) -> np.ndarray:
    """Minutes between all pairs of points: great-circle km x circuity / speed x 60."""
    km = haversine_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    return np.asarray(km * circuity / speed_kmh * 60.0, dtype=float)


def county_travel_minutes(
    lon: np.ndarray, lat: np.ndarray, county: np.ndarray, circuity: float, speed_kmh: float
) -> np.ndarray:
    """Minutes between the nodes of each county (:func:`default_travel_minutes`); ``inf``
    (no path) between nodes of different counties."""
    n = len(lon)
    out = np.full((n, n), np.inf)
    codes, inverse = np.unique(np.asarray(county, dtype=str), return_inverse=True)
    for k in range(len(codes)):
        idx = np.flatnonzero(inverse == k)
        out[np.ix_(idx, idx)] = default_travel_minutes(lon[idx], lat[idx], circuity, speed_kmh)
    return out


def overlay_travel_times(travel: np.ndarray, ids: np.ndarray, table: TravelTimes) -> np.ndarray:
    """Replace the pairs that ``travel_times.csv`` lists; an empty ``minutes`` means no path.

    A pair listed in one direction only is used for both; rows naming unknown ids are
    ignored (validation reports them).
    """
    out = np.array(travel, dtype=float, copy=True)
    index = {v: i for i, v in enumerate(ids.tolist())}
    from_id = np.asarray(table.from_id).astype(str)
    to_id = np.asarray(table.to_id).astype(str)
    minutes = np.asarray(table.minutes).astype(float)
    a = np.array([index.get(x, -1) for x in from_id.tolist()], dtype=np.int64)
    b = np.array([index.get(x, -1) for x in to_id.tolist()], dtype=np.int64)
    ok = (a >= 0) & (b >= 0)
    a, b, m = a[ok], b[ok], np.where(np.isnan(minutes[ok]), np.inf, minutes[ok])
    listed = np.zeros(out.shape, dtype=bool)
    listed[a, b] = True
    reverse = ~listed[b, a]
    out[b[reverse], a[reverse]] = m[reverse]
    out[a, b] = m
    return out


def _staffing(
    s: int,
    vehicles: np.ndarray,
    days: np.ndarray,
    crew_size: np.ndarray | None,
    crews: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each of the ``s`` stations' crew size (the contract's default where not given) and its staffed
    vehicles per day, shape (stations, horizon): ``min(vehicles, crews // crew_size)`` on each
    of its campaign days (every vehicle when ``crews`` is None), 0 after them."""
    crew_size = (
        np.full(s, STATIONS.default("crew_size"), dtype=np.int64)
        if crew_size is None
        else np.asarray(crew_size, np.int64)
    )
    if crews is None:
        staffed_count = vehicles.copy()
    else:
        crews = np.asarray(crews, dtype=np.int64)
        _check_shape("crews", crews, (s,))
        staffed_count = np.minimum(vehicles, crews // np.maximum(crew_size, 1))
    horizon = int(days.max()) if s else 0
    staffed = np.where(np.arange(horizon)[None, :] < days[:, None], staffed_count[:, None], 0)
    return crew_size, staffed
