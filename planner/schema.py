"""The tables of the data contract: their columns, kinds and defaults, written once.

One :class:`TableSchema` per ``[files]`` key of ``scenario.toml``. The I/O layer reads a CSV, a
sheet or a DataFrame against its schema and checks every cell by its :class:`Kind`;
:meth:`TableSchema.build` turns the checked columns into the typed table of
:mod:`planner.scenario`; the routing problem takes its defaults from here. The names are the
contract (``docs/data-contract.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from planner import scenario as sc
from planner.i18n import N_
from planner.scenario import CATEGORIES, DEGREES, MAJOR_CLASSES, SPECIAL_ACTIONS


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


def _req(
    name: str,
    kind: Kind,
    label: str,
    help: str,
    example: str,
    choices: tuple[str, ...] = (),
    maximum: float | None = None,
) -> Column:
    return Column(name, kind, True, "", choices, label, help, example, maximum)


def _opt(
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
    return Column(name, kind, False, default, choices, label, help, example, maximum, minimum)


_ACTION_LABELS = {
    "youth_center": N_("Youth center quota"),
    "remote_education": N_("Remote education quota"),
    "rural_culture": N_("Rural culture quota"),
    "procuratorate": N_("Procuratorate quota"),
    "legal_aid": N_("Legal aid quota"),
    "court": N_("Court quota"),
    "development_finance": N_("Development finance quota"),
}
"""The special actions' quota columns, in the seed's words (专项行动)."""

QUOTAS = TableSchema(
    "quotas",
    (
        _req(
            "county_code",
            Kind.COUNTY,
            N_("Service county code"),
            N_("The service county (GB/T 2260 code)."),
            "520102",
        ),
        _req(
            "general_quota",
            Kind.COUNT,
            N_("General quota"),
            N_("New volunteers the county receives in the general posts."),
            "10",
            maximum=MAX_QUOTA,
        ),
        *(
            _opt(
                f"{a}_quota",
                Kind.COUNT,
                _ACTION_LABELS[a],
                N_("New volunteers of this special action; 0 when empty."),
                "0",
                "0",
                maximum=MAX_QUOTA,
            )
            for a in SPECIAL_ACTIONS
        ),
        _opt(
            "barred",
            Kind.FLAG,
            N_("Barred"),
            N_("Yes: the county receives no volunteer this year (a serious accident)."),
            "0",
            "0",
        ),
        _opt(
            "served_last_year",
            Kind.FLAG,
            N_("Served last year"),
            N_("Yes: the county was a service county last year; no: it is new."),
            "1",
            "1",
        ),
    ),
    unique=("county_code",),
    label=N_("Quotas"),
    typed=sc.Quotas,
    stacked=(("special_quota", tuple(f"{a}_quota" for a in SPECIAL_ACTIONS)),),
)

POSTS = TableSchema(
    "posts",
    (
        _req("post_id", Kind.ID, N_("Post ID"), N_("A unique id of the post."), "P0001"),
        _req(
            "county_code",
            Kind.COUNTY,
            N_("Service county code"),
            N_("The service county of the post."),
            "520102",
        ),
        _req(
            "township_code",
            Kind.TOWNSHIP,
            N_("Township code"),
            N_("The township (9 digits, starting with the county code)."),
            "520102001",
        ),
        _req(
            "category",
            Kind.CHOICE,
            N_("Category"),
            N_(
                "The post's category (education, health, a special action, ...): choose from the list."
            ),
            "education",
            CATEGORIES,
        ),
        _req(
            "seats",
            Kind.COUNT,
            N_("Seats"),
            N_("Volunteers the post takes."),
            "2",
            maximum=MAX_POST_SEATS,
        ),
        _opt(
            "lon",
            Kind.LON,
            N_("Longitude"),
            N_("Where the post is; empty: the township's or the county's centre."),
        ),
        _opt("lat", Kind.LAT, N_("Latitude"), N_("Where the post is (with the longitude).")),
        _opt("township_name", Kind.TEXT, N_("Township name"), N_("For people."), "甲镇"),
        _opt(
            "relay",
            Kind.FLAG,
            N_("Relay post"),
            N_("Yes: a relay post, kept continuous (接力机制)."),
            "0",
            "0",
        ),
        _opt(
            "required_majors",
            Kind.CHOICES,
            N_("Required majors"),
            N_("Major classes the post accepts, separated by ;. Empty: any."),
            choices=MAJOR_CLASSES,
        ),
        _opt(
            "min_degree",
            Kind.DEGREE,
            N_("Minimum degree"),
            N_("The lowest degree the post accepts. Empty: any."),
            choices=DEGREES,
        ),
    ),
    unique=("post_id",),
    label=N_("Posts"),
    typed=sc.Posts,
)

CONTINUING = TableSchema(
    "continuing",
    (
        _req(
            "volunteer_id",
            Kind.ID,
            N_("Volunteer ID"),
            N_("A two-year volunteer who stays."),
            "V0001",
        ),
        _req(
            "post_id", Kind.ID, N_("Post ID"), N_("The post whose seat he or she keeps."), "P0001"
        ),
    ),
    unique=("volunteer_id",),
    label=N_("Continuing volunteers"),
    typed=sc.Continuing,
)

PREF_COLUMNS: tuple[str, ...] = tuple(f"pref_{i}" for i in range(1, 6))

APPLICANTS = TableSchema(
    "applicants",
    (
        _req("applicant_id", Kind.ID, N_("Applicant ID"), N_("A unique id."), "A0001"),
        _req(
            "recruit_province",
            Kind.PROVINCE,
            N_("Recruiting province"),
            N_("The province of the applicant's university."),
            "110000",
        ),
        _req(
            "degree",
            Kind.DEGREE,
            N_("Degree"),
            N_("The applicant's highest degree."),
            "bachelor",
            DEGREES,
        ),
        _req(
            "major_class",
            Kind.CHOICE,
            N_("Major class"),
            N_("The class of the applicant's major."),
            "education",
            MAJOR_CLASSES,
        ),
        _req(
            "pref_1",
            Kind.AREA,
            N_("Preference 1"),
            N_("The first wish: a service province or county code."),
            "520000",
        ),
        *(
            _opt(p, Kind.AREA, label, N_("A further wish."))
            for p, label in zip(
                PREF_COLUMNS[1:],
                (N_("Preference 2"), N_("Preference 3"), N_("Preference 4"), N_("Preference 5")),
                strict=True,
            )
        ),
        _opt(
            "home_county_code",
            Kind.COUNTY,
            N_("Home county code"),
            N_("Where the applicant lives (for the transport subsidy), or give lon/lat."),
            "110101",
        ),
        _opt("home_lon", Kind.LON, N_("Home longitude"), N_("Instead of the home county.")),
        _opt("home_lat", Kind.LAT, N_("Home latitude"), N_("Instead of the home county.")),
        _opt(
            "preferred_categories",
            Kind.CHOICES,
            N_("Preferred categories"),
            N_("Post categories the applicant prefers, separated by ;."),
            choices=CATEGORIES,
        ),
        _opt(
            "term_years",
            Kind.TERM,
            N_("Term (years)"),
            N_("1 or 2 years of service."),
            "1",
            "1",
            ("1", "2"),
        ),
        _opt(
            "health_ok",
            Kind.FLAG,
            N_("Passed health check"),
            N_("Yes: passed the health check; no: not (not placed)."),
            "1",
            "1",
        ),
    ),
    unique=("applicant_id",),
    label=N_("Applicants"),
    typed=sc.Applicants,
    stacked=(("preferences", PREF_COLUMNS),),
)

PAIRING = TableSchema(
    "pairing",
    (
        _req(
            "service_province",
            Kind.PROVINCE,
            N_("Service province"),
            N_("A service province (西部 province)."),
            "520000",
        ),
        _req(
            "recruit_province",
            Kind.PROVINCE,
            N_("Recruiting province"),
            N_("A province whose universities recruit for it (对口)."),
            "110000",
        ),
        _opt(
            "seats",
            Kind.COUNT,
            N_("Pair seats"),
            N_("At most this many from the pair. Empty: no limit."),
            maximum=MAX_TARGET,
        ),
    ),
    unique=("service_province", "recruit_province"),
    label=N_("Pairing"),
    typed=sc.Pairing,
)

TARGETS = TableSchema(
    "targets",
    (
        _req("province_code", Kind.PROVINCE, N_("Province code"), N_("A province."), "520000"),
        _req(
            "role",
            Kind.CHOICE,
            N_("Role"),
            N_(
                "A service province's dispatch target (计划派遣名额) or a recruiting "
                "province's recruitment target (招募指标)."
            ),
            "service",
            ("service", "recruit"),
        ),
        _req(
            "target",
            Kind.COUNT,
            N_("Target"),
            N_("The number of volunteers."),
            "100",
            maximum=MAX_TARGET,
        ),
    ),
    unique=("province_code", "role"),
    label=N_("Targets"),
    typed=sc.Targets,
)

PREVIOUS_PLAN = TableSchema(
    "previous_plan",
    (
        _req(
            "applicant_id",
            Kind.ID,
            N_("Applicant ID"),
            N_("A volunteer of the earlier plan."),
            "A0001",
        ),
        _req("post_id", Kind.ID, N_("Post ID"), N_("His or her post in that plan."), "P0001"),
    ),
    unique=("applicant_id",),
    label=N_("Previous plan"),
    typed=sc.PreviousPlan,
)

STATIONS = TableSchema(
    "stations",
    (
        _req("station_id", Kind.ID, N_("Station ID"), N_("A county service station."), "S520102"),
        _req("county_code", Kind.COUNTY, N_("County code"), N_("The station's county."), "520102"),
        _req("lon", Kind.LON, N_("Longitude"), N_("Where the station is."), "106.7513"),
        _req("lat", Kind.LAT, N_("Latitude"), N_("Where the station is."), "26.5408"),
        _req(
            "vehicles",
            Kind.COUNT,
            N_("Vehicles"),
            N_("Service vehicles of the station."),
            "2",
            maximum=MAX_VEHICLES,
        ),
        _req(
            "clients_per_vehicle_day",
            Kind.COUNT,
            N_("Clients a vehicle a day"),
            N_("Clients one vehicle serves in a day."),
            "40",
            maximum=MAX_CLIENTS_PER_DAY,
        ),
        _opt(
            "shift_start",
            Kind.TIME,
            N_("Shift start"),
            N_("When the vehicles leave, HH:MM."),
            "08:00",
            "08:00",
        ),
        _opt(
            "shift_end",
            Kind.TIME,
            N_("Shift end"),
            N_("When they are back, HH:MM."),
            "17:00",
            "17:00",
        ),
        _opt(
            "crew_size",
            Kind.COUNT,
            N_("Crew size"),
            N_("Volunteers a vehicle needs."),
            "2",
            "2",
            maximum=MAX_CREW,
        ),
        _opt(
            "days",
            Kind.COUNT,
            N_("Campaign days"),
            N_("Days of the campaign."),
            "20",
            "20",
            maximum=MAX_DAYS,
        ),
    ),
    unique=("station_id",),
    label=N_("Stations"),
    typed=sc.Stations,
)

STOPS = TableSchema(
    "stops",
    (
        _req("stop_id", Kind.ID, N_("Stop ID"), N_("A township stop."), "T0001"),
        _req("county_code", Kind.COUNTY, N_("County code"), N_("The stop's county."), "520102"),
        _req("lon", Kind.LON, N_("Longitude"), N_("Where the stop is."), "106.7350"),
        _req("lat", Kind.LAT, N_("Latitude"), N_("Where the stop is."), "26.5500"),
        _req(
            "demand",
            Kind.COUNT,
            N_("Demand"),
            N_("Clients to serve there."),
            "120",
            maximum=MAX_DEMAND,
        ),
        _opt(
            "township_code",
            Kind.TOWNSHIP,
            N_("Township code"),
            N_("The township the stop belongs to (its coverage target)."),
            "520102001",
        ),
        _opt(
            "minutes_per_client",
            Kind.NUMBER,
            N_("Minutes a client"),
            N_("Service minutes per client."),
            "6",
            "6",
            maximum=MINUTES_A_DAY,
            minimum=0,
        ),
        _opt(
            "setup_minutes",
            Kind.NUMBER,
            N_("Set-up minutes"),
            N_("Minutes to set up at the stop."),
            "20",
            "20",
            maximum=MINUTES_A_DAY,
            minimum=0,
        ),
        _opt("open", Kind.TIME, N_("Opens"), N_("Start of the stop's time window, HH:MM.")),
        _opt("close", Kind.TIME, N_("Closes"), N_("End of the stop's time window, HH:MM.")),
        _opt(
            "priority",
            Kind.COUNT,
            N_("Priority"),
            N_("1 is ordinary; more weighs its demand beyond the target more."),
            "1",
            "1",
            maximum=MAX_PRIORITY,
        ),
    ),
    unique=("stop_id",),
    label=N_("Stops"),
    typed=sc.Stops,
)

TRAVEL_TIMES = TableSchema(
    "travel_times",
    (
        _req("from_id", Kind.ID, N_("From"), N_("A station or stop id."), "S520102"),
        _req("to_id", Kind.ID, N_("To"), N_("A station or stop id."), "T0001"),
        _opt(
            "minutes",
            Kind.NUMBER,
            N_("Minutes"),
            N_("Travel minutes; empty: no path."),
            maximum=MAX_TRAVEL_MINUTES,
        ),
    ),
    unique=("from_id", "to_id"),
    label=N_("Travel times"),
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
