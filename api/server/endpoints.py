"""The routes of ``/api/v1`` for scenarios and jobs, the health checks and the browser index
page (plans, sweeps and the audit trail: :mod:`api.server.plan_endpoints`).

Each route parses its request, calls the services (:mod:`api.services`) and shapes the
answer; none touches the database or the solver directly. A service's domain error reaches
the client through the one handler of :func:`api.server.app.create_app`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse

from api.core.settings import Settings
from api.db.models import JobRow
from api.server.common import ERRORS, link, scenario_public
from api.server.deps import (
    AuditNote,
    AuthFirst,
    CallerDep,
    OfficeDep,
    RunnerDep,
    SessionDep,
    SettingsDep,
    audited,
)
from api.server.schemas import (
    Health,
    JobCreate,
    JobCreated,
    JobPublic,
    Problem,
    ScenarioCreated,
    ScenarioDeleted,
    ScenarioDetail,
    ScenarioPublic,
    SweepCreate,
)
from api.server.templating import render_template
from api.services import health, jobs, plans, scenarios, scope, storage
from api.services.uploads import Upload
from planner import i18n

api = APIRouter(prefix="/api/v1", route_class=AuthFirst)
root = APIRouter()


def _job(settings: Settings, job: JobRow) -> JobPublic:
    return JobPublic(
        id=job.id,
        scenario_id=job.scenario_id,
        kind=job.kind,  # type: ignore[arg-type]
        state=job.state,  # type: ignore[arg-type]
        progress=job.progress,
        stage=job.stage,
        plan_id=job.plan_id,
        sweep_id=job.sweep_id,
        vary=(job.options or {}).get("vary") if job.kind == "sweep" else None,
        previous_plan_id=job.previous_plan_id,
        error=storage.public_text(job.error, settings) if job.error else None,
        time_limit=job.time_limit,
        attempt=job.attempt,
        interruptions=job.interruptions,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        log=storage.tail(storage.job_log(settings, job.id), settings),
    )


# --- scenarios -------------------------------------------------------------------------------


@api.post(
    "/scenarios",
    status_code=201,
    response_model=ScenarioCreated,
    responses={
        **ERRORS,
        200: {
            "model": ScenarioCreated,
            "description": "The same bytes were uploaded before: the scenario the key already "
            "has, with `existing` true (nothing stored).",
        },
        400: {"model": Problem, "description": "Unsafe zip (absolute or '..' paths, zip bomb)."},
        413: {"model": Problem, "description": "Upload or a table too large."},
        507: {"model": Problem, "description": "The key's storage quota is reached."},
        415: {"model": Problem, "description": "Not a zip, or not a readable .xlsx workbook."},
        422: {"model": Problem, "description": "Invalid scenario, with the full report."},
    },
)
def upload_scenario(
    note: Annotated[AuditNote, Depends(audited("upload"))],
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    who: OfficeDep,
    file: Annotated[
        UploadFile | None, File(description="The scenario as a .zip or an .xlsx workbook.")
    ] = None,
    files: Annotated[
        list[UploadFile] | None,
        File(description="Or the contract's files one by one (scenario.toml, *.csv)."),
    ] = None,
) -> ScenarioCreated:
    """Upload a scenario (a zip or an .xlsx workbook in field ``file``); answer its id and
    validation report (messages in the language of ``Accept-Language``)."""
    archive = None if file is None else Upload(file.filename or "", file.content_type, file.file)
    each = [Upload(f.filename or "", f.content_type, f.file) for f in files or []]
    stored = scenarios.create_scenario(session, settings, who, archive, each)
    note.object_id = stored.row.id
    if stored.existing:
        response.status_code = 200
        note.detail = "same upload"
    return ScenarioCreated(
        id=stored.row.id, validation=scenarios.validation(stored.row), existing=stored.existing
    )


@api.get("/scenarios", response_model=list[ScenarioPublic], responses=ERRORS)
def list_scenarios(session: SessionDep, who: OfficeDep) -> list[dict[str, Any]]:
    """The scenarios this key sees, newest first."""
    return [scenario_public(r) for r in scope.list_scenarios(session, who)]


@api.get("/scenarios/{scenario_id}", response_model=ScenarioDetail, responses=ERRORS)
def read_scenario(scenario_id: str, session: SessionDep, who: OfficeDep) -> dict[str, Any]:
    """One scenario with its validation report."""
    row = scope.get_scenario(session, who, scenario_id)
    return {**scenario_public(row), "validation": scenarios.validation(row)}


@api.delete(
    "/scenarios/{scenario_id}",
    response_model=ScenarioDeleted,
    responses={**ERRORS, 409: {"model": Problem, "description": "A job of it still runs."}},
)
def delete_scenario(
    scenario_id: str,
    note: Annotated[AuditNote, Depends(audited("delete"))],
    session: SessionDep,
    settings: SettingsDep,
    who: OfficeDep,
) -> ScenarioDeleted:
    """Delete a scenario with its jobs, plans and sweeps (rows and files); 409 while a job of
    it is queued or running."""
    gone = scenarios.delete_scenario(session, settings, who, scenario_id)
    note.detail = f"plans {gone.plans}, sweeps {gone.sweeps}, {gone.bytes} bytes"
    return ScenarioDeleted(
        id=gone.scenario_id, jobs=gone.jobs, plans=gone.plans, sweeps=gone.sweeps, bytes=gone.bytes
    )


@api.post(
    "/scenarios/{scenario_id}/plans",
    status_code=202,
    response_model=JobCreated,
    responses=ERRORS,
)
def start_plan(
    scenario_id: str,
    request: Request,
    note: Annotated[AuditNote, Depends(audited("plan"))],
    session: SessionDep,
    settings: SettingsDep,
    runner: RunnerDep,
    who: OfficeDep,
    options: Annotated[JobCreate | None, Body()] = None,
) -> JobCreated:
    """Queue a plan job; poll ``GET /api/v1/jobs/{job_id}``.

    With ``previous_plan_id`` the allocation is a re-plan from that earlier plan (term 6 counts
    every moved volunteer; ``moves.csv`` lists each one as kept, moved, unplaced or dropout).
    With ``pins`` it is the certified optimum under the office's decisions, priced against
    ``baseline_plan_id`` (else the plan without them); pins that break a rule by themselves
    fail the job with the issues naming them. With ``roads`` (a name of ``GET
    /api/v1/roads``) the routes are planned on that road network (422 for another name).
    The plan's files (workbook headers, reasons, map) are written in the language of
    ``Accept-Language`` when it names zh-CN or en, else in the server's default.
    """
    options = options or JobCreate()
    language = i18n.accept_language(request.headers.get("accept-language"))
    pins = [p.model_dump() for p in options.pins] if options.pins else None
    job = jobs.create_job(
        session,
        settings,
        who,
        scenario_id,
        options.time_limit,
        options.previous_plan_id,
        language,
        pins=pins,
        baseline_plan_id=options.baseline_plan_id,
        roads=options.roads,
    )
    runner.wake()
    note.object_id, note.detail = job.id, f"scenario {scenario_id}"
    return JobCreated(job_id=job.id)


@api.post(
    "/scenarios/{scenario_id}/sweeps",
    status_code=202,
    response_model=JobCreated,
    responses={
        **ERRORS,
        422: {"model": Problem, "description": "A bad key or value, or too many variants."},
    },
)
def start_sweep(
    scenario_id: str,
    request: Request,
    note: Annotated[AuditNote, Depends(audited("sweep"))],
    session: SessionDep,
    settings: SettingsDep,
    runner: RunnerDep,
    who: OfficeDep,
    options: Annotated[SweepCreate, Body()],
) -> JobCreated:
    """Queue a sweep job (as ``planner sweep``): the scenario planned as it is and under every
    combination of the ``vary`` values, each to its certified optimum; poll
    ``GET /api/v1/jobs/{job_id}``, whose ``sweep_id`` names the sweep when it is done.

    The keys and values are checked first (422 naming each bad one, in the language of
    ``Accept-Language``); the sweep's page is written in that language too.
    """
    language = i18n.accept_language(request.headers.get("accept-language"))
    job = jobs.create_sweep_job(
        session, settings, who, scenario_id, options.vary, options.time_limit, language
    )
    runner.wake()
    note.object_id, note.detail = job.id, f"scenario {scenario_id}"
    return JobCreated(job_id=job.id)


# --- jobs ------------------------------------------------------------------------------------


@api.get("/jobs", response_model=list[JobPublic], responses=ERRORS)
def list_jobs(
    session: SessionDep,
    settings: SettingsDep,
    who: OfficeDep,
    scenario_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[JobPublic]:
    """The newest jobs this key sees (optionally of one scenario)."""
    return [_job(settings, j) for j in jobs.list_jobs(session, who, scenario_id)[:limit]]


@api.get("/jobs/{job_id}", response_model=JobPublic, responses=ERRORS)
def read_job(job_id: str, session: SessionDep, settings: SettingsDep, who: OfficeDep) -> JobPublic:
    """A job's state, progress, stage, last log lines, error and plan id."""
    return _job(settings, jobs.get_job(session, who, job_id))


@api.post(
    "/jobs/{job_id}/cancel",
    response_model=JobPublic,
    responses={**ERRORS, 409: {"model": Problem, "description": "Already finished."}},
    dependencies=[Depends(audited("cancel"))],
)
def cancel_job(
    job_id: str, session: SessionDep, settings: SettingsDep, runner: RunnerDep, who: OfficeDep
) -> JobPublic:
    """Cancel a queued or running job; a running solver is killed."""
    job = jobs.cancel_job(session, who, job_id)
    runner.wake()
    return _job(settings, job)


# --- health and the browser page -------------------------------------------------------------


@root.get("/healthz", response_model=Health)
def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@root.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(request: Request, session: SessionDep, settings: SettingsDep, runner: RunnerDep) -> Any:
    """Readiness: the database answers, the data directory is writable, the runner runs."""
    checks = health.readiness(session, settings)
    checks["job_runner"] = "ok" if runner.alive else "stopped"
    ok = all(v == "ok" for v in checks.values())
    body = Health(status="ok" if ok else "not ready", checks=checks)
    return body if ok else Response(body.model_dump_json(), 503, media_type="application/json")


@root.get("/", response_class=HTMLResponse, include_in_schema=True)
def index(request: Request, session: SessionDep, who: CallerDep) -> str:
    """A page for browsers (HTTP Basic with the key, for reading): the scenarios and plans this
    key sees, with links to their maps (opened with the same key: no link is signed here); in
    the language of ``Accept-Language`` (or the office pages' switch). People sign in to the
    office pages at ``/office`` instead."""
    plan_rows = [
        {
            "scenario": s.name,
            "provinces": ", ".join(sorted(scope.provinces(s))),
            "stages": p.stages,
            "created": f"{p.created_at:%Y-%m-%d %H:%M}",
            "map": link(request, "plan_map", plan_id=p.id),
            "summary": link(request, "plan_summary", plan_id=p.id),
        }
        for p, s in plans.list_plans(session, who)
    ]
    scenario_rows = [
        {
            "id": s.id,
            "name": s.name,
            "year": s.year,
            "provinces": ", ".join(sorted(scope.provinces(s))),
            "synthetic": s.synthetic,
        }
        for s in (scope.list_scenarios(session, who) if who.writes else [])
    ]
    return render_template(
        "index.html",
        lang=i18n.language(),
        plans=plan_rows,
        scenarios=scenario_rows if who.writes else None,
        docs=link(request, "swagger_ui_html"),
        office=link(request, "office_home"),
    )
