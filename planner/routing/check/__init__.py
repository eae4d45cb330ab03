"""Re-check service-vehicle routes against the rules of the planning model, section 3.

:func:`check_routes` reads only the problem's arrays (stations, stops, crews, travel matrix)
and the result's rows (routes, visits, served, reasons) and walks every route again in
minutes. It shares no code with the solver (:mod:`planner.routing.solver`), so a bug there
shows up here as a violation.

A visit is set-up, then service of its clients (minutes per client x clients); the set-up
counts only when the vehicle comes from another place (the station or another stop; a visit
that continues at the stop of the visit before it has none); the vehicle may wait between
arriving and starting. Times may differ from the walk by :data:`~planner.routing.check.walk.TOLERANCE` minutes.

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

The checks by what they look at: :mod:`~planner.routing.check.walk` (the result walked again),
:mod:`~planner.routing.check.vehicle_days` (R1, R3, R4, R5, R7 per route),
:mod:`~planner.routing.check.visits` (R2, R6, R7, R8 per visit) and
:mod:`~planner.routing.check.stops` (R6 per stop, R9).
"""

from __future__ import annotations

import numpy as np

from planner.i18n import _
from planner.routing.check.stops import stops
from planner.routing.check.vehicle_days import crews, returns
from planner.routing.check.visits import visits
from planner.routing.check.walk import TOLERANCE, Walk
from planner.routing.problem import RoutingProblem
from planner.routing.result import RoutingResult
from planner.violation import Violation

__all__ = ["TOLERANCE", "check_routes"]


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
    walk = Walk(problem, result)
    found = _routes_and_visits(walk) + stops(walk)
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


def _routes_and_visits(w: Walk) -> list[Violation]:
    """R7 for the routes of unknown stations and the visits of unknown routes or stops, then
    the checks of each vehicle-day and each visit."""
    p = w.p
    out: list[Violation] = []
    for k in np.flatnonzero(~w.known).tolist():
        out.append(
            Violation(
                "R7",
                w.names[k],
                _(
                    "names station index {index}; the problem has {n} stations",
                    index=w.station[k],
                    n=p.n_stations,
                ),
            )
        )
    vi = w.r.visits
    for i in w.stray.tolist():
        out.append(
            Violation(
                "R7",
                _("visit #{i}", i=i),
                _(
                    "names route {route} and stop index {stop}; the result has {routes} "
                    "routes and the problem {stops} stops",
                    route=vi.route[i],
                    stop=vi.stop[i],
                    routes=len(w.station),
                    stops=p.n_stops,
                ),
            )
        )
    return out + crews(w) + visits(w) + returns(w)
