"""``summary.json`` as typed values: what a plan and its routes say about themselves.

A plan folder's ``summary.json`` is :class:`SummaryFile`: the allocation's
:class:`PlanSummary` (when the folder has a plan) and the ``routing`` part,
:class:`RoutingSummary` (when it has routes). Every part is a frozen dataclass read by
attribute (``plan.summary.counts.placed``, ``routes.summary.townships_met``); its mappings
are read-only (:class:`types.MappingProxyType`) and its lists tuples, so a summary is a value.

``to_dict()`` gives the JSON document key for key, in the order the files have always had
(``json.dumps(summary.to_dict(), ensure_ascii=False, indent=2)`` is the file), and
``from_dict()`` reads one back; the two are inverse on every file the planner writes.
Optional keys that a file leaves out (``moves`` outside a re-plan, a county's
``pattern_proof``) are ``None`` here and left out again.

This module imports nothing but the standard library, so the I/O layer and the maps can read
summaries without loading the solvers.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

__all__ = [
    "Budget",
    "CountyRouting",
    "EmptyRelaySeat",
    "FairnessCounts",
    "MissedTownship",
    "PlanCounts",
    "PlanSummary",
    "RoutingSummary",
    "RuleUsage",
    "ScenarioInfo",
    "SubproblemSummary",
    "SummaryFile",
    "Terms",
    "UnfilledQuota",
    "freeze",
    "thaw",
]

_OPTIONAL = {"omit_when_none": True}
"""Field metadata: the key is left out of the JSON when the value is ``None``."""


def freeze(value: Any) -> Any:
    """A read-only copy of a JSON-like value: dicts become mapping proxies, lists tuples."""
    if isinstance(value, Mapping):
        return types.MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The JSON form of a value: models and mappings become dicts, tuples lists."""
    if isinstance(value, _Model):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The resolved field types of a model (cached)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _model_of(hint: Any) -> type[_Model] | None:
    """The model class a field holds (directly, or as ``X | None``), else ``None``."""
    if isinstance(hint, type) and issubclass(hint, _Model):
        return hint
    if isinstance(hint, types.UnionType):
        models = [a for a in typing.get_args(hint) if isinstance(a, type) and issubclass(a, _Model)]
        return models[0] if models else None
    return None


def _convert(hint: Any, value: Any) -> Any:
    """A JSON value as the field's type: a model, a tuple of models, else frozen."""
    if value is None:
        return None
    model = _model_of(hint)
    if model is not None:
        return model.from_dict(value)
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        item = _model_of(args[0]) if args else None
        if item is not None:
            return tuple(item.from_dict(v) for v in value)
    return freeze(value)


class _Model:
    """A frozen dataclass with a JSON form (the mixin of every part of a summary)."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, keys in field order."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.metadata.get("omit_when_none"):
                continue
            out[f.name] = thaw(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Read the JSON form.

        Raises
        ------
        ValueError
            When a key of the model is missing or a key is not one of the model's.
        """
        fields = dataclasses.fields(cls)
        names = {f.name for f in fields}
        unknown = sorted(set(data) - names)
        missing = sorted(
            f.name
            for f in fields
            if f.name not in data
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        )
        if unknown or missing:
            raise ValueError(
                f"{cls.__name__}: missing key(s) {missing}, unknown key(s) {unknown}; "
                f"expected {sorted(names)}"
            )
        hints = _hints(cls)
        values = {f.name: _convert(hints[f.name], data[f.name]) for f in fields if f.name in data}
        return cls(**values)


# --- the allocation --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScenarioInfo(_Model):
    """The scenario a plan was made of: ``source`` is its folder, ``.zip`` or ``builtin:NAME``
    (empty for a scenario built from DataFrames)."""

    name: str
    year: int
    synthetic: bool
    source: str


@dataclass(frozen=True, slots=True)
class Terms(_Model):
    """The six objective terms of section 2, each already weighted."""

    relay_empty: float
    quota_unfilled: float
    preference: float
    major_mismatch: float
    transport_subsidy: float
    replan_moves: float

    @property
    def total(self) -> float:
        return (
            self.relay_empty
            + self.quota_unfilled
            + self.preference
            + self.major_mismatch
            + self.transport_subsidy
            + self.replan_moves
        )


@dataclass(frozen=True, slots=True)
class PlanCounts(_Model):
    """Applicants, placements, quota units and relay seats of a plan."""

    applicants: int
    placed: int
    unplaced: int
    quota_units: int
    quota_unfilled_units: int
    relay_open_seats: int
    relay_empty_seats: int
    outside_preferences: int
    first_preference: int
    major_mismatch: int
    previous_kept: int
    previous_moved: int


@dataclass(frozen=True, slots=True)
class BucketUsage(_Model):
    county_code: str
    bucket: str
    quota: int
    placed: int
    binding: bool


@dataclass(frozen=True, slots=True)
class ServiceUsage(_Model):
    province_code: str
    dispatch_target: int | None
    placed: int
    binding: bool


@dataclass(frozen=True, slots=True)
class RecruitUsage(_Model):
    province_code: str
    recruit_target: int | None
    placed: int
    bachelor_or_higher: int
    bachelor_share: float | None
    target_binding: bool
    share_binding: bool


@dataclass(frozen=True, slots=True)
class PairUsage(_Model):
    service_province: str
    recruit_province: str
    seats: int | None
    placed: int
    binding: bool


@dataclass(frozen=True, slots=True)
class RuleUsage(_Model):
    """How much of each capacity the plan takes (A2, A3, A4, A6); ``None``: unbounded."""

    buckets: tuple[BucketUsage, ...]
    service: tuple[ServiceUsage, ...]
    recruit: tuple[RecruitUsage, ...]
    pairs: tuple[PairUsage, ...]


@dataclass(frozen=True, slots=True)
class Budget(_Model):
    """CNY per year: the total, per service province and per recruiting province."""

    total: int
    by_service_province: Mapping[str, int]
    by_recruit_province: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class UnfilledQuota(_Model):
    """A county short of its quota and the binding cause (text for people)."""

    county_code: str
    quota: int
    placed: int
    unfilled: int
    cause: str


@dataclass(frozen=True, slots=True)
class EmptyRelaySeat(_Model):
    """A relay post with an empty open seat and why (text for people)."""

    post_id: str
    county_code: str
    empty: int
    cause: str


@dataclass(frozen=True, slots=True)
class FairnessCounts(_Model):
    wasted_seats: int
    applicants_with_a_wasted_seat: int
    justified_envy: int
    applicants_with_justified_envy: int
    definition: str


@dataclass(frozen=True, slots=True)
class PlanSummary(_Model):
    """``summary.json`` of a plan (without the ``routing`` part)."""

    planner_version: str
    scenario: ScenarioInfo
    status: str
    optimal: bool
    objective: float
    terms: Terms
    lower_bound: float
    gap: float
    lp_bound: float
    build_seconds: float
    solve_seconds: float
    total_seconds: float
    pricing_rounds: int
    columns: int
    notes: tuple[str, ...]
    counts: PlanCounts
    rules: RuleUsage
    budget_cny: Budget
    unfilled_quota: tuple[UnfilledQuota, ...]
    empty_relay_seats: tuple[EmptyRelaySeat, ...]
    declaration_warnings: tuple[Mapping[str, Any], ...]
    """The validation's warnings (:meth:`planner.issues.Issue.to_dict`)."""
    decisions: Mapping[str, str]
    weights: Mapping[str, float]
    county_quota: Mapping[str, int]
    """Quota units per non-barred county."""
    fairness: FairnessCounts
    moves: Mapping[str, int] | None = field(default=None, metadata=_OPTIONAL)
    """In a re-plan: volunteers of the previous plan kept, moved, unplaced, dropped out."""
    pins: Mapping[str, int] | None = field(default=None, metadata=_OPTIONAL)
    """With the office's pins (``pins.csv``): how many of each action."""
    baseline_objective: float | None = field(default=None, metadata=_OPTIONAL)
    """With pins and the plan they were set on: that plan's objective."""
    pins_cost: float | None = field(default=None, metadata=_OPTIONAL)
    """With pins and the plan they were set on: this objective less that plan's, the exact
    price of the pins."""


# --- the routing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CountyRouting(_Model):
    """One county's townships, demand, targets and whether its capacity allows them."""

    county_code: str
    townships: int
    demand: int
    target: int
    staffed_capacity: int
    target_days_needed: int
    staffed_vehicle_days: int
    target_shift_minutes_needed: float | None
    staffed_shift_minutes: float
    targets_proven_unreachable: bool
    capacity_allows_targets: bool
    served: int
    townships_met: int
    pattern_proof: str | None = field(default=None, metadata=_OPTIONAL)


@dataclass(frozen=True, slots=True)
class MissedTownship(_Model):
    township_code: str
    county_code: str
    target: int
    served: int
    reason: str


@dataclass(frozen=True, slots=True)
class SubproblemSummary(_Model):
    county_code: str
    vehicle_days: int
    visit_nodes: int
    status: str
    seconds: float


@dataclass(frozen=True, slots=True)
class RoutingSummary(_Model):
    """The ``routing`` part of ``summary.json``."""

    status: str
    seconds: float
    routes: int
    visits: int
    travel_minutes: float
    demand: int
    served: int
    coverage_target: float
    townships: int
    townships_met: int
    townships_where_capacity_allows: int
    townships_met_where_capacity_allows: int
    townships_missed_where_capacity_allows: tuple[MissedTownship, ...]
    unserved_by_reason: Mapping[str, int]
    reasons: Mapping[str, str]
    """Reason code -> text for people."""
    counties: tuple[CountyRouting, ...]
    subproblems: tuple[SubproblemSummary, ...]
    decisions: Mapping[str, str]
    time_limit: float
    seed: int
    crews: str
    """Where the crews came from: ``declared``, ``given``, ``plan`` or ``plan DIR``."""
    total_seconds: float
    travel_model: Mapping[str, Any] | None = field(default=None, metadata=_OPTIONAL)
    """Which travel times the routes were made with: ``kind`` ``great_circle`` (with the
    circuity and speed) or ``roads`` (the graph folder, its extract, speeds, snapping)."""


# --- the file --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SummaryFile:
    """A plan folder's ``summary.json``: the plan's summary and/or the routing part."""

    planner_version: str
    scenario: ScenarioInfo
    plan: PlanSummary | None = None
    routing: RoutingSummary | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: the plan's keys (else the version and the scenario), then
        ``routing``."""
        out = (
            self.plan.to_dict()
            if self.plan is not None
            else {"planner_version": self.planner_version, "scenario": self.scenario.to_dict()}
        )
        if self.routing is not None:
            out["routing"] = self.routing.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SummaryFile:
        """Read a ``summary.json`` document.

        Raises
        ------
        ValueError
            When it is neither a plan's nor a routing's summary, or a part lacks a key.
        """
        routing = data.get("routing")
        body = {k: v for k, v in data.items() if k != "routing"}
        plan = PlanSummary.from_dict(body) if set(body) - {"planner_version", "scenario"} else None
        if plan is None and routing is None:
            raise ValueError("summary.json: neither a plan's nor a routing's summary")
        return cls(
            planner_version=str(data["planner_version"]),
            scenario=ScenarioInfo.from_dict(data["scenario"]),
            plan=plan,
            routing=RoutingSummary.from_dict(routing) if routing is not None else None,
        )
