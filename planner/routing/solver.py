"""Multi-day service-vehicle routing with split demand (planning model section 3) on OR-Tools.

Formulation, per county (stations of different counties never share stops, so each county is
an independent problem, solved in its own process):

- **Vehicles.** One OR-Tools vehicle per staffed vehicle-day ``(station, day, k)``: it starts
  and ends at its station node, inside the station's shift.
- **Visit nodes (split demand).** A stop's demand is cut into chunks of at most
  ``floor(C / chunks_per_day)`` clients (``C`` the largest daily capacity of the county's
  vehicles, further capped by what one visit can serve inside the stop's window and the
  shift); the target part of the demand and the rest are cut apart, so a target can be met
  exactly. Each chunk is an optional node; serving several chunks of one stop, on one route or
  on several routes and days, splits its demand over visits.
- **Capacity** (daily capacity): a dimension with the chunk's clients as demand and the
  station's clients a day as the vehicle capacity.
- **Time** (shifts, windows): the cumul of a chunk is the start of its service. The transit
  ``i -> j`` is service(i) + travel(i, j) + set-up(j), where set-up counts only when ``j`` is at
  another place than ``i`` (consecutive chunks of one stop are one visit with one set-up).
  A window ``[open, close]`` holds the whole visit: ``start >= open + setup`` and
  ``start + minutes_per_client x clients <= close``. Waiting is allowed (slack).
- **Objective, lexicographic** through tiered disjunction penalties: each client of a stop up
  to its target (``ceil(target x demand)``) weighs ``W1``, each further client
  ``W2 x priority``, travel costs one unit per tick. ``W2`` exceeds the largest possible total
  travel and ``W1`` exceeds all ``W2`` terms plus travel, so covering targets comes first, then
  demand served, then travel time. (The clients inside targets are a linear stand-in for
  level (1), the townships that reach their target; the choice below counts townships.)

Before the search, whole vehicle-days are given to single stops whose target holds a day's
capacity (:func:`~planner.routing.county.full_days`); the search routes the rest. After it, a deterministic top-up
(:class:`~planner.routing.topup.TopUp`) puts more clients on the days and completes stops' targets; it leaves no
vehicle-day able to take one more client of an unserved stop, so the reason of what is left
is ``no_capacity`` (every day full) or ``travel_time`` (the days with room lack shift time).
Each search's routes and the top-up alone (from the full days) are topped up, and the plan
with the most townships at target wins, then the most clients inside targets, then the most
served, then the least driving (:func:`~planner.routing.county.finish`).

Times are integers of :data:`~planner.routing.options.TICKS_PER_MINUTE`; travel and durations are rounded up, so a
route feasible in ticks is feasible in minutes.

Determinism: the first solution (path cheapest arc) and the local search (greedy descent to
a local optimum) involve no randomness and no clock, so the routes depend only on the
problem and the seed (which orders the stops), not on the machine's speed or the number of
processes. The time limit is a guard: a county whose search is cut by it, or whose budget
ran out before the portfolio's next search, says so in its status (``stopped by the time
cap``), and only then may another run differ.

The parts: this module splits the problem by county, gives each its share of the time
budget, runs the counties (and then the day-pattern proofs) in parallel tasks and assembles
their routes; :mod:`planner.routing.options` holds the settings and the integer time,
:mod:`planner.routing.county` one county's phases, :mod:`planner.routing.search` the
OR-Tools model and the portfolio of searches, :mod:`planner.routing.topup` the top-up.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from planner.routing.bound import prove_targets_unreachable, target_workload
from planner.routing.county import CountyPart, CountySolution, solve_county_part
from planner.routing.options import SolveOptions
from planner.routing.problem import RoutingProblem
from planner.routing.result import RouteTable, RoutingResult, VisitTable
from planner.routing.roads import county_on_roads
from planner.workers import default_workers, map_tasks, parallelism


def solve_routing(problem: RoutingProblem, options: SolveOptions | None = None) -> RoutingResult:
    """Route every county's vehicles over the campaign days.

    Parameters
    ----------
    problem : RoutingProblem
    options : SolveOptions, optional

    Returns
    -------
    RoutingResult
        Routes, visits, clients served per stop and the reason for each unserved demand.
    """
    opts = options or SolveOptions()
    t0 = time.perf_counter()
    subs = _split(problem)
    workers = parallelism(opts.workers or default_workers(), len(subs))
    weights = np.array([max(len(s.stops), 1) for s in subs], dtype=float)
    share = weights / weights.sum() if len(subs) else weights
    budgets = [min(opts.time_limit, opts.time_limit * workers * float(w)) for w in share]
    # Largest counties first, so the processes finish close together.
    order = sorted(range(len(subs)), key=lambda k: -weights[k])
    # Each process gets only its county's rows and travel block, not the whole problem.
    counties = [problem.subset(subs[k].stations, subs[k].stops) for k in order]
    end = time.time() + opts.time_limit  # wall clock: comparable across the processes
    solved = map_tasks(
        _solve_county,
        [(c, budgets[k], opts) for c, k in zip(counties, order, strict=True)],
        workers,
        label="county",
    )
    if opts.roads is not None:  # the proofs see the road minutes the routes were made with
        counties = [
            dataclasses.replace(c, travel=c.travel if part.travel is None else part.travel)
            for c, part in zip(counties, solved, strict=True)
        ]
    # Then, in the time left, the proofs where a township is missed (see _prove).
    ask = [
        k
        for k, (q, part) in enumerate(zip(counties, solved, strict=True))
        if opts.proof_seconds > 0 and _worth_proving(q, part)
    ]
    notes = map_tasks(
        _prove, [(counties[k], opts.proof_seconds, end) for k in ask], workers, label="proof"
    )
    for k, (note, proven) in zip(ask, notes, strict=True):
        stats = dataclasses.replace(solved[k].stats, proof=note, unreachable=proven)
        solved[k] = dataclasses.replace(solved[k], stats=stats)
    parts = [
        _to_global(part, subs[k])
        for k, part in sorted(zip(order, solved, strict=True), key=lambda x: x[0])
    ]
    result = _assemble(problem, parts, time.perf_counter() - t0)
    if opts.roads is None:
        return result
    travel, snap = _road_blocks(problem, subs, order, solved)
    return dataclasses.replace(result, travel=travel, snap_m=snap)


def _road_blocks(
    problem: RoutingProblem, subs: list[CountyPart], order: list[int], solved: list[CountySolution]
) -> tuple[np.ndarray, np.ndarray]:
    """The whole problem's matrix of the counties' road minutes (``inf`` elsewhere) and the
    nodes' snap distances."""
    n = problem.n_stations + problem.n_stops
    travel = np.full((n, n), np.inf)
    np.fill_diagonal(travel, 0.0)
    snap = np.full(n, np.inf)
    for k, part in zip(order, solved, strict=True):
        nodes = np.concatenate([subs[k].stations, problem.n_stations + subs[k].stops])
        assert part.travel is not None and part.snap_m is not None
        travel[np.ix_(nodes, nodes)] = part.travel
        snap[nodes] = part.snap_m
    return travel, snap


def _solve_county(p: RoutingProblem, budget: float, opts: SolveOptions) -> CountySolution:
    """Solve a one-county problem (all its stations and stops); with roads, its travel
    minutes are computed here first, from the part of the road graph around its points."""
    county = str(p.stop_county[0]) if p.n_stops else ""
    if opts.roads is None:
        return solve_county_part(
            p, CountyPart(county, np.arange(p.n_stations), np.arange(p.n_stops)), budget, opts
        )
    started = time.perf_counter()
    p, road = county_on_roads(p, opts.roads)
    budget = max(budget - (time.perf_counter() - started), 1.0)
    part = solve_county_part(
        p, CountyPart(county, np.arange(p.n_stations), np.arange(p.n_stops)), budget, opts
    )
    stats = dataclasses.replace(part.stats, road_tiles=road.tiles, road_bytes=road.bytes_read)
    return dataclasses.replace(part, travel=p.travel, snap_m=road.snap_m, stats=stats)


def _worth_proving(p: RoutingProblem, part: CountySolution) -> bool:
    """A one-county problem whose routes miss a township the workload bound does not rule
    out: worth the day-pattern proof."""
    missed = part.stats.townships_met < len(set(p.stop_township.tolist()))
    return missed and target_workload(p, part.stats.county).allows


def _prove(p: RoutingProblem, seconds: float, end: float) -> tuple[str, bool]:
    """The day-pattern proof of a one-county problem
    (:func:`~planner.routing.bound.prove_targets_unreachable`) for up to ``seconds``, within
    the time limit that ends at ``end`` (``time.time()``); its note and outcome."""
    seconds = min(seconds, end - time.time())
    if seconds < 1:
        return "not tried: the time limit was reached", False
    proof = prove_targets_unreachable(p, str(p.stop_county[0]), seconds=seconds)
    return proof.note, proof.proven


def _to_global(part: CountySolution, sub: CountyPart) -> CountySolution:
    """Station and stop numbers of a county's solution in the numbering of the whole problem."""
    st, sp = sub.stations, sub.stops
    return CountySolution(
        [(int(st[i]), a, b, c, d) for i, a, b, c, d in part.routes],
        [(r, o, int(sp[j]), a, b, c, d) for r, o, j, a, b, c, d in part.visits],
        {int(sp[j]): code for j, code in part.reason.items()},
        part.stats,
        part.travel,
        part.snap_m,
    )


def _split(problem: RoutingProblem) -> list[CountyPart]:
    counties = sorted(set(problem.stop_county.tolist()))
    return [
        CountyPart(
            c,
            np.flatnonzero(problem.station_county == c),
            np.flatnonzero(problem.stop_county == c),
        )
        for c in counties
    ]


def _assemble(p: RoutingProblem, parts: list[CountySolution], seconds: float) -> RoutingResult:
    route_rows: list[tuple] = []
    visit_rows: list[tuple] = []
    reason = np.full(p.n_stops, "", dtype=object)
    for part in parts:
        offset = len(route_rows)
        slots = _day_slots(p, part.routes)
        for (i, *rest), (day, k) in zip(part.routes, slots, strict=True):
            route_rows.append((i, day, k, *rest))
        visit_rows.extend((r + offset, *rest) for r, *rest in part.visits)
        for j, code in part.reason.items():
            reason[j] = code
    routes = RouteTable(
        *(
            np.array([r[c] for r in route_rows], dtype=dt)
            for c, dt in enumerate((np.int64, np.int64, np.int64, float, float, float, np.int64))
        )
    )
    visits = VisitTable(
        *(
            np.array([r[c] for r in visit_rows], dtype=dt)
            for c, dt in enumerate((np.int64, np.int64, np.int64, float, float, float, np.int64))
        )
    )
    served = np.bincount(visits.stop, weights=visits.clients, minlength=p.n_stops).astype(np.int64)
    reason = np.where(served >= p.demand, "", reason).astype(str)
    return RoutingResult(
        routes=routes,
        visits=visits,
        served=served,
        reason=reason,
        travel_minutes=float(routes.travel.sum()),
        subproblems=tuple(part.stats for part in parts),
        seconds=seconds,
    )


def _day_slots(p: RoutingProblem, routes: list) -> list[tuple[int, int]]:
    """Day and vehicle number of each route: a station's routes fill its days in order.

    All staffed vehicle-days of a station are alike (same depot, shift and capacity), so the
    routes found for a station are laid on its staffed (day, vehicle) slots day by day.
    """
    free = {
        i: [(d, k) for d in range(p.horizon) for k in range(int(p.staffed[i, d]))]
        for i in {r[0] for r in routes}
    }
    used: dict[int, int] = {}
    out = []
    for r in routes:
        n = used.get(r[0], 0)
        out.append(free[r[0]][n])
        used[r[0]] = n + 1
    return out
