"""Phases 1 and 2 of :mod:`planner.allocation.solver`: price and branch.

1. **Price** (:func:`initial_columns`, :func:`price`, :func:`lower_bound`): solve the LP
   relaxation of :mod:`planner.allocation.lp` over a small set of arcs (the columns), read the
   duals, add the arcs whose reduced cost is negative
   (:class:`~planner.allocation.pricing.Pricer`), until none prices out (the LP optimum over
   all arcs, a proven bound) or the time is up (then the Lagrangian bound of the last duals,
   :func:`lagrangian_bound`).
2. **Branch** (:func:`branch`): the LP vertex when it is integral, else an incumbent MIP over
   the columns near the LP optimum, started from the LP's integral part and the flow's arcs
   repaired for A3 and A4.
"""

from __future__ import annotations

import logging
import time
from typing import NamedTuple

import numpy as np

from planner.allocation import lp
from planner.allocation.arcs import Arcs
from planner.allocation.pricing import Pricer
from planner.allocation.problem import AllocationProblem
from planner.allocation.status import absolute_gap

log = logging.getLogger(__name__)

EPS = 1e-6
"""Tolerance of the comparisons: an arc prices out below ``-EPS``."""
INITIAL_PER_PREFERENCE = 2
"""The first columns: the cheapest arcs of each preference, this many."""
ROUND_PER_APPLICANT = 3
ROUND_PER_PREFERENCE = 40
"""A pricing round adds at most this many arcs per applicant and per preference."""
INCUMBENT_RC = 1.0
"""Columns with a reduced cost below this join the incumbent MIP."""
INCUMBENT_SECONDS = 10.0
"""Time for a part's incumbent MIP over the columns (the compact MIP closes its gap)."""


def _find(columns: Arcs, arcs: Arcs, n_posts: int) -> np.ndarray:
    """For each arc of ``arcs``: its index among ``columns``, or -1."""
    key = columns.a * n_posts + columns.p
    order = np.argsort(key, kind="stable")
    have = key[order]
    wanted = arcs.a * n_posts + arcs.p
    if not len(have):
        return np.full(len(wanted), -1, dtype=np.int64)
    pos = np.clip(np.searchsorted(have, wanted), 0, len(have) - 1)
    return np.where(have[pos] == wanted, order[pos], -1)


def _outside(columns: Arcs, new: Arcs, n_posts: int) -> Arcs:
    """The arcs of ``new`` that are not columns yet (a column at its upper bound has a
    negative reduced cost at the LP optimum and must not count as pricing out)."""
    return new.take(np.flatnonzero(_find(columns, new, n_posts) < 0))


def _merge(a: Arcs, b: Arcs, n_posts: int) -> Arcs:
    both = Arcs.concat([a, b])
    _, first = np.unique(both.a * n_posts + both.p, return_index=True)
    return both.take(np.sort(first))


def _repair(problem: AllocationProblem, columns: Arcs, chosen: np.ndarray) -> np.ndarray:
    """Drop the most expensive placements of each pair over its seat count (A3), then
    non-bachelors below the bachelor share (A4); every other rule is an upper bound and holds."""
    r = problem.app_r[columns.a[chosen]]
    pairs = problem.pair_index[r, problem.post_s[columns.p[chosen]]]
    keep = np.ones(len(chosen), dtype=bool)
    for pair in np.unique(pairs).tolist():
        mine = np.flatnonzero(pairs == pair)
        excess = len(mine) - int(problem.pair_cap[pair])
        if excess > 0:
            worst = mine[np.argsort(-columns.cost[chosen[mine]], kind="stable")][:excess]
            keep[worst] = False
    return _round_down(problem, columns, chosen[keep])


def _round_down(problem: AllocationProblem, columns: Arcs, chosen: np.ndarray) -> np.ndarray:
    """Drop non-bachelors (the most expensive first) until every recruiting province meets
    the bachelor share (A4)."""
    frac = lp.share_fraction(problem.rules.undergraduate_min_share)
    r = problem.app_r[columns.a[chosen]]
    bach = problem.app_bachelor[columns.a[chosen]]
    drop: list[int] = []
    for rr in np.unique(r):
        mine = r == rr
        placed, bachelors = int(mine.sum()), int((mine & bach).sum())
        excess = frac.numerator * placed - frac.denominator * bachelors
        if excess <= 0:
            continue
        non = np.flatnonzero(mine & ~bach)
        non = non[np.argsort(-columns.cost[chosen[non]], kind="stable")]
        k = 0
        while excess > 0 and k < len(non):
            drop.append(int(non[k]))
            excess -= frac.numerator
            k += 1
    return np.delete(chosen, drop)


def lagrangian_bound(
    problem: AllocationProblem, layout: lp.RowLayout, pricer: Pricer, duals: np.ndarray
) -> float:
    """Proven lower bound from the duals of an LP whose pricing has not converged."""
    duals = np.minimum(duals, 0.0)  # any duals <= 0 give a valid bound
    app_rows = layout.app[layout.app >= 0]
    post_dual, app_dual, pair_dual = lp.dual_parts(problem, layout, duals)
    other = app_dual - np.where(layout.app >= 0, duals[np.maximum(layout.app, 0)], 0.0)
    mask = np.ones(layout.n_rows, dtype=bool)
    mask[app_rows] = False
    rhs_dot = float(layout.rhs[mask] @ duals[mask])
    return problem.constant() + pricer.lagrangian_bound(post_dual, other, pair_dual, rhs_dot)


def _incumbent(
    problem: AllocationProblem,
    layout: lp.RowLayout,
    columns: Arcs,
    relaxed: lp.LPSolution | None,
    deadline: float,
    notes: list[str],
    flow_arcs: Arcs | None = None,
    seconds: float = INCUMBENT_SECONDS,
    abs_gap: float = 0.0,
) -> lp.LPSolution:
    """A good plan near the LP optimum: the LP's integral part repaired for A4, improved by a
    MIP over the LP's support, the columns of applicants with fractional values and the
    columns with a reduced cost below :data:`INCUMBENT_RC`."""
    x = relaxed.x if relaxed is not None and relaxed.feasible else np.zeros(len(columns))
    chosen = _round_down(problem, columns, np.flatnonzero(x > 1 - 1e-6))
    best = _as_solution(problem, columns, chosen, "ROUNDED")
    if flow_arcs is not None and len(flow_arcs):
        at = _find(columns, flow_arcs, problem.n_posts)  # the flow's arcs are all columns
        repaired = _as_solution(problem, columns, _repair(problem, columns, at), "REPAIRED")
        if repaired.objective < best.objective:
            best, chosen = repaired, np.flatnonzero(repaired.x > 0.5)
    if relaxed is None or not relaxed.optimal:
        return best
    rc = columns.cost - lp.matrix(problem, layout, columns).T @ relaxed.duals
    fractional = np.unique(columns.a[(x > 1e-6) & (x < 1 - 1e-6)])
    near = np.flatnonzero((x > 1e-6) | np.isin(columns.a, fractional) | (rc < INCUMBENT_RC))
    dive = lp.solve(
        problem,
        layout,
        columns.take(near),
        integral=True,
        time_limit=min(seconds, max(deadline - time.perf_counter(), 1.0)),
        hint=np.isin(near, chosen).astype(float),
        abs_gap=abs_gap,
    )
    if dive.feasible and dive.objective < best.objective:
        notes.append(f"incumbent from a MIP over {len(near)} columns near the LP optimum")
        return _as_solution(problem, columns, near[dive.x > 0.5], "DIVE")
    return best


def _as_solution(
    problem: AllocationProblem, columns: Arcs, chosen: np.ndarray, status: str
) -> lp.LPSolution:
    x = np.zeros(len(columns))
    x[chosen] = 1.0
    value = problem.constant() + float(columns.cost[chosen].sum())
    return lp.LPSolution(status, False, True, value, -np.inf, x, np.zeros(0), 0.0)


def initial_columns(problem: AllocationProblem, pricer: Pricer, flow_arcs: Arcs) -> Arcs:
    """The first columns: the cheapest arcs of every preference, and the flow's arcs."""
    zero_post, zero_app = np.zeros(problem.n_posts), np.zeros(problem.n_applicants)
    zero_pair = np.zeros(len(problem.pair_cap))
    columns, _, _ = pricer.candidates(
        zero_post, zero_app, zero_pair, 0.0, max_per_preference=INITIAL_PER_PREFERENCE
    )
    return _merge(columns, flow_arcs, problem.n_posts)


class Pricing(NamedTuple):
    """The last LP of the column generation, its columns, the rounds, and whether it is the
    LP optimum over all arcs (no arc priced out)."""

    relaxed: lp.LPSolution
    columns: Arcs
    rounds: int
    complete: bool


def price(
    problem: AllocationProblem, layout: lp.RowLayout, pricer: Pricer, columns: Arcs, deadline: float
) -> Pricing:
    """Column generation: solve the LP over the columns and add the arcs that price out,
    until none does or the time is up (``deadline``, a ``time.perf_counter()`` time)."""
    n_p = problem.n_posts
    rounds = 0
    previous: tuple[lp.LPSolution, Arcs] | None = None
    while True:
        rounds += 1
        relaxed = lp.solve(
            problem, layout, columns, integral=False, time_limit=deadline - time.perf_counter()
        )
        if not relaxed.optimal:
            if previous is not None:  # out of time mid-solve: keep the last solved round
                relaxed, columns = previous
            return Pricing(relaxed, columns, rounds, False)
        previous = (relaxed, columns)
        post_dual, app_dual, pair_dual = lp.dual_parts(problem, layout, relaxed.duals)
        new, _, truncated = pricer.candidates(
            post_dual,
            app_dual,
            pair_dual,
            -EPS,
            max_per_applicant=ROUND_PER_APPLICANT,
            max_per_preference=ROUND_PER_PREFERENCE,
        )
        new = _outside(columns, new, n_p)
        if len(new) == 0 and truncated:  # make sure: scan every preference to the end
            new, _, _ = pricer.candidates(post_dual, app_dual, pair_dual, -EPS)
            new = _outside(columns, new, n_p)
        log.info(
            "round %d: LP %.2f over %d arcs, %d price out",
            rounds,
            relaxed.objective,
            len(columns),
            len(new),
        )
        if len(new) == 0:
            return Pricing(relaxed, columns, rounds, True)
        if time.perf_counter() > deadline:
            # keep the columns the last LP solution belongs to
            return Pricing(relaxed, columns, rounds, False)
        columns = _merge(columns, new, n_p)


def lower_bound(
    problem: AllocationProblem,
    layout: lp.RowLayout,
    pricer: Pricer,
    pricing: Pricing,
    flow_bound: float,
) -> float:
    """The proven lower bound: the LP optimum when the pricing converged, else the better of
    the flow's bound and the Lagrangian bound of the last LP's duals."""
    relaxed = pricing.relaxed
    if pricing.complete:
        return relaxed.objective
    if relaxed.optimal:
        return max(flow_bound, lagrangian_bound(problem, layout, pricer, relaxed.duals))
    return flow_bound


def branch(
    problem: AllocationProblem,
    layout: lp.RowLayout,
    pricing: Pricing,
    lower: float,
    flow_arcs: Arcs,
    notes: list[str],
    deadline: float,
    gap_tolerance: float,
) -> tuple[lp.LPSolution, Arcs]:
    """An integral plan over the columns: the LP vertex when it is integral, else the
    incumbent MIP (within ``gap_tolerance``, relative, and until ``deadline``)."""
    relaxed, columns = pricing.relaxed, pricing.columns
    x = relaxed.x if relaxed.feasible else np.zeros(len(columns))
    if pricing.complete and np.all(np.abs(x - np.round(x)) < 1e-9):
        # the LP vertex is integral: it is a plan and the LP value proves it optimal
        notes.append("the LP optimum is integral (no branching needed)")
        return relaxed, columns
    mip = _incumbent(
        problem,
        layout,
        columns,
        relaxed,
        deadline,
        notes,
        flow_arcs,
        INCUMBENT_SECONDS,
        absolute_gap(gap_tolerance, lower),
    )
    return mip, columns
