"""The words and numbers a scenario is planned with: the vocabularies of the planning model
(degrees, majors, categories, special actions), the overridable rules (``[rules]``), the
objective weights (``[weights]``), the road settings (``[routing]``) and the ranges the
settings are checked against (:mod:`geodata.settings` checks them; :mod:`planner.scenario`
holds them with the tables)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from planner.frozen import Frozen

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
class Rules(Frozen):
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
class Weights(Frozen):
    """Objective weights (``[weights]`` of ``scenario.toml``); section 2, terms 1-6."""

    relay_empty: int = 1000
    quota_unfilled: int = 100
    preference_rank: int = 10
    outside_preference: int = 60
    major_mismatch: int = 3
    transport_subsidy_per_100cny: int = 1
    replan_move: int = 50
