"""Closing an allocation's gap where the bachelor share binds: the compact MIP against CP-SAT.

Run: ``.venv/bin/python benchmarks/closing.py [--scenario builtin:western-2006]
[--share 0.9] [--direct-limit 60] [--all]``.

For every independent part of the scenario with the bachelor share (A4) set to ``--share``,
it prints the first pass (min-cost flows, A4 priced into them; column generation where the
flows break A3): its plan, proven bound, gap and seconds; and, for the parts whose gap is
above the tolerance (every part with ``--all``), the exact MIP over the compact network
(``ours``, :mod:`planner.allocation.compact_mip`) next to the direct CP-SAT model
(:mod:`planner.allocation.direct`, one boolean per eligible pair, ``--direct-limit`` seconds)
on the same part, with the ratio of their wall times. Each part is solved in this process,
one after another.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

from rich.console import Console
from rich.table import Table

from planner.allocation.arcs import ArcBuilder
from planner.allocation.compact import build_compact_network
from planner.allocation.compact_mip import solve_compact_mip
from planner.allocation.components import split
from planner.allocation.direct import solve_direct
from planner.allocation.problem import AllocationProblem
from planner.allocation.solver import _solve_part
from planner.allocation.status import relative_gap

TOLERANCE = 1e-4


def _cells(objective: float, bound: float, seconds: float) -> list[str]:
    return [
        f"{objective:,.0f}",
        f"{bound:,.1f}",
        f"{relative_gap(objective, bound):.4%}",
        f"{seconds:.1f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="builtin:western-2006")
    parser.add_argument("--share", type=float, default=0.9)
    parser.add_argument("--direct-limit", type=float, default=60.0)
    parser.add_argument("--all", action="store_true", help="Close every part, not only open ones.")
    args = parser.parse_args()
    from geodata.scenario import read_scenario_data

    data = read_scenario_data(args.scenario)
    data = dataclasses.replace(
        data, rules=dataclasses.replace(data.rules, undergraduate_min_share=args.share)
    )
    problem = AllocationProblem.from_scenario(data)
    load = os.getloadavg()[0]
    table = Table(
        title=f"{args.scenario} at a bachelor share of {args.share:g}: closing the gap "
        f"(1-minute load {load:.1f} at the start, 2 cores)"
    )
    for col in (
        "part",
        "applicants",
        "first objective",
        "first bound",
        "first gap",
        "first s",
        "method",
        "objective",
        "bound",
        "gap",
        "s",
        "model",
        "direct s / ours s",
    ):
        table.add_column(col, justify="right")
    for part in split(problem):
        part_problem = part.problem
        label = "+".join(part_problem.service_code.tolist())
        t0 = time.perf_counter()
        first = _solve_part(part_problem, 300.0, TOLERANCE)
        first_cells = [
            label,
            f"{part_problem.n_applicants:,}",
            *_cells(first.objective, first.bound, time.perf_counter() - t0),
        ]
        if first.optimal and not args.all:
            table.add_row(*first_cells, "(within tolerance)", *[""] * 6)
            continue
        t0 = time.perf_counter()
        builder = ArcBuilder(part_problem)
        mip = solve_compact_mip(
            part_problem, builder, build_compact_network(part_problem, builder), 300.0, TOLERANCE
        )
        ours = time.perf_counter() - t0
        table.add_row(
            *first_cells,
            "ours: compact MIP",
            *_cells(mip.objective, mip.bound, ours),
            f"{mip.n_vars:,} arcs, {mip.side_rows} side rows, {mip.status}",
            "",
        )
        t0 = time.perf_counter()
        direct = solve_direct(part_problem, time_limit=args.direct_limit, workers=1)
        seconds = time.perf_counter() - t0
        table.add_row(
            *[""] * 6,
            "direct CP-SAT",
            *_cells(direct.objective, direct.bound, seconds),
            f"{direct.n_vars:,} booleans, {direct.status}",
            f"{seconds / ours:.1f}x",
        )
    Console(width=220).print(table)


if __name__ == "__main__":
    main()
