"""Backups that restore: ``planner backup`` while a real server runs and a job writes,
``planner restore`` into a new folder, a server started on it answers every plan and scenario
byte for byte as the original did; the job that was running finishes after the restore.
PostgreSQL the same way (``pg_dump`` / ``pg_restore``) when a test server is configured.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from api.core.backup import BackupProblem, backup, restore, verify
from api.core.settings import Settings
from tests.support.api import (
    PLANNER,
    Server,
    cli_key,
    postgres_database,
    running_service,
    server_env,
    write_crewed_tiny,
    zip_folder,
    zip_part,
)

RESULTS = ("summary", "budget", "assignments?format=csv", "unassigned?format=csv",
           "seats?format=csv", "coverage?format=csv", "routes", "xlsx", "map")  # fmt: skip


def _wait(get: Any, job_id: str, states: tuple[str, ...], limit: float = 120) -> dict[str, Any]:
    end = time.monotonic() + limit
    while True:
        job: dict[str, Any] = get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        assert time.monotonic() < end, job
        time.sleep(0.05)


def _snapshot(get: Any) -> dict[str, bytes]:
    """Every scenario and every plan result the service answers, as bytes."""
    out: dict[str, bytes] = {}
    for s in get("/api/v1/scenarios").json():
        out[f"scenario {s['id']}"] = get(f"/api/v1/scenarios/{s['id']}").content
    for p in get("/api/v1/plans").json():
        for name in RESULTS:
            r = get(f"/api/v1/plans/{p['id']}/{name}")
            assert r.status_code == 200, (name, r.text[:200])
            out[f"plan {p['id']} {name}"] = r.content
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith("map")  # maps are rendered on first request
    }


def _planner(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PLANNER, *args], env=env, capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_backup_while_a_job_runs_restores_byte_for_byte(tmp_path: Path) -> None:
    env = server_env(tmp_path / "data")
    key = cli_key(env, "national")
    h = {"Authorization": f"Bearer {key}"}
    tiny = write_crewed_tiny(tmp_path / "tiny")
    server = Server(env, tmp_path / "server.log")
    try:
        client = httpx.Client(base_url=server.url, headers=h, timeout=60)
        sid = client.post("/api/v1/scenarios", files=zip_part(zip_folder(tiny))).json()["id"]
        first = client.post(f"/api/v1/scenarios/{sid}/plans").json()["job_id"]
        assert _wait(client.get, first, ("succeeded", "failed"))["state"] == "succeeded"
        pid = client.get("/api/v1/plans").json()[0]["id"]
        link = client.post(f"/api/v1/plans/{pid}/map-link").json()["url"]
        before = _snapshot(client.get)
        second = client.post(f"/api/v1/scenarios/{sid}/plans").json()["job_id"]
        assert _wait(client.get, second, ("running",))["state"] == "running"
        made = _planner(env, "backup", str(tmp_path / "backup"))
        assert made.returncode == 0, made.stderr
        assert _wait(client.get, second, ("succeeded", "failed"))["state"] == "succeeded"
        client.close()
    finally:
        server.stop()

    with sqlite3.connect(tmp_path / "backup" / "planner.db") as db:
        (state,) = db.execute("SELECT state FROM jobs WHERE id = ?", (second,)).fetchone()
    assert state == "running", "the job finished before the backup: nothing was written during it"
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["database"] == "sqlite" and manifest["revision"]
    assert (tmp_path / "backup").stat().st_mode & 0o077 == 0
    assert not any(".partial" in name for name in manifest["files"]), "a half-written plan"

    restored = server_env(tmp_path / "restored", job_lease_seconds="2")
    done = _planner(restored, "restore", str(tmp_path / "backup"))
    assert done.returncode == 0, done.stderr
    again = _planner(restored, "restore", str(tmp_path / "backup"))
    assert again.returncode == 1 and "empty data folder" in " ".join(again.stderr.split())

    server = Server(restored, tmp_path / "restored.log")
    try:
        client = httpx.Client(base_url=server.url, headers=h, timeout=60)  # the same key
        after = _snapshot(client.get)
        assert after.keys() >= before.keys()
        for what, body in before.items():
            assert after[what] == body, what
        # the job that ran during the backup is re-queued by the restored server and finishes
        job = _wait(client.get, second, ("succeeded", "failed", "interrupted"), limit=180)
        assert job["state"] == "succeeded" and job["attempt"] == 2, job
        # a map link signed before the backup still opens without a key (secret.key came along)
        signed = urlsplit(link)
        assert httpx.get(f"{server.url}{signed.path}?{signed.query}").status_code == 200
        client.close()
    finally:
        server.stop()
    original = _files(tmp_path / "data" / "scenarios")
    assert original and _files(tmp_path / "restored" / "scenarios") == original


def test_restore_checks_the_manifest(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with running_service(settings):
        settings.secret()
    (tmp_path / "data" / "plans" / "p1").mkdir(parents=True)
    (tmp_path / "data" / "plans" / "p1" / "summary.json").write_text("{}")
    (tmp_path / "data" / "plans" / "p2.partial").mkdir(parents=True)
    (tmp_path / "data" / "plans" / "p2.partial" / "summary.json").write_text("{}")
    manifest = backup(settings, tmp_path / "b")
    assert "data/plans/p1/summary.json" in manifest.files
    assert not any("p2.partial" in f for f in manifest.files)
    with pytest.raises(BackupProblem, match="not empty"):
        backup(settings, tmp_path / "b")
    (tmp_path / "b" / "data" / "plans" / "p1" / "summary.json").write_text('{"x": 1}')
    (tmp_path / "b" / "data" / "stray.txt").write_text("?")
    (tmp_path / "b" / "data" / "secret.key").unlink()
    with pytest.raises(BackupProblem) as problem:
        verify(tmp_path / "b")
    message = str(problem.value)
    for expected in (
        "data/plans/p1/summary.json: changed",
        "data/stray.txt: not in the manifest",
        "data/secret.key: missing",
    ):
        assert expected in message
    with pytest.raises(BackupProblem, match="not a backup manifest"):
        restore(Settings(data_dir=tmp_path / "new"), tmp_path / "tiny-nothing")


@pytest.mark.slow
@pytest.mark.needs("postgresql")  # pg_dump and pg_restore, whichever server
def test_postgres_backup_and_restore(tmp_path: Path) -> None:
    with postgres_database() as source_url, postgres_database() as target_url:
        settings = Settings(data_dir=tmp_path / "data", database_url=source_url, poll_seconds=0.1)
        tiny = write_crewed_tiny(tmp_path / "tiny")
        with running_service(settings) as svc:
            h = svc.headers("national")
            sid = svc.client.post(
                "/api/v1/scenarios", files=zip_part(zip_folder(tiny)), headers=h
            ).json()["id"]
            jid = svc.client.post(f"/api/v1/scenarios/{sid}/plans", headers=h).json()["job_id"]
            assert svc.wait(jid)["state"] == "succeeded"

            def get(path: str) -> httpx.Response:
                return svc.client.get(path, headers=h)

            before = _snapshot(get)
            manifest = backup(settings, tmp_path / "backup")
        assert manifest.database == "postgresql" and "planner.pgdump" in manifest.files
        target = Settings(data_dir=tmp_path / "restored", database_url=target_url)
        with pytest.raises(BackupProblem, match="same kind"):
            restore(Settings(data_dir=tmp_path / "x"), tmp_path / "backup")
        restore(target, tmp_path / "backup")
        with running_service(target) as svc:
            svc.keys["national"] = h["Authorization"].split()[1]  # keys came along
            after = _snapshot(lambda path: svc.client.get(path, headers=h))
        assert after == before
