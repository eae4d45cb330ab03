"""Services shared by the command line and the HTTP API: plan a scenario, write the outputs.

The outputs follow the data contract: ``assignments.csv``, ``unassigned.csv``, ``seats.csv``,
``summary.json`` and ``plan.xlsx`` (the same tables in one workbook). CSV files are UTF-8
with a BOM, so Excel shows the Chinese text; codes stay text.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

from geodata.issues import Report
from geodata.scenario import LoadResult, load_scenario
from planner import __version__
from planner.allocation import workers
from planner.allocation.fairness import Fairness, fairness
from planner.allocation.problem import AllocationProblem
from planner.allocation.report import PlanReport, build_report
from planner.allocation.solver import AllocationSolution, solve_allocation
from planner.scenario import DEGREES, PreviousPlan, Scenario

log = logging.getLogger(__name__)

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


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    """A finished plan: where it is and its summary."""

    out: Path
    summary: dict[str, Any]


class PlanError(Exception):
    """The scenario cannot be planned; carries the validation report."""

    def __init__(self, report: Report, message: str) -> None:
        self.report = report
        super().__init__(message)


def source_label(source: str | Path) -> str:
    """Where a plan's scenario came from, so that a map finds it again: ``builtin:NAME`` or
    the absolute path."""
    return str(source) if str(source).startswith("builtin:") else str(Path(source).resolve())


def read_previous(folder: Path) -> PreviousPlan:
    """The assignments of an earlier plan folder, as a previous plan (term 6)."""
    frame = pd.read_csv(
        folder / "assignments.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    return PreviousPlan(frame["applicant_id"].to_numpy(str), frame["post_id"].to_numpy(str))


def plan_scenario(
    source: str | Path,
    out: Path,
    time_limit: float = 300.0,
    previous: Path | None = None,
    loaded: LoadResult | None = None,
) -> PlanOutcome:
    """Validate, solve and write a plan into ``out``."""
    workers.start()  # the solver's worker processes load while the scenario is read
    result = loaded or load_scenario(source)
    if result.scenario is None:
        raise PlanError(result.report, "the scenario has errors; nothing was planned")
    scenario = result.scenario
    if previous is not None:
        scenario = dataclasses.replace(scenario, previous_plan=read_previous(previous))
    if scenario.posts is None or scenario.applicants is None:
        raise PlanError(result.report, "the scenario has no allocation tables (posts, applicants)")
    t0 = time.perf_counter()
    problem = AllocationProblem.from_scenario(scenario)
    solution = solve_allocation(problem, time_limit=time_limit)
    report = build_report(problem, solution)
    fair = fairness(problem, solution)
    summary = _summary(scenario, problem, solution, report, result.report, time.perf_counter() - t0)
    summary["scenario"]["source"] = source_label(source)
    summary["county_quota"] = {
        str(code): int(q)
        for code, q, barred in zip(
            problem.county_code, problem.county_quota, problem.county_barred, strict=True
        )
        if not barred
    }
    summary["fairness"] = {
        "wasted_seats": len(fair.wasted_a),
        "applicants_with_a_wasted_seat": fair.wasted_applicants,
        "justified_envy": len(fair.envy_a),
        "applicants_with_justified_envy": fair.envious_applicants,
        "definition": "see docs/allocation.md#fairness",
    }
    out.mkdir(parents=True, exist_ok=True)
    tables = _tables(scenario, problem, solution, report)
    tables["fairness"] = _fairness_table(problem, fair)
    if scenario.previous_plan is not None:
        tables["moves"] = _moves_table(scenario.previous_plan, problem, solution)
        summary["moves"] = tables["moves"]["change"].value_counts().to_dict()
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False, encoding="utf-8-sig")
    (out / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    _workbook(out / "plan.xlsx", tables, summary)
    return PlanOutcome(out, summary)


def _tables(
    sc: Scenario, pr: AllocationProblem, sol: AllocationSolution, rep: PlanReport
) -> dict[str, pd.DataFrame]:
    assert sc.posts is not None and sc.applicants is not None
    used = sol.arcs
    apps, posts = sc.applicants, sc.posts
    assignments = pd.DataFrame(
        {
            "applicant_id": pr.applicant_id[used.a],
            "post_id": pr.post_id[used.p],
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
    idle = sorted(rep.unassigned_reason)
    unassigned = pd.DataFrame(
        {
            "applicant_id": pr.applicant_id[idle] if idle else np.zeros(0, dtype=str),
            "reason_code": [rep.unassigned_reason[a].split(":", 1)[0] for a in idle],
            "reason": [rep.unassigned_reason[a].split(": ", 1)[1] for a in idle],
        }
    )
    filled = np.bincount(used.p, minlength=pr.n_posts)
    held = np.asarray(posts.seats) - pr.post_open
    seats = pd.DataFrame(
        {
            "post_id": posts.post_id,
            "county_code": posts.county_code,
            "township_code": posts.township_code,
            "category": posts.category,
            "seats": posts.seats,
            "continuing": np.maximum(held, 0),
            "open_seats": pr.post_open,
            "filled": filled,
            "relay": posts.relay.astype(int),
            "relay_empty": np.where(posts.relay, pr.post_open - filled, 0),
            "blocked": pr.post_block,
            "township_name": posts.township_name,
            "lon": np.round(posts.lon, 5),
            "lat": np.round(posts.lat, 5),
        }
    )
    return {"assignments": assignments, "unassigned": unassigned, "seats": seats}


def _moves_table(
    previous: PreviousPlan, pr: AllocationProblem, sol: AllocationSolution
) -> pd.DataFrame:
    """Every volunteer of the previous plan: kept, moved, unplaced or gone (a dropout)."""
    index = {str(a): i for i, a in enumerate(pr.applicant_id)}
    rows = []
    for aid, pid in zip(previous.applicant_id.tolist(), previous.post_id.tolist(), strict=True):
        a = index.get(aid)
        if a is None:
            rows.append((aid, pid, "", "dropout"))
            continue
        new = "" if sol.post_of[a] < 0 else str(pr.post_id[sol.post_of[a]])
        change = "kept" if new == pid else ("unplaced" if not new else "moved")
        rows.append((aid, pid, new, change))
    return pd.DataFrame(rows, columns=["applicant_id", "previous_post_id", "post_id", "change"])


def _fairness_table(pr: AllocationProblem, fair: Fairness) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": ["wasted_seat"] * len(fair.wasted_a) + ["justified_envy"] * len(fair.envy_a),
            "applicant_id": np.concatenate(
                [pr.applicant_id[fair.wasted_a], pr.applicant_id[fair.envy_a]]
            ),
            "post_id": np.concatenate([pr.post_id[fair.wasted_p], pr.post_id[fair.envy_p]]),
            "seat_holder_id": [""] * len(fair.wasted_a) + list(pr.applicant_id[fair.envy_holder]),
        }
    )


def _summary(
    sc: Scenario,
    pr: AllocationProblem,
    sol: AllocationSolution,
    rep: PlanReport,
    validation: Report,
    seconds: float,
) -> dict[str, Any]:
    terms = dataclasses.asdict(rep.terms)
    return {
        "planner_version": __version__,
        "scenario": {"name": sc.name, "year": sc.year, "synthetic": sc.synthetic},
        "status": sol.stats.status,
        "optimal": sol.optimal,
        "objective": sol.objective,
        "terms": terms,
        "lower_bound": sol.bound,
        "gap": sol.gap,
        "lp_bound": sol.stats.lp_bound,
        "build_seconds": round(sol.stats.build_seconds, 3),
        "solve_seconds": round(sol.stats.solve_seconds, 3),
        "total_seconds": round(seconds, 3),
        "pricing_rounds": sol.stats.pricing_rounds,
        "columns": sol.stats.columns,
        "notes": sol.notes,
        "counts": rep.counts,
        "rules": rep.rule_usage,
        "budget_cny": {
            "total": rep.budget_total,
            "by_service_province": rep.budget_by_service,
            "by_recruit_province": rep.budget_by_recruit,
        },
        "unfilled_quota": rep.unfilled,
        "empty_relay_seats": rep.empty_relay,
        "declaration_warnings": [dataclasses.asdict(i) for i in validation.warnings],
        "decisions": DECISIONS,
        "weights": dataclasses.asdict(sc.weights),
    }


def _workbook(path: Path, tables: dict[str, pd.DataFrame], summary: dict[str, Any]) -> None:
    overview = pd.DataFrame(
        [
            ("scenario", summary["scenario"]["name"]),
            ("synthetic data", "yes" if summary["scenario"]["synthetic"] else "no"),
            ("status", summary["status"]),
            ("objective", summary["objective"]),
            ("lower bound", summary["lower_bound"]),
            ("gap", summary["gap"]),
            *((f"term: {k}", v) for k, v in summary["terms"].items()),
            *((f"count: {k}", v) for k, v in summary["counts"].items()),
            ("budget total (CNY)", summary["budget_cny"]["total"]),
        ],
        columns=["item", "value"],
    )
    budget = pd.DataFrame(
        [("service", k, v) for k, v in summary["budget_cny"]["by_service_province"].items()]
        + [("recruit", k, v) for k, v in summary["budget_cny"]["by_recruit_province"].items()],
        columns=["role", "province_code", "budget_cny"],
    )
    sheets = {
        "summary": overview,
        **tables,
        "unfilled_quota": pd.DataFrame(summary["unfilled_quota"]),
        "budget": budget,
    }
    # xlsxwriter row by row in constant memory: about twice as fast as DataFrame.to_excel on
    # the national tier's 330,000 rows, and the rows never sit in memory twice
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        for name, frame in sheets.items():
            sheet = book.add_worksheet(name)
            sheet.write_row(0, 0, [str(c) for c in frame.columns])
            rows = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
            for i, row in enumerate(rows, start=1):
                sheet.write_row(i, 0, row)
    finally:
        book.close()
