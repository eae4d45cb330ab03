"""The library's allocation checker (:mod:`planner.allocation.check`, behind ``plan.check()``).

Valid plans of the real solver give no violation; every rule broken on purpose in a valid plan
is named, with its subject; and on plans broken at random the checker agrees, rule by rule and
count by count, with the independent checker of ``tests/support/alloc_checker.py`` (plain loops over
dicts, written from the specification alone).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planner
from planner.allocation.check import check_assignments
from planner.allocation.problem import AllocationProblem
from planner.allocation.solver import solve_allocation
from planner.scenario import BACHELOR_RANK, GENERAL_CATEGORIES, Rules, ScenarioData
from planner.violation import Violation
from tests.support.alloc_checker import check_plan
from tests.support.alloc_scenarios import (
    ApplicantRow,
    PostRow,
    QuotaRow,
    ScenarioRows,
    build_scenario,
    scenarios,
)

Pairs = dict[str, str]
"""A plan as applicant id -> post id."""


def solved_plan(scenario: ScenarioData) -> Pairs:
    """The real solver's plan of ``scenario``, applicant id -> post id."""
    problem = AllocationProblem.from_scenario(scenario)
    sol = solve_allocation(problem, time_limit=30.0, workers=1)
    placed = np.flatnonzero(sol.post_of >= 0)
    return dict(
        zip(
            problem.applicant_id[placed].tolist(),
            problem.post_id[sol.post_of[placed]].tolist(),
            strict=True,
        )
    )


def check(scenario: ScenarioData, plan: Pairs) -> list[Violation]:
    return check_assignments(
        scenario, np.array(list(plan), dtype=str), np.array(list(plan.values()))
    )


def rules_of(violations: list[Violation]) -> Counter[str]:
    return Counter(v.rule for v in violations)


def independent(scenario: ScenarioData, plan: Pairs) -> Counter[str]:
    return Counter(v.split(":", 1)[0] for v in check_plan(scenario, plan).violations)


# Valid plans of the real solver --------------------------------------------------------------


@pytest.mark.parametrize("name", ["tier-county", "tier-prefecture", "huaihua-screening"])
def test_builtin_plans_keep_every_rule(name: str) -> None:
    scenario = planner.read_scenario(f"builtin:{name}").data
    plan = solved_plan(scenario)
    assert len(plan) > 0
    assert check(scenario, plan) == []
    assert check_plan(scenario, plan).violations == []


def test_tiny_scenario_files_plan_keeps_every_rule(tiny_dir: Any) -> None:
    scenario = planner.read_scenario(tiny_dir).data
    plan = solved_plan(scenario)
    assert plan and check(scenario, plan) == []
    assert check_plan(scenario, plan).violations == []


def test_plan_check_of_the_library_api() -> None:
    # planner.allocate(...).check() runs this checker on the plan's assignments table
    scenario = planner.read_scenario("builtin:tier-county")
    plan = planner.allocate(scenario, planner.AllocationParams(time_limit=60.0))
    assert len(plan.assignments) > 0 and plan.check() == []
    rows = plan.assignments.copy()
    rows.loc[rows.index[0], "post_id"] = rows["post_id"].iloc[1]
    rows = pd.concat([rows, rows.iloc[[0]]])
    broken = dataclasses.replace(plan, tables={**plan.tables, "assignments": rows})
    a = rows["applicant_id"].iloc[0]
    assert any(v.rule == "A1" and v.subject == f"applicant {a}" for v in broken.check())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(juniors=2), data=st.data())
def test_random_plans_agree_with_the_independent_checker(
    scenario: ScenarioData, data: st.DataObject
) -> None:
    """The solver's plan keeps every rule for both checkers; moved around at random (other
    posts, unplaced, unknown ids), both find the same rules broken as often."""
    plan = solved_plan(scenario)
    assert check(scenario, plan) == []
    assert check_plan(scenario, plan).violations == []
    assert scenario.applicants is not None and scenario.posts is not None
    applicants = scenario.applicants.applicant_id.tolist()
    posts = [*scenario.posts.post_id.tolist(), "no-such-post"]
    moved = dict(plan)
    for _ in range(data.draw(st.integers(1, 8), label="moves")):
        a = data.draw(st.sampled_from([*applicants, "no-such-applicant"]), label="applicant")
        p = data.draw(st.sampled_from([*posts, None]), label="post")
        if p is None:
            moved.pop(a, None)
        else:
            moved[a] = p
    found = check(scenario, moved)
    assert rules_of(found) == independent(scenario, moved)
    for v in found:
        assert str(v).startswith(f"{v.rule} {v.subject}: ")


# Breaking each rule on purpose ---------------------------------------------------------------

X1, X2, XB, XN = "620102", "620103", "620104", "620105"  # Gansu; XB barred, XN without quota
Y1, Y2 = "630102", "630103"  # Qinghai


def mutation_rows() -> ScenarioRows:
    """Gansu (paired with 110000, 320000 with one pair seat, and 440000 with a recruitment
    target of 1) and Qinghai (paired with 310000, a dispatch target of 4 below its quota of
    5). Every Gansu applicant who may be placed is, because seats and quotas hold them all,
    so 110000 places its one junior-college graduate next to eight bachelors (A4 holds:
    17 x 9 <= 20 x 8); a barred county and one without a quota row have posts too."""
    gansu = ["620000"]
    apps = [
        ApplicantRow("b1", "110000", "bachelor", "medicine", gansu, 104.0, 36.0),
        ApplicantRow("b2", "110000", "master", "agriculture", gansu, 104.0, 36.0),
        *(
            ApplicantRow(f"b{i}", "110000", "bachelor", "education", gansu, 104.0, 36.0)
            for i in range(3, 8)
        ),
        ApplicantRow("b8", "110000", "bachelor", "arts", [X1], 104.0, 36.0),
        ApplicantRow("j1", "110000", "junior_college", "education", gansu, 104.0, 36.0),
        ApplicantRow("sick", "110000", "bachelor", "education", gansu, 104.0, 36.0, False),
        ApplicantRow("p1", "320000", "bachelor", "education", gansu, 118.0, 32.0),
        ApplicantRow("p2", "320000", "bachelor", "education", gansu, 118.0, 32.0),
        ApplicantRow("g1", "440000", "bachelor", "agriculture", gansu, 113.0, 23.0),
        ApplicantRow("g2", "440000", "bachelor", "agriculture", gansu, 113.0, 23.0),
        *(
            ApplicantRow(f"s{i}", "310000", "bachelor", "education", ["630000"], 121.0, 31.0)
            for i in range(1, 7)
        ),
    ]
    return ScenarioRows(
        counties=[(c, 103.8, 36.0) for c in (X1, X2, XB, XN)]
        + [(Y1, 101.7, 36.6), (Y2, 101.8, 36.7)],
        quotas=[
            QuotaRow(X1, general=5, special={"youth_center": 1}),
            QuotaRow(X2, general=6),
            QuotaRow(XB, general=2, barred=True),
            QuotaRow(Y1, general=2),
            QuotaRow(Y2, general=3),
        ],
        posts=[
            PostRow("edu1", X1, "education", 2, relay=True),
            PostRow("edu2", X1, "education", 4),
            PostRow("yc1", X1, "youth_center", 2),
            PostRow("med1", X2, "health", 2, required_majors=frozenset({"medicine"})),
            PostRow("adv1", X2, "agriculture", 2, min_degree=2),
            PostRow("agr1", X2, "agriculture", 4),
            PostRow("bar1", XB, "education", 2),
            PostRow("noq1", XN, "education", 2),
            PostRow("qh1", Y1, "education", 4, lon=101.7, lat=36.6),
            PostRow("qh2", Y2, "education", 3, lon=101.8, lat=36.7),
        ],
        applicants=apps,
        pairing=[
            ("620000", "110000", -1),
            ("620000", "320000", 1),
            ("620000", "440000", -1),
            ("630000", "310000", -1),
        ],
        targets=[("630000", "service", 4), ("440000", "recruit", 1), ("310000", "recruit", 6)],
        continuing=[("c1", "edu1")],
    )


@pytest.fixture(scope="module")
def valid() -> tuple[ScenarioData, Pairs]:
    scenario = build_scenario(mutation_rows())
    plan = solved_plan(scenario)
    assert check(scenario, plan) == [] and check_plan(scenario, plan).violations == []
    return scenario, plan


def facts(scenario: ScenarioData, plan: Pairs) -> dict[str, Any]:
    """What the mutations need to know about a plan, counted here in plain Python."""
    assert scenario.posts is not None and scenario.applicants is not None
    posts, apps = scenario.posts, scenario.applicants
    county = dict(zip(posts.post_id.tolist(), posts.county_code.tolist(), strict=True))
    category = dict(zip(posts.post_id.tolist(), posts.category.tolist(), strict=True))
    degree = dict(zip(apps.applicant_id.tolist(), apps.degree.tolist(), strict=True))
    recruit = dict(zip(apps.applicant_id.tolist(), apps.recruit_province.tolist(), strict=True))
    on_post = Counter(plan.values())
    general = Counter(county[p] for p in plan.values() if category[p] in GENERAL_CATEGORIES)
    return {
        "county": county,
        "degree": degree,
        "recruit": recruit,
        "on_post": on_post,
        "general": general,
        "unplaced": [a for a in degree if a not in plan],
    }


def free_seat(sc: ScenarioData, plan: Pairs) -> str:
    """A Gansu post without requirements that has an open seat in a bucket with room."""
    f = facts(sc, plan)
    open_seats = {"edu2": 4, "agr1": 4}
    room = [p for p, n in open_seats.items() if f["on_post"][p] < n]
    assert room and f["general"][X1] + f["general"][X2] < 11
    return room[0]


def moved(plan: Pairs, **changes: str | None) -> Pairs:
    out = dict(plan)
    for a, p in changes.items():
        if p is None:
            out.pop(a)
        else:
            out[a] = p
    return out


Mutation = Callable[[ScenarioData, Pairs], tuple[Pairs, str, str]]
"""Breaks one rule of a valid plan: the broken plan, the rule and text its subject names."""


def full_post(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    f = facts(sc, plan)
    assert f["on_post"]["edu1"] == 1  # the relay post's one open seat (2 seats, 1 continuing)
    mover = next(a for a, p in plan.items() if p == "edu2")
    return moved(plan, **{mover: "edu1"}), "A1", "post edu1"


def unknown_post(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    a = next(iter(plan))
    return moved(plan, **{a: "P404"}), "A1", f"applicant {a} -> post P404"


def unknown_applicant(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    return moved(plan, ghost="edu2"), "A1", "applicant ghost -> post edu2"


def barred_county(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    mover = next(a for a, p in plan.items() if p == "edu2")
    return moved(plan, **{mover: "bar1"}), "A2", f"county {XB}"


def county_without_quota(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    mover = next(a for a, p in plan.items() if p == "edu2")
    return moved(plan, **{mover: "noq1"}), "A2", f"county {XN}"


def general_bucket(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    # Qinghai: 4 placed (dispatch target) in two counties of quotas 2 and 3; one of them is
    # full: move a volunteer of the other there (the province's count stays 4).
    f = facts(sc, plan)
    full = Y1 if f["general"][Y1] == 2 else Y2
    assert f["general"][full] == {Y1: 2, Y2: 3}[full]
    other, post = (Y2, "qh1") if full == Y1 else (Y1, "qh2")
    mover = next(a for a, p in plan.items() if f["county"][p] == other)
    return moved(plan, **{mover: post}), "A2", f"county {full} general bucket"


def special_bucket(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    assert facts(sc, plan)["on_post"]["yc1"] == 1  # youth_center quota 1, 2 seats
    mover = next(a for a, p in plan.items() if p == "edu2")
    return moved(plan, **{mover: "yc1"}), "A2", f"county {X1} youth_center bucket"


def unpaired_province(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    mover = next(a for a, p in plan.items() if p == "edu2")  # recruited in a Gansu pair
    return moved(plan, **{mover: "qh2"}), "A3", f"applicant {mover} -> post qh2"


def pair_seats(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    f = facts(sc, plan)
    out = [a for a in f["unplaced"] if f["recruit"][a] == "320000"]
    assert len(out) == 1  # the pair 620000 <- 320000 has one seat
    return moved(plan, **{out[0]: free_seat(sc, plan)}), "A3", "pair 620000 <- 320000"


def bachelor_share(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    f = facts(sc, plan)
    mine = [a for a in plan if f["recruit"][a] == "110000"]
    assert any(f["degree"][a] < BACHELOR_RANK for a in mine)
    out = dict(plan)
    while True:  # drop bachelors of 110000 until 17 x placed > 20 x bachelors
        placed = [a for a in out if f["recruit"][a] == "110000"]
        bachelors = [a for a in placed if f["degree"][a] >= BACHELOR_RANK]
        if 17 * len(placed) > 20 * len(bachelors):
            return out, "A4", "recruiting province 110000"
        out.pop(bachelors[0])


def required_major(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    mover = next(a for a, p in plan.items() if p == "agr1")
    return moved(plan, **{mover: "med1"}), "A5", f"applicant {mover} -> post med1"


def min_degree(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    f = facts(sc, plan)
    mover = next(a for a, p in plan.items() if p == "agr1" and f["degree"][a] < 2)
    return moved(plan, **{mover: "adv1"}), "A5", f"applicant {mover} -> post adv1"


def health(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    assert "sick" not in plan
    post = free_seat(sc, plan)
    return moved(plan, sick=post), "A5", f"applicant sick -> post {post}"


def preferences(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    assert plan["b8"] in ("edu1", "edu2", "yc1")  # b8 named only the county X1
    return moved(plan, b8="agr1"), "A5", "applicant b8 -> post agr1"


def dispatch_target(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    f = facts(sc, plan)
    assert f["general"][Y1] + f["general"][Y2] == 4  # the dispatch target binds
    room = "qh1" if f["general"][Y1] < 2 else "qh2"
    out = next(a for a in f["unplaced"] if f["recruit"][a] == "310000")
    return moved(plan, **{out: room}), "A6", "service province 630000"


def recruitment_target(sc: ScenarioData, plan: Pairs) -> tuple[Pairs, str, str]:
    f = facts(sc, plan)
    out = [a for a in f["unplaced"] if f["recruit"][a] == "440000"]
    assert len(out) == 1  # 440000 sends at most 1
    return moved(plan, **{out[0]: free_seat(sc, plan)}), "A6", "recruiting province 440000"


MUTATIONS: list[Mutation] = [
    full_post,
    unknown_post,
    unknown_applicant,
    barred_county,
    county_without_quota,
    general_bucket,
    special_bucket,
    unpaired_province,
    pair_seats,
    bachelor_share,
    required_major,
    min_degree,
    health,
    preferences,
    dispatch_target,
    recruitment_target,
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.__name__)
def test_each_broken_rule_is_named_with_its_subject(
    valid: tuple[ScenarioData, Pairs], mutation: Mutation
) -> None:
    scenario, plan = valid
    broken, rule, subject = mutation(scenario, plan)
    found = check(scenario, broken)
    named = [v for v in found if v.rule == rule and subject in v.subject]
    assert named, f"{mutation.__name__}: no {rule} about {subject!r} in {found}"
    assert all(subject in str(v) for v in named)
    assert rules_of(found) == independent(scenario, broken)  # the independent checker agrees


def test_an_applicant_placed_twice_is_named(valid: tuple[ScenarioData, Pairs]) -> None:
    scenario, plan = valid
    a, p = next(iter(plan.items()))
    other = "edu2" if p != "edu2" else "agr1"
    ids = np.array([*plan, a])
    posts = np.array([*plan.values(), other])
    found = check_assignments(scenario, ids, posts)
    twice = [v for v in found if v.rule == "A1" and v.subject == f"applicant {a}"]
    assert len(twice) == 1 and "placed 2 times" in twice[0].message
    assert p in twice[0].message and other in twice[0].message


def test_messages_carry_the_numbers(valid: tuple[ScenarioData, Pairs]) -> None:
    scenario, plan = valid
    broken, _, _ = full_post(scenario, plan)
    (seat,) = [v for v in check(scenario, broken) if v.subject == "post edu1"]
    assert str(seat) == "A1 post edu1: 2 new volunteers on 1 open seat (2 seats - 1 continuing)"
    broken, _, _ = bachelor_share(scenario, plan)
    (share,) = [v for v in check(scenario, broken) if v.rule == "A4"]
    assert "17 x 6 > 20 x 5" in share.message


def test_allow_outside_preferences_lifts_only_that_rule(valid: tuple[ScenarioData, Pairs]) -> None:
    scenario, plan = valid
    broken, _, _ = preferences(scenario, plan)
    free = dataclasses.replace(
        scenario, rules=dataclasses.replace(scenario.rules, allow_outside_preferences=True)
    )
    assert not [v for v in check(free, broken) if v.rule == "A5"]
    assert rules_of(check(free, broken)) == independent(free, broken)


def test_a_share_written_as_a_decimal_is_exact() -> None:
    # A share of 0.55 is 11/20: 55 bachelors among 100 placed keep A4 exactly, although
    # 0.55 x 100 is 55.00000000000001 in floating point; 54 among 100 do not.
    degrees = ["bachelor"] * 55 + ["junior_college"] * 46
    rows = ScenarioRows(
        counties=[(X1, 100.0, 36.0)],
        quotas=[QuotaRow(X1, general=100)],
        posts=[PostRow("P", X1, "other", 100)],
        applicants=[
            ApplicantRow(f"a{i}", "110000", d, "other", ["620000"], 100.0, 36.0)
            for i, d in enumerate(degrees)
        ],
        pairing=[("620000", "110000", -1)],
        rules=Rules(undergraduate_min_share=0.55),
    )
    scenario = build_scenario(rows)
    keep = {f"a{i}": "P" for i in range(100)}
    assert check(scenario, keep) == [] and independent(scenario, keep) == Counter()
    swapped = moved(keep, a0=None, a100="P")
    (share,) = check(scenario, swapped)
    assert share.rule == "A4" and "11 x 100 > 20 x 54" in share.message


def test_mismatched_arrays_are_refused(valid: tuple[ScenarioData, Pairs]) -> None:
    scenario, _ = valid
    with pytest.raises(ValueError, match="applicant_id has 2 entries and post_id 1"):
        check_assignments(scenario, np.array(["b1", "b2"]), np.array(["edu1"]))
    with pytest.raises(ValueError, match="one-dimensional"):
        check_assignments(scenario, np.array([["b1"]]), np.array([["edu1"]]))


def test_an_empty_plan_keeps_every_rule(valid: tuple[ScenarioData, Pairs]) -> None:
    scenario, _ = valid
    assert check_assignments(scenario, np.array([], dtype=str), np.array([], dtype=str)) == []
    assert check_assignments(scenario, [], []) == []
