"""A job's worker process: ``python -m api.server.job_worker JOB_ID ATTEMPT``, started by
:class:`api.server.jobs.JobRunner`.

It claims nothing itself: it reads the job the runner claimed for this attempt, runs its
stages (a plan, or a sweep's base and variants) into a partial folder, moves the folder into
place and records the outcome, every write fenced by the attempt
(:func:`api.server.jobs.fenced`). It dies with the server (``PR_SET_PDEATHSIG``), and so do
the processes its solvers fork.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from api.core.settings import Settings
from api.db.models import JobRow, PlanRow, SweepRow, utcnow
from api.server.jobs import fenced, rowcount
from api.services import storage
from planner import i18n
from planner.i18n import N_

if TYPE_CHECKING:
    from api.core.stages import OnStage

log = logging.getLogger(__name__)


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


def _log_to(logfile: Path) -> None:
    """Send this process's log to the job's log file (for people: no traceback) and its
    errors to the server's log (the operator's)."""
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


def _claimed_job(
    sessions: sessionmaker[Session], settings: Settings, job_id: str, attempt: int
) -> _Job | None:
    """The job's row as the worker needs it, None when this attempt is not this worker's to
    run (cancelled, re-queued, taken by another)."""
    with sessions() as s:
        row = s.get(JobRow, job_id)
        if row is None or row.attempt != attempt or row.state != "running":
            return None
        return _Job(
            row.id,
            row.scenario_id,
            row.kind,
            row.time_limit,
            storage.plan_dir(settings, row.previous_plan_id) if row.previous_plan_id else None,
            dict(row.options or {}),
            row.language,
            storage.plan_dir(settings, row.options["baseline_plan_id"])
            if row.options and row.options.get("baseline_plan_id")
            else None,
            settings.roads_dir,
        )


def _record_success(
    sessions: sessionmaker[Session], job_id: str, attempt: int, made: _Made, final: Path
) -> None:
    """Mark the job succeeded with its result's row, unless it was cancelled or re-run
    meanwhile (then its result is discarded)."""
    with sessions() as s:
        done = rowcount(
            s.execute(
                fenced(job_id, attempt).values(
                    state="succeeded",
                    stage="done",
                    progress=100.0,
                    language=made.language,  # what the files were written in
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


def _failure(exc: Exception, job_id: str, language: str | None, settings: Settings) -> str:
    """What a failed job's ``error`` says, for people in the job's language and without
    server paths (an unexpected error's traceback goes to the operator's log only)."""
    from api.core.errors import ServiceError
    from planner.issues import ScenarioError
    from planner.sweep import VaryError

    if isinstance(exc, ScenarioError):
        with i18n.speaking(i18n.choose(language)):
            message = f"{i18n._(exc.message)}: " + "; ".join(
                f"{i.where()}: {i.message}" for i in exc.report.errors[:5]
            )
    elif isinstance(exc, VaryError | ServiceError):
        message = exc.text.render(i18n.choose(language))
    else:
        log.error("job %s failed:\n%s", job_id, traceback.format_exc(), extra={OPERATOR_ONLY: True})
        with i18n.speaking(i18n.choose(language)):
            message = i18n._(UNEXPECTED, job=job_id)
    return storage.public_text(message, settings)  # a scenario's file: no server path


def work(job_id: str, attempt: int, settings: Settings | None = None) -> int:
    """Run one claimed job to its end; return the process exit status."""
    from api.db.session import make_engine, session_factory
    from planner import workers

    settings = settings or Settings()
    os.nice(settings.worker_nice)  # the server's requests come before solving
    engine = make_engine(settings.url)
    sessions = session_factory(engine)
    _log_to(storage.job_log(settings, job_id))
    job = _claimed_job(sessions, settings, job_id, attempt)
    if job is None:
        log.warning("job %s attempt %d is not mine to run; exiting", job_id, attempt)
        return 0
    language = job.language
    per = "plan" if job.kind == "sweep" else "stage"
    started = "%s job %s attempt %d started (time limit %.0f s per %s)"
    log.info(started, job.kind, job_id, attempt, job.time_limit, per)

    def on_stage(stage: str, progress: float) -> None:
        log.info("stage %s", stage)
        with sessions() as s:
            s.execute(fenced(job_id, attempt).values(stage=stage, progress=progress))
            s.commit()

    result_id = storage.new_id()
    final = (storage.sweep_dir if job.kind == "sweep" else storage.plan_dir)(settings, result_id)
    partial = storage.partial_dir(final, job_id)
    scheduler = None
    try:
        # PLANNER_DASK_SCHEDULER: the job's tasks (counties, allocation parts, a sweep's
        # variants) run on that Dask cluster; this process stays the job's owner and writes
        # its row and folder
        scheduler = workers.from_environment()
        if os.environ.get(workers.ENV):
            log.info("tasks run on the Dask scheduler %s", scheduler)
        source = storage.scenario_source(settings, job.scenario_id)
        with workers.using(scheduler):
            made = _KINDS[job.kind](job, source, partial, result_id, on_stage)
        language = made.language
        final.parent.mkdir(parents=True, exist_ok=True)
        partial.rename(final)
        _record_success(sessions, job_id, attempt, made, final)
        return 0
    except Exception as exc:
        shutil.rmtree(partial, ignore_errors=True)
        message = _failure(exc, job_id, language, settings)
        log.error("job %s failed: %s", job_id, message)
        with sessions() as s:
            s.execute(
                fenced(job_id, attempt).values(
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
    """``python -m api.server.job_worker JOB_ID ATTEMPT`` (started by :class:`JobRunner`)."""
    _die_with_parent()
    os.umask(storage.PRIVATE_UMASK)  # the plan's files hold applicant data: 0600 / 0700
    return work(argv[0], int(argv[1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
