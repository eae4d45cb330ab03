"""Routing core: hand-checked tiny campaigns, reasons, crews, properties and determinism.

Every result is checked by the independent checker in ``tests/support/route_checker.py``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.routing.bound import prove_targets_unreachable, target_workload
from planner.routing.county import CountyPart, finish
from planner.routing.problem import RoutingProblem
from planner.routing.solver import SolveOptions, _solve_county, solve_routing
from tests.support.route_checker import check_routes
from tests.support.routing_problems import line_problem, random_problem

FAST = SolveOptions(time_limit=5.0, workers=1)


def solve(p: RoutingProblem, opts: SolveOptions = FAST):  # type: ignore[no-untyped-def]
    r = solve_routing(p, opts)
    assert check_routes(p, r) == []
    return r


def test_two_stops_on_a_line_one_tour() -> None:
    # Hand-checked optimum: S -> T0 (10) -> T1 (10) -> S (20) = 40 minutes, all 10 clients.
    p = line_problem([10.0, 20.0], [5, 5])
    r = solve(p)
    assert r.served.tolist() == [5, 5]
    assert len(r.routes) == 1
    assert r.travel_minutes == pytest.approx(40.0)
    assert r.reason.tolist() == ["", ""]


def test_demand_split_over_days() -> None:
    # 150 clients, 60 a day for 3 days: served 60 + 60 + 30 on three vehicle-days.
    p = line_problem([15.0], [150], capacity=60, days=3)
    r = solve(p)
    assert r.served.tolist() == [150]
    assert sorted(r.routes.clients.tolist()) == [30, 60, 60]
    assert sorted(r.routes.day.tolist()) == [0, 1, 2]


def test_targets_come_before_more_demand() -> None:
    # Capacity 80 for two stops of 50 (targets 40 each): only 40 + 40 reaches both targets;
    # 50 + 30 would serve as many clients with no more travel but miss T1's target.
    p = line_problem([5.0, 30.0], [50, 50], capacity=80, mpc=3.0)
    r = solve(p)
    assert r.served.tolist() == [40, 40]
    assert r.reason.tolist() == ["no_capacity", "no_capacity"]


def test_the_plan_with_more_townships_at_target_wins() -> None:
    # One vehicle-day of 10 clients; targets 10, 4 and 4 (demand 12, 5, 5). Candidate X serves
    # T0's whole target (10 clients inside targets, 1 township met); candidate Y serves T1 and
    # T2's targets, and its top-up adds 2 clients of T0 (10 inside targets, 2 met). Y wins.
    p = line_problem([10.0, 20.0, 30.0], [12, 5, 5], capacity=10)
    sub = CountyPart("100000", np.arange(1), np.arange(3))
    stats = dict(county="100000", stations=1, stops=3, vehicle_days=1, nodes=0)
    plans = [("X", [(0, [[0, 10]])]), ("Y", [(0, [[1, 4], [2, 4]])])]
    part = finish(p, sub, plans, np.arange(3), {}, stats, 0.0)
    served = np.bincount([v[2] for v in part.visits], [v[6] for v in part.visits], minlength=3)
    assert served.tolist() == [2, 4, 4]
    assert part.stats.status.startswith("Y") and part.stats.townships_met == 2


def test_more_demand_comes_before_travel() -> None:
    # A far stop is still served when a vehicle-day has room: clients before travel time.
    # 300 minutes of driving + 40 set-up + 120 serving fit the 540-minute shift.
    p = line_problem([5.0, 150.0], [10, 10], capacity=100)
    r = solve(p)
    assert r.served.tolist() == [10, 10]
    assert r.travel_minutes == pytest.approx(300.0)


def test_a_far_stop_loses_clients_to_travel_time() -> None:
    # 150 minutes away: 300 driving + 20 set-up leave 220 of the 540-minute shift, 36 clients
    # at 6 minutes, though the vehicle could take 60. Target 48 needs two such days.
    p = line_problem([150.0], [60], capacity=60)
    r = solve(p)
    assert r.served.tolist() == [36]
    assert r.reason.tolist() == ["travel_time"]
    work = target_workload(p, "100000")
    assert (work.need_days, work.days, work.allows) == (2, 1, False)
    # With two days the bound no longer rules the target out: 2 x 300 driving + 48 x 6
    # service + 20 set-up = 908 of 1080 shift minutes; both days are needed.
    work = target_workload(line_problem([150.0], [60], capacity=60, days=2), "100000")
    assert (work.need_days, work.need_minutes, work.allows) == (2, 908.0, True)


def test_day_patterns_prove_targets_the_workload_bound_allows() -> None:
    # Stops 100 minutes either side of the station, targets 55 and 40 (demand 68, 50), two
    # days of 50 clients. The workload bound allows them: 2 days of 50 at a 200-minute round
    # trip, 1,010 of 1,080 shift minutes. By hand they cannot both be met: a day at both
    # stops drives 400 minutes and leaves 540 - 400 - 40 = 100 minutes, 16 clients; a day at
    # one stop serves at most 50. T0's 55 needs two days at T0 (T1 gets none) or 50 there and
    # a mixed day of at most 16 (T1 gets at most 11 of its 40).
    p = line_problem([100.0, -100.0], [68, 50], capacity=50, days=2)
    assert p.target().tolist() == [55, 40]
    assert target_workload(p, "100000").allows
    assert prove_targets_unreachable(p, "100000").proven and not _all_targets_possible(p)
    r = solve(p)
    assert int((r.served >= p.target()).sum()) == 1
    assert r.subproblems[0].unreachable and r.subproblems[0].proof.startswith("proven")
    # with the proofs off (RoutingParams.proof_seconds=0) the same routes, and nothing claimed
    off = solve(p, dataclasses.replace(FAST, proof_seconds=0.0))
    assert off.served.tolist() == r.served.tolist()
    assert not off.subproblems[0].unreachable and off.subproblems[0].proof == ""
    # Targets 45 and 40 fit a day at each stop: nothing to prove, and nothing is claimed.
    q = line_problem([100.0, -100.0], [56, 50], capacity=50, days=2)
    assert not prove_targets_unreachable(q, "100000").proven and _all_targets_possible(q)
    r = solve(q)
    assert (r.served >= q.target()).all() and r.subproblems[0].proof == ""


def test_day_pattern_proof_with_a_station_that_reaches_nothing() -> None:
    # Two staffed stations of one county; S1 has no path to anything (inf both ways). The
    # proof must treat S1 as serving nothing, not fail on the infinite round trip; and a stop
    # served in no time (0 minutes a client) fits a whole capacity.
    travel = np.array([[0.0, np.inf, 100.0], [np.inf, 0.0, np.inf], [100.0, np.inf, 0.0]])
    p = RoutingProblem.from_arrays(
        station_id=np.array(["S0", "S1"]),
        station_county=np.array(["100000", "100000"]),
        vehicles=np.array([1, 1]),
        capacity=np.array([50, 50]),
        shift_start=np.array([480, 480]),
        shift_end=np.array([1020, 1020]),
        days=np.array([2, 2]),
        stop_id=np.array(["T0"]),
        stop_county=np.array(["100000"]),
        demand=np.array([125]),
        minutes_per_client=np.array([0.0]),
        travel=travel,
    )
    # target 100 = S0's two days of 50; S1 adds nothing, so nothing is proven unreachable
    assert p.target().tolist() == [100]
    assert not prove_targets_unreachable(p, "100000").proven
    r = solve(p)
    assert r.served.tolist() == [100] and check_routes(p, r) == []


def _all_targets_possible(p: RoutingProblem) -> bool:
    """Brute force, independent of the solver: can some choice of stop sets for the vehicle's
    days meet every target? One station, no windows, equal minutes a client and set-ups: a
    day visiting the set S serves at most min(C, (L - shortest tour - set-ups) / m) clients,
    at least one at each stop of S; whether the days' clients can meet the targets is a
    transportation problem (an LP, integral)."""
    from itertools import combinations, permutations, product

    from scipy.optimize import linprog

    n, C = p.n_stops, int(p.capacity[0])
    L, m, s = float(p.shift_end[0] - p.shift_start[0]), float(p.minutes_per_client[0]), 20.0
    room: dict[tuple[int, ...], int] = {(): 0}
    for r in range(1, n + 1):
        for subset in combinations(range(n), r):
            tour = min(
                sum(p.travel[a, b] for a, b in zip((0, *perm), (*perm, 0), strict=True))
                for perm in permutations([1 + j for j in subset])
            )
            q = min(C, int((L - tour - s * r) // m))
            if q >= r:
                room[subset] = q
    goal = p.target()
    for days in product(list(room), repeat=int(p.staffed.sum())):
        var = [(d, j) for d, S in enumerate(days) for j in S]
        if not var or any(goal[j] > 0 and all(j not in S for S in days) for j in range(n)):
            continue
        a_ub, b_ub = [], []
        for d, S in enumerate(days):  # a day's clients
            a_ub.append([1.0 if v[0] == d else 0.0 for v in var])
            b_ub.append(room[S])
        for j in range(n):  # each target met
            a_ub.append([-1.0 if v[1] == j else 0.0 for v in var])
            b_ub.append(-float(goal[j]))
        if linprog(np.zeros(len(var)), A_ub=a_ub, b_ub=b_ub, bounds=(1, None)).status == 0:
            return True
    return False


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    at=st.lists(st.integers(-150, 150), min_size=2, max_size=3),
    demand=st.lists(st.integers(5, 90), min_size=3, max_size=3),
    capacity=st.integers(20, 70),
    days=st.integers(1, 3),
)
def test_day_pattern_proof_never_rules_out_reachable_targets(
    at: list[int], demand: list[int], capacity: int, days: int
) -> None:
    # Of 300 such campaigns, 20 were proven (5 of them allowed by the workload bound), every
    # one impossible by brute force; 2 impossible ones were not proven (a relaxation).
    p = line_problem([float(x) for x in at], demand[: len(at)], capacity=capacity, days=days)
    proof = prove_targets_unreachable(p, "100000")
    if proof.proven:
        assert not _all_targets_possible(p)
    r = solve(p)
    if (r.served >= p.target()).all():
        assert not proof.proven


def test_full_vehicle_days_mean_no_capacity() -> None:
    # Near stops, 80 clients a day for 100 clients: the day is full, the rest is no_capacity.
    p = line_problem([5.0, 10.0], [50, 50], capacity=80)
    r = solve(p)
    assert int(r.served.sum()) == 80
    assert set(r.reason.tolist()) - {""} == {"no_capacity"}
    assert target_workload(p, "100000").allows


def test_time_window_holds_the_whole_visit() -> None:
    # Window 09:00-10:00: set-up 20 + 6 min x clients must fit in 60 minutes: 6 clients.
    p = line_problem([10.0], [20], windows=[(540, 600)])
    r = solve(p)
    assert r.served.tolist() == [6]
    assert r.visits.start[0] - 20 >= 540 and r.visits.depart[0] <= 600


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"windows": [(480, 500)]}, "time_window"),  # 10 min away + 20 set-up: past 08:20
        ({"stops_at": [400.0]}, "outside_shift"),  # 800 minutes of driving in a 540 shift
        ({"unreachable": [0]}, "no_path"),
        ({"crews": [1]}, "no_crew"),  # crew size 2: one volunteer staffs no vehicle
        ({"vehicles": 0}, "no_capacity"),
    ],
)
def test_unserved_demand_has_its_reason(kwargs: dict, reason: str) -> None:  # type: ignore[type-arg]
    base = {"stops_at": [10.0], "demand": [10]}
    base.update(kwargs)
    p = line_problem(base.pop("stops_at"), base.pop("demand"), **base)
    r = solve(p)
    assert r.served.tolist() == [0]
    assert r.reason.tolist() == [reason]


def test_crews_limit_the_vehicles() -> None:
    # 2 vehicles of 50 a day, crews for one (crew size 2, 3 volunteers): 50 served.
    p = line_problem([10.0], [100], capacity=50, vehicles=2, crews=[3])
    r = solve(p)
    assert r.served.tolist() == [50]
    assert r.reason.tolist() == ["no_crew"]
    assert set(r.routes.vehicle.tolist()) == {0}


def test_stations_serve_only_their_county() -> None:
    p = line_problem([10.0, 10.0], [10, 10], counties=["100000", "200000"])
    r = solve(p)
    assert r.served.tolist() == [10, 0]
    assert r.reason.tolist() == ["", "no_capacity"]
    assert [s.county for s in r.subproblems] == ["100000", "200000"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    stations=st.integers(1, 3),
    stops=st.integers(1, 7),
    days=st.integers(1, 3),
)
def test_random_campaigns_are_feasible(seed: int, stations: int, stops: int, days: int) -> None:
    p = random_problem(seed, stations, stops, days)
    r = solve(p, SolveOptions(time_limit=2.0, workers=1))
    # Each stop with a staffed vehicle in its county that is left short of its target while
    # some route of its county still had room and time cannot be told apart here; what must
    # hold is the accounting: served + unserved = demand, each unserved client explained.
    assert (r.served <= p.demand).all()
    assert ((r.served == p.demand) | (r.reason != "")).all()


def test_same_seed_same_routes() -> None:
    p = random_problem(7, 3, 14, 3)
    opts = SolveOptions(time_limit=30.0, workers=2, seed=3)
    a, b = solve(p, opts), solve(p, opts)
    for name in ("station", "day", "vehicle", "clients"):
        assert np.array_equal(getattr(a.routes, name), getattr(b.routes, name))
    assert np.array_equal(a.visits.stop, b.visits.stop)
    assert np.array_equal(a.visits.start, b.visits.start)
    assert all(s.status == "solved" for s in a.subproblems if s.nodes)  # not the time cap


def test_problem_arrays_are_read_only() -> None:
    p = line_problem([10.0], [10])
    with pytest.raises(ValueError):
        p.travel[0, 1] = 3.0
    with pytest.raises(ValueError, match="travel"):
        RoutingProblem.from_arrays(
            **{
                **{f: getattr(p, f) for f in ("station_id", "station_county", "vehicles")},
                "capacity": p.capacity,
                "shift_start": p.shift_start,
                "shift_end": p.shift_end,
                "days": p.days,
                "stop_id": p.stop_id,
                "stop_county": p.stop_county,
                "demand": p.demand,
                "travel": np.zeros((3, 3)),
            }
        )


def test_travel_times_table_overrides_pairs_and_marks_no_path() -> None:
    from planner.routing.problem import overlay_travel_times
    from planner.scenario import TravelTimes

    ids = np.array(["S", "A", "B"])
    base = np.full((3, 3), 10.0)
    np.fill_diagonal(base, 0.0)
    table = TravelTimes(
        from_id=np.array(["S", "A", "B", "X"]),
        to_id=np.array(["A", "B", "A", "S"]),
        minutes=np.array([25.0, np.nan, 7.0, 1.0]),
    )
    out = overlay_travel_times(base, ids, table)
    assert out[0, 1] == out[1, 0] == 25.0  # listed one way: used both ways
    assert np.isinf(out[1, 2])  # empty minutes: no path, not zero
    assert out[2, 1] == 7.0  # listed both ways: each its own
    assert out[0, 2] == 10.0  # not listed: the default estimate


def test_a_search_left_out_for_lack_of_time_is_said_like_a_cut_one() -> None:
    # Whether the portfolio's second search still fits depends on the clock, so a county
    # whose budget ran out after the first search is not reproducible and must say so.
    p = line_problem([10.0, 20.0], [5, 5])
    assert len(FAST.first_solutions) > 1
    no_time = _solve_county(p, 0.0, FAST).stats.status
    ample = _solve_county(p, 30.0, FAST).stats.status
    assert "stopped by the time cap" in no_time
    assert "time cap" not in ample
