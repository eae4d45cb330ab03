"""A solve cut short still returns a valid plan with a proven (if weak) lower bound."""

from __future__ import annotations

import numpy as np
import pytest

from geodata.scenario import read_scenario_data
from planner.allocation import lp
from planner.allocation.arcs import ArcBuilder
from planner.allocation.column_generation import lagrangian_bound
from planner.allocation.pricing import Pricer
from planner.allocation.problem import AllocationProblem
from planner.allocation.solver import solve_allocation
from tests.support.alloc_checker import check_plan


@pytest.mark.parametrize("name", ["tier-county", "tier-prefecture", "huaihua-screening"])
def test_lagrangian_bound_never_exceeds_the_optimum(name: str) -> None:
    problem = AllocationProblem.from_scenario(read_scenario_data(f"builtin:{name}"))
    optimum = solve_allocation(problem).objective
    pricer = Pricer(ArcBuilder(problem))
    layout = lp.row_layout(problem)
    zeros = (
        np.zeros(problem.n_posts),
        np.zeros(problem.n_applicants),
        np.zeros(len(problem.pair_cap)),
    )
    for per_pref in (1, 3, 10):
        cols, _, _ = pricer.candidates(*zeros, 0.0, max_per_preference=per_pref)
        relaxed = lp.solve(problem, layout, cols, integral=False, time_limit=60)
        bound = lagrangian_bound(problem, layout, pricer, relaxed.duals)
        assert bound <= optimum + 1e-6
        assert relaxed.objective >= optimum - 1e-6  # a restricted LP is no lower than the LP


def test_time_limit_returns_a_valid_plan_and_bound() -> None:
    scenario = read_scenario_data("builtin:tier-prefecture")
    problem = AllocationProblem.from_scenario(scenario)
    sol = solve_allocation(problem, time_limit=0.01)
    assert sol.bound <= sol.objective + 1e-6
    plan = {
        str(problem.applicant_id[a]): str(problem.post_id[p])
        for a, p in enumerate(sol.post_of)
        if p >= 0
    }
    check = check_plan(scenario, plan)
    assert check.violations == []
    assert check.objective == pytest.approx(sol.objective)
