"""Job bookkeeping: recovery after a stop, fenced writes, and a job that fails in its worker."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from api.core.settings import Settings
from api.db.models import JobRow, ScenarioRow, utcnow
from api.db.session import make_engine, session_factory, upgrade
from api.server.jobs import fenced, recover
from api.services.storage import scenario_dir
from tests.support.api import running_service, zip_folder, zip_part
from tests.support.processes import session_processes
from tests.support.scenario_files import write_tiny


def _sessions(tmp: Path):  # type: ignore[no-untyped-def]
    """A migrated SQLite database holding one scenario, ``s``, for jobs to refer to."""
    url = f"sqlite:///{tmp / 'j.db'}"
    upgrade(url)
    sessions = session_factory(make_engine(url))
    with sessions() as s:
        s.add(
            ScenarioRow(
                id="s",
                name="x",
                year=2006,
                filename="x.zip",
                provinces="",
                tables={},
                validation={},
            )
        )
        s.commit()
    return sessions


def test_recover_requeues_once_then_marks_interrupted(tmp_path: Path) -> None:
    sessions = _sessions(tmp_path)
    with sessions() as s:
        for jid, state, interruptions in (
            ("first", "running", 0),
            ("second", "running", 1),
            ("waiting", "queued", 0),
            ("done", "succeeded", 0),
        ):
            s.add(
                JobRow(
                    id=jid,
                    scenario_id="s",
                    state=state,
                    time_limit=1.0,
                    attempt=1,
                    interruptions=interruptions,
                )
            )
        s.commit()
    notes: list[tuple[str, str]] = []
    assert recover(sessions, lambda job, msg: notes.append((job, msg))) == (1, 1)
    assert [j for j, _ in sorted(notes)] == ["first", "second"]
    with sessions() as s:
        got = {j.id: (j.state, j.interruptions) for j in s.scalars(select(JobRow))}
    assert got == {
        "first": ("queued", 1),
        "second": ("interrupted", 2),
        "waiting": ("queued", 0),
        "done": ("succeeded", 0),
    }
    assert recover(sessions) == (0, 0)


def test_only_stale_heartbeats_are_taken_over(tmp_path: Path) -> None:
    sessions = _sessions(tmp_path)
    now = utcnow()
    with sessions() as s:
        for jid, age in (("alive", 1.0), ("gone", 30.0), ("mine", 30.0)):
            s.add(
                JobRow(
                    id=jid,
                    scenario_id="s",
                    state="running",
                    time_limit=1.0,
                    attempt=1,
                    heartbeat_at=now - timedelta(seconds=age),
                )
            )
        s.commit()
    assert recover(sessions, lease_seconds=10.0, mine={"mine"}) == (1, 0)
    with sessions() as s:
        got = {j.id: j.state for j in s.scalars(select(JobRow))}
    assert got == {"alive": "running", "gone": "queued", "mine": "running"}


def test_a_stale_attempt_cannot_write(tmp_path: Path) -> None:
    sessions = _sessions(tmp_path)
    with sessions() as s:
        s.add(JobRow(id="j", scenario_id="s", state="running", time_limit=1.0, attempt=2))
        s.commit()
        stale = s.execute(fenced("j", 1).values(state="succeeded"))
        fresh = s.execute(fenced("j", 2).values(progress=50.0))
        s.commit()
        assert (stale.rowcount, fresh.rowcount) == (0, 1)  # type: ignore[attr-defined]
        job = s.get(JobRow, "j")
        assert job is not None and (job.state, job.progress) == ("running", 50.0)


@pytest.mark.slow
def test_a_job_whose_files_are_gone_fails_with_the_reason(tmp_path: Path) -> None:
    folder = write_tiny(tmp_path / "tiny")
    settings = Settings(data_dir=tmp_path / "data", poll_seconds=0.1)
    with running_service(settings) as svc:
        h = svc.headers("national")
        r = svc.client.post("/api/v1/scenarios", files=zip_part(zip_folder(folder)), headers=h)
        sid = r.json()["id"]
        shutil.rmtree(scenario_dir(settings, sid))  # e.g. a lost disk
        job_id = svc.client.post(f"/api/v1/scenarios/{sid}/plans", headers=h).json()["job_id"]
        job = svc.wait(job_id)
    assert job["state"] == "failed"
    assert "does not exist" in job["error"] and sid in job["error"]
    assert str(settings.data_dir.resolve()) not in job["error"]  # no server path
    assert job["plan_id"] is None
    assert any("failed" in line for line in job["log"])


@pytest.mark.slow
def test_a_second_server_does_not_take_over_a_live_job(tmp_path: Path) -> None:
    folder = write_tiny(tmp_path / "tiny")
    settings = Settings(data_dir=tmp_path / "data", poll_seconds=0.1, job_lease_seconds=3.0)
    with running_service(settings) as first:
        h = first.headers("national")
        r = first.client.post("/api/v1/scenarios", files=zip_part(zip_folder(folder)), headers=h)
        sid = r.json()["id"]
        job_id = first.client.post(f"/api/v1/scenarios/{sid}/plans", headers=h).json()["job_id"]
        first.wait_state(job_id, "running")
        with running_service(settings) as second:  # same database and data directory
            job = second.wait(job_id)
    assert job["state"] == "succeeded"
    assert (job["attempt"], job["interruptions"]) == (1, 0)


WORKER = """
import time
from concurrent.futures import ProcessPoolExecutor
from api.server.job_worker import _die_with_parent
_die_with_parent()
with ProcessPoolExecutor(2) as pool:  # like a solver's process pool
    print("ready", flush=True)
    list(pool.map(time.sleep, [60, 60]))
"""
SERVER = """
import os, subprocess, sys, time
env = dict(os.environ, PLANNER_PARENT_PID=str(os.getpid()))
worker = subprocess.Popen([sys.executable, "-c", sys.argv[1]], env=env, start_new_session=True)
print(worker.pid, flush=True)
time.sleep(60)
"""


def test_a_worker_and_the_processes_it_forks_die_with_the_server() -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, WORKER], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    worker = int(server.stdout.readline())
    end = time.monotonic() + 30
    while len(session_processes(worker)) < 3:  # the worker and its two pool processes
        assert time.monotonic() < end, session_processes(worker)
        time.sleep(0.1)
    server.kill()
    server.wait()
    end = time.monotonic() + 10
    while session_processes(worker):
        assert time.monotonic() < end, f"orphans: {session_processes(worker)}"
        time.sleep(0.1)
