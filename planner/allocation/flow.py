"""The allocation's flow network (:mod:`planner.allocation.network`) solved to optimality.

:func:`solve_flow` builds the network and gives its optimal flow: from the previous plan
where a re-plan can start from it (:mod:`planner.allocation.warm`), else from scratch by
OR-Tools' min-cost flow (:func:`solve_from_scratch`), a tie-break on large networks mended
from the flow without it. :func:`solve_arc_flow` is the same over a plain set of arcs (the
tests' reference for the compact network).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from planner.allocation.arcs import Arcs
from planner.allocation.network import (
    FlowNetwork,
    FlowSolution,
    GroupCap,
    Hubs,
    Price,
    build_flow_network,
)
from planner.allocation.problem import AllocationProblem

LEXICOGRAPHIC_ARCS = 300_000
"""From this many arcs on, a tie-broken flow is found from the flow without the tie-break
(:func:`planner.allocation.warm.tie_break`); below, OR-Tools with the scaled costs is about
as fast."""


@dataclass(frozen=True, slots=True)
class ArcFlow:
    """The relaxed optimum: its value and the arcs it uses."""

    objective: float
    used: np.ndarray
    """Indices into the arcs given to :func:`solve_arc_flow`."""


def solve_arc_flow(problem: AllocationProblem, arcs: Arcs) -> ArcFlow:
    """Solve the allocation without A3 pair seats and A4 as a min-cost flow over ``arcs``."""
    result = solve_flow(problem, arcs)
    return ArcFlow(result.objective, np.flatnonzero(result.direct > 0))


def solve_flow(
    problem: AllocationProblem,
    direct: Arcs,
    hubs: Hubs | None = None,
    tiebreak: np.ndarray | None = None,
    price: Price | None = None,
    groups: GroupCap | None = None,
) -> FlowSolution:
    """The optimal flow of the network :func:`~planner.allocation.network.build_flow_network`
    builds from the same arguments (see there for ``tiebreak``, ``price`` and ``groups``).

    The flow's ``objective`` is its value without the price, ``value`` with it.
    """
    net = build_flow_network(problem, direct, hubs, tiebreak, price, groups)
    if (
        problem.keep_post >= 0
    ).any():  # a re-plan (or pins) starts from the previous plan if it can
        from planner.allocation.warm import warm_solve  # numba: loaded for re-plans only

        warm = warm_solve(problem, net, direct)
        if warm is not None:
            return net.result(problem, warm, from_previous=True)
    if net.scale > 1 and len(net.tails) >= LEXICOGRAPHIC_ARCS:
        # the optimum without the tie-break, then the tie-break from it: faster than OR-Tools
        # with the scaled costs on large networks (the choice depends on the input only, so
        # that the same input gives the same plan in any process)
        from planner.allocation.warm import tie_break

        plain = dataclasses.replace(net, solver_costs=net.priced, scale=1)
        broken = tie_break(net, solve_from_scratch(plain))
        if broken is not None:
            return net.result(problem, broken)
    return net.result(problem, solve_from_scratch(net))


def solve_from_scratch(net: FlowNetwork) -> np.ndarray:
    """OR-Tools' min-cost flow from scratch: the flow on each arc of ``net``."""
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(net.tails, net.heads, net.caps, net.solver_costs)
    supplies = np.zeros(net.n_nodes, dtype=np.int64)
    supplies[0], supplies[1] = net.supply, -net.supply
    flow.set_nodes_supplies(np.arange(net.n_nodes, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}; expected OPTIMAL")
    return np.asarray(flow.flows(np.arange(len(net.tails), dtype=np.int32)), dtype=np.int64)
