"""Scenario folders as Excel workbooks an office would type, and typed tables compared.

Shared by the workbook, label, settings and office-page tests.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter

from planner import i18n
from planner.schema import TABLES

TABLE_FILES = (
    "quotas",
    "posts",
    "continuing",
    "applicants",
    "pairing",
    "targets",
    "stations",
    "stops",
)
"""The tables of a scenario folder the tests compare, by file stem."""


def same_table(a: Any, b: Any, name: str) -> None:
    """Assert two typed tables of a scenario are equal, field by field (floats NaN-aware)."""
    assert type(a) is type(b), name
    for field in a.__dataclass_fields__:
        x, y = getattr(a, field), getattr(b, field)
        if field == "extra":
            assert x.names == y.names, name
            continue
        if isinstance(x, np.ndarray):
            if x.dtype.kind == "f":
                assert np.allclose(x, y, equal_nan=True), (name, field)
            else:
                assert np.array_equal(x, y), (name, field, x, y)
        else:
            assert x == y, (name, field)


def sheet_label(key: str, lang: str) -> str:
    """The sheet name of table ``key`` in ``lang``."""
    return i18n.render(TABLES[key].label, lang=lang)


def workbook_of(folder: Path, path: Path, lang: str = "zh-CN", typed: bool = True) -> Path:
    """The CSVs of a scenario folder as a workbook: sheets and headers named in ``lang``,
    cells typed as an office's Excel types them (codes and counts as numbers, times as
    times), and the settings sheet."""
    book = openpyxl.Workbook()
    settings = book.active
    settings.title = i18n.render("Settings", lang=lang)
    settings.append(["key", "value"])
    for key, value in (("name", "tiny"), ("year", 2006), ("undergraduate_min_share", 0.85)):
        settings.append([key, value])
    for key in TABLE_FILES:
        frame = pd.read_csv(folder / f"{key}.csv", dtype=str, keep_default_na=False)
        sheet = book.create_sheet(sheet_label(key, lang))
        schema = TABLES[key]
        names = {c.name: c for c in schema.columns}
        sheet.append(
            [i18n.render(names[c].label, lang=lang) if c in names else c for c in frame.columns]
        )
        for row in frame.itertuples(index=False):
            sheet.append(
                [
                    _typed(v, names.get(c)) if typed else v
                    for v, c in zip(row, frame.columns, strict=True)
                ]
            )
    book.save(path)
    return path


def _typed(value: str, column: Any) -> Any:
    if value == "" or column is None:
        return value or None
    kind = column.kind.name
    if kind == "TIME":
        h, m = value.split(":")
        return dt.time(int(h), int(m))
    if kind in ("COUNTY", "PROVINCE", "TOWNSHIP", "COUNT", "FLAG", "TERM"):
        return float(value)  # what Excel stores for a number
    if kind in ("LON", "LAT", "NUMBER"):
        return float(value)
    return value


def break_cell(book_path: Path, sheet: str, row: int, column: str, value: Any) -> str:
    """Write ``value`` into a cell of ``sheet`` (by the column's header); return the cell."""
    book = openpyxl.load_workbook(book_path)
    ws = book[sheet]
    header = [c.value for c in ws[1]]
    col = header.index(column) + 1
    ws.cell(row=row, column=col, value=value)
    book.save(book_path)
    return f"{sheet}!{get_column_letter(col)}{row}"
