"""Re-plan benchmark: a fresh solve against a re-plan after dropouts (term 6), same tier.

Run: ``.venv/bin/python benchmarks/replan.py [--tier national] [--dropouts 0.02]
[--time-limit 600]``

The fresh plan's volunteers become the previous plan; a seeded ``--dropouts`` share of them
leave (they are no longer applicants), and the rest should stay where they are unless moving
them pays (term 6, ``replan_move`` per move). Prints both solves' wall time, objective, proven
bound and gap, the moves, and the ratio of the wall times.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _without(problem, leave: np.ndarray, previous: np.ndarray):  # type: ignore[no-untyped-def]
    """The problem with the applicants ``leave`` gone (their seats freed: ``post_prev_gone``)
    and ``previous`` (a post per applicant, -1 for none) as the previous plan."""
    keep = np.setdiff1d(np.arange(problem.n_applicants), leave)
    fields = {
        f.name: getattr(problem, f.name)[keep]
        for f in dataclasses.fields(problem)
        if f.name == "applicant_id" or f.name.startswith("app_")
    }
    fields["app_prev_post"] = previous[keep]
    gone = np.bincount(previous[leave][previous[leave] >= 0], minlength=problem.n_posts)
    return dataclasses.replace(
        problem, **fields, prev_count=int((previous[keep] >= 0).sum()), post_prev_gone=gone
    )


def main() -> None:
    from geodata.scenario import read_scenario_data
    from planner import workers
    from planner.allocation.problem import AllocationProblem
    from planner.allocation.solver import solve_allocation

    workers.start()  # as `planner plan` does: the fork server loads while the scenario is read

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", default="national")
    parser.add_argument("--dropouts", type=float, default=0.02)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    name = args.tier if args.tier.startswith("western") else f"tier-{args.tier}"
    problem = AllocationProblem.from_scenario(read_scenario_data(f"builtin:{name}"))

    t0 = time.perf_counter()
    fresh = solve_allocation(problem, time_limit=args.time_limit)
    fresh_s = time.perf_counter() - t0
    placed = np.flatnonzero(fresh.post_of >= 0)
    rng = np.random.default_rng(args.seed)
    leave = np.sort(rng.choice(placed, size=round(args.dropouts * len(placed)), replace=False))
    again = _without(problem, leave, fresh.post_of)

    t1 = time.perf_counter()
    replan = solve_allocation(again, time_limit=args.time_limit)
    replan_s = time.perf_counter() - t1
    before = fresh.post_of[np.setdiff1d(np.arange(problem.n_applicants), leave)]
    kept = int(((before >= 0) & (replan.post_of == before)).sum())
    moved = int(((before >= 0) & (replan.post_of >= 0) & (replan.post_of != before)).sum())
    unplaced = int(((before >= 0) & (replan.post_of < 0)).sum())
    newly = int(((before < 0) & (replan.post_of >= 0)).sum())

    table = Table(title=f"Re-plan after {len(leave):,} dropouts ({args.dropouts:.0%}) on {name}")
    for col in ("solve", "wall s", "objective", "bound", "gap", "status", "moves"):
        table.add_column(col, justify="right")
    table.add_row(
        "fresh",
        f"{fresh_s:.1f}",
        f"{fresh.objective:,.1f}",
        f"{fresh.bound:,.1f}",
        f"{fresh.gap:.4%}",
        fresh.stats.status,
        "",
    )
    table.add_row(
        "re-plan",
        f"{replan_s:.1f}",
        f"{replan.objective:,.1f}",
        f"{replan.bound:,.1f}",
        f"{replan.gap:.4%}",
        replan.stats.status,
        f"kept {kept:,}, moved {moved:,}, unplaced {unplaced:,}, newly placed {newly:,}",
    )
    console = Console(width=160)
    console.print(table)
    console.print(f"re-plan / fresh wall time: {replan_s / fresh_s:.2f} (target <= 0.33)")


if __name__ == "__main__":
    main()
