"""The exact allocation as a MIP over the compact network, A3 and A4 as side rows.

The compact network (:mod:`planner.allocation.compact`) is exact for the rules that are a
network (A1, A2, A5, A6): its integer flows, split at the hubs, are the plans that keep
them, at the same cost. The two rules that are not a network are rows over its arcs:

- A4, per recruiting province ``r`` with non-bachelor applicants: the applicants of ``r`` are fed through two group nodes, one for its non-bachelors and one for
  its bachelors (:class:`~planner.allocation.network.GroupCap`), so that the row reads
  ``n x N_r + (n - d) x B_r <= 0`` over the two group arcs' flows ``N_r`` and ``B_r``
  (share ``n / d``);
- A3, per pair whose seat count could bind (below the recruitment target, the dispatch
  target and the number of applicants of its recruiting province): the sum of the flows on
  the arcs of ``r``'s applicants into the hubs of service province ``s`` (and on the direct
  arcs of a re-plan) is at most the count. A hub's posts all lie in one service province,
  so a unit's pair is known on its arc into the hub.

Every arc is an integer variable; the flow conservation at every node is an equality row.
HiGHS (through :func:`scipy.optimize.milp`) solves it and proves a bound; an integer flow is
split into (applicant, post) pairs at the hubs as the relaxed flow is
(:func:`~planner.allocation.compact.split_hubs`), which keeps every rule: the same
applicants are placed on the same posts' counts, and each unit keeps its pair.

Why it is fast where the MIP over (applicant, post) arcs is not: the network part is totally
unimodular, so the LP relaxation is integral once ``N_r``, ``B_r`` and the pair counts are,
and the branching needed is over those few counts, not over thousands of applicants with
equally good alternatives; and the model is small (western-2006's parts: 11,000-93,000
arcs, against 0.1-0.7 M eligible pairs each).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from planner.allocation import lp
from planner.allocation.arcs import ArcBuilder, Arcs
from planner.allocation.compact import CompactNetwork, split_hubs
from planner.allocation.network import FlowNetwork, GroupCap, build_flow_network
from planner.allocation.problem import AllocationProblem

log = logging.getLogger(__name__)

INTEGRALITY = 1e-6
"""A variable this close to an integer is that integer (HiGHS' feasibility tolerance)."""


@dataclass(frozen=True, slots=True)
class CompactMip:
    """What the MIP gave: the plan (``arcs``, None when it found none), its value, and the
    proven lower bound (``-inf`` when the time ran out before one)."""

    arcs: Arcs | None
    objective: float
    bound: float
    status: str
    seconds: float
    n_vars: int
    side_rows: int

    @property
    def solved(self) -> bool:
        """Whether the MIP ended within its gap (not cut by the time limit)."""
        return self.status == "optimal"


@dataclass(frozen=True, slots=True)
class _Model:
    """The MIP's rows and columns (one column per arc of ``network``)."""

    network: FlowNetwork
    matrix: sp.csr_matrix
    lower: np.ndarray
    upper: np.ndarray
    side_rows: int


def solve_compact_mip(
    problem: AllocationProblem,
    builder: ArcBuilder,
    net: CompactNetwork,
    time_limit: float,
    gap_tolerance: float,
) -> CompactMip:
    """Solve the allocation (A1-A6) exactly over the compact network ``net``.

    Stops when the plan's value is within ``gap_tolerance`` (relative, as
    :func:`~planner.allocation.status.relative_gap`) of the proven bound, or after
    ``time_limit`` seconds.
    """
    # imported here: scipy.optimize takes 0.13 s to import, and most solves need no MIP
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter()
    model = _model(problem, net)
    fn = model.network
    n = len(fn.tails)
    # one more column, fixed to 1, carries the empty plan's value: HiGHS then measures its
    # relative gap on the plan's value, as relative_gap does
    cost = np.concatenate([fn.costs / fn.unit, [problem.constant()]])
    matrix = sp.hstack([model.matrix, sp.csr_matrix((model.matrix.shape[0], 1))]).tocsr()
    upper = np.concatenate([fn.caps.astype(float), [1.0]])
    result = milp(
        cost,
        integrality=np.ones(n + 1),
        bounds=Bounds(np.concatenate([np.zeros(n), [1.0]]), upper),
        constraints=LinearConstraint(matrix, model.lower, model.upper),
        options={"time_limit": max(time_limit, 0.1), "mip_rel_gap": gap_tolerance},
    )
    seconds = time.perf_counter() - t0
    status = {0: "optimal", 1: "time-limit"}.get(result.status, f"failed: {result.message}")
    bound = getattr(result, "mip_dual_bound", None)
    bound = float(bound) if bound is not None and np.isfinite(bound) else -np.inf
    arcs = None
    objective = np.inf
    if result.x is not None:
        arcs = _plan(problem, builder, net, model, result.x[:n])
        if arcs is not None:
            objective = problem.constant() + float(arcs.cost.sum())
    log.info(
        "compact MIP: %d arcs, %d side rows, %s in %.1f s: %.2f, bound %.2f",
        n,
        model.side_rows,
        status,
        seconds,
        objective,
        bound,
    )
    return CompactMip(arcs, objective, bound, status, seconds, n, model.side_rows)


def _model(problem: AllocationProblem, net: CompactNetwork) -> _Model:
    """The network with group nodes for A4, its conservation rows, and the side rows."""
    frac = lp.share_fraction(problem.rules.undergraduate_min_share)
    # A4 can bind wherever a non-bachelor may be placed
    non = (problem.app_r >= 0) & ~problem.app_bachelor
    rows_r = np.unique(problem.app_r[non]) if frac > 0 else np.zeros(0, dtype=np.int64)
    slot = np.full(len(problem.recruit_code), -1, dtype=np.int64)
    slot[rows_r] = np.arange(len(rows_r))
    groups = None
    if len(rows_r):
        mine = (problem.app_r >= 0) & (slot[np.maximum(problem.app_r, 0)] >= 0)
        group = np.where(
            mine, 2 * slot[np.maximum(problem.app_r, 0)] + problem.app_bachelor.astype(np.int64), -1
        )
        groups = GroupCap(group, np.full(2 * len(rows_r), problem.n_applicants, dtype=np.int64))
    fn = build_flow_network(problem, net.direct, net.hubs, groups=groups)
    n = len(fn.tails)
    cols = np.arange(n)
    conservation = sp.csr_matrix(
        (
            np.concatenate([-np.ones(n), np.ones(n)]),
            (np.concatenate([fn.tails, fn.heads]), np.concatenate([cols, cols])),
        ),
        shape=(fn.n_nodes, n),
    )
    rhs = np.zeros(fn.n_nodes)
    rhs[0], rhs[1] = -fn.supply, fn.supply
    side = _share_rows(fn, len(rows_r), frac.numerator, frac.denominator) + _pair_rows(
        problem, net, fn
    )
    side_matrix = sp.csr_matrix(
        (
            np.concatenate([coef for _, coef, _ in side] + [np.zeros(0)]),
            (
                np.repeat(np.arange(len(side)), [len(cols) for cols, _, _ in side]),
                np.concatenate([cols for cols, _, _ in side] + [np.zeros(0, dtype=np.int64)]),
            ),
        ),
        shape=(len(side), n),
    )
    side_upper = np.asarray([cap for _, _, cap in side], dtype=float)
    return _Model(
        fn,
        sp.vstack([conservation, side_matrix]).tocsr(),
        np.concatenate([rhs, np.full(len(side), -np.inf)]),
        np.concatenate([rhs, side_upper]),
        len(side),
    )


_Row = tuple[np.ndarray, np.ndarray, float]
"""A side row: its columns, their coefficients and its upper bound."""


def _share_rows(fn: FlowNetwork, n_rows: int, numerator: int, denominator: int) -> list[_Row]:
    """A4 over the group arcs: ``n x N_r + (n - d) x B_r <= 0`` (group ``2k`` holds the
    non-bachelors of the ``k``-th watched province, ``2k + 1`` its bachelors)."""
    g0 = int(fn.offsets[10])
    coef = np.asarray([numerator, numerator - denominator], dtype=float)
    return [(g0 + 2 * k + np.arange(2), coef, 0.0) for k in range(n_rows)]


def _pair_rows(problem: AllocationProblem, net: CompactNetwork, fn: FlowNetwork) -> list[_Row]:
    """A3 for every pair whose seat count could bind, over the arcs into its hubs."""
    hubs, o = net.hubs, fn.offsets
    hub_s = np.full(hubs.n, -1, dtype=np.int64)
    hub_s[hubs.out_hub] = problem.post_s[hubs.out_p]  # a county hub's posts lie in one province
    # a preference hub's counties too (a county hub without eligible posts has none)
    np.maximum.at(hub_s, hubs.mid_from, hub_s[hubs.mid_to])
    in_s = hub_s[hubs.in_hub]
    in_r = problem.app_r[hubs.in_a]
    in_pair = np.where(
        (in_s >= 0) & (in_r >= 0), problem.pair_index[np.maximum(in_r, 0), np.maximum(in_s, 0)], -1
    )
    direct_r = problem.app_r[net.direct.a]
    direct_pair = np.where(
        direct_r >= 0, problem.pair_index[np.maximum(direct_r, 0), problem.post_s[net.direct.p]], -1
    )
    has_r = problem.app_r >= 0
    applicants = np.bincount(problem.app_r[has_r], minlength=len(problem.recruit_code))
    rows: list[_Row] = []
    for r, s in zip(*np.nonzero(problem.pair_index >= 0), strict=True):
        pair = int(problem.pair_index[r, s])
        cap = int(problem.pair_cap[pair])
        if cap >= min(int(problem.recruit_cap[r]), int(problem.service_cap[s]), int(applicants[r])):
            continue  # the targets or the applicants bound it already
        cols = np.concatenate(
            [o[3] + np.flatnonzero(in_pair == pair), o[2] + np.flatnonzero(direct_pair == pair)]
        )
        rows.append((cols, np.ones(len(cols)), float(cap)))
    return rows


def _plan(
    problem: AllocationProblem,
    builder: ArcBuilder,
    net: CompactNetwork,
    model: _Model,
    x: np.ndarray,
) -> Arcs | None:
    """The MIP's flow as (applicant, post) arcs; None (logged) if it is not an integer flow
    that keeps every row (a solver tolerance gone wrong)."""
    f = np.round(x).astype(np.int64)
    rows = model.matrix @ f
    if (
        np.abs(x - f).max(initial=0.0) > INTEGRALITY
        or np.any(rows < model.lower - 1e-9)
        or np.any(rows > model.upper + 1e-9)
    ):
        log.warning("compact MIP: the solution is not an integer flow that keeps every row")
        return None
    result = model.network.result(problem, f)
    return split_hubs(builder, net, result.hub_in, result.hub_out, result.direct, result.hub_mid)
