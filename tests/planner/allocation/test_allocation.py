"""The allocation solver against hand-computed optima, the independent checker and the direct
CP-SAT formulation (:mod:`planner.allocation.direct`) on random small scenarios.

Scenarios are built in code by :func:`build_scenario` from plain rows. Distances in the hand
examples run along the meridian 100 E, where one degree of latitude is 111.195 km on the spec's
sphere, so every transport tier can be read off by eye.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.allocation import lp
from planner.allocation.account import build_account
from planner.allocation.arcs import ArcBuilder
from planner.allocation.column_generation import initial_columns, lagrangian_bound, price
from planner.allocation.compact import solve_compact_flow
from planner.allocation.components import split
from planner.allocation.direct import solve_direct
from planner.allocation.pricing import Pricer
from planner.allocation.problem import AllocationProblem
from planner.allocation.solver import AllocationSolution, solve_allocation
from planner.scenario import (
    MAJOR_CLASSES,
    Rules,
    ScenarioData,
)
from tests.support.alloc_checker import check_plan
from tests.support.alloc_scenarios import (
    SERVICE_COUNTIES,
    ApplicantRow,
    PostRow,
    QuotaRow,
    ScenarioRows,
    assignment,
    build_scenario,
    checked,
    many_ties_rows,
    scenarios,
    share_priced,
    solve_both,
)

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


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_random_scenarios_match_checker_and_direct(scenario: ScenarioData) -> None:
    sol, direct, result = solve_both(scenario)
    assert sol.objective == pytest.approx(result.objective, abs=1e-6)
    assert sol.bound <= sol.objective + 1e-6
    assert sol.optimal
    assert sol.objective == pytest.approx(direct.objective, abs=1e-6)


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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(juniors=3), st.booleans())
def test_the_pricing_misses_no_arc(scenario: ScenarioData, fractional: bool) -> None:
    """When the column generation says its pricing is complete, no eligible arc outside its
    columns has a negative reduced cost under the last LP's duals: every arc is enumerated
    here and priced from the LP's own matrix (a re-plan's arcs to the previous posts included, which cost
    ``replan_move`` less than the pricer's key order says), and the Lagrangian bound of those
    duals is at most the optimum of the direct formulation."""
    if fractional:  # half units of the subsidy: nothing is rounded
        rules = dataclasses.replace(scenario.rules, transport_tiers_cny=(550, 1050, 1550, 2050))
        scenario = dataclasses.replace(scenario, rules=rules)
    problem = AllocationProblem.from_scenario(scenario)
    builder = ArcBuilder(problem)
    pricer = Pricer(builder)
    layout = lp.row_layout(problem)
    relaxed = solve_compact_flow(problem, builder)
    columns = initial_columns(problem, pricer, relaxed.arcs)
    pricing = price(problem, layout, pricer, columns, time.perf_counter() + 30.0)
    assert pricing.complete
    every = builder.all_arcs()
    rc = every.cost - lp.matrix(problem, layout, every).T @ pricing.relaxed.duals
    n_p = problem.n_posts
    outside = ~np.isin(every.a * n_p + every.p, pricing.columns.a * n_p + pricing.columns.p)
    # (a column may sit at its upper bound 1 with a negative reduced cost)
    assert rc[outside].min(initial=0.0) >= -1e-6, "an arc prices out that the pricer missed"
    direct = solve_direct(problem, time_limit=30.0)
    if direct.optimal:
        assert pricing.relaxed.objective <= direct.objective + 1e-6
        bound = lagrangian_bound(problem, layout, pricer, pricing.relaxed.duals)
        assert bound <= direct.objective + 1e-6
