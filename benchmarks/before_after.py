"""Before and after a change, in one run: are the outputs the same, and is it as fast?

Checks out a base revision (default ``origin/main``, else ``HEAD~1``) into a temporary git
worktree and runs it with this checkout's virtual environment, its packages first on the path:

1. **Outputs.** ``planner demo`` with both trees; every file of the demo folder is compared:
   CSV and GeoJSON byte for byte, ``summary.json`` and ``plan.xlsx`` as values with the
   timings (keys ending in ``seconds``) left out, ``map.html`` with folium's random element ids
   (and the policy's hashes of the scripts that hold them) made equal. Prints one row per file: same / DIFFERENT (and where).
2. **Speed.** The allocation of the tiers and the routing of huaihua-screening, base and head
   alternately (``--repeat`` rounds), each solve in a fresh process; prints the median wall
   seconds of both and their ratio.

Usage::

    .venv/bin/python benchmarks/before_after.py --base 6d20b2d --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
console = Console()

TIMED = r"""
import json, sys, time
try:
    from planner.workers import start
except ImportError:
    from planner.allocation.workers import start
start()
try:
    from geodata.scenario import read_scenario_data as read
except ImportError:
    from geodata.scenario import read_scenario as read
kind, name, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
data = read(name)
t0 = time.perf_counter()
if kind == "allocation":
    from planner.allocation.problem import AllocationProblem
    from planner.allocation.solver import solve_allocation
    sol = solve_allocation(AllocationProblem.from_scenario(data), time_limit=limit)
    value = sol.objective
else:
    from planner.routing.problem import RoutingProblem
    from planner.routing.solver import SolveOptions, solve_routing
    res = solve_routing(RoutingProblem.from_scenario(data), SolveOptions(time_limit=limit, seed=0))
    value = int(res.served.sum())
print(json.dumps({"seconds": time.perf_counter() - t0, "value": value}))
"""

DEMO = "from api.cli import main; main()"


def _env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    env["WESTPLAN_WEB_ASSETS"] = str(ROOT / "maps" / "assets" / "node_modules")
    return env


def _worktree(base: str, where: Path) -> Path:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), base],
        check=True,
        capture_output=True,
    )
    return where


def _demo(tree: Path, out: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", DEMO, "demo", "--out", str(out)],
        env=_env(tree),
        cwd=tree,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(
            f"planner demo failed in {tree}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )


def _untimed(value: Any) -> Any:
    """A summary without its timings."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if not str(k).endswith("seconds")}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    if type(a) is not type(b):
        return f"{path or '/'}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return f"{path}/{k}: only in {'head' if k in b else 'base'}"
            found = _first_difference(a[k], b[k], f"{path}/{k}")
            if found:
                return found
        return ""
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return ""
    return "" if a == b else f"{path}: {a!r} vs {b!r}"


def _workbook(path: Path) -> dict[str, list[list[Any]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in book}


_FOLIUM_ID = re.compile(r"\b([a-z_]+)_[0-9a-f]{32}(?![0-9a-f])")
_CSP_HASH = re.compile(r"'sha256-[A-Za-z0-9+/]+=*'")
"""The policy's hashes of the inline scripts, which hold folium's ids."""


def _html(path: Path) -> str:
    """A map page with folium's random element ids, and the hashes of its policy, made equal."""
    return _CSP_HASH.sub("'sha256'", _FOLIUM_ID.sub(r"\1", path.read_text("utf-8")))


def compare(base: Path, head: Path) -> list[tuple[str, str]]:
    """(file, verdict) for every file of either demo folder."""
    files = sorted(
        {p.relative_to(base) for p in base.rglob("*") if p.is_file()}
        | {p.relative_to(head) for p in head.rglob("*") if p.is_file()}
    )
    rows = []
    for rel in files:
        a, b = base / rel, head / rel
        if not a.is_file() or not b.is_file():
            rows.append((str(rel), f"DIFFERENT: only in {'head' if b.is_file() else 'base'}"))
            continue
        if rel.suffix == ".json":
            diff = _first_difference(
                _untimed(json.loads(a.read_text("utf-8"))),
                _untimed(json.loads(b.read_text("utf-8"))),
            )
            rows.append((str(rel), f"DIFFERENT: {diff}" if diff else "same (timings left out)"))
        elif rel.suffix == ".xlsx":
            diff = _first_difference(_workbook(a), _workbook(b))
            rows.append((str(rel), f"DIFFERENT: {diff}" if diff else "same values"))
        elif rel.suffix == ".html":
            same = _html(a) == _html(b)
            rows.append((str(rel), "same (folium ids made equal)" if same else "DIFFERENT"))
        else:
            same = a.read_bytes() == b.read_bytes()
            rows.append((str(rel), "same bytes" if same else "DIFFERENT"))
    return rows


def _timed(tree: Path, kind: str, name: str, limit: float) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", TIMED, kind, name, str(limit)],
        env=_env(tree),
        cwd=tree,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"timing {kind} {name} failed in {tree}:\n{proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD~1", help="The base revision (git rev).")
    parser.add_argument("--repeat", type=int, default=3, help="Timing rounds per tree (0: none).")
    parser.add_argument("--skip-demo", action="store_true", help="Only the timings.")
    parser.add_argument(
        "--allocation",
        default="builtin:tier-county,builtin:tier-prefecture,builtin:tier-province,"
        "builtin:tier-national,builtin:western-2006",
        help="Scenarios whose allocation is timed (comma-separated).",
    )
    parser.add_argument(
        "--routing",
        default="builtin:huaihua-screening,builtin:tier-province",
        help="Scenarios whose routing is timed (comma-separated).",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="westplan-before-after-") as tmp:
        base = _worktree(args.base, Path(tmp) / "base")
        try:
            _run(args, base, Path(tmp))
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                capture_output=True,
            )


def _run(args: argparse.Namespace, base: Path, tmp: Path) -> None:
    label = subprocess.run(
        ["git", "-C", str(base), "log", "-1", "--format=%h %s"], capture_output=True, text=True
    ).stdout.strip()
    console.print(f"base: {label}\nhead: this checkout ({ROOT})")
    if not args.skip_demo:
        with console.status("planner demo, base and head…"):
            _demo(base, tmp / "demo-base")
            _demo(ROOT, tmp / "demo-head")
        table = Table(title="planner demo: base vs head")
        table.add_column("file")
        table.add_column("verdict")
        rows = compare(tmp / "demo-base", tmp / "demo-head")
        for rel, verdict in rows:
            table.add_row(rel, verdict if verdict.startswith("same") else f"[red]{verdict}[/]")
        console.print(table)
        different = [r for r in rows if not r[1].startswith("same")]
        console.print(f"{len(rows) - len(different)} of {len(rows)} files the same")
    if args.repeat < 1:
        return
    jobs = [("allocation", n, 300.0) for n in args.allocation.split(",") if n] + [
        ("routing", n, 120.0) for n in args.routing.split(",") if n
    ]
    times: dict[tuple[str, str, str], list[float]] = {}
    values: dict[tuple[str, str, str], set[float]] = {}
    for _ in range(args.repeat):
        for kind, name, limit in jobs:
            for tree_name, tree in (("base", base), ("head", ROOT)):
                with console.status(f"{kind} {name} ({tree_name})…"):
                    got = _timed(tree, kind, name, limit)
                times.setdefault((kind, name, tree_name), []).append(got["seconds"])
                values.setdefault((kind, name, tree_name), set()).add(got["value"])
    table = Table(
        title=f"Solve wall seconds, median (min-max) of {args.repeat} (base and head alternating)"
    )
    for col in ("stage", "scenario", "base s", "head s", "head / base", "same result"):
        table.add_column(col, justify="right" if col.endswith(("s", "base")) else "left")
    for kind, name, limit in jobs:
        b, h = times[(kind, name, "base")], times[(kind, name, "head")]
        same = values[(kind, name, "base")] == values[(kind, name, "head")]
        verdict = "yes" if same else "NO"
        if max(b + h) >= 0.95 * limit:
            # a solve stopped by its time limit keeps whatever its search reached by then
            verdict += f" (stopped at the {limit:g} s limit)"
        table.add_row(kind, name, _spread(b), _spread(h), _ratio(b, h), verdict)
    console.print(table)


def _spread(seconds: list[float]) -> str:
    return f"{statistics.median(seconds):.2f} ({min(seconds):.2f}-{max(seconds):.2f})"


def _ratio(base: list[float], head: list[float]) -> str:
    """Head over base, of the medians, and of the fastest runs (less disturbed by other work
    on the machine)."""
    return (
        f"{statistics.median(head) / statistics.median(base):.2f} "
        f"(fastest {min(head) / min(base):.2f})"
    )


if __name__ == "__main__":
    main()
