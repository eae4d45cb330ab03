"""The OR-Tools model of one county's visit chunks and the fixed portfolio of its searches.

The model (the formulation of :mod:`planner.routing.solver`): one vehicle per staffed
vehicle-day, one optional node per chunk of a stop's demand, a load dimension (the day's
capacity), a time dimension (shifts, windows, service and set-up) and tiered disjunction
penalties (:func:`penalties`, the lexicographic objective). :func:`portfolio` runs one search
per first-solution strategy inside the county's time budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_parameters_pb2
from ortools.util import optional_boolean_pb2

from planner.routing.options import (
    DAY_TICKS,
    MAX_OBJECTIVE,
    TICKS_PER_MINUTE,
    UNREACHABLE,
    SolveOptions,
    ticks,
)
from planner.routing.problem import NO_WINDOW, RoutingProblem


@dataclass(frozen=True, slots=True)
class VisitModel:
    """The data of one county's OR-Tools model: depot nodes, then one node per chunk."""

    vehicles: list[tuple[int, int, int]]
    chunks: Chunks
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


def visit_model(
    p: RoutingProblem,
    county: str,
    vehicles: list[tuple[int, int, int]],
    chunks: Chunks,
    target: np.ndarray,
) -> VisitModel:
    """The nodes' travel and transit times, the chunks' windows and penalties."""
    depots = sorted({v[0] for v in vehicles})
    n_dep = len(depots)
    node_loc = np.array([*depots, *(p.n_stations + np.array(chunks.stop, dtype=int))], dtype=int)
    travel = ticks(p.travel[np.ix_(node_loc, node_loc)])
    same = node_loc[:, None] == node_loc[None, :]
    np.fill_diagonal(travel, 0)
    travel[same] = 0
    setup = np.zeros(len(node_loc), dtype=np.int64)
    service = np.zeros(len(node_loc), dtype=np.int64)
    stops_arr = np.array(chunks.stop, dtype=int)
    setup[n_dep:] = ticks(p.setup_minutes[stops_arr])
    service[n_dep:] = ticks(p.minutes_per_client[stops_arr] * np.array(chunks.q, dtype=np.int64))
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
    return VisitModel(
        vehicles=vehicles,
        chunks=chunks,
        n_dep=n_dep,
        starts=[depots.index(v[0]) for v in vehicles],
        travel=travel,
        transit=np.minimum(transit, UNREACHABLE),
        window=window,
        penalty=penalties(p, county, vehicles, chunks, target),
        capacity=[int(p.capacity[v[0]]) for v in vehicles],
        shifts=[
            (int(p.shift_start[i]) * TICKS_PER_MINUTE, int(p.shift_end[i]) * TICKS_PER_MINUTE)
            for i, _, _ in vehicles
        ],
    )


def penalties(
    p: RoutingProblem,
    county: str,
    vehicles: list[tuple[int, int, int]],
    chunks: Chunks,
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


def portfolio(
    model: VisitModel, opts: SolveOptions, budget: float
) -> list[tuple[str, list[list[int]]]]:
    """A fixed portfolio of searches within ``budget`` seconds, and no search (the top-up
    alone from the full days); each is topped up and the best plan wins (see
    :func:`~planner.routing.county.finish`), so what the top-up completes counts. Labels and chunk sequences."""
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
    model: VisitModel, opts: SolveOptions, strategy: str, seconds: float
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
    model: VisitModel,
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


def vehicle_plans(
    vehicles: list[tuple[int, int, int]], chunks: Chunks, seqs: list[list[int]]
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


@dataclass(frozen=True, slots=True)
class Chunks:
    """The visit nodes: chunks of each stop's demand left after the full days."""

    stop: list[int]
    q: list[int]
    """Clients of each chunk."""
    before: list[int]
    """Clients of the chunk's stop served before it (full days, earlier chunks)."""
