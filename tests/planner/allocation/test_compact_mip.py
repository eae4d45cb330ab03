"""The exact MIP over the compact network (:mod:`planner.allocation.compact_mip`) against the
direct CP-SAT model where the bachelor share (A4) binds hard, and the solver that closes its
gaps with it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.allocation.arcs import ArcBuilder, Arcs
from planner.allocation.compact import build_compact_network, solve_compact_flow
from planner.allocation.compact_mip import solve_compact_mip
from planner.allocation.components import split
from planner.allocation.direct import solve_direct
from planner.allocation.problem import AllocationProblem
from planner.allocation.solver import solve_allocation
from planner.scenario import ScenarioData
from tests.support.alloc_scenarios import (
    build_scenario,
    checked,
    many_ties_rows,
    scenarios,
    share_priced,
    solve_both,
)


@st.composite
def hard_share_scenarios(draw: Callable[..., Any]) -> ScenarioData:
    """Random small scenarios with many non-bachelors (5 in 11 degrees drawn are junior
    college) and a bachelor share of 80-95%, some with placements outside the preferences."""
    scenario = draw(scenarios(juniors=5))
    rules = dataclasses.replace(
        scenario.rules,
        undergraduate_min_share=draw(st.sampled_from([0.8, 0.85, 0.9, 0.95])),
        allow_outside_preferences=draw(st.booleans()),
    )
    return dataclasses.replace(scenario, rules=rules)


def post_of(problem: AllocationProblem, arcs: Arcs) -> np.ndarray:
    """A plan's arcs as the post index of each applicant (-1: unplaced)."""
    post = np.full(problem.n_applicants, -1, dtype=np.int64)
    post[arcs.a] = arcs.p
    return post


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hard_share_scenarios())
def test_compact_mip_optimum_equals_the_direct_optimum(scenario: ScenarioData) -> None:
    problem = AllocationProblem.from_scenario(scenario)
    builder = ArcBuilder(problem)
    net = build_compact_network(problem, builder)
    mip = solve_compact_mip(problem, builder, net, time_limit=30.0, gap_tolerance=0.0)
    direct = solve_direct(problem, time_limit=30.0)
    assert direct.optimal and mip.solved and mip.arcs is not None
    assert mip.objective == pytest.approx(direct.objective, abs=1e-6)
    assert mip.bound <= direct.objective + 1e-6
    # the plan split at the hubs keeps every rule and costs what the MIP says
    result = checked(scenario, problem, post_of(problem, mip.arcs))
    assert result.objective == pytest.approx(mip.objective, abs=1e-6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hard_share_scenarios())
def test_solver_optimum_equals_the_direct_optimum_where_a4_binds_hard(
    scenario: ScenarioData,
) -> None:
    sol, direct, result = solve_both(scenario)
    assert sol.optimal
    assert sol.objective == pytest.approx(result.objective, abs=1e-6)
    assert sol.bound <= direct.objective + 1e-6
    # every objective is an integer below 10,000 here, so 0.01% of it is no gap at all
    assert sol.objective == pytest.approx(direct.objective, abs=1e-6)


def test_the_compact_mip_closes_the_gap_of_the_lagrangian_bound() -> None:
    # 12 bachelors and 10 junior-college graduates from 110000 (test_bachelor_share_binds):
    # every placement costs -100 (quota) + 10 (667 or 778 km: 1000 CNY), a relay seat -1000
    # more; the empty plan costs 3 x 1000 + 44 x 100 = 7400. A4 (17/20) allows
    # 17 (12 + k) <= 20 x 12, k <= 36/17 junior-college graduates: the best plan places 14
    # (3 on the relay post), 7400 - 14 x 90 - 3000 = 3140, while the LP, and so the
    # Lagrangian bound of the flows, places 240/17: 7400 - 90 x 240/17 - 3000 = 53200/17,
    # 3129.4 (3130 rounded up).
    scenario = build_scenario(many_ties_rows())
    problem = AllocationProblem.from_scenario(scenario)
    builder = ArcBuilder(problem)
    relaxed = solve_compact_flow(problem, builder)
    shared = share_priced(problem, builder, relaxed)
    assert shared.bound == pytest.approx(53200 / 17, abs=1e-6)
    sol = solve_allocation(problem, time_limit=30.0)
    assert sol.objective == pytest.approx(3140.0, abs=1e-9)
    assert sol.bound == pytest.approx(3140.0, abs=1e-9)
    assert sol.gap == 0.0
    assert any("exact MIP over the compact network" in note for note in sol.notes)
    assert checked(scenario, problem, sol.post_of).objective == pytest.approx(3140.0)


def _western_2006(share: float) -> tuple[ScenarioData, AllocationProblem]:
    from geodata.scenario import read_scenario_data

    scenario = read_scenario_data("builtin:western-2006")
    scenario = dataclasses.replace(
        scenario, rules=dataclasses.replace(scenario.rules, undergraduate_min_share=share)
    )
    return scenario, AllocationProblem.from_scenario(scenario)


@pytest.mark.slow  # the whole western-2006 instance
def test_western_2006_at_a_bachelor_share_of_90_percent_is_certified() -> None:
    # before the compact MIP: 101,409 against a proven 101,395 after 300 s (0.0138%)
    scenario, problem = _western_2006(0.9)
    sol = solve_allocation(problem, time_limit=300.0)
    assert sol.optimal, sol.notes
    assert sol.gap <= 1e-4
    assert any("exact MIP over the compact network" in note for note in sol.notes)
    result = checked(scenario, problem, sol.post_of)
    assert result.objective == pytest.approx(sol.objective, abs=1e-6)


@pytest.mark.slow  # the whole western-2006 instance
def test_a_compact_mip_cut_short_keeps_its_promises() -> None:
    # a part of western-2006 at 90%: with a tenth of a second the MIP may have a plan or not,
    # but what it has keeps every rule and its bound is below the optimum it finds in full
    scenario, problem = _western_2006(0.9)
    part = max(split(problem), key=lambda p: p.problem.n_applicants)
    part_problem = part.problem
    builder = ArcBuilder(part_problem)
    net = build_compact_network(part_problem, builder)
    full = solve_compact_mip(part_problem, builder, net, time_limit=120.0, gap_tolerance=0.0)
    short = solve_compact_mip(part_problem, builder, net, time_limit=0.1, gap_tolerance=0.0)
    assert full.solved and full.arcs is not None
    assert short.status == "time-limit"
    assert short.bound <= full.objective + 1e-6
    if short.arcs is not None:
        whole = np.full(problem.n_applicants, -1, dtype=np.int64)
        placed = post_of(part_problem, short.arcs)
        whole[part.applicants[placed >= 0]] = part.posts[placed[placed >= 0]]
        checked(scenario, problem, whole)  # every rule holds
        assert short.objective >= full.objective - 1e-6
