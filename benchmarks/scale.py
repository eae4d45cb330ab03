"""National scale on Dask: the national routing tier, a paper projection, a sweep and the
Dask overhead, side by side with the local process pool, in one run.

Run: ``.venv/bin/python benchmarks/scale.py [--parts routing,projection,sweep,overhead]
[--time-limit 600] [--write docs/scale.md] [--max-load 1.0] [--wait 7200]``

It waits (up to ``--wait`` seconds) until the machine's 1-minute load is under
``--max-load`` and prints the load it started at: the machine here has 2 cores shared with
other work, and a busy machine measures the other work.

1. **National routing** (``builtin:tier-national``, declared crews, seed 0): the local pool
   of 2 processes and a Dask ``LocalCluster`` of 1 and 2 workers: wall time, townships at
   target, peak memory per worker (the largest peak, ``VmHWM``, reported by a task of
   that worker), bytes sent per county task (its pickled county sub-problem), and the speed-up
   from 1 to 2 workers (target at least 1.7x). Every run gives each county the same budget
   (its share, by stops, of ``--time-limit`` x 2 worker seconds; the 1-worker run gets twice
   the wall limit), so the runs do the same work and their routes are equal; the
   day-pattern proofs, which use what is left of the wall limit, are off.
2. **Projection** for 8, 32 and 128 workers from the measured per-county times of the
   2-worker run: the counties scheduled largest first (as the solver submits them) on that
   many workers; the longest county bounds the wall time.
3. **Sweep** of 12 variants of ``western-2006`` (and the base): local processes against a
   2-worker ``LocalCluster``, with every plan's gap.
4. **Dask overhead**: ``builtin:tier-province`` routing on the local pool (2 processes)
   against a 2-worker ``LocalCluster`` (target: at most 10% slower).
"""

from __future__ import annotations

import argparse
import heapq
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support.route_checker, when run as benchmarks/scale.py
BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"


def wait_for_quiet(max_load: float, wait: float) -> float:
    """Wait until the 1-minute load is under ``max_load`` (at most ``wait`` seconds); the
    load at the start of the measurement."""
    end = time.monotonic() + wait
    load = os.getloadavg()[0]
    while load >= max_load and time.monotonic() < end:
        print(f"load {load:.2f} >= {max_load}: waiting", flush=True)
        time.sleep(60)
        load = os.getloadavg()[0]
    return load


def on(spec: str, run: Callable[[], Any]) -> tuple[Any, Any, float]:
    """``run()`` on the scheduler ``spec``, recording its tasks: (result, records, seconds);
    the cluster's start is not counted."""
    from planner import workers

    with workers.using(spec) as scheduler:
        try:
            scheduler.start()
            if spec.startswith("local:"):
                time.sleep(2.0)  # the workers' preload (solvers imported) finished
            with workers.recording() as rec:
                t0 = time.perf_counter()
                result = run()
                seconds = time.perf_counter() - t0
            return result, rec, seconds
        finally:
            scheduler.close()


def peak_per_worker(rec: Any) -> float:
    """The largest peak memory (MB) of a worker, over the tasks it reported."""
    peaks: dict[str, int] = {}
    for t in rec.tasks:
        peaks[t.worker] = max(peaks.get(t.worker, 0), t.peak_rss)
    return max(peaks.values(), default=0) / 1e6


def md(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def routing_part(
    time_limit: float, scenario: str = "builtin:tier-national"
) -> tuple[str, Any, Any]:
    import planner
    from tests.support.route_checker import (
        check_routes,  # the independent checker of the test suite
    )

    sc = planner.read_scenario(scenario)
    runs = {}
    for spec, label, workers in (
        ("processes:2", "local pool, 2 processes", 2),
        ("local:1", "Dask LocalCluster, 1 worker", 1),
        ("local:2", "Dask LocalCluster, 2 workers", 2),
    ):
        # every run gives each county the same budget (its share of time_limit x 2 worker
        # seconds), so that the runs do the same work; no day-pattern proofs, whose time is
        # what is left of the wall-clock limit, not a county's work
        p = planner.RoutingParams(time_limit * 2 / workers, 0, workers, proof_seconds=0.0)
        plan, rec, seconds = on(spec, lambda p=p: planner.route(sc, params=p))
        runs[spec] = (label, plan, rec, seconds)
        print(f"{label}: {seconds:.1f} s", flush=True)
    rows = []
    for _spec, (label, plan, rec, seconds) in runs.items():
        county = rec.of("county")
        sizes = [t.bytes_sent for t in county]
        capped = sum("time cap" in s.status for s in plan.result.subproblems)
        unexplained = int(
            ((plan.result.served < plan.problem.demand) & (plan.result.reason == "")).sum()
        )
        violations = len(check_routes(plan.problem, plan.result))
        s = plan.summary
        rows.append(
            [
                label,
                f"{seconds:,.1f}",
                f"{s.townships_met:,} / {s.townships:,}",
                f"{len(plan.result.subproblems):,} / {capped}",
                f"{violations} / {unexplained}",
                f"{peak_per_worker(rec):,.0f}",
                f"{sum(sizes) / max(len(sizes), 1) / 1e3:,.1f} / {max(sizes, default=0) / 1e3:,.1f}",
                f"{len(county):,}",
            ]
        )
    one, two = runs["local:1"][3], runs["local:2"][3]
    base = runs["processes:2"][1]
    differ = [differing_counties(base, runs[a][1]) for a in ("local:1", "local:2")]
    unexplained_diff = sum(len(d - c) for d, c in differ)
    text = md(
        [
            "run",
            "wall s",
            "townships at target",
            "counties routed / capped",
            "route checker violations / unserved without reason",
            "peak MB per worker",
            "KB per county task (mean / max)",
            "county tasks",
        ],
        rows,
    )
    text += (
        f"\n\nSpeed-up from 1 to 2 Dask workers: **{one / two:.2f}x** (target >= 1.7x); "
        f"counties whose routes differ from the local pool's: {len(differ[0][0])} (1 worker) and "
        f"{len(differ[1][0])} (2 workers), of which stopped by the time cap in neither run: "
        f"**{unexplained_diff}** (a county that reaches its cap stops where the clock says, "
        "the others are deterministic); whole problem "
        f"{runs['local:2'][1].problem.travel.nbytes / 1e6:,.0f} MB of travel matrix, never sent. "
        f"Time limit {time_limit:,.0f} s for 2 workers ({2 * time_limit:,.0f} s for 1): each "
        "county gets the same budget in every run (its share of the worker seconds, by its "
        "stops); day-pattern proofs off."
    )
    return text, runs["local:2"][1], runs["local:2"][2]


def differing_counties(a: Any, b: Any) -> tuple[set[str], set[str]]:
    """The counties whose routes differ between two routings of one problem (their served
    clients per stop or their route rows), and those of them stopped by the time cap in
    either run."""
    county = a.problem.stop_county
    differ = {str(c) for c in np.unique(county[a.result.served != b.result.served])}
    for plan_a, plan_b in ((a, b), (b, a)):
        rows_a, rows_b = plan_a.routes, plan_b.routes
        merged = rows_a.merge(rows_b, how="left", indicator=True)
        differ |= set(merged.loc[merged["_merge"] == "left_only", "county_code"].astype(str))
    capped = {
        s.county
        for plan in (a, b)
        for s in plan.result.subproblems
        if "time cap" in s.status and s.county in differ
    }
    return differ, capped


def projection_part(plan: Any, rec: Any) -> str:
    county = sorted(rec.of("county"), key=lambda t: t.index)
    subs = plan.result.subproblems
    # the solver submits the counties largest first; records are in submission order
    times = [t.seconds for t in county]
    order = sorted(range(len(subs)), key=lambda k: -max(subs[k].stops, 1))
    names = [subs[k].county for k in order]
    longest = max(range(len(times)), key=lambda i: times[i])
    sub = subs[order[longest]]
    total = sum(times)
    rows = []
    for w in (2, 8, 32, 128):
        finish = [0.0] * w
        heapq.heapify(finish)
        for t in times:  # in submission order, each to the first free worker
            heapq.heappush(finish, heapq.heappop(finish) + t)
        rows.append(
            [
                str(w),
                f"{max(finish):,.1f}",
                f"{max(total / w, times[longest]):,.1f}",
                f"{total / max(finish):,.1f}",
            ]
        )
    text = md(["workers", "projected wall s", "lower bound s", "speed-up over 1"], rows)
    text += (
        f"\n\nFrom {len(times):,} measured county tasks, {total:,.0f} task-seconds in all. The "
        f"longest county is **{names[longest]}** ({sub.stops} stops, {sub.vehicle_days} "
        f"vehicle-days, {sub.nodes} visit nodes): {times[longest]:,.1f} s, which no number of "
        "workers can shorten; splitting its search (its vehicle-days into day groups) or a "
        "tighter per-county cap would."
    )
    return text


def sweep_part() -> str:
    import planner
    from planner.sweep import Vary, sweep

    sc = planner.read_scenario("builtin:western-2006")
    axes = [
        Vary.parse("rules.undergraduate_min_share=0.85,0.9"),
        Vary.parse("weights.preference_rank=5,10,20"),
        Vary.parse("quota_scale.540000=1.0,1.1"),
    ]
    params = planner.AllocationParams(time_limit=300.0)
    runs = {}
    for spec in ("processes:2", "local:2"):
        result, _, seconds = on(spec, lambda: sweep(sc, axes, params))
        runs[spec] = (result, seconds)
        print(f"sweep on {spec}: {seconds:.1f} s", flush=True)
    a, b = runs["processes:2"][0].table, runs["local:2"][0].table
    rows = [
        [
            str(r.variant),
            str(r.changes),
            f"{r.objective:,.0f}",
            f"{r.gap:.4%}",
            f"{b.iloc[i]['gap']:.4%}",
            "yes" if bool(r.optimal) and bool(b.iloc[i]["optimal"]) else "NO",
        ]
        for i, r in enumerate(a.itertuples(index=False))
    ]
    text = md(["variant", "changes", "objective", "gap local", "gap Dask", "certified"], rows)
    same = (a["objective"].round(6) == b["objective"].round(6)).all()
    text += (
        f"\n\nWall time for the 12 variants and the base: local processes (2) "
        f"**{runs['processes:2'][1]:,.1f} s**, Dask LocalCluster (2 workers) "
        f"**{runs['local:2'][1]:,.1f} s** (ratio {runs['local:2'][1] / runs['processes:2'][1]:.2f}); "
        f"same objectives: {'yes' if same else 'no'}."
    )
    return text


def overhead_part(time_limit: float) -> str:
    import planner

    sc = planner.read_scenario("builtin:tier-province")
    params = planner.RoutingParams(time_limit=time_limit, seed=0, workers=2)
    seconds = {}
    for spec in ("processes:2", "local:2"):
        plan, _rec, s = on(spec, lambda: planner.route(sc, params=params))
        seconds[spec] = (s, plan.summary.townships_met)
        print(f"province routing on {spec}: {s:.1f} s", flush=True)
    ratio = seconds["local:2"][0] / seconds["processes:2"][0]
    rows = [
        [label, f"{seconds[spec][0]:,.1f}", str(seconds[spec][1])]
        for spec, label in (
            ("processes:2", "local pool, 2 processes"),
            ("local:2", "Dask, 2 workers"),
        )
    ]
    return md(["run", "wall s", "townships at target"], rows) + (
        f"\n\nDask over the local pool: **{ratio:.3f}x** ({(ratio - 1):+.1%}; target at most +10%)."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    ap.add_argument(
        "--parts",
        default="routing,projection,sweep,overhead",
        help="Which measurements, comma-separated (projection runs the national routing too).",
    )
    ap.add_argument(
        "--time-limit", type=float, default=600.0, help="National routing's wall limit, s."
    )
    ap.add_argument(
        "--province-time-limit",
        type=float,
        default=600.0,
        help="The overhead part's province-tier routing wall limit, s.",
    )
    ap.add_argument(
        "--write", type=Path, default=None, help="Replace the marked block of this Markdown file."
    )
    ap.add_argument(
        "--max-load", type=float, default=1.0, help="Start when the 1-minute load is under this."
    )
    ap.add_argument(
        "--wait", type=float, default=7200.0, help="Wait at most this long for --max-load, s."
    )
    args = ap.parse_args()
    parts = args.parts.split(",")
    load = wait_for_quiet(args.max_load, args.wait)
    started = time.strftime("%Y-%m-%d %H:%M")
    print(f"1-minute load at the start: {load:.2f} ({started})", flush=True)
    sections = [f"Measured {started} on 2 cores; 1-minute load at the start {load:.2f}."]
    if "routing" in parts or "projection" in parts:
        text, plan, rec = routing_part(args.time_limit)
        if "routing" in parts:
            sections.append("### National routing tier\n\n" + text)
        if "projection" in parts:
            sections.append("### Projection for more workers\n\n" + projection_part(plan, rec))
    if "sweep" in parts:
        sections.append("### Sweep of western-2006 (12 variants)\n\n" + sweep_part())
    if "overhead" in parts:
        sections.append(
            "### Dask overhead (province tier routing)\n\n"
            + overhead_part(args.province_time_limit)
        )
    sections.append(f"1-minute load at the end: {os.getloadavg()[0]:.2f}.")
    report = "\n\n".join(sections)
    print(report)
    if args.write is not None:
        doc = args.write.read_text(encoding="utf-8")
        block = f"{BEGIN}\n{report}\n{END}"
        doc = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, doc, flags=re.S)
        args.write.write_text(doc, encoding="utf-8")


if __name__ == "__main__":
    main()
