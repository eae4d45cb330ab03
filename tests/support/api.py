"""Helpers for the HTTP service tests: zips of scenarios, keys, a running app, polling, a
browser on the office pages."""

from __future__ import annotations

import contextlib
import io
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from alembic.config import Config
from fastapi.testclient import TestClient

from api.core.api_keys import create_key
from api.core.settings import Settings
from api.db.session import MIGRATIONS
from api.server.app import create_app
from tests.support import pg_cluster
from tests.support.scenario_files import write_tiny

PLANNER = str(Path(sys.executable).with_name("planner"))
POSTGRES_ENV = pg_cluster.ENV
"""A PostgreSQL URL whose user may create databases; without it the tests start a throwaway
cluster of their own (tests/support/pg_cluster.py)."""
ROLES = ("national", "province:520000", "province:530000", "viewer")
"""The tiny scenario serves Guizhou (520000); Yunnan (530000) is 'another province'."""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
"""The content type browsers send with an .xlsx workbook."""
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
"""The forms' token in an office page."""


def write_crewed_tiny(folder: Path) -> Path:
    """The tiny scenario with post PA1 as a mobile-service post, so the volunteers placed
    there crew station S1 and the routing stage has routes to compare (the plain tiny
    scenario's station has no crew)."""
    write_tiny(folder)
    posts = folder / "posts.csv"
    lines = posts.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("PA1,") and ",education," in lines[1]
    lines[1] = lines[1].replace(",education,", ",mobile_service,")
    posts.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def zip_folder(folder: Path, top: str = "tiny") -> bytes:
    """The folder's files as a zip held in memory, under ``top/``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, f"{top}/{p.name}")
    return buf.getvalue()


def zip_part(data: bytes, name: str = "tiny.zip", ctype: str = "application/zip") -> Any:
    """The ``files=`` argument of an httpx upload in field ``file``."""
    return {"file": (name, data, ctype)}


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test module, dropped afterwards."""
    base = pg_cluster.url()
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base)
    name = f"planner_test_{uuid.uuid4().hex[:10]}"
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url(backend: str, tmp: Path) -> contextlib.AbstractContextManager[str]:
    """A database URL for ``sqlite`` or ``postgres``."""
    if backend == "postgres":
        return postgres_database()
    return contextlib.nullcontext(f"sqlite:///{tmp / 'planner.db'}")


@dataclass
class Service:
    """A running app (in process), its client, settings and one key per role."""

    client: TestClient
    settings: Settings
    keys: dict[str, str]

    def headers(self, role: str | None) -> dict[str, str]:
        """Headers sending the key of ``role`` (none for None)."""
        return {} if role is None else {"Authorization": f"Bearer {self.keys[role]}"}

    def wait(self, job_id: str, role: str = "national", timeout: float = 60.0) -> dict[str, Any]:
        """Poll a job until it is final; return it."""
        end = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = self.client.get(
                f"/api/v1/jobs/{job_id}", headers=self.headers(role)
            ).json()
            if job["state"] not in ("queued", "running"):
                return job
            if time.monotonic() > end:
                raise AssertionError(f"job {job_id} still {job['state']} after {timeout} s: {job}")
            time.sleep(0.2)

    def upload_and_plan(self, folder: Path, role: str) -> dict[str, str]:
        """Upload ``folder`` and plan it with ``role``'s key; the ids of the scenario, the
        (succeeded) job and the plan."""
        h = self.headers(role)
        files = zip_part(zip_folder(folder))
        sid = self.client.post("/api/v1/scenarios", files=files, headers=h).json()["id"]
        jid = self.client.post(f"/api/v1/scenarios/{sid}/plans", headers=h).json()["job_id"]
        job = self.wait(jid, role)
        assert job["state"] == "succeeded", job
        return {"scenario_id": sid, "job_id": jid, "plan_id": job["plan_id"]}

    def sweep(self, scenario_id: str, vary: list[str], role: str = "national") -> str:
        """Sweep a stored scenario with ``role``'s key; the (finished) sweep's id."""
        h = self.headers(role)
        r = self.client.post(
            f"/api/v1/scenarios/{scenario_id}/sweeps", json={"vary": vary}, headers=h
        )
        assert r.status_code == 202, r.text
        job = self.wait(r.json()["job_id"], role)
        assert job["state"] == "succeeded" and job["sweep_id"], job
        sweep_id: str = job["sweep_id"]
        return sweep_id

    def wait_state(self, job_id: str, state: str, timeout: float = 60.0) -> dict[str, Any]:
        """Poll until the job reaches ``state``."""
        end = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = self.client.get(
                f"/api/v1/jobs/{job_id}", headers=self.headers("national")
            ).json()
            if job["state"] == state:
                return job
            if time.monotonic() > end:
                raise AssertionError(f"job {job_id} never {state}: {job}")
            time.sleep(0.05)

    def running_worker(self, job_id: str, timeout: float = 60.0) -> Any:
        """Wait until the job runs and its worker process is started; the runner's record of it
        (``proc``, ``limit``). The runner claims the job in the database first and starts the
        process a moment later, so the ``running`` state alone does not mean the record exists."""
        self.wait_state(job_id, "running", timeout)
        runner = self.client.app.state.runner  # type: ignore[attr-defined]
        end = time.monotonic() + 10.0
        while (running := runner._running.get(job_id)) is None:
            if time.monotonic() > end:
                raise AssertionError(f"job {job_id} is running but no worker was started")
            time.sleep(0.01)
        return running


@dataclass
class Browser:
    """A browser on the office pages of an in-process app: its own cookies (the session, the
    CSRF cookie, the language), signed in with a key or not."""

    client: TestClient
    signed_in: bool = False

    @classmethod
    def signed_in_as(
        cls,
        svc: Service,
        role: str | None,
        language: str | None = None,
        address: str = "testclient",
        base_url: str = "http://testserver",
    ) -> Browser:
        """A new browser, signed in with ``role``'s key (``None``: not signed in), asking for
        ``language`` in ``Accept-Language``."""
        headers = {"Accept-Language": language} if language else {}
        app = svc.client.app  # type: ignore[attr-defined]
        client = TestClient(app, headers=headers, client=(address, 40000), base_url=base_url)
        browser = cls(client)
        if role is not None:
            r = browser.post("/office/sign-in", {"key": svc.keys[role], "next": "/office"})
            assert r.status_code == 303, (r.status_code, r.text[-500:])
            browser.signed_in = True
        return browser

    def token(self) -> str:
        """The forms' token, as the next page would carry it."""
        found = CSRF.search(self.client.get("/office/sign-in").text)
        assert found is not None
        return found.group(1)

    def post(
        self, path: str, data: dict[str, str], files: dict[str, Any] | None = None
    ) -> httpx.Response:
        """Send a form of the pages (with the page's token), without following a redirect."""
        form = {"csrf": self.token(), **data}
        return self.client.post(path, data=form, files=files, follow_redirects=False)


@contextlib.contextmanager
def running_service(settings: Settings) -> Iterator[Service]:
    """Start the app (migrations, job runner) with a key per role."""
    app = create_app(settings)
    with TestClient(app) as client:
        keys = {}
        with app.state.sessions() as session:
            for role in ROLES:
                keys[role] = create_key(session, role, name=role)[1]
        yield Service(client, settings, keys)


OWN = "province:520000"
"""The key of the province the tiny scenario serves (Guizhou)."""


@dataclass(frozen=True)
class TinyService:
    """A running service (in process) with nothing uploaded, and the tiny scenario's folder."""

    svc: Service
    tmp: Path
    """The fixture's own folder: the data folder (``tmp/data``), the scenario, any workbook."""
    tiny: Path


@dataclass(frozen=True)
class PlannedTiny:
    """A running service where the Guizhou office uploaded the tiny scenario and planned it."""

    svc: Service
    tmp: Path
    tiny: Path
    scenario_id: str
    job_id: str
    """The plan job (succeeded)."""
    plan_id: str

    @property
    def plan_folder(self) -> Path:
        """The plan's folder in the service's data folder."""
        return self.svc.settings.data_dir / "plans" / self.plan_id


def service_settings(tmp: Path, **changed: Any) -> Settings:
    """The tests' settings of a service whose data folder is ``tmp/data``: quick polling and
    30 s jobs, with the ``changed`` ones."""
    return Settings(
        data_dir=tmp / "data", **({"poll_seconds": 0.1, "job_time_limit": 30} | changed)
    )


@contextlib.contextmanager
def tiny_service(tmp: Path, **changed: Any) -> Iterator[TinyService]:
    """A running service (:func:`service_settings`) and the tiny scenario written in ``tmp``."""
    tiny = write_tiny(tmp / "tiny")
    with running_service(service_settings(tmp, **changed)) as svc:
        yield TinyService(svc, tmp, tiny)


@contextlib.contextmanager
def planned_tiny(tmp: Path, role: str = OWN, **changed: Any) -> Iterator[PlannedTiny]:
    """:func:`tiny_service` where ``role`` uploaded the tiny scenario and planned it."""
    with tiny_service(tmp, **changed) as room:
        ids = room.svc.upload_and_plan(room.tiny, role)
        yield PlannedTiny(room.svc, tmp, room.tiny, **ids)


def free_port() -> int:
    """A free TCP port on the loopback address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def server_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a ``planner serve`` on ``data_dir``: this one without PLANNER_*
    settings (test variables kept), plus ``settings`` as ``PLANNER_<NAME>``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_") or "TEST" in k}
    env["PLANNER_DATA_DIR"] = str(data_dir)
    env["PLANNER_POLL_SECONDS"] = "0.1"
    env |= {f"PLANNER_{k.upper()}": v for k, v in settings.items()}
    return env


def cli_key(env: dict[str, str], role: str) -> str:
    """A key made with ``planner keys create`` (as an operator would)."""
    made = subprocess.run(
        [PLANNER, "keys", "create", "--role", role, "--name", role],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip().splitlines()[-1]


class Server:
    """``planner serve`` in a subprocess on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [PLANNER, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        end = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > end:
                raise AssertionError(f"server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
        self.log.close()


_BLOCK = 1 << 20


def padding_block(seed: int) -> bytes:
    """One MiB of 'a' with one random byte per 1,000: deflate shrinks it about 190-fold, under
    the zip check's 200-fold limit."""
    rng = random.Random(seed)
    block = bytearray(b"a" * _BLOCK)
    for i in range(0, _BLOCK - 1000, 1000):
        block[i + rng.randrange(1000)] = rng.randrange(256)
    return bytes(block)


def padded_zip(folder: Path, megabytes: int) -> bytes:
    """The scenario folder under ``tiny/`` plus ``tiny/notes.bin`` of ``megabytes`` MiB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, f"tiny/{p.name}")
        with zf.open("tiny/notes.bin", "w", force_zip64=True) as out:
            for i in range(megabytes):
                out.write(padding_block(i))
    return buf.getvalue()


def alembic_config(url: str) -> Config:
    """An Alembic configuration of the packaged migrations against the database ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    return cfg
