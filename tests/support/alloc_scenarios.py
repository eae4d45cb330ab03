"""Small allocation scenarios built in code, shared by the allocation tests.

:func:`build_scenario` builds a :class:`planner.scenario.ScenarioData` from plain rows
(:class:`ScenarioRows`); :func:`scenarios` draws random small ones (hypothesis); :func:`checked`
asks the independent checker (tests/support/alloc_checker.py) for its verdict on a plan.
Distances in the hand examples run along the meridian 100 E, where one degree of latitude is
111.195 km on the spec's sphere, so every transport tier can be read off by eye.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from planner.allocation.arcs import ArcBuilder
from planner.allocation.compact import CompactFlow
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
from tests.support.alloc_checker import CheckResult, check_plan

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
