"""Certified-optimal allocation: min-cost flows, price-and-branch, and an exact compact MIP.

0. **Relax**: the min-cost flow on the compact network without A3 seats and A4
   (:mod:`planner.allocation.compact`) is a lower bound; if its plan keeps A3 and A4 it is
   optimal. Where only A4 is broken, A4 is priced into the flow
   (:mod:`planner.allocation.share`): a Lagrangian bound and a plan.
1. **Price** (where the flow breaks A3; :mod:`planner.allocation.column_generation`): solve the LP relaxation of the model of
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

import numpy as np

from planner.allocation import lp
from planner.allocation.arcs import ArcBuilder, Arcs, integral_objective
from planner.allocation.column_generation import (
    Pricing,
    branch,
    initial_columns,
    lower_bound,
    price,
)
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
from planner.frozen import Frozen
from planner.workers import default_workers, map_tasks, parallelism

log = logging.getLogger(__name__)

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
class AllocationSolution(Frozen):
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


def _side_feasible(problem: AllocationProblem, used: lp.Usage) -> bool:
    """Whether a plan (its :func:`lp.usage`) that keeps the network rules also keeps A3 pair
    seats and A4."""
    if not lp.pairs_ok(problem, used):
        return False
    return bool(np.all(lp.share_ok(problem, used.recruit, used.recruit_bachelors)))


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
    :data:`~planner.allocation.column_generation.INCUMBENT_SECONDS`); :func:`_close_part` closes the gap where one is left."""
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
    columns = initial_columns(problem, pricer, relaxed_plan.arcs)
    build_seconds = time.perf_counter() - t0
    pricing = price(problem, layout, pricer, columns, run.deadline)
    lower = lower_bound(problem, layout, pricer, pricing, relaxed_plan.objective)
    notes: list[str] = []
    mip, columns = branch(
        problem, layout, pricing, lower, relaxed_plan.arcs, notes, run.deadline, gap_tolerance
    )
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


def _part_solution(
    run: _Run,
    mip: lp.LPSolution,
    columns: Arcs,
    pricing: Pricing,
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
