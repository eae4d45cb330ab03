"""The bachelor share (A4) priced into the network: a Lagrangian bound, and a plan from it.

A4 for recruiting province r is the row ``n x placed_r - d x bachelors_r <= 0`` (share
``n / d``, 17/20): coefficient ``n`` for a placed non-bachelor, ``n - d`` for a bachelor
(:func:`~planner.allocation.compact.share_weight`). Pricing the rows with ``mu_r >= 0`` on
the applicants' arcs gives

    L(mu) = min over the network of  c x + sum_r mu_r row_r(x)

a lower bound of every plan that keeps A4 (its row terms are at most 0). The network without
A3 and A4 is totally unimodular, so ``max L`` is the LP bound of the model with A4 alone.

1. **Search.** In one ``mu_r``, ``L`` is concave and piecewise linear, and every flow ``x``
   gives a line ``c x + mu row(x)`` above it. A flow that breaks the row (slope > 0) and one
   that keeps it (slope < 0) meet at some ``mu``; ``L`` there either touches both lines (the
   maximum) or gives a new line nearer to it: Newton's method on a piecewise linear function,
   a handful of flows. Rows are searched one after another.
2. **Recover.** At the maximiser the optimal flows range from one that breaks the row to one
   that keeps it with room to spare; the plan wanted lies in between, where the row is just
   kept. A group node caps r's non-bachelors at ``K``, and among the optimal flows the one
   leaning to non-bachelors is taken: it keeps the row with the least room. ``K`` starts where
   the LP's mix of the two extreme flows keeps the row exactly, and is lowered while the row
   is broken.

The plan's gap to ``max L`` is usually a few units; the caller decides whether it is closed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from planner.allocation import lp
from planner.allocation.arcs import ArcBuilder, Arcs
from planner.allocation.compact import CompactNetwork, share_weight, split_hubs
from planner.allocation.flow import solve_flow
from planner.allocation.network import GroupCap, Price
from planner.allocation.problem import AllocationProblem

MAX_DENOMINATOR = 1_000
"""Multipliers are kept to fractions with at most this denominator (the costs stay small
integers for the solver; any multiplier gives a valid bound)."""
MAX_FLOWS = 24
"""At most this many min-cost flows in all."""
START_MU = Fraction(1)
"""The first multiplier tried for a broken row, doubled until the row is kept."""


@dataclass(frozen=True, slots=True)
class SharePlan:
    """A plan that keeps A4 (``arcs``, or None), its value, and the Lagrangian bound."""

    arcs: Arcs | None
    objective: float
    bound: float
    flows: int
    seconds: float
    flows_from_previous: int = 0
    """Of the flows, those reached from the previous plan (a re-plan)."""


@dataclass(frozen=True, slots=True)
class _Eval:
    mu: dict[int, Fraction]
    value: float
    """L(mu): the priced flow's value, a lower bound."""
    objective: float
    """The flow's plain value."""
    rows: np.ndarray
    """Each recruiting province's A4 row at the flow (> 0: broken)."""
    non_bachelors: np.ndarray
    arcs: Arcs


class ShareSearch:
    """The search and the recovery of the module docstring for one problem."""

    def __init__(
        self, problem: AllocationProblem, builder: ArcBuilder, net: CompactNetwork
    ) -> None:
        self.problem, self.builder, self.net = problem, builder, net
        self.weight = share_weight(problem).astype(np.int64)
        self.numerator = int(lp.share_fraction(problem.rules.undergraduate_min_share).numerator)
        self.flows = 0
        self.flows_from_previous = 0
        self.best_bound = -math.inf

    def evaluate(
        self,
        mu: dict[int, Fraction],
        tiebreak: np.ndarray | None = None,
        groups: GroupCap | None = None,
    ) -> _Eval:
        """One priced min-cost flow."""
        problem = self.problem
        price = None
        if any(m != 0 for m in mu.values()):
            den = math.lcm(*(m.denominator for m in mu.values()))
            per_r = np.zeros(len(problem.recruit_code), dtype=np.int64)
            for r, m in mu.items():
                per_r[r] = m.numerator * (den // m.denominator)
            price = Price(per_r[np.maximum(problem.app_r, 0)] * self.weight, den)
        result = solve_flow(
            problem, self.net.direct, self.net.hubs, tiebreak=tiebreak, price=price, groups=groups
        )
        self.flows += 1
        self.flows_from_previous += result.from_previous
        if groups is None:  # a capped network is a restriction: its value bounds nothing
            self.best_bound = max(self.best_bound, result.value)
        arcs = split_hubs(
            self.builder, self.net, result.hub_in, result.hub_out, result.direct, result.hub_mid
        )
        return self.judge(mu, result.value, result.objective, arcs)

    def judge(self, mu: dict[int, Fraction], value: float, objective: float, arcs: Arcs) -> _Eval:
        """A flow's A4 rows and non-bachelors per recruiting province."""
        problem = self.problem
        r = problem.app_r[arcs.a]
        n_r = len(problem.recruit_code)
        rows = np.bincount(r, weights=self.weight[arcs.a], minlength=n_r).astype(np.int64)
        non = np.bincount(r[~problem.app_bachelor[arcs.a]], minlength=n_r)
        return _Eval(dict(mu), value, objective, rows, non, arcs)

    def search(self, start: _Eval, deadline: float) -> tuple[_Eval, dict[int, tuple[_Eval, _Eval]]]:
        """Raise each broken row's multiplier to the maximiser of L (one row at a time).

        Returns the last evaluation and, per searched row, the two flows whose lines meet
        at its multiplier (one breaking and one keeping the row), for the recovery."""
        current = start
        brackets: dict[int, tuple[_Eval, _Eval]] = {}
        for _ in range(2):  # a second sweep for rows that broke while others were priced
            broken = [int(r) for r in np.flatnonzero(current.rows > 0) if int(r) not in brackets]
            if not broken:
                break
            for r in broken:
                if self.flows >= MAX_FLOWS or time.perf_counter() > deadline:
                    return current, brackets
                current, brackets[r] = self._search_row(r, current, deadline)
        return current, brackets

    def _search_row(self, r: int, lo: _Eval, deadline: float) -> tuple[_Eval, tuple[_Eval, _Eval]]:
        """Newton's method on L in ``mu_r``, from a flow that breaks row r."""

        def line(e: _Eval, m: Fraction) -> float:
            return e.value + float(m - e.mu.get(r, Fraction(0))) * float(e.rows[r])

        if lo.rows[r] <= 0:  # kept since: pricing another row moved the applicants
            return lo, (lo, lo)
        mu = dict(lo.mu)
        step = max(mu.get(r, Fraction(0)) * 2, START_MU)
        hi = lo
        while hi.rows[r] > 0:  # find a multiplier at which the row is kept
            if self.flows >= MAX_FLOWS or time.perf_counter() > deadline or step > 1024:
                return hi, (lo, hi)
            mu[r] = step
            hi = self.evaluate(mu)
            if hi.rows[r] > 0:
                lo, step = hi, step * 2
        best = hi if hi.value >= lo.value else lo
        while self.flows < MAX_FLOWS and time.perf_counter() < deadline:
            m_lo, m_hi = lo.mu.get(r, Fraction(0)), hi.mu[r]
            # where the two lines meet
            a_lo = Fraction(lo.value).limit_denominator(10**9) - m_lo * int(lo.rows[r])
            a_hi = Fraction(hi.value).limit_denominator(10**9) - m_hi * int(hi.rows[r])
            meet = (a_hi - a_lo) / (int(lo.rows[r]) - int(hi.rows[r]))
            meet = meet.limit_denominator(MAX_DENOMINATOR)
            if not m_lo < meet < m_hi:
                break
            mu[r] = meet
            new = self.evaluate(mu)
            if new.value > best.value:
                best = new
            if new.value >= min(line(lo, meet), line(hi, meet)) - 1e-9 or new.rows[r] == 0:
                break  # L touches the lines: the maximum (up to the denominator's grid)
            if new.rows[r] > 0:
                lo = new
            else:
                hi = new
        return best, (lo, hi)

    def recover(
        self, at: _Eval, brackets: dict[int, tuple[_Eval, _Eval]], tolerance: float, deadline: float
    ) -> _Eval | None:
        """The best plan that keeps every A4 row, found by capping non-bachelors at the
        multipliers of ``at``; stops when its value is within ``tolerance`` of the bound."""
        problem = self.problem
        caps: dict[int, int] = {}
        for r, (lo, hi) in brackets.items():
            g_lo, g_hi = int(lo.rows[r]), int(hi.rows[r])
            if g_lo > 0 >= g_hi:  # the mix of the two flows that keeps the row exactly
                t = g_lo / (g_lo - g_hi)
                caps[r] = math.floor((1 - t) * lo.non_bachelors[r] + t * hi.non_bachelors[r])
            else:
                caps[r] = int(at.non_bachelors[r])
        best: _Eval | None = None
        loosened = False
        while self.flows < MAX_FLOWS and time.perf_counter() < deadline:
            for r in np.flatnonzero(at.rows > 0).tolist():  # newly broken rows are capped too
                caps.setdefault(int(r), int(at.non_bachelors[r]))
            watched = np.zeros(len(problem.recruit_code), dtype=bool)
            watched[list(caps)] = True
            mine = (problem.app_r >= 0) & watched[np.maximum(problem.app_r, 0)]
            tiebreak = np.where(mine, -self.weight, self.weight)  # lean to non-bachelors
            rows = list(caps)
            group = np.full(problem.n_applicants, -1, dtype=np.int64)
            for g, r in enumerate(rows):
                group[(problem.app_r == r) & ~problem.app_bachelor] = g
            capped = GroupCap(group, np.asarray([max(caps[r], 0) for r in rows], dtype=np.int64))
            e = self.evaluate(at.mu, tiebreak=tiebreak, groups=capped)
            broken = np.flatnonzero(e.rows > 0)
            if len(broken) == 0 and lp.pairs_ok(problem, lp.usage(problem, e.arcs)):
                if best is None or e.objective < best.objective:
                    best = e
                if best.objective - self.best_bound <= tolerance:
                    break
                # room left in a row: allow as many more non-bachelors as it takes, once
                loose = {r: -int(e.rows[r]) // self.numerator for r in rows}
                if loosened or not any(loose.values()):
                    break
                loosened = True
                for r, more in loose.items():
                    caps[r] = int(e.non_bachelors[r]) + more
            elif len(broken) == 0:
                break  # the pair seats (A3) are broken: not a network question
            else:
                for r in broken.tolist():
                    excess = -(-int(e.rows[r]) // self.numerator)
                    caps[int(r)] = (
                        min(caps.get(int(r), int(e.non_bachelors[r])), int(e.non_bachelors[r]))
                        - excess
                    )
            at = e if len(broken) else at
        return best


def solve_share(
    problem: AllocationProblem,
    builder: ArcBuilder,
    net: CompactNetwork,
    first: Arcs,
    first_objective: float,
    tolerance: float,
    deadline: float,
) -> SharePlan:
    """A plan keeping A4 and the Lagrangian bound, from the unpriced flow ``first``."""
    t0 = time.perf_counter()
    search = ShareSearch(problem, builder, net)
    start = search.judge({}, first_objective, first_objective, first)
    search.best_bound = first_objective
    at, brackets = search.search(start, deadline)
    plan = search.recover(at, brackets, tolerance, deadline)
    seconds = time.perf_counter() - t0
    warm = search.flows_from_previous
    if plan is None:
        return SharePlan(None, math.inf, search.best_bound, search.flows, seconds, warm)
    return SharePlan(plan.arcs, plan.objective, search.best_bound, search.flows, seconds, warm)
