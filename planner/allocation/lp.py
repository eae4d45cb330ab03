"""The allocation model over a set of arcs, as a sparse matrix for OR-Tools' model builder.

Rows (all ``<=``), one family per rule of section 2:

- A1 applicant: ``sum_p x[a,p] <= 1``; post: ``sum_a x[a,p] <= open seats``;
- A2 bucket: ``sum x <= quota`` of each county's general and special-action bucket (barred
  counties have no usable post, so their buckets never appear);
- A3 pair: ``sum x <= pair seats`` where the pair has a seat count (pairing itself is an
  eligibility filter of the arcs);
- A4 bachelor share of recruiting province r: ``sum x (n - d * bachelor) <= 0`` with the share
  written as the fraction n/d, i.e. ``n * placed <= d * bachelors``;
- A6 service province: ``sum x <= dispatch target``; recruiting province: ``sum x <= recruitment
  target`` (only where the scenario gives a target).

Variables ``x[a,p]`` in [0, 1], integral in the MIP; objective: the arc costs plus the constant
of :meth:`AllocationProblem.constant`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder_helper as mbh

from planner.allocation.arcs import Arcs
from planner.allocation.problem import UNBOUNDED, AllocationProblem
from planner.scenario import share_fraction as written_share


@dataclass(frozen=True, slots=True)
class RowLayout:
    """Where each row family starts; ``-1`` entries mark rows left out (unbounded)."""

    n_rows: int
    app: np.ndarray
    post: np.ndarray
    bucket: np.ndarray
    service: np.ndarray
    recruit: np.ndarray
    pair: np.ndarray
    a4: np.ndarray
    a4_coef: np.ndarray
    """Per applicant: its coefficient in its recruiting province's A4 row."""
    rhs: np.ndarray


@functools.cache
def share_fraction(share: float) -> Fraction:
    """The bachelor share as the fraction it was written as (0.85 -> 17/20; a validated
    scenario's share has at most four decimals, :func:`planner.scenario.share_fraction`)."""
    exact = written_share(share)
    return exact if exact is not None else Fraction(str(share)).limit_denominator(10_000)


def share_ok(problem: AllocationProblem, placed: Any, bachelors: Any) -> Any:
    """A4: ``bachelors >= share x placed`` in exact integers (element-wise for arrays)."""
    frac = share_fraction(problem.rules.undergraduate_min_share)
    return frac.numerator * placed <= frac.denominator * bachelors


@dataclass(frozen=True, slots=True)
class Usage:
    """How much of each capacity a plan takes (A1, A2, A3, A4, A6)."""

    post: np.ndarray
    bucket: np.ndarray
    service: np.ndarray
    recruit: np.ndarray
    recruit_bachelors: np.ndarray
    pair: np.ndarray


def usage(problem: AllocationProblem, arcs: Arcs) -> Usage:
    """The counts per post, bucket, service province, recruiting province and pair."""
    r = problem.app_r[arcs.a]
    n_r = len(problem.recruit_code)
    return Usage(
        post=np.bincount(arcs.p, minlength=problem.n_posts),
        bucket=np.bincount(problem.post_bucket[arcs.p], minlength=len(problem.bucket_cap)),
        service=np.bincount(problem.post_s[arcs.p], minlength=len(problem.service_code)),
        recruit=np.bincount(r, minlength=n_r),
        recruit_bachelors=np.bincount(r[problem.app_bachelor[arcs.a]], minlength=n_r),
        pair=np.bincount(
            problem.pair_index[r, problem.post_s[arcs.p]], minlength=len(problem.pair_cap)
        ),
    )


def pairs_ok(problem: AllocationProblem, used: Usage) -> bool:
    """Whether a plan's usage (:func:`usage`) keeps every pair's seat count (A3)."""
    return bool(np.all(used.pair <= problem.pair_cap))


def row_layout(problem: AllocationProblem) -> RowLayout:
    """Number the rows of every family; unbounded rows are left out."""
    rhs: list[np.ndarray] = []
    n = 0

    def family(caps: np.ndarray, keep: np.ndarray) -> np.ndarray:
        nonlocal n
        idx = np.full(len(caps), -1, dtype=np.int64)
        k = int(keep.sum())
        idx[keep] = np.arange(n, n + k)
        rhs.append(caps[keep].astype(float))
        n += k
        return idx

    app = family(np.ones(problem.n_applicants), np.ones(problem.n_applicants, dtype=bool))
    post = family(problem.post_open, problem.post_usable)
    bucket = family(problem.bucket_cap, problem.bucket_cap > 0)
    service = family(problem.service_cap, problem.service_cap < UNBOUNDED)
    recruit = family(problem.recruit_cap, problem.recruit_cap < UNBOUNDED)
    pair = family(problem.pair_cap, problem.pair_cap < UNBOUNDED)
    frac = share_fraction(problem.rules.undergraduate_min_share)
    n_r = len(problem.recruit_code)
    a4 = family(np.zeros(n_r), np.full(n_r, frac > 0))
    a4_coef = np.where(
        problem.app_bachelor, frac.numerator - frac.denominator, frac.numerator
    ).astype(float)
    return RowLayout(n, app, post, bucket, service, recruit, pair, a4, a4_coef, np.concatenate(rhs))


def matrix(problem: AllocationProblem, layout: RowLayout, arcs: Arcs) -> sp.csr_matrix:
    """Constraint matrix of the arcs (rows of ``layout``, one column per arc)."""
    cols = np.arange(len(arcs))
    r = problem.app_r[arcs.a]
    pairs = problem.pair_index[np.maximum(r, 0), problem.post_s[arcs.p]]
    entries = [
        (layout.app[arcs.a], 1.0),
        (layout.post[arcs.p], 1.0),
        (layout.bucket[problem.post_bucket[arcs.p]], 1.0),
        (layout.service[problem.post_s[arcs.p]], 1.0),
        (layout.recruit[r], 1.0),
        (layout.pair[pairs], 1.0),
        (layout.a4[r], layout.a4_coef[arcs.a]),
    ]
    rows, cc, data = [], [], []
    for row, coef in entries:
        keep = row >= 0
        rows.append(row[keep])
        cc.append(cols[keep])
        data.append(np.broadcast_to(np.asarray(coef, dtype=float), row.shape)[keep])
    return sp.csr_matrix(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cc))),
        shape=(layout.n_rows, len(arcs)),
    )


@dataclass(frozen=True, slots=True)
class LPSolution:
    """What one solve returned."""

    status: str
    optimal: bool
    feasible: bool
    objective: float
    bound: float
    x: np.ndarray
    duals: np.ndarray
    seconds: float


def solve(
    problem: AllocationProblem,
    layout: RowLayout,
    arcs: Arcs,
    *,
    integral: bool,
    time_limit: float,
    hint: np.ndarray | None = None,
    abs_gap: float = 0.0,
) -> LPSolution:
    """Solve the LP with GLOP (or the MIP, with ``integral``, with SCIP) over ``arcs``.

    A MIP stops when its incumbent is within ``abs_gap`` of its bound.

    Measured choices: GLOP, OR-Tools' own simplex, gives the duals the pricing needs (HiGHS'
    duals come out of OR-Tools' model builder with the wrong sign and value); SCIP takes a
    solution hint (HiGHS crashed on one) and closed the test MIPs faster.
    """
    model: Any = mbh.ModelBuilderHelper()  # OR-Tools' stubs mistype numpy arguments
    n = len(arcs)
    model.fill_model_from_sparse_data(
        np.zeros(n),
        np.ones(n),
        arcs.cost.astype(float),
        np.full(layout.n_rows, -np.inf),
        layout.rhs,
        matrix(problem, layout, arcs),
    )
    model.set_objective_offset(problem.constant())
    if integral:
        for i in range(n):
            model.set_var_integrality(i, True)
        if hint is not None:
            for k in np.flatnonzero(hint > 0.5).tolist():
                model.add_hint(k, 1.0)
    solver = mbh.ModelSolverHelper("scip" if integral else "glop")
    solver.set_time_limit_in_seconds(max(time_limit, 0.1))
    if integral and abs_gap > 0:
        solver.set_solver_specific_parameters(f"limits/absgap = {abs_gap:.6f}")
    solver.solve(model)
    status = solver.status()
    name = getattr(status, "name", str(status))
    has = solver.has_solution()
    x = np.asarray(solver.variable_values()) if has else np.zeros(n)
    duals = np.asarray(solver.dual_values()) if has and not integral else np.zeros(layout.n_rows)
    obj = solver.objective_value() if has else float("inf")
    bound = solver.best_objective_bound() if integral else obj
    return LPSolution(
        status=name,
        optimal=name == "OPTIMAL",
        feasible=has,
        objective=float(obj),
        bound=float(bound),
        x=x,
        duals=duals,
        seconds=float(solver.wall_time()),
    )


def dual_parts(
    problem: AllocationProblem, layout: RowLayout, duals: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split the duals into the pricing's post, applicant and pair parts."""

    def pick(idx: np.ndarray) -> np.ndarray:
        return np.where(idx >= 0, duals[np.maximum(idx, 0)], 0.0)

    post = pick(layout.post)
    bucket = pick(layout.bucket)
    service = pick(layout.service)
    post_dual = post + np.where(
        problem.post_bucket >= 0, bucket[np.maximum(problem.post_bucket, 0)], 0.0
    )
    post_dual += np.where(problem.post_s >= 0, service[np.maximum(problem.post_s, 0)], 0.0)
    r = np.maximum(problem.app_r, 0)
    app_dual = pick(layout.app) + np.where(
        problem.app_r >= 0, pick(layout.recruit)[r] + pick(layout.a4)[r] * layout.a4_coef, 0.0
    )
    return post_dual, app_dual, pick(layout.pair)
