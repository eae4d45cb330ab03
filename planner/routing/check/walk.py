"""The routes and visits of a routing result walked again against the problem (:class:`Walk`),
with the tolerance and the names the checks of :mod:`planner.routing.check` share."""

from __future__ import annotations

import numpy as np

from planner.i18n import _
from planner.routing.problem import RoutingProblem
from planner.routing.result import RoutingResult

TOLERANCE = 1e-4
"""Minutes by which a reported time may differ from the walk (float sums, never a rule)."""


def clock(minutes: float) -> str:
    """``"500.00 (08:20)"``: minutes after midnight and the time of day."""
    if not np.isfinite(minutes):
        return str(minutes)
    whole = int(np.floor(minutes + 1e-9))
    return f"{minutes:.2f} ({whole // 60:02d}:{whole % 60:02d})"


def route_name(station: str, day: int, vehicle: int) -> str:
    """``"route S1-d03-v1"``: a vehicle-day by its station, 0-based day and vehicle."""
    return _("route {route}", route=f"{station}-d{day + 1:02d}-v{vehicle + 1}")


def stop_name(p: RoutingProblem, j: int) -> str:
    return _("stop {stop}", stop=p.stop_id[j])


class Walk:
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
            route_name(str(p.station_id[s]), d, v) if ok else _("route #{k}", k=k)
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
