"""Why an applicant is where the plan put him, and what each of his preferences would cost.

:func:`explain` answers an appeal ("why not my first choice?") with exact numbers: for each
preferred county or province the best post there for him (the eligible post where his own
placement costs least), whether pinning him there is feasible, and ``extra_cost``, the
certified optimum with that pin less the plan's objective (the same solve as
``planner.allocate(sc, params, pins=Pins(assign={aid: post}), baseline=plan)``: only the
part of the pairing he belongs to is solved again). ``reason_code`` says why the optimum did
not choose it, read off the plan: the seat went to a cheaper applicant (named, with the
difference of their placements there), the county's quota bucket is full (A2), the pair's
seats are used up (A3), the bachelor share (A4), the dispatch or recruitment target (A6), the
degree or major requirement or the health check (A5), no post in that area, or only his own
placement there costs more; or an equally good plan places him there (a tie).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from planner.allocation.account import UNPLACED
from planner.allocation.arcs import OUTSIDE_RANK, ArcBuilder, Arcs
from planner.allocation.lp import share_ok, usage
from planner.allocation.pinning import solve_pinned
from planner.allocation.problem import UNBOUNDED, AllocationProblem
from planner.allocation.solver import AllocationSolution
from planner.allocation.status import DEFAULT_TIME_LIMIT
from planner.geo import is_province_code, province_of
from planner.i18n import N_, Text
from planner.issues import ScenarioError
from planner.pins import Pins

if TYPE_CHECKING:
    from planner.plan import Plan

REASONS: dict[str, str] = {
    "placed": N_("the applicant is placed here"),
    "seat-taken": N_(
        "the seat went to {other}; giving it to this applicant instead costs the plan {delta} more"
    ),
    "quota-full": N_("the county's quota for this category is filled (A2)"),
    "pair-seats": N_("the seats of the pairing {pair} are used up (A3)"),
    "bachelor-share": N_(
        "one more non-bachelor from {province} would break the bachelor share (A4)"
    ),
    "dispatch-target": N_("{province} reached its dispatch target (A6)"),
    "recruit-target": N_("{province} reached its recruitment target (A6)"),
    "degree": N_("every post there requires a higher degree (A5)"),
    "major": N_("every post there requires another major (A5)"),
    "health": N_("the applicant did not pass the health check (A5)"),
    "pairing": N_("the applicant's province is not paired with this province (A3)"),
    "no-post": N_("no post there takes new volunteers"),
    "costlier": N_("placing the applicant there costs the plan more than where he is"),
    "tie": N_("an equally good plan places the applicant there (a tie the solver broke)"),
    "unplace-costlier": N_("leaving the applicant unplaced costs the plan more"),
    "infeasible": N_("no plan keeps every rule with the applicant there"),
}
"""Reason codes of an alternative and their text (a template, in the catalogue)."""

TIE = 1e-6
"""An alternative within this of the plan's objective is a tie: an equally good plan."""

ALTERNATIVE_COLUMNS = (
    "choice",
    "county_code",
    "post_id",
    "feasible",
    "extra_cost",
    "reason_code",
    "reason",
)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why an applicant is where the plan put him (:func:`explain`).

    Attributes
    ----------
    applicant_id, post_id, county_code : str
        The applicant and his post and county ("" when unplaced).
    preference_rank : int
        1-5, 0 outside his preferences or when unplaced.
    cost : float
        What his placement adds to the objective (0 when unplaced).
    terms : mapping
        That cost by objective term (relay, quota, preference, major, transport, replan).
    unplaced_reason : str
        When unplaced: the reason code of ``unassigned.csv``.
    alternatives : DataFrame
        One row per preference (``pref_1`` ...) and one ``unplaced`` row: ``choice``,
        ``county_code``, ``post_id``, ``feasible``, ``extra_cost``, ``reason_code``,
        ``reason``.
    """

    applicant_id: str
    post_id: str
    county_code: str
    preference_rank: int
    cost: float
    terms: Mapping[str, float]
    unplaced_reason: str
    alternatives: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """For machines (``planner explain --json``, the API)."""
        rows = self.alternatives.replace({np.nan: None}).to_dict(orient="records")
        return {
            "applicant_id": self.applicant_id,
            "post_id": self.post_id,
            "county_code": self.county_code,
            "preference_rank": self.preference_rank,
            "cost": self.cost,
            "terms": dict(self.terms),
            "unplaced_reason": self.unplaced_reason,
            "alternatives": rows,
        }


@dataclass(frozen=True, slots=True)
class Limits:
    """How each alternative is solved (those of :class:`planner.AllocationParams`)."""

    time_limit: float = DEFAULT_TIME_LIMIT
    gap_tolerance: float = 1e-4
    workers: int | None = None


def explain(plan: Plan, applicant_id: str, limits: Limits | None = None) -> Explanation:
    """Why ``applicant_id`` is where ``plan`` put him; see the module docstring.

    Raises
    ------
    KeyError
        When the scenario has no such applicant.
    """
    problem = plan.problem
    where = np.flatnonzero(problem.applicant_id == applicant_id)
    if not len(where):
        raise KeyError(f"no applicant {applicant_id!r} in the plan's scenario")
    a = int(where[0])
    sol = plan.solution
    builder = ArcBuilder(problem)
    mine = builder.arcs(np.asarray([a]))
    p = int(sol.post_of[a])
    own = mine.take(np.flatnonzero(mine.p == p)) if p >= 0 else None
    limits = limits or Limits()
    rows = [
        _alternative(plan, mine, a, j, str(code), limits)
        for j, code in enumerate(problem.app_prefs[a])
        if str(code)
    ]
    rows.append(_unplaced_row(plan, a, limits))
    reason = plan.account.unassigned_reason.get(a)
    return Explanation(
        applicant_id=applicant_id,
        post_id=str(problem.post_id[p]) if p >= 0 else "",
        county_code=str(problem.post_county[p]) if p >= 0 else "",
        preference_rank=int(own.rank[0]) if own is not None and own.rank[0] < OUTSIDE_RANK else 0,
        cost=float(own.cost[0]) if own is not None else 0.0,
        terms=_terms(problem, own) if own is not None else {},
        unplaced_reason=reason.code if reason is not None else "",
        alternatives=pd.DataFrame(rows, columns=list(ALTERNATIVE_COLUMNS)),
    )


def _terms(problem: AllocationProblem, arc: Arcs) -> dict[str, float]:
    """The cost of one placement by objective term."""
    w = problem.weights
    p, a, rank = int(arc.p[0]), int(arc.a[0]), int(arc.rank[0])
    return {
        "relay_empty": -float(w.relay_empty) * bool(problem.post_relay[p]),
        "quota_unfilled": -float(w.quota_unfilled),
        "preference": float(
            w.outside_preference if rank == OUTSIDE_RANK else w.preference_rank * (rank - 1)
        ),
        "major_mismatch": float(w.major_mismatch) * bool(arc.mismatch[0]),
        "transport_subsidy": float(w.transport_subsidy_per_100cny * arc.subsidy_cny[0] / 100),
        "replan_moves": -float(w.replan_move) * bool(problem.app_prev_post[a] == p),
    }


def _row(
    choice: str, code: str, post: str, feasible: bool, extra: float, reason: str, **fields: Any
) -> dict[str, Any]:
    return {
        "choice": choice,
        "county_code": code,
        "post_id": post,
        "feasible": feasible,
        "extra_cost": extra,
        "reason_code": reason,
        "reason": Text(REASONS.get(reason, UNPLACED.get(reason, reason)), fields).render(),
    }


REFUSED = {"A1": "seat-taken", "A2": "quota-full", "A3": "pair-seats", "A4": "bachelor-share"}
"""The reason code of an alternative whose pin is refused by this rule (else infeasible)."""


def _price(plan: Plan, pins: Pins, limits: Limits) -> AllocationSolution | str:
    """The certified optimum under ``pins`` from the plan (its touched part solved again), or
    the reason code when the pins are refused."""
    try:
        return solve_pinned(
            plan.problem,
            pins,
            limits.time_limit,
            limits.gap_tolerance,
            limits.workers,
            plan.solution,
        ).solution
    except ScenarioError as exc:
        rules = {i.rule for i in exc.report.errors}
        return next((REFUSED[r] for r in sorted(rules) if r in REFUSED), "infeasible")


def _area_posts(problem: AllocationProblem, code: str) -> np.ndarray:
    """The posts in a county, or in a province."""
    if is_province_code(code):
        return np.flatnonzero(
            np.asarray([province_of(str(c)) for c in problem.post_county]) == code
        )
    return np.flatnonzero(problem.post_county == code)


def _alternative(
    plan: Plan, mine: Arcs, a: int, j: int, code: str, limits: Limits
) -> dict[str, Any]:
    """The row of preference ``j`` (area ``code``): its best post for the applicant, the
    exact price of pinning him there and why the optimum did not."""
    problem, sol = plan.problem, plan.solution
    choice = f"pref_{j + 1}"
    posts = _area_posts(problem, code)
    usable = posts[problem.post_usable[posts]]
    if not problem.app_health[a]:
        return _row(choice, code, "", False, np.nan, "health")
    if not len(usable):
        return _row(choice, code, "", False, np.nan, "no-post")
    r, s = int(problem.app_r[a]), int(problem.post_s[usable[0]])
    if r < 0 or s < 0 or problem.pair_index[r, s] < 0:
        return _row(choice, code, "", False, np.nan, "pairing")
    here = mine.take(np.flatnonzero(np.isin(mine.p, usable)))
    if not len(here):
        # "degree" when some post there is closed to him by the degree alone
        req = problem.post_req_mask[usable]
        major_ok = (req == 0) | ((req & problem.app_major_bit[a]) != 0)
        only_degree = major_ok & (problem.app_degree[a] < problem.post_min_degree[usable])
        return _row(choice, code, "", False, np.nan, "degree" if only_degree.any() else "major")
    best = int(np.lexsort((here.p, here.cost))[0])
    p = int(here.p[best])
    post_id = str(problem.post_id[p])
    if sol.post_of[a] == p:
        return _row(choice, code, post_id, True, 0.0, "placed")
    pinned = _price(plan, Pins(assign={str(problem.applicant_id[a]): post_id}), limits)
    if isinstance(pinned, str):
        fields = {"province": str(problem.recruit_code[r]), "other": "", "delta": ""}
        fields["pair"] = f"{problem.service_code[s]} <- {problem.recruit_code[r]}"
        return _row(choice, code, post_id, False, np.nan, pinned, **fields)
    extra = pinned.objective - sol.objective
    if abs(extra) < TIE:
        return _row(choice, code, post_id, True, extra, "tie")
    reason, fields = _why(plan, a, p, extra, pinned)
    return _row(choice, code, post_id, True, extra, reason, **fields)


def _why(
    plan: Plan, a: int, p: int, extra: float, pinned: AllocationSolution
) -> tuple[str, dict[str, Any]]:
    """Why the optimum did not put applicant ``a`` on post ``p`` (which would cost the plan
    ``extra`` more), read off the plan's binding rules."""
    problem, sol = plan.problem, plan.solution
    used = usage(problem, sol.arcs)
    r, s = int(problem.app_r[a]), int(problem.post_s[p])
    unplaced = sol.post_of[a] < 0
    if used.post[p] >= problem.post_open[p]:
        on = np.flatnonzero(sol.post_of == p)
        moved = on[pinned.post_of[on] != p]
        other = int(moved[0]) if len(moved) else int(on[0])
        return "seat-taken", {"other": str(problem.applicant_id[other]), "delta": f"{extra:g}"}
    old = int(sol.post_of[a])
    b = int(problem.post_bucket[p])
    if (
        b >= 0
        and used.bucket[b] >= problem.bucket_cap[b]
        and (unplaced or problem.post_bucket[old] != b)
    ):
        return "quota-full", {}
    moves_in = unplaced or problem.post_s[old] != s
    k = int(problem.pair_index[r, s])
    if problem.pair_cap[k] < UNBOUNDED and used.pair[k] >= problem.pair_cap[k] and moves_in:
        return "pair-seats", {"pair": f"{problem.service_code[s]} <- {problem.recruit_code[r]}"}
    if (
        problem.service_cap[s] < UNBOUNDED
        and used.service[s] >= problem.service_cap[s]
        and moves_in
    ):
        return "dispatch-target", {"province": str(problem.service_code[s])}
    if unplaced and used.recruit[r] >= problem.recruit_cap[r]:
        return "recruit-target", {"province": str(problem.recruit_code[r])}
    share = share_ok(problem, int(used.recruit[r]) + 1, int(used.recruit_bachelors[r]))
    if unplaced and not problem.app_bachelor[a] and not share:
        return "bachelor-share", {"province": str(problem.recruit_code[r])}
    return "costlier", {}


def _unplaced_row(plan: Plan, a: int, limits: Limits) -> dict[str, Any]:
    """The row of leaving the applicant unplaced."""
    problem, sol = plan.problem, plan.solution
    reason = plan.account.unassigned_reason.get(a)
    if reason is not None:
        row = _row("unplaced", "", "", True, 0.0, reason.code)
        row["reason"] = reason.text.render()
        return row
    pinned = _price(plan, Pins(exclude=[str(problem.applicant_id[a])]), limits)
    if isinstance(pinned, str):
        return _row("unplaced", "", "", False, np.nan, "infeasible")
    extra = pinned.objective - sol.objective
    return _row("unplaced", "", "", True, extra, "tie" if abs(extra) < TIE else "unplace-costlier")
