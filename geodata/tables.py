"""Read the tables of a scenario against their schema, collecting every problem.

A table (a CSV file, or a DataFrame handed to the library) is read as text (codes stay
strings), checked cell by cell, and returned as a
:class:`ParsedTable` of numpy columns plus a boolean ``bad`` mask of rows with errors. Nothing
raises on bad input: problems go to the :class:`~planner.issues.Report`.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.cells import parse_column
from geodata.limits import cell_too_long, limits, line_too_long, too_many_columns, too_many_rows
from planner.columns import TableSchema
from planner.i18n import N_, Text
from planner.issues import Report

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ParsedTable:
    """Columns of one table after checking; ``line[i]`` is the file line of row ``i``."""

    file: str
    columns: dict[str, np.ndarray]
    line: np.ndarray
    extra_names: tuple[str, ...]
    bad: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __len__(self) -> int:
        return len(self.line)


def decode_text(raw: bytes, file: str, report: Report) -> str | None:
    """Decode a CSV's bytes: UTF-8 (with or without BOM); GBK/GB18030 is decoded with a warning.

    Returns ``None`` (with an error) when the bytes are in no encoding we can read.
    """
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            report.error(
                file,
                line,
                None,
                "encoding",
                N_(
                    "bytes {found!r} at line {line} are neither UTF-8 nor GBK; expected UTF-8 "
                    "text (save the file as 'CSV UTF-8')"
                ),
                found=str(raw[exc.start : exc.start + 4]),
                line=line,
            )
            return None
        report.warning(
            file,
            line,
            None,
            "encoding",
            N_(
                "file is not UTF-8 (first non-UTF-8 bytes at line {line}); it was read as GBK "
                "(GB18030) — check the Chinese text, and save it as 'CSV UTF-8' next time"
            ),
            line=line,
        )
        return text


def read_table(path: Path, file: str, schema: TableSchema, report: Report) -> ParsedTable | None:
    """Read and check one CSV table.

    Parameters
    ----------
    path : Path
        The file on disk.
    file : str
        The file's name as the user knows it (used in every issue).
    schema : TableSchema
        The contract's columns of this table.
    report : Report
        Receives every problem.

    Returns
    -------
    ParsedTable or None
        ``None`` when the file cannot be read as a table at all (missing, empty, undecodable,
        required columns missing); otherwise the parsed columns, rows with errors flagged
        in ``bad``.
    """
    try:
        raw = _read_bounded(path, file, report)
    except FileNotFoundError:
        report.error(
            file,
            None,
            None,
            "missing-file",
            N_("file {file} named in scenario.toml does not exist"),
            file=file,
        )
        return None
    except OSError as exc:
        report.error(
            file,
            None,
            None,
            "unreadable",
            N_("cannot read {file}: {reason}"),
            file=file,
            reason=exc.strerror,
        )
        return None
    if raw is None:
        return None
    text = decode_text(raw, file, report)
    if text is None:
        return None
    if not text.strip():
        report.error(
            file,
            None,
            None,
            "empty-file",
            N_("file is empty; expected a header line with the columns {columns}"),
            columns=", ".join(schema.required),
        )
        return None
    return parse_rows(text, file, schema, report)


def _read_bounded(path: Path, file: str, report: Report) -> bytes | None:
    """The bytes of a CSV file, read line by line under the limits of the moment
    (:mod:`geodata.limits`): ``None`` with one issue at the first line that is too long or
    the first row past the most rows, before the rest is read."""
    bound = limits()
    lines: list[bytes] = []
    with path.open("rb") as f:
        while line := f.readline(bound.max_line_bytes + 1):
            if len(line) > bound.max_line_bytes:
                line_too_long(report, file, len(lines) + 1, bound.max_line_bytes)
                return None
            lines.append(line)
            if len(lines) > bound.max_rows + 1 and line.strip():
                too_many_rows(report, file, len(lines), bound.max_rows)
                return None
    return b"".join(lines)


def parse_rows(text: str, file: str, schema: TableSchema, report: Report) -> ParsedTable | None:
    """Check the decoded text of a table (see :func:`read_table`)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        report.error(
            file, 1, None, "header", N_("cannot read the header line: {reason}"), reason=str(exc)
        )
        return None
    bound = limits()
    if len(header) > bound.max_columns:
        too_many_columns(report, file, len(header), bound.max_columns)
        return None
    if check_header(header, file, schema, report):
        return None
    width = len(header)
    rows: list[list[str]] = []
    lines: list[int] = []
    ragged: list[int] = []
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if len(row) != width:
                ragged.append(len(rows))
                report.error(
                    file,
                    reader.line_num,
                    None,
                    "field-count",
                    N_(
                        "row has {fields} fields, the header has {width}; expected one value per "
                        "column (is a comma inside an unquoted value?)"
                    ),
                    fields=len(row),
                    width=width,
                )
                row = (row + [""] * width)[:width]  # padded; its cells are still checked
            if drop_long_cells(row, header, file, reader.line_num, bound.max_cell_chars, report):
                ragged.append(len(rows))
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as exc:
        report.error(
            file,
            reader.line_num,
            None,
            "csv-syntax",
            N_("malformed CSV: {reason}"),
            reason=str(exc),
        )
        return None
    return parse_records(header, rows, lines, file, schema, report, ragged)


def drop_long_cells(
    row: list[str], header: Sequence[str], file: str, line: int, limit: int, report: Report
) -> bool:
    """Empty the cells of ``row`` longer than ``limit`` characters, each with an issue;
    whether there was one (the row is then flagged bad)."""
    long = [j for j, v in enumerate(row) if len(v) > limit]
    for j in long:
        column = header[j] if j < len(header) else None
        cell_too_long(report, file, line, column, len(row[j]), limit)
        row[j] = ""
    return bool(long)


def parse_frame(
    frame: pd.DataFrame, file: str, schema: TableSchema, report: Report
) -> ParsedTable | None:
    """Check a DataFrame as if it were the CSV file ``frame.to_csv(index=False)`` would write:
    the header is line 1, ``frame.iloc[i]`` is line ``i + 2``.

    Cells may be text or numbers: a missing value is an empty cell, a whole float (the way
    pandas stores an integer column with a gap) is its digits, a bool is 1 or 0.
    """
    header = [str(c).strip() for c in frame.columns]
    if check_header(header, file, schema, report):
        return None
    rows = [[_cell_text(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    return parse_records(header, rows, list(range(2, len(rows) + 2)), file, schema, report)


def _cell_text(value: object) -> str:
    """A DataFrame cell as the text a CSV file would hold."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def parse_records(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    lines: Sequence[int],
    file: str,
    schema: TableSchema,
    report: Report,
    ragged: Sequence[int] = (),
) -> ParsedTable:
    """Check the cells of a table given as text rows under a checked ``header``.

    Parameters
    ----------
    header
        Column names (:func:`_check_header` passed).
    rows
        One list of cell texts per data row, as wide as the header.
    lines
        The line (row number as the user sees it) of each row, for the issues.
    ragged
        Rows already reported as having the wrong number of fields (flagged bad).
    """
    if not rows:
        report.warning(file, None, None, "no-rows", N_("table has a header but no data rows"))
    line = np.asarray(lines, dtype=np.int64)
    raw_cols = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    text_cols = {
        h: np.asarray([v.strip() for v in col], dtype=str)
        for h, col in zip(header, raw_cols, strict=True)
    }
    bad = np.zeros(len(rows), dtype=bool)
    bad[list(ragged)] = True
    columns: dict[str, np.ndarray] = {}
    for col in schema.columns:
        values = text_cols.get(col.name)
        if values is None:
            values = np.full(len(rows), col.default, dtype=object).astype(str)
        columns[col.name] = parse_column(values, col, file, line, bad, report)
    extra = tuple(h for h in header if h not in columns)
    for h in extra:
        columns[h] = text_cols[h]
    table = ParsedTable(file, columns, line, extra, bad)
    _check_unique(table, schema, report)
    return table


def check_header(header: Sequence[str], file: str, schema: TableSchema, report: Report) -> bool:
    problems = False
    seen: set[str] = set()
    for h in header:
        if h in seen:
            report.error(
                file,
                1,
                h,
                "duplicate-column",
                N_("column {column!r} appears twice in the header"),
                column=str(h),
            )
            problems = True
        seen.add(h)
    missing = [c for c in schema.required if c not in seen]
    for c in missing:
        report.error(
            file,
            1,
            c,
            "missing-column",
            N_("required column {column!r} is missing; the header has: {header}"),
            column=str(c),
            header=", ".join(header) or Text(N_("(nothing)")),
        )
        problems = True
    return problems


def _check_unique(table: ParsedTable, schema: TableSchema, report: Report) -> None:
    if not schema.unique or not len(table):
        return
    keys = [table.columns[c] for c in schema.unique]
    combined = keys[0] if len(keys) == 1 else np.char.add(np.char.add(keys[0], "|"), keys[1])
    first_line: dict[str, int] = {}
    for i, k in enumerate(combined):
        if not k or k == "|":
            continue
        if k in first_line:
            table.bad[i] = True
            shown = ", ".join(f"{c}={str(table.columns[c][i])!r}" for c in schema.unique)
            report.error(
                table.file,
                int(table.line[i]),
                schema.unique[0],
                "duplicate-id",
                N_("duplicate {shown}; first seen at line {first}; expected each {key} once"),
                shown=shown,
                first=first_line[k],
                key=" + ".join(schema.unique),
            )
        else:
            first_line[k] = int(table.line[i])
