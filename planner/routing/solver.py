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
capacity (:func:`_full_days`); the search routes the rest. After it, a deterministic top-up
(:class:`_TopUp`) puts more clients on the days and completes stops' targets; it leaves no
vehicle-day able to take one more client of an unserved stop, so the reason of what is left
is ``no_capacity`` (every day full) or ``travel_time`` (the days with room lack shift time).
Each search's routes and the top-up alone (from the full days) are topped up, and the plan
with the most townships at target wins, then the most clients inside targets, then the most
served, then the least driving (:func:`_finish`).

Times are integers of :data:`TICKS_PER_MINUTE`; travel and durations are rounded up, so a
route feasible in ticks is feasible in minutes.

Determinism: the first solution (path cheapest arc) and the local search (greedy descent to
a local optimum) involve no randomness and no clock, so the routes depend only on the
problem and the seed (which orders the stops), not on the machine's speed or the number of
processes. The time limit is a guard: a county whose search is cut by it, or whose budget
ran out before the portfolio's next search, says so in its status (``stopped by the time
cap``), and only then may another run differ.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_parameters_pb2
from ortools.util import optional_boolean_pb2

from planner.routing.bound import prove_targets_unreachable, target_workload
from planner.routing.problem import NO_WINDOW, RoutingProblem
from planner.routing.result import Routes, RoutingResult, SubproblemStats, Visits
from planner.routing.roads import county_on_roads
from planner.scenario import RoadSettings
from planner.workers import default_workers, map_tasks, parallelism

log = logging.getLogger(__name__)

TICKS_PER_MINUTE = 10
"""Integer time unit of the OR-Tools model: 0.1 minute."""

DAY_TICKS = 24 * 60 * TICKS_PER_MINUTE
"""Horizon of one vehicle-day in ticks."""

UNREACHABLE = 4 * DAY_TICKS
"""Transit given to a pair with no path: longer than any shift, so never taken."""

MAX_OBJECTIVE = 2**62
"""Largest objective bound accepted (OR-Tools costs are int64)."""


@dataclass(frozen=True, slots=True)
class SolveOptions:
    """Search settings.

    Attributes
    ----------
    time_limit : float
        Wall seconds for the whole solve (all counties, ``workers`` processes).
    seed : int
        Seed of the chunk order; same seed, same routes.
    chunks_per_day : int
        A visit node holds at most ``floor(C / chunks_per_day)`` clients (3 met the most
        Huaihua targets, see docs/routing.md).
    solution_limit : int
        Local-search solutions per county and 100 visit nodes, at least this many (the
        deterministic limit).
    workers : int or None
        Counties solved at once (:mod:`planner.workers`); ``None``: the scheduler's default,
        one process per core. 1 solves in this process.
    first_solutions : tuple of str
        OR-Tools first-solution strategies; each is improved by the local search, topped up
        and compared with the others and the top-up alone (a fixed portfolio, so still
        reproducible).
    full_days : bool
        Fix whole vehicle-days at single stops before the search (see :func:`_full_days`).
    metaheuristic : str
        OR-Tools local-search metaheuristic. The default, greedy descent, stops at a local
        optimum by itself, which makes the routes reproducible; guided local search goes on
        until a limit and improved the Huaihua campaign less than its time cost (see
        docs/routing.md).
    make_active_moves : bool
        Also use the moves that swap a served chunk for an unserved one (exchange / relocate
        and make active, extended swap active): they let the search trade a chunk beyond a
        target for one inside another stop's target.
    proof_seconds : float
        Time for the day-pattern proof in a county whose routes miss a township although
        the workload bound allows its targets, at most what is left of ``time_limit`` (0:
        never try).
    roads : RoadSettings or None
        Travel times from a road graph, each county's built in its own task from the part of
        the graph around its points (:mod:`planner.routing.roads`); ``None``: the problem's.
    """

    time_limit: float = 60.0
    seed: int = 0
    chunks_per_day: int = 3
    solution_limit: int = 100_000
    workers: int | None = None
    first_solutions: tuple[str, ...] = ("PATH_CHEAPEST_ARC", "LOCAL_CHEAPEST_INSERTION")
    full_days: bool = True
    metaheuristic: str = "GREEDY_DESCENT"
    make_active_moves: bool = False
    proof_seconds: float = 30.0
    roads: RoadSettings | None = None


@dataclass(frozen=True, slots=True)
class _Sub:
    """One county's part of the problem (indices into the full problem)."""

    county: str
    stations: np.ndarray
    stops: np.ndarray


@dataclass(frozen=True, slots=True)
class _SubSolution:
    routes: list[tuple[int, float, float, float, int]]
    """(station, leave, back, travel minutes, clients)."""
    visits: list[tuple[int, int, int, float, float, float, int]]
    """(route row within this county, order, stop, arrive, start, depart, clients)."""
    reason: dict[int, str]
    stats: SubproblemStats
    travel: np.ndarray | None = None
    """The county's travel minutes when they came from the roads (its nodes' order)."""
    snap_m: np.ndarray | None = None


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
    problem: RoutingProblem, subs: list[_Sub], order: list[int], solved: list[_SubSolution]
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


def _solve_county(p: RoutingProblem, budget: float, opts: SolveOptions) -> _SubSolution:
    """Solve a one-county problem (all its stations and stops); with roads, its travel
    minutes are computed here first, from the part of the road graph around its points."""
    county = str(p.stop_county[0]) if p.n_stops else ""
    if opts.roads is None:
        return _solve_sub(
            p, _Sub(county, np.arange(p.n_stations), np.arange(p.n_stops)), budget, opts
        )
    started = time.perf_counter()
    p, road = county_on_roads(p, opts.roads)
    budget = max(budget - (time.perf_counter() - started), 1.0)
    part = _solve_sub(p, _Sub(county, np.arange(p.n_stations), np.arange(p.n_stops)), budget, opts)
    stats = dataclasses.replace(part.stats, road_tiles=road.tiles, road_bytes=road.bytes_read)
    return dataclasses.replace(part, travel=p.travel, snap_m=road.snap_m, stats=stats)


def _worth_proving(p: RoutingProblem, part: _SubSolution) -> bool:
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


def _to_global(part: _SubSolution, sub: _Sub) -> _SubSolution:
    """Station and stop numbers of a county's solution in the numbering of the whole problem."""
    st, sp = sub.stations, sub.stops
    return _SubSolution(
        [(int(st[i]), a, b, c, d) for i, a, b, c, d in part.routes],
        [(r, o, int(sp[j]), a, b, c, d) for r, o, j, a, b, c, d in part.visits],
        {int(sp[j]): code for j, code in part.reason.items()},
        part.stats,
        part.travel,
        part.snap_m,
    )


def _split(problem: RoutingProblem) -> list[_Sub]:
    counties = sorted(set(problem.stop_county.tolist()))
    return [
        _Sub(
            c,
            np.flatnonzero(problem.station_county == c),
            np.flatnonzero(problem.stop_county == c),
        )
        for c in counties
    ]


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


def _precheck(p: RoutingProblem, sub: _Sub) -> tuple[np.ndarray, dict[int, str]]:
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


def _ticks(minutes: np.ndarray | float) -> np.ndarray:
    """Minutes as ticks, rounded up (never optimistic); inf becomes UNREACHABLE."""
    m = np.asarray(minutes, dtype=float)
    t = np.where(np.isfinite(m), np.ceil(m * TICKS_PER_MINUTE - 1e-6), UNREACHABLE)
    return np.minimum(t, UNREACHABLE).astype(np.int64)


def _solve_sub(p: RoutingProblem, sub: _Sub, budget: float, opts: SolveOptions) -> _SubSolution:
    """Route one county: its vehicle-days, the full days, the visit chunks, the portfolio of
    searches, and the best of their plans topped up (:func:`_finish`)."""
    t0 = time.perf_counter()
    most, reason = _precheck(p, sub)
    vehicles = _vehicle_days(p, sub)
    target = p.target()
    order = _stop_order(sub, reason, opts.seed)
    full, vehicles, taken = (
        _full_days(p, order, vehicles, target) if opts.full_days else ([], vehicles, {})
    )
    chunks = _chunks(p, sub, order, most, vehicles, taken, target, opts.chunks_per_day)
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
        return _finish(p, sub, [(status, plan)], order, reason, stats, t0)
    model = _visit_model(p, sub.county, vehicles, chunks, target)
    plans = [
        (label, plan + _vehicle_plans(vehicles, chunks, seqs))
        for label, seqs in _portfolio(model, opts, budget)
    ]
    return _finish(p, sub, plans, order, reason, stats, t0)


def _vehicle_days(p: RoutingProblem, sub: _Sub) -> list[tuple[int, int, int]]:
    """One vehicle per staffed (station, day, k)."""
    return [
        (int(i), d, k)
        for i in sub.stations.tolist()
        for d in range(p.horizon)
        for k in range(int(p.staffed[i, d]))
    ]


def _stop_order(sub: _Sub, reason: dict[int, str], seed: int) -> np.ndarray:
    """The county's stops that one visit can serve, in the seed's order (seed 0: as given)."""
    rng = np.random.default_rng(seed)
    order = sub.stops[rng.permutation(len(sub.stops))] if seed else sub.stops
    return np.array([j for j in order.tolist() if j not in reason], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class _Chunks:
    """The visit nodes: chunks of each stop's demand left after the full days."""

    stop: list[int]
    q: list[int]
    """Clients of each chunk."""
    before: list[int]
    """Clients of the chunk's stop served before it (full days, earlier chunks)."""


def _chunks(
    p: RoutingProblem,
    sub: _Sub,
    order: np.ndarray,
    most: np.ndarray,
    vehicles: list[tuple[int, int, int]],
    taken: dict[int, int],
    target: np.ndarray,
    chunks_per_day: int,
) -> _Chunks:
    """Cut each stop's demand into chunks of at most ``floor(C / chunks_per_day)`` clients
    and what one visit can serve (``most``), the target part and the rest apart."""
    depots = sorted({v[0] for v in vehicles})
    caps = [int(p.capacity[i]) for i in depots]
    unit = max(1, max(caps, default=1) // max(chunks_per_day, 1))
    most_of = dict(zip(sub.stops.tolist(), most.tolist(), strict=True))
    chunks = _Chunks([], [], [])
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


@dataclass(frozen=True, slots=True)
class _VisitModel:
    """The data of one county's OR-Tools model: depot nodes, then one node per chunk."""

    vehicles: list[tuple[int, int, int]]
    chunks: _Chunks
    n_dep: int
    starts: list[int]
    """Each vehicle's depot node."""
    travel: np.ndarray
    """Ticks between nodes (the arc cost)."""
    transit: np.ndarray
    """Service at the node, travel and set-up at the next: the time dimension's transit."""
    window: list[tuple[int, int] | None]
    """Each chunk's range for the start of its service, in ticks."""
    penalty: list[int]
    """What leaving each chunk unserved costs (the lexicographic weights)."""
    capacity: list[int]
    """Each vehicle's clients a day."""
    shifts: list[tuple[int, int]]
    """Each vehicle's shift in ticks."""


def _visit_model(
    p: RoutingProblem,
    county: str,
    vehicles: list[tuple[int, int, int]],
    chunks: _Chunks,
    target: np.ndarray,
) -> _VisitModel:
    """The nodes' travel and transit times, the chunks' windows and penalties."""
    depots = sorted({v[0] for v in vehicles})
    n_dep = len(depots)
    node_loc = np.array([*depots, *(p.n_stations + np.array(chunks.stop, dtype=int))], dtype=int)
    travel = _ticks(p.travel[np.ix_(node_loc, node_loc)])
    same = node_loc[:, None] == node_loc[None, :]
    np.fill_diagonal(travel, 0)
    travel[same] = 0
    setup = np.zeros(len(node_loc), dtype=np.int64)
    service = np.zeros(len(node_loc), dtype=np.int64)
    stops_arr = np.array(chunks.stop, dtype=int)
    setup[n_dep:] = _ticks(p.setup_minutes[stops_arr])
    service[n_dep:] = _ticks(p.minutes_per_client[stops_arr] * np.array(chunks.q, dtype=np.int64))
    transit = service[:, None] + travel + np.where(same, 0, setup[None, :])
    window = [
        (
            int(p.open[j]) * TICKS_PER_MINUTE + int(setup[n_dep + c]),
            int(p.close[j]) * TICKS_PER_MINUTE - int(service[n_dep + c]),
        )
        if p.open[j] != NO_WINDOW
        else None
        for c, j in enumerate(chunks.stop)
    ]
    return _VisitModel(
        vehicles=vehicles,
        chunks=chunks,
        n_dep=n_dep,
        starts=[depots.index(v[0]) for v in vehicles],
        travel=travel,
        transit=np.minimum(transit, UNREACHABLE),
        window=window,
        penalty=_penalties(p, county, vehicles, chunks, target),
        capacity=[int(p.capacity[v[0]]) for v in vehicles],
        shifts=[
            (int(p.shift_start[i]) * TICKS_PER_MINUTE, int(p.shift_end[i]) * TICKS_PER_MINUTE)
            for i, _, _ in vehicles
        ],
    )


def _penalties(
    p: RoutingProblem,
    county: str,
    vehicles: list[tuple[int, int, int]],
    chunks: _Chunks,
    target: np.ndarray,
) -> list[int]:
    """Each chunk's disjunction penalty: ``W1`` per client inside its stop's target, ``W2 x
    priority`` per client beyond (the lexicographic weights of the module docstring)."""
    travel_bound = sum(
        int(p.shift_end[v[0]] - p.shift_start[v[0]]) * TICKS_PER_MINUTE for v in vehicles
    )
    demand_total = int(np.array(chunks.q, dtype=np.int64).sum())
    w2 = travel_bound + 1
    prio = np.maximum(p.priority[np.array(chunks.stop, dtype=int)], 1)
    w1 = w2 * int(prio.max()) * demand_total + travel_bound + 1
    if w1 * demand_total >= MAX_OBJECTIVE:
        raise OverflowError(
            f"county {county}: objective bound {w1 * demand_total} exceeds int64 range"
        )
    penalty = []
    for c, (j, q, before) in enumerate(zip(chunks.stop, chunks.q, chunks.before, strict=True)):
        in_target = int(np.clip(target[j] - before, 0, q))
        penalty.append(in_target * w1 + (q - in_target) * w2 * int(prio[c]))
    return penalty


def _portfolio(
    model: _VisitModel, opts: SolveOptions, budget: float
) -> list[tuple[str, list[list[int]]]]:
    """A fixed portfolio of searches within ``budget`` seconds, and no search (the top-up
    alone from the full days); each is topped up and the best plan wins (see
    :func:`_finish`), so what the top-up completes counts. Labels and chunk sequences."""
    found: list[tuple[str, list[list[int]]]] = []
    t_start = time.perf_counter()
    for strategy in opts.first_solutions:
        remaining = budget - (time.perf_counter() - t_start)
        if found and remaining < 0.1:
            # Whether a search is left out depends on the clock: say so, as for a cut one.
            label, seqs = found[-1]
            found[-1] = (f"{label}; {strategy} stopped by the time cap (not reproducible)", seqs)
            break
        result = _search(model, opts, strategy, max(remaining, 0.1))
        if result is not None:
            found.append(result)
    found.append(("without search", [[] for _ in model.vehicles]))
    return found


def _search(
    model: _VisitModel, opts: SolveOptions, strategy: str, seconds: float
) -> tuple[str, list[list[int]]] | None:
    """Build the OR-Tools model, search from ``strategy``; status and chunk sequences."""
    manager, routing = _routing_model(model)
    params = _search_parameters(opts, strategy, seconds, len(model.chunks.stop))
    t_search = time.perf_counter()
    solution = routing.SolveWithParameters(params)
    status = _STATUS.get(routing.status(), str(routing.status()))
    if solution is None:
        return None
    if time.perf_counter() - t_search >= 0.97 * seconds:
        status += ", stopped by the time cap (not reproducible)"
    seqs = []
    for v in range(len(model.vehicles)):
        idx = solution.Value(routing.NextVar(routing.Start(v)))
        seq: list[int] = []
        while not routing.IsEnd(idx):
            seq.append(manager.IndexToNode(idx) - model.n_dep)
            idx = solution.Value(routing.NextVar(idx))
        seqs.append(seq)
    return f"{status} ({strategy})", seqs


def _routing_model(
    model: _VisitModel,
) -> tuple[pywrapcp.RoutingIndexManager, pywrapcp.RoutingModel]:
    """The OR-Tools routing model: travel as the arc cost, the time dimension with the
    shifts and windows, the load dimension, and one optional node per chunk."""
    n_dep, chunks = model.n_dep, model.chunks
    n_nodes = n_dep + len(chunks.stop)
    manager = pywrapcp.RoutingIndexManager(n_nodes, len(model.vehicles), model.starts, model.starts)
    routing = pywrapcp.RoutingModel(manager)
    arc = routing.RegisterTransitMatrix(model.travel.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    time_cb = routing.RegisterTransitMatrix(model.transit.tolist())
    routing.AddDimension(time_cb, DAY_TICKS, DAY_TICKS, False, "time")
    tdim = routing.GetDimensionOrDie("time")
    load_cb = routing.RegisterUnaryTransitVector([0] * n_dep + chunks.q)
    routing.AddDimensionWithVehicleCapacity(load_cb, 0, model.capacity, True, "load")
    for v, (lo, hi) in enumerate(model.shifts):
        tdim.CumulVar(routing.Start(v)).SetRange(lo, hi)
        tdim.CumulVar(routing.End(v)).SetRange(lo, hi)
    for c in range(len(chunks.stop)):  # windows and tiered penalties
        idx = manager.NodeToIndex(n_dep + c)
        window = model.window[c]
        if window is not None:
            lo, hi = window
            tdim.CumulVar(idx).SetRange(lo, max(hi, lo))
        routing.AddDisjunction([idx], model.penalty[c])
    return manager, routing


def _search_parameters(
    opts: SolveOptions, strategy: str, seconds: float, n_chunks: int
) -> routing_parameters_pb2.RoutingSearchParameters:
    """The first solution ``strategy``, the local search of ``opts``, the solution limit
    (deterministic) and the time cap."""
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, strategy)
    if opts.make_active_moves:
        ops = params.local_search_operators
        on = optional_boolean_pb2.BOOL_TRUE
        ops.use_exchange_and_make_active = on
        ops.use_relocate_and_make_active = on
        ops.use_extended_swap_active = on
    params.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic, opts.metaheuristic
    )
    params.solution_limit = max(opts.solution_limit, opts.solution_limit * n_chunks // 100)
    params.time_limit.FromMilliseconds(max(100, int(seconds * 1000)))
    return params


def _vehicle_plans(
    vehicles: list[tuple[int, int, int]], chunks: _Chunks, seqs: list[list[int]]
) -> list[tuple[int, list[list[int]]]]:
    """Each vehicle-day's chunk sequence as (station, [[stop, clients], ...]), consecutive
    chunks of one stop merged."""
    out: list[tuple[int, list[list[int]]]] = []
    for v, (i, _, _) in enumerate(vehicles):
        merged: list[list[int]] = []
        for c in seqs[v]:
            if merged and merged[-1][0] == chunks.stop[c]:
                merged[-1][1] += chunks.q[c]
            else:
                merged.append([chunks.stop[c], chunks.q[c]])
        out.append((i, merged))
    return out


def _full_days(
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


_STATUS = {
    0: "not solved",
    1: "solved",
    2: "partial (stopped before a local optimum)",
    3: "no solution found",
    4: "no solution found in time",
    5: "invalid model",
    6: "infeasible",
    7: "optimal",
}
"""OR-Tools routing status codes as words."""


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


def _finish(
    p: RoutingProblem,
    sub: _Sub,
    plans: list[tuple[str, list[tuple[int, list[list[int]]]]]],
    order: np.ndarray,
    reason: dict[int, str],
    stats: dict,
    t0: float,
) -> _SubSolution:
    """Top every candidate up (:class:`_TopUp`), keep the best, schedule it and give every
    shortfall a reason.

    ``plans`` are (label, vehicle-days as (station, [[stop, clients], ...])). The best topped-up
    plan has the most townships at target, then the most clients inside stop targets, then
    the most clients served (beyond targets weighted by priority), then the least driving; the
    first listed wins a tie.
    """
    best = None
    for label, candidate in plans:
        top = _TopUp(p, [(i, [list(v) for v in seq]) for i, seq in candidate], order)
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
    return _SubSolution(
        routes,
        visits,
        reason,
        SubproblemStats(**stats, status=status, seconds=seconds, townships_met=key[0]),
    )


class _TopUp:
    """Deterministic repair after the search: put more clients on the vehicle-days.

    The search serves whole chunks (up to half a day's capacity), so a day can be left with
    a few clients and minutes to spare, and it weighs every client inside a target alike, so
    it may leave many stops a few clients short. Three passes, stops in the seed's order:

    1. ``surplus``: for each stop short of its target, the insertion of the most target
       clients into one vehicle-day (a new visit at any position, or a longer visit), making
       room by serving fewer clients beyond other stops' targets on that day; repeated.
    2. ``concentrate``: for each stop still short, smallest shortfall first, complete its
       target by moving clients to it from stops that miss their targets anyway (and from
       clients beyond targets); kept only when the stop reaches its target. Clients inside
       targets stay as many, and one more stop meets its target per success.
    3. ``fill``: the insertion of the most clients of any demand, taking none away,
       repeated over all stops until nothing fits. After it no vehicle-day can take one
       more client of an unserved stop, which is what ``travel_time`` / ``no_capacity`` say.
    """

    def __init__(
        self, p: RoutingProblem, plan: list[tuple[int, list[list[int]]]], order: np.ndarray
    ) -> None:
        self.p, self.plan, self.order = p, plan, [int(j) for j in order]
        self.s0 = p.n_stations
        self.travel = p.travel.tolist()
        self.target = p.target().tolist()
        self.served = [0] * p.n_stops
        for _, seq in plan:
            for j, q in seq:
                self.served[j] += q

    def fits(self, i: int, seq: list[list[int]]) -> float:
        """Travel minutes of the route, or -1 when it breaks the shift, a window or capacity."""
        p, tr, s0 = self.p, self.travel, self.s0
        if sum(q for _, q in seq) > p.capacity[i]:
            return -1.0
        t, here, drive = float(p.shift_start[i]), i, 0.0
        for j, q in seq:
            leg = tr[here][s0 + j]
            drive += leg
            start = t + leg + float(p.setup_minutes[j])
            if p.open[j] != NO_WINDOW:
                start = max(start, float(p.open[j] + p.setup_minutes[j]))
            t = start + float(p.minutes_per_client[j]) * q
            if p.open[j] != NO_WINDOW and t > p.close[j] + 1e-9:
                return -1.0
            here = s0 + j
        back = tr[here][i]
        if not math.isfinite(drive + back) or t + back > p.shift_end[i] + 1e-9:
            return -1.0
        return drive + back

    def avail(self, s: int, j: int, mode: str) -> int:
        """Clients of stop ``s`` that may be taken away to serve ``j``."""
        over = self.served[s] - self.target[s]
        if mode == "fill" or s == j:
            return 0
        if mode == "concentrate" and over < 0:
            return self.served[s]
        return max(over, 0)

    def variant(
        self, seq: list[list[int]], pos: int, j: int, q: int, cut: int, mode: str
    ) -> list[list[int]] | None:
        """``seq`` with ``q`` more clients of ``j`` at ``pos`` and ``cut`` fewer of others."""
        out = [list(v) for v in seq]
        if pos < len(out) and out[pos][0] == j:
            out[pos][1] += q
        else:
            out.insert(pos, [j, q])
        left: dict[int, int] = {}
        for k in range(len(out) - 1, -1, -1):
            s, n = out[k]
            if cut == 0:
                break
            left.setdefault(s, self.avail(s, j, mode))
            r = min(cut, n, left[s])
            out[k][1] -= r
            left[s] -= r
            cut -= r
        return [v for v in out if v[1] > 0] if cut == 0 else None

    def make(
        self,
        i: int,
        seq: list[list[int]],
        pos: int,
        j: int,
        q: int,
        room: tuple[int, int],
        mode: str,
    ) -> list[list[int]] | None:
        """``seq`` with ``q`` more clients of ``j`` at ``pos`` if that fits, else None.

        ``room`` is the day's spare capacity and the clients that may be taken away; the
        fewest are taken first, then as many as are added (which frees shift time).
        """
        spare, taken = room
        for cut in dict.fromkeys((max(0, q - spare), min(q, taken))):
            new = self.variant(seq, pos, j, q, cut, mode)
            if new is not None and self.fits(i, new) >= 0:
                return new
        return None

    def best(
        self, j: int, need: int, mode: str
    ) -> tuple[tuple[int, float], int, list[list[int]]] | None:
        """The insertion of up to ``need`` clients of ``j`` that serves most (then drives least)."""
        p, found = self.p, None
        for r, (i, seq) in enumerate(self.plan):
            spare = int(p.capacity[i]) - sum(q for _, q in seq)
            free = {s: self.avail(s, j, mode) for s, _ in seq}
            taken = sum(min(q, free[s]) for s, q in seq)
            room = min(need, spare + taken)
            if room <= 0:
                continue
            base = self.fits(i, seq)
            at = [k for k, v in enumerate(seq) if v[0] == j]

            for pos in at or range(len(seq) + 1):
                if self.make(i, seq, pos, j, 1, (spare, taken), mode) is None:
                    continue  # not even one more client fits here
                lo, hi, best_new, best_q = 1, room, None, 0
                while lo <= hi:  # most clients that fit (fitting is monotone in q)
                    mid = (lo + hi) // 2
                    new = self.make(i, seq, pos, j, mid, (spare, taken), mode)
                    if new is not None:
                        best_new, best_q, lo = new, mid, mid + 1
                    else:
                        hi = mid - 1
                if best_new is not None:
                    key = (best_q, base - self.fits(i, best_new))
                    if found is None or key > found[0]:
                        found = (key, r, best_new)
        return found

    def apply(self, r: int, new: list[list[int]]) -> int:
        """Replace route ``r`` by ``new``; the clients it adds."""
        i, old = self.plan[r]
        for s, q in old:
            self.served[s] -= q
        for s, q in new:
            self.served[s] += q
        self.plan[r] = (i, new)
        return sum(q for _, q in new) - sum(q for _, q in old)

    def reach(self, j: int, goal: int, mode: str) -> int:
        """Insert clients of ``j`` until ``goal`` or nothing fits; the clients added."""
        added = 0
        while self.served[j] < goal:
            found = self.best(j, goal - self.served[j], mode)
            if found is None:
                break
            added += self.apply(found[1], found[2])
        return added

    def score(self, stops: np.ndarray) -> tuple[int, int, int, float]:
        """(townships at target, clients inside stop targets, clients served with those beyond
        targets weighted by priority, minus the driving minutes) over ``stops``."""
        p, served = self.p, self.served
        towns, goal = p.township_targets(stops)
        met = sum(sum(served[j] for j in js) >= goal[w] for w, js in towns.items())
        inside = sum(min(served[j], self.target[j]) for j in stops.tolist())
        weighted = inside + sum(
            max(0, served[j] - self.target[j]) * max(int(p.priority[j]), 1) for j in stops.tolist()
        )
        drive = sum(self.fits(i, seq) for i, seq in self.plan if seq)
        return met, inside, weighted, -drive

    def run(self) -> int:
        """Apply the three passes; the clients added."""
        added = 0
        for j in self.order:
            added += self.reach(j, self.target[j], "surplus")
        short = sorted(
            (j for j in self.order if self.served[j] < self.target[j]),
            key=lambda j: self.target[j] - self.served[j],
        )
        for j in short:
            plan, served = list(self.plan), list(self.served)
            gained = self.reach(j, self.target[j], "concentrate")
            if self.served[j] < self.target[j]:
                self.plan[:], self.served = plan, served  # not completed: undo
            else:
                added += gained
        demand = self.p.demand.tolist()
        changed = True
        while changed:
            before = added
            for j in self.order:
                added += self.reach(j, demand[j], "fill")
            changed = added > before
        return added


def _assemble(p: RoutingProblem, parts: list[_SubSolution], seconds: float) -> RoutingResult:
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
    routes = Routes(
        *(
            np.array([r[c] for r in route_rows], dtype=dt)
            for c, dt in enumerate((np.int64, np.int64, np.int64, float, float, float, np.int64))
        )
    )
    visits = Visits(
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
