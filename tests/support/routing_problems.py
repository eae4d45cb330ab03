"""Small routing problems built in code, shared by the routing tests: stops on a line (travel
minutes read off by eye) and random campaigns drawn from a seed."""

from __future__ import annotations

import numpy as np

from planner.routing.problem import RoutingProblem


def line_problem(
    stops_at: list[float],
    demand: list[int],
    *,
    capacity: int = 100,
    vehicles: int = 1,
    days: int = 1,
    shift: tuple[int, int] = (480, 1020),
    setup: float = 20.0,
    mpc: float = 6.0,
    windows: list[tuple[int, int]] | None = None,
    crews: list[int] | None = None,
    counties: list[str] | None = None,
    unreachable: list[int] = (),  # type: ignore[assignment]
) -> RoutingProblem:
    """One station at 0 minutes and stops on a line; travel = |a - b| minutes."""
    pos = np.array([0.0, *stops_at])
    travel = np.abs(pos[:, None] - pos[None, :])
    for j in unreachable:
        travel[1 + j, :] = travel[:, 1 + j] = np.inf
        travel[1 + j, 1 + j] = 0.0
    t = len(stops_at)
    w = windows or [(-1, -1)] * t
    return RoutingProblem.from_arrays(
        station_id=np.array(["S"]),
        station_county=np.array(["100000"]),
        vehicles=np.array([vehicles]),
        capacity=np.array([capacity]),
        shift_start=np.array([shift[0]]),
        shift_end=np.array([shift[1]]),
        days=np.array([days]),
        crews=None if crews is None else np.array(crews),
        stop_id=np.array([f"T{j}" for j in range(t)]),
        stop_county=np.array(counties or ["100000"] * t),
        demand=np.array(demand),
        minutes_per_client=np.full(t, mpc),
        setup_minutes=np.full(t, setup),
        open=np.array([a for a, _ in w]),
        close=np.array([b for _, b in w]),
        travel=travel,
    )


def random_problem(seed: int, stations: int, stops: int, days: int) -> RoutingProblem:
    """A random campaign: ``stations`` stations and ``stops`` stops on a 60-minute square, mixed
    counties, windows, crews and priorities, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 60, size=(stations + stops, 2))
    travel = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    county = rng.choice(["100000", "200000"], size=stations + stops)
    opens = np.where(rng.random(stops) < 0.3, rng.choice([480, 540, 600], stops), -1)
    closes = np.where(opens >= 0, opens + rng.choice([120, 240], stops), -1)
    return RoutingProblem.from_arrays(
        station_id=np.array([f"S{i}" for i in range(stations)]),
        station_county=county[:stations],
        vehicles=rng.integers(0, 3, stations),
        capacity=rng.integers(10, 40, stations),
        shift_start=np.full(stations, 480),
        shift_end=rng.choice([720, 1020], stations),
        days=rng.integers(1, days + 1, stations),
        crew_size=np.full(stations, 2),
        crews=rng.integers(0, 6, stations),
        stop_id=np.array([f"T{j}" for j in range(stops)]),
        stop_county=county[stations:],
        demand=rng.integers(0, 80, stops),
        minutes_per_client=rng.choice([3.0, 6.0], stops),
        setup_minutes=rng.choice([0.0, 20.0], stops),
        open=opens,
        close=closes,
        priority=rng.integers(1, 4, stops),
        travel=travel,
    )
