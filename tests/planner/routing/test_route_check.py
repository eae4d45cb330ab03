"""The library's routing checker (:mod:`planner.routing.check`, behind ``routes.check()``).

Results of the real solver give no violation, and the independent checker of
``tests/support/route_checker.py`` agrees; every rule broken on purpose in a valid result is named,
with the route, visit or stop it concerns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planner
from planner.routing.check import check_routes
from planner.routing.problem import RoutingProblem
from planner.routing.result import RoutingResult
from planner.routing.solver import SolveOptions, solve_routing
from planner.violation import Violation
from tests.support.route_checker import check_routes as independent
from tests.support.routing_problems import line_problem, random_problem

FAST = SolveOptions(time_limit=5.0, workers=1)


def solved(p: RoutingProblem, opts: SolveOptions = FAST) -> RoutingResult:
    """The solver's result, which both checkers must find valid."""
    r = solve_routing(p, opts)
    assert check_routes(p, r) == []
    assert independent(p, r) == []
    return r


# Valid results of the real solver ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"windows": [(480, 500)]}, "time_window"),
        ({"stops_at": [400.0]}, "outside_shift"),
        ({"unreachable": [0]}, "no_path"),
        ({"crews": [1]}, "no_crew"),
        ({"vehicles": 0}, "no_capacity"),
        ({"stops_at": [150.0], "demand": [60], "capacity": 60}, "travel_time"),
        ({"stops_at": [5.0, 10.0], "demand": [50, 50], "capacity": 80}, "no_capacity"),
    ],
)
def test_each_reason_of_the_solver_is_borne_out(kwargs: dict[str, Any], reason: str) -> None:
    base: dict[str, Any] = {"stops_at": [10.0], "demand": [10]}
    base.update(kwargs)
    p = line_problem(base.pop("stops_at"), base.pop("demand"), **base)
    r = solved(p)
    assert reason in r.reason.tolist()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    stations=st.integers(1, 3),
    stops=st.integers(1, 8),
    days=st.integers(1, 3),
)
def test_random_campaigns_keep_every_rule(seed: int, stations: int, stops: int, days: int) -> None:
    solved(random_problem(seed, stations, stops, days), SolveOptions(time_limit=2.0, workers=1))


def rough_problem(seed: int, stations: int, stops: int) -> RoutingProblem:
    """:func:`random_problem` with stops often out of reach: seven times as far (up to 10
    hours), some pairs without a path, half the stops with a short window; so every reason
    code occurs (each of the six in at least a dozen of 150 seeds)."""
    p = random_problem(seed, stations, stops, days=2)
    rng = np.random.default_rng(seed)
    travel = p.travel * 7.0
    travel[rng.random(travel.shape) < 0.15] = np.inf
    np.fill_diagonal(travel, 0.0)
    opens = np.where(rng.random(stops) < 0.5, rng.choice([480, 540, 600, 900], stops), -1)
    closes = np.where(opens >= 0, opens + rng.choice([30, 60, 240], stops), -1)
    return dataclasses.replace(p, travel=travel, open=opens, close=closes)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), stations=st.integers(1, 3), stops=st.integers(1, 9))
def test_every_reason_code_is_borne_out(seed: int, stations: int, stops: int) -> None:
    # a short day-pattern proof: it runs on stations with no path to some of their stops
    opts = SolveOptions(time_limit=2.0, workers=1, proof_seconds=0.5)
    solved(rough_problem(seed, stations, stops), opts)


@pytest.mark.parametrize(("name", "seconds"), [("tier-county", 5.0), ("huaihua-screening", 8.0)])
def test_builtin_campaigns_keep_every_rule(name: str, seconds: float) -> None:
    p = RoutingProblem.from_scenario(planner.read_scenario(f"builtin:{name}").data)
    r = solved(p, SolveOptions(time_limit=seconds, seed=0))
    assert len(r.routes) > 0


def test_routes_check_of_the_library_api() -> None:
    # planner.route(...).check() runs this checker on the problem and result it solved
    scenario = planner.read_scenario("builtin:tier-county")
    plan = planner.allocate(scenario, planner.AllocationParams(time_limit=60.0))
    routes = planner.route(
        scenario, crews=plan.crews(), params=planner.RoutingParams(time_limit=5.0, workers=1)
    )
    assert len(routes.routes) > 0 and routes.check() == []
    late = shifted(routes.result, 0, 24 * 60.0)
    broken = dataclasses.replace(routes, result=late)
    name = route_name(routes.problem, routes.result, 0)
    assert any(v.rule == "R1" and v.subject == name for v in broken.check())


# Breaking each rule on purpose ---------------------------------------------------------------


def base_problem() -> RoutingProblem:
    """One station ``S`` (county 100000) with 2 vehicles, crews for one, 3 days of 100
    clients at 3 minutes each; stops on a line 10-40 minutes away (T1 with the window
    09:00-12:00) and T4 in another county, which no station serves; more demand than the
    staffed vehicle can serve."""
    return line_problem(
        [10.0, 20.0, 30.0, 40.0, 15.0],
        [30, 20, 40, 250, 10],
        capacity=100,
        mpc=3.0,
        vehicles=2,
        days=3,
        crews=[2],
        windows=[(-1, -1), (540, 720), (-1, -1), (-1, -1), (-1, -1)],
        counties=["100000"] * 4 + ["200000"],
    )


@pytest.fixture(scope="module")
def base() -> tuple[RoutingProblem, RoutingResult]:
    p = base_problem()
    r = solved(p)
    assert len(r.routes) == 3 and set(r.routes.vehicle.tolist()) == {0}
    return p, r


def edit(r: RoutingResult, **changes: Any) -> RoutingResult:
    """A copy of ``r`` with columns replaced: ``routes__depart=...``, ``visits__clients=...``,
    ``served=...``, ``reason=...``."""
    routes = {k[8:]: v for k, v in changes.items() if k.startswith("routes__")}
    visits = {k[8:]: v for k, v in changes.items() if k.startswith("visits__")}
    rest = {k: v for k, v in changes.items() if "__" not in k}
    return dataclasses.replace(
        r,
        routes=dataclasses.replace(r.routes, **routes),
        visits=dataclasses.replace(r.visits, **visits),
        **rest,
    )


def col(table: Any, name: str) -> np.ndarray:
    """A writable copy of a column."""
    return np.array(getattr(table, name), copy=True)


def shifted(
    r: RoutingResult, k: int, minutes: float, from_visit: int = 1, wait: bool = False
) -> RoutingResult:
    """Route ``k`` with its visits from position ``from_visit`` on (and its return) moved
    later by ``minutes``; the whole route, departure too, when ``from_visit`` is 1. With
    ``wait`` the first moved visit keeps its arrival (the vehicle waits longer there)."""
    vi, ro = r.visits, r.routes
    rows = (vi.route == k) & (vi.order >= from_visit)
    times = {n: col(vi, n) for n in ("arrive", "start", "depart")}
    for t in times.values():
        t[rows] += minutes
    depart, back = col(ro, "depart"), col(ro, "back")
    if from_visit == 1:
        depart[k] += minutes
    elif wait:
        first = np.flatnonzero(rows & (vi.order == from_visit))[0]
        times["arrive"][first] -= minutes
    back[k] += minutes
    return edit(
        r,
        routes__depart=depart,
        routes__back=back,
        **{f"visits__{n}": t for n, t in times.items()},
    )


def route_name(p: RoutingProblem, r: RoutingResult, k: int) -> str:
    s, d, v = int(r.routes.station[k]), int(r.routes.day[k]), int(r.routes.vehicle[k])
    return f"route {p.station_id[s]}-d{d + 1:02d}-v{v + 1}"


def with_extra_route(r: RoutingResult, k: int, day: int, vehicle: int) -> RoutingResult:
    """``r`` plus a copy of route ``k`` on another day or vehicle (served counts it)."""
    ro, vi = r.routes, r.visits
    new = len(ro)
    routes = {n: np.r_[col(ro, n), col(ro, n)[k]] for n in ("station", "depart", "back")}
    routes |= {n: np.r_[col(ro, n), col(ro, n)[k]] for n in ("travel", "clients")}
    routes["day"] = np.r_[col(ro, "day"), day]
    routes["vehicle"] = np.r_[col(ro, "vehicle"), vehicle]
    mine = vi.route == k
    visits = {f.name: np.r_[col(vi, f.name), col(vi, f.name)[mine]] for f in dataclasses.fields(vi)}
    visits["route"][-int(mine.sum()) :] = new
    served = col(r, "served")
    np.add.at(served, vi.stop[mine], vi.clients[mine])
    return edit(
        r,
        served=served,
        travel_minutes=r.travel_minutes + float(ro.travel[k]),
        **{f"routes__{n}": v for n, v in routes.items()},
        **{f"visits__{n}": v for n, v in visits.items()},
    )


Mutation = Callable[[RoutingProblem, RoutingResult], tuple[RoutingResult, str, str]]
"""Breaks one rule of a valid result: the broken result, the rule and text its subject names."""


def leaves_early(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    k = 0
    early = float(r.routes.depart[k] - p.shift_start[0]) + 30.0
    return shifted(r, k, -early), "R1", route_name(p, r, k)


def back_late(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    k = 0
    late = float(p.shift_end[0] - r.routes.back[k]) + 30.0
    return shifted(r, k, late), "R1", route_name(p, r, k)


def past_the_window(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    (i,) = np.flatnonzero(r.visits.stop == 1)[:1]  # T1, window 09:00-12:00
    k, order = int(r.visits.route[i]), int(r.visits.order[i])
    late = float(p.close[1] - r.visits.depart[i]) + 10.0
    out = shifted(r, k, late, from_visit=order, wait=True)
    return out, "R2", f"{route_name(p, r, k)} stop T1"


def short_stop(p: RoutingProblem, r: RoutingResult) -> int:
    """A stop of the station's county that is partly served."""
    ok = (r.served > 0) & (r.served < p.demand) & (p.stop_county == "100000")
    assert ok.any()
    return int(np.flatnonzero(ok)[0])


def full_stop(p: RoutingProblem, r: RoutingResult) -> int:
    """A stop served in full."""
    ok = (r.served == p.demand) & (p.demand > 0)
    assert ok.any()
    return int(np.flatnonzero(ok)[0])


def more_clients(
    p: RoutingProblem, r: RoutingResult, j: int, extra: int
) -> tuple[RoutingResult, int]:
    """``extra`` more clients (fewer when negative) on the first visit of stop ``j``, its
    route's later times moved accordingly; the result and the route."""
    (i,) = np.flatnonzero(r.visits.stop == j)[:1]
    k = int(r.visits.route[i])
    clients, served, route_clients = (
        col(r.visits, "clients"),
        col(r, "served"),
        col(r.routes, "clients"),
    )
    clients[i] += extra
    served[j] += extra
    route_clients[k] += extra
    later = float(p.minutes_per_client[j]) * extra
    depart = col(r.visits, "depart")
    depart[i] += later
    out = edit(
        r,
        visits__clients=clients,
        visits__depart=depart,
        served=served,
        routes__clients=route_clients,
    )
    return shifted(out, k, later, from_visit=int(r.visits.order[i]) + 1), k


def over_capacity(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    j = short_stop(p, r)
    k = int(r.visits.route[np.flatnonzero(r.visits.stop == j)[0]])
    out, k = more_clients(p, r, j, int(p.capacity[0] - r.routes.clients[k]) + 1)
    return out, "R3", route_name(p, r, k)


def unstaffed_vehicle(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    out = with_extra_route(r, 0, int(r.routes.day[0]), vehicle=1)  # crews staff vehicle 1 only
    return out, "R4", f"route S-d{int(r.routes.day[0]) + 1:02d}-v2"


def after_the_campaign(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    return with_extra_route(r, 0, day=5, vehicle=0), "R4", "route S-d06-v1"


def twice_on_a_vehicle_day(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    out = with_extra_route(r, 0, int(r.routes.day[0]), int(r.routes.vehicle[0]))
    return out, "R5", route_name(p, r, 0)


def served_not_summed(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    j = short_stop(p, r)
    served = col(r, "served")
    served[j] += 1
    return edit(r, served=served), "R6", f"stop T{j}"


def served_above_demand(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    j = full_stop(p, r)
    out, _ = more_clients(p, r, j, 1)
    return out, "R6", f"stop T{j}"


def arrives_too_soon(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    i = 0
    arrive = col(r.visits, "arrive")
    arrive[i] -= 5.0
    k, j = int(r.visits.route[i]), int(r.visits.stop[i])
    return edit(r, visits__arrive=arrive), "R7", f"{route_name(p, r, k)} stop T{j}"


def order_swapped(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    k = next(k for k in range(len(r.routes)) if (r.visits.route == k).sum() >= 2)
    rows = np.flatnonzero(r.visits.route == k)[:2]
    order = col(r.visits, "order")
    order[rows] = order[rows[::-1]]
    return edit(r, visits__order=order), "R7", route_name(p, r, k)


def skips_the_setup(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    i = int(np.flatnonzero(r.visits.order == 1)[0])
    start, depart = col(r.visits, "start"), col(r.visits, "depart")
    start[i] -= 10.0
    depart[i] -= 10.0
    j = int(r.visits.stop[i])
    return edit(r, visits__start=start, visits__depart=depart), "R7", f"stop T{j}"


def other_county(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    # the last visit of route 0 made at T4, 15 minutes from the station, in county 200000
    i = int(np.flatnonzero(r.visits.route == 0)[-1])
    stop = col(r.visits, "stop")
    stop[i] = 4
    return edit(r, visits__stop=stop), "R8", f"{route_name(p, r, 0)} stop T4"


def with_reason(r: RoutingResult, j: int, code: str) -> RoutingResult:
    reason = col(r, "reason").astype(object)
    reason[j] = code
    return edit(r, reason=reason)


def no_reason(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    j = short_stop(p, r)
    return with_reason(r, j, ""), "R9", f"stop T{j}"


def unknown_reason(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    j = short_stop(p, r)
    return with_reason(r, j, "bad_weather"), "R9", f"stop T{j}"


def reason_on_a_full_stop(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    j = full_stop(p, r)
    return with_reason(r, j, "no_capacity"), "R9", f"stop T{j}"


def no_path_though_served(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    j = short_stop(p, r)
    assert r.reason[j] == "no_crew"  # the second vehicle has no crew
    return with_reason(r, j, "no_path"), "R9", f"stop T{j}"


def no_capacity_with_room(p: RoutingProblem, r: RoutingResult) -> tuple[RoutingResult, str, str]:
    # a staffed vehicle-day with room (one client less), and a stop that claims there is none
    j = short_stop(p, r)
    assert r.reason[4] == "no_capacity"  # T4's county has no station: vacuously full
    out, k = more_clients(p, r, j, -1)
    assert out.routes.clients[k] < p.capacity[0]
    out = with_reason(out, j, "no_capacity")
    assert [v.rule for v in check_routes(p, out)] == ["R9"]
    return out, "R9", f"stop T{j}"


MUTATIONS: list[Mutation] = [
    leaves_early,
    back_late,
    past_the_window,
    over_capacity,
    unstaffed_vehicle,
    after_the_campaign,
    twice_on_a_vehicle_day,
    served_not_summed,
    served_above_demand,
    arrives_too_soon,
    order_swapped,
    skips_the_setup,
    other_county,
    no_reason,
    unknown_reason,
    reason_on_a_full_stop,
    no_path_though_served,
    no_capacity_with_room,
]

INDEPENDENT_SEES = {"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8"}
"""Rules the independent checker covers too (of R9 only the codes and the two capacity
claims)."""


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.__name__)
def test_each_broken_rule_is_named_with_its_subject(
    base: tuple[RoutingProblem, RoutingResult], mutation: Mutation
) -> None:
    p, r = base
    broken, rule, subject = mutation(p, r)
    found = check_routes(p, broken)
    named = [v for v in found if v.rule == rule and subject in v.subject]
    assert named, f"{mutation.__name__}: no {rule} about {subject!r} in {found}"
    assert all(str(v).startswith(f"{v.rule} {v.subject}: ") for v in found)
    if rule in INDEPENDENT_SEES:
        assert independent(p, broken) != []


def test_claims_the_independent_checker_tests_too() -> None:
    # travel_time where every vehicle-day is full; no_crew where every vehicle is staffed
    p = line_problem([5.0, 10.0], [50, 50], capacity=80)
    r = solved(p)
    assert set(r.reason.tolist()) - {""} == {"no_capacity"}
    short = int(np.flatnonzero(r.served < p.demand)[0])
    for claim, expect in (("travel_time", "are full"), ("no_crew", "is staffed every day")):
        reason = col(r, "reason").astype(object)
        reason[short] = claim
        (v,) = check_routes(p, edit(r, reason=reason))
        assert (v.rule, v.subject) == ("R9", f"stop T{short}") and expect in v.message
    reason = col(r, "reason").astype(object)
    reason[short] = "travel_time"
    assert independent(p, edit(r, reason=reason)) != []


def test_a_visit_continuing_at_the_same_stop_needs_no_setup() -> None:
    # Two visit rows at T0 in a row (as after splitting one visit): the second starts right
    # where the first ends, with no set-up and no drive, and keeps every rule.
    p = line_problem([10.0], [10])
    r = solved(p)
    assert len(r.visits) == 1
    vi = r.visits
    half = 4
    mid = float(vi.start[0]) + half * float(p.minutes_per_client[0])
    two = edit(
        r,
        visits__route=np.r_[vi.route, vi.route],
        visits__order=np.array([1, 2]),
        visits__stop=np.r_[vi.stop, vi.stop],
        visits__arrive=np.r_[vi.arrive, mid],
        visits__start=np.r_[vi.start, mid],
        visits__depart=np.r_[mid, vi.depart],
        visits__clients=np.array([half, int(vi.clients[0]) - half]),
    )
    assert check_routes(p, two) == []


def test_waiting_for_a_window_is_allowed() -> None:
    # T0 opens at 10:00, 10 minutes away: the vehicle may arrive early and wait.
    p = line_problem([10.0], [10], windows=[(600, 720)])
    r = solved(p)
    late = shifted(r, 0, 0.0)
    arrive = col(late.visits, "arrive")
    depart = col(late.routes, "depart")
    arrive[0] -= 60.0  # leave an hour earlier and wait at the stop
    depart[0] -= 60.0
    waited = edit(late, visits__arrive=arrive, routes__depart=depart)
    assert float(waited.visits.start[0]) - float(waited.visits.arrive[0]) > 60.0
    assert check_routes(p, waited) == []


def test_results_of_another_problem_are_refused(
    base: tuple[RoutingProblem, RoutingResult],
) -> None:
    p, r = base
    other = line_problem([10.0], [10])
    with pytest.raises(ValueError, match=r"served: shape \(5,\), expected \(1,\)"):
        check_routes(other, r)
    with pytest.raises(ValueError, match=r"VisitTable\.stop"):
        check_routes(p, edit(r, visits__stop=r.visits.stop[:-1]))


def test_messages_carry_the_numbers(base: tuple[RoutingProblem, RoutingResult]) -> None:
    p, r = base
    broken, _, subject = over_capacity(p, r)
    (v,) = [v for v in check_routes(p, broken) if v.rule == "R3"]
    assert v.subject == subject
    assert v.message == "serves 101 clients, above the vehicle's daily capacity 100"
    broken, _, _ = leaves_early(p, r)
    (v,) = [v for v in check_routes(p, broken) if v.rule == "R1"]
    assert "before the shift starts at 480.00 (08:00)" in v.message


def test_violations_print_rule_subject_and_message() -> None:
    v = Violation("R3", "route S1-d03-v1", "serves 61 clients, above the capacity 60")
    assert str(v) == "R3 route S1-d03-v1: serves 61 clients, above the capacity 60"
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.rule = "R4"  # type: ignore[misc]
