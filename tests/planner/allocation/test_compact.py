"""The compact network is exact: its min-cost flow equals the flow over every arc."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.scenario import read_scenario_data
from planner.allocation.arcs import ArcBuilder
from planner.allocation.compact import DEGREE_RADIX, MAJOR_RADIX, solve_compact_flow
from planner.allocation.flow import solve_arc_flow
from planner.allocation.key_packing import KeyPacking, field_radix
from planner.allocation.problem import AllocationProblem
from planner.scenario import DEGREES, MAJOR_CLASSES, ScenarioData
from tests.support.alloc_scenarios import scenarios


@pytest.mark.parametrize(
    "name",
    [
        "tier-county",
        "tier-prefecture",
        "huaihua-screening",
        pytest.param("western-2006", marks=pytest.mark.slow),
    ],
)
def test_compact_flow_equals_full_flow_on_builtins(name: str) -> None:
    problem = AllocationProblem.from_scenario(read_scenario_data(f"builtin:{name}"))
    builder = ArcBuilder(problem)
    compact = solve_compact_flow(problem, builder)
    full = solve_arc_flow(problem, builder.all_arcs())
    assert compact.objective == pytest.approx(full.objective, abs=1e-6)
    # the hub flows split into real (applicant, post) arcs of the same total cost
    assert problem.constant() + compact.arcs.cost.sum() == pytest.approx(
        compact.objective, abs=1e-6
    )
    assert len(set(compact.arcs.a.tolist())) == len(compact.arcs)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_compact_flow_equals_full_flow_on_random_scenarios(scenario: ScenarioData) -> None:
    problem = AllocationProblem.from_scenario(scenario)
    builder = ArcBuilder(problem)
    assert solve_compact_flow(problem, builder).objective == pytest.approx(
        solve_arc_flow(problem, builder.all_arcs()).objective, abs=1e-6
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_compact_flow_counts_placements_outside_the_preferences(scenario: ScenarioData) -> None:
    # with allow_outside_preferences every paired service province is open at the outside
    # rank (weight 60), and the compact network must offer those arcs too
    outside = dataclasses.replace(
        scenario, rules=dataclasses.replace(scenario.rules, allow_outside_preferences=True)
    )
    problem = AllocationProblem.from_scenario(outside)
    builder = ArcBuilder(problem)
    compact = solve_compact_flow(problem, builder)
    assert compact.objective == pytest.approx(
        solve_arc_flow(problem, builder.all_arcs()).objective, abs=1e-6
    )
    assert problem.constant() + compact.arcs.cost.sum() == pytest.approx(
        compact.objective, abs=1e-6
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.booleans())
def test_reach_agrees_with_the_eligible_arcs(scenario: ScenarioData, outside: bool) -> None:
    # ArcBuilder.reach (no arc built) against the enumerated arcs: who has an eligible post,
    # and in which service provinces
    scenario = dataclasses.replace(
        scenario, rules=dataclasses.replace(scenario.rules, allow_outside_preferences=outside)
    )
    problem = AllocationProblem.from_scenario(scenario)
    builder = ArcBuilder(problem)
    arcs = builder.all_arcs()
    has = np.zeros(problem.n_applicants, dtype=bool)
    provinces = np.zeros(problem.n_applicants, dtype=np.int64)
    for a, p in zip(arcs.a.tolist(), arcs.p.tolist(), strict=True):
        has[a] = True
        provinces[a] |= 1 << int(problem.post_s[p])
    got_has, got_provinces = builder.reach(np.arange(problem.n_applicants))
    assert got_has.tolist() == has.tolist()
    assert got_provinces.tolist() == provinces.tolist()


def test_key_packing_sorts_like_the_tuples_and_unpacks_them() -> None:
    rng = np.random.default_rng(7)
    packing = KeyPacking(("pattern", "tier class", "major", "degree"), (5, 16, 8))
    fields = [rng.integers(0, hi, 500) for hi in (10**6, 5, 16, 8)]
    keys = packing.pack(*fields)
    order = np.lexsort(fields[::-1])  # by pattern, then tier class, major, degree
    assert np.all(np.diff(keys[order]) >= 0)
    for got, want in zip(packing.unpack(keys), fields, strict=True):
        assert np.array_equal(got, want)


def test_a_key_that_would_overflow_or_collide_raises() -> None:
    packing = KeyPacking(("pattern", "tier class", "major", "degree"), (5, 16, 8))
    top = (int(np.iinfo(np.int64).max) + 1) // (5 * 16 * 8) - 1  # the largest head that fits
    largest = packing.pack(*(np.asarray([v]) for v in (top, 4, 15, 7)))[0]
    assert int(largest) == ((top * 5 + 4) * 16 + 15) * 8 + 7  # exact, in Python's integers
    with pytest.raises(OverflowError, match="int64"):
        packing.pack(*(np.asarray([v]) for v in (top + 1, 0, 0, 0)))
    with pytest.raises(ValueError, match="'major'"):
        packing.pack(*(np.asarray([v]) for v in (0, 0, 16, 0)))  # a 17th major class
    with pytest.raises(ValueError, match="'degree'"):
        packing.pack(*(np.asarray([v]) for v in (0, 0, 0, -1)))


def test_the_hub_key_fields_hold_every_major_class_and_degree() -> None:
    assert len(MAJOR_CLASSES) <= MAJOR_RADIX and len(DEGREES) <= DEGREE_RADIX
    assert field_radix("major classes", 16, bits=4) == 16
    with pytest.raises(ValueError, match="17 major classes do not fit in a key field of 4 bits"):
        field_radix("major classes", 17, bits=4)
