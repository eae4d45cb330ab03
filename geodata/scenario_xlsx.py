"""A scenario as one Excel workbook: a sheet per table of the data contract, and the settings.

The offices keep their tables in Excel. A workbook scenario has one sheet per table, named by
the table's key (``posts``) or its label in either language (``Posts``, ``岗位``), with the
columns' names or labels in the first row, and an optional ``settings``/``设置`` sheet of
``key | value`` rows (``name``, ``year``, ``crs``, ``language``, and any ``[rules]`` or
``[weights]`` key of ``scenario.toml``, e.g. ``undergraduate_min_share``; a list as
``0;500;1000;2000``). The reader (python-calamine) checks every cell exactly as the CSV reader
does (:func:`geodata.tables.parse_records`); an issue names the sheet, the row and the column
as Excel shows them (``岗位!D17``).

What Excel adds is handled or reported: codes typed as numbers (``510104.0``) are read as their
digits, times typed as times as ``HH:MM``, dates as ``YYYY-MM-DD`` (and reported where the
column wants something else), empty rows are skipped, a row whose first cell starts with ``#``
is a comment (the template's example row), merged cells inside a table are an error naming
the range, a hidden sheet is read with a warning, and a sheet that is no table is named and
left out.

:func:`write_template` writes the empty workbook an office fills in: headers in its language,
a comment on each header explaining the column, lists to choose categories, degrees and 0/1
from, and an example row.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import python_calamine as calamine
from xlsxwriter.utility import xl_col_to_name

from geodata.limits import limits, too_many_columns, too_many_rows
from geodata.tables import ParsedTable, check_header, drop_long_cells, parse_records
from geodata.xlsx_writer import open_workbook
from planner.columns import Column, Kind, TableSchema
from planner.i18n import LANGUAGES, N_, Text, render, speaking
from planner.i18n import _ as tr
from planner.issues import Report
from planner.labels import join_texts, vocabulary_of
from planner.schema import ALLOCATION_TABLES, ROUTING_TABLES, TABLES

SETTINGS = "settings"
SETTINGS_LABEL = N_("Settings")
INSTRUCTIONS = "instructions"
INSTRUCTIONS_LABEL = N_("Instructions")
"""The template's first sheet, for people: the reader passes over it."""
COMMENT_MARK = "#"
"""A row whose first cell starts with this is a comment (the template's example row)."""
SUFFIXES = (".xlsx", ".xlsm")


@dataclass(slots=True)
class WorkbookTables:
    """What a workbook holds: its settings (as ``scenario.toml`` would), the checked tables and
    how each sheet's columns are lettered (for the issues' cell references)."""

    settings: dict[str, Any]
    tables: dict[str, ParsedTable]
    letters: dict[str, dict[str, str]]
    """Sheet name -> column name -> the column's letter in that sheet."""
    settings_sheet: str


def _names(label: str, key: str) -> set[str]:
    """What a sheet or column may be called: its key and its label in every language."""
    found = {key.casefold()}
    for lang in LANGUAGES:
        found.add(render(label, lang=lang).strip().casefold())
    return found


def _table_of(sheet: str) -> str | None:
    name = sheet.strip().casefold()
    if name in _names(SETTINGS_LABEL, SETTINGS):
        return SETTINGS
    if name in _names(INSTRUCTIONS_LABEL, INSTRUCTIONS):
        return INSTRUCTIONS
    return next((k for k, s in TABLES.items() if name in _names(s.label, k)), None)


def _column_names(schema: TableSchema) -> dict[str, str]:
    """Header text (case-folded) -> the column's name."""
    out: dict[str, str] = {}
    for c in schema.columns:
        for name in _names(c.label, c.name):
            out.setdefault(name, c.name)
    return out


def _cell_text(value: Any, kind: Kind | None) -> str:
    """A cell as the text a CSV file would hold."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))  # a code or count typed as a number
        return repr(value)
    if isinstance(value, dt.datetime):
        if kind is Kind.TIME:
            return value.strftime("%H:%M")
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # a duration typed as hours:minutes
        minutes = round(value.total_seconds() / 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    return str(value).strip()


def read_workbook(path: Path, report: Report) -> WorkbookTables | None:
    """Read a scenario workbook, checking every sheet it has against the contract.

    Returns ``None`` (with an error in ``report``) when the file is no readable workbook.
    """
    file = path.name
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
    except (calamine.CalamineError, OSError, ValueError) as exc:
        report.error(
            file,
            None,
            None,
            "not-a-workbook",
            N_("cannot read {file} as an Excel workbook ({reason}); expected an .xlsx file"),
            file=file,
            reason=str(exc),
        )
        return None
    visible = {m.name: m.visible == calamine.SheetVisibleEnum.Visible for m in book.sheets_metadata}
    settings: dict[str, Any] = {}
    settings_sheet = file
    tables: dict[str, ParsedTable] = {}
    letters: dict[str, dict[str, str]] = {}
    for sheet_name in book.sheet_names:
        key = _sheet_key(sheet_name, visible.get(sheet_name, True), report)
        if key is None:
            continue
        if key in tables or (key == SETTINGS and settings):
            report.error(
                sheet_name,
                None,
                None,
                "duplicate-sheet",
                N_("a second sheet for the table {table}; expected one sheet per table"),
                table=key,
            )
            continue
        sheet = book.get_sheet_by_name(sheet_name)
        if _too_large(sheet, sheet_name, report):
            continue
        _check_merged(sheet, sheet_name, report)
        rows = sheet.to_python(skip_empty_area=False)
        top, left = sheet.start if sheet.start is not None else (0, 0)
        if key == SETTINGS:
            settings = _settings(rows, sheet_name, top, report)
            settings_sheet = sheet_name
            continue
        parsed = _table(rows, sheet_name, TABLES[key], top, left, report)
        if parsed is not None:
            table, lettering = parsed
            tables[key] = table
            letters[sheet_name] = lettering
    _check_some_table(file, set(tables), book.sheet_names, report)
    return WorkbookTables(settings, tables, letters, settings_sheet)


def _sheet_key(sheet_name: str, visible: bool, report: Report) -> str | None:
    """The table (or the settings) a sheet holds; None for the instructions and for a sheet
    of no table (warned about when it is visible). A hidden sheet of a table is read, with a
    warning."""
    key = _table_of(sheet_name)
    if key is None:
        if visible:
            report.warning(
                sheet_name,
                None,
                None,
                "unknown-sheet",
                N_(
                    "sheet {sheet!r} is not a table of the contract and was left out; "
                    "expected sheets named like {expected}"
                ),
                sheet=sheet_name,
                expected=join_texts(Text(s.label) for s in TABLES.values()),
            )
        return None
    if key == INSTRUCTIONS:
        return None
    if not visible:
        report.warning(
            sheet_name,
            None,
            None,
            "hidden-sheet",
            N_("sheet {sheet!r} is hidden; it was read as the table {table}"),
            sheet=sheet_name,
            table=key,
        )
    return key


def _check_some_table(file: str, named: set[str], sheets: list[str], report: Report) -> None:
    """The workbook has a sheet of an allocation or a routing table."""
    if not any(t in named for t in (*ALLOCATION_TABLES, *ROUTING_TABLES)):
        report.error(
            file,
            None,
            None,
            "missing-table",
            N_(
                "the workbook has no sheet of an allocation table ({allocation}) nor of a "
                "routing table ({routing}); its sheets: {sheets}"
            ),
            allocation=join_texts(Text(TABLES[t].label) for t in ALLOCATION_TABLES),
            routing=join_texts(Text(TABLES[t].label) for t in ROUTING_TABLES),
            sheets=", ".join(sheets) or "-",
        )


def _too_large(sheet: Any, name: str, report: Report) -> bool:
    """Whether a sheet has more rows or columns than the limits of the moment allow (one
    issue; its cells are not turned into Python values)."""
    bound = limits()
    if sheet.height > bound.max_rows + 1:
        too_many_rows(report, name, bound.max_rows + 2, bound.max_rows)
        return True
    if sheet.width > bound.max_columns:
        too_many_columns(report, name, sheet.width, bound.max_columns)
        return True
    return False


def _check_merged(sheet: Any, name: str, report: Report) -> None:
    for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or ():
        cells = f"{xl_col_to_name(c0)}{r0 + 1}:{xl_col_to_name(c1)}{r1 + 1}"
        report.error(
            name,
            r0 + 1,
            None,
            "merged-cells",
            N_(
                "cells {cells} are merged; expected one value in each cell (unmerge them and "
                "fill every cell)"
            ),
            cells=cells,
        )


def _table(
    rows: list[list[Any]],
    sheet: str,
    schema: TableSchema,
    top: int,
    left: int,
    report: Report,
) -> tuple[ParsedTable, dict[str, str]] | None:
    """A sheet's rows, checked against the table's schema; Excel's row numbers are the
    lines."""
    if not rows or not any(_cell_text(v, None) for v in rows[0]):
        report.error(
            sheet,
            top + 1,
            None,
            "header",
            N_("the first row of the sheet is empty; expected the column names ({columns})"),
            columns=", ".join(schema.required),
        )
        return None
    by_header = _column_names(schema)
    header: list[str] = []
    for v in rows[0]:
        text = _cell_text(v, None)
        header.append(by_header.get(text.casefold(), text))
    width = len(header)
    while width and not header[width - 1]:
        width -= 1  # empty columns right of the table
    header = header[:width]
    known = {c.name: c.kind for c in schema.columns}
    kinds = [known.get(h) for h in header]
    body: list[list[str]] = []
    lines: list[int] = []
    bad: list[int] = []
    for i, row in enumerate(rows[1:], start=top + 2):
        cells = [_cell_text(v, k) for v, k in zip(row[:width], kinds, strict=False)]
        cells += [""] * (width - len(cells))
        if not any(cells) or cells[0].startswith(COMMENT_MARK):
            continue  # an empty row, or a comment (the template's example)
        if drop_long_cells(cells, header, sheet, i, limits().max_cell_chars, report):
            bad.append(len(body))
        stray = next((j for j in range(width, len(row)) if _cell_text(row[j], None)), None)
        if stray is not None:
            report.warning(
                sheet,
                i,
                None,
                "no-header",
                N_("cell {cell} has a value but its column has no header; it was left out"),
                cell=f"{xl_col_to_name(left + stray)}{i}",
            )
        body.append(cells)
        lines.append(i)
    if not body and schema.key in OPTIONAL_TABLES:
        return None  # an optional sheet left empty: as if it were not there
    if check_header(header, sheet, schema, report):
        return None
    table = parse_records(header, body, lines, sheet, schema, report, bad)
    lettering = {h: xl_col_to_name(left + j) for j, h in enumerate(header) if h}
    return table, lettering


def _settings(rows: list[list[Any]], sheet: str, top: int, report: Report) -> dict[str, Any]:
    """``key | value`` rows (the first row is their header) as scenario.toml's settings."""
    from planner.scenario import Rules, Weights

    sections = {
        "rules": set(Rules.__dataclass_fields__),
        "weights": set(Weights.__dataclass_fields__),
    }
    out: dict[str, Any] = {}
    for i, row in enumerate(rows[1:], start=top + 2):
        key = _cell_text(row[0] if row else "", None)
        if not key or key.startswith(COMMENT_MARK):
            continue
        value = row[1] if len(row) > 1 else ""
        section, _, name = key.rpartition(".")
        if not section:
            section = next((s for s, names in sections.items() if key in names), "")
        if section in sections:
            out.setdefault(section, {})[name] = _setting_value(value)
        elif section:
            report.warning(
                sheet,
                i,
                "key",
                "unknown-setting",
                N_(
                    "setting {key!r} is not known; expected name, year, crs, language, or a "
                    "rules or weights key"
                ),
                key=key,
            )
        else:
            out[key] = _setting_value(value)
    return out


def _setting_value(value: Any) -> Any:
    """A settings cell as TOML would give it: numbers as numbers, ``a;b`` as a list."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if ";" in text:
            return [_setting_value(_number(p)) for p in text.split(";") if p.strip()]
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        return _number(text)
    return value


def _number(text: str) -> Any:
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def cell_references(report: Report, letters: dict[str, dict[str, str]]) -> None:
    """Name each issue of a sheet by its cell as Excel shows it (``岗位!D17``), where the
    sheet, the row and the column are known."""
    for k, issue in enumerate(report.issues):
        lettering = letters.get(issue.file)
        if lettering is None or issue.line is None:
            continue
        letter = lettering.get(issue.column or "")
        cell = (
            f"{issue.file}!{letter}{issue.line}"
            if letter
            else f"{issue.file}!{issue.line}:{issue.line}"
        )
        report.issues[k] = replace(issue, cell=cell)


# --- the template ----------------------------------------------------------------------------

TEMPLATE_TABLES: Sequence[str] = (
    "quotas",
    "posts",
    "continuing",
    "applicants",
    "pairing",
    "targets",
    "stations",
    "stops",
)
"""The sheets of the template (previous_plan and travel_times are rarely kept in Excel)."""

OPTIONAL_TABLES: frozenset[str] = frozenset(TABLES) - frozenset(ALLOCATION_TABLES)
"""Sheets that may be left empty: such a sheet is read as if it were not there (no warning,
and an empty stations or stops sheet does not ask for routing)."""


TABLE_PURPOSES: dict[str, str] = {
    "quotas": N_(
        "The quota of each service county: new volunteers in the general posts and in each "
        "special action."
    ),
    "posts": N_("Every post of the service counties: where it is, its category and seats."),
    "continuing": N_("Two-year volunteers who stay on their post (their seats are taken)."),
    "applicants": N_("Every applicant: recruiting province, degree, major and wishes."),
    "pairing": N_("Which recruiting provinces recruit for which service province (对口)."),
    "targets": N_(
        "The dispatch target of each service province, the recruitment target of "
        "each recruiting province."
    ),
    "previous_plan": N_("The earlier plan, for a re-plan."),
    "stations": N_("County service stations with service vehicles (for routing only)."),
    "stops": N_("Township stops the vehicles visit (for routing only)."),
    "travel_times": N_("Travel minutes between stations and stops (for routing only)."),
}
"""What each sheet is for, in the template's instructions."""


def write_template(path: Path, lang: str) -> Path:
    """An empty scenario workbook in ``lang``: an instructions sheet, a settings sheet and a
    sheet per table, each with its headers (with a comment explaining the column), lists of
    the labels to choose from and an example row (a comment row, starting with ``#``)."""
    with speaking(lang):
        book = open_workbook(path)
        try:
            head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
            need = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
            example = book.add_format({"italic": True, "font_color": "#808080"})
            wrap = book.add_format({"text_wrap": True, "valign": "top"})
            title = book.add_format({"bold": True, "font_size": 14})
            _instructions_sheet(book, title, head, wrap)
            _settings_sheet(book, head, example)
            for key in TEMPLATE_TABLES:
                _table_sheet(book, TABLES[key], head, need, example)
        finally:
            book.close()
    return path


def _instructions_sheet(book: Any, title: Any, head: Any, wrap: Any) -> None:
    """The first sheet: what to fill in, which sheets are required, an example row of each."""
    sheet = book.add_worksheet(tr(INSTRUCTIONS_LABEL))
    sheet.write(0, 0, tr(N_("How to fill in this workbook")), title)
    notes = [
        N_("Fill in one sheet per table; keep the first row (the column names) as it is."),
        N_(
            "Required sheets must have rows; optional sheets may stay empty (an empty "
            "sheet is left out)."
        ),
        N_(
            "Where a cell has a list, choose from it: the words of either language are "
            "accepted (for example 本科 or bachelor)."
        ),
        N_("Orange headers are required columns; hover over a header for its explanation."),
        N_("The grey example row starts with #: it is not read; overwrite or delete it."),
        N_("Upload the saved workbook on the office pages; problems are named by their cell."),
    ]
    for i, note in enumerate(notes, start=2):
        sheet.write(i, 0, f"{i - 1}. {tr(note)}")
    row = len(notes) + 3
    sheet.write_row(
        row,
        0,
        [tr(N_("Sheet")), tr(N_("Required")), tr(N_("What it is for")), tr(N_("Example row"))],
        head,
    )
    required = set(ALLOCATION_TABLES)
    for key in TEMPLATE_TABLES:
        schema = TABLES[key]
        row += 1
        sheet.write(row, 0, tr(schema.label))
        sheet.write(row, 1, tr(N_("required")) if key in required else tr(N_("optional")))
        sheet.write(row, 2, tr(TABLE_PURPOSES[key]), wrap)
        shown = [f"{tr(c.label)}={_example(c)}" for c in schema.columns if c.example]
        sheet.write(row, 3, "; ".join(shown), wrap)
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 10)
    sheet.set_column(2, 2, 50)
    sheet.set_column(3, 3, 90)


def _example(c: Column) -> str:
    """A column's example value as a person types it (a coded value as its label)."""
    vocabulary = vocabulary_of(c.name, c.choices, c.kind is Kind.FLAG)
    if vocabulary is None or not c.example:
        return c.example
    return vocabulary.label(c.example)


def _settings_sheet(book: Any, head: Any, example: Any) -> None:
    sheet = book.add_worksheet(tr(SETTINGS_LABEL))
    sheet.write_row(0, 0, [tr(N_("key")), tr(N_("value")), tr(N_("what it is"))], head)
    rows = [
        ("name", "example-2026", N_("The scenario's name, in the outputs.")),
        ("year", 2026, N_("The plan's year.")),
        ("crs", "wgs84", N_("Coordinates of the tables: wgs84, gcj02 or cgcs2000.")),
        ("language", "zh-CN", N_("Language of the outputs: zh-CN or en.")),
        (
            "undergraduate_min_share",
            0.85,
            N_("A4: the least bachelor share per recruiting province."),
        ),
        ("general_post_ratio", 1.2, N_("D1: general seats declared per unit of general quota.")),
    ]
    for i, (key, value, what) in enumerate(rows, start=1):
        sheet.write(i, 0, key)
        sheet.write(i, 1, value)
        sheet.write(i, 2, tr(what), example)
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 1, 16)
    sheet.set_column(2, 2, 60)
    sheet.freeze_panes(1, 0)


def _table_sheet(book: Any, schema: TableSchema, head: Any, need: Any, example: Any) -> None:
    sheet = book.add_worksheet(tr(schema.label))
    for j, c in enumerate(schema.columns):
        sheet.write(0, j, tr(c.label), need if c.required else head)
        sheet.write_comment(0, j, _comment(c), {"x_scale": 2.2, "y_scale": 1.6})
        vocabulary = vocabulary_of(c.name, c.choices, c.kind is Kind.FLAG)
        if vocabulary is not None and c.kind is not Kind.CHOICES:
            sheet.data_validation(
                1,
                j,
                100_000,
                j,
                {
                    "validate": "list",
                    "source": vocabulary.labels_in(),
                    "error_title": tr(c.label),
                    "error_message": tr(N_("choose one of the list")),
                },
            )
        value = _example(c)
        if j == 0:
            value = f"{COMMENT_MARK} {value}" if value else COMMENT_MARK
        sheet.write_string(1, j, value, example)
        sheet.set_column(j, j, max(12, min(28, 2 * len(tr(c.label)) + 2)))
    sheet.freeze_panes(1, 0)


def _comment(c: Column) -> str:
    lines = [tr(c.label), tr(c.help)]
    vocabulary = vocabulary_of(c.name, c.choices, c.kind is Kind.FLAG)
    if vocabulary is not None:
        lines.append(tr(N_("allowed: {values}"), values=vocabulary.listing().render()))
        if c.kind is Kind.CHOICES:
            lines.append(tr(N_("several values are separated by ; or 、")))
    else:
        lines.append(tr(N_("expected: {what}"), what=tr(c.kind.value)))
    if c.required:
        lines.append(tr(N_("required")))
    elif c.default:
        lines.append(tr(N_("empty: {default}"), default=_example(replace(c, example=c.default))))
    lines.append(tr(N_("A row whose first cell starts with # is not read (like the example).")))
    return "\n".join(lines)
