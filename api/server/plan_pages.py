"""The office pages of the work: the start page, a scenario (upload, validation, the plan
form, deleting it), a plan job's progress, a plan (what an office decides on first, the map,
the workbook), in zh-CN or en.

Each page acts as the signed-in key through the same services as the JSON API
(:mod:`api.services`) and the frame of :mod:`api.server.pages` (session, forms' tokens,
rendering); a service's domain error is answered as a page naming the problem
(:func:`api.server.pages.problem_page`).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.core.errors import Invalid
from api.core.roads import networks
from api.core.settings import Settings
from api.db.models import JobRow, ScenarioRow
from api.server.common import map_response, scenario_public, xlsx_response
from api.server.deps import (
    AuditNote,
    AuthFirst,
    RunnerDep,
    SessionDep,
    SettingsDep,
    audited,
    plan_for,
    session_principal,
)
from api.server.outcome import outcome_of
from api.server.pages import (
    LANGUAGE_NAMES,
    PREFIX,
    CallerDep,
    CheckedForm,
    OfficeDep,
    go,
    issue_rows,
    page,
)
from api.server.schemas import JobCreate
from api.server.times import local_date, local_time
from api.services import jobs, plans, results, scenarios, scope, storage
from api.services.uploads import Upload
from geodata.plan_xlsx import TERMS
from geodata.shown import place_name
from planner import i18n
from planner.i18n import N_, _
from planner.issues import Report
from planner.labels import STATUS
from planner.schema import TABLES
from planner.summaries import SummaryFile

plan_pages = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=AuthFirst)

STATES = {
    "queued": N_("queued"),
    "running": N_("running"),
    "succeeded": N_("succeeded"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
    "interrupted": N_("interrupted"),
}
STAGES = {
    "queued": N_("waiting for a worker"),
    "starting": N_("starting"),
    "validation": N_("validation"),
    "allocation": N_("allocation"),
    "routing": N_("routing"),
    "sweep": N_("planning the variants"),
    "map": N_("map"),
    "done": N_("done"),
    "cancelled": N_("cancelled"),
    "interrupted": N_("interrupted"),
}


# --- the pages -------------------------------------------------------------------------------


@plan_pages.get("", response_class=HTMLResponse, name="office_home")
def home(request: Request, session: SessionDep, settings: SettingsDep, who: CallerDep) -> Any:
    """The start page: the plans this key sees; for office keys also its scenarios and the
    upload form."""
    plan_rows = [
        {
            "id": p.id,
            "scenario": s.name,
            "provinces": ", ".join(place_name(p) or p for p in sorted(scope.provinces(s))),
            "stages": [_(STAGES.get(x, x)) for x in p.stages.split(",") if x],
            "created": local_time(p.created_at, settings.time_zone),
        }
        for p, s in plans.list_plans(session, who)
    ]
    scenario_rows = (
        [_scenario_facts(r, settings.time_zone) for r in scope.list_scenarios(session, who)]
        if who.writes
        else []
    )
    return page(request, settings, "home.html", who, plans=plan_rows, scenarios=scenario_rows)


def _scenario_facts(row: ScenarioRow, zone: str) -> dict[str, Any]:
    """A scenario's fields as the API answers them, for a page (provinces by name)."""
    fields = scenario_public(row)
    return fields | {
        "provinces": ", ".join(place_name(p) or p for p in fields["provinces"]),
        "created": local_time(row.created_at, zone),
        "tables": {
            i18n.render(TABLES[k].label) if k in TABLES else k: n
            for k, n in fields["tables"].items()
        },
    }


@plan_pages.post("/scenarios", name="office_upload", status_code=303, dependencies=[CheckedForm])
def upload(
    note: Annotated[AuditNote, Depends(audited("upload", caller=session_principal))],
    session: SessionDep,
    settings: SettingsDep,
    who: OfficeDep,
    file: Annotated[UploadFile | None, File()] = None,
) -> RedirectResponse:
    """Upload a scenario (zip or workbook) as ``POST /api/v1/scenarios`` does; a scenario with
    errors answers its validation table (422) and the form again."""
    if file is None or not file.filename:
        raise Invalid(N_("choose a scenario file (.zip or .xlsx) first"))
    archive = Upload(file.filename, file.content_type, file.file)
    stored = scenarios.create_scenario(session, settings, who, archive, [])
    note.object_id = stored.row.id
    if stored.existing:  # the same file again: its scenario, saying so
        note.detail = "same upload"
        return go(f"{PREFIX}/scenarios/{stored.row.id}?same=1")
    return go(f"{PREFIX}/scenarios/{stored.row.id}")


@plan_pages.get("/scenarios/{scenario_id}", response_class=HTMLResponse, name="office_scenario")
def scenario(
    scenario_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    who: OfficeDep,
    same: bool = False,
) -> Any:
    """A scenario: what it holds, its validation table (warnings), the plan form, its plan
    jobs (sweeps are started and read through the JSON API); with ``same``, a note that the
    file just uploaded is this scenario's (the same bytes: nothing new was stored)."""
    row = scope.get_scenario(session, who, scenario_id)
    job_rows = [
        _job_facts(j, settings)
        for j in jobs.list_jobs(session, who, scenario_id)
        if j.kind == "plan"
    ]
    issues = issue_rows(Report.from_data(row.validation))
    return page(
        request,
        settings,
        "scenario.html",
        who,
        scenario=_scenario_facts(row, settings.time_zone),
        same=same,
        issues=issues,
        jobs=job_rows,
        plans=sum(1 for j in job_rows if j["plan_id"]),
        time_limit=settings.job_time_limit,
        roads=[n.public() for n in networks(settings.roads_dir)],
    )


@plan_pages.post(
    "/scenarios/{scenario_id}/delete",
    name="office_delete",
    status_code=303,
    dependencies=[CheckedForm],
)
def delete_scenario(
    scenario_id: str,
    note: Annotated[AuditNote, Depends(audited("delete", caller=session_principal))],
    session: SessionDep,
    settings: SettingsDep,
    who: OfficeDep,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> RedirectResponse:
    """Delete a scenario with its plans as ``DELETE /api/v1/scenarios/{id}`` does, once the
    box is ticked; then the start page."""
    if confirm != "yes":
        raise Invalid(N_("tick the box to confirm that the scenario and its plans go"))
    gone = scenarios.delete_scenario(session, settings, who, scenario_id)
    note.detail = f"plans {gone.plans}, sweeps {gone.sweeps}, {gone.bytes} bytes"
    return go(PREFIX)


@plan_pages.post(
    "/scenarios/{scenario_id}/plans",
    name="office_plan",
    status_code=303,
    dependencies=[CheckedForm],
)
def start_plan(
    scenario_id: str,
    note: Annotated[AuditNote, Depends(audited("plan", caller=session_principal))],
    session: SessionDep,
    settings: SettingsDep,
    runner: RunnerDep,
    who: OfficeDep,
    time_limit: Annotated[str, Form(max_length=20)] = "",
    roads: Annotated[str, Form(max_length=100)] = "",
) -> RedirectResponse:
    """Start a plan as ``POST /api/v1/scenarios/{id}/plans`` does (on the road network
    chosen, if any); its files are written in the language of this page."""
    try:
        options = JobCreate(time_limit=float(time_limit) if time_limit.strip() else None)
    except (ValueError, ValidationError):
        raise Invalid(
            N_("time limit {value!r}; expected seconds, more than 0 and at most 86,400"),
            value=time_limit,
        ) from None
    job = jobs.create_job(
        session,
        settings,
        who,
        scenario_id,
        options.time_limit,
        None,
        i18n.language(),
        roads=roads.strip() or None,
    )
    runner.wake()
    note.object_id, note.detail = job.id, f"scenario {scenario_id}"
    return go(f"{PREFIX}/jobs/{job.id}")


def _job_facts(job: JobRow, settings: Settings) -> dict[str, Any]:
    """A job's state, stage and progress for a page, in the language of the moment."""
    final = job.state in jobs.FINAL
    return {
        "id": job.id,
        "state": job.state,
        "state_text": _(STATES.get(job.state, job.state)),
        "stage_text": _(STAGES.get(job.stage, job.stage)),
        "progress": round(job.progress or 0.0),
        "final": final,
        "error": storage.public_text(job.error, settings) if job.error else None,
        "plan_id": job.plan_id,
        "plan_url": f"{PREFIX}/plans/{job.plan_id}" if job.plan_id else None,
        "language": LANGUAGE_NAMES.get(job.language or "", ""),
        "created": local_time(job.created_at, settings.time_zone),
    }


@plan_pages.get("/jobs/{job_id}", response_class=HTMLResponse, name="office_job")
def job_page(
    job_id: str, request: Request, session: SessionDep, settings: SettingsDep, who: OfficeDep
) -> Any:
    """A plan job: its progress (the page polls it while it runs), then its plan."""
    job = jobs.get_job(session, who, job_id)
    row = scope.get_scenario(session, who, job.scenario_id)
    return page(
        request,
        settings,
        "job.html",
        who,
        job=_job_facts(job, settings),
        scenario=_scenario_facts(row, settings.time_zone),
        progress_url=f"{PREFIX}/jobs/{job.id}/progress",
    )


@plan_pages.get("/jobs/{job_id}/progress", name="office_job_progress")
def job_progress(
    job_id: str, session: SessionDep, settings: SettingsDep, who: OfficeDep
) -> JSONResponse:
    """What the job page's script polls: state, stage and progress in the page's language."""
    return JSONResponse(_job_facts(jobs.get_job(session, who, job_id), settings))


@plan_pages.get("/plans/{plan_id}", response_class=HTMLResponse, name="office_plan_page")
def plan_page(
    plan_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    who: CallerDep,
    sort: str = "unfilled",
) -> Any:
    """A plan: what an office decides on first (counties, relay posts, budget, unplaced; office
    keys), the map, the workbook, then the optimiser's numbers folded."""
    plan, row = plans.get_plan(session, who, plan_id)
    folder = storage.plan_dir(settings, plan.id)
    summary = results.summary(folder)
    stages = plan.stages.split(",")
    allocation = "allocation" in stages
    return page(
        request,
        settings,
        "plan.html",
        who,
        plan={"id": plan.id, "created": local_time(plan.created_at, settings.time_zone)},
        scenario={
            "name": row.name,
            "provinces": ", ".join(place_name(p) or p for p in sorted(scope.provinces(row))),
        },
        facts=_plan_facts(summary),
        technical=_technical_facts(summary),
        workbook=allocation and who.writes,
        outcome=outcome_of(folder, summary.plan, sort)
        if allocation and who.writes and summary.plan is not None
        else None,
        sort=sort,
    )


def _plan_facts(summary: SummaryFile) -> list[tuple[str, str]]:
    """The plan's main numbers, labelled in the language of the moment."""
    facts: list[tuple[str, str]] = []
    plan = summary.plan
    if plan is not None:
        counts = plan.counts
        facts += [
            (_("status"), STATUS.label(plan.status) if plan.status else ""),
            (_("placed / applicants"), f"{counts.placed:,} / {counts.applicants:,}"),
            (
                _("quota units unfilled"),
                _("{n:,} of {total:,}", n=counts.quota_unfilled_units, total=counts.quota_units),
            ),
            (
                _("relay seats empty"),
                _("{n:,} of {total:,}", n=counts.relay_empty_seats, total=counts.relay_open_seats),
            ),
            (_("budget (CNY / year)"), f"{plan.budget_cny.total:,}"),
        ]
    routing = summary.routing
    if routing is not None and routing.demand:  # no routing facts without vehicles and stops
        facts += [
            (_("routes"), f"{routing.routes:,}"),
            (
                _("clients served"),
                _("{n:,} of {total:,}", n=routing.served, total=routing.demand),
            ),
            (
                _("townships at target"),
                _("{n:,} of {total:,}", n=routing.townships_met, total=routing.townships),
            ),
        ]
    return facts


def _technical_facts(summary: SummaryFile) -> list[tuple[str, str]]:
    """The optimiser's numbers (objective, bound, gap, the six terms), for the folded 技术细节."""
    plan = summary.plan
    if plan is None:
        return []
    gap = plan.gap
    facts = [
        (_("objective"), f"{plan.objective:,.2f}"),
        (_("Proven lower bound"), f"{plan.lower_bound:,.2f}"),
        (_("gap"), f"{gap:.4%}" if math.isfinite(gap) else str(gap)),
    ]
    facts += [(_(TERMS.get(k, k)), f"{v:,.2f}") for k, v in plan.terms.to_dict().items()]
    return facts


@plan_pages.get(
    "/plans/{plan_id}/map",
    name="office_map",
    dependencies=[Depends(audited("download", "map", caller=session_principal))],
)
async def plan_map(
    plan_id: str, request: Request, settings: SettingsDep, who: CallerDep
) -> Response:
    """The plan's map (as ``GET /api/v1/plans/{id}/map``), in the plan's language."""
    plan = await plan_for(request, who, plan_id)
    return await map_response(request, settings, plan, None)


@plan_pages.get(
    "/plans/{plan_id}/xlsx",
    name="office_xlsx",
    dependencies=[Depends(audited("download", "xlsx", caller=session_principal))],
)
def plan_xlsx(plan_id: str, session: SessionDep, settings: SettingsDep, who: OfficeDep) -> Any:
    """The plan's workbook ``plan.xlsx`` (as ``GET /api/v1/plans/{id}/xlsx``), named after
    the scenario and the day (``宁夏2026年西部计划-方案-2026-12-06.xlsx``)."""
    row = plans.get_plan(session, who, plan_id)[1]
    plan = plans.plan_ref(session, who, plan_id)
    name = _(
        "{scenario}-plan-{date}.xlsx",
        scenario=row.name,
        date=local_date(None, settings.time_zone),
    )
    return xlsx_response(settings, plan, name)
