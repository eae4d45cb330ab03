"""A ``planner serve`` on loopback for the HTTP benchmarks (``api_load.py``, ``api_soak.py``):
a key made with ``planner keys create``, a scenario zipped for upload, plan jobs awaited."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

PLANNER = str(Path(sys.executable).with_name("planner"))


def zip_scenario(folder: Path) -> bytes:
    """A scenario folder as a zip held in memory (under the folder's name)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, f"{folder.name}/{p.relative_to(folder)}")
    return buf.getvalue()


def wait_ready(url: str, proc: subprocess.Popen[bytes], limit: float = 60) -> None:
    """Wait for ``/readyz``; exit when the server died or never became ready."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise SystemExit("the server exited; see its log")
        time.sleep(0.2)
    raise SystemExit("the server did not become ready")


def wait_job(client: httpx.Client, job_id: str, limit: float) -> dict[str, Any]:
    """Poll a job until it is final or ``limit`` seconds passed; return it."""
    end = time.monotonic() + limit
    while True:
        job: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] not in ("queued", "running") or time.monotonic() > end:
            return job
        time.sleep(0.5)


def upload_and_plan(
    client: httpx.Client, folder: Path, time_limit: float
) -> tuple[str, dict[str, Any]]:
    """Upload a scenario folder and plan it once; its id and the succeeded job (exit else)."""
    files = {"file": (f"{folder.name}.zip", zip_scenario(folder), "application/zip")}
    r = client.post("/api/v1/scenarios", files=files)
    r.raise_for_status()
    sid: str = r.json()["id"]
    body = {"time_limit": time_limit}
    first = client.post(f"/api/v1/scenarios/{sid}/plans", json=body).json()["job_id"]
    job = wait_job(client, first, 10 * time_limit + 120)
    if job["state"] != "succeeded":
        raise SystemExit(f"the first plan did not succeed: {job}")
    return sid, job


@dataclass
class Running:
    """A started server: its URL, process, key and data directory."""

    url: str
    proc: subprocess.Popen[bytes]
    key: str
    data_dir: Path


@contextmanager
def serve(tmp: Path, port: int, database_url: str | None = None) -> Iterator[Running]:
    """``planner serve`` on 127.0.0.1:``port`` with its data in ``tmp``; stopped on exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_")}
    env |= {"PLANNER_DATA_DIR": str(tmp / "data"), "PLANNER_POLL_SECONDS": "0.2"}
    if database_url:
        env["PLANNER_DATABASE_URL"] = database_url
    made = subprocess.run(
        [PLANNER, "keys", "create", "--role", "national"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = made.stdout.strip().splitlines()[-1]
    url = f"http://127.0.0.1:{port}"
    with (tmp / "server.log").open("wb") as log:
        proc = subprocess.Popen(
            [PLANNER, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(url, proc)
            yield Running(url, proc, key, tmp / "data")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
