"""The independent allocation checker against hand-computed plans on a tiny in-code scenario.

The scenario (built by :func:`two_county_scenario`) has two service counties on the meridian
100 E, so that distances are whole degrees of latitude (1 degree = 111.195 km on the spec's
sphere) and every transport tier can be read off by eye:

- county A ``513322`` (Sichuan, Ganzi prefecture: higher living subsidy 800), service province
  510000, centroid (100, 30); county B ``620102`` (Gansu: 600), province 620000, centroid (100, 36);
  home county ``110101`` with centroid (100, 50).
- posts: PA1 A education 2 seats, relay, 1 continuing -> 1 open; PA2 A youth_center 1 seat;
  PA3 A health 2 seats, requires medicine, min bachelor; PB1 B agriculture 3 seats, relay;
  PB2 B other 1 seat. A post lies at its county centroid.
- quotas: A general 2 + youth_center 1; B general 2.
- pairing: 510000 <- 110000, 310000 (1 pair seat); 620000 <- 110000, 310000.
- targets: service 510000: 4, 620000: 3; recruit 110000: 5, 310000: 3.
- previous plan: a1 -> PA1, a2 -> PB1, gone (a dropout) -> PB2.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from planner.scenario import (
    DEGREES,
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
from tests.support.alloc_checker import (
    TERM_NAMES,
    bachelor_share_ok,
    check_plan,
    haversine_km,
    living_subsidy_month_cny,
    transport_subsidy_cny,
)

NAN = float("nan")
A, B = "513322", "620102"

# (id, recruit, degree, major, preferences, home_lon, home_lat, health_ok)
APPLICANTS: list[tuple[str, str, str, str, list[str], float, float, bool]] = [
    ("a1", "110000", "bachelor", "education", [A, "620000"], 100.0, 32.0, True),
    ("a2", "110000", "master", "medicine", ["620000", "510000"], 100.0, 40.0, True),
    ("a3", "310000", "bachelor", "engineering", ["510000"], 100.0, 22.0, True),
    ("a4", "110000", "doctor", "agriculture", [B], NAN, NAN, True),  # home: county 110101
    ("a5", "310000", "junior_college", "arts", ["620000"], 100.0, 32.0, True),
    ("a6", "440000", "bachelor", "other", ["620000"], 100.0, 32.0, True),
    ("a7", "110000", "bachelor", "medicine", [A], 100.0, 32.0, False),
    ("a8", "110000", "bachelor", "medicine", ["510000"], 100.0, 32.0, True),
    ("a9", "110000", "junior_college", "medicine", ["510000"], 100.0, 32.0, True),
]

FEASIBLE = {"a1": "PA1", "a2": "PA3", "a3": "PA2", "a4": "PB1"}


def arr(values: Sequence[Any], dtype: Any = None) -> np.ndarray:
    return np.asarray(values, dtype=dtype)


def two_county_scenario(
    *,
    barred_b: bool = False,
    b_has_quota: bool = True,
    pa2_seats: int = 1,
    pair_seats_510_310: int = 1,
    service_target_510: int = 4,
    recruit_target_110: int = 5,
    rules: Rules | None = None,
    weights: Weights | None = None,
    previous_plan: bool = True,
) -> ScenarioData:
    counties = Counties(
        code=arr([A, B, "110101"], str),
        name=arr(["泸定县", "城关区", "东城区"], str),
        prefecture_code=arr(["513300", "620100", "110100"], str),
        province_code=arr(["510000", "620000", "110000"], str),
        centroid_lon=arr([100.0, 100.0, 100.0], float),
        centroid_lat=arr([30.0, 36.0, 50.0], float),
    )
    special_a = [1 if action == "youth_center" else 0 for action in SPECIAL_ACTIONS]
    special_b = [0] * len(SPECIAL_ACTIONS)
    q_codes, q_general, q_special, q_barred = [A], [2], [special_a], [False]
    if b_has_quota:
        q_codes.append(B)
        q_general.append(2)
        q_special.append(special_b)
        q_barred.append(barred_b)
    quotas = Quotas(
        county_code=arr(q_codes, str),
        general_quota=arr(q_general, np.int64),
        special_quota=arr(q_special, np.int64).reshape(len(q_codes), len(SPECIAL_ACTIONS)),
        barred=arr(q_barred, bool),
        served_last_year=arr([True] * len(q_codes), bool),
    )
    bachelor = DEGREES.index("bachelor")
    posts = Posts(
        post_id=arr(["PA1", "PA2", "PA3", "PB1", "PB2"], str),
        county_code=arr([A, A, A, B, B], str),
        township_code=arr([A + "100", A + "101", A + "102", B + "001", B + "002"], str),
        category=arr(["education", "youth_center", "health", "agriculture", "other"], str),
        seats=arr([2, pa2_seats, 2, 3, 1], np.int64),
        lon=arr([100.0] * 5, float),
        lat=arr([30.0, 30.0, 30.0, 36.0, 36.0], float),
        township_name=arr(["t1", "t2", "t3", "t4", "t5"], str),
        relay=arr([True, False, False, True, False], bool),
        required_majors=(
            frozenset(),
            frozenset(),
            frozenset({"medicine"}),
            frozenset(),
            frozenset(),
        ),
        min_degree=arr([-1, -1, bachelor, -1, -1], np.int64),
    )
    continuing = Continuing(volunteer_id=arr(["c1"], str), post_id=arr(["PA1"], str))
    prefs = [row[4] + [""] * (5 - len(row[4])) for row in APPLICANTS]
    applicants = Applicants(
        applicant_id=arr([row[0] for row in APPLICANTS], str),
        recruit_province=arr([row[1] for row in APPLICANTS], str),
        degree=arr([DEGREES.index(row[2]) for row in APPLICANTS], np.int64),
        major_class=arr([row[3] for row in APPLICANTS], str),
        preferences=arr(prefs, str),
        home_county_code=arr(["110101"] * len(APPLICANTS), str),
        home_lon=arr([row[5] for row in APPLICANTS], float),
        home_lat=arr([row[6] for row in APPLICANTS], float),
        preferred_categories=tuple(frozenset() for _ in APPLICANTS),
        term_years=arr([1] * len(APPLICANTS), np.int64),
        health_ok=arr([row[7] for row in APPLICANTS], bool),
    )
    pairing = Pairing(
        service_province=arr(["510000", "510000", "620000", "620000"], str),
        recruit_province=arr(["110000", "310000", "110000", "310000"], str),
        seats=arr([-1, pair_seats_510_310, -1, -1], np.int64),
    )
    targets = Targets(
        province_code=arr(["510000", "620000", "110000", "310000"], str),
        role=arr(["service", "service", "recruit", "recruit"], str),
        target=arr([service_target_510, 3, recruit_target_110, 3], np.int64),
    )
    previous = PreviousPlan(
        applicant_id=arr(["a1", "a2", "gone"], str), post_id=arr(["PA1", "PB1", "PB2"], str)
    )
    return ScenarioData(
        name="two-county",
        year=2006,
        synthetic=True,
        description="",
        rules=rules or Rules(),
        weights=weights or Weights(),
        counties=counties,
        quotas=quotas,
        posts=posts,
        continuing=continuing,
        applicants=applicants,
        pairing=pairing,
        targets=targets,
        previous_plan=previous if previous_plan else None,
    )


def plan(**changes: str | None) -> dict[str, str]:
    """The feasible plan with some applicants moved (a post id) or unplaced (None)."""
    out = dict(FEASIBLE)
    for aid, pid in changes.items():
        if pid is None:
            out.pop(aid, None)
        else:
            out[aid] = pid
    return out


def only_rule(result_rules: set[str], label: str) -> None:
    assert result_rules == {label}


# The feasible plan, by hand ------------------------------------------------------------------


def test_feasible_plan_objective_and_budget_by_hand() -> None:
    r = check_plan(two_county_scenario(), FEASIBLE)
    assert r.violations == []
    assert r.ok
    # Term 1: relay posts PA1 (1 open, 1 placed) -> 0 empty; PB1 (3 open, 1 placed) -> 2 empty.
    #         1000 x 2 = 2000
    # Term 2: A: 2 + 1 - 3 placed = 0; B: 2 - 1 placed = 1.  100 x 1 = 100
    # Term 3: a1 on PA1: pref_1 = 513322 (county) -> rank 1 -> 0
    #         a2 on PA3: pref_1 = 620000 no, pref_2 = 510000 (province) -> rank 2 -> 10
    #         a3 on PA2: pref_1 = 510000 -> 0;  a4 on PB1: pref_1 = 620102 -> 0.   total 10
    # Term 4: a3 engineering on youth_center (education, humanities, management, arts) -> 3
    # Term 5: a1 (100,32)->(100,30)  2 deg =  222.4 km -> 500 CNY  -> 5
    #         a2 (100,40)->(100,30) 10 deg = 1112.0 km -> 1500 CNY -> 15
    #         a3 (100,22)->(100,30)  8 deg =  889.6 km -> 1000 CNY -> 10
    #         a4 home county centroid (100,50)->(100,36) 14 deg = 1556.7 km -> 1500 CNY -> 15
    #         total 45
    # Term 6: a1 stays on PA1; a2 PB1 -> PA3 moves; "gone" is a dropout.  50 x 1 = 50
    assert r.terms == {
        "relay_empty": 2000.0,
        "quota_unfilled": 100.0,
        "preference": 10.0,
        "major_mismatch": 3.0,
        "transport_subsidy": 45.0,
        "replan_moves": 50.0,
    }
    assert r.objective == pytest.approx(2000 + 100 + 10 + 3 + 45 + 50)  # 2208
    assert r.counts["placed"] == 4
    assert r.counts["relay_empty_seats"] == 2
    assert r.counts["quota_unfilled_units"] == 1
    assert r.counts["moves"] == 1
    assert r.counts["major_mismatch"] == 1
    assert r.counts["outside_preference"] == 0
    assert r.counts["transport_subsidy_cny"] == 4500
    # Budget: 12 x living + transport + 200 insurance + 100 health check.
    #   a1: 12 x 800 + 500  + 300 = 10400  (A is in Ganzi, 5133: 800 a month)
    #   a2: 12 x 800 + 1500 + 300 = 11400
    #   a3: 12 x 800 + 1000 + 300 = 10900
    #   a4: 12 x 600 + 1500 + 300 =  9000  (B in Gansu: 600)
    assert r.budget_total_cny == 41700
    assert r.budget_by_service_province == {"510000": 32700, "620000": 9000}
    assert r.budget_by_recruit_province == {"110000": 30800, "310000": 10900}


def test_terms_sum_to_objective_and_follow_the_weights() -> None:
    w = Weights(
        relay_empty=7,
        quota_unfilled=5,
        preference_rank=2,
        outside_preference=9,
        major_mismatch=4,
        transport_subsidy_per_100cny=3,
        replan_move=11,
    )
    r = check_plan(two_county_scenario(weights=w), FEASIBLE)
    assert set(r.terms) == set(TERM_NAMES)
    assert r.terms == {
        "relay_empty": 7 * 2,
        "quota_unfilled": 5 * 1,
        "preference": 2 * 1,
        "major_mismatch": 4 * 1,
        "transport_subsidy": 3 * 45,
        "replan_moves": 11 * 1,
    }
    assert r.objective == pytest.approx(sum(r.terms.values()))


def test_empty_plan() -> None:
    r = check_plan(two_county_scenario(), {})
    assert r.ok
    # relay: PA1 1 open + PB1 3 open = 4 empty; quota: A 3 + B 2 = 5; moves: a1 and a2 unplaced.
    assert r.counts["relay_empty_seats"] == 4
    assert r.counts["quota_unfilled_units"] == 5
    assert r.counts["moves"] == 2
    assert r.objective == pytest.approx(4000 + 500 + 100)
    assert r.budget_total_cny == 0
    assert r.budget_by_service_province == {}


def test_no_previous_plan_means_no_moves() -> None:
    r = check_plan(two_county_scenario(previous_plan=False), {})
    assert r.counts["moves"] == 0
    assert r.terms["replan_moves"] == 0.0


def test_replan_keeping_everyone_costs_nothing() -> None:
    r = check_plan(two_county_scenario(), plan(a2="PB1", a4=None))
    # a1 stays on PA1, a2 back on PB1; a2's preference 620000 is rank 1.
    assert r.ok, r.violations
    assert r.counts["moves"] == 0


# One broken rule at a time -------------------------------------------------------------------


def test_a1_seat_overflow_counts_continuing_volunteers() -> None:
    # PA1 has 2 seats, one kept by a continuing volunteer: a1 and a2 on it is one too many.
    r = check_plan(two_county_scenario(), plan(a2="PA1"))
    only_rule(r.rules_broken(), "A1")
    assert any("PA1" in v and "1 open seats" in v for v in r.violations)
    # the over-full relay post counts 0 empty seats, never a negative number: only PB1's 2
    assert r.counts["relay_empty_seats"] == 2


def test_a1_unknown_ids() -> None:
    r = check_plan(two_county_scenario(), plan(nobody="PA3", a5="NOPOST"))
    only_rule(r.rules_broken(), "A1")
    assert len(r.violations) == 2
    assert r.counts["placed"] == 4


def test_a2_general_bucket_overflow() -> None:
    # A's general bucket (PA1 education + PA3 health) is full at 2; a8 on PA3 makes 3.
    r = check_plan(two_county_scenario(), plan(a8="PA3"))
    only_rule(r.rules_broken(), "A2")
    assert any("general" in v and A in v for v in r.violations)


def test_a2_special_bucket_overflow() -> None:
    # PA2 gets 2 seats but A's youth_center quota stays 1.
    r = check_plan(two_county_scenario(pa2_seats=2), plan(a8="PA2"))
    only_rule(r.rules_broken(), "A2")
    assert any("youth_center" in v for v in r.violations)


def test_a2_barred_county_receives_none() -> None:
    r = check_plan(two_county_scenario(barred_b=True), FEASIBLE)
    only_rule(r.rules_broken(), "A2")
    assert any("barred" in v and B in v for v in r.violations)
    # a barred county has no unfilled quota; its relay seats left empty still count
    assert r.counts["quota_unfilled_units"] == 0
    assert r.counts["relay_empty_seats"] == 2


def test_a2_barred_county_empty_relay_seats_count() -> None:
    r = check_plan(two_county_scenario(barred_b=True), plan(a4=None))
    assert r.ok
    assert r.counts["relay_empty_seats"] == 3  # PB1's 3 open seats, in a barred county
    assert r.counts["quota_unfilled_units"] == 0  # A is full, B is barred


def test_a2_county_without_quota_row() -> None:
    r = check_plan(two_county_scenario(b_has_quota=False), FEASIBLE)
    only_rule(r.rules_broken(), "A2")
    assert any("no quota row" in v for v in r.violations)


def test_a3_unpaired_recruiting_province() -> None:
    # a6 is recruited in 440000, which no service province is paired with.
    r = check_plan(two_county_scenario(), plan(a6="PB2"))
    only_rule(r.rules_broken(), "A3")
    assert any("a6" in v and "not paired" in v for v in r.violations)


def test_a3_pair_seats() -> None:
    r = check_plan(two_county_scenario(pair_seats_510_310=0), FEASIBLE)
    only_rule(r.rules_broken(), "A3")
    assert any("pair seats 0" in v for v in r.violations)


def test_a4_bachelor_share() -> None:
    # 310000 places a3 (bachelor) and a5 (junior college): 1 < 0.85 x 2.
    r = check_plan(two_county_scenario(), plan(a5="PB2"))
    only_rule(r.rules_broken(), "A4")
    assert any("310000" in v for v in r.violations)
    # With a lower share the same plan is fine: 1 >= 0.5 x 2.
    r = check_plan(two_county_scenario(rules=Rules(undergraduate_min_share=0.5)), plan(a5="PB2"))
    assert r.ok, r.violations


def test_a4_exact_comparison() -> None:
    assert 0.55 * 100 > 55  # float noise that a naive comparison would trip over
    assert bachelor_share_ok(55, 100, 0.55)
    assert not bachelor_share_ok(54, 100, 0.55)
    assert bachelor_share_ok(17, 20, 0.85)
    assert not bachelor_share_ok(16, 20, 0.85)
    assert bachelor_share_ok(0, 5, 0.0)
    assert Fraction(repr(0.85)) == Fraction(17, 20)


def test_a5_required_major() -> None:
    # a1 (education) on PA3, which requires medicine.
    r = check_plan(two_county_scenario(), plan(a1="PA3"))
    only_rule(r.rules_broken(), "A5")
    assert any("required majors" in v for v in r.violations)


def test_a5_min_degree() -> None:
    # a9 (junior college) replaces a2 on PA3 (min bachelor); a lower share keeps A4 out of it.
    s = two_county_scenario(rules=Rules(undergraduate_min_share=0.6))
    r = check_plan(s, plan(a2=None, a9="PA3"))
    only_rule(r.rules_broken(), "A5")
    assert any("degree" in v and "a9" in v for v in r.violations)


def test_a5_health() -> None:
    r = check_plan(two_county_scenario(), plan(a2=None, a7="PA3"))
    only_rule(r.rules_broken(), "A5")
    assert any("health" in v and "a7" in v for v in r.violations)


def test_a5_preference_and_allowed_outside() -> None:
    # a8 wants 510000 only; PB2 is in 620000.
    r = check_plan(two_county_scenario(), plan(a8="PB2"))
    only_rule(r.rules_broken(), "A5")
    assert any("preferences" in v and "a8" in v for v in r.violations)
    assert r.counts["outside_preference"] == 1
    # Allowed outside the preferences: feasible, and it costs 60 on top of the base 10.
    s = two_county_scenario(rules=Rules(allow_outside_preferences=True))
    r = check_plan(s, plan(a8="PB2"))
    assert r.ok, r.violations
    assert r.terms["preference"] == 10 + 60


def test_a6_service_target() -> None:
    r = check_plan(two_county_scenario(service_target_510=2), FEASIBLE)
    only_rule(r.rules_broken(), "A6")
    assert any("service province 510000" in v for v in r.violations)


def test_a6_recruit_target() -> None:
    r = check_plan(two_county_scenario(recruit_target_110=2), FEASIBLE)
    only_rule(r.rules_broken(), "A6")
    assert any("recruiting province 110000" in v for v in r.violations)


def test_every_violation_starts_with_its_label() -> None:
    # Break everything at once.
    s = two_county_scenario(barred_b=True, service_target_510=1, pair_seats_510_310=0)
    r = check_plan(s, {"a1": "PA3", "a2": "PA1", "a3": "PA2", "a5": "PB2", "a6": "PB2", "x": "PA1"})
    assert r.rules_broken() == {"A1", "A2", "A3", "A4", "A5", "A6"}
    for v in r.violations:
        assert v[:4] in {"A1: ", "A2: ", "A3: ", "A4: ", "A5: ", "A6: "}


# Distances, tiers and subsidies --------------------------------------------------------------


def test_haversine_beijing_shanghai() -> None:
    d = haversine_km(116.4074, 39.9042, 121.4737, 31.2304)
    assert 1067.0 <= d <= 1068.0
    assert haversine_km(121.4737, 31.2304, 116.4074, 39.9042) == pytest.approx(d)
    assert haversine_km(100.0, 30.0, 100.0, 30.0) == 0.0
    # one degree of a meridian on the sphere of radius 6371.0088 km
    assert haversine_km(100.0, 30.0, 100.0, 31.0) == pytest.approx(6371.0088 * np.pi / 180)
    # antipodes
    assert haversine_km(0.0, 0.0, 180.0, 0.0) == pytest.approx(6371.0088 * np.pi)


@pytest.mark.parametrize(
    ("km", "cny"),
    [
        (0.0, 500),
        (499.999, 500),
        (500.0, 1000),
        (999.999, 1000),
        (1000.0, 1500),
        (1999.999, 1500),
        (2000.0, 2000),
        (20000.0, 2000),
    ],
)
def test_transport_tiers(km: float, cny: int) -> None:
    assert transport_subsidy_cny(km, Rules()) == cny


def test_transport_tiers_from_rules() -> None:
    rules = Rules(transport_tiers_km=(100.0, 300.0), transport_tiers_cny=(10, 20))
    assert transport_subsidy_cny(50.0, rules) == 0  # below every tier
    assert transport_subsidy_cny(100.0, rules) == 10
    assert transport_subsidy_cny(300.0, rules) == 20


def test_living_subsidy_areas() -> None:
    rules = Rules()
    assert living_subsidy_month_cny("540102", rules) == 800  # Tibet
    assert living_subsidy_month_cny("513322", rules) == 800  # Ganzi
    assert living_subsidy_month_cny("533401", rules) == 800  # Diqing
    assert living_subsidy_month_cny("632521", rules) == 800  # Hainan (Qinghai)
    assert living_subsidy_month_cny("510104", rules) == 600  # Chengdu
    assert living_subsidy_month_cny("630102", rules) == 600  # Xining
    assert living_subsidy_month_cny("460100", rules) == 600  # Hainan province, not 6325


def test_home_coordinates_win_over_county_centroid() -> None:
    # a4 has no home coordinates: centroid of 110101 (100, 50) to PB1 (100, 36): 14 deg, 1500.
    # a1 has home coordinates (100, 32): to PB1 4 deg = 444.8 km: 500.
    r = check_plan(two_county_scenario(), {"a1": "PB1"})
    assert r.counts["transport_subsidy_cny"] == 500
    r = check_plan(two_county_scenario(), {"a4": "PB1"})
    assert r.counts["transport_subsidy_cny"] == 1500


# Scale ---------------------------------------------------------------------------------------


def test_ten_thousand_applicants_in_a_few_seconds() -> None:
    base = two_county_scenario()
    n = 10_000
    rng = np.random.default_rng(0)
    n_posts = 3_000
    posts = Posts(
        post_id=arr([f"P{i}" for i in range(n_posts)], str),
        county_code=arr([A if i % 2 else B for i in range(n_posts)], str),
        township_code=arr([(A if i % 2 else B) + "100" for i in range(n_posts)], str),
        category=arr(["education"] * n_posts, str),
        seats=arr([4] * n_posts, np.int64),
        lon=rng.uniform(98, 102, n_posts),
        lat=rng.uniform(28, 38, n_posts),
        township_name=arr(["t"] * n_posts, str),
        relay=arr([i % 3 == 0 for i in range(n_posts)], bool),
        required_majors=tuple(frozenset() for _ in range(n_posts)),
        min_degree=arr([-1] * n_posts, np.int64),
    )
    applicants = Applicants(
        applicant_id=arr([f"x{i}" for i in range(n)], str),
        recruit_province=arr(["110000"] * n, str),
        degree=arr([1] * n, np.int64),
        major_class=arr(["education"] * n, str),
        preferences=arr([["510000", "620000", "", "", ""]] * n, str),
        home_county_code=arr(["110101"] * n, str),
        home_lon=rng.uniform(100, 120, n),
        home_lat=rng.uniform(25, 45, n),
        preferred_categories=tuple(frozenset() for _ in range(n)),
        term_years=arr([1] * n, np.int64),
        health_ok=arr([True] * n, bool),
    )
    s = dataclasses.replace(base, posts=posts, applicants=applicants, previous_plan=None)
    assignment = {f"x{i}": f"P{i % n_posts}" for i in range(n)}
    start = time.perf_counter()
    r = check_plan(s, assignment)
    elapsed = time.perf_counter() - start
    assert r.counts["placed"] == n
    assert r.rules_broken() == {"A2", "A6"}  # quotas and targets are those of the tiny scenario
    assert elapsed < 10.0


def test_the_restated_facts_agree_with_the_planner() -> None:
    # the checker restates the spec's facts instead of importing them; the two copies agree
    import planner.scenario as sc
    from tests.support import alloc_checker

    assert alloc_checker.DEGREES == sc.DEGREES
    assert alloc_checker.BACHELOR_RANK == sc.BACHELOR_RANK
    assert alloc_checker.SPECIAL_ACTIONS == sc.SPECIAL_ACTIONS
    assert alloc_checker.GENERAL_CATEGORIES == sc.GENERAL_CATEGORIES
    assert alloc_checker.MAJOR_CLASSES == sc.MAJOR_CLASSES
    assert alloc_checker.DEFAULT_FIT == sc.DEFAULT_FIT
    assert alloc_checker.HIGH_LIVING_SUBSIDY_AREAS == sc.HIGH_LIVING_SUBSIDY_AREAS
