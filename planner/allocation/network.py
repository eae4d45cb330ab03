"""The allocation's min-cost-flow network, without the two rules that are not a network.

Network (all arcs from numpy arrays in one call, :func:`build_flow_network`)::

    source -> recruiting province r  (capacity: recruitment target, A6)
           -> applicant a            (capacity 1, A1)
           -> post p                 (one arc per eligible pair, cost = the arc's objective)
           -> bucket b               (capacity: open seats of p, A1)
           -> service province s     (capacity: the bucket's quota, A2)
           -> sink                   (capacity: dispatch target, A6)
    source -> sink                   (the applicants left unplaced, cost 0)

An optional hub layer (``applicant -> hub -> post``, :class:`Hubs`, built by
:mod:`planner.allocation.compact`) may stand beside the direct applicant -> post arcs;
:class:`Price` and :class:`GroupCap` (:mod:`planner.allocation.share`) price and cap the
applicants' arcs.

The pair seat counts (A3) and the bachelor share (A4) are left out, so the flow's value is a
lower bound of the plan and its arcs are a warm start for the exact model. OR-Tools' min-cost
flow needs integer costs: they are scaled by :data:`COST_SCALE` unless they are integers.

This module holds the network as data; the solvers that give the flow on each of its arcs
are :mod:`planner.allocation.flow` (OR-Tools from scratch) and :mod:`planner.allocation.warm`
(shortest paths from a previous plan); :meth:`FlowNetwork.result` reads such a flow as a
:class:`FlowSolution`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.allocation.arcs import Arcs
from planner.allocation.problem import AllocationProblem

COST_SCALE = 100
"""Arc costs are multiples of 1/100 (the transport subsidy is counted in 100 CNY units)."""


@dataclass(frozen=True, slots=True)
class Hubs:
    """An optional middle layer: applicant -> hub (one unit) -> post (any number of units).

    Hubs ``0 .. n_county - 1`` lead to posts; hubs from ``n_county`` on (preference hubs)
    lead to those first, on the ``mid`` arcs."""

    n_county: int
    n_pref: int
    in_a: np.ndarray
    in_hub: np.ndarray
    in_cost: np.ndarray
    out_hub: np.ndarray
    out_p: np.ndarray
    out_cost: np.ndarray
    mid_from: np.ndarray
    mid_to: np.ndarray
    mid_cost: np.ndarray

    @property
    def n(self) -> int:
        return self.n_county + self.n_pref


@dataclass(frozen=True, slots=True)
class FlowSolution:
    """The optimum of the network: its value and the flow on each applicant-side arc."""

    objective: float
    value: float
    """The objective with the price (:class:`Price`) of the placed applicants."""
    direct: np.ndarray
    """Flow on each of the direct (applicant, post) arcs."""
    hub_in: np.ndarray
    hub_out: np.ndarray
    hub_mid: np.ndarray
    from_previous: bool = False
    """Reached from the previous plan (:mod:`planner.allocation.warm`), not from scratch."""


@dataclass(frozen=True, slots=True)
class Price:
    """An extra cost on each applicant's arc (his recruiting province -> him), exact:
    ``numerator[a] / denominator`` objective units. A Lagrangian multiplier of a row over
    applicants (A4) is such a price."""

    numerator: np.ndarray
    denominator: int = 1


@dataclass(frozen=True, slots=True)
class GroupCap:
    """At most ``cap[g]`` of the applicants with ``group[a] == g`` are placed (-1: none)."""

    group: np.ndarray
    cap: np.ndarray


@dataclass(frozen=True, slots=True)
class FlowNetwork:
    """The arcs of the network (:func:`build_flow_network`), ready for a min-cost flow solver.

    ``solver_costs`` are the integers the solver minimises (the price and the tie-break
    folded in); ``costs`` are the plain objective in ``1 / unit`` units and ``priced`` the
    objective with the price, in ``1 / (unit * den)`` units. Arcs come in blocks; ``offsets``
    delimit them: recruiting provinces, applicants, direct arcs, hub in, hub out, posts,
    buckets, service provinces, the unplaced, preference hubs, groups.
    """

    tails: np.ndarray
    heads: np.ndarray
    caps: np.ndarray
    solver_costs: np.ndarray
    costs: np.ndarray
    priced: np.ndarray
    unit: int
    den: int
    offsets: np.ndarray
    n_nodes: int
    supply: int
    """Units that leave the source (node 0) for the sink (node 1)."""
    scale: int = 1
    """``solver_costs`` are ``priced`` times this plus the tie-break (1: no tie-break)."""

    def result(
        self, problem: AllocationProblem, f: np.ndarray, from_previous: bool = False
    ) -> FlowSolution:
        """The flow ``f`` (one value per arc) as the network's plan."""
        o = self.offsets
        return FlowSolution(
            objective=problem.constant() + int(f @ self.costs) / self.unit,
            value=problem.constant() + int(f @ self.priced) / (self.unit * self.den),
            direct=f[o[2] : o[3]],
            hub_in=f[o[3] : o[4]],
            hub_out=f[o[4] : o[5]],
            hub_mid=f[o[9] : o[10]],
            from_previous=from_previous,
        )


def cost_unit(costs: np.ndarray) -> int:
    """The smallest of 1 and :data:`COST_SCALE` that makes every cost an integer (the
    default weights are integers; fewer cost bits make the solver's cost scaling faster)."""
    return 1 if np.all(costs == np.round(costs)) else COST_SCALE


def build_flow_network(
    problem: AllocationProblem,
    direct: Arcs,
    hubs: Hubs | None = None,
    tiebreak: np.ndarray | None = None,
    price: Price | None = None,
    groups: GroupCap | None = None,
) -> FlowNetwork:
    """The network of the module docstring with ``direct`` arcs and optional ``hubs``.

    ``tiebreak`` (an integer per applicant) chooses among the optimal flows one with the
    smallest sum of the placed applicants' tie-breaks: every cost is scaled so that no sum
    of tie-breaks can outweigh one cost unit. ``price`` adds a cost per placed applicant,
    ``groups`` caps groups of applicants (each group lies in one recruiting province).
    """
    n_a, n_p, n_b = problem.n_applicants, problem.n_posts, len(problem.bucket_cap)
    n_s, n_r = len(problem.service_code), len(problem.recruit_code)
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
    has_r = problem.app_r >= 0
    n_has = int(has_r.sum())
    feeder, group_r = _feeders(problem, has_r, groups, r0, g0)
    bucket_s = problem.county_s[problem.bucket_county]
    big = n_a
    empty = np.zeros(0, dtype=np.int64)
    hub_in, hub_out, hub_mid = _hub_blocks(hubs, a0, h0, p0, big)
    parts = [  # (tails, heads, capacities, costs)
        (
            np.full(n_r, src),
            r0 + np.arange(n_r),
            np.minimum(problem.recruit_cap, big),
            np.zeros(n_r),
        ),
        (feeder, a0 + np.flatnonzero(has_r), np.ones(n_has), np.zeros(n_has)),
        (a0 + direct.a, p0 + direct.p, np.ones(len(direct)), direct.cost),
        hub_in,
        hub_out,
        (
            p0 + np.arange(n_p),
            b0 + np.maximum(problem.post_bucket, 0),
            problem.post_open * problem.post_usable,
            np.zeros(n_p),
        ),
        (b0 + np.arange(n_b), s0 + bucket_s, np.minimum(problem.bucket_cap, big), np.zeros(n_b)),
        (
            s0 + np.arange(n_s),
            np.full(n_s, sink),
            np.minimum(problem.service_cap, big),
            np.zeros(n_s),
        ),
        (np.asarray([src]), np.asarray([sink]), np.asarray([big]), np.zeros(1)),
        hub_mid,
        (
            r0 + group_r,
            g0 + np.arange(n_g),
            np.minimum(groups.cap, big) if groups is not None else empty,
            np.zeros(n_g),
        ),
    ]
    tails, heads, caps, raw, offsets = _stacked(parts)
    app_arcs = slice(offsets[1], offsets[2])
    unit = cost_unit(raw)
    costs = np.round(raw * unit).astype(np.int64)
    den = price.denominator if price is not None else 1
    priced = costs * den
    if price is not None:
        priced[app_arcs] += price.numerator[has_r].astype(np.int64) * unit
    solver_costs, scale = _tie_broken(priced, app_arcs, tiebreak, has_r, n_a, n_nodes)
    return FlowNetwork(
        tails, heads, caps, solver_costs, costs, priced, unit, den, offsets, n_nodes, big, scale
    )


_Block = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""A block of arcs: tails, heads, capacities, costs."""


def _stacked(
    parts: list[_Block],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The blocks of arcs one after the other: tails, heads (int32), capacities (int64), raw
    costs, and where each block starts (the last entry: the number of arcs)."""
    tails = np.concatenate([t for t, _, _, _ in parts]).astype(np.int32)
    heads = np.concatenate([h for _, h, _, _ in parts]).astype(np.int32)
    caps = np.concatenate([k for _, _, k, _ in parts]).astype(np.int64)
    raw = np.concatenate([c for _, _, _, c in parts])
    offsets = np.cumsum([0] + [len(t) for t, _, _, _ in parts])
    return tails, heads, caps, raw, offsets


def _hub_blocks(
    hubs: Hubs | None, a0: int, h0: int, p0: int, big: int
) -> tuple[_Block, _Block, _Block]:
    """The hub arcs (empty without hubs): applicant -> hub, hub -> post, preference hub ->
    county hub; ``a0``, ``h0`` and ``p0`` are the first applicant, hub and post nodes."""
    empty = np.zeros(0, dtype=np.int64)
    hub_in = (
        a0 + (hubs.in_a if hubs else empty),
        h0 + (hubs.in_hub if hubs else empty),
        np.ones(len(hubs.in_a) if hubs else 0),
        hubs.in_cost if hubs else np.zeros(0),
    )
    hub_out = (
        h0 + (hubs.out_hub if hubs else empty),
        p0 + (hubs.out_p if hubs else empty),
        np.full(len(hubs.out_p) if hubs else 0, big),
        hubs.out_cost if hubs else np.zeros(0),
    )
    hub_mid = (
        h0 + (hubs.mid_from if hubs else empty),
        h0 + (hubs.mid_to if hubs else empty),
        np.full(len(hubs.mid_to) if hubs else 0, big),
        hubs.mid_cost if hubs else np.zeros(0),
    )
    return hub_in, hub_out, hub_mid


def _feeders(
    problem: AllocationProblem, has_r: np.ndarray, groups: GroupCap | None, r0: int, g0: int
) -> tuple[np.ndarray, np.ndarray]:
    """The node that feeds each applicant with a recruiting province (his province's node,
    or his group's), and the recruiting province's node index of each group."""
    feeder = r0 + problem.app_r[has_r]
    group_r = np.zeros(0, dtype=np.int64)
    if groups is not None:
        in_group = groups.group[has_r] >= 0
        feeder[in_group] = g0 + groups.group[has_r][in_group]
        group_r = np.zeros(len(groups.cap), dtype=np.int64)
        group_r[groups.group[has_r][in_group]] = problem.app_r[has_r][in_group]
    return feeder, group_r


def _tie_broken(
    priced: np.ndarray,
    app_arcs: slice,
    tiebreak: np.ndarray | None,
    has_r: np.ndarray,
    n_a: int,
    n_nodes: int,
) -> tuple[np.ndarray, int]:
    """The solver's costs and their scale: ``priced`` times a scale at which no sum of
    tie-breaks outweighs one cost unit, plus the tie-break on the applicants' arcs; ``priced``
    itself (scale 1) without a tie-break or where the scaled costs could overflow."""
    if tiebreak is None:
        return priced, 1
    scale = 2 * int(np.abs(tiebreak).max(initial=0)) * n_a + 1
    if int(np.abs(priced).max(initial=0)) * scale * n_nodes >= 2**60:
        return priced, 1
    solver_costs = priced * scale  # no overflow in the solver's cost scaling either
    solver_costs[app_arcs] += tiebreak[has_r].astype(np.int64)
    return solver_costs, scale
