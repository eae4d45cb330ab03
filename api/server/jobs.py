"""Jobs: a runner thread in the server starts one worker process per job.

The runner claims queued jobs (``state`` queued -> running, ``attempt`` + 1) and starts
``python -m api.server.job_worker JOB_ID ATTEMPT`` (:mod:`api.server.job_worker`). A worker of a plan job runs the stages
(allocation when the scenario has posts and applicants, routing when it has stations and
stops, then the map) and writes the plan folder atomically; a worker of a sweep job plans the
base and every variant (:func:`api.core.stages.run_sweep`) into a sweep folder the same way. It
records the outcome; every write is fenced by ``attempt``, so a worker of an earlier attempt
can never overwrite a later one. Workers die with the server (``PR_SET_PDEATHSIG``), so a
killed server leaves no orphan solving.

Cancelling kills the worker's process group; a job over its wall-time limit is killed and
failed. The runner renews a heartbeat on the jobs it runs; a ``running`` job whose heartbeat
is older than ``job_lease_seconds`` belongs to a server that is gone (stopped, killed, crashed),
so any runner - the restarted one, or another server on the same database - re-queues it once
(``interruptions`` = 1); a job interrupted twice is left ``interrupted``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Result, Update, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.core.settings import Settings
from api.db.models import JobRow, utcnow
from api.services import storage
from planner import i18n
from planner.i18n import N_

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

DEADLINE_FACTOR = 2.0
"""A job is killed after DEADLINE_FACTOR x time_limit + grace seconds of wall time (a sweep
job: DEADLINE_FACTOR x time_limit x its plans + grace)."""


def recover(
    sessions: sessionmaker[Session],
    note: Callable[[str, str], None] | None = None,
    lease_seconds: float = 0.0,
    mine: Collection[str] = (),
) -> tuple[int, int]:
    """Re-queue once the jobs whose server is gone; mark twice-interrupted ones.

    A job counts as abandoned when it is ``running`` and its heartbeat is older than
    ``lease_seconds`` (or missing), unless this runner runs it (``mine``).

    Parameters
    ----------
    sessions
        The database.
    note
        Called with (job id, message) for each job, e.g. to add a line to its log.
    lease_seconds
        How old a heartbeat must be.
    mine
        Jobs this runner runs.

    Returns
    -------
    tuple[int, int]
        Jobs re-queued, jobs marked interrupted for good.
    """
    requeued = interrupted = 0
    cutoff = utcnow() - timedelta(seconds=lease_seconds)
    stale = (JobRow.heartbeat_at.is_(None)) | (JobRow.heartbeat_at < cutoff)
    with sessions() as s:
        for job in s.scalars(select(JobRow).where(JobRow.state == "running", stale)):
            if job.id in mine:
                continue
            first, attempt = job.interruptions == 0, job.attempt  # before the update syncs job
            done = rowcount(
                s.execute(
                    fenced(job.id, job.attempt).values(
                        **(
                            {"state": "queued", "stage": "queued", "progress": 0.0}
                            if first
                            else {
                                "state": "interrupted",
                                "stage": "interrupted",
                                "error": _in(
                                    job.language,
                                    N_("interrupted by a server stop twice; not re-queued"),
                                ),
                                "finished_at": utcnow(),
                            }
                        ),
                        interruptions=job.interruptions + 1,
                    )
                )
            )
            if not done:  # renewed or finished meanwhile
                continue
            if first:
                requeued += 1
                message = f"attempt {attempt} interrupted by a server stop; re-queued once"
            else:
                interrupted += 1
                message = f"attempt {attempt} interrupted again; not re-queued"
            if note is not None:
                note(job.id, message)
        s.commit()
    if requeued or interrupted:
        log.warning("recovered jobs: %d re-queued, %d interrupted", requeued, interrupted)
    return requeued, interrupted


def _in(language: str | None, template: str, **fields: Any) -> str:
    """A message of a job, in the job's language (its files'), else the server's default."""
    return i18n.render(template, fields, i18n.choose(language))


def fenced(job_id: str, attempt: int) -> Update:
    return update(JobRow).where(
        JobRow.id == job_id, JobRow.attempt == attempt, JobRow.state == "running"
    )


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE matched (every UPDATE answers a CursorResult)."""
    return cast(CursorResult[Any], result).rowcount


@dataclass
class _Running:
    job_id: str
    attempt: int
    proc: subprocess.Popen[bytes]
    deadline: float
    limit: float


class JobRunner:
    """Starts worker processes for queued jobs and watches them (one per server)."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self._running: dict[str, _Running] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        """Whether the runner thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Recover abandoned jobs and start the runner thread."""
        self._recover()
        storage.clean_partials(self.settings, self.sessions)  # what a killed server left
        self._thread = threading.Thread(target=self._loop, name="job-runner", daemon=True)
        self._thread.start()

    def _recover(self) -> None:
        with self._lock:
            mine = set(self._running)
        recover(self.sessions, self._note, self.settings.job_lease_seconds, mine)

    def _note(self, job_id: str, message: str) -> None:
        path = storage.job_log(self.settings, job_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(f"{utcnow():%Y-%m-%d %H:%M:%S} WARNING api.server.jobs: {message}\n")

    def stop(self) -> None:
        """Stop the thread and kill the workers; their jobs stay ``running`` (re-queued on start)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            for r in self._running.values():
                _kill(r.proc)
            self._running.clear()

    def wake(self) -> None:
        """Look for work now (after a job was queued or cancelled)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:  # keep the runner alive; the error is logged
                log.exception("job runner tick failed")
            self._wake.wait(self.settings.poll_seconds)
            self._wake.clear()

    def _tick(self) -> None:
        with self.sessions() as s:
            self._reap(s)
            with self._lock:
                alive = [r.job_id for r in self._running.values()]
            if alive:  # renew the lease of the jobs this server runs
                s.execute(
                    update(JobRow)
                    .where(JobRow.id.in_(alive), JobRow.state == "running")
                    .values(heartbeat_at=utcnow())
                )
                s.commit()
            self._recover()
            self._claim(s)

    def _fail(self, s: Session, job_id: str, attempt: int, error: str) -> None:
        s.execute(fenced(job_id, attempt).values(state="failed", error=error, finished_at=utcnow()))
        s.commit()

    def _reap(self, s: Session) -> None:
        """Kill the workers of jobs cancelled or re-run elsewhere and of jobs over their
        wall-time limit; record the end of every worker that ended."""
        now = time.monotonic()
        with self._lock:
            ids = list(self._running)
        rows = s.execute(
            select(JobRow.id, JobRow.state, JobRow.attempt, JobRow.language).where(
                JobRow.id.in_(ids)
            )
        ).all()
        states = {job_id: (state, attempt) for job_id, state, attempt, _ in rows}
        languages = {job_id: language for job_id, *_, language in rows}
        for job_id in ids:
            r = self._running[job_id]
            code = r.proc.poll()
            if code is None and states.get(job_id) != ("running", r.attempt):
                log.info("job %s is %s; killing its worker", job_id, states.get(job_id))
                _kill(r.proc)
                code = r.proc.wait()
            elif code is None and now > r.deadline:
                _kill(r.proc)
                r.proc.wait()
                error = _in(
                    languages.get(job_id),
                    N_("killed: the job exceeded its wall-time limit of {seconds:.0f} s"),
                    seconds=r.limit,
                )
                self._fail(s, job_id, r.attempt, error)
                code = -9
            if code is not None:
                if code != 0:
                    error = _in(
                        languages.get(job_id),
                        N_("the worker process ended with exit code {code}"),
                        code=code,
                    )
                    self._fail(s, job_id, r.attempt, error)
                with self._lock:
                    del self._running[job_id]

    def _claim(self, s: Session) -> None:
        """Claim queued jobs, oldest first, while a worker is free; start each."""
        while len(self._running) < self.settings.workers and not self._stop.is_set():
            job = s.scalars(
                select(JobRow).where(JobRow.state == "queued").order_by(JobRow.created_at)
            ).first()
            if job is None:
                break
            attempt = job.attempt + 1
            claimed = rowcount(
                s.execute(
                    update(JobRow)
                    .where(JobRow.id == job.id, JobRow.state == "queued")
                    .values(
                        state="running",
                        stage="starting",
                        attempt=attempt,
                        started_at=utcnow(),
                        heartbeat_at=utcnow(),
                        progress=0.0,
                    )
                )
            )
            s.commit()
            if claimed:
                self._launch(job.id, attempt, job.time_limit * _plans(job))

    def _launch(self, job_id: str, attempt: int, time_limit: float) -> None:
        env = dict(os.environ)
        env["PLANNER_DATA_DIR"] = str(self.settings.data_dir.resolve())
        env["PLANNER_DATABASE_URL"] = self.settings.url
        env["PLANNER_WORKER_NICE"] = str(self.settings.worker_nice)
        env.pop("PLANNER_ROADS_DIR", None)
        if self.settings.roads_dir is not None:
            env["PLANNER_ROADS_DIR"] = str(self.settings.roads_dir.resolve())
        env["PLANNER_PARENT_PID"] = str(os.getpid())
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.server.job_worker", job_id, str(attempt)],
            env=env,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
        )
        limit = DEADLINE_FACTOR * time_limit + self.settings.job_grace_seconds
        with self._lock:
            self._running[job_id] = _Running(job_id, attempt, proc, time.monotonic() + limit, limit)
        log.info("job %s attempt %d: worker pid %d", job_id, attempt, proc.pid)


def _plans(job: JobRow) -> int:
    """Plans a job solves one after another at worst: a sweep's base and variants, else one
    (whose stages its time limit covers)."""
    if job.kind == "sweep":
        return max(1, int((job.options or {}).get("plans", 1)))
    return 1


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
