"""Load benchmark of the HTTP service on loopback: summary and map reads while plan jobs run.

Run: ``.venv/bin/python benchmarks/api_load.py [--seconds 10] [--jobs 5]``
(needs ``wrk``: ``apt-get install wrk``; a C load generator, so the client's own cost does not
end up in the latencies the way a Python client's would).

Starts ``planner serve`` (uvicorn, SQLite in a temporary data directory) on 127.0.0.1, makes a
national key with ``planner keys create``, uploads a scenario (default the built-in
``tier-county``) and plans it once, so a summary and a map exist (the first map request
renders and caches it). Then two phases of ``--seconds`` each, with 50 connections in
flight all the time (25 asking for the summary, 25 for the map, two wrk processes at once):

- ``idle``: no job runs;
- ``busy``: ``--jobs`` plan jobs of the scenario are queued first (``PLANNER_WORKERS`` run at a
  time, each in its own worker process); the jobs running during the phase are sampled.

It prints latency percentiles per request kind side by side (busy / idle ratio), the errors
(non-2xx answers, connect/read/write errors, timeouts) and the jobs that did not succeed
("lost"). Bounded: fixed durations, a wall-clock limit per job, loopback only.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.service import serve, upload_and_plan, wait_job
from geodata.builtin import builtin_folder

console = Console(width=150)
LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %.3f %.3f %.3f %.3f %.3f\\n",
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.duration / 1e6))
end
"""
COLUMNS = ("requests", "transport errors", "non-2xx", "p50", "p95", "p99", "max", "seconds")


def _wrk(url: str, key: str, paths: dict[str, str], seconds: float, script: Path) -> dict:  # type: ignore[type-arg]
    """Run one wrk per path at the same time (25 connections each); parse their results."""
    procs = {
        kind: subprocess.Popen(
            [
                "wrk",
                "-t1",
                "-c25",
                f"-d{seconds:.0f}s",
                "--timeout",
                "30s",
                "-s",
                str(script),
                "-H",
                f"Authorization: Bearer {key}",
                url + path,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for kind, path in paths.items()
    }
    out = {}
    for kind, proc in procs.items():
        text, _ = proc.communicate(timeout=seconds + 60)
        line = next(x for x in text.splitlines() if x.startswith("RESULT"))
        out[kind] = dict(zip(COLUMNS, map(float, line.split()[1:]), strict=True))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--scenario", default="tier-county", help="Built-in scenario to upload.")
    ap.add_argument("--seconds", type=float, default=10.0, help="Length of each phase.")
    ap.add_argument("--jobs", type=int, default=5)
    ap.add_argument("--time-limit", type=float, default=20.0, help="Solver seconds per stage.")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument(
        "--database-url", default=None, help="e.g. a PostgreSQL URL; default SQLite in a temp dir"
    )
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")

    with (
        tempfile.TemporaryDirectory(prefix="westplan-load-") as tmp,
        serve(Path(tmp), args.port, args.database_url) as server,
    ):
        db = "PostgreSQL" if "postgres" in (args.database_url or "") else "SQLite"
        script = Path(tmp) / "report.lua"
        script.write_text(LUA)
        url, key = server.url, server.key
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=300)
        sid, job = upload_and_plan(client, builtin_folder(args.scenario), args.time_limit)
        body = {"time_limit": args.time_limit}
        pid = job["plan_id"]
        paths = {"summary": f"/api/v1/plans/{pid}/summary", "map": f"/api/v1/plans/{pid}/map"}
        t0 = time.perf_counter()
        warm = client.get(paths["map"])
        console.print(
            f"scenario {args.scenario}, plan stages {job['log'][-1].split('(')[-1][:-1]}; "
            f"first map request: {warm.status_code} in {time.perf_counter() - t0:.2f} s "
            "(renders and caches)"
        )

        idle = _wrk(url, key, paths, args.seconds, script)
        jobs = [
            client.post(f"/api/v1/scenarios/{sid}/plans", json=body).json()["job_id"]
            for _ in range(args.jobs)
        ]
        running: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            with httpx.Client(base_url=url, headers=client.headers, timeout=30) as c:
                while not stop.is_set():
                    states = [c.get(f"/api/v1/jobs/{j}").json()["state"] for j in jobs]
                    running.append(states.count("running"))
                    stop.wait(0.5)

        sampler = threading.Thread(target=sample)
        sampler.start()
        busy = _wrk(url, key, paths, args.seconds, script)
        stop.set()
        sampler.join()
        states = [
            wait_job(client, j, args.jobs * (2 * args.time_limit + 60))["state"] for j in jobs
        ]

    table = Table(
        title=f"50 connections in flight (25 summary + 25 map), loopback, uvicorn + {db}; "
        f"busy = while {args.jobs} plan jobs are queued and run"
    )
    table.add_column("request")
    table.add_column("load")
    for col in COLUMNS:
        table.add_column(col + (" ms" if col.startswith(("p", "max")) else ""), justify="right")
    for kind in paths:
        for name, res in (("idle", idle), ("busy", busy)):
            r = res[kind]
            table.add_row(
                kind,
                name,
                *(f"{r[c]:,.0f}" for c in COLUMNS[:3]),
                *(f"{r[c]:,.1f}" for c in COLUMNS[3:]),
            )
        ratio = [busy[kind][c] / idle[kind][c] if idle[kind][c] else float("nan") for c in COLUMNS]
        table.add_row(
            kind, "busy / idle", f"{ratio[0]:.2f}x", "", "", *(f"{v:.2f}x" for v in ratio[3:7]), ""
        )
    console.print(table)
    lost = sum(s != "succeeded" for s in states)
    console.print(
        f"jobs running during the busy phase (sampled every 0.5 s): min {min(running)}, "
        f"max {max(running)}; final states: {', '.join(states)}; lost (not succeeded): {lost}"
    )


if __name__ == "__main__":
    main()
