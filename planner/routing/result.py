"""Typed results of the routing solver: routes (vehicle-days), visits and unserved demand."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.frozen import Frozen
from planner.i18n import N_, _

REASONS: dict[str, str] = {
    "no_capacity": N_(
        "every vehicle-day that could serve it is full (or the county has no vehicle)"
    ),
    "travel_time": N_(
        "vehicle-days have clients to spare, but none has the shift time left for the drive and "
        "one more client's service (nor room in its window)"
    ),
    "no_crew": N_("vehicles that could serve it have no staffed crew"),
    "outside_shift": N_("no visit fits between leaving and returning to a station within a shift"),
    "time_window": N_("no station's vehicle can reach it inside its time window"),
    "no_path": N_("no path from or to any station of its county"),
}
"""Reason codes of unserved demand and their meaning (planning model section 3), as templates
of the catalogue (:func:`reason_texts` reads them in the language of the moment)."""


def reason_texts() -> dict[str, str]:
    """:data:`REASONS` in the language of the moment."""
    return {code: _(text) for code, text in REASONS.items()}


@dataclass(frozen=True, slots=True)
class RouteTable(Frozen):
    """The routes table: one row per vehicle-day that runs.

    Attributes
    ----------
    station : ndarray of int
        Station index in the problem.
    day, vehicle : ndarray of int
        0-based campaign day and vehicle number within the station.
    depart, back : ndarray of float
        Minutes after midnight of leaving and returning to the station.
    travel : ndarray of float
        Driving minutes of the route.
    clients : ndarray of int
        Clients served on the route (at most the vehicle's daily capacity).
    """

    station: np.ndarray
    day: np.ndarray
    vehicle: np.ndarray
    depart: np.ndarray
    back: np.ndarray
    travel: np.ndarray
    clients: np.ndarray

    def __len__(self) -> int:
        return len(self.station)


@dataclass(frozen=True, slots=True)
class VisitTable(Frozen):
    """The visits table: one row per stop visit, in route order.

    ``arrive`` is the arrival at the stop, ``start`` the start of service (after the
    set-up minutes and any wait for the window), ``depart`` the end of service.
    """

    route: np.ndarray
    order: np.ndarray
    """1-based position in the route."""
    stop: np.ndarray
    arrive: np.ndarray
    start: np.ndarray
    depart: np.ndarray
    clients: np.ndarray

    def __len__(self) -> int:
        return len(self.route)


@dataclass(frozen=True, slots=True)
class SubproblemStats:
    """How one county's problem was solved."""

    county: str
    stations: int
    stops: int
    vehicle_days: int
    nodes: int
    status: str
    seconds: float
    townships_met: int
    proof: str = ""
    """How the day-pattern proof ended, where it was tried (see planner/routing/bound.py)."""
    unreachable: bool = False
    """True when that proof shows the county cannot meet all its townships' targets."""
    road_tiles: tuple[str, ...] = ()
    """With roads: the edge tiles the county's task read (it reads no others)."""
    road_bytes: int = 0
    """Their size on disk."""


@dataclass(frozen=True, slots=True)
class RoutingResult(Frozen):
    """The routes of a campaign, what they serve and why the rest is not served.

    Attributes
    ----------
    routes, visits : RouteTable, VisitTable
    served : ndarray of int, shape (T,)
        Clients served at each stop (sum of its visits).
    reason : ndarray of str, shape (T,)
        Reason code (:data:`REASONS`) for a stop with unserved demand, ``""`` otherwise.
    travel_minutes : float
        Total driving time of all routes.
    subproblems : tuple of SubproblemStats
        One per county, in county order.
    seconds : float
        Wall time of the solve.
    travel : ndarray of float, shape (S + T, S + T), or None
        With roads: the minutes the routes were made with, each county's block computed in
        its task from the roads (``inf`` between counties and where there is no path); the
        problem's matrix is to be replaced by it. ``None``: the problem's own.
    snap_m : ndarray of float, shape (S + T,), or None
        With roads: each node's distance to the road it joins (``inf``: beyond the snap
        limit, or in a county without stops).
    """

    routes: RouteTable
    visits: VisitTable
    served: np.ndarray
    reason: np.ndarray
    travel_minutes: float
    subproblems: tuple[SubproblemStats, ...]
    seconds: float
    travel: np.ndarray | None = None
    snap_m: np.ndarray | None = None
