"""The checks of each visit of a routing result: R2 (windows), R6 (clients), R7 (numbering,
paths and times) and R8 (county), along each walked route (:mod:`planner.routing.check`)."""

from __future__ import annotations

import numpy as np

from planner.i18n import _
from planner.routing.check.walk import TOLERANCE, Walk, clock
from planner.routing.problem import NO_WINDOW
from planner.violation import Violation


def visits(w: Walk) -> list[Violation]:
    """R2, R6 (per visit), R7 and R8 along each route, in route order."""
    p = w.p
    expect_end = w.start + p.minutes_per_client[w.stop] * w.clients
    out: list[Violation] = []
    for i in range(len(w.rows)):
        out += _window_and_clients(w, i)
        out += _order_and_arrival(w, i)
        out += _service_and_county(w, i, float(expect_end[i]))
    return out


def _name(w: Walk, i: int) -> str:
    """``"route S1-d01-v1 stop P3"``: visit ``i`` by its route and stop."""
    return _("{route} stop {stop}", route=w.names[w.route[i]], stop=w.p.stop_id[w.stop[i]])


def _window_and_clients(w: Walk, i: int) -> list[Violation]:
    """R2: visit ``i``'s set-up and service inside its stop's window; R6: a client at least."""
    p, j = w.p, w.stop[i]
    start, depart, setup, clients = w.start, w.depart, w.setup, w.clients
    out: list[Violation] = []
    if p.open[j] != NO_WINDOW and (
        start[i] - setup[i] < p.open[j] - TOLERANCE or depart[i] > p.close[j] + TOLERANCE
    ):
        out.append(
            Violation(
                "R2",
                _name(w, i),
                _(
                    "set-up from {setup} and service to {end} leave the window [{opens}, {closes}]",
                    setup=clock(start[i] - setup[i]),
                    end=clock(depart[i]),
                    opens=clock(p.open[j]),
                    closes=clock(p.close[j]),
                ),
            )
        )
    if clients[i] < 1:
        out.append(
            Violation("R6", _name(w, i), _("serves {n} clients; expected >= 1", n=clients[i]))
        )
    return out


def _order_and_arrival(w: Walk, i: int) -> list[Violation]:
    """R7: visit ``i``'s number in its route, the path to it and its arrival."""
    p, leg, left_at, arrive = w.p, w.leg, w.left_at, w.arrive
    out: list[Violation] = []
    if w.order[i] != w.position[i] + 1:
        out.append(
            Violation(
                "R7",
                _name(w, i),
                _(
                    "is numbered {order}; expected {expected}",
                    order=w.order[i],
                    expected=w.position[i] + 1,
                ),
            )
        )
    if not np.isfinite(leg[i]):
        source = p.station_id[w.station[w.route[i]]] if w.first[i] else p.stop_id[w.stop[i - 1]]
        out.append(
            Violation("R7", _name(w, i), _("has no path from {source} (travel inf)", source=source))
        )
    elif abs(arrive[i] - (left_at[i] + leg[i])) > TOLERANCE:
        out.append(
            Violation(
                "R7",
                _name(w, i),
                _(
                    "arrives at {arrive}; leaving at {left} and driving {leg:.2f} minutes "
                    "it arrives at {expected}",
                    arrive=clock(arrive[i]),
                    left=clock(left_at[i]),
                    leg=leg[i],
                    expected=clock(left_at[i] + leg[i]),
                ),
            )
        )
    return out


def _service_and_county(w: Walk, i: int, expect_end: float) -> list[Violation]:
    """R7: visit ``i``'s service starts after arrival and set-up and ends ``expect_end``
    (start + minutes per client x clients); R8: its stop in its station's county."""
    p, j, station = w.p, w.stop[i], w.station[w.route[i]]
    start, arrive, setup, depart = w.start, w.arrive, w.setup, w.depart
    out: list[Violation] = []
    if start[i] < arrive[i] + setup[i] - TOLERANCE:
        out.append(
            Violation(
                "R7",
                _name(w, i),
                _(
                    "starts service at {start}, before arrival {arrive} + {setup:.2f} "
                    "set-up minutes",
                    start=clock(start[i]),
                    arrive=clock(arrive[i]),
                    setup=setup[i],
                ),
            )
        )
    if abs(depart[i] - expect_end) > TOLERANCE:
        out.append(
            Violation(
                "R7",
                _name(w, i),
                _(
                    "ends service at {end}; {n} clients x {minutes:.2f} minutes from "
                    "{start} end at {expected}",
                    end=clock(depart[i]),
                    n=w.clients[i],
                    minutes=p.minutes_per_client[j],
                    start=clock(start[i]),
                    expected=clock(expect_end),
                ),
            )
        )
    if p.stop_county[j] != p.station_county[station]:
        out.append(
            Violation(
                "R8",
                _name(w, i),
                _(
                    "the stop is in county {stop}, the station in {station}",
                    stop=p.stop_county[j],
                    station=p.station_county[station],
                ),
            )
        )
    return out
