"""Jobs: a runner thread in the server starts one worker process per job.

The runner claims queued jobs (``state`` queued -> running, ``attempt`` + 1) and starts
``python -m api.server.jobs JOB_ID ATTEMPT``. A worker of a plan job runs the stages
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
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Result, Update, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.core.settings import Settings
from api.db.models import JobRow, PlanRow, SweepRow, utcnow
from api.server import storage
from planner import i18n
from planner.i18n import N_

if TYPE_CHECKING:
    from api.core.stages import OnStage

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
            done = _rowcount(
                s.execute(
                    _fenced(job.id, job.attempt).values(
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


def _fenced(job_id: str, attempt: int) -> Update:
    return update(JobRow).where(
        JobRow.id == job_id, JobRow.attempt == attempt, JobRow.state == "running"
    )


def _rowcount(result: Result[Any]) -> int:
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
        from api.server.store import job_log

        path = job_log(self.settings, job_id)
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
        now = time.monotonic()
        with self.sessions() as s:
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
                    s.execute(
                        _fenced(job_id, r.attempt).values(
                            state="failed",
                            error=_in(
                                languages.get(job_id),
                                N_(
                                    "killed: the job exceeded its wall-time limit of {seconds:.0f} s"
                                ),
                                seconds=r.limit,
                            ),
                            finished_at=utcnow(),
                        )
                    )
                    s.commit()
                    code = -9
                if code is not None:
                    if code != 0:
                        s.execute(
                            _fenced(job_id, r.attempt).values(
                                state="failed",
                                error=_in(
                                    languages.get(job_id),
                                    N_("the worker process ended with exit code {code}"),
                                    code=code,
                                ),
                                finished_at=utcnow(),
                            )
                        )
                        s.commit()
                    with self._lock:
                        del self._running[job_id]
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
            while len(self._running) < self.settings.workers and not self._stop.is_set():
                job = s.scalars(
                    select(JobRow).where(JobRow.state == "queued").order_by(JobRow.created_at)
                ).first()
                if job is None:
                    break
                attempt = job.attempt + 1
                claimed = _rowcount(
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
            [sys.executable, "-m", "api.server.jobs", job_id, str(attempt)],
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


# --- the worker process ----------------------------------------------------------------------


def _pdeathsig() -> None:
    """Ask Linux to kill this process (SIGKILL) when its parent dies."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _die_with_parent() -> None:
    """Die with the server; so do processes the solvers fork (e.g. a routing process pool)."""
    parent = int(os.environ.get("PLANNER_PARENT_PID", "0"))
    if sys.platform.startswith("linux"):
        _pdeathsig()
        os.register_at_fork(after_in_child=_pdeathsig)
    if parent and os.getppid() != parent:
        os._exit(3)


@dataclass(frozen=True, slots=True)
class _Job:
    """What a worker needs of its job's row."""

    id: str
    scenario_id: str
    kind: str
    time_limit: float
    previous: Path | None
    """The folder of the plan a re-plan starts from."""
    options: dict[str, Any]
    language: str | None
    baseline: Path | None = None
    """The folder of the plan the pins were set on (``options["baseline_plan_id"]``)."""
    roads_dir: Path | None = None
    """``PLANNER_ROADS_DIR``: where the network named by ``options["roads"]`` is."""


@dataclass(frozen=True, slots=True)
class _Made:
    """What a job made: the row of its result, the job's columns naming it, the language its
    files were written in and a line for the log."""

    row: PlanRow | SweepRow
    ids: dict[str, str]
    language: str
    what: str


def _plan(job: _Job, source: Path, out: Path, result_id: str, on_stage: OnStage) -> _Made:
    """A plan job: the stages into the plan folder ``out``."""
    from api.core.stages import StageOptions, run_stages
    from planner.plan import AllocationParams
    from planner.route_plan import RoutingParams

    pins = None
    if job.options.get("pins"):
        import pandas as pd

        from planner.pins import PIN_COLUMNS, Pins

        pins = Pins.from_frame(pd.DataFrame(job.options["pins"], columns=PIN_COLUMNS), "pins")
    options = StageOptions(
        allocation=AllocationParams(time_limit=job.time_limit),
        routing=RoutingParams(time_limit=job.time_limit, roads=_roads(job, source)),
        previous=job.previous,
        pins=pins,
        baseline=job.baseline,
        language=job.language,
    )
    outcome = run_stages(source, out, options, on_stage)
    stages = ",".join(outcome.solved)
    row = PlanRow(id=result_id, scenario_id=job.scenario_id, job_id=job.id, stages=stages)
    return _Made(row, {"plan_id": result_id}, outcome.language, f"plan {result_id} ({stages})")


def _roads(job: _Job, source: Path) -> Path | None:
    """The graph folder of the job's ``roads`` option (a network's name, resolved only here
    and when the job was queued); a scenario's own ``[routing] roads`` must lie inside it."""
    from api.core import roads

    roads.confined(source)
    name = job.options.get("roads")
    return roads.resolve(job.roads_dir, str(name)) if name else None


def _sweep(job: _Job, source: Path, out: Path, result_id: str, on_stage: OnStage) -> _Made:
    """A sweep job: the base and every variant of its ``vary`` into the sweep folder ``out``."""
    from api.core.stages import run_sweep
    from planner.plan import AllocationParams
    from planner.sweep import Vary

    axes = [Vary.parse(v) for v in job.options["vary"]]
    params = AllocationParams(time_limit=job.time_limit)
    outcome = run_sweep(source, axes, out, params, on_stage, job.language)
    variants = len(outcome.sweep.changes) - 1
    row = SweepRow(id=result_id, scenario_id=job.scenario_id, job_id=job.id, variants=variants)
    what = f"sweep {result_id} ({variants} variants)"
    return _Made(row, {"sweep_id": result_id}, outcome.language, what)


OPERATOR_ONLY = "operator_only"
"""A log record with this attribute set goes to the server's log only, never to the job's
log that the office reads (a traceback: server paths and code)."""
UNEXPECTED = N_(
    "the job stopped because of an error in the planner, not in the scenario; the operator "
    "of the service finds the details in the server log under job {job}"
)
"""A failed job's error when the cause is no problem of the scenario or of the request."""


def _for_people(record: logging.LogRecord) -> bool:
    """Whether a log record may go to the job's log (no traceback, nothing operator-only)."""
    return not getattr(record, OPERATOR_ONLY, False) and record.exc_info is None


_KINDS = {"plan": _plan, "sweep": _sweep}
"""What each kind of job runs."""


def work(job_id: str, attempt: int, settings: Settings | None = None) -> int:
    """Run one claimed job to its end; return the process exit status."""
    from api.core.errors import ServiceError
    from api.db.session import make_engine, session_factory
    from api.server.storage import partial_dir
    from api.server.store import (
        job_log,
        new_id,
        plan_dir,
        public_text,
        scenario_source,
        sweep_dir,
    )
    from planner import workers
    from planner.issues import ScenarioError
    from planner.sweep import VaryError

    settings = settings or Settings()
    os.nice(settings.worker_nice)  # the server's requests come before solving
    engine = make_engine(settings.url)
    sessions = session_factory(engine)
    logfile = job_log(settings, job_id)
    logfile.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(logfile, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_for_people)  # the job's log is shown to the office (its last lines)
    operator = logging.StreamHandler(sys.stderr)  # the server's log: the operator's
    operator.setLevel(logging.ERROR)
    operator.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.addHandler(operator)
    root.setLevel(logging.INFO)
    with sessions() as s:
        row = s.get(JobRow, job_id)
        if row is None or row.attempt != attempt or row.state != "running":
            log.warning("job %s attempt %d is not mine to run; exiting", job_id, attempt)
            return 0
        job = _Job(
            row.id,
            row.scenario_id,
            row.kind,
            row.time_limit,
            plan_dir(settings, row.previous_plan_id) if row.previous_plan_id else None,
            dict(row.options or {}),
            row.language,
            plan_dir(settings, row.options["baseline_plan_id"])
            if row.options and row.options.get("baseline_plan_id")
            else None,
            settings.roads_dir,
        )
    language = job.language
    log.info(
        "%s job %s attempt %d started (time limit %.0f s per %s)",
        job.kind,
        job_id,
        attempt,
        job.time_limit,
        "plan" if job.kind == "sweep" else "stage",
    )

    def on_stage(stage: str, progress: float) -> None:
        log.info("stage %s", stage)
        with sessions() as s:
            s.execute(_fenced(job_id, attempt).values(stage=stage, progress=progress))
            s.commit()

    result_id = new_id()
    final = (sweep_dir if job.kind == "sweep" else plan_dir)(settings, result_id)
    partial = partial_dir(final, job_id)
    scheduler = None
    try:
        # PLANNER_DASK_SCHEDULER: the job's tasks (counties, allocation parts, a sweep's
        # variants) run on that Dask cluster; this process stays the job's owner and writes
        # its row and folder
        scheduler = workers.from_environment()
        if os.environ.get(workers.ENV):
            log.info("tasks run on the Dask scheduler %s", scheduler)
        source = scenario_source(settings, job.scenario_id)
        with workers.using(scheduler):
            made = _KINDS[job.kind](job, source, partial, result_id, on_stage)
        language = made.language
        final.parent.mkdir(parents=True, exist_ok=True)
        partial.rename(final)
        with sessions() as s:
            done = _rowcount(
                s.execute(
                    _fenced(job_id, attempt).values(
                        state="succeeded",
                        stage="done",
                        progress=100.0,
                        language=language,  # what the files were written in
                        finished_at=utcnow(),
                        **made.ids,
                    )
                )
            )
            if done:
                s.add(made.row)
            s.commit()
        if not done:
            log.warning("job %s was cancelled or re-run meanwhile; %s discarded", job_id, made.what)
            shutil.rmtree(final, ignore_errors=True)
        else:
            log.info("job %s succeeded: %s", job_id, made.what)
        return 0
    except Exception as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(exc, ScenarioError):
            with i18n.speaking(i18n.choose(language)):
                message = f"{i18n._(exc.message)}: " + "; ".join(
                    f"{i.where()}: {i.message}" for i in exc.report.errors[:5]
                )
        elif isinstance(exc, VaryError | ServiceError):
            message = exc.text.render(i18n.choose(language))
        else:
            log.error(
                "job %s failed:\n%s", job_id, traceback.format_exc(), extra={OPERATOR_ONLY: True}
            )
            with i18n.speaking(i18n.choose(language)):
                message = i18n._(UNEXPECTED, job=job_id)
        message = public_text(message, settings)  # a scenario's file: no server path
        log.error("job %s failed: %s", job_id, message)
        with sessions() as s:
            s.execute(
                _fenced(job_id, attempt).values(
                    state="failed", error=message.rstrip(": "), finished_at=utcnow()
                )
            )
            s.commit()
        return 0
    finally:
        if scheduler is not None:
            scheduler.close()
        engine.dispose()


def main(argv: list[str]) -> int:
    """``python -m api.server.jobs JOB_ID ATTEMPT`` (started by :class:`JobRunner`)."""
    _die_with_parent()
    os.umask(storage.PRIVATE_UMASK)  # the plan's files hold applicant data: 0600 / 0700
    return work(argv[0], int(argv[1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
