"""Re-plans reached from the previous plan (:mod:`planner.allocation.warm`) against the same
network solved from scratch by OR-Tools, the independent checker and the direct CP-SAT model.

A re-plan scenario is made the way an office makes one: the previous plan is the fresh
plan's assignments, and the dropouts are gone from the applicants but still listed in it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.scenario import read_scenario_data
from planner.allocation import warm
from planner.allocation.arcs import ArcBuilder
from planner.allocation.compact import build_compact_network, risky_tiebreak, share_weight
from planner.allocation.direct import solve_direct
from planner.allocation.flow import solve_from_scratch
from planner.allocation.network import FlowNetwork, build_flow_network
from planner.allocation.problem import AllocationProblem
from planner.allocation.solver import AllocationSolution, solve_allocation
from planner.scenario import PreviousPlan, ScenarioData
from tests.support.alloc_checker import check_plan
from tests.support.alloc_scenarios import assignment, checked, scenarios


def replan_scenario(
    scenario: ScenarioData, problem: AllocationProblem, sol: AllocationSolution, leave: np.ndarray
) -> ScenarioData:
    """``scenario`` with the plan ``sol`` as the previous plan and the applicants ``leave``
    (indices) gone."""
    plan = assignment(problem, sol.post_of)
    previous = PreviousPlan(
        applicant_id=np.asarray(list(plan), dtype=object).astype(str),
        post_id=np.asarray(list(plan.values()), dtype=object).astype(str),
    )
    apps = scenario.applicants
    assert apps is not None
    keep = ~np.isin(apps.applicant_id, problem.applicant_id[leave])
    rows = {
        f.name: getattr(apps, f.name)[keep]
        for f in dataclasses.fields(apps)
        if isinstance(getattr(apps, f.name), np.ndarray)
    }
    rows["preferred_categories"] = tuple(
        c for c, k in zip(apps.preferred_categories, keep, strict=True) if k
    )
    rows["extra"] = dataclasses.replace(
        apps.extra, values=tuple(v[keep] for v in apps.extra.values)
    )
    return dataclasses.replace(
        scenario, applicants=dataclasses.replace(apps, **rows), previous_plan=previous
    )


def network_of(problem: AllocationProblem) -> tuple[FlowNetwork, np.ndarray]:
    """The relaxation's network (as solve_compact_flow solves it) and its direct arcs."""
    net = build_compact_network(problem, ArcBuilder(problem))
    fn = build_flow_network(problem, net.direct, net.hubs, tiebreak=risky_tiebreak(problem))
    return fn, net.direct


def assert_feasible(fn: FlowNetwork, flow: np.ndarray) -> None:
    """Capacities and flow conservation, checked here rather than trusted."""
    assert np.all(flow >= 0) and np.all(flow <= fn.caps)
    out = np.bincount(fn.tails, weights=flow, minlength=fn.n_nodes)
    into = np.bincount(fn.heads, weights=flow, minlength=fn.n_nodes)
    want = np.zeros(fn.n_nodes)
    want[0], want[1] = fn.supply, -fn.supply
    assert np.array_equal(out - into, want)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.data())
def test_warm_start_reaches_the_optimum_from_scratch(
    scenario: ScenarioData, data: st.DataObject
) -> None:
    """Wherever the previous plan can start it, the re-plan's flow is feasible and costs
    exactly what OR-Tools' flow from scratch costs (the tie-break included); the whole
    re-plan keeps every rule and equals the direct CP-SAT optimum."""
    scenario = dataclasses.replace(scenario, previous_plan=None)  # the fresh plan is previous
    problem = AllocationProblem.from_scenario(scenario)
    fresh = solve_allocation(problem, time_limit=30.0)
    placed = np.flatnonzero(fresh.post_of >= 0)
    leave = np.asarray(
        data.draw(st.lists(st.sampled_from(placed.tolist()), max_size=3, unique=True))
        if len(placed)
        else [],
        dtype=np.int64,
    )
    again = replan_scenario(scenario, problem, fresh, leave)
    replanned = AllocationProblem.from_scenario(again)
    assert int(replanned.post_prev_gone.sum()) == len(leave)
    fn, direct = network_of(replanned)
    reached = warm.warm_solve(replanned, fn, direct)
    scratch = solve_from_scratch(fn)
    if reached is not None:
        assert_feasible(fn, reached)
        assert int(reached @ fn.solver_costs) == int(scratch @ fn.solver_costs)
    sol = solve_allocation(replanned, time_limit=30.0)
    result = checked(again, replanned, sol.post_of)
    assert sol.objective == pytest.approx(result.objective, abs=1e-6)
    assert sol.optimal
    reference = solve_direct(replanned, time_limit=30.0)
    assert reference.optimal
    assert sol.objective == pytest.approx(reference.objective, abs=1e-6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(juniors=3))
def test_tie_break_from_the_plain_optimum_is_the_tie_broken_optimum(scenario: ScenarioData) -> None:
    """The tie-broken flow mended from the optimum without the tie-break is feasible and
    costs what OR-Tools' tie-broken flow from scratch costs."""
    problem = AllocationProblem.from_scenario(dataclasses.replace(scenario, previous_plan=None))
    net = build_compact_network(problem, ArcBuilder(problem))
    fn = build_flow_network(problem, net.direct, net.hubs, tiebreak=share_weight(problem))
    plain = build_flow_network(problem, net.direct, net.hubs)
    mended = warm.tie_break(fn, solve_from_scratch(plain))
    assert mended is not None
    assert_feasible(fn, mended)
    assert int(mended @ fn.solver_costs) == int(solve_from_scratch(fn) @ fn.solver_costs)


def test_a_previous_plan_that_is_not_optimal_starts_nothing() -> None:
    """A volunteer of an optimal plan moved to a post that costs him more than the 50 of a
    move: the plan still keeps every rule, but moving him back pays, a negative cycle of the
    residual network. The Bellman-Ford search finds it and the re-plan is solved from
    scratch, to the same optimum as before."""
    scenario = read_scenario_data("builtin:tier-county")
    problem = AllocationProblem.from_scenario(scenario)
    fresh = solve_allocation(problem)
    builder = ArcBuilder(problem)
    usable = np.flatnonzero(problem.post_usable)
    moved = None
    for a in np.flatnonzero(fresh.post_of >= 0).tolist():
        arcs = builder.arcs_for_pairs(np.full(len(usable), a), usable)
        own = float(arcs.cost[arcs.p == fresh.post_of[a]][0])
        for p in arcs.p[arcs.cost > own + 60].tolist():
            trial = fresh.post_of.copy()
            trial[a] = p
            if not check_plan(scenario, assignment(problem, trial)).violations:
                moved = dataclasses.replace(fresh, post_of=trial)
                break
        if moved is not None:
            break
    assert moved is not None
    again = replan_scenario(scenario, problem, moved, np.zeros(0, dtype=np.int64))
    replanned = AllocationProblem.from_scenario(again)
    fn, direct = network_of(replanned)
    assert warm.warm_solve(replanned, fn, direct) is None
    sol = solve_allocation(replanned)
    checked(again, replanned, sol.post_of)
    assert sol.optimal and not any("previous plan" in note for note in sol.notes)


@pytest.fixture(scope="module")
def prefecture_replan() -> tuple[ScenarioData, AllocationProblem, AllocationSolution, float]:
    """tier-prefecture re-planned after 2% of its volunteers dropped out, and the optimum of
    the same re-plan from scratch (the warm start switched off)."""
    scenario = read_scenario_data("builtin:tier-prefecture")
    problem = AllocationProblem.from_scenario(scenario)
    fresh = solve_allocation(problem)
    placed = np.flatnonzero(fresh.post_of >= 0)
    leave = np.random.default_rng(3).choice(placed, size=len(placed) // 50, replace=False)
    again = replan_scenario(scenario, problem, fresh, np.sort(leave))
    replanned = AllocationProblem.from_scenario(again)
    sol = solve_allocation(replanned, workers=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(warm, "warm_solve", lambda *args: None)
        scratch = solve_allocation(replanned, workers=1)
    assert scratch.optimal
    return again, replanned, sol, scratch.objective


def test_replan_after_dropouts_is_reached_from_the_previous_plan(
    prefecture_replan: tuple[ScenarioData, AllocationProblem, AllocationSolution, float],
) -> None:
    again, replanned, sol, scratch = prefecture_replan
    assert any("reached from the previous plan" in note for note in sol.notes), sol.notes
    result = checked(again, replanned, sol.post_of)
    assert sol.optimal and sol.bound == pytest.approx(sol.objective)
    assert sol.objective == pytest.approx(result.objective, abs=1e-6)
    assert sol.objective == pytest.approx(scratch, abs=1e-6)
    kept = (replanned.app_prev_post >= 0) & (sol.post_of == replanned.app_prev_post)
    assert kept.sum() == (replanned.app_prev_post >= 0).sum()  # nobody is moved for the dropouts
