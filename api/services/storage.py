"""The service's files on disk: where each resource lives, what an upload keeps, how much a
key keeps (its quota), removing a scenario's files, and what a killed server left behind.

- **What is kept**: of an uploaded folder only the files loading it reads
  (:func:`geodata.scenario.files_used`: ``scenario.toml`` and the tables and layers it
  names); anything else a zip carried is dropped before the folder is stored.
- **Quota**: the bytes of the scenarios a key stored count against
  ``PLANNER_STORAGE_QUOTA_BYTES``; an upload that would pass it answers 507 naming the quota
  and the usage.
- **Private files**: the data folder is 0700 and everything the service writes is created
  under the umask 077 (files 0600, folders 0700): they hold applicant data.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.core.errors import StorageFull
from api.core.settings import Settings
from api.db.models import JobRow, ScenarioRow
from api.db.session import private_sqlite
from geodata.scenario import files_used
from geodata.scenario_xlsx import SUFFIXES as WORKBOOK_SUFFIXES
from planner.i18n import N_

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
"""Files 0600, folders 0700."""
_PARTIAL = ".partial"


# --- where things live -----------------------------------------------------------------------


def scenario_dir(settings: Settings, scenario_id: str) -> Path:
    """Folder of an uploaded scenario (holding ``scenario.toml``, or the workbook)."""
    return settings.data_dir / "scenarios" / scenario_id


def plan_dir(settings: Settings, plan_id: str) -> Path:
    """Folder of a plan's outputs."""
    return settings.data_dir / "plans" / plan_id


def sweep_dir(settings: Settings, sweep_id: str) -> Path:
    """Folder of a sweep's outputs."""
    return settings.data_dir / "sweeps" / sweep_id


def job_log(settings: Settings, job_id: str) -> Path:
    """The log file of a job."""
    return settings.data_dir / "jobs" / f"{job_id}.log"


def new_id() -> str:
    """A fresh resource id (32 hex digits)."""
    return uuid.uuid4().hex


def scenario_source(settings: Settings, scenario_id: str) -> Path:
    """What the stages read of a stored scenario: its folder (``scenario.toml`` and the
    tables), or the workbook it was uploaded as (the one ``.xlsx`` in that folder)."""
    folder = scenario_dir(settings, scenario_id)
    if not folder.is_dir() or (folder / "scenario.toml").is_file():
        return folder  # (a folder that is gone: the stages say so)
    books = sorted(p for p in folder.iterdir() if p.suffix.lower() in WORKBOOK_SUFFIXES)
    return books[0] if books else folder


def partial_dir(final: Path, job_id: str) -> Path:
    """Where a job writes its result folder ``final`` before renaming it into place; the job's
    id in the name tells a restarted server whose it is (:func:`clean_partials`)."""
    return final.with_name(f"{final.name}.{job_id}{_PARTIAL}")


# --- what people may see of the service's texts ----------------------------------------------

_ABSOLUTE_PATH = re.compile(r"""(?<![\w.~])/(?:[^\s/'"]+/)+[^\s'",:;)\]]*""")
"""An absolute path on the server (two or more parts, ``/a/b``)."""


def public_text(text: str, settings: Settings) -> str:
    """A text for people without server paths (a job's error and log, a scenario's file
    named in a message): a place in the data folder is named from the folder on
    (``scenarios/ID``), any other absolute path reads ``…``."""
    for folder in (settings.data_dir.resolve(), settings.data_dir.absolute()):
        text = text.replace(f"{folder}/", "").replace(str(folder), "…")
    return _ABSOLUTE_PATH.sub("…", text)


def tail(path: Path, settings: Settings, lines: int = 50) -> list[str]:
    """The last ``lines`` lines of a text file (none when it does not exist), for people: no
    traceback line and no server path (:func:`public_text`)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    shown = [
        public_text(line, settings)
        for line in text.splitlines()
        if not line.startswith(("Traceback ", "  File ", "    "))
    ]
    return shown[-lines:]


# --- private files ---------------------------------------------------------------------------


def make_private(settings: Settings) -> None:
    """Create the data folder as 0700 (and make an existing one so) and the SQLite file 0600:
    nobody else on the machine may read the uploads, plans or the database."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings.data_dir.chmod(0o700)
    if settings.url.startswith("sqlite:///"):
        private_sqlite(Path(settings.url.removeprefix("sqlite:///")))


@contextmanager
def private_umask() -> Iterator[None]:
    """Everything created inside (by this process and the workers it starts) is 0600 / 0700,
    whatever the umask the service was started with; the old umask comes back afterwards."""
    old = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(old)


# --- what an upload keeps --------------------------------------------------------------------


def bytes_under(path: Path) -> int:
    """Bytes of the file ``path``, or of every file under the folder ``path`` (0 when gone)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def keep_used(source: Path) -> int:
    """Drop from an uploaded scenario folder every file loading it does not read; return the
    bytes left. A workbook (``source`` a file) is kept as it is."""
    if source.is_file():
        return source.stat().st_size
    used = set(files_used(source))
    dropped = 0
    for path in sorted(source.rglob("*"), reverse=True):  # children before their folders
        if path.is_symlink() or (path.is_file() and path.resolve() not in used):
            dropped += path.lstat().st_size
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    if dropped:
        log.info("upload: %d bytes of files the scenario does not name dropped", dropped)
    return bytes_under(source)


# --- quota -----------------------------------------------------------------------------------


def usage(session: Session, settings: Settings, key_id: int | None) -> int:
    """Bytes the scenarios stored with key ``key_id`` keep (a scenario stored before sizes
    were recorded is measured now, and its size recorded)."""
    rows = session.scalars(select(ScenarioRow).where(ScenarioRow.created_by == key_id)).all()
    unknown = [r for r in rows if r.stored_bytes is None]
    for r in unknown:
        r.stored_bytes = bytes_under(scenario_dir(settings, r.id))
    if unknown:
        session.commit()
    return sum(r.stored_bytes or 0 for r in rows)


def check_quota(session: Session, settings: Settings, key_id: int | None, adding: int) -> None:
    """Refuse (:class:`~api.core.errors.StorageFull`) when the key's stored scenarios and
    ``adding`` more bytes pass its quota (with ``adding`` = 0: when it is already full).

    Raises
    ------
    StorageFull
        Naming the quota, the usage and the upload's size (also as ``quota_bytes``,
        ``usage_bytes``, ``upload_bytes``).
    """
    quota = settings.storage_quota_bytes
    used = usage(session, settings, key_id)
    if used + adding <= quota and (adding or used < quota):
        return
    raise StorageFull(
        N_(
            "storage quota reached: this key's scenarios keep {used:,} bytes, this upload "
            "needs {adding:,} more and the quota is {quota:,} bytes per key "
            "(PLANNER_STORAGE_QUOTA_BYTES); delete scenarios that are no longer needed"
        ),
        extra={"quota_bytes": quota, "usage_bytes": used, "upload_bytes": adding},
        used=used,
        adding=adding,
        quota=quota,
    )


# --- removal ---------------------------------------------------------------------------------


def remove(paths: list[Path]) -> None:
    """Remove files and folders (those already gone are skipped)."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def clean_partials(settings: Settings, sessions: sessionmaker[Session]) -> int:
    """Remove the result folders a killed job left half-written (``ID.JOB.partial`` whose job
    does not run any more; an older ``ID.partial`` when it is empty). Run when the service
    starts, after abandoned jobs were re-queued; a job that another server runs right now
    keeps its folder. Returns how many were removed."""
    found = [
        p
        for kind in ("plans", "sweeps")
        if (settings.data_dir / kind).is_dir()
        for p in (settings.data_dir / kind).iterdir()
        if p.name.endswith(_PARTIAL) and p.is_dir()
    ]
    if not found:
        return 0
    owners = {p: p.name.removesuffix(_PARTIAL).partition(".")[2] for p in found}
    with sessions() as s:
        running = set(
            s.scalars(
                select(JobRow.id).where(
                    JobRow.id.in_([j for j in owners.values() if j]), JobRow.state == "running"
                )
            )
        )
    gone = [
        p
        for p, job in owners.items()
        if (job and job not in running) or (not job and not any(p.iterdir()))
    ]
    remove(gone)
    if gone:
        log.warning("removed %d result folder(s) left half-written by a stopped server", len(gone))
    return len(gone)
