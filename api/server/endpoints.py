"""The routes of ``/api/v1``, the health checks and the browser index page.

Each route parses its request, calls one service of :mod:`api.server.store` or
:mod:`api.server.results` and shapes the answer; none touches the database or the solver
directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from api.core import api_keys, audit
from api.core.settings import Settings
from api.db.models import JobRow, PlanRow, ScenarioRow, SweepRow
from api.server import results, security, store
from api.server.deps import (
    AuditNote,
    AuthFirst,
    CallerDep,
    MaybeCallerDep,
    NationalDep,
    OfficeDep,
    RunnerDep,
    SessionDep,
    SettingsDep,
    VisiblePlanDep,
    audited,
    failed_auth,
    plan_for,
    refuse_if_throttled,
)
from api.server.problems import ApiProblem
from api.server.schemas import (
    AuditPublic,
    Health,
    JobCreate,
    JobCreated,
    JobPublic,
    MapLink,
    PlanPublic,
    Problem,
    ScenarioCreated,
    ScenarioDeleted,
    ScenarioDetail,
    ScenarioPublic,
    SweepCreate,
    SweepDetail,
    SweepPublic,
    TablePage,
)
from api.server.templating import render_template
from planner import i18n
from planner.i18n import N_, Text

api = APIRouter(prefix="/api/v1", route_class=AuthFirst)
root = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No key, or an unknown or revoked key."},
    403: {"model": Problem, "description": "The key's role does not allow this."},
    404: {"model": Problem, "description": "Unknown, or outside the key's province."},
}
ProvinceQ = Annotated[
    str | None, Query(pattern=r"^\d{2}0000$", description="Province code, e.g. 520000.")
]
CountyQ = Annotated[str | None, Query(pattern=r"^\d{6}$", description="County code.")]


def scenario_public(row: ScenarioRow) -> dict[str, Any]:
    """A stored scenario's fields (:class:`~api.server.schemas.ScenarioPublic`)."""
    return {
        "id": row.id,
        "name": row.name,
        "year": row.year,
        "synthetic": row.synthetic,
        "filename": row.filename,
        "provinces": sorted(store.provinces(row)),
        "tables": row.tables,
        "created_at": row.created_at,
    }


def link(request: Request, name: str, **params: str) -> str:
    """The link to the route ``name``: under ``PLANNER_BASE_URL`` when it is set, else
    relative to the server's root; never from the request's ``Host`` header, which the client
    chooses."""
    settings: Settings = request.app.state.settings
    return settings.link(str(request.app.url_path_for(name, **params)))


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
        error=store.without_server_paths(job.error) if job.error else None,
        time_limit=job.time_limit,
        attempt=job.attempt,
        interruptions=job.interruptions,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        log=store.tail(store.job_log(settings, job.id), settings=settings),
    )


def _plan(request: Request, plan: PlanRow, scenario: ScenarioRow) -> PlanPublic:
    stages = plan.stages.split(",")
    names = ["summary", "map"]
    if "allocation" in stages:
        names += ["assignments", "unassigned", "seats", "budget", "xlsx"]
    if "routing" in stages:
        names += ["routes", "coverage"]
    return PlanPublic(
        id=plan.id,
        scenario_id=plan.scenario_id,
        scenario_name=scenario.name,
        job_id=plan.job_id,
        stages=stages,
        created_at=plan.created_at,
        links={n: link(request, f"plan_{n}", plan_id=plan.id) for n in names},
    )


# --- scenarios -------------------------------------------------------------------------------


@api.post(
    "/scenarios",
    status_code=201,
    response_model=ScenarioCreated,
    responses={
        **_ERRORS,
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
    archive = (
        None if file is None else store.Upload(file.filename or "", file.content_type, file.file)
    )
    each = [store.Upload(f.filename or "", f.content_type, f.file) for f in files or []]
    stored = store.create_scenario(session, settings, who, archive, each)
    note.object_id = stored.row.id
    if stored.existing:
        response.status_code = 200
        note.detail = "same upload"
    return ScenarioCreated(
        id=stored.row.id, validation=store.validation(stored.row), existing=stored.existing
    )


@api.get("/scenarios", response_model=list[ScenarioPublic], responses=_ERRORS)
def list_scenarios(session: SessionDep, who: OfficeDep) -> list[dict[str, Any]]:
    """The scenarios this key sees, newest first."""
    return [scenario_public(r) for r in store.list_scenarios(session, who)]


@api.get("/scenarios/{scenario_id}", response_model=ScenarioDetail, responses=_ERRORS)
def read_scenario(scenario_id: str, session: SessionDep, who: OfficeDep) -> dict[str, Any]:
    """One scenario with its validation report."""
    row = store.get_scenario(session, who, scenario_id)
    return {**scenario_public(row), "validation": store.validation(row)}


@api.delete(
    "/scenarios/{scenario_id}",
    response_model=ScenarioDeleted,
    responses={**_ERRORS, 409: {"model": Problem, "description": "A job of it still runs."}},
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
    gone = store.delete_scenario(session, settings, who, scenario_id)
    note.detail = f"plans {gone.plans}, sweeps {gone.sweeps}, {gone.bytes} bytes"
    return ScenarioDeleted(
        id=gone.scenario_id, jobs=gone.jobs, plans=gone.plans, sweeps=gone.sweeps, bytes=gone.bytes
    )


@api.post(
    "/scenarios/{scenario_id}/plans",
    status_code=202,
    response_model=JobCreated,
    responses=_ERRORS,
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
    job = store.create_job(
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
        **_ERRORS,
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
    job = store.create_sweep_job(
        session, settings, who, scenario_id, options.vary, options.time_limit, language
    )
    runner.wake()
    note.object_id, note.detail = job.id, f"scenario {scenario_id}"
    return JobCreated(job_id=job.id)


# --- jobs ------------------------------------------------------------------------------------


@api.get("/jobs", response_model=list[JobPublic], responses=_ERRORS)
def list_jobs(
    session: SessionDep,
    settings: SettingsDep,
    who: OfficeDep,
    scenario_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[JobPublic]:
    """The newest jobs this key sees (optionally of one scenario)."""
    return [_job(settings, j) for j in store.list_jobs(session, who, scenario_id)[:limit]]


@api.get("/jobs/{job_id}", response_model=JobPublic, responses=_ERRORS)
def read_job(job_id: str, session: SessionDep, settings: SettingsDep, who: OfficeDep) -> JobPublic:
    """A job's state, progress, stage, last log lines, error and plan id."""
    return _job(settings, store.get_job(session, who, job_id))


@api.post(
    "/jobs/{job_id}/cancel",
    response_model=JobPublic,
    responses={**_ERRORS, 409: {"model": Problem, "description": "Already finished."}},
    dependencies=[Depends(audited("cancel"))],
)
def cancel_job(
    job_id: str, session: SessionDep, settings: SettingsDep, runner: RunnerDep, who: OfficeDep
) -> JobPublic:
    """Cancel a queued or running job; a running solver is killed."""
    job = store.cancel_job(session, who, job_id)
    runner.wake()
    return _job(settings, job)


# --- plans -----------------------------------------------------------------------------------


@api.get("/plans", response_model=list[PlanPublic], responses=_ERRORS)
def list_plans(request: Request, session: SessionDep, who: CallerDep) -> list[PlanPublic]:
    """The plans this key sees, newest first (viewers too)."""
    return [_plan(request, p, s) for p, s in store.list_plans(session, who)]


@api.get("/plans/{plan_id}", response_model=PlanPublic, responses=_ERRORS)
def read_plan(plan_id: str, request: Request, session: SessionDep, who: OfficeDep) -> PlanPublic:
    """A plan: its stages and links to its results."""
    plan = store.get_plan(session, who, plan_id)
    scenario = session.get(ScenarioRow, plan.scenario_id)
    assert scenario is not None
    return _plan(request, plan, scenario)


@api.get(
    "/plans/{plan_id}/summary",
    name="plan_summary",
    dependencies=[Depends(audited("download", "summary"))],
    responses={**_ERRORS, 200: {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def plan_summary(plan: VisiblePlanDep, settings: SettingsDep) -> Any:
    """``summary.json``: objective, terms, bound, gap, counts, budget, routing (viewers too;
    the scenario's ``source`` is its id or workbook name, never a path on the server)."""
    path = store.plan_dir(settings, plan.id) / "summary.json"  # written once, never changed
    key = path.with_name(path.name + ".public")
    body = results.cached_bytes(key) or await run_in_threadpool(results.public_summary, path)
    return Response(body, media_type="application/json")


@api.get(
    "/plans/{plan_id}/budget",
    name="plan_budget",
    responses=_ERRORS,
    dependencies=[Depends(audited("download", "budget"))],
)
def plan_budget(
    plan_id: str, session: SessionDep, settings: SettingsDep, who: OfficeDep
) -> dict[str, Any]:
    """Budget in CNY per year: total, per service province, per recruiting province."""
    plan = store.plan_ref(session, who, plan_id)
    return results.budget(store.plan_dir(settings, plan.id))


def _table_route(name: str) -> Callable[..., Any]:
    def endpoint(
        plan_id: str,
        session: SessionDep,
        settings: SettingsDep,
        who: OfficeDep,
        format: Literal["json", "csv"] = "json",
        province: ProvinceQ = None,
        county: CountyQ = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=100_000)] = 100,
    ) -> Any:
        plan = store.plan_ref(session, who, plan_id)
        page = results.table(
            store.plan_dir(settings, plan.id), name, province, county, offset, limit
        )
        if format == "csv":
            return Response(
                page.csv(),
                media_type="text/csv; charset=utf-8",
                headers={"X-Total-Count": str(page.total)},
            )
        return TablePage(total=page.total, offset=offset, limit=limit, items=page.records())

    endpoint.__doc__ = (
        f"``{name}.csv`` as JSON pages or CSV; filter by province or county code "
        "(tables with a county_code column)."
    )
    return endpoint


for _name in results.TABLES:
    api.add_api_route(
        f"/plans/{{plan_id}}/{_name}",
        _table_route(_name),
        methods=["GET"],
        name=f"plan_{_name}",
        response_model=TablePage,
        dependencies=[Depends(audited("download", _name))],
        responses={
            **_ERRORS,
            200: {"content": {"text/csv": {}}, "description": "A page of rows."},
            400: {"model": Problem, "description": "Filter not applicable."},
        },
    )


@api.get(
    "/plans/{plan_id}/routes",
    name="plan_routes",
    dependencies=[Depends(audited("download", "routes"))],
    response_class=FileResponse,
    responses={**_ERRORS, 200: {"content": {"application/geo+json": {}}}},
)
def plan_routes(plan_id: str, session: SessionDep, settings: SettingsDep, who: OfficeDep) -> Any:
    """Vehicle routes as GeoJSON (one LineString per vehicle-day)."""
    plan = store.plan_ref(session, who, plan_id)
    path = results.routes_file(store.plan_dir(settings, plan.id))
    return FileResponse(path, media_type="application/geo+json")


@api.get(
    "/plans/{plan_id}/xlsx",
    name="plan_xlsx",
    dependencies=[Depends(audited("download", "xlsx"))],
    response_class=FileResponse,
    responses={**_ERRORS, 200: {"content": {"application/vnd.ms-excel": {}}}},
)
def plan_xlsx(plan_id: str, session: SessionDep, settings: SettingsDep, who: OfficeDep) -> Any:
    """The plan as one Excel workbook (in the language of the person who started the plan)."""
    return xlsx_response(settings, store.plan_ref(session, who, plan_id))


def xlsx_response(
    settings: Settings, plan: store.PlanRef, filename: str | None = None
) -> FileResponse:
    """A plan's ``plan.xlsx`` as a download (the API's and the office pages', which name it
    after the scenario and the date)."""
    path = results.xlsx_file(store.plan_dir(settings, plan.id))
    return FileResponse(
        path,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=filename or f"plan-{plan.id}.xlsx",
    )


@api.get(
    "/plans/{plan_id}/map",
    name="plan_map",
    dependencies=[Depends(audited("download", "map"))],
    response_class=HTMLResponse,
    responses={**_ERRORS, 200: {"content": {"text/html": {}}}},
)
async def plan_map(
    plan_id: str,
    request: Request,
    settings: SettingsDep,
    who: MaybeCallerDep,
    province: ProvinceQ = None,
    expires: int | None = None,
    signature: Annotated[str | None, Query(max_length=128)] = None,
    key: Annotated[
        str | None, Query(max_length=64, description="Prefix of the link's key.")
    ] = None,
) -> Any:
    """The plan's map as a standalone HTML page (one province with ``province``).

    Works with a key (viewers too) or, without one, through a signed link from
    ``POST /api/v1/plans/{plan_id}/map-link`` while it has not expired and the key that made
    it has not been revoked (410 then).
    """
    if who is None:
        if expires is None or signature is None:
            raise ApiProblem(
                401,
                N_("no API key and no signed link: send a key or use a link from map-link"),
                headers={"WWW-Authenticate": 'Basic realm="westplan"'},
            )
        await refuse_if_throttled(request, None)
        try:
            results.check_map_signature(
                settings.secret(), plan_id, province, expires, signature, key or ""
            )
        except ApiProblem:
            await failed_auth(request, None, "invalid or expired map link")
            raise

        def key_works() -> bool:
            with request.app.state.sessions() as session:
                return api_keys.prefix_is_active(session, key or "")

        if not await run_in_threadpool(key_works):
            raise ApiProblem(
                410, N_("the key that made this map link has been revoked; ask for a new link")
            )
    plan = await plan_for(request, who, plan_id)
    return await map_response(request, settings, plan, province)


async def map_response(
    request: Request, settings: Settings, plan: store.PlanRef, province: str | None
) -> Response:
    """A plan's map page (the API's and the office pages'): drawn once in the plan's language,
    then served from the file (gzip when the client accepts it) with the policy it carries."""
    folder = store.plan_dir(settings, plan.id)
    path = results.cached_map(folder, province)
    if path is None:  # render once, off the event loop

        def draw() -> Path:
            with request.app.state.sessions() as session:
                language = store.plan_language(session, plan.id)
            return results.map_html(folder, province, language)

        path = await run_in_threadpool(draw)
    return await page_file_response(request, path)


async def page_file_response(request: Request, path: Path) -> Response:
    """A page the service wrote (a map, a sweep's page), written once and never changed:
    from memory or the file, gzip when the client accepts it, with the policy it carries."""
    headers = {"Vary": "Accept-Encoding", "Content-Security-Policy": security.page_policy(path)}
    if "gzip" in request.headers.get("accept-encoding", ""):
        gz = path.with_name(path.name + ".gz")
        path = gz if gz.is_file() else await run_in_threadpool(results.gzipped, path)
        headers["Content-Encoding"] = "gzip"
    body = results.cached_bytes(path) or await run_in_threadpool(results.load_bytes, path)
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


@api.post("/plans/{plan_id}/map-link", response_model=MapLink, responses=_ERRORS)
def plan_map_link(
    plan_id: str,
    request: Request,
    note: Annotated[AuditNote, Depends(audited("map-link"))],
    session: SessionDep,
    settings: SettingsDep,
    who: CallerDep,
    province: ProvinceQ = None,
    seconds: Annotated[
        int | None,
        Query(ge=60, le=30 * 86_400, description="Lifetime; default PLANNER_MAP_LINK_SECONDS."),
    ] = None,
) -> MapLink:
    """A link to the map that works without a key (viewers too) until it expires (default
    24 hours, at most 30 days) or the key that made it is revoked; audited as ``map-link``."""
    plan = store.plan_ref(session, who, plan_id)
    made = _map_link(request, settings, plan.id, province, seconds, who.prefix or "")
    until = dt.datetime.fromtimestamp(made.expires, dt.UTC).isoformat(timespec="seconds")
    note.detail = f"province {province}, until {until}" if province else f"until {until}"
    return made


def _map_link(
    request: Request,
    settings: Settings,
    plan_id: str,
    province: str | None,
    seconds: int | None,
    key: str,
) -> MapLink:
    expires, sig = results.sign_map(
        settings.secret(), plan_id, province, seconds or settings.map_link_seconds, key
    )
    query = {"province": province} if province else {}
    query |= {"expires": str(expires), "key": key, "signature": sig}
    url = f"{link(request, 'plan_map', plan_id=plan_id)}?{urlencode(query)}"
    return MapLink(url=url, expires=expires)


# --- sweeps ----------------------------------------------------------------------------------


def _sweep(request: Request, sweep: SweepRow, scenario: ScenarioRow) -> dict[str, Any]:
    """A sweep's fields (:class:`~api.server.schemas.SweepPublic`)."""
    links = {n: link(request, f"sweep_{n}", sweep_id=sweep.id) for n in ("csv", "page")}
    return {
        "id": sweep.id,
        "scenario_id": sweep.scenario_id,
        "scenario_name": scenario.name,
        "job_id": sweep.job_id,
        "variants": sweep.variants,
        "created_at": sweep.created_at,
        "links": {"self": link(request, "sweep", sweep_id=sweep.id), **links},
    }


@api.get("/sweeps", response_model=list[SweepPublic], responses=_ERRORS)
def list_sweeps(request: Request, session: SessionDep, who: CallerDep) -> list[dict[str, Any]]:
    """The sweeps this key sees, newest first (viewers too)."""
    return [_sweep(request, w, s) for w, s in store.list_sweeps(session, who)]


@api.get(
    "/sweeps/{sweep_id}",
    name="sweep",
    response_model=SweepDetail,
    responses=_ERRORS,
    dependencies=[Depends(audited("download", "sweep"))],
)
def read_sweep(
    sweep_id: str, request: Request, session: SessionDep, settings: SettingsDep, who: CallerDep
) -> dict[str, Any]:
    """A sweep: what was varied, ``sweep.csv`` as rows (objective and each term, bound, gap,
    placed, unfilled quota, empty relay seats, budget, fairness counts; the base first) and
    links to the CSV and the page (viewers too)."""
    sweep, scenario = store.get_sweep(session, who, sweep_id)
    folder = store.sweep_dir(settings, sweep.id)
    meta = results.sweep_meta(folder)
    rows = results.sweep_rows(folder)
    return _sweep(request, sweep, scenario) | {
        "vary": meta["vary"],
        "time_limit": meta["time_limit"],
        "gap_tolerance": meta["gap_tolerance"],
        "seconds": meta["seconds"],
        "all_optimal": all(bool(r["optimal"]) for r in rows),
        "rows": rows,
    }


@api.get(
    "/sweeps/{sweep_id}/csv",
    name="sweep_csv",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"text/csv": {}}}},
    dependencies=[Depends(audited("download", "sweep.csv"))],
)
def sweep_csv(sweep_id: str, session: SessionDep, settings: SettingsDep, who: CallerDep) -> Any:
    """``sweep.csv``: one row per plan, the base first (viewers too)."""
    sweep, _ = store.get_sweep(session, who, sweep_id)
    text = results.sweep_csv(store.sweep_dir(settings, sweep.id))
    disposition = f'attachment; filename="sweep-{sweep.id}.csv"'
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


@api.get(
    "/sweeps/{sweep_id}/page",
    name="sweep_page",
    response_class=HTMLResponse,
    responses={**_ERRORS, 200: {"content": {"text/html": {}}}},
    dependencies=[Depends(audited("download", "sweep.html"))],
)
async def sweep_page(
    sweep_id: str, request: Request, settings: SettingsDep, who: CallerDep
) -> Response:
    """``sweep.html``: the comparison chart, the table and the map of where the placements
    change, one page that needs nothing else (viewers too)."""

    def find() -> Path:
        with request.app.state.sessions() as session:
            sweep, _ = store.get_sweep(session, who, sweep_id)
        return results.sweep_file(store.sweep_dir(settings, sweep.id), "page")

    return await page_file_response(request, await run_in_threadpool(find))


# --- audit trail ------------------------------------------------------------------------------


@api.get("/audit", response_model=list[AuditPublic], responses=_ERRORS)
def read_audit(
    request: Request,
    session: SessionDep,
    who: NationalDep,
    since: Annotated[
        str | None, Query(max_length=40, description="A span (30m, 12h, 1d, 2w) or ISO time.")
    ] = None,
    until: Annotated[str | None, Query(max_length=40, description="An ISO time.")] = None,
    action: Annotated[audit.Action | None, Query(description="One action.")] = None,
    province: ProvinceQ = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> list[AuditPublic]:
    """The audit trail, newest first (national keys): who uploaded, planned, cancelled or
    downloaded what, map links made, keys made and revoked, failed and throttled logins."""
    request.app.state.audit.flush()
    try:
        start = audit.parse_since(since) if since else None
        end = audit.parse_time(until) if until else None
    except ValueError as exc:
        raise ApiProblem(422, Text(str(exc))) from None
    rows = audit.query(session, start, end, action, province, limit)
    return [AuditPublic.model_validate(r) for r in rows]


# --- health and the browser page -------------------------------------------------------------


@root.get("/healthz", response_model=Health)
def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@root.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(request: Request, session: SessionDep, settings: SettingsDep, runner: RunnerDep) -> Any:
    """Readiness: the database answers, the data directory is writable, the runner runs."""
    checks: dict[str, str] = {}
    try:
        session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    probe = settings.data_dir / ".ready"
    try:
        probe.write_text("ok")
        checks["data_dir"] = "ok"
    except OSError as exc:
        checks["data_dir"] = f"error: {exc.strerror}"
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
    plans = [
        {
            "scenario": s.name,
            "provinces": ", ".join(sorted(store.provinces(s))),
            "stages": p.stages,
            "created": f"{p.created_at:%Y-%m-%d %H:%M}",
            "map": link(request, "plan_map", plan_id=p.id),
            "summary": link(request, "plan_summary", plan_id=p.id),
        }
        for p, s in store.list_plans(session, who)
    ]
    scenarios = [
        {
            "id": s.id,
            "name": s.name,
            "year": s.year,
            "provinces": ", ".join(sorted(store.provinces(s))),
            "synthetic": s.synthetic,
        }
        for s in (store.list_scenarios(session, who) if who.writes else [])
    ]
    return render_template(
        "index.html",
        lang=i18n.language(),
        plans=plans,
        scenarios=scenarios if who.writes else None,
        docs=link(request, "swagger_ui_html"),
        office=link(request, "office_home"),
    )
