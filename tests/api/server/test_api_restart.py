"""Kill a real server (uvicorn, ``planner serve``) while a plan job runs, start it again: the
job is re-queued once, completes, and its plan (allocation and routes) equals a plan made
without interruption."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import PLANNER, Server, write_crewed_tiny, zip_folder, zip_part
from tests.support.scenario_files import plan_directly

pytestmark = pytest.mark.slow  # the whole module runs only in `make test`


def _workers(job_id: str) -> list[int]:
    """Pids of worker processes running ``job_id`` (from /proc)."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"api.server.job_worker" in cmd and job_id.encode() in cmd:
                found.append(int(d.name))
    return found


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_") or "TEST" in k}
    env |= {
        "PLANNER_DATA_DIR": str(tmp_path / "data"),
        "PLANNER_POLL_SECONDS": "0.1",
        "PLANNER_JOB_LEASE_SECONDS": "2",
    }
    yield env


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_killed_server_finishes_the_job_with_the_same_plan(
    env: dict[str, str], tmp_path: Path
) -> None:
    made = subprocess.run(
        [PLANNER, "keys", "create", "--role", "national", "--name", "restart-test"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = made.stdout.strip().splitlines()[-1]
    h = {"Authorization": f"Bearer {key}"}
    tiny = write_crewed_tiny(tmp_path / "tiny")

    server = Server(env, tmp_path / "server.log")
    try:
        r = httpx.post(
            f"{server.url}/api/v1/scenarios", files=zip_part(zip_folder(tiny)), headers=h
        )
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        r = httpx.post(f"{server.url}/api/v1/scenarios/{sid}/plans", headers=h)
        job_id = r.json()["job_id"]
        end = time.monotonic() + 30
        while httpx.get(f"{server.url}/api/v1/jobs/{job_id}", headers=h).json()["state"] != (
            "running"
        ):
            assert time.monotonic() < end
            time.sleep(0.05)
    finally:
        server.kill()
    deadline = time.monotonic() + 10
    while _workers(job_id):  # the worker dies with the server: no orphan keeps solving
        assert time.monotonic() < deadline, f"orphan workers {_workers(job_id)}"
        time.sleep(0.1)

    server = Server(env, tmp_path / "server.log")
    try:
        end = time.monotonic() + 90
        while True:
            job: dict[str, Any] = httpx.get(f"{server.url}/api/v1/jobs/{job_id}", headers=h).json()
            if job["state"] not in ("queued", "running"):
                break
            assert time.monotonic() < end, job
            time.sleep(0.2)
        assert job["state"] == "succeeded", job
        assert job["interruptions"] == 1 and job["attempt"] == 2, job
        assert any("interrupted by a server stop; re-queued once" in x for x in job["log"]), job
        base = f"{server.url}/api/v1/plans/{job['plan_id']}"
        got = {
            name: _csv(
                httpx.get(
                    f"{base}/{name}", params={"format": "csv", "limit": 100_000}, headers=h
                ).text
            )
            for name in ("assignments", "unassigned", "seats", "coverage")
        }
        routes = httpx.get(f"{base}/routes", headers=h).json()
        summary = httpx.get(f"{base}/summary", headers=h).json()
    finally:
        server.stop()

    direct = tmp_path / "direct"
    plan_directly(tiny, direct, time_limit=job["time_limit"], routing=True)
    for name, rows in got.items():
        want = _csv((direct / f"{name}.csv").read_text(encoding="utf-8-sig"))
        assert rows == want, name
    want_summary = json.loads((direct / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective"] == want_summary["objective"]
    assert summary["terms"] == want_summary["terms"]
    want_routes = json.loads((direct / "routes.geojson").read_text(encoding="utf-8"))
    assert routes["features"] == want_routes["features"] and routes["features"]
