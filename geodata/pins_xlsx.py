"""The office's decisions in a workbook: the sheet 调整 (``planner plan SCENARIO --pins
BOOK.xlsx``), with the columns of ``pins.csv``.

The sheet is found by its name in either language (调整, ``Decisions``, or ``pins``); its
header row names the columns by their key (``action``, ``applicant_id``, ``post_id``) or
their label in either language (操作, 报名者编号, 岗位编号 ...), as the scenario workbook's
sheets do; an action is its code or its label in either language (留在此岗位 / keep on this
post, :data:`planner.labels.PIN_ACTION`). Bad rows are named by sheet, row, column (and
Excel's cell) and the value expected, by :meth:`planner.pins.Pins.from_frame`'s checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from xlsxwriter.utility import xl_col_to_name

from geodata.scenario_xlsx import _cell_text, _names, cell_references
from planner.i18n import N_
from planner.issues import Report
from planner.labels import PIN_ACTION
from planner.pins import PIN_COLUMNS, PinError, Pins

SHEET = "pins"
SHEET_LABEL = N_("Decisions")
"""The sheet's name: 调整 in zh-CN."""
COLUMN_LABELS = {
    "action": N_("Action"),
    "applicant_id": N_("Applicant ID"),
    "post_id": N_("Post ID"),
}


def _sheet(book: Any) -> Any | None:
    wanted = _names(SHEET_LABEL, SHEET)
    return next((ws for ws in book.worksheets if ws.title.strip().casefold() in wanted), None)


def read_pins_workbook(path: Path) -> Pins:
    """The pins of the sheet 调整 of a workbook.

    Raises
    ------
    PinError
        No such sheet, a missing column, or bad rows (each named by sheet, row, column, cell
        and the value expected).
    """
    import openpyxl

    report = Report()
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = _sheet(book)
        if ws is None:
            report.error(
                path.name,
                None,
                None,
                "missing-sheet",
                N_("no sheet 调整 (Decisions) in the workbook; expected one with the columns {c}"),
                c=", ".join(PIN_COLUMNS),
            )
            raise PinError(report)
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        title = ws.title
    finally:
        book.close()
    header = _header(rows[0] if rows else [])
    missing = [c for c in PIN_COLUMNS if c not in header]
    for column in missing:
        report.error(title, 1, column, "missing-column", N_("column {column} is missing"),
                     column=column)  # fmt: skip
    if missing:
        raise PinError(report)
    body, lines = [], []
    for i, row in enumerate(rows[1:], start=2):
        cells = {c: _cell_text(row[j], None) if j < len(row) else "" for c, j in header.items()}
        if not any(cells.values()):
            continue
        cells["action"] = PIN_ACTION.code(cells["action"]) or cells["action"]
        body.append([cells[c] for c in PIN_COLUMNS])
        lines.append(i - 2)  # Pins.from_frame numbers a row as its index plus 2
    frame = pd.DataFrame(body, columns=list(PIN_COLUMNS), index=lines, dtype=str)
    try:
        return Pins.from_frame(frame, title)
    except PinError as exc:
        letters = {title: {c: xl_col_to_name(j) for c, j in header.items()}}
        cell_references(exc.report, letters)
        raise


def _header(first: list[Any]) -> dict[str, int]:
    """Column name -> its index, from the header row's keys or labels."""
    by_name: dict[str, str] = {}
    for key, label in COLUMN_LABELS.items():
        for name in _names(label, key):
            by_name.setdefault(name, key)
    found: dict[str, int] = {}
    for j, value in enumerate(first):
        column = by_name.get(_cell_text(value, None).casefold())
        if column is not None and column not in found:
            found[column] = j
    return found
