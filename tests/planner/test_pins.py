"""The office's pins, exact explanations and plan versions side by side (issue 25).

Pinned plans are checked with the independent checker (tests/support/alloc_checker.py) and against
the best plan found by enumerating every assignment of a small scenario; the exact price of an
alternative is checked by a real solve from scratch under the pin (no baseline); the
explanations of the tiny scenarios below are derived by hand in the comments.

Costs in the comments: quota -100 per placement, 10 x (rank - 1), 3 for a major that does
not fit the category, 1 per 100 CNY of transport subsidy: from Beijing (110101, about
1,730 km) to Guiyang 1,500 CNY = 15, from within Guiyang 500 CNY = 5.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest

import planner
from planner.diff import diff_assignments
from planner.pins import Pin, PinError, Pins
from tests.support.alloc_checker import check_plan

C1, C2, C3, C4 = "520102", "520103", "520111", "520112"
EMPTY_COUNTY = "520121"  # a real county with no post
BEIJING, GUIYANG = "110101", "520102"


def _scenario(
    posts: list[tuple[Any, ...]],
    applicants: list[tuple[Any, ...]],
    quotas: dict[str, int],
    pair_seats: dict[str, int] | None = None,
    rules: dict[str, Any] | None = None,
    barred: tuple[str, ...] = (),
) -> planner.Scenario:
    """posts: (post_id, county, category, seats, min_degree, required_majors); applicants:
    (id, recruit province, degree, major, [prefs], home county, health_ok). Each county gets
    a post ``X<county>`` for law graduates, whom no applicant is, so that its declared seats
    reach 1.2 x its quota (D1) without changing any optimum."""
    posts = list(posts)
    for county, quota in quotas.items():
        declared = sum(p[3] for p in posts if p[1] == county)
        if declared < -(-12 * quota // 10):
            posts.append(
                (f"X{county}", county, "agriculture", -(-12 * quota // 10) - declared, "", "law")
            )
    post_frame = pd.DataFrame(
        {
            "post_id": [p[0] for p in posts],
            "county_code": [p[1] for p in posts],
            "township_code": [p[1] + "001" for p in posts],
            "category": [p[2] for p in posts],
            "seats": [p[3] for p in posts],
            "relay": [0 for _ in posts],
            "min_degree": [p[4] if len(p) > 4 else "" for p in posts],
            "required_majors": [p[5] if len(p) > 5 else "" for p in posts],
        }
    )
    prefs = {f"pref_{j}": [(a[4] + [""] * 5)[j - 1] for a in applicants] for j in range(1, 6)}
    app_frame = pd.DataFrame(
        {
            "applicant_id": [a[0] for a in applicants],
            "recruit_province": [a[1] for a in applicants],
            "degree": [a[2] for a in applicants],
            "major_class": [a[3] for a in applicants],
            **prefs,
            "home_county_code": [a[5] for a in applicants],
            "health_ok": [a[6] if len(a) > 6 else 1 for a in applicants],
        }
    )
    recruits = sorted({a[1] for a in applicants})
    seats = pair_seats or {}
    pairing = pd.DataFrame(
        {
            "service_province": ["520000"] * len(recruits),
            "recruit_province": recruits,
            "seats": [seats.get(r, "") for r in recruits],
        }
    )
    quota_frame = pd.DataFrame(
        {
            "county_code": list(quotas),
            "general_quota": list(quotas.values()),
            "barred": [int(c in barred) for c in quotas],
        }
    )
    targets = pd.DataFrame(
        {
            "province_code": ["520000", *recruits],
            "role": ["service"] + ["recruit"] * len(recruits),
            "target": [100] * (1 + len(recruits)),
        }
    )
    sc = planner.Scenario.from_frames(
        quotas=quota_frame,
        posts=post_frame,
        applicants=app_frame,
        pairing=pairing,
        targets=targets,
        rules=rules,
    )
    sc.report.raise_for_errors()
    return sc


def _assignment(plan: planner.Plan) -> dict[str, str]:
    a = plan.assignments
    return dict(zip(a["applicant_id"], a["post_id"], strict=True))


def _checked(plan: planner.Plan) -> dict[str, str]:
    """The plan's assignment, after the independent checker and ``check()`` found no broken
    rule and the checker's objective is the plan's."""
    assignment = _assignment(plan)
    result = check_plan(plan.scenario.data, assignment)
    assert result.violations == []
    assert result.objective == pytest.approx(plan.objective)
    assert plan.check() == []
    return assignment


# --- scenarios -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seat() -> planner.Scenario:
    """P1 in C1 and P2 in C2, one seat and one quota unit each. A names C1 then C2, B only C1,
    both from Beijing: the optimum is B -> P1 (-85), A -> P2 (-100 + 10 + 15 = -75)."""
    return _scenario(
        posts=[("P1", C1, "education", 1), ("P2", C2, "education", 1)],
        applicants=[
            ("A", "110000", "bachelor", "education", [C1, C2], BEIJING),
            ("B", "110000", "bachelor", "education", [C1], BEIJING),
        ],
        quotas={C1: 1, C2: 1},
    )


@pytest.fixture(scope="module")
def rules() -> planner.Scenario:
    """Every other reason (bachelor share 0.5, so one bachelor balances one non-bachelor):

    - quota: P1 in C1 has 2 seats but C1 a quota of 1; Q names C1 then C2, R only C1:
      R -> P1, Q -> P2 (rank 2); Q's C1 has a free seat at P1 and a full quota (A2);
    - pairing seats: Jiangsu (320000) has 1 seat; J1 (home Guiyang, -95) takes P3 in C3,
      J2 (home Beijing, -85) names only C3 (P3 has 2 seats, C3 a quota of 2);
    - share: B1, the only Beijing bachelor who passed the health check, balances one
      Beijing non-bachelor; N1 (junior college) names C4 first, N2 (junior college) the
      county without posts, then C4; P4 in C4 has 3 seats: B1 and N1 (rank 1, -85) beat
      N2 (rank 2, -75);
    - H did not pass the health check. (Q and R recruit in Guangdong, 440000.)
    """
    return _scenario(
        posts=[
            ("P1", C1, "education", 2),
            ("P2", C2, "education", 1),
            ("P3", C3, "education", 2),
            ("P4", C4, "education", 3),
        ],
        applicants=[
            ("Q", "440000", "bachelor", "education", [C1, C2], BEIJING),
            ("R", "440000", "bachelor", "education", [C1], BEIJING),
            ("J1", "320000", "bachelor", "education", [C3], GUIYANG),
            ("J2", "320000", "bachelor", "education", [C3], BEIJING),
            ("B1", "110000", "bachelor", "education", [C4], BEIJING),
            ("N1", "110000", "junior_college", "education", [C4], BEIJING),
            ("N2", "110000", "junior_college", "education", [EMPTY_COUNTY, C4], BEIJING),
            ("H", "110000", "bachelor", "education", [C4], BEIJING, 0),
        ],
        quotas={C1: 1, C2: 1, C3: 2, C4: 3},
        pair_seats={"320000": 1},
        rules={"undergraduate_min_share": 0.5},
    )


@pytest.fixture(scope="module")
def eligibility() -> planner.Scenario:
    """D (bachelor, education) names C1, whose only post needs a master, and C2, whose only
    post needs medicine; E takes P3 in C3."""
    return _scenario(
        posts=[
            ("P1", C1, "education", 1, "master"),
            ("P2", C2, "health", 1, "", "medicine"),
            ("P3", C3, "education", 1),
            ("P4", C4, "education", 1),
        ],
        applicants=[
            ("D", "110000", "bachelor", "education", [C1, C2, C3], BEIJING),
            ("E", "110000", "master", "education", [C3, C4], BEIJING),
        ],
        quotas={C1: 1, C2: 1, C3: 1, C4: 1},
        barred=(C4,),
    )


@pytest.fixture(scope="module")
def small() -> planner.Scenario:
    """Five applicants, three posts (A4 at 0.5, a pair seat count), small enough to enumerate
    every assignment."""
    return _scenario(
        posts=[("P1", C1, "education", 1), ("P2", C1, "health", 1), ("P3", C2, "agriculture", 2)],
        applicants=[
            ("a1", "110000", "bachelor", "education", [C1], BEIJING),
            ("a2", "110000", "junior_college", "medicine", ["520000"], GUIYANG),
            ("a3", "110000", "bachelor", "agriculture", [C2, C1], BEIJING),
            ("a4", "320000", "master", "medicine", [C1, C2], BEIJING),
            ("a5", "320000", "junior_college", "arts", [C2], GUIYANG),
        ],
        quotas={C1: 2, C2: 2},
        pair_seats={"320000": 1},
        rules={"undergraduate_min_share": 0.5},
    )


def _enumerated_optimum(sc: planner.Scenario, pins: Pins) -> float:
    """The best objective over every assignment of ``sc`` that keeps the rules (the
    independent checker) and the pins."""
    data = sc.data
    apps = [str(a) for a in data.applicants.applicant_id]  # type: ignore[union-attr]
    posts = [str(p) for p in data.posts.post_id if not str(p).startswith("X")]  # type: ignore[union-attr]
    forbid = set(pins.forbid)
    best = np.inf
    for choice in itertools.product(["", *posts], repeat=len(apps)):
        plan = {a: p for a, p in zip(apps, choice, strict=True) if p}
        if any(plan.get(a) != p for a, p in pins.assign.items()):
            continue
        if any(a in plan for a in pins.exclude) or any(
            p in pins.close_posts for p in plan.values()
        ):
            continue
        if any((a, p) in forbid for a, p in plan.items()):
            continue
        result = check_plan(data, plan)
        if result.ok:
            best = min(best, result.objective)
    return float(best)


# --- pins ------------------------------------------------------------------------------------


SMALL_PINS = [
    # a5 (Jiangsu, junior college) needs a Jiangsu bachelor placed too (share 0.5), and
    # Jiangsu has one pair seat (A3): no plan
    Pins(assign={"a5": "P3"}),
    Pins(assign={"a3": "P1"}),
    Pins(assign={"a2": "P2", "a4": "P3"}),
    Pins(assign={"a2": "P1"}, close_posts=["P2"]),
    Pins(forbid=[("a1", "P1"), ("a4", "P2")], exclude=["a3"]),
    Pins(assign={"a4": "P3"}, forbid=[("a2", "P2")]),
    Pins(close_posts=["P1", "P3"]),
]


@pytest.mark.parametrize("pins", SMALL_PINS, ids=range(len(SMALL_PINS)))
def test_pinned_optimum_is_the_enumerated_one(small: planner.Scenario, pins: Pins) -> None:
    base = planner.allocate(small)
    best = _enumerated_optimum(small, pins)
    if not np.isfinite(best):  # no plan keeps the rules and the pins: refused, never solved
        with pytest.raises(PinError):
            planner.allocate(small, pins=pins, baseline=base)
        return
    pinned = planner.allocate(small, pins=pins, baseline=base)
    assignment = _checked(pinned)
    assert pinned.optimal
    assert pinned.objective == pytest.approx(best)
    assert pinned.pins_cost == pytest.approx(pinned.objective - base.objective)
    for a, p in pins.assign.items():
        assert assignment[a] == p
    assert not set(pins.exclude) & set(assignment)
    assert not set(pins.close_posts) & set(assignment.values())
    assert not set(pins.forbid) & set(assignment.items())
    # the same optimum from scratch (every part solved again, no baseline)
    fresh = planner.allocate(small, pins=pins)
    assert fresh.objective == pytest.approx(pinned.objective)
    assert fresh.pins_cost is None
    assert pinned.summary.pins is not None and pinned.summary.pins_cost == pinned.pins_cost


def test_no_pins_no_summary_fields(small: planner.Scenario) -> None:
    summary = planner.allocate(small).summary.to_dict()
    assert "pins" not in summary and "pins_cost" not in summary


def _refused(sc: planner.Scenario, pins: Pins) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PinError) as info:
        planner.allocate(sc, pins=pins)
    return [(i.line, i.rule, i.message) for i in info.value.report.errors]


def test_single_pin_rules(eligibility: planner.Scenario, seat: planner.Scenario) -> None:
    (issue,) = _refused(eligibility, Pins(assign={"D": "P1"}))
    assert issue[1] == "A5" and "assign D -> P1" in issue[2] and "degree" in issue[2]
    (issue,) = _refused(eligibility, Pins(assign={"D": "P2"}))
    assert issue[1] == "A5" and "major" in issue[2]
    (issue,) = _refused(eligibility, Pins(assign={"E": "P4"}))
    assert issue[1] == "A2" and "barred" in issue[2]
    issues = _refused(seat, Pins(assign={"A": "P1", "B": "P1"}))
    # P1 has one seat (A1) and C1 a quota of one (A2): each pin is named under both
    assert sorted(i[1] for i in issues) == ["A1", "A1", "A2", "A2"]
    assert "2 pins on post P1" in issues[0][2] and "assign A -> P1" in issues[0][2]
    issues = _refused(seat, Pins(assign={"A": "P9"}, exclude=["Z"]))
    assert {i[1] for i in issues} == {"pin-unknown"}
    assert any("P9" in i[2] for i in issues) and any("Z" in i[2] for i in issues)
    (issue,) = _refused(seat, Pins(assign={"A": "P1"}, exclude=["A"]))
    assert issue[1] == "pin-conflict" and "exclude A" in issue[2]


def test_share_pins_refused(rules: planner.Scenario) -> None:
    # N1 and N2 (junior college) need two Beijing bachelors placed at a share of 0.5; B1 is
    # the only one who passed the health check
    issues = _refused(rules, Pins(assign={"N1": "P4", "N2": "P4"}))
    assert [i[1] for i in issues] == ["A4", "A4"]
    assert "assign N1 -> P4" in issues[0][2] and "assign N2 -> P4" in issues[1][2]
    assert "need 2 more bachelor(s)" in issues[0][2] and "1 can be" in issues[0][2]


def test_two_pins_that_fail_together_are_named(rules: planner.Scenario) -> None:
    # N2 -> P4 alone is fine (B1 balances him), excluding B1 alone too; together they leave
    # Beijing without a bachelor (A4). Excluding Q (Guangdong) is no part of it.
    issues = _refused(rules, Pins(assign={"N2": "P4"}, exclude=["B1", "Q"]))
    assert {i[1] for i in issues} == {"pin-conflict"}
    named = {i[2].split(":", 1)[0] for i in issues}
    assert named == {"assign N2 -> P4", "exclude B1"}


def test_pins_from_frame_name_file_line_column() -> None:
    frame = pd.DataFrame(
        {
            "action": ["assign", "move", "forbid", "close", "assign"],
            "applicant_id": ["A1", "A2", "A3", "", "A1"],
            "post_id": ["P1", "P2", "", "P7", "P1"],
        }
    )
    with pytest.raises(PinError) as info:
        Pins.from_frame(frame, "pins.csv")
    found = {(i.file, i.line, i.column, i.rule) for i in info.value.report.errors}
    assert found == {
        ("pins.csv", 3, "action", "bad-value"),
        ("pins.csv", 4, "post_id", "missing-value"),
        ("pins.csv", 6, "action", "duplicate"),
    }
    twice = pd.DataFrame(
        {"action": ["assign", "assign"], "applicant_id": ["A1", "A1"], "post_id": ["P1", "P2"]}
    )
    with pytest.raises(PinError) as info:
        Pins.from_frame(twice, "pins.csv")
    (issue,) = info.value.report.errors
    assert (issue.line, issue.column, issue.rule) == (3, "applicant_id", "duplicate")
    good = Pins.from_frame(frame.iloc[[0, 3]], "pins.csv")
    assert good.items == [Pin("assign", "A1", "P1", 2), Pin("close", "", "P7", 5)]
    assert Pins.from_frame(good.to_frame()).items == [
        Pin("assign", "A1", "P1", 2),
        Pin("close", "", "P7", 3),
    ]


# --- explanations ----------------------------------------------------------------------------


def _exact(sc: planner.Scenario, plan: planner.Plan, aid: str, post: str) -> float:
    """The price of pinning ``aid`` on ``post``: a solve from scratch under the pin."""
    return planner.allocate(sc, pins=Pins(assign={aid: post})).objective - plan.objective


def test_explain_seat_taken_by_hand(seat: planner.Scenario) -> None:
    plan = planner.allocate(seat)
    assert _assignment(plan) == {"A": "P2", "B": "P1"}
    e = plan.explain("A")
    assert (e.post_id, e.county_code, e.preference_rank) == ("P2", C2, 2)
    assert e.terms["preference"] == 10 and e.terms["quota_unfilled"] == -100
    assert e.terms["transport_subsidy"] == 15 and e.cost == -75
    alt = e.alternatives.set_index("choice")
    # on P1, A gains 10 (rank 1) and B, who names nothing else, is left out: +85
    assert alt.loc["pref_1", "post_id"] == "P1" and alt.loc["pref_1", "reason_code"] == "seat-taken"
    assert alt.loc["pref_1", "extra_cost"] == pytest.approx(75.0)
    assert "B" in alt.loc["pref_1", "reason"] and "75" in alt.loc["pref_1", "reason"]
    assert alt.loc["pref_2", "reason_code"] == "placed" and alt.loc["pref_2", "extra_cost"] == 0
    # unplaced: the plan loses A's -75
    assert alt.loc["unplaced", "extra_cost"] == pytest.approx(75.0)
    assert _exact(seat, plan, "A", "P1") == pytest.approx(75.0)


def test_explain_quota_pair_share_and_no_post_by_hand(rules: planner.Scenario) -> None:
    plan = planner.allocate(rules)
    assignment = _checked(plan)
    assert assignment["R"] == "P1" and assignment["Q"] == "P2"
    assert assignment["J1"] == "P3" and "J2" not in assignment
    assert assignment["B1"] == "P4" and assignment["N1"] == "P4" and "N2" not in assignment
    q = plan.explain("Q").alternatives.set_index("choice")
    # P1 has a free seat, C1's quota of 1 is R's; Q there (-85 instead of -75) leaves R out
    # (+85): +75
    assert q.loc["pref_1", "reason_code"] == "quota-full"
    assert q.loc["pref_1", "extra_cost"] == pytest.approx(75.0)
    j2 = plan.explain("J2").alternatives.set_index("choice")
    # Jiangsu's one pair seat is J1's (-95); J2 instead (-85): +10
    assert j2.loc["pref_1", "reason_code"] == "pair-seats"
    assert j2.loc["pref_1", "extra_cost"] == pytest.approx(10.0)
    n2 = plan.explain("N2").alternatives.set_index("choice")
    assert n2.loc["pref_1", "reason_code"] == "no-post" and not n2.loc["pref_1", "feasible"]
    # P4 has a free seat, but B1 balances one non-bachelor only: N2 (-75) instead of N1
    # (-85): +10
    assert n2.loc["pref_2", "reason_code"] == "bachelor-share"
    assert n2.loc["pref_2", "extra_cost"] == pytest.approx(10.0)
    assert n2.loc["unplaced", "reason_code"] == "bachelor-share"  # unassigned.csv's reason
    h = plan.explain("H").alternatives.set_index("choice")
    assert h.loc["pref_1", "reason_code"] == "health"
    for aid, post in (("Q", "P1"), ("J2", "P3"), ("N2", "P4")):
        assert plan.explain(aid).alternatives.set_index("post_id").loc[
            post, "extra_cost"
        ] == pytest.approx(_exact(rules, plan, aid, post))


def test_explain_degree_and_major_by_hand(eligibility: planner.Scenario) -> None:
    plan = planner.allocate(eligibility)
    d = plan.explain("D").alternatives.set_index("choice")
    assert d.loc["pref_1", "reason_code"] == "degree" and d.loc["pref_1", "post_id"] == ""
    assert d.loc["pref_2", "reason_code"] == "major"
    assert list(plan.explain("D").alternatives["choice"]) == [
        "pref_1",
        "pref_2",
        "pref_3",
        "unplaced",
    ]


def test_extra_cost_is_exact_on_several_applicants(small: planner.Scenario) -> None:
    plan = planner.allocate(small)
    checked = 0
    for aid in ("a1", "a2", "a3", "a4", "a5"):
        alt = plan.explain(aid).alternatives
        for row in alt.itertuples():
            if row.choice == "unplaced" or not row.post_id or not row.feasible:
                continue
            assert row.extra_cost == pytest.approx(_exact(small, plan, aid, row.post_id))
            checked += 1
    assert checked >= 4


# --- diff ------------------------------------------------------------------------------------


def test_diff_hand_cases() -> None:
    before = pd.DataFrame({"applicant_id": ["a", "b", "c"], "post_id": ["P1", "P2", "P3"]})
    after = pd.DataFrame({"applicant_id": ["a", "b", "d"], "post_id": ["P1", "P3", "P2"]})
    d = diff_assignments(before, after)
    assert d.values.tolist() == [
        ["a", "P1", "P1", "kept"],
        ["b", "P2", "P3", "moved"],
        ["c", "P3", "", "unplaced"],
        ["d", "", "P2", "placed"],
    ]


def test_plan_diff(seat: planner.Scenario) -> None:
    plan = planner.allocate(seat)
    pinned = planner.allocate(seat, pins=Pins(assign={"A": "P1"}), baseline=plan)
    d = pinned.diff(plan).set_index("applicant_id")
    assert d.loc["A"].tolist() == ["P2", "P1", "moved"]
    assert d.loc["B"].tolist() == ["P1", "", "unplaced"]
    assert pinned.pins_cost == pytest.approx(75.0)


def test_pins_on_a_replan(small: planner.Scenario) -> None:
    """Close, forbid and exclude pins on a re-plan (term 6 counts the moves from the first
    plan)."""
    first = planner.allocate(small)
    again = planner.allocate(small, previous=first)
    pins = Pins(close_posts=["P1"], exclude=["a3"])
    pinned = planner.allocate(small, previous=first, pins=pins, baseline=again)
    fresh = planner.allocate(small, previous=first, pins=pins)
    assert pinned.objective == pytest.approx(fresh.objective)
    assert pinned.optimal and pinned.bound <= pinned.objective + 1e-9
    assert pinned.pins_cost == pytest.approx(pinned.objective - again.objective)
    _checked(pinned)  # term 6 included: the checker reads the previous plan of its scenario


def _previous_plans(small: planner.Scenario) -> list[planner.Plan]:
    """Two previous plans: the optimum, and one that is not (a1 held on P1), so that a re-plan
    both keeps and moves volunteers."""
    return [planner.allocate(small), planner.allocate(small, pins=Pins(assign={"a3": "P1"}))]


@pytest.mark.parametrize("pins", [p for p in SMALL_PINS if p.assign], ids=lambda p: str(p.assign))
def test_assign_pins_on_a_replan_are_the_enumerated_optimum(
    small: planner.Scenario, pins: Pins
) -> None:
    """Assign pins in a re-plan: the optimum of term 6 (the moves from the previous plan) and
    the pins together, against every assignment enumerated by the independent checker."""
    for first in _previous_plans(small):
        again = planner.allocate(small, previous=first)
        best = _enumerated_optimum(again.scenario, pins)  # its data hold the previous plan
        if not np.isfinite(best):
            with pytest.raises(PinError):
                planner.allocate(small, previous=first, pins=pins, baseline=again)
            continue
        for baseline in (again, None):
            pinned = planner.allocate(small, previous=first, pins=pins, baseline=baseline)
            assignment = _checked(pinned)
            assert pinned.optimal
            assert pinned.objective == pytest.approx(best)
            assert all(assignment[a] == p for a, p in pins.assign.items())
            if baseline is not None:
                assert pinned.pins_cost == pytest.approx(pinned.objective - again.objective)


def test_extra_cost_is_exact_on_a_replan(small: planner.Scenario) -> None:
    """``explain`` on a re-plan: each extra cost is that of a re-plan solved from scratch
    under the pin (term 6 included)."""
    first = _previous_plans(small)[1]
    again = planner.allocate(small, previous=first)
    checked = 0
    for aid in ("a1", "a2", "a3", "a4", "a5"):
        for row in again.explain(aid).alternatives.itertuples():
            if row.choice == "unplaced" or not row.post_id or not row.feasible:
                continue
            pinned = planner.allocate(small, previous=first, pins=Pins(assign={aid: row.post_id}))
            assert row.extra_cost == pytest.approx(pinned.objective - again.objective)
            checked += 1
    assert checked >= 4


def _random_pins(
    rng: np.random.Generator, apps: list[str], posts: list[str], pairs: list[tuple[str, str]]
) -> Pins:
    """A few pins of every kind, drawn at random (they may contradict each other); assign
    pins from ``pairs`` (the eligible ones, so that most sets can hold)."""
    pick = lambda xs, k: [str(x) for x in rng.choice(xs, size=k, replace=False)]  # noqa: E731
    chosen = [pairs[i] for i in rng.choice(len(pairs), size=int(rng.integers(0, 3)))]
    return Pins(
        assign=dict(chosen),
        forbid=[(str(rng.choice(apps)), str(rng.choice(posts))) for _ in range(rng.integers(0, 3))],
        close_posts=pick(posts, int(rng.integers(0, 2))),
        exclude=pick(apps, int(rng.integers(0, 2))),
    )


@pytest.mark.parametrize("seed", range(12))
def test_random_pins_against_enumeration(small: planner.Scenario, seed: int) -> None:
    """Random pins: either refused (and then no assignment keeps the rules and the pins) or
    the certified optimum equals the best enumerated assignment."""
    apps, posts = ["a1", "a2", "a3", "a4", "a5"], ["P1", "P2", "P3"]
    base = planner.allocate(small)
    pairs = [
        (a, p)
        for a in apps
        for p in posts
        if check_plan(small.data, {a: p}).rules_broken() <= {"A4"}  # eligible (A4 aside)
    ]
    pins = _random_pins(np.random.default_rng(seed), apps, posts, pairs)
    best = _enumerated_optimum(small, pins)
    try:
        pinned = planner.allocate(small, pins=pins, baseline=base)
    except PinError:
        assert not np.isfinite(best), (pins, best)
        return
    assert np.isfinite(best), pins
    _checked(pinned)
    assert pinned.optimal and pinned.objective == pytest.approx(best), pins


def test_explanation_in_chinese(seat: planner.Scenario) -> None:
    from planner.i18n import speaking

    plan = planner.allocate(seat)
    with speaking("zh-CN"):
        e = plan.explain("A")
    reason = e.alternatives.set_index("choice").loc["pref_1", "reason"]
    assert "该岗位给了 B" in reason and "75" in reason
    assert e.to_dict()["alternatives"][0]["reason_code"] == "seat-taken"


@pytest.mark.slow  # western-2006 solved twice (about 10 s)
def test_a_baselined_replan_keeps_the_untouched_parts_fairness_pairs_exactly() -> None:
    """A re-plan with a baseline takes the fairness pairs of the parts of the pairing that no
    pin touches from the baseline; they equal the pairs computed afresh for the whole plan."""
    from planner.allocation.components import split
    from planner.allocation.fairness import fairness
    from planner.allocation.pinning import index_pins, restrict, untouched_applicants

    sc = planner.read_scenario("builtin:western-2006")
    plan = planner.allocate(sc)
    first = plan.assignments.iloc[0]
    province = str(first["county_code"])[:2] + "0000"
    mine = plan.assignments[plan.assignments["county_code"].str.startswith(province[:2])]
    pins = Pins(close_posts=[str(mine["post_id"].iloc[1])], exclude=[str(first["applicant_id"])])
    again = planner.allocate(sc, pins=pins, baseline=plan)
    problem = again.problem
    reused = untouched_applicants(problem, pins)
    assert len(split(problem)) > 1 and 0 < len(reused) < problem.n_applicants
    fresh = fairness(restrict(problem, index_pins(problem, pins)), again.solution)
    for kind in ("wasted_a", "wasted_p", "envy_a", "envy_p", "envy_holder"):
        assert np.array_equal(getattr(again.fairness_pairs, kind), getattr(fresh, kind)), kind
    assert len(fresh.envy_a) > 0
