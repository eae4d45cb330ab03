"""The allocation solver against hand-computed optima, the independent checker and the direct
CP-SAT formulation (:mod:`planner.allocation.direct`) on random small scenarios.

Scenarios are built in code by :func:`build_scenario` from plain rows. Distances in the hand
examples run along the meridian 100 E, where one degree of latitude is 111.195 km on the spec's
sphere, so every transport tier can be read off by eye.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.allocation.account import build_account
from planner.allocation.arcs import ArcBuilder
from planner.allocation.compact import CompactFlow, solve_compact_flow
from planner.allocation.components import split
from planner.allocation.direct import DirectSolution, solve_direct
from planner.allocation.problem import AllocationProblem
from planner.allocation.share import SharePlan, solve_share
from planner.allocation.solver import AllocationSolution, solve_allocation
from planner.scenario import (
    CATEGORIES,
    DEGREES,
    MAJOR_CLASSES,
    SPECIAL_ACTIONS,
    Applicants,
    Continuing,
    Counties,
    Pairing,
    Posts,
    PreviousPlan,
    Quotas,
    Rules,
    ScenarioData,
    Targets,
    Weights,
)
from tests.alloc_checker import CheckResult, check_plan

NAN = float("nan")


# Building scenarios from rows ----------------------------------------------------------------


@dataclass
class PostRow:
    post_id: str
    county: str
    category: str
    seats: int
    relay: bool = False
    required_majors: frozenset[str] = frozenset()
    min_degree: int = -1
    lon: float = 100.0
    lat: float = 36.0


@dataclass
class ApplicantRow:
    applicant_id: str
    recruit: str
    degree: str
    major: str
    preferences: list[str]
    home_lon: float
    home_lat: float
    health_ok: bool = True
    home_county: str = ""


@dataclass
class QuotaRow:
    county: str
    general: int
    special: dict[str, int] = field(default_factory=dict)
    barred: bool = False


@dataclass
class ScenarioRows:
    counties: list[tuple[str, float, float]]
    """(code, centroid lon, centroid lat)."""
    quotas: list[QuotaRow]
    posts: list[PostRow]
    applicants: list[ApplicantRow]
    pairing: list[tuple[str, str, int]]
    """(service province, recruiting province, seats or -1)."""
    targets: list[tuple[str, str, int]] = field(default_factory=list)
    """(province, "service" or "recruit", target)."""
    continuing: list[tuple[str, str]] = field(default_factory=list)
    previous: list[tuple[str, str]] | None = None
    rules: Rules = field(default_factory=Rules)
    weights: Weights = field(default_factory=Weights)


def arr(values: Sequence[Any], dtype: Any) -> np.ndarray:
    return np.asarray(values, dtype=dtype)


def build_scenario(rows: ScenarioRows) -> ScenarioData:
    """A :class:`ScenarioData` from plain rows (the tables the allocation reads)."""
    codes = [c[0] for c in rows.counties]
    counties = Counties(
        code=arr(codes, str),
        name=arr([f"county {c}" for c in codes], str),
        prefecture_code=arr([c[:4] + "00" for c in codes], str),
        province_code=arr([c[:2] + "0000" for c in codes], str),
        centroid_lon=arr([c[1] for c in rows.counties], float),
        centroid_lat=arr([c[2] for c in rows.counties], float),
    )
    n_q = len(rows.quotas)
    quotas = Quotas(
        county_code=arr([q.county for q in rows.quotas], str),
        general_quota=arr([q.general for q in rows.quotas], np.int64),
        special_quota=arr(
            [[q.special.get(a, 0) for a in SPECIAL_ACTIONS] for q in rows.quotas], np.int64
        ).reshape(n_q, len(SPECIAL_ACTIONS)),
        barred=arr([q.barred for q in rows.quotas], bool),
        served_last_year=arr([True] * n_q, bool),
    )
    ps = rows.posts
    posts = Posts(
        post_id=arr([p.post_id for p in ps], str),
        county_code=arr([p.county for p in ps], str),
        township_code=arr([p.county + f"{i:03d}" for i, p in enumerate(ps)], str),
        category=arr([p.category for p in ps], str),
        seats=arr([p.seats for p in ps], np.int64),
        lon=arr([p.lon for p in ps], float),
        lat=arr([p.lat for p in ps], float),
        township_name=arr([f"t{i}" for i in range(len(ps))], str),
        relay=arr([p.relay for p in ps], bool),
        required_majors=tuple(p.required_majors for p in ps),
        min_degree=arr([p.min_degree for p in ps], np.int64),
    )
    aps = rows.applicants
    applicants = Applicants(
        applicant_id=arr([a.applicant_id for a in aps], str),
        recruit_province=arr([a.recruit for a in aps], str),
        degree=arr([DEGREES.index(a.degree) for a in aps], np.int64),
        major_class=arr([a.major for a in aps], str),
        preferences=arr([a.preferences + [""] * (5 - len(a.preferences)) for a in aps], str),
        home_county_code=arr([a.home_county for a in aps], str),
        home_lon=arr([a.home_lon for a in aps], float),
        home_lat=arr([a.home_lat for a in aps], float),
        preferred_categories=tuple(frozenset() for _ in aps),
        term_years=arr([1] * len(aps), np.int64),
        health_ok=arr([a.health_ok for a in aps], bool),
    )
    pairing = Pairing(
        service_province=arr([p[0] for p in rows.pairing], str),
        recruit_province=arr([p[1] for p in rows.pairing], str),
        seats=arr([p[2] for p in rows.pairing], np.int64),
    )
    targets = Targets(
        province_code=arr([t[0] for t in rows.targets], str),
        role=arr([t[1] for t in rows.targets], str),
        target=arr([t[2] for t in rows.targets], np.int64),
    )
    continuing = Continuing(
        volunteer_id=arr([c[0] for c in rows.continuing], str),
        post_id=arr([c[1] for c in rows.continuing], str),
    )
    previous = None
    if rows.previous is not None:
        previous = PreviousPlan(
            applicant_id=arr([p[0] for p in rows.previous], str),
            post_id=arr([p[1] for p in rows.previous], str),
        )
    return ScenarioData(
        name="test",
        year=2024,
        synthetic=True,
        description="",
        rules=rows.rules,
        weights=rows.weights,
        counties=counties,
        quotas=quotas,
        posts=posts,
        continuing=continuing,
        applicants=applicants,
        pairing=pairing,
        targets=targets,
        previous_plan=previous,
    )


def assignment(problem: AllocationProblem, post_of: np.ndarray) -> dict[str, str]:
    """Applicant id -> post id of a plan given as post indices."""
    return {
        str(problem.applicant_id[a]): str(problem.post_id[p])
        for a, p in enumerate(post_of.tolist())
        if p >= 0
    }


def checked(scenario: ScenarioData, problem: AllocationProblem, post_of: np.ndarray) -> CheckResult:
    """The independent checker's verdict on a plan, which must break no rule."""
    result = check_plan(scenario, assignment(problem, post_of))
    assert result.violations == []
    return result


# A tiny optimum by hand ----------------------------------------------------------------------

X = "620102"  # a Gansu county, service province 620000, centroid (100, 36)


def tiny_rows() -> ScenarioRows:
    """Two posts, three applicants, one relay post; A4 decides the optimum."""
    return ScenarioRows(
        counties=[(X, 100.0, 36.0)],
        quotas=[QuotaRow(X, general=2)],
        posts=[
            PostRow("P1", X, "education", 1, relay=True),
            PostRow("P2", X, "health", 1, required_majors=frozenset({"medicine"})),
        ],
        applicants=[
            ApplicantRow("a1", "110000", "bachelor", "education", [X], 100.0, 30.0),
            ApplicantRow("a2", "110000", "bachelor", "medicine", ["620000"], 100.0, 30.0),
            ApplicantRow("a3", "110000", "junior_college", "arts", [X], 100.0, 36.0),
        ],
        pairing=[("620000", "110000", -1)],
    )


def test_tiny_optimum_by_hand() -> None:
    # Constant (the empty plan): 1 empty relay seat x 1000 + 2 quota units x 100 = 1200.
    # Eligible arcs (P2 requires medicine, so only a2 may take it), cost of each placement:
    #   quota -100, relay -1000, 10 x (rank - 1), 3 x mismatch, transport CNY / 100
    #   a1 -> P1: -100 - 1000 + 0 + 0 (education fits education)
    #             + 10 ((100,30)->(100,36): 6 deg = 667 km -> 1000 CNY)          = -1090
    #   a2 -> P1: -100 - 1000 + 0 + 3 (medicine does not fit education) + 10     = -1087
    #   a2 -> P2: -100 + 0 + 0 (medicine fits health) + 10                        =   -90
    #   a3 -> P1: -100 - 1000 + 0 + 0 (arts fits education) + 5 (0 km -> 500 CNY) = -1095
    # Without A4 the best plan is a3 -> P1, a2 -> P2: 1200 - 1095 - 90 = 15.
    # A4 (all recruited in 110000): a3 is junior_college; with a2 he makes 1 bachelor of 2
    # placed (< 85%), alone 0 of 1; so a3 stays out and the optimum is
    #   a1 -> P1, a2 -> P2: 1200 - 1090 - 90 = 20.
    scenario = build_scenario(tiny_rows())
    problem = AllocationProblem.from_scenario(scenario)
    assert problem.constant() == 1200.0
    sol = solve_allocation(problem, time_limit=30.0)
    assert assignment(problem, sol.post_of) == {"a1": "P1", "a2": "P2"}
    assert sol.objective == pytest.approx(20.0, abs=1e-9)
    assert sol.bound == pytest.approx(20.0, abs=1e-9)
    assert sol.optimal
    assert sol.gap == 0.0
    result = checked(scenario, problem, sol.post_of)
    assert result.objective == pytest.approx(20.0, abs=1e-9)
    assert result.terms["transport_subsidy"] == 20.0

    # Without the bachelor share the hand optimum is 15 with a3 on the relay post.
    free = dataclasses.replace(
        scenario, rules=dataclasses.replace(scenario.rules, undergraduate_min_share=0.0)
    )
    problem0 = AllocationProblem.from_scenario(free)
    sol0 = solve_allocation(problem0, time_limit=30.0)
    assert assignment(problem0, sol0.post_of) == {"a3": "P1", "a2": "P2"}
    assert sol0.objective == pytest.approx(15.0, abs=1e-9)
    assert sol0.optimal and sol0.gap == 0.0
    checked(free, problem0, sol0.post_of)

    # The direct formulation agrees on both.
    for prob, value in ((problem, 20.0), (problem0, 15.0)):
        direct = solve_direct(prob, time_limit=30.0)
        assert direct.optimal
        assert direct.objective == pytest.approx(value, abs=1e-9)
        assert direct.bound == pytest.approx(value, abs=1e-9)


# Random small scenarios ----------------------------------------------------------------------

SERVICE_COUNTIES = {
    "620000": ["620102", "620103", "620104"],
    "630000": ["630102", "630103", "630104"],
}
RECRUIT_PROVINCES = ["110000", "310000", "440000"]


@st.composite
def scenarios(draw: Callable[..., Any], juniors: int = 1) -> ScenarioData:
    """Random small allocation scenarios (2-4 counties in 1-2 service provinces); ``juniors``
    weighs junior-college graduates among the degrees (more: the 85% share binds more often)."""
    ints, booleans = st.integers, st.booleans()
    provinces = draw(st.sampled_from([["620000"], ["630000"], ["620000", "630000"]]))
    pool = [c for s in provinces for c in SERVICE_COUNTIES[s]]
    n_counties = draw(ints(max(2, len(provinces)), min(4, len(pool))))
    counties = draw(st.permutations(pool))[:n_counties]
    for s in provinces:  # every service province keeps at least one county
        if not any(c.startswith(s[:2]) for c in counties):
            counties[-1] = SERVICE_COUNTIES[s][0]
    counties = sorted(set(counties))
    coords = {c: (draw(st.floats(95.0, 105.0)), draw(st.floats(30.0, 40.0))) for c in counties}
    county_rows = [(c, *coords[c]) for c in counties]

    posts: list[PostRow] = []
    for i in range(draw(ints(3, 12))):
        county = draw(st.sampled_from(counties))
        lon, lat = coords[county]
        required: frozenset[str] = frozenset()
        if draw(ints(0, 3)) == 0:
            required = frozenset(
                draw(st.lists(st.sampled_from(MAJOR_CLASSES), min_size=1, max_size=2))
            )
        posts.append(
            PostRow(
                post_id=f"P{i}",
                county=county,
                category=draw(st.sampled_from(CATEGORIES)),
                seats=draw(ints(1, 3)),
                relay=draw(booleans),
                required_majors=required,
                min_degree=draw(st.sampled_from([-1, -1, -1, 1, 2])),
                lon=lon + draw(st.floats(-0.2, 0.2)),
                lat=lat + draw(st.floats(-0.2, 0.2)),
            )
        )
    used_specials = {p.category for p in posts if p.category in SPECIAL_ACTIONS}
    barred = draw(st.sampled_from(counties)) if draw(ints(0, 3)) == 1 else None
    quotas = [
        QuotaRow(
            c,
            general=draw(st.sampled_from([2, 1, 3, 4, 0])),
            special={a: draw(st.sampled_from([1, 2, 0])) for a in sorted(used_specials)},
            barred=c == barred,
        )
        for c in counties
    ]

    recruits = RECRUIT_PROVINCES[: draw(ints(1, 3))]
    pairing: list[tuple[str, str, int]] = []
    for s in provinces:
        paired = draw(st.lists(st.sampled_from(recruits), min_size=1, max_size=3, unique=True))
        for r in paired:
            pairing.append((s, r, draw(st.sampled_from([-1, -1, 0, 1, 2, 4]))))

    areas = provinces * 3 + counties + ["510000"]  # 510000: a province that is not served
    applicants: list[ApplicantRow] = []
    for i in range(draw(ints(4, 25))):
        home_county = draw(st.sampled_from(counties))
        if draw(ints(0, 4)) == 0:  # home at the county centroid
            home_lon, home_lat = NAN, NAN
        else:
            home_lon, home_lat = draw(st.floats(80.0, 125.0)), draw(st.floats(20.0, 50.0))
        applicants.append(
            ApplicantRow(
                applicant_id=f"a{i}",
                recruit=draw(st.sampled_from(recruits)),
                degree=draw(
                    st.sampled_from(
                        [*DEGREES, "bachelor", "bachelor", "master"]
                        + ["junior_college"] * (juniors - 1)
                    )
                ),
                major=draw(st.sampled_from(MAJOR_CLASSES)),
                preferences=draw(
                    st.lists(st.sampled_from(areas), min_size=1, max_size=3, unique=True)
                ),
                home_lon=home_lon,
                home_lat=home_lat,
                health_ok=draw(ints(0, 9)) != 3,
                home_county=home_county,
            )
        )

    targets: list[tuple[str, str, int]] = []
    if draw(booleans):
        targets += [(s, "service", draw(ints(1, 8))) for s in provinces if draw(booleans)]
        targets += [(r, "recruit", draw(ints(1, 8))) for r in recruits if draw(booleans)]
    continuing = [("c0", draw(st.sampled_from(posts)).post_id)] if draw(booleans) else []
    previous = None
    if draw(booleans):
        chosen = draw(st.lists(st.sampled_from(applicants), max_size=4, unique_by=id))
        previous = [(a.applicant_id, draw(st.sampled_from(posts)).post_id) for a in chosen]
        previous.append(("dropout", posts[0].post_id))
    return build_scenario(
        ScenarioRows(
            counties=county_rows,
            quotas=quotas,
            posts=posts,
            applicants=applicants,
            pairing=pairing,
            targets=targets,
            continuing=continuing,
            previous=previous,
            rules=Rules(undergraduate_min_share=0.85),
        )
    )


def solve_both(scenario: ScenarioData) -> tuple[AllocationSolution, DirectSolution, CheckResult]:
    """Solve with the price-and-branch solver and the direct formulation; check both plans."""
    problem = AllocationProblem.from_scenario(scenario)
    sol = solve_allocation(problem, time_limit=30.0)
    result = checked(scenario, problem, sol.post_of)
    direct = solve_direct(problem, time_limit=30.0)
    direct_result = checked(scenario, problem, direct.post_of)
    assert direct.optimal
    assert direct_result.objective == pytest.approx(direct.objective, abs=1e-6)
    return sol, direct, result


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_random_scenarios_match_checker_and_direct(scenario: ScenarioData) -> None:
    sol, direct, result = solve_both(scenario)
    assert sol.objective == pytest.approx(result.objective, abs=1e-6)
    assert sol.bound <= sol.objective + 1e-6
    assert sol.optimal
    assert sol.objective == pytest.approx(direct.objective, abs=1e-6)


def share_priced(
    problem: AllocationProblem, builder: ArcBuilder, relaxed: CompactFlow
) -> SharePlan:
    """A4 priced into the relaxed flow ``relaxed`` (planner.allocation.share), 30 s at most."""
    return solve_share(
        problem,
        builder,
        relaxed.network,
        relaxed.arcs,
        relaxed.objective,
        0.0,
        time.perf_counter() + 30.0,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(juniors=3))
def test_share_pricing_gives_a_bound_and_a_plan(scenario: ScenarioData) -> None:
    """Pricing A4 into the flow (planner.allocation.share): its bound is at most the direct
    optimum, and its plan, where it finds one, keeps every rule and costs what it says."""
    problem = AllocationProblem.from_scenario(scenario)
    builder = ArcBuilder(problem)
    relaxed = solve_compact_flow(problem, builder)
    direct = solve_direct(problem, time_limit=30.0)
    assert direct.optimal
    shared = share_priced(problem, builder, relaxed)
    assert relaxed.objective <= shared.bound + 1e-6
    assert shared.bound <= direct.objective + 1e-6
    if shared.arcs is not None:
        post_of = np.full(problem.n_applicants, -1, dtype=np.int64)
        post_of[shared.arcs.a] = shared.arcs.p
        result = checked(scenario, problem, post_of)
        assert shared.objective == pytest.approx(result.objective, abs=1e-6)
        assert shared.objective >= direct.objective - 1e-6


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_fractional_subsidy_terms_keep_the_bound_valid(scenario: ScenarioData) -> None:
    # tiers of 550, 1050, ... CNY make half units: plan values are no longer integers, so the
    # proven bound must not be rounded up
    scenario = dataclasses.replace(
        scenario,
        rules=dataclasses.replace(scenario.rules, transport_tiers_cny=(550, 1050, 1550, 2050)),
    )
    sol, direct, result = solve_both(scenario)
    assert sol.objective == pytest.approx(result.objective, abs=1e-6)
    assert sol.bound <= direct.objective + 1e-6
    assert sol.optimal
    assert sol.objective == pytest.approx(direct.objective, abs=1e-6)


# Determinism ---------------------------------------------------------------------------------


def many_ties_rows(n_bachelors: int = 12, n_juniors: int = 10) -> ScenarioRows:
    """One service province, two counties, identical applicants: many equally good plans.

    Recruiting province 110000 sends ``n_bachelors`` bachelors and ``n_juniors`` junior-college
    graduates, all of whom fit every post; seats and quotas take all of them."""
    a, b = "620102", "620103"
    apps = [
        ApplicantRow(f"b{i}", "110000", "bachelor", "other", ["620000"], 100.0, 30.0)
        for i in range(n_bachelors)
    ] + [
        ApplicantRow(f"j{i}", "110000", "junior_college", "other", ["620000"], 100.0, 30.0)
        for i in range(n_juniors)
    ]
    n = n_bachelors + n_juniors
    return ScenarioRows(
        counties=[(a, 100.0, 36.0), (b, 100.0, 37.0)],
        quotas=[QuotaRow(a, general=n), QuotaRow(b, general=n)],
        posts=[
            PostRow("PA", a, "other", n, lat=36.0),
            PostRow("PB", b, "other", n, lat=37.0),
            PostRow("PR", b, "other", 3, relay=True, lat=37.0),
        ],
        applicants=apps,
        pairing=[("620000", "110000", -1)],
    )


def test_same_scenario_twice_gives_the_same_plan() -> None:
    scenario = build_scenario(many_ties_rows())
    first = solve_allocation(AllocationProblem.from_scenario(scenario), time_limit=30.0)
    second = solve_allocation(AllocationProblem.from_scenario(scenario), time_limit=30.0)
    assert np.array_equal(first.post_of, second.post_of)
    assert first.objective == second.objective


def two_part_rows() -> ScenarioRows:
    """Gansu paired with Beijing and Qinghai with Shanghai: two independent parts, the 85%
    share binding in the first."""
    g, q = SERVICE_COUNTIES["620000"], SERVICE_COUNTIES["630000"]
    counties = [(c, 100.0 + i, 36.0) for i, c in enumerate(g)] + [
        (c, 96.0 + i, 35.0) for i, c in enumerate(q)
    ]
    posts = [
        PostRow(f"P{i}", c, cat, 2, relay=i % 3 == 0, lon=lon, lat=lat)
        for i, ((c, lon, lat), cat) in enumerate(
            zip(counties, ["education", "health", "agriculture"] * 2, strict=True)
        )
    ]
    applicants = [
        ApplicantRow(
            f"b{i}",
            "110000",
            "bachelor" if i % 3 == 0 else "junior_college",
            MAJOR_CLASSES[i % len(MAJOR_CLASSES)],
            [g[i % 3], "620000"],
            100.0 + i % 4,
            30.0 + i % 5,
        )
        for i in range(9)
    ] + [
        ApplicantRow(
            f"s{i}", "310000", "bachelor", MAJOR_CLASSES[i % 4], [q[i % 3]], 121.0, 31.0 + i % 3
        )
        for i in range(8)
    ]
    return ScenarioRows(
        counties=counties,
        quotas=[QuotaRow(c, general=2 if c in g else 1) for c, _, _ in counties],
        posts=posts,
        applicants=applicants,
        pairing=[("620000", "110000", -1), ("630000", "310000", -1)],
        rules=Rules(undergraduate_min_share=0.85),
    )


def test_parts_solved_apart_and_in_processes_match_direct() -> None:
    scenario = build_scenario(two_part_rows())
    problem = AllocationProblem.from_scenario(scenario)
    assert len(split(problem)) == 2
    alone = solve_allocation(problem, time_limit=30.0, workers=1)
    pooled = solve_allocation(problem, time_limit=30.0, workers=2)
    assert np.array_equal(alone.post_of, pooled.post_of)
    assert alone.bound == pooled.bound
    result = checked(scenario, problem, pooled.post_of)
    direct = solve_direct(problem, time_limit=30.0)
    assert direct.optimal and pooled.optimal
    assert pooled.objective == pytest.approx(result.objective, abs=1e-6)
    assert pooled.objective == pytest.approx(direct.objective, abs=1e-6)
    # the 85% share binds in the Beijing part: 3 bachelors allow 3 x 3 / 17 -> 0 others
    placed = pooled.post_of >= 0
    assert set(problem.applicant_id[placed & (problem.app_r == 0)].tolist()) <= {"b0", "b3", "b6"}


# Binding rules -------------------------------------------------------------------------------


def test_bachelor_share_binds() -> None:
    # 12 bachelors and 10 junior-college graduates from 110000; every placement lowers the
    # objective (-100 quota + 10 transport), so without A4 all 22 are placed. With A4
    # (17/20): 17 (12 + k) <= 20 x 12  ->  k <= 2.1, so exactly 2 non-bachelors are placed.
    scenario = build_scenario(many_ties_rows())
    problem = AllocationProblem.from_scenario(scenario)
    sol = solve_allocation(problem, time_limit=30.0)
    assert sol.optimal
    result = checked(scenario, problem, sol.post_of)
    assert "A4" not in result.rules_broken()
    placed = sol.post_of >= 0
    juniors = placed & ~problem.app_bachelor
    assert int((placed & problem.app_bachelor).sum()) == 12
    assert int(juniors.sum()) == 2
    assert sol.objective == pytest.approx(result.objective, abs=1e-6)
    # every unfilled county names the rule that keeps the 8 juniors out, and the province
    account = build_account(problem, sol)
    assert account.unfilled and all(
        "8 unplaced: placing one more non-bachelor" in str(u.cause) and "110000" in str(u.cause)
        for u in account.unfilled
    )

    free = dataclasses.replace(
        scenario, rules=dataclasses.replace(scenario.rules, undergraduate_min_share=0.0)
    )
    problem0 = AllocationProblem.from_scenario(free)
    sol0 = solve_allocation(problem0, time_limit=30.0)
    checked(free, problem0, sol0.post_of)
    juniors0 = (sol0.post_of >= 0) & ~problem0.app_bachelor
    assert int(juniors0.sum()) == 10
    assert int(juniors.sum()) < int(juniors0.sum())
    assert sol0.objective < sol.objective
    # the same rule seen by the checker: the unrestricted plan breaks A4
    assert "A4" in check_plan(scenario, assignment(problem0, sol0.post_of)).rules_broken()
    direct = solve_direct(problem, time_limit=30.0)
    assert direct.optimal
    assert direct.objective == pytest.approx(sol.objective, abs=1e-6)


def test_bachelor_share_priced_into_the_flow() -> None:
    # 17 bachelors and 10 junior-college graduates: 17 (17 + k) <= 20 x 17 -> k <= 3 exactly,
    # so the LP bound is a plan's value and pricing A4 into the min-cost flow proves it
    scenario = build_scenario(many_ties_rows(n_bachelors=17, n_juniors=10))
    problem = AllocationProblem.from_scenario(scenario)
    sol = solve_allocation(problem, time_limit=30.0)
    assert sol.optimal and sol.bound == pytest.approx(sol.objective, abs=1e-9)
    assert any("priced into the min-cost flow" in note for note in sol.notes)
    result = checked(scenario, problem, sol.post_of)
    assert sol.objective == pytest.approx(result.objective, abs=1e-6)
    placed = sol.post_of >= 0
    assert int((placed & ~problem.app_bachelor).sum()) == 3
    direct = solve_direct(problem, time_limit=30.0)
    assert direct.optimal
    assert direct.objective == pytest.approx(sol.objective, abs=1e-6)


def test_empty_relay_seat_names_its_cause() -> None:
    """A relay post that needs a medicine graduate nobody has stays empty, and says so; one
    whose county quota is used up by cheaper placements says that."""
    rows = many_ties_rows(n_bachelors=3, n_juniors=0)
    rows.posts.append(
        PostRow("PM", "620103", "health", 1, relay=True, required_majors=frozenset({"medicine"}))
    )
    rows.quotas[0] = QuotaRow("620102", general=0)
    problem = AllocationProblem.from_scenario(build_scenario(rows))
    sol = solve_allocation(problem, time_limit=30.0)
    causes = {e.post_id: str(e.cause) for e in build_account(problem, sol).empty_relay}
    assert causes == {"PM": causes["PM"]}
    assert causes["PM"].startswith("no applicant is eligible")

    full = many_ties_rows(n_bachelors=3, n_juniors=0)
    full.posts.append(PostRow("PR2", "620103", "education", 1, relay=True, lat=37.0))
    full.quotas[0] = QuotaRow("620102", general=0)
    full.quotas[1] = QuotaRow("620103", general=1)
    problem = AllocationProblem.from_scenario(build_scenario(full))
    sol = solve_allocation(problem, time_limit=30.0)
    empty = build_account(problem, sol).empty_relay
    assert {e.post_id for e in empty} == {"PR", "PR2"}  # 3 + 1 relay seats, 1 unit
    assert sum(e.empty for e in empty) == 3
    assert all(str(e.cause).startswith("the county's general quota is full") for e in empty)


# The built-in scenario -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tier_prefecture() -> tuple[ScenarioData, AllocationProblem, AllocationSolution]:
    from geodata.scenario import read_scenario_data

    scenario = read_scenario_data("builtin:tier-prefecture")
    problem = AllocationProblem.from_scenario(scenario)
    return scenario, problem, solve_allocation(problem)


def test_builtin_tier_prefecture_plan_passes_the_checker(
    tier_prefecture: tuple[ScenarioData, AllocationProblem, AllocationSolution],
) -> None:
    scenario, problem, sol = tier_prefecture
    result = checked(scenario, problem, sol.post_of)
    assert sol.optimal
    assert sol.gap <= 1e-4
    assert sol.bound <= sol.objective + 1e-6
    assert sol.objective == pytest.approx(result.objective, abs=1e-6)


@pytest.mark.slow
def test_builtin_tier_prefecture_matches_direct(
    tier_prefecture: tuple[ScenarioData, AllocationProblem, AllocationSolution],
) -> None:
    scenario, problem, sol = tier_prefecture
    direct = solve_direct(problem, time_limit=400.0, workers=1)
    assert direct.bound <= sol.objective + 1e-6  # never contradicts the solver
    assert direct.optimal, f"CP-SAT stopped at {direct.status} after {direct.seconds:.0f} s"
    assert direct.objective == pytest.approx(sol.objective, abs=1e-6)
    checked(scenario, problem, direct.post_of)
