"""Soak test of the HTTP service on loopback: 20 clients read results for minutes while 2 plan
jobs run all the time; latency percentiles, errors and the server's memory at start and end.

Run: ``.venv/bin/python benchmarks/api_soak.py [--minutes 5] [--clients 20] [--jobs 2]``
(``--seconds 20`` for a short form; CI runs one, ``tests/api/server/test_api_soak.py``).

Starts ``planner serve`` (SQLite in a temporary data directory, or ``--database-url``) on
127.0.0.1, makes a national key, uploads a scenario (default the built-in ``tier-county``;
``--scenario`` also takes a folder) and plans it once, so there are results to read. Then, for
the run's length, ``--clients`` concurrent clients (one connection each, no pause between
requests) read the plan's summary, a JSON page of its assignments and its map (gzip), in turn,
while ``--jobs`` plan jobs of the scenario are kept running (a finished one is replaced at
once; the ones still running at the end are cancelled). The first part of the run
(``--warmup``, default 10% up to 30 s) fills the caches and the connection pools and is not
counted: the server's resident memory is taken when it ends ("start") and after the last
request ("end").

Prints per request kind: reads, errors (non-2xx answers and transport errors), p50/p95/p99
and max latency; the jobs (started, succeeded, failed, cancelled at the end) and how often the
wanted number was running; memory at start and end, the growth, and the samples' range and
least-squares trend (every 5 s of the measured part). Exits 1
when a read failed, a job failed or memory grew by 10% or more. Bounded: fixed duration,
loopback only, every request with a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.service import Running, serve, upload_and_plan
from geodata.builtin import builtin_folder

console = Console(width=150)
GROWTH_LIMIT = 0.10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB (``VmRSS`` of ``/proc/PID/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class Reads:
    """Latencies (ms) and errors of one request kind in the measured part of the run."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass
class Jobs:
    """Plan jobs started during the run and how often the wanted number ran."""

    started: int = 0
    succeeded: int = 0
    failed: list[str] = field(default_factory=list)
    cancelled_at_end: int = 0
    samples: list[int] = field(default_factory=list)


def keep_jobs_running(
    server: Running, sid: str, body: dict[str, Any], wanted: int, stop: threading.Event
) -> Jobs:
    """Keep ``wanted`` plan jobs running until ``stop``; cancel the ones left."""
    out = Jobs()
    headers = {"Authorization": f"Bearer {server.key}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as c:
        live: list[str] = []
        while not stop.is_set():
            while len(live) < wanted:
                live.append(c.post(f"/api/v1/scenarios/{sid}/plans", json=body).json()["job_id"])
                out.started += 1
            states = {j: c.get(f"/api/v1/jobs/{j}").json() for j in live}
            out.samples.append(sum(s["state"] == "running" for s in states.values()))
            for j, job in states.items():
                if job["state"] == "succeeded":
                    out.succeeded += 1
                elif job["state"] not in ("queued", "running"):
                    out.failed.append(f"{j}: {job['state']} {job.get('error')}")
            live = [j for j, s in states.items() if s["state"] in ("queued", "running")]
            stop.wait(0.5)
        for j in live:
            c.post(f"/api/v1/jobs/{j}/cancel")
            out.cancelled_at_end += 1
    return out


async def read_results(
    server: Running, paths: dict[str, str], clients: int, warmup: float, seconds: float
) -> tuple[dict[str, Reads], list[tuple[float, float]]]:
    """``clients`` concurrent readers; returns reads per kind and the server's memory (MiB)
    sampled every 5 s of the measured part, from its start to its end."""
    reads = {kind: Reads() for kind in paths}
    kinds = list(paths)
    t0 = time.monotonic()
    measure_from, end = t0 + warmup, t0 + warmup + seconds
    memory: list[tuple[float, float]] = []

    async def client(n: int) -> None:
        headers = {"Authorization": f"Bearer {server.key}", "Accept-Encoding": "gzip"}
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(
            base_url=server.url, headers=headers, timeout=60, limits=limits
        ) as c:
            i = n
            while (now := time.monotonic()) < end:
                kind = kinds[i % len(kinds)]
                i += 1
                t = time.perf_counter()
                try:
                    r = await c.get(paths[kind])
                    ok, label = r.status_code < 300, str(r.status_code)
                except httpx.TransportError as exc:
                    ok, label = False, type(exc).__name__
                ms = (time.perf_counter() - t) * 1000
                if now >= measure_from:
                    got = reads[kind]
                    got.latencies.append(ms)
                    got.errors += not ok
                    got.statuses[label] = got.statuses.get(label, 0) + 1

    async def sample_memory() -> None:
        await asyncio.sleep(warmup)
        while (now := time.monotonic()) < end:
            memory.append((now - measure_from, rss_mib(server.proc.pid)))
            await asyncio.sleep(min(5.0, max(0.0, end - time.monotonic())))

    await asyncio.gather(sample_memory(), *(client(n) for n in range(clients)))
    memory.append((time.monotonic() - measure_from, rss_mib(server.proc.pid)))
    return reads, memory


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--scenario", default="tier-county", help="Built-in name or a folder.")
    ap.add_argument("--minutes", type=float, default=5.0, help="Measured length of the run.")
    ap.add_argument("--seconds", type=float, default=None, help="Instead of --minutes.")
    ap.add_argument("--warmup", type=float, default=None, help="Default 10%% up to 30 s.")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2, help="Plan jobs kept running.")
    ap.add_argument("--time-limit", type=float, default=20.0, help="Solver seconds per stage.")
    ap.add_argument("--database-url", default=None, help="Default SQLite in a temp dir.")
    ap.add_argument("--json", type=Path, default=None, help="Also write the results here.")
    args = ap.parse_args()
    seconds = args.seconds if args.seconds is not None else 60 * args.minutes
    warmup = args.warmup if args.warmup is not None else min(30.0, max(3.0, seconds / 10))
    folder = Path(args.scenario)
    if not folder.is_dir():
        folder = builtin_folder(args.scenario)

    with (
        tempfile.TemporaryDirectory(prefix="westplan-soak-") as tmp,
        serve(Path(tmp), _free_port(), args.database_url) as server,
    ):
        client = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {server.key}"}, timeout=300
        )
        sid, job = upload_and_plan(client, folder, args.time_limit)
        body = {"time_limit": args.time_limit}
        pid = job["plan_id"]
        p = f"/api/v1/plans/{pid}"
        paths = {"summary": f"{p}/summary", "assignments": f"{p}/assignments", "map": f"{p}/map"}
        for path in paths.values():  # the first map request renders it (seconds, once)
            client.get(path, headers={"Accept-Encoding": "gzip"}).raise_for_status()
        stop = threading.Event()
        jobs = Jobs()

        def run_jobs() -> None:
            nonlocal jobs
            jobs = keep_jobs_running(server, sid, body, args.jobs, stop)

        keeper = threading.Thread(target=run_jobs)
        keeper.start()
        try:
            reads, memory = asyncio.run(read_results(server, paths, args.clients, warmup, seconds))
        finally:
            stop.set()
            keeper.join()
        client.close()

    start, end = memory[0][1], memory[-1][1]
    growth = (end - start) / start
    t, mib = np.asarray(memory).T
    trend = float(np.polyfit(t / 60, mib, 1)[0]) if len(t) > 2 else float("nan")
    rows = []
    for kind, got in reads.items():
        lat = np.asarray(got.latencies)
        p50, p95, p99 = np.percentile(lat, [50, 95, 99]) if lat.size else (np.nan,) * 3
        rows.append(
            {
                "request": kind,
                "reads": int(lat.size),
                "errors": got.errors,
                "p50 ms": float(p50),
                "p95 ms": float(p95),
                "p99 ms": float(p99),
                "max ms": float(lat.max()) if lat.size else float("nan"),
                "statuses": got.statuses,
            }
        )
    every = np.concatenate([np.asarray(g.latencies) for g in reads.values()])
    errors = sum(g.errors for g in reads.values())
    p50, p95, p99 = (float(v) for v in np.percentile(every, [50, 95, 99]))
    rows.append(
        {
            "request": "all",
            "reads": int(every.size),
            "errors": errors,
            "p50 ms": p50,
            "p95 ms": p95,
            "p99 ms": p99,
            "max ms": float(every.max()),
        }
    )
    table = Table(
        title=f"{args.clients} clients reading for {seconds:,.0f} s (after {warmup:,.0f} s of "
        f"warm-up) while {args.jobs} plan jobs of {folder.name} run; loopback, uvicorn + "
        f"{'PostgreSQL' if args.database_url else 'SQLite'}"
    )
    for col in ("request", "reads", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(col, justify="left" if col == "request" else "right")
    for row in rows:
        table.add_row(
            row["request"],
            f"{row['reads']:,}",
            str(row["errors"]),
            *(f"{row[c]:,.1f}" for c in ("p50 ms", "p95 ms", "p99 ms", "max ms")),
        )
    console.print(table)
    running = np.asarray(jobs.samples)
    share = float(np.mean(running >= args.jobs)) if running.size else 0.0
    console.print(
        f"jobs: {jobs.started} started, {jobs.succeeded} succeeded, {len(jobs.failed)} failed, "
        f"{jobs.cancelled_at_end} cancelled at the end; {args.jobs} running in {share:.0%} "
        f"of the samples (every 0.5 s)"
    )
    console.print(
        f"server memory (RSS): start {start:,.1f} MiB, end {end:,.1f} MiB, growth {growth:+.1%} "
        f"(limit {GROWTH_LIMIT:.0%}); {len(memory)} samples every 5 s: min {mib.min():,.1f}, "
        f"max {mib.max():,.1f} MiB, trend {trend:+,.1f} MiB/min (least squares)"
    )
    result = {
        "seconds": seconds,
        "warmup": warmup,
        "clients": args.clients,
        "scenario": folder.name,
        "rows": rows,
        "errors": errors,
        "jobs": asdict(jobs) | {"running_share": share},
        "memory_mib": {
            "start": start,
            "end": end,
            "growth": growth,
            "trend_per_minute": trend,
            "samples": memory,
        },
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    failed = errors > 0 or jobs.failed or growth >= GROWTH_LIMIT
    if failed:
        console.print(f"[red]FAILED[/]: errors {errors}, failed jobs {jobs.failed}")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
