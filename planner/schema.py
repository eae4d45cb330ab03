"""The tables of the data contract: their columns, kinds and defaults, written once.

One :class:`TableSchema` per ``[files]`` key of ``scenario.toml``. The I/O layer reads a CSV, a
sheet or a DataFrame against its schema and checks every cell by its :class:`Kind`;
:meth:`TableSchema.build` turns the checked columns into the typed table of
:mod:`planner.scenario`; the routing problem takes its defaults from here. The names are the
contract (``shared/spec/data-contract.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from planner import scenario as sc
from planner.scenario import CATEGORIES, DEGREES, MAJOR_CLASSES, SPECIAL_ACTIONS


class Kind(Enum):
    """How a cell is parsed and what it must look like."""

    PROVINCE = "a 6-digit province code like 510000"
    COUNTY = "a 6-digit county code like 510104"
    TOWNSHIP = "a 9-digit township code like 510104001"
    AREA = "a province code (PP0000) or a county code (PPCCDD)"
    ID = "a non-empty id"
    TEXT = "text"
    COUNT = "a whole number >= 0"
    NUMBER = "a number"
    LON = "a longitude in degrees (-180..180)"
    LAT = "a latitude in degrees (-90..90)"
    FLAG = "0 or 1"
    TIME = "a time HH:MM"
    CHOICE = "one of the allowed values"
    CHOICES = "a ;-separated list of allowed values"
    DEGREE = "a degree (junior_college, bachelor, master or doctor)"
    TERM = "a term of 1 or 2 years"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table: ``required`` columns must exist and have a value in every row."""

    name: str
    kind: Kind
    required: bool = False
    default: str = ""
    choices: tuple[str, ...] = ()

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


def _req(name: str, kind: Kind, choices: tuple[str, ...] = ()) -> Column:
    return Column(name, kind, required=True, choices=choices)


def _opt(name: str, kind: Kind, default: str = "", choices: tuple[str, ...] = ()) -> Column:
    return Column(name, kind, required=False, default=default, choices=choices)


QUOTAS = TableSchema(
    "quotas",
    (
        _req("county_code", Kind.COUNTY),
        _req("general_quota", Kind.COUNT),
        *(_opt(f"{a}_quota", Kind.COUNT, "0") for a in SPECIAL_ACTIONS),
        _opt("barred", Kind.FLAG, "0"),
        _opt("served_last_year", Kind.FLAG, "1"),
    ),
    unique=("county_code",),
    typed=sc.Quotas,
    stacked=(("special_quota", tuple(f"{a}_quota" for a in SPECIAL_ACTIONS)),),
)

POSTS = TableSchema(
    "posts",
    (
        _req("post_id", Kind.ID),
        _req("county_code", Kind.COUNTY),
        _req("township_code", Kind.TOWNSHIP),
        _req("category", Kind.CHOICE, CATEGORIES),
        _req("seats", Kind.COUNT),
        _opt("lon", Kind.LON),
        _opt("lat", Kind.LAT),
        _opt("township_name", Kind.TEXT),
        _opt("relay", Kind.FLAG, "0"),
        _opt("required_majors", Kind.CHOICES, choices=MAJOR_CLASSES),
        _opt("min_degree", Kind.DEGREE, choices=DEGREES),
    ),
    unique=("post_id",),
    typed=sc.Posts,
)

CONTINUING = TableSchema(
    "continuing",
    (_req("volunteer_id", Kind.ID), _req("post_id", Kind.ID)),
    unique=("volunteer_id",),
    typed=sc.Continuing,
)

PREF_COLUMNS: tuple[str, ...] = tuple(f"pref_{i}" for i in range(1, 6))

APPLICANTS = TableSchema(
    "applicants",
    (
        _req("applicant_id", Kind.ID),
        _req("recruit_province", Kind.PROVINCE),
        _req("degree", Kind.DEGREE, DEGREES),
        _req("major_class", Kind.CHOICE, MAJOR_CLASSES),
        _req("pref_1", Kind.AREA),
        *(_opt(p, Kind.AREA) for p in PREF_COLUMNS[1:]),
        _opt("home_county_code", Kind.COUNTY),
        _opt("home_lon", Kind.LON),
        _opt("home_lat", Kind.LAT),
        _opt("preferred_categories", Kind.CHOICES, choices=CATEGORIES),
        _opt("term_years", Kind.TERM, "1", choices=("1", "2")),
        _opt("health_ok", Kind.FLAG, "1"),
    ),
    unique=("applicant_id",),
    typed=sc.Applicants,
    stacked=(("preferences", PREF_COLUMNS),),
)

PAIRING = TableSchema(
    "pairing",
    (
        _req("service_province", Kind.PROVINCE),
        _req("recruit_province", Kind.PROVINCE),
        _opt("seats", Kind.COUNT),
    ),
    unique=("service_province", "recruit_province"),
    typed=sc.Pairing,
)

TARGETS = TableSchema(
    "targets",
    (
        _req("province_code", Kind.PROVINCE),
        _req("role", Kind.CHOICE, ("service", "recruit")),
        _req("target", Kind.COUNT),
    ),
    unique=("province_code", "role"),
    typed=sc.Targets,
)

PREVIOUS_PLAN = TableSchema(
    "previous_plan",
    (_req("applicant_id", Kind.ID), _req("post_id", Kind.ID)),
    unique=("applicant_id",),
    typed=sc.PreviousPlan,
)

STATIONS = TableSchema(
    "stations",
    (
        _req("station_id", Kind.ID),
        _req("county_code", Kind.COUNTY),
        _req("lon", Kind.LON),
        _req("lat", Kind.LAT),
        _req("vehicles", Kind.COUNT),
        _req("clients_per_vehicle_day", Kind.COUNT),
        _opt("shift_start", Kind.TIME, "08:00"),
        _opt("shift_end", Kind.TIME, "17:00"),
        _opt("crew_size", Kind.COUNT, "2"),
        _opt("days", Kind.COUNT, "20"),
    ),
    unique=("station_id",),
    typed=sc.Stations,
)

STOPS = TableSchema(
    "stops",
    (
        _req("stop_id", Kind.ID),
        _req("county_code", Kind.COUNTY),
        _req("lon", Kind.LON),
        _req("lat", Kind.LAT),
        _req("demand", Kind.COUNT),
        _opt("township_code", Kind.TOWNSHIP),
        _opt("minutes_per_client", Kind.NUMBER, "6"),
        _opt("setup_minutes", Kind.NUMBER, "20"),
        _opt("open", Kind.TIME),
        _opt("close", Kind.TIME),
        _opt("priority", Kind.COUNT, "1"),
    ),
    unique=("stop_id",),
    typed=sc.Stops,
)

TRAVEL_TIMES = TableSchema(
    "travel_times",
    (_req("from_id", Kind.ID), _req("to_id", Kind.ID), _opt("minutes", Kind.NUMBER)),
    unique=("from_id", "to_id"),
    typed=sc.TravelTimes,
)

TABLES: dict[str, TableSchema] = {
    s.key: s
    for s in (
        QUOTAS,
        POSTS,
        CONTINUING,
        APPLICANTS,
        PAIRING,
        TARGETS,
        PREVIOUS_PLAN,
        STATIONS,
        STOPS,
        TRAVEL_TIMES,
    )
}
"""Every CSV table of the contract by its ``[files]`` key."""

ALLOCATION_TABLES: tuple[str, ...] = ("quotas", "posts", "applicants", "pairing", "targets")
"""Tables an allocation scenario must name."""

ROUTING_TABLES: tuple[str, ...] = ("stations", "stops")
"""Tables a routing scenario must name."""
