"""The cells of a table checked by their column's kind (:class:`~planner.columns.Kind`):
codes against their patterns, times, codes and labels of a vocabulary, counts and numbers
against their ranges. Each bad cell is flagged in the table's ``bad`` mask and reported with
its file, line, column, the value found and the value expected (:mod:`geodata.tables` reads
the tables with these)."""

from __future__ import annotations

import re

import numpy as np

from planner.columns import Column, Kind
from planner.i18n import N_, Text
from planner.issues import Report
from planner.labels import Vocabulary, vocabulary_of

_PATTERNS: dict[Kind, re.Pattern[str]] = {
    Kind.PROVINCE: re.compile(r"\d{2}0000"),
    Kind.COUNTY: re.compile(r"\d{6}"),
    Kind.TOWNSHIP: re.compile(r"\d{9}"),
    Kind.AREA: re.compile(r"\d{6}"),
    Kind.TIME: re.compile(r"([01]?\d|2[0-3]):([0-5]\d)"),
}


_MAX_REPORTED_PER_COLUMN = 50
"""Past this many bad cells in one column, the rest are summed up in one issue."""


def _report_cells(
    file: str,
    col: Column,
    line: np.ndarray,
    idx: np.ndarray,
    values: np.ndarray,
    what: Text,
    report: Report,
) -> None:
    for i in idx[:_MAX_REPORTED_PER_COLUMN]:
        report.error(
            file,
            int(line[i]),
            col.name,
            "bad-value",
            N_("found {found!r}; expected {what}"),
            found=str(values[i]),
            what=what,
        )
    if len(idx) > _MAX_REPORTED_PER_COLUMN:
        rest = len(idx) - _MAX_REPORTED_PER_COLUMN
        report.error(
            file,
            int(line[idx[_MAX_REPORTED_PER_COLUMN]]),
            col.name,
            "bad-value",
            N_("{rest} more rows have the same problem in column {column!r} ({what})"),
            rest=rest,
            column=str(col.name),
            what=what,
        )


def parse_column(
    values: np.ndarray,
    col: Column,
    file: str,
    line: np.ndarray,
    bad: np.ndarray,
    report: Report,
) -> np.ndarray:
    """Parse one column, flag bad rows, return typed values (str, int64, float64 or bool)."""
    empty = values == ""
    if col.required and empty.any():
        idx = np.flatnonzero(empty)
        bad[idx] = True
        what = Text(N_("a value ({kind}); the cell is empty"), {"kind": Text(col.kind.value)})
        _report_cells(file, col, line, idx, values, what, report)
    if col.default and not col.required:
        values = np.where(empty, col.default, values)
        empty = values == ""
    kind = col.kind
    if kind in (Kind.ID, Kind.TEXT):
        return values
    if kind in _PATTERNS and kind is not Kind.TIME:
        return _parse_patterned(values, empty, col, file, line, bad, report)
    if kind is Kind.TIME:
        return _parse_times(values, col, file, line, bad, report)
    if kind in (Kind.CHOICE, Kind.DEGREE, Kind.TERM, Kind.FLAG, Kind.CHOICES):
        return _parse_coded(values, col, file, line, bad, report)
    return _parse_numbers(values, empty, col, file, line, bad, report)


def _parse_patterned(
    values: np.ndarray,
    empty: np.ndarray,
    col: Column,
    file: str,
    line: np.ndarray,
    bad: np.ndarray,
    report: Report,
) -> np.ndarray:
    """A column of codes of a pattern (province, county, township, area): checked, kept as
    text; a code saved as a number (``510104.0``) is named as such."""
    kind = col.kind
    pattern = _PATTERNS[kind]
    ok = np.fromiter((bool(pattern.fullmatch(v)) for v in values), dtype=bool, count=len(values))
    wrong = ~ok & ~empty
    if wrong.any():
        idx = np.flatnonzero(wrong)
        bad[idx] = True
        hint = Text(kind.value)
        if any(v.endswith(".0") for v in values[idx][:5]):
            hint = Text(
                N_("{kind} (it looks like a code saved as a number; keep codes as text)"),
                {"kind": hint},
            )
        _report_cells(file, col, line, idx, values, hint, report)
    return values


def _parse_times(
    values: np.ndarray,
    col: Column,
    file: str,
    line: np.ndarray,
    bad: np.ndarray,
    report: Report,
) -> np.ndarray:
    """A column of ``HH:MM`` times as minutes after midnight (-1: none)."""
    minutes = np.full(len(values), -1, dtype=np.int64)
    for i, v in enumerate(values):
        if not v:
            continue
        m = _PATTERNS[Kind.TIME].fullmatch(v)
        if m:
            minutes[i] = int(m.group(1)) * 60 + int(m.group(2))
        else:
            bad[i] = True
            report.error(
                file,
                int(line[i]),
                col.name,
                "bad-value",
                N_("found {found!r}; expected {what}"),
                found=str(v),
                what=Text(col.kind.value),
            )
    return minutes


def _parse_numbers(
    values: np.ndarray,
    empty: np.ndarray,
    col: Column,
    file: str,
    line: np.ndarray,
    bad: np.ndarray,
    report: Report,
) -> np.ndarray:
    """A column of numbers: finite, within the column's range (and a longitude or latitude
    within the globe); a count a whole number >= 0 (int64, -1: none), else float (NaN: none)."""
    kind = col.kind
    number = np.full(len(values), np.nan)
    ok = np.ones(len(values), dtype=bool)
    for i, v in enumerate(values):
        if not v:
            continue
        try:
            number[i] = float(v)
        except ValueError:
            ok[i] = False
    not_finite = ~np.isfinite(number) & ~empty
    ok &= ~not_finite
    if kind is Kind.COUNT:
        return _counts(values, number, ok & ~empty, col, file, line, bad, report)
    unparsable = ~ok & ~empty
    if unparsable.any():
        idx = np.flatnonzero(unparsable)
        bad[idx] = True
        _report_cells(file, col, line, idx, values, Text(kind.value), report)
    for low, high, what in _ranges(col):
        with np.errstate(invalid="ignore"):
            outside = ok & ~empty & ((number < low) | (number > high))
        if outside.any():
            idx = np.flatnonzero(outside)
            bad[idx] = True
            _report_cells(file, col, line, idx, values, what, report)
            ok &= ~outside
    return np.where(ok, number, np.nan)


def _ranges(col: Column) -> list[tuple[float, float, Text]]:
    """The ranges a number column's values must lie in, each with what a value outside it
    should be: the column's own (contract) range, then a longitude's or latitude's."""
    out: list[tuple[float, float, Text]] = []
    if col.maximum is not None or col.minimum is not None:
        low = -np.inf if col.minimum is None else col.minimum
        high = np.inf if col.maximum is None else col.maximum
        out.append((low, high, _between(col, low, high)))
    limit = {Kind.LON: 180.0, Kind.LAT: 90.0}.get(col.kind)
    if limit is not None:
        what = Text(
            N_(
                "{kind}; values this large look like a projected CRS (metres), not the "
                "geographic coordinates that scenario.toml declares"
            ),
            {"kind": Text(col.kind.value)},
        )
        out.append((-limit, limit, what))
    return out


def _counts(
    values: np.ndarray,
    number: np.ndarray,
    given: np.ndarray,
    col: Column,
    file: str,
    line: np.ndarray,
    bad: np.ndarray,
    report: Report,
) -> np.ndarray:
    """A count column (``given``: the parsed, finite, non-empty cells): whole numbers from 0
    to the column's maximum, as int64 (-1: none or bad)."""
    top = np.inf if col.maximum is None else col.maximum
    with np.errstate(invalid="ignore"):
        negative = given & (number < 0)
        too_large = given & (number > top)
        fractional = given & ~negative & ~too_large & (number != np.round(number))
    empty = values == ""
    for mask, what in (
        (~given & ~empty, Text(Kind.COUNT.value)),
        (negative, Text(N_("a whole number >= 0, not a negative number"))),
        (too_large, _at_most(col)),
        (fractional, Text(N_("a whole number >= 0, not a fraction"))),
    ):
        if mask.any():
            idx = np.flatnonzero(mask)
            bad[idx] = True
            _report_cells(file, col, line, idx, values, what, report)
    out = np.where(given & ~negative & ~too_large & ~fractional, number, -1)
    return out.astype(np.int64)


def _at_most(col: Column) -> Text:
    """What a count column larger than its maximum should hold."""
    return Text(
        N_(
            "a whole number from 0 to {maximum:,} (the largest value of {column} the contract allows)"
        ),
        {"maximum": int(col.maximum or 0), "column": col.name},
    )


def _between(col: Column, low: float, high: float) -> Text:
    """What a number column outside its range should hold."""
    if np.isfinite(low):
        return Text(
            N_("a number from {minimum:,} to {maximum:,} (the range the contract allows)"),
            {"minimum": _whole(low), "maximum": _whole(high)},
        )
    return Text(
        N_("a number up to {maximum:,} (the largest value of {column} the contract allows)"),
        {"maximum": _whole(high), "column": col.name},
    )


def _whole(x: float) -> float | int:
    """``1440`` rather than ``1440.0`` in a message."""
    return int(x) if float(x).is_integer() else x


def _parse_coded(
    values: np.ndarray,
    col: Column,
    file: str,
    line: np.ndarray,
    bad: np.ndarray,
    report: Report,
) -> np.ndarray:
    """A column of codes: each cell may hold the code, its label in either language or a
    documented synonym (:mod:`planner.labels`) and becomes the code; an unknown value's
    message lists the labels."""
    vocabulary = vocabulary_of(col.name, col.choices, col.kind is Kind.FLAG)
    out = values.astype(object)
    if vocabulary is None:  # a column of choices without labels: the codes only
        choices = ("0", "1") if col.kind is Kind.FLAG else col.choices
        vocabulary = Vocabulary(f"{file}:{col.name}:{choices}", {c: c for c in choices})
    wrong: list[int] = []
    for i, v in enumerate(values):
        if not v:
            continue
        if col.kind is Kind.CHOICES:
            codes, unknown = vocabulary.codes_of_list(str(v))
            if unknown:
                bad[i] = True
                report.error(
                    file,
                    int(line[i]),
                    col.name,
                    "bad-value",
                    N_("found {found}; expected ;-separated values from {choices}"),
                    found=", ".join(map(repr, unknown)),
                    choices=vocabulary.listing(),
                )
            out[i] = ";".join(codes)
            continue
        code = vocabulary.code(str(v))
        if code is None:
            wrong.append(i)
        else:
            out[i] = code
    if wrong:
        idx = np.asarray(wrong, dtype=np.int64)
        bad[idx] = True
        what = Text(N_("one of {choices}"), {"choices": vocabulary.listing()})
        _report_cells(file, col, line, idx, values, what, report)
    codes_out = out.astype(str) if len(out) else values
    if col.kind is Kind.FLAG:
        return codes_out == "1"
    return codes_out
