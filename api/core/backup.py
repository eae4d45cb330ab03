"""Backups of the service: a consistent copy of the database and the data folder, and back.

``planner backup DIR`` works while the server runs and jobs write:

1. the database first, as one consistent snapshot: SQLite's online backup API
   (:meth:`sqlite3.Connection.backup`, which copies the pages of one read transaction) or
   ``pg_dump --format=custom`` for PostgreSQL (one transaction snapshot);
2. then the files: uploaded scenarios, finished plans and sweeps, job logs and ``secret.key``
   (so signed map links stay valid). A plan's (a sweep's) folder is renamed into place before
   its row is written, so every plan in the snapshot has its folder complete by then; half-written files
   (``*.partial`` folders, ``*.tmp`` files) are left out;
3. ``manifest.json``: the database kind, the schema revision and the SHA-256 of every file.

``planner restore DIR`` checks every file against the manifest (all mismatches reported at
once), then writes the database and the files into the configured, empty, data folder and
database. Jobs that were running in the snapshot are re-queued by the restored server (their
heartbeat is old; see ``docs/api.md``). The backup holds ``secret.key`` and the keys' digests:
its folder is created readable by its owner only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from api.core.settings import Settings
from api.db.models import utcnow
from planner.i18n import _

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
SQLITE_FILE = "planner.db"
PG_FILE = "planner.pgdump"
DATA = "data"
FOLDERS = ("scenarios", "plans", "sweeps", "jobs")
"""Folders of the data directory that are copied (``tmp/`` holds only unfinished uploads)."""
FILES = ("secret.key",)


class BackupProblem(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do (in the
    language of the moment)."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a backup holds."""

    created_at: str
    database: str
    revision: str | None
    files: dict[str, str]
    """Path inside the backup -> SHA-256."""

    def to_json(self) -> str:
        """The manifest as written to ``manifest.json``."""
        return json.dumps(
            {
                "created_at": self.created_at,
                "database": self.database,
                "revision": self.revision,
                "files": self.files,
            },
            indent=1,
            sort_keys=True,
        )

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """Read ``folder/manifest.json``."""
        path = folder / MANIFEST
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return cls(data["created_at"], data["database"], data["revision"], data["files"])
        except (OSError, ValueError, KeyError) as exc:
            raise BackupProblem(
                _(
                    "{path}: not a backup manifest ({problem}); expected a folder written by "
                    "`planner backup`",
                    path=path,
                    problem=exc,
                )
            ) from None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _kind(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return "sqlite"
    if url.get_backend_name() == "postgresql":
        return "postgresql"
    raise BackupProblem(
        _("database {kind!r}; expected SQLite or PostgreSQL", kind=url.get_backend_name())
    )


def _pg_env(url: URL) -> dict[str, str]:
    """libpq variables for ``url`` (the password never appears on a command line)."""
    env = dict(os.environ)
    for var, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[var] = str(value)
    return env


def _run(cmd: list[str], url: URL) -> None:
    tool = shutil.which(cmd[0])
    if tool is None:
        raise BackupProblem(_("{tool} not found; install PostgreSQL's client tools", tool=cmd[0]))
    done = subprocess.run(
        [tool, *cmd[1:]], env=_pg_env(url), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupProblem(
            _("{tool} failed: {problem}", tool=cmd[0], problem=done.stderr.strip()[-2000:])
        )


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def _copy_tree(src: Path, dest: Path) -> None:
    """Copy finished files of ``src`` into ``dest`` (no ``*.partial`` folder, no ``*.tmp``)."""
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not d.endswith(".partial"))
        target = dest / Path(root).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for name in sorted(files):
            if name.endswith(".tmp"):
                continue
            try:
                shutil.copy2(Path(root) / name, target / name)
            except FileNotFoundError:  # a cache file replaced while we walked
                continue


def backup(settings: Settings, dest: Path) -> Manifest:
    """Write a consistent copy of the database and the data folder into ``dest``.

    Raises
    ------
    BackupProblem
        If ``dest`` is not empty, the database is neither SQLite nor PostgreSQL, or
        ``pg_dump`` fails.
    """
    url = make_url(settings.url)
    kind = _kind(url)
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupProblem(_("{folder} is not empty; back up into a new folder", folder=dest))
    dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o700)
    if kind == "sqlite":
        source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
        copy = sqlite3.connect(dest / SQLITE_FILE)
        try:
            with copy:
                source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
        finally:
            copy.close()
            source.close()
        revision = _revision(f"sqlite:///{dest / SQLITE_FILE}")
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={dest / PG_FILE}"], url)
        revision = _revision(settings.url)
    data = settings.data_dir
    for name in FOLDERS:
        if (data / name).is_dir():
            _copy_tree(data / name, dest / DATA / name)
    for name in FILES:
        if (data / name).is_file():
            (dest / DATA).mkdir(exist_ok=True)
            shutil.copy2(data / name, dest / DATA / name)
    files = {
        p.relative_to(dest).as_posix(): _sha256(p)
        for p in sorted(dest.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    manifest = Manifest(utcnow().isoformat(), kind, revision, files)
    (dest / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    log.info("backup of %s (%d files) in %s", kind, len(files), dest)
    return manifest


def verify(source: Path) -> Manifest:
    """The manifest of a backup whose every file matches it.

    Raises
    ------
    BackupProblem
        Naming every missing, changed or unlisted file.
    """
    manifest = Manifest.read(source)
    problems = []
    for rel, digest in manifest.files.items():
        path = source / rel
        if not path.is_file():
            problems.append(_("{file}: missing", file=rel))
        elif _sha256(path) != digest:
            problems.append(_("{file}: changed since the backup (SHA-256 differs)", file=rel))
    listed = set(manifest.files) | {MANIFEST}
    problems += [
        _("{file}: not in the manifest", file=p.relative_to(source).as_posix())
        for p in sorted(source.rglob("*"))
        if p.is_file() and p.relative_to(source).as_posix() not in listed
    ]
    if problems:
        raise BackupProblem(
            _(
                "{folder} does not match its manifest: {problems}",
                folder=source,
                problems="; ".join(problems),
            )
        )
    return manifest


def restore(settings: Settings, source: Path) -> Manifest:
    """Bring a backup back into the configured (empty) data folder and database.

    Raises
    ------
    BackupProblem
        If the backup does not match its manifest, its database kind differs from the
        configured one, or the data folder or database already holds a service.
    """
    source = Path(source)
    manifest = verify(source)
    url = make_url(settings.url)
    kind = _kind(url)
    if kind != manifest.database:
        raise BackupProblem(
            _(
                "the backup holds a {found} database; PLANNER_DATABASE_URL names {kind}: "
                "restore into the same kind (or move the data with pg_dump/pg_restore)",
                found=manifest.database,
                kind=kind,
            )
        )
    data = settings.data_dir
    present = [n for n in (*FOLDERS, *FILES, SQLITE_FILE) if (data / n).exists()]
    if present:
        raise BackupProblem(
            _(
                "{folder} already holds {present}; restore into an empty data folder "
                "(PLANNER_DATA_DIR)",
                folder=data,
                present=", ".join(present),
            )
        )
    if kind == "sqlite":
        target = Path(str(url.database))
        if target.exists():
            raise BackupProblem(_("{file} exists; restore into a new database file", file=target))
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = sqlite3.connect(f"file:{source / SQLITE_FILE}?mode=ro", uri=True)
        into = sqlite3.connect(target)
        try:
            with into:
                copy.backup(into)
        finally:
            into.close()
            copy.close()
    else:
        if _revision(settings.url) is not None:
            raise BackupProblem(
                _(
                    "database {name!r} already holds the service's tables; restore into an "
                    "empty database",
                    name=url.database,
                )
            )
        _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={url.database}",
              str(source / PG_FILE)], url)  # fmt: skip
    data.mkdir(parents=True, exist_ok=True)
    if (source / DATA).is_dir():
        shutil.copytree(source / DATA, data, dirs_exist_ok=True)
    if (data / "secret.key").is_file():
        (data / "secret.key").chmod(0o600)
    log.info("restored %s backup of %s into %s", kind, manifest.created_at, data)
    return manifest
