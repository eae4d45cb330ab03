"""A throwaway PostgreSQL cluster for one test session, unless PLANNER_TEST_POSTGRES_URL names
a server: ``initdb`` into a temporary folder, a server on a free loopback port, stopped and
removed when the session ends (conftest.py). Started on first use, so a run without
PostgreSQL tests does not pay for it (about 2 s).

``initdb`` and ``postgres`` refuse to run as root: under root the cluster's processes run as
the unprivileged user ``postgres`` (else ``nobody``), with its folder handed to that user.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from tests.support import deps

ENV = "PLANNER_TEST_POSTGRES_URL"
"""An existing server's URL (its user may create databases): used instead of a cluster."""
ROLE = "planner"
"""The cluster's superuser (it creates and drops the tests' databases)."""
FAST = "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
"""Throwaway data: no need to survive a power cut."""


def _owner() -> pwd.struct_passwd | None:
    """The user the cluster runs as when we are root; None: ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and no user 'postgres' or 'nobody' to run PostgreSQL")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Cluster:
    """One initdb'd cluster with a running server; ``url`` to connect as ROLE."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.owner = _owner()
        self.root = Path(tempfile.mkdtemp(prefix="westplan-pg-"))
        self.data = self.root / "data"
        self.url = ""

    def start(self) -> None:
        """initdb, then the server on a free loopback port; sets ``url``."""
        password = secrets.token_hex(16)
        (self.root / "pw").write_text(password + "\n")
        if self.owner is not None:
            for p in (self.root, self.root / "pw"):
                os.chown(p, self.owner.pw_uid, self.owner.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", ROLE, f"--pwfile={self.root / 'pw'}",
            "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        for attempt in range(3):  # another process may take the free port first
            self.port = _free_port()
            options = (
                f"-p {self.port} -c listen_addresses=127.0.0.1"
                f" -c unix_socket_directories={self.root} {FAST}"
            )
            log = str(self.root / "server.log")
            started = self._run(
                "pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start", check=False
            )
            if started.returncode == 0:
                break
            if attempt == 2:
                raise RuntimeError(
                    f"PostgreSQL did not start: {started.stdout}{started.stderr}"
                    f"{(self.root / 'server.log').read_text()[-2000:]}"
                )
        self.url = f"postgresql+psycopg://{ROLE}:{password}@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        user = {}
        if self.owner is not None:
            user = {"user": self.owner.pw_uid, "group": self.owner.pw_gid, "extra_groups": []}
        return subprocess.run(
            [str(self.bindir / tool), *args],
            cwd=self.root,
            env={**os.environ, "LC_ALL": "C"},
            capture_output=True,
            text=True,
            check=check,
            **user,  # type: ignore[arg-type]
        )

    def remove(self) -> None:
        """Stop the server and delete the cluster's folder."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


_cluster: Cluster | None = None


def url() -> str:
    """PLANNER_TEST_POSTGRES_URL when set, else the session's throwaway cluster (started now
    if need be; the test is skipped, or failed under CI, when PostgreSQL is not installed)."""
    global _cluster
    given = os.environ.get(ENV)
    if given:
        return given
    if _cluster is None:
        deps.require("postgresql")
        bindir = deps.postgres_bindir()
        assert bindir is not None
        cluster = Cluster(bindir)
        try:
            cluster.start()
        except BaseException:
            cluster.remove()
            raise
        _cluster = cluster
        # pg_dump and pg_restore (planner backup) of the server's own version
        os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"
    return _cluster.url


def remove() -> None:
    """Remove the throwaway cluster, if one was started."""
    global _cluster
    if _cluster is not None:
        _cluster.remove()
        _cluster = None
