"""The routing solver's settings (:class:`SolveOptions`) and the integer time of its model.

Times in the OR-Tools model are integers of :data:`TICKS_PER_MINUTE`; travel and durations
are rounded up (:func:`ticks`), so a route feasible in ticks is feasible in minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.scenario import RoadSettings

TICKS_PER_MINUTE = 10
"""Integer time unit of the OR-Tools model: 0.1 minute."""


DAY_TICKS = 24 * 60 * TICKS_PER_MINUTE
"""Horizon of one vehicle-day in ticks."""


UNREACHABLE = 4 * DAY_TICKS
"""Transit given to a pair with no path: longer than any shift, so never taken."""


MAX_OBJECTIVE = 2**62
"""Largest objective bound accepted (OR-Tools costs are int64)."""


@dataclass(frozen=True, slots=True)
class SolveOptions:
    """Search settings.

    Attributes
    ----------
    time_limit : float
        Wall seconds for the whole solve (all counties, ``workers`` processes).
    seed : int
        Seed of the chunk order; same seed, same routes.
    chunks_per_day : int
        A visit node holds at most ``floor(C / chunks_per_day)`` clients (3 met the most
        Huaihua targets, see docs/routing.md).
    solution_limit : int
        Local-search solutions per county and 100 visit nodes, at least this many (the
        deterministic limit).
    workers : int or None
        Counties solved at once (:mod:`planner.workers`); ``None``: the scheduler's default,
        one process per core. 1 solves in this process.
    first_solutions : tuple of str
        OR-Tools first-solution strategies; each is improved by the local search, topped up
        and compared with the others and the top-up alone (a fixed portfolio, so still
        reproducible).
    full_days : bool
        Fix whole vehicle-days at single stops before the search (see :func:`~planner.routing.county.full_days`).
    metaheuristic : str
        OR-Tools local-search metaheuristic. The default, greedy descent, stops at a local
        optimum by itself, which makes the routes reproducible; guided local search goes on
        until a limit and improved the Huaihua campaign less than its time cost (see
        docs/routing.md).
    make_active_moves : bool
        Also use the moves that swap a served chunk for an unserved one (exchange / relocate
        and make active, extended swap active): they let the search trade a chunk beyond a
        target for one inside another stop's target.
    proof_seconds : float
        Time for the day-pattern proof in a county whose routes miss a township although
        the workload bound allows its targets, at most what is left of ``time_limit`` (0:
        never try).
    roads : RoadSettings or None
        Travel times from a road graph, each county's built in its own task from the part of
        the graph around its points (:mod:`planner.routing.roads`); ``None``: the problem's.
    """

    time_limit: float = 60.0
    seed: int = 0
    chunks_per_day: int = 3
    solution_limit: int = 100_000
    workers: int | None = None
    first_solutions: tuple[str, ...] = ("PATH_CHEAPEST_ARC", "LOCAL_CHEAPEST_INSERTION")
    full_days: bool = True
    metaheuristic: str = "GREEDY_DESCENT"
    make_active_moves: bool = False
    proof_seconds: float = 30.0
    roads: RoadSettings | None = None


def ticks(minutes: np.ndarray | float) -> np.ndarray:
    """Minutes as ticks, rounded up (never optimistic); inf becomes UNREACHABLE."""
    m = np.asarray(minutes, dtype=float)
    t = np.where(np.isfinite(m), np.ceil(m * TICKS_PER_MINUTE - 1e-6), UNREACHABLE)
    return np.minimum(t, UNREACHABLE).astype(np.int64)
