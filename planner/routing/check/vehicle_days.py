"""The checks of each vehicle-day (route) of a routing result: R4 and R5 (crews, vehicles per
station and day) from the route rows, R1, R3 and R7 (shift, load, the drive back and the
sums) along each walked route (:mod:`planner.routing.check`)."""

from __future__ import annotations

import numpy as np

from planner.i18n import _
from planner.routing.check.walk import TOLERANCE, Walk, clock, route_name
from planner.violation import Violation


def crews(w: Walk) -> list[Violation]:
    """R4 and R5 from the route rows alone."""
    p = w.p
    out: list[Violation] = []
    s, d, v = w.station, w.day, w.vehicle
    horizon = p.staffed.shape[1]
    for k in np.flatnonzero(w.known).tolist():
        days, vehicles = int(p.days[s[k]]), int(p.vehicles[s[k]])
        if not 0 <= d[k] < days:
            out.append(
                Violation(
                    "R4",
                    w.names[k],
                    _("runs on day {day} of a {days}-day campaign", day=d[k] + 1, days=days),
                )
            )
        elif not 0 <= v[k] < vehicles:
            out.append(
                Violation(
                    "R4",
                    w.names[k],
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
                    w.names[k],
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
    known = np.flatnonzero(w.known)
    slots, counts = np.unique(
        np.stack([s[known], d[known], v[known]], axis=1), axis=0, return_counts=True
    )
    for (si, di, vj), n in zip(slots.tolist(), counts.tolist(), strict=True):
        if n > 1:
            name = route_name(str(p.station_id[si]), di, vj)
            out.append(Violation("R5", name, _("the vehicle-day runs {n} routes; expected 1", n=n)))
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


def returns(w: Walk) -> list[Violation]:
    """R1, R3 and R7 per route: the shift, the drive back, the load, the sums."""
    ro = w.r.routes
    out: list[Violation] = []
    for k in np.flatnonzero(w.known).tolist():
        out += _route_rules(w, k)
    total = float(np.sum(np.asarray(ro.travel, dtype=float)))
    if abs(total - float(w.r.travel_minutes)) > TOLERANCE * max(1, len(ro)):
        out.append(
            Violation(
                "R7",
                _("all routes"),
                _(
                    "travel_minutes is {reported:.2f}; the routes' travel minutes add up to "
                    "{total:.2f}",
                    reported=float(w.r.travel_minutes),
                    total=total,
                ),
            )
        )
    return out


def _route_rules(w: Walk, k: int) -> list[Violation]:
    """R1, R7 and R3 of route ``k``: it leaves within the shift, has visits, drives back
    within the shift with the times and travel it reports, and its load."""
    p, ro = w.p, w.r.routes
    s, name = int(w.station[k]), w.names[k]
    begin, leave = float(p.shift_start[s]), float(ro.depart[k])
    out: list[Violation] = []
    if leave < begin - TOLERANCE:
        out.append(
            Violation(
                "R1",
                name,
                _(
                    "leaves at {leave}, before the shift starts at {begin}",
                    leave=clock(leave),
                    begin=clock(begin),
                ),
            )
        )
    if w.last[k] < 0:
        out.append(Violation("R7", name, _("has no visits; a route serves at least one stop")))
        return out
    return out + _drive_back(w, k) + _load(w, k)


def _drive_back(w: Walk, k: int) -> list[Violation]:
    """R1 and R7 of route ``k``'s return: back within the shift, by a path, at the time and
    with the travel minutes it reports."""
    p, ro = w.p, w.r.routes
    s, name, i = int(w.station[k]), w.names[k], int(w.last[k])
    end, back = float(p.shift_end[s]), float(ro.back[k])
    j = int(w.stop[i])
    drive = float(p.travel[p.n_stations + j, s])
    walked = float(w.depart[i]) + drive
    latest = max(back, walked) if np.isfinite(drive) else back
    out: list[Violation] = []
    if latest > end + TOLERANCE:
        out.append(
            Violation(
                "R1",
                name,
                _(
                    "is back at {back}, after the shift ends at {end}",
                    back=clock(latest),
                    end=clock(end),
                ),
            )
        )
    if not np.isfinite(drive):
        out.append(Violation("R7", name, _("has no path back from stop {stop}", stop=p.stop_id[j])))
    elif abs(back - walked) > TOLERANCE:
        out.append(
            Violation(
                "R7",
                name,
                _(
                    "reports its return at {back}; leaving stop {stop} at {left} and "
                    "driving {drive:.2f} minutes it is back at {expected}",
                    back=clock(back),
                    stop=p.stop_id[j],
                    left=clock(float(w.depart[i])),
                    drive=drive,
                    expected=clock(walked),
                ),
            )
        )
    elif abs(float(ro.travel[k]) - (float(w.driven[k]) + drive)) > TOLERANCE:
        out.append(
            Violation(
                "R7",
                name,
                _(
                    "reports {reported:.2f} travel minutes; its drives add up to {driven:.2f}",
                    reported=float(ro.travel[k]),
                    driven=float(w.driven[k]) + drive,
                ),
            )
        )
    return out


def _load(w: Walk, k: int) -> list[Violation]:
    """R3 of route ``k``: its clients within the vehicle's daily capacity, and as reported."""
    p, ro = w.p, w.r.routes
    s, name = int(w.station[k]), w.names[k]
    capacity = int(p.capacity[s])
    out: list[Violation] = []
    if w.load[k] > capacity:
        out.append(
            Violation(
                "R3",
                name,
                _(
                    "serves {n} clients, above the vehicle's daily capacity {capacity}",
                    n=w.load[k],
                    capacity=capacity,
                ),
            )
        )
    if int(ro.clients[k]) != w.load[k]:
        out.append(
            Violation(
                "R3",
                name,
                _(
                    "reports {reported} clients; its visits add up to {n}",
                    reported=int(ro.clients[k]),
                    n=w.load[k],
                ),
            )
        )
    return out
