"""The routes of ``/api/v1`` for what the service made and did: the plans a key sees, a
plan's summary, budget, tables, routes, workbook and map, signed links to the map; sweeps
(plans of a scenario's variants); the audit trail.

Each route parses its request, calls the services (:mod:`api.services`: the plan's scope
and folder, then :mod:`api.services.results` for its files) and shapes the answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from starlette.concurrency import run_in_threadpool

from api.core import audit
from api.core.errors import Forbidden
from api.core.settings import Settings
from api.db.models import PlanRow, ScenarioRow, SweepRow
from api.server.common import (
    ERRORS,
    CountyQ,
    ProvinceQ,
    link,
    map_response,
    page_file_response,
    xlsx_response,
)
from api.server.deps import (
    AuditNote,
    AuthFirst,
    CallerDep,
    MaybeCallerDep,
    NationalDep,
    OfficeDep,
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
    MapLink,
    PlanPublic,
    Problem,
    SweepDetail,
    SweepPublic,
    TablePage,
)
from api.services import keys, plans, results, sweeps, trail
from planner.i18n import N_

plan_api = APIRouter(prefix="/api/v1", route_class=AuthFirst)


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


# --- plans -----------------------------------------------------------------------------------


@plan_api.get("/plans", response_model=list[PlanPublic], responses=ERRORS)
def list_plans(request: Request, session: SessionDep, who: CallerDep) -> list[PlanPublic]:
    """The plans this key sees, newest first (viewers too)."""
    return [_plan(request, p, s) for p, s in plans.list_plans(session, who)]


@plan_api.get("/plans/{plan_id}", response_model=PlanPublic, responses=ERRORS)
def read_plan(plan_id: str, request: Request, session: SessionDep, who: OfficeDep) -> PlanPublic:
    """A plan: its stages and links to its results."""
    plan, scenario = plans.get_plan(session, who, plan_id)
    return _plan(request, plan, scenario)


@plan_api.get(
    "/plans/{plan_id}/summary",
    name="plan_summary",
    dependencies=[Depends(audited("download", "summary"))],
    responses={**ERRORS, 200: {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def plan_summary(plan: VisiblePlanDep, settings: SettingsDep) -> Any:
    """``summary.json``: objective, terms, bound, gap, counts, budget, routing (viewers too;
    the scenario's ``source`` is its id or workbook name, never a path on the server)."""
    path = plans.plan_folder(settings, plan) / "summary.json"  # written once, never changed
    key = path.with_name(path.name + ".public")
    body = results.cached_bytes(key) or await run_in_threadpool(results.public_summary, path)
    return Response(body, media_type="application/json")


@plan_api.get(
    "/plans/{plan_id}/budget",
    name="plan_budget",
    responses=ERRORS,
    dependencies=[Depends(audited("download", "budget"))],
)
def plan_budget(
    plan_id: str, session: SessionDep, settings: SettingsDep, who: OfficeDep
) -> dict[str, Any]:
    """Budget in CNY per year: total, per service province, per recruiting province."""
    plan = plans.plan_ref(session, who, plan_id)
    return results.budget(plans.plan_folder(settings, plan))


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
        plan = plans.plan_ref(session, who, plan_id)
        page = results.table(
            plans.plan_folder(settings, plan), name, province, county, offset, limit
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
    plan_api.add_api_route(
        f"/plans/{{plan_id}}/{_name}",
        _table_route(_name),
        methods=["GET"],
        name=f"plan_{_name}",
        response_model=TablePage,
        dependencies=[Depends(audited("download", _name))],
        responses={
            **ERRORS,
            200: {"content": {"text/csv": {}}, "description": "A page of rows."},
            400: {"model": Problem, "description": "Filter not applicable."},
        },
    )


@plan_api.get(
    "/plans/{plan_id}/routes",
    name="plan_routes",
    dependencies=[Depends(audited("download", "routes"))],
    response_class=FileResponse,
    responses={**ERRORS, 200: {"content": {"application/geo+json": {}}}},
)
def plan_routes(plan_id: str, session: SessionDep, settings: SettingsDep, who: OfficeDep) -> Any:
    """Vehicle routes as GeoJSON (one LineString per vehicle-day)."""
    plan = plans.plan_ref(session, who, plan_id)
    path = results.routes_file(plans.plan_folder(settings, plan))
    return FileResponse(path, media_type="application/geo+json")


@plan_api.get(
    "/plans/{plan_id}/xlsx",
    name="plan_xlsx",
    dependencies=[Depends(audited("download", "xlsx"))],
    response_class=FileResponse,
    responses={**ERRORS, 200: {"content": {"application/vnd.ms-excel": {}}}},
)
def plan_xlsx(plan_id: str, session: SessionDep, settings: SettingsDep, who: OfficeDep) -> Any:
    """The plan as one Excel workbook (in the language of the person who started the plan)."""
    return xlsx_response(settings, plans.plan_ref(session, who, plan_id))


@plan_api.get(
    "/plans/{plan_id}/map",
    name="plan_map",
    dependencies=[Depends(audited("download", "map"))],
    response_class=HTMLResponse,
    responses={**ERRORS, 200: {"content": {"text/html": {}}}},
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
        except Forbidden:
            await failed_auth(request, None, "invalid or expired map link")
            raise
        await run_in_threadpool(keys.check_link_key, request.app.state.sessions, key or "")
    plan = await plan_for(request, who, plan_id)
    return await map_response(request, settings, plan, province)


@plan_api.post("/plans/{plan_id}/map-link", response_model=MapLink, responses=ERRORS)
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
    plan = plans.plan_ref(session, who, plan_id)
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


@plan_api.get("/sweeps", response_model=list[SweepPublic], responses=ERRORS)
def list_sweeps(request: Request, session: SessionDep, who: CallerDep) -> list[dict[str, Any]]:
    """The sweeps this key sees, newest first (viewers too)."""
    return [_sweep(request, w, s) for w, s in sweeps.list_sweeps(session, who)]


@plan_api.get(
    "/sweeps/{sweep_id}",
    name="sweep",
    response_model=SweepDetail,
    responses=ERRORS,
    dependencies=[Depends(audited("download", "sweep"))],
)
def read_sweep(
    sweep_id: str, request: Request, session: SessionDep, settings: SettingsDep, who: CallerDep
) -> dict[str, Any]:
    """A sweep: what was varied, ``sweep.csv`` as rows (objective and each term, bound, gap,
    placed, unfilled quota, empty relay seats, budget, fairness counts; the base first) and
    links to the CSV and the page (viewers too)."""
    sweep, scenario = sweeps.get_sweep(session, who, sweep_id)
    folder = sweeps.sweep_folder(settings, sweep)
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


@plan_api.get(
    "/sweeps/{sweep_id}/csv",
    name="sweep_csv",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"text/csv": {}}}},
    dependencies=[Depends(audited("download", "sweep.csv"))],
)
def sweep_csv(sweep_id: str, session: SessionDep, settings: SettingsDep, who: CallerDep) -> Any:
    """``sweep.csv``: one row per plan, the base first (viewers too)."""
    sweep, _ = sweeps.get_sweep(session, who, sweep_id)
    text = results.sweep_csv(sweeps.sweep_folder(settings, sweep))
    disposition = f'attachment; filename="sweep-{sweep.id}.csv"'
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


@plan_api.get(
    "/sweeps/{sweep_id}/page",
    name="sweep_page",
    response_class=HTMLResponse,
    responses={**ERRORS, 200: {"content": {"text/html": {}}}},
    dependencies=[Depends(audited("download", "sweep.html"))],
)
async def sweep_page(
    sweep_id: str, request: Request, settings: SettingsDep, who: CallerDep
) -> Response:
    """``sweep.html``: the comparison chart, the table and the map of where the placements
    change, one page that needs nothing else (viewers too)."""

    def find() -> Path:
        with request.app.state.sessions() as session:
            sweep, _ = sweeps.get_sweep(session, who, sweep_id)
        return results.sweep_file(sweeps.sweep_folder(settings, sweep), "page")

    return await page_file_response(request, await run_in_threadpool(find))


# --- audit trail ------------------------------------------------------------------------------


@plan_api.get("/audit", response_model=list[AuditPublic], responses=ERRORS)
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
    rows = trail.events(session, since, until, action, province, limit)
    return [AuditPublic.model_validate(r) for r in rows]
