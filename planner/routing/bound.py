"""Whether a county's staffed vehicle-days can meet its townships' targets, counting driving.

Capacity on paper (vehicle-days x clients a day) ignores that a day spent driving to far stops
serves fewer clients. :func:`target_workload` bounds from below the vehicle-days and the shift
minutes that meeting every township target of a county needs, so that "capacity allows" can be
decided honestly:

- a township meets its target most cheaply from its nearest stops, so at least
  ``X_w(t) = max(0, T_w - demand of its stops with round trip < t)`` of its target clients
  lie at stops with a round trip of at least ``t`` (``T_w = ceil(coverage_target x demand)``);
- a day whose farthest stop has round trip ``t`` drives at least ``t`` (travel times obeying
  the triangle inequality, as great-circle times do), so it serves at most
  ``min(C, (L - t - set-up) / minutes a client)`` clients;
- going from the farthest round trips to the nearest, the clients of each band need such days,
  and the room those days have left serves nearer clients: the fewest days; their driving plus
  the service of the target clients and one set-up per township are the fewest shift minutes.

``C``, ``L``, the set-up and the minutes a client are the most favourable of the county's
staffed stations and stops, round trips are from the nearest staffed station and time windows
are ignored, so the bound never rules out targets that could be met.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planner.routing.problem import RoutingProblem


@dataclass(frozen=True, slots=True)
class Workload:
    """Shift minutes the targets need at least, and what the staffed vehicle-days have.

    Attributes
    ----------
    need_minutes : float
        Service + one set-up per township + the least driving; ``inf`` when a target needs
        stops no vehicle-day can reach and return from within a shift.
    shift_minutes : float
        Shift minutes of all staffed vehicle-days of the county.
    need_days, days : int
        Fewest vehicle-days the targets need (by capacity and by the shift left after the
        drive) and staffed vehicle-days.
    """

    need_minutes: float
    shift_minutes: float
    need_days: int
    days: int

    @property
    def allows(self) -> bool:
        """True when neither minutes nor days rule the targets out."""
        return self.need_minutes <= self.shift_minutes and self.need_days <= self.days


def target_workload(p: RoutingProblem, county: str) -> Workload:
    """Lower bound of the work that meeting every township target of ``county`` needs."""
    st = np.flatnonzero((p.station_county == county) & (p.staffed.sum(axis=1) > 0))
    sp = np.flatnonzero(p.stop_county == county)
    n_days = p.staffed.sum(axis=1)
    days = int(n_days[st].sum())
    have = float(sum(n_days[i] * (p.shift_end[i] - p.shift_start[i]) for i in st))
    towns: dict[str, list[int]] = {}
    for j in sp.tolist():
        towns.setdefault(str(p.stop_township[j]), []).append(j)
    goal = {
        w: math.ceil(p.coverage_target * int(p.demand[js].sum()) - 1e-9) for w, js in towns.items()
    }
    if not any(goal.values()):
        return Workload(0.0, have, 0, days)
    if len(st) == 0:
        return Workload(math.inf, have, days + 1, days)
    s0 = p.n_stations
    trip = np.min(p.travel[np.ix_(st, s0 + sp)] + p.travel[np.ix_(s0 + sp, st)].T, axis=0)
    rt = dict(zip(sp.tolist(), trip.tolist(), strict=True))
    cap = float(p.capacity[st].max())
    shift = float((p.shift_end[st] - p.shift_start[st]).max())
    mpc = {j: float(p.minutes_per_client[j]) for j in sp.tolist()}
    need = sum(min(float(p.setup_minutes[j]) for j in js) for w, js in towns.items() if goal[w] > 0)
    marks = sorted({0.0, *(t for t in rt.values() if math.isfinite(t))})
    # x[k]: target clients that must be served at stops with a round trip >= marks[k].
    x = []
    for k, t in enumerate(marks):
        x_total, s_total = 0, 0.0
        for w, js in towns.items():
            xw = max(0, goal[w] - sum(int(p.demand[j]) for j in js if rt[j] < t))
            if xw:
                x_total += xw
                s_total += xw * min(mpc[j] for j in js if rt[j] >= t)
        if k == 0:
            need += s_total
        x.append(x_total)
    unreachable = sum(
        max(0, goal[w] - sum(int(p.demand[j]) for j in js if math.isfinite(rt[j])))
        for w, js in towns.items()
    )
    if unreachable:
        return Workload(math.inf, have, days + 1, days)
    # A day whose farthest stop has a round trip >= marks[k] drives at least that long, so
    # it serves at most min(C, (L - marks[k] - set-up) / minutes a client) clients; the
    # clients of the farthest stops need such days, whose spare room serves nearer stops.
    setup = min(float(p.setup_minutes[j]) for j in sp.tolist())
    fastest = min(mpc.values())
    need_days, spare = 0, 0.0
    for k in range(len(marks) - 1, -1, -1):
        band = x[k] - (x[k + 1] if k + 1 < len(marks) else 0)
        room = shift - marks[k] - setup
        per_day = cap if fastest == 0 else min(cap, math.floor(room / fastest + 1e-9))
        if band > spare:
            if per_day <= 0:
                return Workload(math.inf, have, days + 1, days)
            n = math.ceil((band - spare) / per_day)
            need_days += n
            need += n * marks[k]
            spare += n * per_day
        spare -= band
    return Workload(need, have, need_days, days)
