"""Re-plan from the previous plan: the relaxed optimum reached from it, not from scratch.

A re-plan after dropouts (term 6) changes little: the previous volunteers who stay keep
their seats, and the freed seats go to someone. OR-Tools' min-cost flow takes no starting
flow, so :mod:`planner.allocation.compact` would solve the whole network again. Here the
same network (:func:`~planner.allocation.network.build_flow_network`, with the same
tie-break) is solved by successive shortest paths from the previous plan:

1. **Start**: the previous plan without the dropouts is a flow ``f``. With the dropouts'
   seats still taken (each post, bucket and service province short of what they held), it is
   optimal when the previous plan was: every change would have been open to the previous
   plan too, and keeping a volunteer only got cheaper (term 6). Node potentials ``pi`` that
   prove it (every residual arc has reduced cost ``c + pi(u) - pi(v) >= 0``) are the
   shortest distances in the residual network, by a queue-based Bellman-Ford. A negative
   cycle means the start is not optimal (other inputs changed, or the previous plan was not
   a plain flow optimum): then there is no warm start and the caller solves from scratch.
2. **Free the seats**: the dropouts' capacity is given back. An arc with a negative
   reduced cost is saturated; that leaves an excess at its head and a deficit at its tail.
3. **Shortest paths**: in rounds, Dijkstra on the reduced costs from all excesses at once
   until every deficit is reached; the potentials rise by the distances, which leaves the
   shortest-path tree at reduced cost 0, and a maximum flow over the arcs of reduced cost 0
   moves as much excess to the deficits as they carry (primal-dual successive shortest
   paths). A handful of rounds for a hundred freed seats.
4. **Certificate**: the final potentials are checked against every arc. Every residual arc
   has a non-negative reduced cost, so the flow is optimal: the same value as OR-Tools'
   min-cost flow from scratch, found in a fraction of its time.

The same mending gives a tie-broken flow (:func:`tie_break`, the bachelors' tie-break of
:func:`~planner.allocation.compact.solve_compact_flow`) from the optimum without the
tie-break, whose potentials are right except where the tie-break breaks a tie.

The kernels (:mod:`planner.allocation.flow_kernels`) are compiled with numba (cached on disk
after the first use); :func:`planner.allocation.jit.compile_kernels` compiles them ahead.
"""

from __future__ import annotations

import numpy as np

from planner.allocation.arcs import Arcs
from planner.allocation.flow_kernels import (
    OK,
    add_flow,
    backward_lists,
    bellman_ford,
    forward_index,
    shortest_paths,
)
from planner.allocation.network import FlowNetwork
from planner.allocation.problem import AllocationProblem

SEARCH_BUDGET = 40
"""The Bellman-Ford search gives up after scanning every residual arc this many times."""

Residual = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""The residual network as the kernels take it (:func:`_residual`)."""


def warm_solve(problem: AllocationProblem, fn: FlowNetwork, direct: Arcs) -> np.ndarray | None:
    """The optimal flow of ``fn`` (one value per arc) reached from the previous plan, or
    None when the previous plan cannot start it. ``direct`` are ``fn``'s direct arcs; a
    previous volunteer starts on his (applicant, previous post) arc among them."""
    start = _start(problem, fn, direct)
    if start is None:
        return None
    flow, closed = start
    residual = _residual(fn, flow)
    pot = np.zeros(fn.n_nodes, dtype=np.int64)
    if bellman_ford(*residual, closed, flow, fn.solver_costs, pot, SEARCH_BUDGET) != OK:
        return None
    # the dropouts' seats are free again
    return _reoptimize(fn, flow, pot, residual)


def tie_break(fn: FlowNetwork, flow: np.ndarray) -> np.ndarray | None:
    """The optimum of ``fn`` (costs ``scale x priced + tie-break``) from an optimal ``flow``
    for the costs ``priced`` alone, or None if that fails.

    The plain optimum's potentials (Bellman-Ford on its residual network), times the scale,
    leave a negative reduced cost only where the tie-break breaks a tie; the flow is mended
    from there by shortest paths (OR-Tools with the scaled costs from scratch took about 1.8
    times as long as OR-Tools without them, on tier-national's largest parts)."""
    flow = flow.copy()
    residual = _residual(fn, flow)
    pot = np.zeros(fn.n_nodes, dtype=np.int64)
    if bellman_ford(*residual, fn.caps, flow, fn.priced, pot, SEARCH_BUDGET) != OK:
        return None
    return _reoptimize(fn, flow, pot * fn.scale, residual)


def _residual(fn: FlowNetwork, flow: np.ndarray) -> Residual:
    """The residual network of ``flow`` as the kernels take it: the arcs leaving each node,
    the arcs with flow into each node (:func:`add_flow` keeps these), tails and heads."""
    first, out = forward_index(fn.n_nodes, fn.tails)
    back_first, back_next = backward_lists(fn.n_nodes, fn.heads, flow)
    return first, out, back_first, back_next, fn.tails, fn.heads


def _reoptimize(
    fn: FlowNetwork, flow: np.ndarray, pot: np.ndarray, residual: Residual
) -> np.ndarray | None:
    """The optimum of ``fn`` from a feasible ``flow`` and potentials ``pot`` that are wrong on
    a few arcs: an arc with room and a negative reduced cost is filled, an arc with flow and
    a positive one emptied, which leaves excesses and deficits; shortest paths move them;
    the result is checked arc by arc. None if any step fails."""
    excess = np.zeros(fn.n_nodes, dtype=np.int64)
    rc = fn.solver_costs + pot[fn.tails] - pot[fn.heads]
    fill = np.flatnonzero((rc < 0) & (flow < fn.caps))
    empty = np.flatnonzero((rc > 0) & (flow > 0))
    change = np.concatenate([fn.caps[fill] - flow[fill], -flow[empty]])
    arcs = np.concatenate([fill, empty])
    for e, x in zip(arcs.tolist(), change.tolist(), strict=True):
        add_flow(e, x, fn.heads, flow, residual[2], residual[3])
    np.add.at(excess, fn.heads[arcs], change)
    np.subtract.at(excess, fn.tails[arcs], change)
    if not shortest_paths(*residual, fn.caps, flow, fn.solver_costs, pot, excess):
        return None
    return flow if _certified(fn, flow, pot) else None


def _start(
    problem: AllocationProblem, fn: FlowNetwork, direct: Arcs
) -> tuple[np.ndarray, np.ndarray] | None:
    """The previous plan without the dropouts as a flow on ``fn``, and the capacities with
    the dropouts' seats still taken; None when there is no previous plan or it does not fit
    them."""
    o = fn.offsets
    n_p = problem.n_posts
    prev = problem.keep_post
    wanted = np.flatnonzero((prev >= 0) & (problem.app_r >= 0))
    if not len(wanted) or not len(direct):
        return None
    # each previous volunteer's (applicant, previous post) arc, where there is one
    key = direct.a * n_p + direct.p
    order = np.argsort(key, kind="stable")
    pos = np.minimum(np.searchsorted(key[order], wanted * n_p + prev[wanted]), len(key) - 1)
    found = key[order][pos] == wanted * n_p + prev[wanted]
    kept_a, kept_p = wanted[found], prev[wanted[found]]
    flow = np.zeros(len(fn.tails), dtype=np.int64)
    flow[o[2] + order[pos[found]]] = 1
    # upstream: the applicant's arc, and the arcs into its feeder (a group, a province)
    applicant_arc = np.full(problem.n_applicants, -1, dtype=np.int64)
    applicant_arc[problem.app_r >= 0] = np.arange(o[1], o[2])
    flow[applicant_arc[kept_a]] = 1
    into = np.full(fn.n_nodes, -1, dtype=np.int64)
    feeders = np.r_[o[0] : o[1], o[10] : o[11]]
    into[fn.heads[feeders]] = feeders
    node = fn.tails[applicant_arc[kept_a]]
    while len(node):
        arc = into[node]
        flow += np.bincount(arc, minlength=len(flow))
        node = fn.tails[arc]
        node = node[node != 0]  # up to the source
    # downstream: post, bucket, service province, sink
    bucket = np.maximum(problem.post_bucket, 0)
    bucket_s = problem.county_s[problem.bucket_county]

    def post_side(per_post: np.ndarray) -> np.ndarray:
        """Per-post counts summed up the post, bucket and service-province arcs."""
        per_bucket = np.bincount(bucket, weights=per_post, minlength=len(problem.bucket_cap))
        per_s = np.bincount(bucket_s, weights=per_bucket, minlength=len(problem.service_code))
        return np.concatenate([per_post, per_bucket, per_s]).astype(np.int64)

    flow[o[5] : o[8]] = post_side(np.bincount(kept_p, minlength=n_p))
    flow[o[8]] = fn.supply - len(kept_a)
    closed = fn.caps.copy()
    closed[o[5] : o[8]] -= post_side(problem.post_prev_gone * problem.post_usable)
    if np.any(flow > closed) or np.any(closed < 0) or flow[o[8]] < 0:
        return None
    return flow, closed


def _certified(fn: FlowNetwork, flow: np.ndarray, pot: np.ndarray) -> bool:
    """Whether ``flow`` is feasible and ``pot`` proves it optimal: every arc with room has a
    non-negative reduced cost, every arc with flow a non-positive one, and flow is conserved."""
    if np.any(flow < 0) or np.any(flow > fn.caps):
        return False
    rc = fn.solver_costs + pot[fn.tails] - pot[fn.heads]
    if np.any(rc[flow < fn.caps] < 0) or np.any(rc[flow > 0] > 0):
        return False
    balance = np.bincount(fn.tails, weights=flow, minlength=fn.n_nodes) - np.bincount(
        fn.heads, weights=flow, minlength=fn.n_nodes
    )
    want = np.zeros(fn.n_nodes)
    want[0], want[1] = fn.supply, -fn.supply
    return bool(np.array_equal(balance, want))
