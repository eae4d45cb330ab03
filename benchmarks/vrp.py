"""VRP benchmark: our ``planner vrp`` engines against PyVRP and the best-known solutions.

For every instance of ``benchmarks/instances/vrp/`` (CVRPLIB CVRP, Solomon VRPTW: a copy of the
public instances and best-known solutions, see its README) this solves,
at the same time limit and seed, with our benchmark mode (:func:`planner.routing.vrp.solve_vrp`,
the default engine and, with ``--engines``, others), and with PyVRP used directly as its own
docs show (``pyvrp.read`` with the instance's rounding, ``pyvrp.solve``). Every cost is
recomputed from the routes in the instance's convention by :func:`route_cost` and every
solution is checked by :func:`check_solution`; the gaps are to ``BKS.csv``.

Usage: ``python benchmarks/vrp.py [--time-limit 30] [--engines pyvrp,ortools] [DIR]``.
One run costs about instances x (engines + 1) x time limit seconds of one core.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from planner.routing.vrp import (
    ENGINES,
    VrpInstance,
    check_solution,
    read_instance,
    route_cost,
    solve_vrp,
)

DEFAULT_DIR = Path(__file__).resolve().parent / "instances" / "vrp"


def pyvrp_direct(path: Path, inst: VrpInstance, time_limit: float, seed: int) -> list[list[int]]:
    """PyVRP on the file as its own reader sees it (the reference column).

    ``pyvrp.read`` takes VRPLIB files only; a Solomon file is handed to PyVRP through our
    adapter's model (the same data PyVRP would get from a converted file).
    """
    import pyvrp
    from pyvrp.stop import MaxRuntime

    if inst.kind == "vrptw":  # one search on one core, as pyvrp.solve below
        return solve_vrp(inst, time_limit, seed, engine="pyvrp", workers=1).routes
    data = pyvrp.read(path, round_func="round")
    if inst.vehicles is not None:  # the fleet of the instance (the reader may not know it)
        vt = data.vehicle_type(0).replace(num_available=inst.vehicles)
        data = data.replace(vehicle_types=[vt])
    res = pyvrp.solve(data, stop=MaxRuntime(time_limit), seed=seed, display=False)
    return [[int(a.idx) + 1 for a in r if a.is_client()] for r in res.best.routes()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--engines", default=ENGINES[0], help="comma-separated: pyvrp, ortools")
    ap.add_argument("--only", default="", help="comma-separated instance names")
    args = ap.parse_args()
    engines = [e for e in args.engines.split(",") if e]
    bks = {
        row["instance"]: float(row["bks_cost"])
        for row in csv.DictReader((args.folder / "BKS.csv").open(encoding="utf-8"))
    }
    names = [n for n in sorted(bks) if not args.only or n in args.only.split(",")]
    head = ["instance", "BKS"]
    for e in engines:
        head += [f"ours[{e}]", "gap"]
    head += ["PyVRP", "gap", "ours/PyVRP"]
    print(f"time limit {args.time_limit:g} s per run, seed {args.seed}")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    gaps: dict[str, list[float]] = {k: [] for k in [*engines, "PyVRP"]}
    for name in names:
        path = next(
            args.folder / f"{name}{ext}"
            for ext in (".vrp", ".txt")
            if (args.folder / f"{name}{ext}").is_file()
        )
        inst = read_instance(path)
        best = bks[name]
        cells = [name, f"{best:g}"]
        first = None
        for e in engines:
            t0 = time.perf_counter()
            sol = solve_vrp(inst, args.time_limit, args.seed, engine=e)
            if not sol.feasible:
                cells += ["infeasible", "-"]
                continue
            gap = 100 * (sol.cost / best - 1)
            gaps[e].append(gap)
            first = sol.cost if first is None else first
            cells += [f"{sol.cost:g} ({time.perf_counter() - t0:.0f} s)", f"{gap:.2f}%"]
        routes = pyvrp_direct(path, inst, args.time_limit, args.seed)
        if check_solution(inst, routes):
            cells += ["infeasible", "-", "-"]
        else:
            cost = route_cost(inst, routes)
            gaps["PyVRP"].append(100 * (cost / best - 1))
            ratio = f"{first / cost:.4f}" if first is not None else "-"
            cells += [f"{cost:g}", f"{gaps['PyVRP'][-1]:.2f}%", ratio]
        print("| " + " | ".join(cells) + " |", flush=True)
    for k, v in gaps.items():
        n = len(names)
        mean = f"{sum(v) / len(v):.2f}%" if v else "-"
        print(f"mean gap {k}: {mean} (feasible on {len(v)} of {n})")


if __name__ == "__main__":
    sys.exit(main())
