"""An independent checker for volunteer-allocation plans (planning model, section 2).

Written from the specification alone, without looking at any solver: it recomputes the hard
constraints A1-A6, the six objective terms and the budget of section 2.4 for a given plan, with
plain loops over dicts so that every rule can be read off the code.

Decisions where the specification leaves a choice (the team's conventions):

- A missing ``quotas`` or ``pairing`` table is read as an empty table (so no placement is
  allowed); a missing ``targets`` table, or a province without a target row, sets no bound.
- A post's open seats are ``seats`` minus the continuing volunteers on it, clipped at 0.
- Term 1 counts every open seat of a relay post left empty, in barred counties too; a post
  that is over-full (an A1 violation) contributes 0, never a negative number.
- Term 2 counts, per non-barred county of ``quotas``, general plus special quotas minus all new
  volunteers placed in the county's posts, clipped at 0.
- Term 3 charges ``outside_preference`` for any placement outside the preferences (an A5
  violation as well unless ``rules.allow_outside_preferences``).
- Term 5 and the budget use the transport subsidy of the last tier whose lower bound is at most
  the distance (0 CNY when no tier applies). Post coordinates fall back to the county centroid
  when missing (the loader normally fills them).
- A4 compares exact fractions, reading the share as the decimal it was written as (0.85 ->
  17/20), so that float noise never turns a boundary case around.

Placements with an unknown applicant or post id are reported under A1 and skipped otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

# The inputs are read by attribute (duck typing): the scenario's tables ``posts``,
# ``applicants``, ``counties``, ... and ``rules``/``weights`` with the fields the spec names. The
# checker imports nothing of the packages it checks, not even their types
# (tests/support/test_independence.py reads its imports).
ScenarioData = Any
"""A scenario's data as ``planner.scenario.ScenarioData`` holds it (read by attribute)."""
Rules = Any
"""The scenario's rules as ``planner.scenario.Rules`` holds them (read by attribute)."""

# The facts of the rules, restated from the spec (/work/shared/spec/planning-model.md,
# section 2) rather than imported from the planner, so that a wrong constant there is caught
# here instead of being shared.

DEGREES: tuple[str, ...] = ("junior_college", "bachelor", "master", "doctor")
"""Degrees in increasing order (A5: junior_college < bachelor < master < doctor)."""

BACHELOR_RANK = DEGREES.index("bachelor")
"""A4 counts ``bachelor``, ``master`` and ``doctor``: the ranks from this one up."""

SPECIAL_ACTIONS: tuple[str, ...] = (
    "youth_center",
    "remote_education",
    "rural_culture",
    "procuratorate",
    "legal_aid",
    "court",
    "development_finance",
)
"""The special actions (专项行动), in the order of their quota columns; one bucket each (A2)."""

GENERAL_CATEGORIES: tuple[str, ...] = (
    "education",
    "health",
    "agriculture",
    "mobile_service",
    "other",
)
"""The categories of a county's general bucket (A2)."""

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
"""The major classes (``other``'s default fit is every class)."""

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
"""Objective term 4's default fit table: the major classes that fit each category."""

HIGH_LIVING_SUBSIDY_AREAS: tuple[str, ...] = (
    "54",  # Tibet
    "5133",  # Ganzi, Sichuan
    "5132",  # Aba, Sichuan
    "5134",  # Liangshan, Sichuan
    "6325",  # Hainan, Qinghai
    "6328",  # Haixi, Qinghai
    "6322",  # Haibei, Qinghai
    "6323",  # Huangnan, Qinghai
    "5334",  # Diqing, Yunnan
)
"""Code prefixes paid the higher living subsidy (section 2.4)."""

EARTH_RADIUS_KM = 6371.0088
"""Mean earth radius (IUGG) of the spec's great-circle distance."""

TERM_NAMES: tuple[str, ...] = (
    "relay_empty",
    "quota_unfilled",
    "preference",
    "major_mismatch",
    "transport_subsidy",
    "replan_moves",
)


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check_plan` found for one plan."""

    violations: list[str]
    """Human-readable, each starting with its rule label ``"A1: "`` ... ``"A6: "``."""
    terms: dict[str, float]
    """Objective terms 1-6 by name (:data:`TERM_NAMES`), each already multiplied by its weight."""
    objective: float
    """Sum of ``terms``."""
    counts: dict[str, int]
    """Unweighted counts behind the terms (``placed``, ``relay_empty_seats``, ...)."""
    budget_total_cny: int
    """Section 2.4: sum over placed volunteers of the yearly cost."""
    budget_by_service_province: dict[str, int] = field(default_factory=dict)
    budget_by_recruit_province: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the plan breaks no hard constraint."""
        return not self.violations

    def rules_broken(self) -> set[str]:
        """The labels (``"A1"`` ...) of the rules that the plan breaks."""
        return {v.split(":", 1)[0] for v in self.violations}


# Small, separately tested pieces ------------------------------------------------------------


def province_of(county_code: str) -> str:
    """The province code ``PP0000`` of a county code ``PPCCDD``."""
    return county_code[:2] + "0000"


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in km between two WGS-84 points (degrees), haversine formula."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = math.radians(lat2 - lat1)
    dlam = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    h = min(1.0, max(0.0, h))
    return 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def transport_subsidy_cny(distance_km: float, rules: Rules) -> int:
    """Yearly transport subsidy: the CNY of the last tier whose lower bound <= the distance."""
    amount = 0
    for lower_km, cny in zip(rules.transport_tiers_km, rules.transport_tiers_cny, strict=True):
        if lower_km <= distance_km:
            amount = int(cny)
    return amount


def living_subsidy_month_cny(county_code: str, rules: Rules) -> int:
    """Monthly living subsidy of a service county (the higher rate in the listed areas)."""
    for prefix in HIGH_LIVING_SUBSIDY_AREAS:
        if county_code.startswith(prefix):
            return int(rules.living_subsidy_month_high)
    return int(rules.living_subsidy_month)


def bachelor_share_ok(bachelors: int, placed: int, share: float) -> bool:
    """A4 for one recruiting province: ``bachelors >= share * placed``, compared exactly."""
    exact_share = Fraction(repr(float(share)))
    return Fraction(bachelors) >= exact_share * placed


# The checker --------------------------------------------------------------------------------


@dataclass
class _Post:
    post_id: str
    county: str
    province: str
    category: str
    seats: int
    relay: bool
    required_majors: frozenset[str]
    min_degree: int
    lon: float
    lat: float
    continuing: int = 0

    @property
    def open_seats(self) -> int:
        return max(0, self.seats - self.continuing)


@dataclass
class _Applicant:
    applicant_id: str
    recruit: str
    degree: int
    major: str
    preferences: list[str]
    home_county: str
    home_lon: float
    home_lat: float
    health_ok: bool


def _finite(x: float) -> bool:
    return x is not None and math.isfinite(x)


def _read_posts(scenario: ScenarioData) -> dict[str, _Post]:
    posts: dict[str, _Post] = {}
    p = scenario.posts
    if p is None:
        return posts
    ids = p.post_id.tolist()
    county = p.county_code.tolist()
    category = p.category.tolist()
    seats = p.seats.tolist()
    relay = p.relay.tolist()
    min_degree = p.min_degree.tolist()
    lon = p.lon.tolist()
    lat = p.lat.tolist()
    for i in range(len(ids)):
        posts[str(ids[i])] = _Post(
            post_id=str(ids[i]),
            county=str(county[i]),
            province=province_of(str(county[i])),
            category=str(category[i]),
            seats=int(seats[i]),
            relay=bool(relay[i]),
            required_majors=frozenset(p.required_majors[i]),
            min_degree=int(min_degree[i]),
            lon=float(lon[i]),
            lat=float(lat[i]),
        )
    if scenario.continuing is not None:
        for post_id in scenario.continuing.post_id.tolist():
            if str(post_id) in posts:
                posts[str(post_id)].continuing += 1
    return posts


def _read_applicants(scenario: ScenarioData) -> dict[str, _Applicant]:
    out: dict[str, _Applicant] = {}
    a = scenario.applicants
    if a is None:
        return out
    ids = a.applicant_id.tolist()
    recruit = a.recruit_province.tolist()
    degree = a.degree.tolist()
    major = a.major_class.tolist()
    prefs = a.preferences.tolist()
    home = a.home_county_code.tolist()
    home_lon = a.home_lon.tolist()
    home_lat = a.home_lat.tolist()
    health = a.health_ok.tolist()
    for i in range(len(ids)):
        out[str(ids[i])] = _Applicant(
            applicant_id=str(ids[i]),
            recruit=str(recruit[i]),
            degree=int(degree[i]),
            major=str(major[i]),
            preferences=[str(x) for x in prefs[i]],
            home_county=str(home[i]),
            home_lon=float(home_lon[i]),
            home_lat=float(home_lat[i]),
            health_ok=bool(health[i]),
        )
    return out


def _centroids(scenario: ScenarioData) -> dict[str, tuple[float, float]]:
    c = scenario.counties
    codes = c.code.tolist()
    lon = c.centroid_lon.tolist()
    lat = c.centroid_lat.tolist()
    return {str(codes[i]): (float(lon[i]), float(lat[i])) for i in range(len(codes))}


def _home_point(a: _Applicant, centroids: dict[str, tuple[float, float]]) -> tuple[float, float]:
    if _finite(a.home_lon) and _finite(a.home_lat):
        return a.home_lon, a.home_lat
    if a.home_county in centroids:
        return centroids[a.home_county]
    raise ValueError(
        f"applicant {a.applicant_id}: no home coordinates and home county "
        f"{a.home_county!r} has no centroid"
    )


def _post_point(p: _Post, centroids: dict[str, tuple[float, float]]) -> tuple[float, float]:
    if _finite(p.lon) and _finite(p.lat):
        return p.lon, p.lat
    if p.county in centroids:
        return centroids[p.county]
    raise ValueError(f"post {p.post_id}: no coordinates and county {p.county!r} has no centroid")


def _preference_rank(a: _Applicant, p: _Post) -> int | None:
    """1-based rank of the first preference naming the post's county or province, or None."""
    for i, pref in enumerate(a.preferences):
        if pref != "" and (pref == p.county or pref == p.province):
            return i + 1
    return None


def _add(d: dict[str, int], key: str, n: int = 1) -> None:
    d[key] = d.get(key, 0) + n


def check_plan(scenario: ScenarioData, assignment: Mapping[str, str]) -> CheckResult:
    """Check ``assignment`` (applicant id -> post id) against section 2 of the planning model."""
    rules = scenario.rules
    weights = scenario.weights
    posts = _read_posts(scenario)
    applicants = _read_applicants(scenario)
    centroids = _centroids(scenario)
    violations: list[str] = []

    # A1 (ids): keep only placements whose applicant and post are both known.
    placements: list[tuple[_Applicant, _Post]] = []
    for raw_aid, raw_pid in assignment.items():
        aid, pid = str(raw_aid), str(raw_pid)
        if aid not in applicants:
            violations.append(f"A1: unknown applicant {aid!r} placed on post {pid!r}")
            continue
        if pid not in posts:
            violations.append(f"A1: applicant {aid} placed on unknown post {pid!r}")
            continue
        placements.append((applicants[aid], posts[pid]))

    # Tallies used by several rules.
    placed_on_post: dict[str, int] = {}
    placed_in_county: dict[str, int] = {}
    general_in_county: dict[str, int] = {}
    special_in_county: dict[tuple[str, str], int] = {}
    placed_in_service: dict[str, int] = {}
    placed_from_recruit: dict[str, int] = {}
    bachelors_from_recruit: dict[str, int] = {}
    placed_per_pair: dict[tuple[str, str], int] = {}
    for a, p in placements:
        _add(placed_on_post, p.post_id)
        _add(placed_in_county, p.county)
        if p.category in GENERAL_CATEGORIES:
            _add(general_in_county, p.county)
        elif p.category in SPECIAL_ACTIONS:
            key = (p.county, p.category)
            special_in_county[key] = special_in_county.get(key, 0) + 1
        _add(placed_in_service, p.province)
        _add(placed_from_recruit, a.recruit)
        if a.degree >= BACHELOR_RANK:
            _add(bachelors_from_recruit, a.recruit)
        pair = (p.province, a.recruit)
        placed_per_pair[pair] = placed_per_pair.get(pair, 0) + 1

    # A1: seats per post.
    for post_id, n in placed_on_post.items():
        p = posts[post_id]
        if n > p.open_seats:
            violations.append(
                f"A1: post {post_id} has {n} placed but {p.open_seats} open seats "
                f"({p.seats} seats - {p.continuing} continuing)"
            )

    # A2: quota buckets, barred counties, counties without a quota row.
    quota_rows: dict[str, tuple[int, dict[str, int], bool]] = {}
    if scenario.quotas is not None:
        q = scenario.quotas
        codes = q.county_code.tolist()
        general = q.general_quota.tolist()
        special = q.special_quota.tolist()
        barred = q.barred.tolist()
        for i in range(len(codes)):
            per_action = {
                SPECIAL_ACTIONS[j]: int(special[i][j]) for j in range(len(SPECIAL_ACTIONS))
            }
            quota_rows[str(codes[i])] = (int(general[i]), per_action, bool(barred[i]))
    for county, n in placed_in_county.items():
        if county not in quota_rows:
            violations.append(f"A2: county {county} has no quota row but receives {n} placed")
            continue
        general_quota, per_action, is_barred = quota_rows[county]
        if is_barred:
            violations.append(f"A2: county {county} is barred but receives {n} placed")
        g = general_in_county.get(county, 0)
        if g > general_quota:
            violations.append(
                f"A2: county {county} general bucket has {g} placed > general quota {general_quota}"
            )
    for (county, action), n in special_in_county.items():
        if county not in quota_rows:
            continue  # already reported above
        limit = quota_rows[county][1][action]
        if n > limit:
            violations.append(
                f"A2: county {county} special action {action} has {n} placed > quota {limit}"
            )
    for a, p in placements:
        if p.category not in GENERAL_CATEGORIES and p.category not in SPECIAL_ACTIONS:
            violations.append(
                f"A2: post {p.post_id} has category {p.category!r} in no quota bucket "
                f"(applicant {a.applicant_id})"
            )

    # A3: pairing and pair seats.
    pairs: set[tuple[str, str]] = set()
    pair_seats: dict[tuple[str, str], int] = {}
    if scenario.pairing is not None:
        problem = scenario.pairing
        s_codes = problem.service_province.tolist()
        r_codes = problem.recruit_province.tolist()
        seats = problem.seats.tolist()
        for i in range(len(s_codes)):
            key = (str(s_codes[i]), str(r_codes[i]))
            pairs.add(key)
            if int(seats[i]) >= 0:
                pair_seats[key] = int(seats[i])
    for a, p in placements:
        if (p.province, a.recruit) not in pairs:
            violations.append(
                f"A3: applicant {a.applicant_id} recruited in {a.recruit} placed on post "
                f"{p.post_id} in service province {p.province}, which is not paired with it"
            )
    for pair, n in placed_per_pair.items():
        if pair in pair_seats and n > pair_seats[pair]:
            violations.append(
                f"A3: pair {pair[0]} <- {pair[1]} has {n} placed > pair seats {pair_seats[pair]}"
            )

    # A4: share of bachelor-or-higher among the placed, per recruiting province.
    for recruit, n in placed_from_recruit.items():
        b = bachelors_from_recruit.get(recruit, 0)
        if n > 0 and not bachelor_share_ok(b, n, rules.undergraduate_min_share):
            violations.append(
                f"A4: recruiting province {recruit} has {b} bachelor-or-higher among {n} placed, "
                f"below the share {rules.undergraduate_min_share}"
            )

    # A5: eligibility of each placement.
    for a, p in placements:
        if p.required_majors and a.major not in p.required_majors:
            violations.append(
                f"A5: applicant {a.applicant_id} major {a.major} not in the required majors "
                f"{sorted(p.required_majors)} of post {p.post_id}"
            )
        if p.min_degree >= 0 and a.degree < p.min_degree:
            violations.append(
                f"A5: applicant {a.applicant_id} degree rank {a.degree} below the minimum "
                f"{p.min_degree} of post {p.post_id}"
            )
        if not a.health_ok:
            violations.append(f"A5: applicant {a.applicant_id} did not pass the health check")
        if not rules.allow_outside_preferences and _preference_rank(a, p) is None:
            violations.append(
                f"A5: post {p.post_id} (county {p.county}, province {p.province}) is not among "
                f"the preferences of applicant {a.applicant_id}"
            )

    # A6: dispatch and recruitment targets.
    service_target: dict[str, int] = {}
    recruit_target: dict[str, int] = {}
    if scenario.targets is not None:
        t = scenario.targets
        codes = t.province_code.tolist()
        roles = t.role.tolist()
        targets = t.target.tolist()
        for i in range(len(codes)):
            if str(roles[i]) == "service":
                service_target[str(codes[i])] = int(targets[i])
            elif str(roles[i]) == "recruit":
                recruit_target[str(codes[i])] = int(targets[i])
    for province, n in placed_in_service.items():
        if province in service_target and n > service_target[province]:
            violations.append(
                f"A6: service province {province} receives {n} > dispatch target "
                f"{service_target[province]}"
            )
    for province, n in placed_from_recruit.items():
        if province in recruit_target and n > recruit_target[province]:
            violations.append(
                f"A6: recruiting province {province} sends {n} > recruitment target "
                f"{recruit_target[province]}"
            )

    # Term 1: open seats of relay posts left empty.
    relay_empty_seats = 0
    for p in posts.values():
        if p.relay:
            relay_empty_seats += max(0, p.open_seats - placed_on_post.get(p.post_id, 0))

    # Term 2: quota left unfilled in non-barred counties.
    quota_unfilled_units = 0
    for county, (general_quota, per_action, is_barred) in quota_rows.items():
        if is_barred:
            continue
        total_quota = general_quota + sum(per_action.values())
        quota_unfilled_units += max(0, total_quota - placed_in_county.get(county, 0))

    # Terms 3, 4, 5 and the budget, per placement.
    preference_cost = 0
    rank_steps = 0
    outside = 0
    mismatches = 0
    transport_cny_total = 0
    budget_total = 0
    budget_service: dict[str, int] = {}
    budget_recruit: dict[str, int] = {}
    for a, p in placements:
        rank = _preference_rank(a, p)
        if rank is None:
            outside += 1
            preference_cost += weights.outside_preference
        else:
            rank_steps += rank - 1
            preference_cost += weights.preference_rank * (rank - 1)
        if a.major not in DEFAULT_FIT.get(p.category, frozenset()):
            mismatches += 1
        hx, hy = _home_point(a, centroids)
        px, py = _post_point(p, centroids)
        transport = transport_subsidy_cny(haversine_km(hx, hy, px, py), rules)
        transport_cny_total += transport
        cost = (
            12 * living_subsidy_month_cny(p.county, rules)
            + transport
            + int(rules.insurance_cny)
            + int(rules.health_check_cny)
        )
        budget_total += cost
        _add(budget_service, p.province, cost)
        _add(budget_recruit, a.recruit, cost)

    # Term 6: previous-plan volunteers (still applicants) whose post changes.
    moves = 0
    if scenario.previous_plan is not None:
        prev_ids = scenario.previous_plan.applicant_id.tolist()
        prev_posts = scenario.previous_plan.post_id.tolist()
        for i in range(len(prev_ids)):
            aid = str(prev_ids[i])
            if aid not in applicants:
                continue  # a dropout: not a move
            new_post = assignment.get(aid)
            if new_post is None or str(new_post) != str(prev_posts[i]):
                moves += 1

    terms: dict[str, float] = {
        "relay_empty": float(weights.relay_empty * relay_empty_seats),
        "quota_unfilled": float(weights.quota_unfilled * quota_unfilled_units),
        "preference": float(preference_cost),
        "major_mismatch": float(weights.major_mismatch * mismatches),
        "transport_subsidy": weights.transport_subsidy_per_100cny * transport_cny_total / 100.0,
        "replan_moves": float(weights.replan_move * moves),
    }
    counts = {
        "placed": len(placements),
        "relay_empty_seats": relay_empty_seats,
        "quota_unfilled_units": quota_unfilled_units,
        "preference_rank_steps": rank_steps,
        "outside_preference": outside,
        "major_mismatch": mismatches,
        "transport_subsidy_cny": transport_cny_total,
        "moves": moves,
    }
    return CheckResult(
        violations=violations,
        terms=terms,
        objective=sum(terms[name] for name in TERM_NAMES),
        counts=counts,
        budget_total_cny=budget_total,
        budget_by_service_province=budget_service,
        budget_by_recruit_province=budget_recruit,
    )
