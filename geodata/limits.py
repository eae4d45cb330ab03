"""Bounds on what the readers accept, checked while a file is read (not after it is loaded).

A table is read line by line: a line longer than :attr:`ReadLimits.max_line_bytes`, more data
rows than :attr:`ReadLimits.max_rows` or more columns than :attr:`ReadLimits.max_columns`
stop the reading of that file with one issue (rule ``too-large``) naming the file, the line
and the limit; a cell longer than :attr:`ReadLimits.max_cell_chars` is an issue of its own
(rule ``too-long``) and is not kept. So the memory a table takes is bounded by a small multiple
of its size, whatever it holds (``benchmarks/upload_memory.py`` measures it).

The limits of the moment are a context variable: the library uses the defaults, the HTTP
service sets its settings (``PLANNER_MAX_ROWS``, ``PLANNER_MAX_LINE_BYTES``,
``PLANNER_MAX_CELL_CHARS``, ``PLANNER_MAX_COLUMNS``) around the reading of an upload.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from planner.i18n import N_
from planner.issues import Report

TOO_LARGE = "too-large"
"""The rule of an issue that stopped the reading of a file."""


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """What one table may hold (see the module's docstring)."""

    max_rows: int = 2_000_000
    max_line_bytes: int = 1024**2
    max_cell_chars: int = 1_000
    max_columns: int = 200


_LIMITS: ContextVar[ReadLimits] = ContextVar("read_limits", default=ReadLimits())  # noqa: B039


def limits() -> ReadLimits:
    """The limits of the moment."""
    return _LIMITS.get()


@contextmanager
def reading_limits(value: ReadLimits) -> Iterator[ReadLimits]:
    """Read under ``value`` inside the ``with`` block."""
    token = _LIMITS.set(value)
    try:
        yield value
    finally:
        _LIMITS.reset(token)


def too_many_rows(report: Report, file: str, line: int, limit: int) -> None:
    """The issue of a table with more data rows than ``limit`` (its reading stopped)."""
    report.error(
        file,
        line,
        None,
        TOO_LARGE,
        N_(
            "{file} has more than {limit:,} data rows; at most {limit:,} are accepted per "
            "table (PLANNER_MAX_ROWS); the file was not read further"
        ),
        file=file,
        limit=limit,
    )


def line_too_long(report: Report, file: str, line: int, limit: int) -> None:
    """The issue of a line longer than ``limit`` bytes (the file's reading stopped)."""
    report.error(
        file,
        line,
        None,
        TOO_LARGE,
        N_(
            "line {line} of {file} is longer than {limit:,} bytes (PLANNER_MAX_LINE_BYTES); "
            "is it a table? The file was not read further"
        ),
        line=line,
        file=file,
        limit=limit,
    )


def too_many_columns(report: Report, file: str, columns: int, limit: int) -> None:
    """The issue of a header with more than ``limit`` columns (the file was not read)."""
    report.error(
        file,
        1,
        None,
        TOO_LARGE,
        N_(
            "{file} has {columns:,} columns; at most {limit:,} are accepted per table "
            "(PLANNER_MAX_COLUMNS); the file was not read further"
        ),
        file=file,
        columns=columns,
        limit=limit,
    )


def cell_too_long(
    report: Report, file: str, line: int, column: str | None, length: int, limit: int
) -> None:
    """The issue of a cell longer than ``limit`` characters (its value is not kept)."""
    report.error(
        file,
        line,
        column,
        "too-long",
        N_(
            "the cell holds {length:,} characters; at most {limit:,} are accepted "
            "(PLANNER_MAX_CELL_CHARS)"
        ),
        length=length,
        limit=limit,
    )
