"""The parts the tables of the data contract are written with: the :class:`Kind` of a cell,
the largest value of each number column, a :class:`Column` and a :class:`TableSchema` (the
tables themselves are in :mod:`planner.schema`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from planner import scenario as sc
from planner.i18n import N_
from planner.scenario import DEGREES


class Kind(Enum):
    """How a cell is parsed and what it must look like (the value is the message's "expected"
    part, a template of the catalogue)."""

    PROVINCE = N_("a 6-digit province code like 510000")
    COUNTY = N_("a 6-digit county code like 510104")
    TOWNSHIP = N_("a 9-digit township code like 510104001")
    AREA = N_("a province code (PP0000) or a county code (PPCCDD)")
    ID = N_("a non-empty id")
    TEXT = N_("text")
    COUNT = N_("a whole number >= 0")
    NUMBER = N_("a number")
    LON = N_("a longitude in degrees (-180..180)")
    LAT = N_("a latitude in degrees (-90..90)")
    FLAG = N_("0 or 1")
    TIME = N_("a time HH:MM")
    CHOICE = N_("one of the allowed values")
    CHOICES = N_("a ;-separated list of allowed values")
    DEGREE = N_("a degree (junior college, bachelor, master or doctor)")
    TERM = N_("a term of 1 or 2 years")


# The largest value of each number column (docs/data-contract.md, "Largest values"). Each is
# far above anything real (the whole Western Plan places about 20,000 volunteers a year; a
# township has at most a few hundred thousand people) and far below where the solvers'
# integers (int64, OR-Tools' scaled costs) would overflow.
MAX_QUOTA = 100_000
"""A county's quota of one kind (general or a special action)."""


MAX_POST_SEATS = 10_000
"""Seats of one post."""


MAX_TARGET = 1_000_000
"""A province's dispatch or recruitment target, a pair's seats."""


MAX_VEHICLES = 1_000
"""Vehicles of one station."""


MAX_CLIENTS_PER_DAY = 10_000
"""Clients one vehicle serves in a day."""


MAX_CREW = 100
"""Volunteers one vehicle needs."""


MAX_DAYS = 366
"""Days of a campaign (a year)."""


MAX_DEMAND = 10_000_000
"""Clients of one stop."""


MAX_PRIORITY = 1_000
"""A stop's priority."""


MINUTES_A_DAY = 1_440
"""Service or set-up minutes at a stop (a day)."""


MAX_TRAVEL_MINUTES = 10_080
"""Travel minutes between two places (a week)."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table: ``required`` columns must exist and have a value in every row."""

    name: str
    kind: Kind
    required: bool = False
    default: str = ""
    choices: tuple[str, ...] = ()
    label: str = ""
    """What a person calls the column (a template of the catalogue: 岗位编号 in zh-CN); a
    workbook's header may be the label in either language or the name."""
    help: str = ""
    """What the column holds, for the template workbook's comments (a template)."""
    example: str = ""
    """A value for the template workbook's example row."""
    maximum: float | None = None
    """The largest value a number column accepts (documented in the data contract): larger
    ones are typing errors, and would overflow the solvers' integers."""
    minimum: float | None = None
    """The smallest value a ``NUMBER`` column accepts (a ``COUNT`` is never below 0)."""

    def typed(self, values: np.ndarray) -> Any:
        """The checked text or numbers of this column as the typed table holds them: a
        ``;``-list as a tuple of sets, a degree as its rank in ``DEGREES`` (-1: none), a term
        as an integer; other kinds as they were parsed."""
        if self.kind is Kind.CHOICES:
            return tuple(frozenset(p.strip() for p in v.split(";") if p.strip()) for v in values)
        if self.kind is Kind.DEGREE:
            rank = {d: i for i, d in enumerate(DEGREES)}
            return np.asarray([rank.get(v, -1) for v in values], dtype=np.int64)
        if self.kind is Kind.TERM:
            return np.asarray(values, dtype=np.int64)
        return values


@dataclass(frozen=True, slots=True)
class TableSchema:
    """A table of the contract; ``key`` columns together must be unique."""

    key: str
    columns: tuple[Column, ...]
    unique: tuple[str, ...] = ()
    label: str = ""
    """What a person calls the table (a template: 岗位 in zh-CN), a workbook's sheet name."""
    typed: type | None = None
    """The class of :mod:`planner.scenario` the table becomes: one field per column of the
    same name, the ``stacked`` fields, and ``extra``."""
    stacked: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Fields made of several columns side by side, shape (rows, columns)."""

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)

    def default(self, name: str) -> float:
        """The default of a numeric column, as a number (what a row without it gets)."""
        return float(self.column(name).default)

    def build(self, columns: Mapping[str, np.ndarray], extra: sc.ExtraColumns) -> Any:
        """The typed table (:attr:`typed`) from columns checked against this schema.

        Raises
        ------
        TypeError
            When the typed class and the schema disagree on the fields (a programming error).
        """
        if self.typed is None:
            raise TypeError(f"table {self.key} has no typed class")
        stacked = {name for _, names in self.stacked for name in names}
        fields: dict[str, Any] = {
            c.name: c.typed(columns[c.name]) for c in self.columns if c.name not in stacked
        }
        for field, names in self.stacked:
            parts = [self.column(n).typed(columns[n]) for n in names]
            fields[field] = (
                np.stack(parts, axis=1)
                if len(parts[0])
                else np.zeros((0, len(names)), dtype=parts[0].dtype)
            )
        return self.typed(**fields, extra=extra)


def required(
    name: str,
    kind: Kind,
    label: str,
    help: str,
    example: str,
    choices: tuple[str, ...] = (),
    maximum: float | None = None,
) -> Column:
    """A required column: it must exist and have a value in every row."""
    return Column(name, kind, True, "", choices, label, help, example, maximum)


def optional(
    name: str,
    kind: Kind,
    label: str,
    help: str,
    example: str = "",
    default: str = "",
    choices: tuple[str, ...] = (),
    maximum: float | None = None,
    minimum: float | None = None,
) -> Column:
    """An optional column: a row without a value gets ``default``."""
    return Column(name, kind, False, default, choices, label, help, example, maximum, minimum)
