"""Certified-optimal allocation: min-cost flows, price-and-branch, and an exact compact MIP.

0. **Relax**: the min-cost flow on the compact network without A3 seats and A4
   (:mod:`planner.allocation.compact`) is a lower bound; if its plan keeps A3 and A4 it is
   optimal. Where only A4 is broken, A4 is priced into the flow
   (:mod:`planner.allocation.share`): a Lagrangian bound and a plan.
1. **Price** (where the flow breaks A3): solve the LP relaxation of the model of
   :mod:`planner.allocation.lp` over a small set of arcs (GLOP), read the duals, and add the
   arcs whose reduced cost is negative (:class:`~planner.allocation.pricing.Pricer` finds them
   from per-area sorted post lists without enumerating all arcs). When no arc prices out, the
   LP value is the LP optimum over *all* arcs: a proven lower bound ``LB`` of the plan.
2. **Branch**: the LP vertex when it is integral, else a MIP over the priced arcs near the LP
   optimum: a plan of value ``UB``.
3. **Close** (:func:`_close_part`, where ``UB - LB`` is above the tolerance): the exact MIP
   over the compact network with A3 and A4 as side rows
   (:mod:`planner.allocation.compact_mip`); its optimum is the optimum, and its bound the
   proven bound.

The constraint matrix is that of a bipartite network with laminar capacities on both sides
(applicant < recruiting province; post < bucket < service province), which is totally
unimodular; only the pair seat counts and the bachelor share (A3, A4) break that, so the LP
bound is nearly always tight, and the compact MIP branches over few counts.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from planner.allocation import lp
from planner.allocation.arcs import ArcBuilder, Arcs, integral_objective
from planner.allocation.compact import CompactFlow, build_compact_network, solve_compact_flow
from planner.allocation.compact_mip import solve_compact_mip
from planner.allocation.components import Part, split
from planner.allocation.pricing import Pricer
from planner.allocation.problem import AllocationProblem
from planner.allocation.share import solve_share
from planner.allocation.status import (
    DEFAULT_TIME_LIMIT,
    SolveStatus,
    absolute_gap,
    judge,
    relative_gap,
)
from planner.scenario import _Frozen
from planner.workers import default_workers, map_tasks, parallelism

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
PARALLEL_APPLICANTS = 5_000
"""From this many applicants on, the parts are solved in parallel processes by default."""


@dataclass(frozen=True, slots=True)
class SolveStats:
    """How the solve went, for the summary."""

    build_seconds: float
    solve_seconds: float
    pricing_rounds: int
    columns: int
    lp_bound: float
    status: SolveStatus


@dataclass(frozen=True, slots=True)
class AllocationSolution(_Frozen):
    """The plan: ``post_of[a]`` is the post index of applicant ``a`` or -1 (read-only, as
    every array of a solution)."""

    post_of: np.ndarray
    arcs: Arcs
    """The arcs used by the plan, one per placed applicant."""
    objective: float
    bound: float
    optimal: bool
    stats: SolveStats
    notes: list[str] = field(default_factory=list)

    @property
    def gap(self) -> float:
        """Relative gap between the objective and the proven bound."""
        return relative_gap(self.objective, self.bound)


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


def _side_feasible(problem: AllocationProblem, used: lp.Usage) -> bool:
    """Whether a plan (its :func:`lp.usage`) that keeps the network rules also keeps A3 pair
    seats and A4."""
    if not lp.pairs_ok(problem, used):
        return False
    return bool(np.all(lp.share_ok(problem, used.recruit, used.recruit_bachelors)))


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


def _lagrangian_bound(
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


def solve_allocation(
    problem: AllocationProblem,
    time_limit: float = DEFAULT_TIME_LIMIT,
    gap_tolerance: float = 1e-4,
    workers: int | None = None,
) -> AllocationSolution:
    """Solve the allocation to proven optimality within ``gap_tolerance`` (relative; 1e-4 is
    0.01%), or until ``time_limit`` seconds.

    The independent parts of the pairing (:mod:`planner.allocation.components`) are solved
    apart, in up to ``workers`` processes (default: one per core from
    :data:`PARALLEL_APPLICANTS` applicants on; below, starting processes costs more than it
    saves). Returns the best plan found with the proven lower bound.
    """
    t0 = time.perf_counter()
    parts = split(problem)
    whole = (
        len(parts) == 1
        and len(parts[0].applicants) == problem.n_applicants
        and len(parts[0].posts) == problem.n_posts
    )
    deadline = t0 + time_limit
    if whole:
        first = _solve_part(problem, time_limit, gap_tolerance)
        if first.optimal or time.perf_counter() > deadline:
            return first
        return _close_part(problem, deadline - time.perf_counter(), gap_tolerance, first)
    if workers is None:
        workers = default_workers() if problem.n_applicants >= PARALLEL_APPLICANTS else 1
    n_workers = parallelism(workers, len(parts))
    # first without the compact MIPs: the plan is judged by the gap of the whole
    problems = [p.problem for p in parts]
    solutions = _solve_parts(problems, [None] * len(parts), deadline, gap_tolerance, n_workers)
    joined = _join(problem, parts, solutions, gap_tolerance, n_workers, time.perf_counter() - t0)
    if joined.optimal or time.perf_counter() > deadline:
        return joined
    # then close the gap of every part whose own gap is above the tolerance (when none is,
    # neither is the whole's: every objective term is at least 0)
    open_parts = [k for k, sol in enumerate(solutions) if not sol.optimal]
    closed = _solve_parts(
        [problems[k] for k in open_parts],
        [solutions[k] for k in open_parts],
        deadline,
        gap_tolerance,
        n_workers,
    )
    for k, sol in zip(open_parts, closed, strict=True):
        solutions[k] = sol
    return _join(problem, parts, solutions, gap_tolerance, n_workers, time.perf_counter() - t0)


def _solve_parts(
    problems: list[AllocationProblem],
    starts: list[AllocationSolution | None],
    deadline: float,
    gap_tolerance: float,
    workers: int,
) -> list[AllocationSolution]:
    """:func:`_solve_part` for each problem, or :func:`_close_part` from its plan in
    ``starts``, in up to ``workers`` processes (:func:`planner.workers.map_tasks`)."""
    k = len(problems)
    if k == 0:
        return []
    # the largest first, so that the processes finish together (a large part started last
    # would run alone); the time limit is a wall-clock time that every process can read
    order = sorted(range(k), key=lambda i: -problems[i].n_applicants)
    end = time.time() + deadline - time.perf_counter()
    tasks = [(problems[i], starts[i], end, gap_tolerance) for i in order]
    solved = map_tasks(_solve_by, tasks, workers, label="part")
    solutions: list[AllocationSolution] = [solved[0]] * k
    for i, sol in zip(order, solved, strict=True):
        solutions[i] = sol
    return solutions


def _solve_by(
    problem: AllocationProblem, start: AllocationSolution | None, end: float, gap_tolerance: float
) -> AllocationSolution:
    """:func:`_solve_part` (or :func:`_close_part` from ``start``) until the wall-clock time
    ``end``."""
    seconds = max(end - time.time(), 1.0)
    if start is None:
        return _solve_part(problem, seconds, gap_tolerance)
    return _close_part(problem, seconds, gap_tolerance, start)


def _join(
    problem: AllocationProblem,
    parts: list[Part],
    solutions: list[AllocationSolution],
    gap_tolerance: float,
    workers: int,
    seconds: float,
) -> AllocationSolution:
    """The plan of the whole problem from the plans of its parts."""
    post_of = np.full(problem.n_applicants, -1, dtype=np.int64)
    bound = lp_bound = problem.constant()
    notes = [f"{len(parts)} independent parts of the pairing, solved in {workers} process(es)"]
    for part, sol in zip(parts, solutions, strict=True):
        placed = sol.post_of >= 0
        post_of[part.applicants[placed]] = part.posts[sol.post_of[placed]]
        bound += sol.bound - part.problem.constant()
        lp_bound += sol.stats.lp_bound - part.problem.constant()
        label = "+".join(part.problem.service_code.tolist())
        notes.extend(f"part {label}: {note}" for note in sol.notes)
    a = np.flatnonzero(post_of >= 0)
    arcs = ArcBuilder(problem).arcs_for_pairs(a, post_of[a])
    objective = problem.constant() + float(arcs.cost.sum())
    timed_out = any(s.stats.status == SolveStatus.TIME_LIMIT for s in solutions)
    # every part's bound is proven, so their sum is
    verdict = judge(objective, bound, gap_tolerance, timed_out=timed_out)
    build = max((s.stats.build_seconds for s in solutions), default=0.0)
    stats = SolveStats(
        build_seconds=build,
        solve_seconds=max(seconds - build, 0.0),
        pricing_rounds=sum(s.stats.pricing_rounds for s in solutions),
        columns=sum(s.stats.columns for s in solutions),
        lp_bound=lp_bound,
        status=verdict.status,
    )
    return AllocationSolution(post_of, arcs, objective, bound, verdict.optimal, stats, notes)


def _network_plan(
    problem: AllocationProblem,
    arcs: Arcs,
    bound: float,
    t0: float,
    gap_tolerance: float,
    notes: list[str],
    timed_out: bool = False,
) -> AllocationSolution:
    """A plan of ``arcs`` (made of min-cost flows, or of the compact MIP's flow), with its
    proven bound."""
    post_of = np.full(problem.n_applicants, -1, dtype=np.int64)
    post_of[arcs.a] = arcs.p
    objective = problem.constant() + float(arcs.cost.sum())
    if integral_objective(problem):
        bound = float(np.ceil(bound - 1e-6))  # every plan's value is an integer
    verdict = judge(objective, bound, gap_tolerance, timed_out=timed_out)
    seconds = time.perf_counter() - t0
    stats = SolveStats(seconds, 0.0, 0, len(arcs), bound, verdict.status)
    return AllocationSolution(post_of, arcs, objective, bound, verdict.optimal, stats, notes)


def _solve_part(
    problem: AllocationProblem, time_limit: float, gap_tolerance: float
) -> AllocationSolution:
    """A plan and its proven bound for a problem whose pairing is connected, by min-cost
    flows where they reach one, else by the column generation (its incumbent MIP limited to
    :data:`INCUMBENT_SECONDS`); :func:`_close_part` closes the gap where one is left."""
    t0 = time.perf_counter()
    run = _Run(problem, ArcBuilder(problem), t0, t0 + time_limit, gap_tolerance)
    # the relaxation without A3 pair seats and A4 on the compact network: a valid bound, and
    # when its plan keeps A3 and A4 too, the optimum
    relaxed_plan = solve_compact_flow(problem, run.builder)
    plan = _flow_plan(run, relaxed_plan)
    if plan is not None:
        return plan
    # the flows reach no plan (A3 broken): a plan and the LP bound from the column generation
    pricer = Pricer(run.builder)
    layout = lp.row_layout(problem)
    columns = _initial_columns(run, pricer, relaxed_plan.arcs)
    build_seconds = time.perf_counter() - t0
    pricing = _price(run, layout, pricer, columns)
    lower = _lower_bound(run, layout, pricer, pricing, relaxed_plan.objective)
    notes: list[str] = []
    mip, columns = _branch(run, layout, pricing, lower, relaxed_plan.arcs, notes)
    return _part_solution(run, mip, columns, pricing, lower, build_seconds, notes)


def _close_part(
    problem: AllocationProblem, time_limit: float, gap_tolerance: float, start: AllocationSolution
) -> AllocationSolution:
    """Close the gap of :func:`_solve_part`'s plan ``start`` by the exact MIP over the compact
    network (:mod:`planner.allocation.compact_mip`): the better of its plan and ``start``,
    with the better of the proven bounds."""
    t0 = time.perf_counter()
    builder = ArcBuilder(problem)
    mip = solve_compact_mip(
        problem,
        builder,
        build_compact_network(problem, builder),
        max(time_limit - (time.perf_counter() - t0), 1.0),
        gap_tolerance,
    )
    note = (
        f"exact MIP over the compact network ({mip.n_vars} arcs, {mip.side_rows} rows for "
        f"A3 and A4): {mip.status} in {mip.seconds:.1f} s"
    )
    arcs, objective = start.arcs, start.objective
    if mip.arcs is not None and not _side_feasible(problem, lp.usage(problem, mip.arcs)):
        log.error("the compact MIP's plan breaks A3 or A4; it is not used")
    elif mip.arcs is not None and mip.objective <= objective:
        arcs, objective = mip.arcs, mip.objective
    closed = _network_plan(
        problem,
        arcs,
        max(start.bound, min(mip.bound, objective)),
        t0,
        gap_tolerance,
        [*start.notes, note],
        timed_out=mip.status == "time-limit",
    )
    stats = dataclasses.replace(
        closed.stats,
        build_seconds=start.stats.build_seconds,
        solve_seconds=start.stats.solve_seconds + time.perf_counter() - t0,
        pricing_rounds=start.stats.pricing_rounds,
    )
    return dataclasses.replace(closed, stats=stats)


@dataclass(frozen=True, slots=True)
class _Run:
    """One connected problem being solved, and what every phase of :func:`_solve_part`
    reads."""

    problem: AllocationProblem
    builder: ArcBuilder
    t0: float
    deadline: float
    gap_tolerance: float


def _flow_plan(run: _Run, relaxed_plan: CompactFlow) -> AllocationSolution | None:
    """The plan of min-cost flows where it needs no column generation: the relaxed optimum
    when it keeps A3 and A4; else, where only A4 is broken, A4 priced into the flow
    (:mod:`planner.allocation.share`); None where the flows reach no plan."""
    problem, flow_arcs, flow_bound = run.problem, relaxed_plan.arcs, relaxed_plan.objective
    flow_used = lp.usage(problem, flow_arcs)
    if _side_feasible(problem, flow_used):
        note = "the min-cost flow optimum keeps the pair seats (A3) and the bachelor share (A4)"
        if relaxed_plan.from_previous:
            note += "; reached from the previous plan by shortest paths"
        return _network_plan(problem, flow_arcs, flow_bound, run.t0, run.gap_tolerance, [note])
    if not lp.pairs_ok(problem, flow_used):
        return None
    shared = solve_share(
        problem,
        run.builder,
        relaxed_plan.network,
        flow_arcs,
        flow_bound,
        absolute_gap(run.gap_tolerance, flow_bound),
        run.deadline,
    )
    if shared.arcs is None:
        return None
    note = f"the bachelor share (A4) priced into the min-cost flow: {shared.flows} more flows"
    if shared.flows_from_previous:
        note += f" ({shared.flows_from_previous} reached from the previous plan)"
    return _network_plan(problem, shared.arcs, shared.bound, run.t0, run.gap_tolerance, [note])


def _initial_columns(run: _Run, pricer: Pricer, flow_arcs: Arcs) -> Arcs:
    """The first columns: the cheapest arcs of every preference, and the flow's arcs."""
    problem = run.problem
    zero_post, zero_app = np.zeros(problem.n_posts), np.zeros(problem.n_applicants)
    zero_pair = np.zeros(len(problem.pair_cap))
    columns, _, _ = pricer.candidates(
        zero_post, zero_app, zero_pair, 0.0, max_per_preference=INITIAL_PER_PREFERENCE
    )
    return _merge(columns, flow_arcs, problem.n_posts)


class _Pricing(NamedTuple):
    """The last LP of the column generation, its columns, the rounds, and whether it is the
    LP optimum over all arcs (no arc priced out)."""

    relaxed: lp.LPSolution
    columns: Arcs
    rounds: int
    complete: bool


def _price(run: _Run, layout: lp.RowLayout, pricer: Pricer, columns: Arcs) -> _Pricing:
    """Column generation: solve the LP over the columns and add the arcs that price out,
    until none does or the time is up."""
    problem, n_p, deadline = run.problem, run.problem.n_posts, run.deadline
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
            return _Pricing(relaxed, columns, rounds, False)
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
            return _Pricing(relaxed, columns, rounds, True)
        if time.perf_counter() > deadline:
            # keep the columns the last LP solution belongs to
            return _Pricing(relaxed, columns, rounds, False)
        columns = _merge(columns, new, n_p)


def _lower_bound(
    run: _Run, layout: lp.RowLayout, pricer: Pricer, pricing: _Pricing, flow_bound: float
) -> float:
    """The proven lower bound: the LP optimum when the pricing converged, else the better of
    the flow's bound and the Lagrangian bound of the last LP's duals."""
    relaxed = pricing.relaxed
    if pricing.complete:
        return relaxed.objective
    if relaxed.optimal:
        return max(flow_bound, _lagrangian_bound(run.problem, layout, pricer, relaxed.duals))
    return flow_bound


def _branch(
    run: _Run,
    layout: lp.RowLayout,
    pricing: _Pricing,
    lower: float,
    flow_arcs: Arcs,
    notes: list[str],
) -> tuple[lp.LPSolution, Arcs]:
    """An integral plan over the columns: the LP vertex when it is integral, else the
    incumbent MIP."""
    relaxed, columns = pricing.relaxed, pricing.columns
    x = relaxed.x if relaxed.feasible else np.zeros(len(columns))
    if pricing.complete and np.all(np.abs(x - np.round(x)) < 1e-9):
        # the LP vertex is integral: it is a plan and the LP value proves it optimal
        notes.append("the LP optimum is integral (no branching needed)")
        return relaxed, columns
    mip = _incumbent(
        run.problem,
        layout,
        columns,
        relaxed,
        run.deadline,
        notes,
        flow_arcs,
        INCUMBENT_SECONDS,
        absolute_gap(run.gap_tolerance, lower),
    )
    return mip, columns


def _part_solution(
    run: _Run,
    mip: lp.LPSolution,
    columns: Arcs,
    pricing: _Pricing,
    lower: float,
    build_seconds: float,
    notes: list[str],
) -> AllocationSolution:
    """The plan of the MIP's columns with its proven bound, judged."""
    problem = run.problem
    bound = lower
    if pricing.complete and mip.optimal and mip.status != "DIVE":
        bound = max(lower, min(mip.bound, mip.objective))
    if integral_objective(problem):
        bound = float(np.ceil(bound - 1e-6))  # every plan's value is an integer
    chosen = np.flatnonzero(mip.x > 0.5) if mip.feasible else np.zeros(0, dtype=np.int64)
    used = columns.take(chosen)
    post_of = np.full(problem.n_applicants, -1, dtype=np.int64)
    post_of[used.a] = used.p
    objective = problem.constant() + float(used.cost.sum())
    verdict = judge(
        objective,
        bound,
        run.gap_tolerance,
        converged=pricing.complete,
        timed_out=time.perf_counter() > run.deadline,
    )
    stats = SolveStats(
        build_seconds=build_seconds,
        solve_seconds=time.perf_counter() - run.t0 - build_seconds,
        pricing_rounds=pricing.rounds,
        columns=len(columns),
        lp_bound=lower,
        status=verdict.status,
    )
    return AllocationSolution(post_of, used, objective, bound, verdict.optimal, stats, notes)
