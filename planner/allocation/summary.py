"""A solved allocation as the outputs show it: the tables and the summary of a plan folder.

Pure: DataFrames and a :class:`~planner.summaries.PlanSummary` from the problem, the solution
and its report; writing
them is the I/O layer's work. The columns are those of the data contract's ``assignments.csv``,
``unassigned.csv``, ``seats.csv``, ``fairness.csv`` and (in a re-plan) ``moves.csv``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from planner import __version__
from planner.allocation.account import PlanAccount
from planner.allocation.fairness import Fairness
from planner.allocation.problem import AllocationProblem
from planner.allocation.solver import AllocationSolution
from planner.issues import Report
from planner.scenario import DEGREES, PreviousPlan, ScenarioData
from planner.summaries import (
    Budget,
    FairnessCounts,
    PlanSummary,
    ScenarioInfo,
    freeze,
)

DECISIONS = {
    "open_seats": "a post's open seats are its seats minus the continuing volunteers on it (A1, D4)",
    "quota_term": "term 2 counts, per non-barred county, general + special quotas minus the new "
    "volunteers placed there; A2 keeps placements within each bucket",
    "relay_term": "term 1 counts every open seat of a relay post left empty, barred counties included",
    "rank": "a placement's rank is the first preference naming its county or its province",
    "bachelor_share": "A4 is checked as n x placed <= d x bachelors with the share as the exact "
    "fraction n/d it is written as (0.85 = 17/20), per recruiting province, over the placed new "
    "volunteers",
    "home": "home = home_lon/home_lat when given, else the area centroid of the home county "
    "(equal-area projection)",
    "post_location": "post = its lon/lat, else the representative point of its township (layer), "
    "else the centroid of its county",
    "transport_tiers": "the subsidy of the highest tier whose lower bound is <= the distance",
    "budget": "per placed volunteer and year: 12 x monthly living subsidy + transport subsidy + "
    "insurance + health check",
    "replan": "term 6 counts volunteers of the previous plan who are still applicants and whose "
    "post changes (unplaced counts as a change); dropouts do not count",
}
"""Choices the planning model leaves open, as the planner makes them (also in the docs)."""


def plan_tables(
    sc: ScenarioData,
    problem: AllocationProblem,
    sol: AllocationSolution,
    rep: PlanAccount,
    fair: Fairness,
) -> dict[str, pd.DataFrame]:
    """assignments, unassigned, seats, fairness and, in a re-plan, moves."""
    assert sc.posts is not None and sc.applicants is not None
    used = sol.arcs
    apps, posts = sc.applicants, sc.posts
    assignments = pd.DataFrame(
        {
            "applicant_id": problem.applicant_id[used.a],
            "post_id": problem.post_id[used.p],
            "county_code": posts.county_code[used.p],
            "township_code": posts.township_code[used.p],
            "category": posts.category[used.p],
            "preference_rank": np.where(used.rank <= 5, used.rank, 0),
            "distance_km": np.round(used.km, 1),
            "transport_subsidy": used.subsidy_cny,
            "living_subsidy_month": rep.living_month,
            "recruit_province": apps.recruit_province[used.a],
            "degree": [DEGREES[d] for d in apps.degree[used.a]],
            "major_class": apps.major_class[used.a],
            "budget_cny": rep.budget_each,
        }
    )
    for name, values in zip(apps.extra.names, apps.extra.values, strict=True):
        assignments[name] = values[used.a]
    assignments = assignments.sort_values("applicant_id", kind="stable").reset_index(drop=True)
    unassigned = unassigned_table(problem, rep)
    filled = np.bincount(used.p, minlength=problem.n_posts)
    held = np.asarray(posts.seats) - problem.post_open
    seats = pd.DataFrame(
        {
            "post_id": posts.post_id,
            "county_code": posts.county_code,
            "township_code": posts.township_code,
            "category": posts.category,
            "seats": posts.seats,
            "continuing": np.maximum(held, 0),
            "open_seats": problem.post_open,
            "filled": filled,
            "relay": posts.relay.astype(int),
            "relay_empty": np.where(posts.relay, problem.post_open - filled, 0),
            "blocked": problem.post_block,
            "township_name": posts.township_name,
            "lon": np.round(posts.lon, 5),
            "lat": np.round(posts.lat, 5),
        }
    )
    tables = {
        "assignments": assignments,
        "unassigned": unassigned,
        "seats": seats,
        "fairness": _fairness_table(problem, fair),
    }
    if sc.previous_plan is not None:
        tables["moves"] = _moves_table(sc.previous_plan, problem, sol)
    return tables


def unassigned_table(problem: AllocationProblem, rep: PlanAccount) -> pd.DataFrame:
    """``unassigned.csv``: every unplaced applicant, the reason code and the reason in the
    language of the moment."""
    idle = sorted(rep.unassigned_reason)
    return pd.DataFrame(
        {
            "applicant_id": problem.applicant_id[idle] if idle else np.zeros(0, dtype=str),
            "reason_code": [rep.unassigned_reason[a].code for a in idle],
            "reason": [str(rep.unassigned_reason[a].text) for a in idle],
        }
    )


def summary_texts(rep: PlanAccount, validation: Report) -> dict[str, Any]:
    """The parts of the summary that a person reads, in the language of the moment (the
    fields of :class:`PlanSummary` they replace): the causes of unfilled quota and empty relay
    seats, and the declaration warnings."""
    return {
        "unfilled_quota": tuple(u.written() for u in rep.unfilled),
        "empty_relay_seats": tuple(e.written() for e in rep.empty_relay),
        "declaration_warnings": freeze([i.to_dict() for i in validation.warnings]),
    }


def _moves_table(
    previous: PreviousPlan, problem: AllocationProblem, sol: AllocationSolution
) -> pd.DataFrame:
    """Every volunteer of the previous plan: kept, moved, unplaced or gone (a dropout)."""
    index = {str(a): i for i, a in enumerate(problem.applicant_id)}
    rows = []
    for aid, pid in zip(previous.applicant_id.tolist(), previous.post_id.tolist(), strict=True):
        a = index.get(aid)
        if a is None:
            rows.append((aid, pid, "", "dropout"))
            continue
        new = "" if sol.post_of[a] < 0 else str(problem.post_id[sol.post_of[a]])
        change = "kept" if new == pid else ("unplaced" if not new else "moved")
        rows.append((aid, pid, new, change))
    return pd.DataFrame(rows, columns=["applicant_id", "previous_post_id", "post_id", "change"])


def _fairness_table(problem: AllocationProblem, fair: Fairness) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": ["wasted_seat"] * len(fair.wasted_a) + ["justified_envy"] * len(fair.envy_a),
            "applicant_id": np.concatenate(
                [problem.applicant_id[fair.wasted_a], problem.applicant_id[fair.envy_a]]
            ),
            "post_id": np.concatenate(
                [problem.post_id[fair.wasted_p], problem.post_id[fair.envy_p]]
            ),
            "seat_holder_id": [""] * len(fair.wasted_a)
            + list(problem.applicant_id[fair.envy_holder]),
        }
    )


def plan_summary(
    sc: ScenarioData,
    problem: AllocationProblem,
    sol: AllocationSolution,
    rep: PlanAccount,
    fair: Fairness,
    validation: Report,
    source: str,
    seconds: float,
    moves: pd.DataFrame | None = None,
) -> PlanSummary:
    """The content of ``summary.json`` (without the ``routing`` part)."""
    return PlanSummary(
        planner_version=__version__,
        scenario=ScenarioInfo(name=sc.name, year=sc.year, synthetic=sc.synthetic, source=source),
        status=sol.stats.status,
        optimal=sol.optimal,
        objective=sol.objective,
        terms=rep.terms,
        lower_bound=sol.bound,
        gap=sol.gap,
        lp_bound=sol.stats.lp_bound,
        build_seconds=round(sol.stats.build_seconds, 3),
        solve_seconds=round(sol.stats.solve_seconds, 3),
        total_seconds=round(seconds, 3),
        pricing_rounds=sol.stats.pricing_rounds,
        columns=sol.stats.columns,
        notes=tuple(sol.notes),
        counts=rep.counts,
        rules=rep.rule_usage,
        budget_cny=Budget(
            total=rep.budget_total,
            by_service_province=freeze(rep.budget_by_service),
            by_recruit_province=freeze(rep.budget_by_recruit),
        ),
        **summary_texts(rep, validation),
        decisions=freeze(DECISIONS),
        weights=freeze(dataclasses.asdict(sc.weights)),
        county_quota=freeze(
            {
                str(code): int(q)
                for code, q, barred in zip(
                    problem.county_code, problem.county_quota, problem.county_barred, strict=True
                )
                if not barred
            }
        ),
        fairness=FairnessCounts(
            wasted_seats=len(fair.wasted_a),
            applicants_with_a_wasted_seat=fair.wasted_applicants,
            justified_envy=len(fair.envy_a),
            applicants_with_justified_envy=fair.envious_applicants,
            definition="see docs/allocation.md#fairness",
        ),
        moves=freeze(moves["change"].value_counts().to_dict()) if moves is not None else None,
    )
