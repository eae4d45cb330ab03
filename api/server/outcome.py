"""A plan's results as an office decides on them: placed against quota per service county (the
counties not filled first, with their cause), relay posts kept, the budget by item and the
unplaced applicants by reason. The optimiser's numbers are the plan page's technical details."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.server.placements import ALL, reason_label
from api.services import results
from geodata.shown import place_name
from planner.i18n import _
from planner.summaries import PlanSummary

SORTS = ("unfilled", "county", "quota", "placed", "fill")


def county_rows(folder: Path, summary: PlanSummary, sort: str = "unfilled") -> list[dict[str, Any]]:
    """One row per service county with a quota: quota, placed, unfilled, fill rate, cause."""
    quota = summary.county_quota
    frame = results.table(folder, "assignments", limit=ALL).frame
    placed: dict[str, int] = {
        str(k): int(v) for k, v in frame["county_code"].astype(str).value_counts().items()
    }
    causes = {u.county_code: u.cause for u in summary.unfilled_quota}
    rows = []
    for code in sorted(set(quota) | set(placed)):
        q, p = int(quota.get(code, 0)), int(placed.get(code, 0))
        rows.append(
            {
                "code": code,
                "name": place_name(code) or code,
                "quota": q,
                "placed": p,
                "unfilled": max(q - p, 0),
                "fill": p / q if q else 1.0,
                "cause": causes.get(code, ""),
            }
        )
    keys = {
        "unfilled": lambda r: (-r["unfilled"], r["fill"], r["code"]),
        "county": lambda r: (r["code"],),  # the administrative order (GB/T 2260)
        "quota": lambda r: (-r["quota"], r["code"]),
        "placed": lambda r: (-r["placed"], r["code"]),
        "fill": lambda r: (r["fill"], r["code"]),
    }
    return sorted(rows, key=keys.get(sort, keys["unfilled"]))


def budget_items(folder: Path, summary: PlanSummary) -> list[tuple[str, int]]:
    """The yearly budget by item (CNY): living and transport subsidies from the placements,
    the rest (insurance and health checks) from the plan's total."""
    frame = results.table(folder, "assignments", limit=ALL).frame
    living = int(frame["living_subsidy_month"].astype(int).sum()) * 12 if len(frame) else 0
    transport = int(frame["transport_subsidy"].astype(int).sum()) if len(frame) else 0
    total = summary.budget_cny.total
    return [
        (_("Living subsidy"), living),
        (_("Transport subsidy"), transport),
        (_("Insurance and health checks"), total - living - transport),
        (_("Total"), total),
    ]


def unplaced_by_reason(folder: Path) -> list[tuple[str, str, int]]:
    """(reason code, its meaning, applicants) of the unplaced, most first."""
    frame = results.table(folder, "unassigned", limit=ALL).frame
    counted = frame["reason_code"].astype(str).value_counts()
    return [(str(code), reason_label(str(code)), int(n)) for code, n in counted.items()]


def relay(summary: PlanSummary) -> dict[str, int]:
    """Relay seats to fill, kept (filled) and left empty."""
    open_seats = summary.counts.relay_open_seats
    empty = summary.counts.relay_empty_seats
    return {"open": open_seats, "kept": open_seats - empty, "empty": empty}


def outcome_of(folder: Path, summary: PlanSummary, sort: str) -> dict[str, Any]:
    """Everything the plan page leads with."""
    return {
        "counties": county_rows(folder, summary, sort if sort in SORTS else "unfilled"),
        "relay": relay(summary),
        "budget": budget_items(folder, summary),
        "unplaced": unplaced_by_reason(folder),
    }
