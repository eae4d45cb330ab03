"""The allocation as a min-cost flow, without the two rules that are not a network.

Network (all arcs from numpy arrays in one call)::

    source -> recruiting province r  (capacity: recruitment target, A6)
           -> applicant a            (capacity 1, A1)
           -> post p                 (one arc per eligible pair, cost = the arc's objective)
           -> bucket b               (capacity: open seats of p, A1)
           -> service province s     (capacity: the bucket's quota, A2)
           -> sink                   (capacity: dispatch target, A6)
    source -> sink                   (the applicants left unplaced, cost 0)

An optional hub layer (``applicant -> hub -> post``, :mod:`planner.allocation.compact`) may
stand beside the direct applicant -> post arcs.

The pair seat counts (A3) and the bachelor share (A4) are left out, so the flow's value is a
lower bound of the plan and its arcs are a warm start for the exact model. OR-Tools' min-cost
flow needs integer costs: they are scaled by :data:`COST_SCALE` unless they are integers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from planner.allocation.arcs import Arcs
from planner.allocation.network import FlowNetwork, GroupCap, Hubs, NetworkFlow, Price
from planner.allocation.problem import AllocationProblem

COST_SCALE = 100
"""Arc costs are multiples of 1/100 (the transport subsidy is counted in 100 CNY units)."""
LEXICOGRAPHIC_ARCS = 300_000
"""From this many arcs on, a tie-broken flow is found from the flow without the tie-break
(:func:`planner.allocation.warm.tie_break`); below, OR-Tools with the scaled costs is about
as fast."""


@dataclass(frozen=True, slots=True)
class FlowResult:
    """The relaxed optimum: its value and the arcs it uses."""

    objective: float
    used: np.ndarray
    """Indices into the arcs given to :func:`relaxed_flow`."""


def relaxed_flow(pr: AllocationProblem, arcs: Arcs) -> FlowResult:
    """Solve the allocation without A3 pair seats and A4 as a min-cost flow over ``arcs``."""
    result = network_flow(pr, arcs)
    return FlowResult(result.objective, np.flatnonzero(result.direct > 0))


def cost_unit(costs: np.ndarray) -> int:
    """The smallest of 1 and :data:`COST_SCALE` that makes every cost an integer (the
    default weights are integers; fewer cost bits make the solver's cost scaling faster)."""
    return 1 if np.all(costs == np.round(costs)) else COST_SCALE


def network_flow(
    pr: AllocationProblem,
    direct: Arcs,
    hubs: Hubs | None = None,
    tiebreak: np.ndarray | None = None,
    price: Price | None = None,
    groups: GroupCap | None = None,
) -> NetworkFlow:
    """Solve the network of the module docstring with direct arcs and optional hubs.

    ``tiebreak`` (an integer per applicant) chooses among the optimal flows one with the
    smallest sum of the placed applicants' tie-breaks: every cost is scaled so that no sum
    of tie-breaks can outweigh one cost unit. ``price`` adds a cost per placed applicant,
    ``groups`` caps groups of applicants (each group lies in one recruiting province).
    The flow's ``objective`` is its value without the price, ``value`` with it.
    """
    net = flow_network(pr, direct, hubs, tiebreak, price, groups)
    if (pr.app_prev_post >= 0).any():  # a re-plan starts from the previous plan if it can
        from planner.allocation.warm import warm_solve  # numba: loaded for re-plans only

        warm = warm_solve(pr, net, direct)
        if warm is not None:
            return net.result(pr, warm, from_previous=True)
    if net.scale > 1 and len(net.tails) >= LEXICOGRAPHIC_ARCS:
        # the optimum without the tie-break, then the tie-break from it: faster than OR-Tools
        # with the scaled costs on large networks (the choice depends on the input only, so
        # that the same input gives the same plan in any process)
        from planner.allocation.warm import tie_break

        plain = dataclasses.replace(net, solver_costs=net.priced, scale=1)
        broken = tie_break(net, solve_network(plain))
        if broken is not None:
            return net.result(pr, broken)
    return net.result(pr, solve_network(net))


def solve_network(net: FlowNetwork) -> np.ndarray:
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


def flow_network(
    pr: AllocationProblem,
    direct: Arcs,
    hubs: Hubs | None = None,
    tiebreak: np.ndarray | None = None,
    price: Price | None = None,
    groups: GroupCap | None = None,
) -> FlowNetwork:
    """The arcs of the network of the module docstring (see :func:`network_flow`)."""
    n_a, n_p, n_b = pr.n_applicants, pr.n_posts, len(pr.bucket_cap)
    n_s, n_r = len(pr.service_code), len(pr.recruit_code)
    n_h = hubs.n if hubs is not None else 0
    n_g = len(groups.cap) if groups is not None else 0
    src, sink, r0 = 0, 1, 2  # FlowNetwork.supply leaves node 0 for node 1
    a0 = r0 + n_r
    h0 = a0 + n_a
    p0 = h0 + n_h
    b0 = p0 + n_p
    s0 = b0 + n_b
    g0 = s0 + n_s
    n_nodes = g0 + n_g
    has_r = pr.app_r >= 0
    n_has = int(has_r.sum())
    feeder = r0 + pr.app_r[has_r]
    group_r = np.zeros(0, dtype=np.int64)
    if groups is not None:
        in_group = groups.group[has_r] >= 0
        feeder[in_group] = g0 + groups.group[has_r][in_group]
        group_r = np.zeros(n_g, dtype=np.int64)
        group_r[groups.group[has_r][in_group]] = pr.app_r[has_r][in_group]
    bucket_s = pr.county_s[pr.bucket_county]
    big = n_a
    empty = np.zeros(0, dtype=np.int64)
    parts = [  # (tails, heads, capacities, costs)
        (np.full(n_r, src), r0 + np.arange(n_r), np.minimum(pr.recruit_cap, big), np.zeros(n_r)),
        (feeder, a0 + np.flatnonzero(has_r), np.ones(n_has), np.zeros(n_has)),
        (a0 + direct.a, p0 + direct.p, np.ones(len(direct)), direct.cost),
        (
            a0 + (hubs.in_a if hubs else empty),
            h0 + (hubs.in_hub if hubs else empty),
            np.ones(len(hubs.in_a) if hubs else 0),
            hubs.in_cost if hubs else np.zeros(0),
        ),
        (
            h0 + (hubs.out_hub if hubs else empty),
            p0 + (hubs.out_p if hubs else empty),
            np.full(len(hubs.out_p) if hubs else 0, big),
            hubs.out_cost if hubs else np.zeros(0),
        ),
        (
            p0 + np.arange(n_p),
            b0 + np.maximum(pr.post_bucket, 0),
            pr.post_open * pr.post_usable,
            np.zeros(n_p),
        ),
        (b0 + np.arange(n_b), s0 + bucket_s, np.minimum(pr.bucket_cap, big), np.zeros(n_b)),
        (s0 + np.arange(n_s), np.full(n_s, sink), np.minimum(pr.service_cap, big), np.zeros(n_s)),
        (np.asarray([src]), np.asarray([sink]), np.asarray([big]), np.zeros(1)),
        (
            h0 + (hubs.mid_from if hubs else empty),
            h0 + (hubs.mid_to if hubs else empty),
            np.full(len(hubs.mid_to) if hubs else 0, big),
            hubs.mid_cost if hubs else np.zeros(0),
        ),
        (
            r0 + group_r,
            g0 + np.arange(n_g),
            np.minimum(groups.cap, big) if groups is not None else empty,
            np.zeros(n_g),
        ),
    ]
    tails = np.concatenate([t for t, _, _, _ in parts]).astype(np.int32)
    heads = np.concatenate([h for _, h, _, _ in parts]).astype(np.int32)
    caps = np.concatenate([k for _, _, k, _ in parts]).astype(np.int64)
    raw = np.concatenate([c for _, _, _, c in parts])
    unit = cost_unit(raw)
    costs = np.round(raw * unit).astype(np.int64)
    offsets = np.cumsum([0] + [len(t) for t, _, _, _ in parts])
    app_arcs = slice(offsets[1], offsets[2])
    den = price.denominator if price is not None else 1
    priced = costs * den
    if price is not None:
        priced[app_arcs] += price.numerator[has_r].astype(np.int64) * unit
    solver_costs = priced
    scale = 2 * int(np.abs(tiebreak).max(initial=0)) * n_a + 1 if tiebreak is not None else 1
    if tiebreak is not None and int(np.abs(priced).max(initial=0)) * scale * n_nodes < 2**60:
        solver_costs = priced * scale  # no overflow in the solver's cost scaling either
        solver_costs[app_arcs] += tiebreak[has_r].astype(np.int64)
    else:
        scale = 1
    return FlowNetwork(
        tails, heads, caps, solver_costs, costs, priced, unit, den, offsets, n_nodes, big, scale
    )
