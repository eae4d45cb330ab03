"""Allocation benchmark: our price-and-branch solver against the direct CP-SAT formulation.

Run: ``.venv/bin/python benchmarks/allocation.py [--tiers county,prefecture,province,national]
[--time-limit 300] [--direct-tiers county,prefecture,province]`` (``western-2006`` may stand
among the tiers).

Every run happens in a fresh subprocess so that its peak memory (ru_maxrss) is its own. For
each tier it prints build and solve time, peak memory, objective, proven bound and gap for
``ours`` (planner.allocation.solver; "peak MB" is the largest sum of the resident memory of
the process and the processes it started, sampled every 100 ms; "main MB" is the process's
own peak, most of it the scenario's geometry) and ``direct`` (planner.allocation.direct: one CP-SAT
boolean per eligible applicant-post pair, same objective, same time limit), and the ratio of
wall times where both ran.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from planner.allocation.status import relative_gap

ROOT = Path(__file__).resolve().parents[1]
DIRECT_ARC_LIMIT = 8_000_000
"""Past this many booleans the direct model does not fit in memory here (24 GiB)."""


class TreeMemory:
    """The peak of the summed resident memory of this process and its descendants (Linux
    /proc), sampled in a thread: ``ru_maxrss`` of the children counts a spawned child's
    moment between fork and exec, when it still holds a copy of the parent."""

    def __init__(self, every: float = 0.1) -> None:
        self.peak_mb = 0.0
        self._every = every
        threading.Thread(target=self._run, daemon=True).start()

    @staticmethod
    def _tree_mb() -> float:
        tree, todo = [], [os.getpid()]
        while todo:  # the descendants, through /proc/PID/task/TID/children
            pid = todo.pop()
            tree.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                try:
                    todo.extend(int(c) for c in task.read_text().split())
                except (OSError, ValueError):
                    continue
        pages = 0
        for pid in tree:
            try:
                pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
            except (OSError, ValueError, IndexError):
                continue
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20

    def _run(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, self._tree_mb())
            time.sleep(self._every)


def _child(tier: str, method: str, time_limit: float) -> None:
    sys.path.insert(0, str(ROOT))
    memory = TreeMemory()
    if method == "ours":
        from planner import workers

        workers.start()  # as `planner plan` does: the fork server loads while the scenario is read
    from geodata.scenario import read_scenario_data
    from planner.allocation.problem import AllocationProblem

    scenario = read_scenario_data(
        f"builtin:{tier if tier.startswith('western') else 'tier-' + tier}"
    )
    t0 = time.perf_counter()
    problem = AllocationProblem.from_scenario(scenario)
    if method == "ours":
        from planner.allocation.solver import solve_allocation

        sol = solve_allocation(problem, time_limit=time_limit)
        out = {
            "build": sol.stats.build_seconds
            + (time.perf_counter() - t0 - sol.stats.build_seconds - sol.stats.solve_seconds),
            "solve": sol.stats.solve_seconds,
            "objective": sol.objective,
            "bound": sol.bound,
            "status": sol.stats.status,
        }
    else:
        from planner.allocation.arcs import ArcBuilder
        from planner.allocation.direct import solve_direct
        from planner.allocation.pricing import Pricer

        n_arcs = Pricer(ArcBuilder(problem)).arc_estimate()
        if n_arcs > DIRECT_ARC_LIMIT:
            print("RESULT " + json.dumps({"status": f"not built: ~{n_arcs:,} booleans"}))
            return

        t1 = time.perf_counter()
        sol_d = solve_direct(problem, time_limit=time_limit, workers=2)
        out = {
            "build": max(time.perf_counter() - t1 - sol_d.seconds, 0.0) + (t1 - t0),
            "solve": sol_d.seconds,
            "objective": sol_d.objective,
            "bound": sol_d.bound,
            "status": sol_d.status,
            "vars": sol_d.n_vars,
        }
    out["wall"] = time.perf_counter() - t0
    out["main_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["peak_mb"] = max(memory.peak_mb, out["main_mb"])
    print("RESULT " + json.dumps(out))


def _run(tier: str, method: str, time_limit: float) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", tier, method, str(time_limit)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=time_limit * 4 + 600,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"status": f"failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1:]}"}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], float(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiers", default="county,prefecture,province,national")
    parser.add_argument("--direct-tiers", default="county,prefecture,province")
    parser.add_argument("--time-limit", type=float, default=300.0)
    args = parser.parse_args()
    console = Console(width=200)
    table = Table(title=f"Allocation, time limit {args.time_limit:g} s, 2 cores")
    for col in (
        "tier",
        "method",
        "build s",
        "solve s",
        "wall s",
        "peak MB",
        "main MB",
        "objective",
        "bound",
        "gap",
        "status",
        "wall ratio",
    ):
        table.add_column(col, justify="right")
    for tier in args.tiers.split(","):
        ours = _run(tier, "ours", args.time_limit)
        rows = [("ours", ours)]
        if tier in args.direct_tiers.split(","):
            rows.append(("direct", _run(tier, "direct", args.time_limit)))
        for method, r in rows:
            gap = ""
            if "objective" in r and r.get("bound") is not None:
                gap = f"{relative_gap(r['objective'], r['bound']):.4%}"
            ratio = ""
            if method == "direct" and "wall" in r and "wall" in ours:
                ratio = f"{r['wall'] / ours['wall']:.1f}x"
            table.add_row(
                tier,
                method,
                f"{r.get('build', float('nan')):.2f}",
                f"{r.get('solve', float('nan')):.2f}",
                f"{r.get('wall', float('nan')):.2f}",
                f"{r.get('peak_mb', float('nan')):.0f}",
                f"{r.get('main_mb', float('nan')):.0f}",
                f"{r.get('objective', float('nan')):,.1f}",
                f"{r.get('bound', float('nan')):,.1f}",
                gap,
                str(r.get("status", "")),
                ratio,
            )
    console.print(table)


if __name__ == "__main__":
    main()
