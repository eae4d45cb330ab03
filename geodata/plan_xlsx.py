"""``plan.xlsx``: a plan as an office prints it.

Sheets, in the language of the moment (:mod:`planner.i18n`):

- **Summary** (汇总): the scenario, the certified result (objective, bound, gap, the six
  terms), the counts, then the money as section 五 of the 2006 plan lays it out: per service
  province the volunteers, living subsidy (生活补贴, monthly rate x 12), transport subsidy
  (交通补贴, by distance, yearly) and insurance (保险); per recruiting province the health
  checks (体检费, paid to the recruiting province's office); and the totals.
- **One sheet per service province** with its assignments (``520000 贵州省``).
- The other tables of the plan folder: unassigned, seats, fairness, moves (in a re-plan) and
  the unfilled quota.

Every sheet has a bold, frozen header row repeated on each printed page, column widths from
the data, CNY and distance number formats, A4 landscape one page wide. Rows are written with
xlsxwriter in constant memory (the national tier has about 330,000 rows).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geodata.shown import COLUMNS as SHOWN_COLUMNS
from geodata.shown import for_people
from geodata.xlsx_writer import open_workbook
from planner.geo import provinces_of
from planner.i18n import N_
from planner.i18n import _ as tr
from planner.labels import STATUS

if TYPE_CHECKING:
    from planner.plan import Plan

MONTHS = 12

SHEETS = {
    "summary": N_("Summary"),
    "unassigned": N_("Unassigned"),
    "seats": N_("Seats"),
    "fairness": N_("Fairness"),
    "moves": N_("Moves"),
    "unfilled_quota": N_("Unfilled quota"),
}

COLUMNS = {
    "applicant_id": N_("Applicant ID"),
    "post_id": N_("Post ID"),
    "county_code": N_("County code"),
    "township_code": N_("Township code"),
    "category": N_("Category"),
    "preference_rank": N_("Preference rank"),
    "distance_km": N_("Distance (km)"),
    "transport_subsidy": N_("Transport subsidy (CNY/year)"),
    "living_subsidy_month": N_("Living subsidy (CNY/month)"),
    "recruit_province": N_("Recruiting province"),
    "degree": N_("Degree"),
    "major_class": N_("Major class"),
    "budget_cny": N_("Budget (CNY/year)"),
    "reason_code": N_("Reason code"),
    "reason": N_("Reason"),
    "seats": N_("Seats"),
    "continuing": N_("Continuing"),
    "open_seats": N_("Open seats"),
    "filled": N_("Filled"),
    "relay": N_("Relay post"),
    "relay_empty": N_("Empty relay seats"),
    "blocked": N_("Takes nobody because"),
    "township_name": N_("Township name"),
    "lon": N_("Longitude"),
    "lat": N_("Latitude"),
    "kind": N_("Kind"),
    "seat_holder_id": N_("Seat holder"),
    "previous_post_id": N_("Previous post"),
    "change": N_("Change"),
    "quota": N_("Quota"),
    "placed": N_("Placed"),
    "unfilled": N_("Unfilled"),
    "cause": N_("Cause"),
}
"""Headers of the plan's columns (extra columns of the scenario keep their own names)."""
COLUMNS.update(SHOWN_COLUMNS)  # place names and labels (geodata.shown.for_people)

CNY = {"transport_subsidy", "living_subsidy_month", "budget_cny"}


def write_plan_workbook(path: Path, plan: Plan) -> Path:
    """Write ``plan.xlsx`` (see the module's docstring) and return its path."""
    from geodata.china import county_table

    names = dict(
        county_table()[["province_code", "province_name"]].drop_duplicates().to_numpy().tolist()
    )
    book = open_workbook(path, constant_memory=True)
    try:
        styles = _Styles(book)
        _summary_sheet(book, styles, plan, names)
        assignments = plan.assignments
        service = provinces_of(assignments["county_code"])
        for code in sorted(set(service)):
            rows = assignments[service == code]
            _table_sheet(book, styles, f"{code} {names.get(code, '')}".strip(), for_people(rows))
        for key in ("unassigned", "seats", "fairness", "moves"):
            frame = plan.tables.get(key)
            if frame is not None:
                _table_sheet(book, styles, tr(SHEETS[key]), for_people(frame))
        unfilled = pd.DataFrame(
            [u.to_dict() for u in plan.summary.unfilled_quota],
            columns=["county_code", "quota", "placed", "unfilled", "cause"],
        )
        unfilled = for_people(unfilled)
        _table_sheet(book, styles, tr(SHEETS["unfilled_quota"]), unfilled)
    finally:
        book.close()
    return path


class _Styles:
    def __init__(self, book: Any) -> None:
        self.head = book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}
        )
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.cny = book.add_format({"num_format": '#,##0 "元"'})
        self.km = book.add_format({"num_format": "0.0"})
        self.percent = book.add_format({"num_format": "0.00%"})
        self.number = book.add_format({"num_format": "#,##0.##"})
        self.total = book.add_format({"bold": True, "num_format": '#,##0 "元"', "top": 1})
        self.bold = book.add_format({"bold": True, "top": 1})


def _printable(sheet: Any, header_row: int = 0) -> None:
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(header_row)
    sheet.freeze_panes(header_row + 1, 0)


def _width(frame: pd.DataFrame, column: str, header: str) -> int:
    sample = frame[column].head(2000).astype(str)
    longest = int(sample.str.len().max()) if len(sample) else 0
    wide = sum(2 if ord(ch) > 0x2E80 else 1 for ch in header)  # CJK takes two columns
    return max(6, min(40, max(longest, wide) + 2))


def _table_sheet(book: Any, styles: _Styles, name: str, frame: pd.DataFrame) -> None:
    sheet = book.add_worksheet(_sheet_name(name))
    headers = [tr(COLUMNS[c]) if c in COLUMNS else str(c) for c in frame.columns]
    for j, (column, header) in enumerate(zip(frame.columns, headers, strict=True)):
        fmt = styles.cny if column in CNY else (styles.km if column == "distance_km" else None)
        sheet.set_column(j, j, _width(frame, column, header), fmt)
    _printable(sheet)
    sheet.write_row(0, 0, headers, styles.head)
    rows = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, row)


def _sheet_name(name: str) -> str:
    """Excel allows 31 characters and none of ``[]:*?/\\``."""
    for ch in "[]:*?/\\":
        name = name.replace(ch, " ")
    return name[:31]


def _summary_sheet(book: Any, styles: _Styles, plan: Plan, names: Mapping[str, str]) -> None:
    sheet = book.add_worksheet(_sheet_name(tr(SHEETS["summary"])))
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 6, 16)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    s = plan.summary
    scenario = s.scenario
    row = 0
    sheet.write(
        row,
        0,
        tr(N_("Western Plan volunteer allocation: {name}"), name=scenario.name),
        styles.title,
    )
    row += 2
    facts: list[tuple[str, Any, Any]] = [
        (tr(N_("Year")), scenario.year, None),
        (tr(N_("Synthetic data")), tr(N_("yes")) if scenario.synthetic else tr(N_("no")), None),
        (tr(N_("Status")), STATUS.label(s.status), None),
    ]
    facts += [(tr(COUNTS.get(k, k)), v, styles.number) for k, v in s.counts.to_dict().items()]
    row = _facts(sheet, facts, row) + 1
    row = _budget_tables(sheet, styles, plan, names, row) + 1
    # the optimiser's facts last, for whoever checks the solve
    sheet.write(row, 0, tr(N_("Technical details")), styles.title)
    technical: list[tuple[str, Any, Any]] = [
        (tr(N_("Objective")), s.objective, styles.number),
        (tr(N_("Proven lower bound")), s.lower_bound, styles.number),
        (tr(N_("Gap")), s.gap if math.isfinite(s.gap) else None, styles.percent),
    ]
    technical += [(tr(TERMS.get(k, k)), v, styles.number) for k, v in s.terms.to_dict().items()]
    _facts(sheet, technical, row + 1)


def _facts(sheet: Any, facts: list[tuple[str, Any, Any]], row: int) -> int:
    """``label | value`` rows from ``row``; the row after them."""
    for label, value, fmt in facts:
        sheet.write(row, 0, label)
        sheet.write(row, 1, value, fmt)
        row += 1
    return row


TERMS = {
    "relay_empty": N_("Term 1: empty relay seats"),
    "quota_unfilled": N_("Term 2: unfilled quota"),
    "preference": N_("Term 3: preference ranks"),
    "major_mismatch": N_("Term 4: majors that do not fit"),
    "transport_subsidy": N_("Term 5: transport subsidy"),
    "replan_moves": N_("Term 6: moves from the previous plan"),
}
COUNTS = {
    "applicants": N_("Applicants"),
    "placed": N_("Placed"),
    "unplaced": N_("Not placed"),
    "quota_units": N_("Quota"),
    "quota_unfilled_units": N_("Quota left unfilled"),
    "relay_open_seats": N_("Relay seats to fill"),
    "relay_empty_seats": N_("Relay seats left empty"),
    "first_preference": N_("Placed at the first preference"),
    "outside_preferences": N_("Placed outside the preferences"),
    "major_mismatch": N_("Majors that do not fit"),
    "previous_kept": N_("Kept from the previous plan"),
    "previous_moved": N_("Moved from the previous plan"),
}


def _budget_tables(
    sheet: Any, styles: _Styles, plan: Plan, names: Mapping[str, str], row: int
) -> int:
    """The money of section 五: per service province living subsidy, transport subsidy and
    insurance; per recruiting province the health checks; the totals."""
    rules = plan.scenario.data.rules
    a = plan.assignments
    living = a["living_subsidy_month"].to_numpy(np.int64) * MONTHS
    transport = a["transport_subsidy"].to_numpy(np.int64)
    frame = pd.DataFrame(
        {
            "service": provinces_of(a["county_code"]),
            "recruit": a["recruit_province"].to_numpy(str),
            "living": living,
            "transport": transport,
        }
    )
    sheet.write(row, 0, tr(N_("Budget by service province (CNY a year)")), styles.title)
    row += 1
    heads = [
        tr(N_("Service province")),
        tr(N_("Volunteers")),
        tr(N_("Living subsidy")),
        tr(N_("Transport subsidy")),
        tr(N_("Insurance")),
        tr(N_("Subtotal")),
    ]
    sheet.write_row(row, 0, heads, styles.head)
    row += 1
    totals = np.zeros(5, dtype=np.int64)
    for code, g in frame.groupby("service", sort=True):
        n = len(g)
        values = [n, int(g["living"].sum()), int(g["transport"].sum()), n * rules.insurance_cny]
        subtotal = sum(values[1:])
        sheet.write(row, 0, f"{code} {names.get(str(code), '')}".strip())
        sheet.write(row, 1, n)
        for j, v in enumerate([*values[1:], subtotal], start=2):
            sheet.write(row, j, v, styles.cny)
        totals += np.asarray([n, *values[1:], subtotal], dtype=np.int64)
        row += 1
    sheet.write(row, 0, tr(N_("Total")), styles.bold)
    sheet.write(row, 1, int(totals[0]), styles.bold)
    for j, v in enumerate(totals[1:].tolist(), start=2):
        sheet.write(row, j, v, styles.total)
    row += 2
    sheet.write(row, 0, tr(N_("Health checks by recruiting province (CNY)")), styles.title)
    row += 1
    sheet.write_row(
        row,
        0,
        [tr(N_("Recruiting province")), tr(N_("Volunteers")), tr(N_("Health checks"))],
        styles.head,
    )
    row += 1
    checks = 0
    for code, g in frame.groupby("recruit", sort=True):
        cost = len(g) * rules.health_check_cny
        sheet.write(row, 0, f"{code} {names.get(str(code), '')}".strip())
        sheet.write(row, 1, len(g))
        sheet.write(row, 2, cost, styles.cny)
        checks += cost
        row += 1
    sheet.write(row, 0, tr(N_("Total")), styles.bold)
    sheet.write(row, 1, len(frame), styles.bold)
    sheet.write(row, 2, checks, styles.total)
    row += 2
    sheet.write(row, 0, tr(N_("Budget in all (CNY a year)")), styles.bold)
    sheet.write(row, 1, int(totals[4]) + checks, styles.total)
    return row + 1
