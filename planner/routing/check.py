"""Re-check service-vehicle routes against the rules of the planning model, section 3.

:func:`check_routes` reads only the problem's arrays (stations, stops, crews, travel matrix)
and the result's rows (routes, visits, served, reasons) and walks every route again in
minutes. It shares no code with the solver (:mod:`planner.routing.solver`), so a bug there
shows up here as a violation.

A visit is set-up, then service of its clients (minutes per client x clients); the set-up
counts only when the vehicle comes from another place (the station or another stop; a visit
that continues at the stop of the visit before it has none); the vehicle may wait between
arriving and starting. Times may differ from the walk by :data:`TOLERANCE` minutes.

Rules, as checked (each :class:`~planner.violation.Violation` carries the label):

R1 shift
    A route leaves its station no earlier than ``shift_start`` and is back (as reported, and
    as its last departure plus the drive back) no later than ``shift_end``.
R2 time windows
    At a stop with a window ``[open, close]``, a visit's set-up starts at ``open`` or later
    and its service ends at ``close`` or earlier.
R3 daily capacity
    A route's clients (the sum of its visits) are at most its station's clients a vehicle-day,
    and the route reports that sum.
R4 crew
    A route runs on one of its station's campaign days (``0 <= day < days``), with a vehicle
    the station has (``0 <= vehicle < vehicles``) whose crew is staffed that day: the staffed
    vehicles of a day are the first ``staffed[station, day]``.
R5 vehicles per station and day
    At most one route per vehicle-day, and per station and day at most
    ``staffed[station, day]`` routes (never more than the station's vehicles).
R6 served and demand
    Each visit serves at least one client; the result's ``served`` of each stop is the sum of
    its visits' clients and never above its demand.
R7 times
    Every route has visits, numbered 1..n; each names a known route and stop; the first
    arrival is the departure plus the drive from the station, every later one the previous
    visit's end plus the drive; service starts no earlier than the arrival plus the set-up;
    it ends after minutes per client x clients; the return is the last end plus the drive
    back; every drive has a path (finite minutes); a route's and the campaign's travel
    minutes are the sums of their drives.
R8 county
    A station's vehicles visit only stops of the station's own county.
R9 unserved demand
    A stop served below its demand has a reason code of
    :data:`~planner.routing.result.REASONS`, a fully served stop none; and the reason fits
    the stop's situation among the stations of its county that have vehicles:
    ``no_path``, ``outside_shift`` and ``time_window`` go with no client served, and
    respectively: no station has a path there and back; no station fits a one-client visit
    into its shift; one fits the shift but none fits it into the window too. ``no_crew``:
    some vehicle of the county lacks a crew on a campaign day. ``no_capacity``: every staffed
    vehicle-day of the county serves its full capacity. ``travel_time``: some staffed
    vehicle-day of the county has clients to spare. (Whether a route could really take one
    more client of a ``travel_time`` stop is a search question this check leaves alone.)
"""

from __future__ import annotations

import numpy as np

from planner.i18n import _
from planner.routing.problem import NO_WINDOW, RoutingProblem
from planner.routing.result import REASONS, RoutingResult
from planner.violation import Violation

TOLERANCE = 1e-4
"""Minutes by which a reported time may differ from the walk (float sums, never a rule)."""


def check_routes(problem: RoutingProblem, result: RoutingResult) -> list[Violation]:
    """Every rule (R1-R9) that a routing result breaks.

    Parameters
    ----------
    problem : RoutingProblem
        The problem the result was solved for.
    result : RoutingResult
        Routes, visits, served clients and reasons to check.

    Returns
    -------
    list of Violation
        In rule order (R1 ... R9), each naming its route, visit, stop or station-day with the
        numbers found and expected; empty when the result keeps every rule.

    Raises
    ------
    ValueError
        When the result's arrays do not fit the problem (the number of stops, or columns of
        one table of different lengths): it is then not a result of this problem.
    """
    _check_shapes(problem, result)
    walk = _Walk(problem, result)
    found = walk.routes_and_visits() + walk.stops()
    order = {f"R{i}": i for i in range(1, 10)}
    return sorted(found, key=lambda v: order[v.rule])


# Helpers ------------------------------------------------------------------------------------


def _check_shapes(p: RoutingProblem, r: RoutingResult) -> None:
    bad = []
    for table, names in (
        (r.routes, ("station", "day", "vehicle", "depart", "back", "travel", "clients")),
        (r.visits, ("route", "order", "stop", "arrive", "start", "depart", "clients")),
    ):
        lengths = {name: np.shape(getattr(table, name)) for name in names}
        first = lengths[names[0]]
        bad += [
            f"{type(table).__name__}.{name}: shape {shape}, expected {first} like {names[0]}"
            for name, shape in lengths.items()
            if shape != first or len(shape) != 1
        ]
    for name in ("served", "reason"):
        shape = np.shape(getattr(r, name))
        if shape != (p.n_stops,):
            bad.append(f"{name}: shape {shape}, expected ({p.n_stops},), one entry per stop")
    if bad:
        raise ValueError("the result does not fit the problem: " + "; ".join(bad))


def _clock(minutes: float) -> str:
    """``"500.00 (08:20)"``: minutes after midnight and the time of day."""
    if not np.isfinite(minutes):
        return str(minutes)
    whole = int(np.floor(minutes + 1e-9))
    return f"{minutes:.2f} ({whole // 60:02d}:{whole % 60:02d})"


def _route(station: str, day: int, vehicle: int) -> str:
    """``"route S1-d03-v1"``: a vehicle-day by its station, 0-based day and vehicle."""
    return _("route {route}", route=f"{station}-d{day + 1:02d}-v{vehicle + 1}")


def _stop(p: RoutingProblem, j: int) -> str:
    return _("stop {stop}", stop=p.stop_id[j])


def _fits_one_client(p: RoutingProblem, s: int, j: int, window: bool) -> bool:
    """Whether station ``s`` can drive to stop ``j``, serve one client and drive back within
    its shift (and inside the stop's window when ``window``), with margin to spare."""
    node = p.n_stations + j
    go, back = float(p.travel[s, node]), float(p.travel[node, s])
    if not (np.isfinite(go) and np.isfinite(back)):
        return False
    setup = float(p.setup_minutes[j])
    begin = float(p.shift_start[s]) + go + setup  # earliest start of service
    end = float(p.shift_end[s]) - back  # latest end of service
    if window and int(p.open[j]) != NO_WINDOW:
        begin = max(begin, float(p.open[j]) + setup)
        end = min(end, float(p.close[j]))
    return end - begin >= float(p.minutes_per_client[j]) + TOLERANCE


class _Walk:
    """The result's routes and visits, walked again against the problem.

    Visits whose route or stop is unknown (or whose route's station is) are reported and
    left out; the rest are sorted by route and position (``rows``), and the arrays named
    after a visit field hold those rows in that order.
    """

    def __init__(self, p: RoutingProblem, r: RoutingResult) -> None:
        self.p, self.r = p, r
        ro, vi = r.routes, r.visits
        self.station = np.asarray(ro.station, dtype=np.int64)
        self.day = np.asarray(ro.day, dtype=np.int64)
        self.vehicle = np.asarray(ro.vehicle, dtype=np.int64)
        self.known = (self.station >= 0) & (self.station < p.n_stations)
        """Routes whose station exists; only these are walked."""
        self.names = [
            _route(str(p.station_id[s]), d, v) if ok else _("route #{k}", k=k)
            for k, (s, d, v, ok) in enumerate(
                zip(
                    self.station.tolist(),
                    self.day.tolist(),
                    self.vehicle.tolist(),
                    self.known.tolist(),
                    strict=True,
                )
            )
        ]
        n_routes = len(self.station)
        route = np.asarray(vi.route, dtype=np.int64)
        stop = np.asarray(vi.stop, dtype=np.int64)
        in_range = (route >= 0) & (route < n_routes) & (stop >= 0) & (stop < p.n_stops)
        self.stray = np.flatnonzero(~in_range)
        """Visits naming a route or stop that does not exist."""
        rows = np.flatnonzero(in_range & np.isin(route, np.flatnonzero(self.known)))
        rows = rows[np.lexsort((np.asarray(vi.order)[rows], route[rows]))]
        self.rows = rows
        self.route, self.stop = route[rows], stop[rows]
        self.order = np.asarray(vi.order, dtype=np.int64)[rows]
        self.arrive = np.asarray(vi.arrive, dtype=float)[rows]
        self.start = np.asarray(vi.start, dtype=float)[rows]
        self.depart = np.asarray(vi.depart, dtype=float)[rows]
        self.clients = np.asarray(vi.clients, dtype=np.int64)[rows]
        # Where each visit comes from: its station for the first visit of a route, else the
        # stop of the visit before; set-up only where the place changes.
        n = len(rows)
        self.first = np.ones(n, dtype=bool)
        self.first[1:] = self.route[1:] != self.route[:-1]
        self.position = np.arange(n) - np.maximum.accumulate(np.where(self.first, np.arange(n), 0))
        here = p.n_stations + self.stop
        self.came_from = np.where(self.first, self.station[self.route], np.r_[0, here[:-1]])
        self.left_at = np.where(
            self.first, np.asarray(ro.depart, dtype=float)[self.route], np.r_[0.0, self.depart[:-1]]
        )
        self.leg = p.travel[self.came_from, here]
        moved = self.first | (np.r_[-1, self.stop[:-1]] != self.stop)
        self.setup = np.where(moved, p.setup_minutes[self.stop], 0.0)
        # Per route: clients, drives to its visits, its last visit (-1: none).
        self.load = np.bincount(self.route, weights=self.clients, minlength=n_routes).astype(
            np.int64
        )
        self.driven = np.bincount(
            self.route, weights=np.where(np.isfinite(self.leg), self.leg, 0.0), minlength=n_routes
        )
        self.last = np.full(n_routes, -1, dtype=np.int64)
        self.last[self.route] = np.arange(n)  # sorted by route: the last visit wins

    # Routes and visits ----------------------------------------------------------------------

    def routes_and_visits(self) -> list[Violation]:
        p = self.p
        out: list[Violation] = []
        for k in np.flatnonzero(~self.known).tolist():
            out.append(
                Violation(
                    "R7",
                    self.names[k],
                    _(
                        "names station index {index}; the problem has {n} stations",
                        index=self.station[k],
                        n=p.n_stations,
                    ),
                )
            )
        vi = self.r.visits
        for i in self.stray.tolist():
            out.append(
                Violation(
                    "R7",
                    _("visit #{i}", i=i),
                    _(
                        "names route {route} and stop index {stop}; the result has {routes} "
                        "routes and the problem {stops} stops",
                        route=vi.route[i],
                        stop=vi.stop[i],
                        routes=len(self.station),
                        stops=p.n_stops,
                    ),
                )
            )
        return out + self._crews() + self._visits() + self._returns()

    def _crews(self) -> list[Violation]:
        """R4 and R5 from the route rows alone."""
        p = self.p
        out: list[Violation] = []
        s, d, v = self.station, self.day, self.vehicle
        horizon = p.staffed.shape[1]
        for k in np.flatnonzero(self.known).tolist():
            days, vehicles = int(p.days[s[k]]), int(p.vehicles[s[k]])
            if not 0 <= d[k] < days:
                out.append(
                    Violation(
                        "R4",
                        self.names[k],
                        _("runs on day {day} of a {days}-day campaign", day=d[k] + 1, days=days),
                    )
                )
            elif not 0 <= v[k] < vehicles:
                out.append(
                    Violation(
                        "R4",
                        self.names[k],
                        _(
                            "runs vehicle {vehicle}; the station has {vehicles} vehicles",
                            vehicle=v[k] + 1,
                            vehicles=vehicles,
                        ),
                    )
                )
            elif d[k] >= horizon or v[k] >= p.staffed[s[k], d[k]]:
                staffed = int(p.staffed[s[k], d[k]]) if d[k] < horizon else 0
                out.append(
                    Violation(
                        "R4",
                        self.names[k],
                        _(
                            "runs vehicle {vehicle} on day {day}, when the station's crews staff "
                            "{staffed} of its {vehicles} vehicles",
                            vehicle=v[k] + 1,
                            day=d[k] + 1,
                            staffed=staffed,
                            vehicles=vehicles,
                        ),
                    )
                )
        known = np.flatnonzero(self.known)
        slots, counts = np.unique(
            np.stack([s[known], d[known], v[known]], axis=1), axis=0, return_counts=True
        )
        for (si, di, vj), n in zip(slots.tolist(), counts.tolist(), strict=True):
            if n > 1:
                name = _route(str(p.station_id[si]), di, vj)
                out.append(
                    Violation("R5", name, _("the vehicle-day runs {n} routes; expected 1", n=n))
                )
        station_days, counts = np.unique(
            np.stack([s[known], d[known]], axis=1), axis=0, return_counts=True
        )
        for (si, di), n in zip(station_days.tolist(), counts.tolist(), strict=True):
            staffed = int(p.staffed[si, di]) if 0 <= di < horizon else 0
            allowed = min(staffed, int(p.vehicles[si]))
            if n > allowed:
                out.append(
                    Violation(
                        "R5",
                        _("station {station} day {day}", station=p.station_id[si], day=di + 1),
                        _(
                            "runs {n} routes; {staffed} vehicles staffed of {vehicles} allow at "
                            "most {allowed}",
                            n=n,
                            staffed=staffed,
                            vehicles=int(p.vehicles[si]),
                            allowed=allowed,
                        ),
                    )
                )
        return out

    def _visits(self) -> list[Violation]:
        """R2, R6 (per visit), R7 and R8 along each route, in route order."""
        p = self.p
        out: list[Violation] = []
        stop, start, depart, setup = self.stop, self.start, self.depart, self.setup
        clients, leg, left_at, arrive = self.clients, self.leg, self.left_at, self.arrive
        station = self.station[self.route]
        expect_end = start + p.minutes_per_client[stop] * clients
        opens, closes = p.open[stop], p.close[stop]
        window = opens != NO_WINDOW

        def name(i: int) -> str:
            return _(
                "{route} stop {stop}", route=self.names[self.route[i]], stop=p.stop_id[stop[i]]
            )

        for i in range(len(self.rows)):
            if window[i] and (
                start[i] - setup[i] < opens[i] - TOLERANCE or depart[i] > closes[i] + TOLERANCE
            ):
                out.append(
                    Violation(
                        "R2",
                        name(i),
                        _(
                            "set-up from {setup} and service to {end} leave the window "
                            "[{opens}, {closes}]",
                            setup=_clock(start[i] - setup[i]),
                            end=_clock(depart[i]),
                            opens=_clock(opens[i]),
                            closes=_clock(closes[i]),
                        ),
                    )
                )
            if clients[i] < 1:
                out.append(
                    Violation("R6", name(i), _("serves {n} clients; expected >= 1", n=clients[i]))
                )
            if self.order[i] != self.position[i] + 1:
                out.append(
                    Violation(
                        "R7",
                        name(i),
                        _(
                            "is numbered {order}; expected {expected}",
                            order=self.order[i],
                            expected=self.position[i] + 1,
                        ),
                    )
                )
            if not np.isfinite(leg[i]):
                source = p.station_id[station[i]] if self.first[i] else p.stop_id[stop[i - 1]]
                out.append(
                    Violation(
                        "R7", name(i), _("has no path from {source} (travel inf)", source=source)
                    )
                )
            elif abs(arrive[i] - (left_at[i] + leg[i])) > TOLERANCE:
                out.append(
                    Violation(
                        "R7",
                        name(i),
                        _(
                            "arrives at {arrive}; leaving at {left} and driving {leg:.2f} minutes "
                            "it arrives at {expected}",
                            arrive=_clock(arrive[i]),
                            left=_clock(left_at[i]),
                            leg=leg[i],
                            expected=_clock(left_at[i] + leg[i]),
                        ),
                    )
                )
            if start[i] < arrive[i] + setup[i] - TOLERANCE:
                out.append(
                    Violation(
                        "R7",
                        name(i),
                        _(
                            "starts service at {start}, before arrival {arrive} + {setup:.2f} "
                            "set-up minutes",
                            start=_clock(start[i]),
                            arrive=_clock(arrive[i]),
                            setup=setup[i],
                        ),
                    )
                )
            if abs(depart[i] - expect_end[i]) > TOLERANCE:
                out.append(
                    Violation(
                        "R7",
                        name(i),
                        _(
                            "ends service at {end}; {n} clients x {minutes:.2f} minutes from "
                            "{start} end at {expected}",
                            end=_clock(depart[i]),
                            n=clients[i],
                            minutes=p.minutes_per_client[stop[i]],
                            start=_clock(start[i]),
                            expected=_clock(expect_end[i]),
                        ),
                    )
                )
            if p.stop_county[stop[i]] != p.station_county[station[i]]:
                out.append(
                    Violation(
                        "R8",
                        name(i),
                        _(
                            "the stop is in county {stop}, the station in {station}",
                            stop=p.stop_county[stop[i]],
                            station=p.station_county[station[i]],
                        ),
                    )
                )
        return out

    def _returns(self) -> list[Violation]:
        """R1, R3 and R7 per route: the shift, the drive back, the load, the sums."""
        p, ro = self.p, self.r.routes
        out: list[Violation] = []
        for k in np.flatnonzero(self.known).tolist():
            s, name = int(self.station[k]), self.names[k]
            begin, end = float(p.shift_start[s]), float(p.shift_end[s])
            leave, back = float(ro.depart[k]), float(ro.back[k])
            if leave < begin - TOLERANCE:
                out.append(
                    Violation(
                        "R1",
                        name,
                        _(
                            "leaves at {leave}, before the shift starts at {begin}",
                            leave=_clock(leave),
                            begin=_clock(begin),
                        ),
                    )
                )
            i = int(self.last[k])
            if i < 0:
                out.append(
                    Violation("R7", name, _("has no visits; a route serves at least one stop"))
                )
                continue
            j = int(self.stop[i])
            drive = float(p.travel[p.n_stations + j, s])
            walked = float(self.depart[i]) + drive
            latest = max(back, walked) if np.isfinite(drive) else back
            if latest > end + TOLERANCE:
                out.append(
                    Violation(
                        "R1",
                        name,
                        _(
                            "is back at {back}, after the shift ends at {end}",
                            back=_clock(latest),
                            end=_clock(end),
                        ),
                    )
                )
            if not np.isfinite(drive):
                out.append(
                    Violation("R7", name, _("has no path back from stop {stop}", stop=p.stop_id[j]))
                )
            elif abs(back - walked) > TOLERANCE:
                out.append(
                    Violation(
                        "R7",
                        name,
                        _(
                            "reports its return at {back}; leaving stop {stop} at {left} and "
                            "driving {drive:.2f} minutes it is back at {expected}",
                            back=_clock(back),
                            stop=p.stop_id[j],
                            left=_clock(float(self.depart[i])),
                            drive=drive,
                            expected=_clock(walked),
                        ),
                    )
                )
            elif abs(float(ro.travel[k]) - (float(self.driven[k]) + drive)) > TOLERANCE:
                out.append(
                    Violation(
                        "R7",
                        name,
                        _(
                            "reports {reported:.2f} travel minutes; its drives add up to "
                            "{driven:.2f}",
                            reported=float(ro.travel[k]),
                            driven=float(self.driven[k]) + drive,
                        ),
                    )
                )
            capacity = int(p.capacity[s])
            if self.load[k] > capacity:
                out.append(
                    Violation(
                        "R3",
                        name,
                        _(
                            "serves {n} clients, above the vehicle's daily capacity {capacity}",
                            n=self.load[k],
                            capacity=capacity,
                        ),
                    )
                )
            if int(ro.clients[k]) != self.load[k]:
                out.append(
                    Violation(
                        "R3",
                        name,
                        _(
                            "reports {reported} clients; its visits add up to {n}",
                            reported=int(ro.clients[k]),
                            n=self.load[k],
                        ),
                    )
                )
        total = float(np.sum(np.asarray(ro.travel, dtype=float)))
        if abs(total - float(self.r.travel_minutes)) > TOLERANCE * max(1, len(ro)):
            out.append(
                Violation(
                    "R7",
                    _("all routes"),
                    _(
                        "travel_minutes is {reported:.2f}; the routes' travel minutes add up to "
                        "{total:.2f}",
                        reported=float(self.r.travel_minutes),
                        total=total,
                    ),
                )
            )
        return out

    # Stops ----------------------------------------------------------------------------------

    def stops(self) -> list[Violation]:
        """R6 per stop and R9."""
        p, r = self.p, self.r
        out: list[Violation] = []
        summed = np.bincount(self.stop, weights=self.clients, minlength=p.n_stops).astype(np.int64)
        served = np.asarray(r.served, dtype=np.int64)
        reason = np.asarray(r.reason).astype(str)
        demand = np.asarray(p.demand, dtype=np.int64)
        for j in np.flatnonzero(summed != served).tolist():
            out.append(
                Violation(
                    "R6",
                    _stop(p, j),
                    _("served is {served}; its visits serve {n}", served=served[j], n=summed[j]),
                )
            )
        for j in np.flatnonzero(np.maximum(summed, served) > demand).tolist():
            out.append(
                Violation(
                    "R6",
                    _stop(p, j),
                    _(
                        "{n} clients served, above its demand {demand}",
                        n=max(summed[j], served[j]),
                        demand=demand[j],
                    ),
                )
            )
        short = served < demand
        for j in np.flatnonzero(short & ~np.isin(reason, list(REASONS))).tolist():
            out.append(
                Violation(
                    "R9",
                    _stop(p, j),
                    _(
                        "{n} clients unserved with reason {reason!r}; expected one of {reasons}",
                        n=demand[j] - served[j],
                        reason=reason[j],
                        reasons=", ".join(REASONS),
                    ),
                )
            )
        for j in np.flatnonzero(~short & (reason != "")).tolist():
            out.append(
                Violation(
                    "R9",
                    _stop(p, j),
                    _(
                        "fully served ({served} of {demand}) but gives the reason {reason!r}; "
                        "expected none",
                        served=served[j],
                        demand=demand[j],
                        reason=reason[j],
                    ),
                )
            )
        room = self._room_by_county()
        for j in np.flatnonzero(short & np.isin(reason, list(REASONS))).tolist():
            message = self._reason_claim(j, str(reason[j]), int(served[j]), room)
            if message:
                out.append(Violation("R9", _stop(p, j), message))
        return out

    def _room_by_county(self) -> dict[str, tuple[int, int]]:
        """Per county: staffed vehicle-days, and those of them with clients to spare."""
        p = self.p
        staffed = np.minimum(p.staffed, p.vehicles[:, None])
        slots = staffed.sum(axis=1)
        ok = self.known & (self.day >= 0) & (self.day < p.staffed.shape[1]) & (self.vehicle >= 0)
        s, d, v = self.station[ok], self.day[ok], self.vehicle[ok]
        inside = v < staffed[s, d]
        full = inside & (self.load[ok] >= p.capacity[s])
        keys = np.unique(np.stack([s[full], d[full], v[full]], axis=1), axis=0)
        full_slots = np.bincount(keys[:, 0], minlength=p.n_stations) if len(keys) else 0
        spare = slots - full_slots
        out: dict[str, tuple[int, int]] = {}
        for county in np.unique(p.station_county).tolist():
            mine = p.station_county == county
            out[county] = (int(slots[mine].sum()), int(spare[mine].sum()))
        return out

    def _reason_claim(
        self, j: int, code: str, served: int, room: dict[str, tuple[int, int]]
    ) -> str:
        """Why the reason ``code`` of stop ``j`` does not hold ("" when it does)."""
        p = self.p
        county = str(p.stop_county[j])
        fleet = np.flatnonzero((p.station_county == county) & (p.vehicles > 0)).tolist()
        said = _("reason {code!r}", code=code)
        if code in ("no_path", "outside_shift", "time_window") and served > 0:
            return _(
                "{said} says no visit is possible, but {served} clients were served",
                said=said,
                served=served,
            )
        if code == "no_path":
            node = p.n_stations + j
            there = [
                s
                for s in fleet
                if np.isfinite(p.travel[s, node]) and np.isfinite(p.travel[node, s])
            ]
            if there:
                return _(
                    "{said}, but station {station} has a path there and back",
                    said=said,
                    station=p.station_id[there[0]],
                )
        if code in ("outside_shift", "time_window"):
            fits_shift = [s for s in fleet if _fits_one_client(p, s, j, window=False)]
            fits_window = [s for s in fleet if _fits_one_client(p, s, j, window=True)]
            if code == "outside_shift" and fits_shift:
                return _(
                    "{said}, but a vehicle of station {station} can serve a client there within "
                    "its shift",
                    said=said,
                    station=p.station_id[fits_shift[0]],
                )
            if code == "time_window" and fits_window:
                return _(
                    "{said}, but a vehicle of station {station} can serve a client there inside "
                    "the window and its shift",
                    said=said,
                    station=p.station_id[fits_window[0]],
                )
            if code == "time_window" and not fits_shift:
                return _("{said}, but no visit fits even a shift without the window", said=said)
        if code == "no_crew":
            campaign = np.arange(p.staffed.shape[1])[None, :] < p.days[:, None]
            lacking = (
                (p.station_county == county)[:, None] & campaign & (p.staffed < p.vehicles[:, None])
            )
            if not lacking.any():
                return _(
                    "{said}, but every vehicle of county {county} is staffed every day",
                    said=said,
                    county=county,
                )
        slots, spare = room.get(county, (0, 0))
        if code == "no_capacity" and spare > 0:
            return _(
                "{said}, but {spare} of the {slots} staffed vehicle-days of county {county} have "
                "clients to spare",
                said=said,
                spare=spare,
                slots=slots,
                county=county,
            )
        if code == "travel_time" and spare == 0:
            return _(
                "{said}, but all {slots} staffed vehicle-days of county {county} are full; "
                "expected 'no_capacity'",
                said=said,
                slots=slots,
                county=county,
            )
        return ""
