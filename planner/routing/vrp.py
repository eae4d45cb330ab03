"""Benchmark mode: CVRPLIB (CVRP) and Solomon (VRPTW) instances, ``.sol`` files, two engines.

Cost conventions (those of the best-known solutions, ``benchmarks/instances/vrp/README.md``):

- **CVRP** (``*.vrp``, EUC_2D): the arc cost is the Euclidean distance rounded to the nearest
  integer (TSPLIB ``nint``); ``scale`` is 1.
- **VRPTW** (Solomon ``*.txt``): the DIMACS convention, distances truncated to one decimal.
  Everything is held x10 as integers: ``d = floor(10 x euclid)``, travel time = distance,
  ready/due/service times x10; ``scale`` is 10 and a cost of 8273 reads as 827.3.

Parsing is done by the ``vrplib`` package (a dependency of PyVRP); this module turns its
dictionaries into a frozen :class:`VrpInstance` with integer matrices in the convention, and
routes it with OR-Tools or with PyVRP (imported lazily: it is the engine the measurements in
``docs/routing.md`` chose for this mode). Customers are numbered 1..n, the depot is 0, as in
the ``.sol`` files.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from planner.frozen import Frozen
from planner.workers import default_workers, map_tasks, parallelism

log = logging.getLogger(__name__)

ENGINES = ("pyvrp", "ortools")
"""Engines of the benchmark mode; the first is the default (chosen by measurement)."""


class VrpFormatError(ValueError):
    """A benchmark file that cannot be read; the message names the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class VrpInstance(Frozen):
    """A CVRP or VRPTW instance in integer units of its cost convention.

    Attributes
    ----------
    name : str
    kind : str
        ``"cvrp"`` or ``"vrptw"``.
    x, y : ndarray of float, shape (n + 1,)
        Coordinates, depot first.
    demand : ndarray of int, shape (n + 1,)
        0 at the depot.
    capacity : int
    vehicles : int or None
        Fleet size; ``None``: unlimited (X set).
    distance : ndarray of int, shape (n + 1, n + 1)
        Arc costs in the convention (also travel times for VRPTW).
    ready, due, service : ndarray of int, shape (n + 1,)
        VRPTW only (zeros / a large due date for CVRP), in the units of ``distance``.
    scale : int
        Integer units per cost unit (1 for CVRP, 10 for Solomon).
    """

    name: str
    kind: str
    x: np.ndarray
    y: np.ndarray
    demand: np.ndarray
    capacity: int
    vehicles: int | None
    distance: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray
    scale: int

    @property
    def n_customers(self) -> int:
        return len(self.demand) - 1


def _euclid(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.asarray(np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]), dtype=float)


def read_instance(path: str | Path) -> VrpInstance:
    """Read a CVRPLIB ``.vrp`` or a Solomon ``.txt`` file.

    Raises
    ------
    VrpFormatError
        When the file is missing, of an unknown kind, or lacks a section.
    """
    import vrplib

    path = Path(path)
    if not path.is_file():
        raise VrpFormatError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8", errors="replace")
    solomon = "CUST NO." in text.upper() or path.suffix.lower() == ".txt"
    try:
        raw = vrplib.read_instance(
            path, instance_format="solomon" if solomon else "vrplib", compute_edge_weights=False
        )
    except Exception as exc:  # vrplib raises bare errors on malformed files
        raise VrpFormatError(
            f"{path}: cannot parse as {'Solomon' if solomon else 'VRPLIB'} "
            f"({type(exc).__name__}: {exc})"
        ) from None
    if solomon:
        return _solomon(path, raw)
    return _cvrp(path, text, raw)


def _need(path: Path, raw: dict, key: str) -> np.ndarray:
    if key not in raw:
        raise VrpFormatError(f"{path}: no {key.upper()} section; expected one")
    return np.asarray(raw[key])


def _cvrp(path: Path, text: str, raw: dict) -> VrpInstance:
    if str(raw.get("edge_weight_type", "EUC_2D")).strip() != "EUC_2D":
        raise VrpFormatError(
            f"{path}: EDGE_WEIGHT_TYPE {raw.get('edge_weight_type')}; expected EUC_2D"
        )
    xy = _need(path, raw, "node_coord").astype(float)
    demand = _need(path, raw, "demand").astype(np.int64)
    depot = int(np.asarray(raw.get("depot", [0])).ravel()[0])
    if depot != 0:  # vrplib gives 0-based depot ids; put the depot first
        order = np.r_[depot, np.delete(np.arange(len(xy)), depot)]
        xy, demand = xy[order], demand[order]
    # Fleet: VEHICLES field, else the "No of trucks" of the A set's COMMENT, else unlimited.
    vehicles = raw.get("vehicles")
    if vehicles is None and (m := re.search(r"No of trucks:\s*(\d+)", text)):
        vehicles = int(m.group(1))
    n = len(xy)
    dist = np.rint(_euclid(xy[:, 0], xy[:, 1])).astype(np.int64)  # TSPLIB nint
    return VrpInstance(
        name=str(raw.get("name", path.stem)),
        kind="cvrp",
        x=xy[:, 0],
        y=xy[:, 1],
        demand=demand,
        capacity=int(_need(path, raw, "capacity")),
        vehicles=None if vehicles is None else int(vehicles),
        distance=dist,
        ready=np.zeros(n, dtype=np.int64),
        due=np.full(n, np.iinfo(np.int32).max, dtype=np.int64),
        service=np.zeros(n, dtype=np.int64),
        scale=1,
    )


def _solomon(path: Path, raw: dict) -> VrpInstance:
    xy = _need(path, raw, "node_coord").astype(float)
    tw = _need(path, raw, "time_window").astype(float)
    service = _need(path, raw, "service_time").astype(float)
    dist = np.floor(10 * _euclid(xy[:, 0], xy[:, 1]) + 1e-9).astype(np.int64)  # DIMACS
    return VrpInstance(
        name=str(raw.get("name", path.stem)),
        kind="vrptw",
        x=xy[:, 0],
        y=xy[:, 1],
        demand=_need(path, raw, "demand").astype(np.int64),
        capacity=int(_need(path, raw, "capacity")),
        vehicles=int(_need(path, raw, "vehicles")),
        distance=dist,
        ready=np.rint(10 * tw[:, 0]).astype(np.int64),
        due=np.rint(10 * tw[:, 1]).astype(np.int64),
        service=np.rint(10 * service).astype(np.int64),
        scale=10,
    )


# Solutions ------------------------------------------------------------------------------------


def read_solution(path: str | Path) -> tuple[list[list[int]], float | None]:
    """Routes (customer numbers 1..n) and the ``Cost`` line of a ``.sol`` file."""
    routes: list[list[int]] = []
    cost = None
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        head, _, rest = line.partition(":")
        if head.strip().lower().startswith("route"):
            try:
                routes.append([int(v) for v in rest.split()])
            except ValueError:
                raise VrpFormatError(
                    f"{path}, line {number}: {line!r}; expected 'Route #k: c1 c2 ...'"
                ) from None
        elif line.strip().lower().startswith("cost"):
            cost = float(line.split()[1])
    return routes, cost


def write_solution(path: str | Path, routes: list[list[int]], cost: float) -> None:
    """Write routes in the VRPLIB ``.sol`` format with a ``Cost`` line."""
    lines = [f"Route #{k}: {' '.join(map(str, r))}" for k, r in enumerate(routes, 1)]
    lines.append(f"Cost {format_cost(cost)}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def format_cost(cost: float) -> str:
    """A cost as the ``.sol`` files print it: an integer, or one decimal for Solomon."""
    return str(int(cost)) if float(cost).is_integer() else f"{cost:.1f}"


def route_cost(inst: VrpInstance, routes: list[list[int]]) -> float:
    """Cost of ``routes`` in the instance's convention (units of the BKS)."""
    total = 0
    for r in routes:
        path = [0, *r, 0]
        total += int(inst.distance[path[:-1], path[1:]].sum())
    return total / inst.scale


def check_solution(inst: VrpInstance, routes: list[list[int]]) -> list[str]:
    """Every violated rule of a solution (empty: feasible): visits, capacity, windows, fleet."""
    problems = []
    seen = [c for r in routes for c in r]
    n = inst.n_customers
    if sorted(seen) != list(range(1, n + 1)):
        problems.append("customers are not visited exactly once each")
    used = [r for r in routes if r]
    if inst.vehicles is not None and len(used) > inst.vehicles:
        problems.append(f"{len(used)} routes for {inst.vehicles} vehicles")
    for k, r in enumerate(used, 1):
        if int(inst.demand[r].sum()) > inst.capacity:
            problems.append(f"route {k}: load {int(inst.demand[r].sum())} > {inst.capacity}")
        if inst.kind == "vrptw":
            t, here = int(inst.ready[0]), 0
            for c in [*r, 0]:
                t = max(t + int(inst.distance[here, c]), int(inst.ready[c]))
                if t > inst.due[c]:
                    problems.append(f"route {k}: reaches {c} at {t} after its due {inst.due[c]}")
                    break
                t += int(inst.service[c])
                here = c
    return problems


# Engines --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VrpSolution:
    """Routes found by an engine and their cost in the instance's convention."""

    routes: list[list[int]]
    cost: float
    feasible: bool
    engine: str


def solve_vrp(
    inst: VrpInstance,
    time_limit: float = 30.0,
    seed: int = 0,
    engine: str = ENGINES[0],
    workers: int | None = None,
) -> VrpSolution:
    """Solve a benchmark instance with ``engine`` (``"pyvrp"`` or ``"ortools"``).

    Both engines search on one core. With ``workers`` > 1 (default: one per core), as many
    searches with the seeds ``seed``, ``seed + 1``, ... run in parallel processes until the
    same wall-clock end, and the best feasible one is returned."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}; expected one of {', '.join(ENGINES)}")
    wanted = workers if workers is not None else default_workers()
    searches = parallelism(wanted, wanted)  # one process each (1: in this process)
    end = time.time() + time_limit
    if searches <= 1:
        return _solve_until(inst, end, seed, engine)
    tasks = [(inst, end, seed + k, engine) for k in range(searches)]
    found = map_tasks(_solve_until, tasks, searches, label="search")
    return min(found, key=lambda sol: (not sol.feasible, sol.cost))  # the first on a tie


def _solve_until(inst: VrpInstance, end: float, seed: int, engine: str) -> VrpSolution:
    """One search with ``seed`` until the wall-clock time ``end``."""
    time_limit = max(end - time.time(), 0.5)
    routes = (_pyvrp if engine == "pyvrp" else _ortools)(inst, time_limit, seed)
    routes = [r for r in routes if r]
    return VrpSolution(routes, route_cost(inst, routes), not check_solution(inst, routes), engine)


def _fleet(inst: VrpInstance) -> int:
    if inst.vehicles is not None:
        return inst.vehicles
    need = math.ceil(int(inst.demand.sum()) / inst.capacity)
    return min(inst.n_customers, need + max(3, need // 10))


def _ortools(inst: VrpInstance, time_limit: float, seed: int) -> list[list[int]]:
    n, fleet = len(inst.demand), _fleet(inst)
    manager = pywrapcp.RoutingIndexManager(n, fleet, 0)
    routing = pywrapcp.RoutingModel(manager)
    arc = routing.RegisterTransitMatrix(inst.distance.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    load = routing.RegisterUnaryTransitVector(inst.demand.tolist())
    routing.AddDimensionWithVehicleCapacity(load, 0, [inst.capacity] * fleet, True, "load")
    if inst.kind == "vrptw":
        transit = inst.service[:, None] + inst.distance
        cb = routing.RegisterTransitMatrix(transit.tolist())
        horizon = int(inst.due[0])
        routing.AddDimension(cb, horizon, horizon, False, "time")
        tdim = routing.GetDimensionOrDie("time")
        for node in range(1, n):
            tdim.CumulVar(manager.NodeToIndex(node)).SetRange(
                int(inst.ready[node]), int(inst.due[node])
            )
        for v in range(fleet):
            tdim.CumulVar(routing.Start(v)).SetRange(int(inst.ready[0]), horizon)
            tdim.CumulVar(routing.End(v)).SetRange(int(inst.ready[0]), horizon)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
        if inst.kind == "vrptw"
        else routing_enums_pb2.FirstSolutionStrategy.SAVINGS
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(time_limit * 1000))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        log.warning("%s: OR-Tools found no solution in %.0f s", inst.name, time_limit)
        return []
    routes = []
    for v in range(fleet):
        idx, r = solution.Value(routing.NextVar(routing.Start(v))), []
        while not routing.IsEnd(idx):
            r.append(manager.IndexToNode(idx))
            idx = solution.Value(routing.NextVar(idx))
        routes.append(r)
    return routes


def _pyvrp(inst: VrpInstance, time_limit: float, seed: int) -> list[list[int]]:
    import pyvrp
    from pyvrp.stop import MaxRuntime

    m = pyvrp.Model()
    locs = [m.add_location(float(x), float(y)) for x, y in zip(inst.x, inst.y, strict=True)]
    vrptw = inst.kind == "vrptw"
    depot = m.add_depot(
        locs[0],
        tw_early=int(inst.ready[0]) if vrptw else 0,
        tw_late=int(inst.due[0]) if vrptw else np.iinfo(np.int64).max,
    )
    m.add_vehicle_type(
        num_available=_fleet(inst) if inst.vehicles is not None else inst.n_customers,
        capacity=inst.capacity,
        start_depot=depot,
        end_depot=depot,
        tw_early=int(inst.ready[0]) if vrptw else 0,
        tw_late=int(inst.due[0]) if vrptw else np.iinfo(np.int64).max,
    )
    for c in range(1, len(inst.demand)):
        m.add_client(
            locs[c],
            delivery=int(inst.demand[c]),
            service_duration=int(inst.service[c]),
            tw_early=int(inst.ready[c]),
            tw_late=int(inst.due[c]) if vrptw else np.iinfo(np.int64).max,
        )
    for a in range(len(locs)):
        for b in range(len(locs)):
            if a != b:
                d = int(inst.distance[a, b])
                m.add_edge(locs[a], locs[b], distance=d, duration=d if vrptw else 0)
    result = m.solve(stop=MaxRuntime(time_limit), seed=seed, display=False)
    # A route lists its activities; a client activity's idx k is the k-th client added.
    return [[int(a.idx) + 1 for a in route if a.is_client()] for route in result.best.routes()]
