"""One county's routing (:mod:`planner.routing.solver` solves each county in its own task).

The phases, in :func:`solve_county_part`: what one visit can serve at each stop and the
reason where nothing (:func:`precheck`); the staffed vehicle-days; the whole vehicle-days
given to single stops before the search (:func:`full_days`); the visit chunks; the portfolio
of OR-Tools searches (:mod:`planner.routing.search`); and the best of their plans topped up
(:mod:`planner.routing.topup`), scheduled in minutes, every shortfall with its reason
(:func:`finish`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from planner.routing.options import SolveOptions
from planner.routing.problem import NO_WINDOW, RoutingProblem
from planner.routing.result import SubproblemStats
from planner.routing.search import Chunks, portfolio, vehicle_plans, visit_model
from planner.routing.topup import TopUp

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CountyPart:
    """One county's part of the problem (indices into the full problem)."""

    county: str
    stations: np.ndarray
    stops: np.ndarray


@dataclass(frozen=True, slots=True)
class CountySolution:
    routes: list[tuple[int, float, float, float, int]]
    """(station, leave, back, travel minutes, clients)."""
    visits: list[tuple[int, int, int, float, float, float, int]]
    """(route row within this county, order, stop, arrive, start, depart, clients)."""
    reason: dict[int, str]
    stats: SubproblemStats
    travel: np.ndarray | None = None
    """The county's travel minutes when they came from the roads (its nodes' order)."""
    snap_m: np.ndarray | None = None


def _max_clients(p: RoutingProblem, i: int, j: int, window: bool, shift: bool = True) -> float:
    """Most clients one visit from station ``i`` can serve at stop ``j`` (-inf: none).

    ``window=False`` ignores the stop's time window; ``shift=False`` only asks for a path.
    """
    node = p.n_stations + j
    go, back = p.travel[i, node], p.travel[node, i]
    if not (np.isfinite(go) and np.isfinite(back)):
        return -math.inf
    if not shift:  # reachability only
        return math.inf
    setup, mpc = float(p.setup_minutes[j]), float(p.minutes_per_client[j])
    lo = float(p.shift_start[i]) + go + setup
    hi = float(p.shift_end[i]) - back
    if window and p.open[j] != NO_WINDOW:
        lo = max(lo, float(p.open[j]) + setup)
        hi = min(hi, float(p.close[j]))
    if hi < lo:
        return -math.inf
    return math.inf if mpc == 0 else math.floor((hi - lo) / mpc + 1e-9)


def precheck(p: RoutingProblem, sub: CountyPart) -> tuple[np.ndarray, dict[int, str]]:
    """Clients one visit can serve at each stop, and the reason where that is none."""
    fleet = [int(i) for i in sub.stations if p.vehicles[i] > 0]
    staffed = [i for i in fleet if p.staffed[i].sum() > 0]
    most = np.zeros(len(sub.stops))
    reason: dict[int, str] = {}
    for k, j in enumerate(sub.stops.tolist()):
        if p.demand[j] == 0:
            continue
        if not fleet:
            reason[j] = "no_capacity"
            continue
        full = [_max_clients(p, i, j, window=True) for i in fleet]
        if max(full) < 1:
            if all(_max_clients(p, i, j, False, shift=False) == -math.inf for i in fleet):
                reason[j] = "no_path"
            elif max(_max_clients(p, i, j, window=False) for i in fleet) >= 1:
                reason[j] = "time_window"
            else:
                reason[j] = "outside_shift"
            continue
        usable = [_max_clients(p, i, j, window=True) for i in staffed]
        if not usable or max(usable) < 1:
            reason[j] = "no_crew"
            continue
        most[k] = max(usable)
    return most, reason


def solve_county_part(
    p: RoutingProblem, sub: CountyPart, budget: float, opts: SolveOptions
) -> CountySolution:
    """Route one county: its vehicle-days, the full days, the visit chunks, the portfolio of
    searches, and the best of their plans topped up (:func:`finish`)."""
    t0 = time.perf_counter()
    most, reason = precheck(p, sub)
    vehicles = _vehicle_days(p, sub)
    target = p.target()
    order = _stop_order(sub, reason, opts.seed)
    full, vehicles, taken = (
        full_days(p, order, vehicles, target) if opts.full_days else ([], vehicles, {})
    )
    chunks = chunks_of(p, sub, order, most, vehicles, taken, target, opts.chunks_per_day)
    stats = dict(
        county=sub.county,
        stations=len(sub.stations),
        stops=len(sub.stops),
        vehicle_days=len(vehicles) + len(full),
        nodes=len(chunks.stop),
    )
    # Each vehicle-day as (station, [[stop, clients], ...]); empty: the day does not run.
    plan: list[tuple[int, list[list[int]]]] = [(i, [[j, q]]) for i, j, q in full]
    if not vehicles or not chunks.stop:
        plan.extend((v[0], []) for v in vehicles)
        status = "full days only" if full else "nothing to route"
        return finish(p, sub, [(status, plan)], order, reason, stats, t0)
    model = visit_model(p, sub.county, vehicles, chunks, target)
    plans = [
        (label, plan + vehicle_plans(vehicles, chunks, seqs))
        for label, seqs in portfolio(model, opts, budget)
    ]
    return finish(p, sub, plans, order, reason, stats, t0)


def _vehicle_days(p: RoutingProblem, sub: CountyPart) -> list[tuple[int, int, int]]:
    """One vehicle per staffed (station, day, k)."""
    return [
        (int(i), d, k)
        for i in sub.stations.tolist()
        for d in range(p.horizon)
        for k in range(int(p.staffed[i, d]))
    ]


def _stop_order(sub: CountyPart, reason: dict[int, str], seed: int) -> np.ndarray:
    """The county's stops that one visit can serve, in the seed's order (seed 0: as given)."""
    rng = np.random.default_rng(seed)
    order = sub.stops[rng.permutation(len(sub.stops))] if seed else sub.stops
    return np.array([j for j in order.tolist() if j not in reason], dtype=np.int64)


def chunks_of(
    p: RoutingProblem,
    sub: CountyPart,
    order: np.ndarray,
    most: np.ndarray,
    vehicles: list[tuple[int, int, int]],
    taken: dict[int, int],
    target: np.ndarray,
    chunks_per_day: int,
) -> Chunks:
    """Cut each stop's demand into chunks of at most ``floor(C / chunks_per_day)`` clients
    and what one visit can serve (``most``), the target part and the rest apart."""
    depots = sorted({v[0] for v in vehicles})
    caps = [int(p.capacity[i]) for i in depots]
    unit = max(1, max(caps, default=1) // max(chunks_per_day, 1))
    most_of = dict(zip(sub.stops.tolist(), most.tolist(), strict=True))
    chunks = Chunks([], [], [])
    total_cap = sum(int(p.capacity[v[0]]) for v in vehicles)
    for j in order.tolist():
        if most_of[j] < 1:
            continue
        size = int(min(unit, most_of[j]))
        before = taken.get(j, 0)
        # The target part and the rest are chunked apart, so the target can be met exactly.
        for part in (int(target[j]) - before, int(p.demand[j] - max(target[j], before))):
            left = min(max(part, 0), total_cap)
            while left > 0:
                q = min(size, left)
                chunks.stop.append(j)
                chunks.q.append(q)
                chunks.before.append(before)
                before += q
                left -= q
    return chunks


def full_days(
    p: RoutingProblem, stops: np.ndarray, vehicles: list[tuple[int, int, int]], target: np.ndarray
) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]], dict[int, int]]:
    """Give whole vehicle-days to single stops whose target holds a day's capacity.

    A vehicle-day spent at one stop serving its full capacity ``C`` inside the stop's target
    is as good as any use of that day for the first two objective levels (every client in a
    target weighs the same), so such days are fixed before the search: a stop gets
    ``floor(target / C)`` of them from the staffed station nearest to it (round and trip
    within the shift and window), handed out one per stop and round, nearest stops first,
    while the station has vehicle-days left. The search then routes what is left.

    Returns
    -------
    full : list of (station, stop, clients)
    vehicles : the vehicle-days left for the search
    taken : clients fixed per stop
    """
    free: dict[int, list[tuple[int, int, int]]] = {}
    for v in vehicles:
        free.setdefault(v[0], []).append(v)
    wants: list[tuple[float, int, int, int]] = []
    for j in stops.tolist():
        best = None
        for i in free:
            if _max_clients(p, i, j, window=True) >= p.capacity[i] > 0:
                trip = float(p.travel[i, p.n_stations + j] + p.travel[p.n_stations + j, i])
                if best is None or trip < best[0]:
                    best = (trip, i)
        if best is not None and target[j] >= p.capacity[best[1]]:
            wants.append((best[0], j, best[1], int(target[j] // p.capacity[best[1]])))
    wants.sort()
    full: list[tuple[int, int, int]] = []
    taken: dict[int, int] = {}
    for rnd in range(1, max((w[3] for w in wants), default=0) + 1):
        for _, j, i, n in wants:
            if n >= rnd and free[i]:
                free[i].pop()
                full.append((i, j, int(p.capacity[i])))
                taken[j] = taken.get(j, 0) + int(p.capacity[i])
    left = [v for i in sorted(free) for v in free[i]]
    return full, left, taken


def _schedule(
    p: RoutingProblem, i: int, stops: list[int], clients: list[int]
) -> tuple[tuple[float, float, float, int], list[tuple[int, int, float, float, float, int]]]:
    """Earliest times of a route in minutes, consecutive chunks of a stop merged in one visit."""
    merged: list[list[int]] = []
    for j, q in zip(stops, clients, strict=True):
        if merged and merged[-1][0] == j:
            merged[-1][1] += q
        else:
            merged.append([j, q])
    s0 = p.n_stations
    t = float(p.shift_start[i])
    here = i
    rows: list[tuple[int, int, float, float, float, int]] = []
    travel = 0.0
    for order, (j, q) in enumerate(merged, start=1):
        drive = float(p.travel[here, s0 + j])
        travel += drive
        arrive = t + drive
        start = arrive + float(p.setup_minutes[j])
        if p.open[j] != NO_WINDOW:
            start = max(start, float(p.open[j]) + float(p.setup_minutes[j]))
        depart = start + float(p.minutes_per_client[j]) * q
        rows.append((order, j, arrive, start, depart, q))
        t, here = depart, s0 + j
    back_drive = float(p.travel[here, i])
    travel += back_drive
    # Leave the station as late as the first visit allows (no waiting at the first stop).
    _, j0, _, start0, _, _ = rows[0]
    go = float(p.travel[i, s0 + j0])
    leave = max(float(p.shift_start[i]), start0 - float(p.setup_minutes[j0]) - go)
    rows[0] = (rows[0][0], j0, leave + go, *rows[0][3:])
    route = (leave, t + back_drive, travel, int(sum(clients)))
    return route, rows


def finish(
    p: RoutingProblem,
    sub: CountyPart,
    plans: list[tuple[str, list[tuple[int, list[list[int]]]]]],
    order: np.ndarray,
    reason: dict[int, str],
    stats: dict,
    t0: float,
) -> CountySolution:
    """Top every candidate up (:class:`TopUp`), keep the best, schedule it and give every
    shortfall a reason.

    ``plans`` are (label, vehicle-days as (station, [[stop, clients], ...])). The best topped-up
    plan has the most townships at target, then the most clients inside stop targets, then
    the most clients served (beyond targets weighted by priority), then the least driving; the
    first listed wins a tie.
    """
    best = None
    for label, candidate in plans:
        top = TopUp(p, [(i, [list(v) for v in seq]) for i, seq in candidate], order)
        added = top.run()
        key = top.score(sub.stops)
        if best is None or key > best[0]:
            best = (key, label + (f", top-up +{added} clients" if added else ""), top.plan)
    assert best is not None
    key, status, plan = best
    capped = "stopped by the time cap"
    if capped not in status and any(capped in label for label, _ in plans):
        status += f" (another search was {capped}: not reproducible)"
    routes: list[tuple] = []
    visits: list[tuple] = []
    for i, seq in plan:
        if seq:
            route, rows = _schedule(p, i, [v[0] for v in seq], [v[1] for v in seq])
            visits.extend((len(routes), *row) for row in rows)
            routes.append((i, *route))
    served = {int(j): 0 for j in sub.stops}
    for row in visits:
        served[row[2]] += row[6]
    unstaffed = any(
        (p.staffed[i] < np.where(np.arange(p.horizon) < p.days[i], p.vehicles[i], 0)).any()
        for i in sub.stations.tolist()
    )
    spare = any(sum(v[1] for v in seq) < p.capacity[i] for i, seq in plan)
    for j in sub.stops.tolist():
        if served[j] < p.demand[j] and j not in reason:
            # After the top-up no vehicle-day can take one more client of j: where some still
            # have clients to spare, it is their shift (driving, service, window) that is full.
            reason[j] = "no_crew" if unstaffed else "travel_time" if spare else "no_capacity"
    seconds = time.perf_counter() - t0
    log.info("county %s: %s in %.1f s, %d routes", sub.county, status, seconds, len(routes))
    return CountySolution(
        routes,
        visits,
        reason,
        SubproblemStats(**stats, status=status, seconds=seconds, townships_met=key[0]),
    )
