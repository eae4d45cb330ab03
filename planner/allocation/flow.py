"""The allocation as a min-cost flow, without the two rules that are not a network.

Network (all arcs from numpy arrays in one call)::

    source -> recruiting province r  (capacity: recruitment target, A6)
           -> applicant a            (capacity 1, A1)
           -> post p                 (one arc per eligible pair, cost = the arc's objective)
           -> bucket b               (capacity: open seats of p, A1)
           -> service province s     (capacity: the bucket's quota, A2)
           -> sink                   (capacity: dispatch target, A6)
    source -> sink                   (the applicants left unplaced, cost 0)

The pair seat counts (A3) and the bachelor share (A4) are left out, so the flow's value is a
lower bound of the plan and its arcs are a warm start for the exact model. OR-Tools' min-cost
flow needs integer costs: they are scaled by :data:`COST_SCALE`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from planner.allocation.arcs import Arcs
from planner.allocation.problem import AllocationProblem

COST_SCALE = 100
"""Arc costs are multiples of 1/100 (the transport subsidy is counted in 100 CNY units)."""


@dataclass(frozen=True, slots=True)
class FlowResult:
    """The relaxed optimum: its value and the arcs it uses."""

    objective: float
    used: np.ndarray
    """Indices into the arcs given to :func:`relaxed_flow`."""


def relaxed_flow(pr: AllocationProblem, arcs: Arcs) -> FlowResult:
    """Solve the allocation without A3 pair seats and A4 as a min-cost flow."""
    n_a, n_p, n_b = pr.n_applicants, pr.n_posts, len(pr.bucket_cap)
    n_s, n_r = len(pr.service_code), len(pr.recruit_code)
    src, sink = 0, 1
    r0 = 2
    a0 = r0 + n_r
    p0 = a0 + n_a
    b0 = p0 + n_p
    s0 = b0 + n_b
    n_nodes = s0 + n_s
    has_r = pr.app_r >= 0
    bucket_s = np.searchsorted(
        pr.service_code, np.asarray([str(c)[:2] + "0000" for c in pr.county_code[pr.bucket_county]])
    )
    big = n_a
    tails = (
        np.full(n_r, src),
        r0 + pr.app_r[has_r],
        a0 + arcs.a,
        p0 + np.arange(n_p),
        b0 + np.arange(n_b),
        s0 + np.arange(n_s),
        np.asarray([src]),
    )
    heads = (
        r0 + np.arange(n_r),
        a0 + np.flatnonzero(has_r),
        p0 + arcs.p,
        b0 + np.maximum(pr.post_bucket, 0),
        s0 + bucket_s,
        np.full(n_s, sink),
        np.asarray([sink]),
    )
    caps = (
        np.minimum(pr.recruit_cap, big),
        np.ones(int(has_r.sum())),
        np.ones(len(arcs)),
        pr.post_open * pr.post_usable,
        np.minimum(pr.bucket_cap, big),
        np.minimum(pr.service_cap, big),
        np.asarray([big]),
    )
    costs = (
        np.zeros(n_r),
        np.zeros(int(has_r.sum())),
        np.round(arcs.cost * COST_SCALE),
        np.zeros(n_p),
        np.zeros(n_b),
        np.zeros(n_s),
        np.zeros(1),
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(heads).astype(np.int32),
        np.concatenate(caps).astype(np.int64),
        np.concatenate(costs).astype(np.int64),
    )
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[src], supplies[sink] = big, -big
    flow.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}; expected OPTIMAL")
    start = n_r + int(has_r.sum())
    f = flow.flows(np.arange(start, start + len(arcs), dtype=np.int32))
    used = np.flatnonzero(f > 0)
    return FlowResult(pr.constant() + flow.optimal_cost() / COST_SCALE, used)
