"""Rule-checker benchmark: the library's checkers against the independent ones of ``tests/``.

Run: ``.venv/bin/python benchmarks/check.py [--tier national] [--routing huaihua-screening]
[--repeat 5] [--time-limit 300]``

Solves the allocation of ``builtin:tier-<tier>`` and the routing of ``builtin:<routing>``
(a short search: the routes only need to exist), then times re-checking them:
``planner.allocation.check.check_assignments`` (vectorised numpy, behind ``plan.check()``)
against ``tests/support/alloc_checker.check_plan`` (plain loops, also the objective and budget), and
``planner.routing.check.check_routes`` (behind ``routes.check()``) against
``tests/support/route_checker.check_routes`` (which also tries one more client on every vehicle-day
for each ``travel_time`` stop). Prints the best of ``--repeat`` runs of each, the number of
violations found (0 for the solvers' results) and the ratio of the times.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _best(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs and the last run's value."""
    best, value = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = run()
        best = min(best, time.perf_counter() - t0)
    return best, value


def main() -> None:
    import planner
    from planner import workers
    from planner.allocation.check import check_assignments
    from planner.allocation.problem import AllocationProblem
    from planner.allocation.solver import solve_allocation
    from planner.routing.check import check_routes
    from planner.routing.problem import RoutingProblem
    from planner.routing.solver import SolveOptions, solve_routing
    from tests.support.alloc_checker import check_plan
    from tests.support.route_checker import check_routes as route_checker

    workers.start()  # as `planner plan` does: the fork server loads while the scenario is read
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", default="national")
    parser.add_argument("--routing", default="huaihua-screening")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=300.0)
    args = parser.parse_args()

    name = f"tier-{args.tier}"
    scenario = planner.read_scenario(f"builtin:{name}").data
    problem = AllocationProblem.from_scenario(scenario)
    solution = solve_allocation(problem, time_limit=args.time_limit)
    placed = np.flatnonzero(solution.post_of >= 0)
    applicant_id = problem.applicant_id[placed]
    post_id = problem.post_id[solution.post_of[placed]]
    plan = dict(zip(applicant_id.tolist(), post_id.tolist(), strict=True))

    routing = planner.read_scenario(f"builtin:{args.routing}").data
    routing_problem = RoutingProblem.from_scenario(routing)
    routes = solve_routing(routing_problem, SolveOptions(time_limit=10.0, seed=0))

    rows = [
        (
            f"{name}: {len(placed):,} placements",
            _best(lambda: check_assignments(scenario, applicant_id, post_id), args.repeat),
            _best(lambda: check_plan(scenario, plan).violations, args.repeat),
        ),
        (
            f"{args.routing}: {len(routes.routes):,} routes, {len(routes.visits):,} visits",
            _best(lambda: check_routes(routing_problem, routes), args.repeat),
            _best(lambda: route_checker(routing_problem, routes), args.repeat),
        ),
    ]
    table = Table(title=f"Re-checking the solvers' results (best of {args.repeat})")
    for column in ("result", "ours s", "violations", "tests/ checker s", "violations", "ratio"):
        table.add_column(column, justify="left" if column == "result" else "right")
    for label, (ours_s, ours), (theirs_s, theirs) in rows:
        table.add_row(
            label,
            f"{ours_s:.3f}",
            str(len(ours)),
            f"{theirs_s:.3f}",
            str(len(theirs)),
            f"{ours_s / theirs_s:.2f}",
        )
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
