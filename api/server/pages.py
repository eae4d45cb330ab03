"""The office pages: sign in with a key, upload a scenario, read its validation, plan, watch the
job, open the map, download the workbook, in zh-CN or en.

Server-rendered HTML (Jinja2 templates in ``api/server/templates``, one style sheet and one
small script served from ``api/server/static``; nothing inline, nothing from elsewhere, so the
pages run under the same hash-based Content-Security-Policy as every page of the service).

- **Sign-in**: a form takes the key; the key is checked exactly as an API call's is
  (:func:`~api.server.deps.authenticate`: throttle, failed-authentication count, audit) and
  a session starts (:mod:`api.core.logins`): an HttpOnly, SameSite=Strict cookie, Secure when the
  page is served over HTTPS. Every page then acts as that key: the same services of
  :mod:`api.server.store` and the same role checks as the JSON API
  (:func:`~api.server.deps.require_office`), so a province key sees its province only and a
  viewer reads plans and maps only.
- **CSRF**: every form that changes something carries a token, the HMAC (with the service's
  secret) of a random cookie of the browser's and its session; a form without it, or with
  another's, is refused with 403.
- **Language**: a switch on every page (remembered in the ``wp_lang`` cookie), else the
  browser's ``Accept-Language``, else the server's default (:mod:`api.server.language`); a plan
  started here writes its files in the language of the page it was started from.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.core import logins
from api.core.api_keys import Principal
from api.core.audit import Event, role_of
from api.core.roads import networks
from api.core.settings import Settings
from api.db.models import ScenarioRow
from api.server import results, store
from api.server.deps import (
    AuditNote,
    AuthFirst,
    RunnerDep,
    SessionDep,
    SettingsDep,
    audited,
    authenticate,
    gate_of,
    plan_for,
    record,
    refuse_cross_origin_write,
    require_office,
    session_principal,
)
from api.server.endpoints import map_response, scenario_public, xlsx_response
from api.server.language import COOKIE as LANGUAGE_COOKIE
from api.server.outcome import outcome_of
from api.server.problems import ApiProblem
from api.server.schemas import JobCreate
from api.server.templating import render_template
from api.server.times import local_date, local_time
from geodata.plan_xlsx import TERMS
from geodata.shown import place_name
from planner import i18n
from planner.i18n import N_, _
from planner.issues import Report, Severity
from planner.labels import STATUS
from planner.schema import TABLES
from planner.summaries import SummaryFile

PREFIX = "/office"
CSRF_COOKIE = "wp_csrf"
"""A random value of the browser's, the base of the forms' tokens (HttpOnly, SameSite=Strict)."""
CSRF_FIELD = "csrf"
STATIC = Path(__file__).parent / "static"
_MEDIA = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

pages = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=AuthFirst)

SEVERITIES = {Severity.ERROR: N_("error"), Severity.WARNING: N_("warning")}
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
ROLES = {"national": N_("national"), "province": N_("province {province}"), "viewer": N_("viewer")}
LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}
"""Each language named in itself, as a language switch shows it."""


def is_page(path: str) -> bool:
    """Whether ``path`` is one of the office pages (whose problems answer as pages)."""
    return path == PREFIX or path.startswith(PREFIX + "/")


# --- cookies and the forms' tokens -----------------------------------------------------------


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _set_cookie(
    response: Response, request: Request, name: str, value: str, path: str = PREFIX
) -> None:
    response.set_cookie(
        name, value, path=path, httponly=True, samesite="strict", secure=_secure(request)
    )


def _csrf_base(request: Request) -> tuple[str, bool]:
    """The browser's CSRF cookie (made when it has none: then ``True``)."""
    found = request.cookies.get(CSRF_COOKIE)
    if found:
        return found, False
    made: str | None = getattr(request.state, "csrf_base", None)
    if made is None:
        made = secrets.token_urlsafe(32)
        request.state.csrf_base = made
    return made, True


def _csrf_token(settings: Settings, base: str, session_token: str | None) -> str:
    message = f"csrf|{base}|{session_token or ''}".encode()
    return hmac.new(settings.secret(), message, hashlib.sha256).hexdigest()


async def checked_form(
    request: Request,
    settings: SettingsDep,
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> None:
    """Refuse (403) a form that the browser says comes from another site's page, or whose
    token is not the one this browser's pages carry."""
    refuse_cross_origin_write(request)
    base = request.cookies.get(CSRF_COOKIE)
    expected = _csrf_token(settings, base, request.cookies.get(logins.COOKIE)) if base else ""
    if not (base and csrf and hmac.compare_digest(csrf, expected)):
        raise ApiProblem(
            403,
            N_(
                "this form's security token is missing or out of date; reload the page and "
                "send the form again"
            ),
        )


CheckedForm = Depends(checked_form)


# --- who is signed in ------------------------------------------------------------------------


PageCaller = Annotated[Principal | None, Depends(session_principal)]


async def signed_in(request: Request, who: PageCaller) -> Principal:
    """The signed-in caller; without a session the page sends the browser to the sign-in."""
    if who is None:
        raise ApiProblem(401, N_("sign in with your key first"))
    request.state.page_caller = who  # a problem page shows who is signed in too
    return who


async def signed_in_office(who: Annotated[Principal, Depends(signed_in)]) -> Principal:
    """A signed-in national or province key (viewers: 403, as in the JSON API)."""
    return require_office(who)


@gate_of(signed_in_office)
async def _office_gate(request: Request) -> Principal:
    return require_office(await signed_in(request, await session_principal(request)))


@gate_of(signed_in)
async def _caller_gate(request: Request) -> Principal:
    return await signed_in(request, await session_principal(request))


CallerDep = Annotated[Principal, Depends(signed_in)]
OfficeDep = Annotated[Principal, Depends(signed_in_office)]


def _role(who: Principal | None) -> str:
    if who is None:
        return ""
    shown = place_name(who.province or "") or who.province
    return _(ROLES.get(who.role, who.role), province=shown)


# --- rendering -------------------------------------------------------------------------------


def page(
    request: Request,
    settings: Settings,
    template: str,
    who: Principal | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page in the language of the moment, with what every page shows: the language switch,
    who is signed in, the sign-out form, and the forms' token (a new browser gets its CSRF
    cookie with it)."""
    base, new = _csrf_base(request)
    lang = i18n.language()
    html = render_template(
        template,
        lang=lang,
        languages=[(code, LANGUAGE_NAMES[code], code == lang) for code in i18n.LANGUAGES],
        here=_here(request),
        csrf=_csrf_token(settings, base, request.cookies.get(logins.COOKIE)),
        who=who,
        role=_role(who),
        url=lambda name, **params: request.app.url_path_for(name, **params),
        static=lambda name: request.app.url_path_for("office_static", name=name),
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    if new:
        _set_cookie(response, request, CSRF_COOKIE, base)
    return response


def _here(request: Request) -> str:
    """The page to come back to (after the language switch, the sign-in): this one, unless it
    answered a form (a ``POST`` cannot be repeated by a link): then the start page."""
    if request.method != "GET":
        return PREFIX
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _safe_next(target: str | None) -> str:
    """Where to go after a form: a path of these pages, else the start page (never another
    site: ``//host`` and ``\\`` are refused)."""
    path = (target or "").split("?", 1)[0]
    if target and is_page(path) and not any(bad in target for bad in ("//", "\\", "..")):
        return target
    return PREFIX


def _go(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def issue_rows(report: Report) -> list[dict[str, str]]:
    """The rows of a validation table in the language of the moment: severity, where (a
    workbook's cell, else file, line and column), rule, message."""
    return [
        {
            "severity": _(SEVERITIES[i.severity]),
            "kind": i.severity.value,
            "where": i.where(),
            "rule": i.rule,
            "message": i.message,
        }
        for i in report.sorted()
    ]


def problem_page(request: Request, problem: ApiProblem) -> Response:
    """How a page answers a problem: to the sign-in without a session, else a page naming the
    problem (with the validation table when an upload had errors, and the form again)."""
    settings: Settings = request.app.state.settings
    if problem.status == 401 and request.url.path != f"{PREFIX}/sign-in":
        return _go(f"{PREFIX}/sign-in?{urlencode({'next': _here(request)})}")
    who: Principal | None = getattr(request.state, "page_caller", None)
    if request.url.path == f"{PREFIX}/sign-in":
        response = page(
            request,
            settings,
            "sign_in.html",
            None,
            status=problem.status,
            problem=problem.detail,
            next=_safe_next(
                getattr(request.state, "next", None) or request.query_params.get("next")
            ),
        )
    else:
        report = problem.report
        response = page(
            request,
            settings,
            "problem.html",
            who,
            status=problem.status,
            problem=problem.detail,
            issues=issue_rows(report) if report is not None else [],
            upload_again=request.url.path == f"{PREFIX}/scenarios" and who is not None,
        )
    for name, value in (problem.headers or {}).items():
        if name.lower() != "www-authenticate":
            response.headers[name] = value
    return response


# --- sign-in, sign-out, language, assets -----------------------------------------------------


@pages.get("/sign-in", response_class=HTMLResponse, name="office_sign_in")
def sign_in_page(
    request: Request, settings: SettingsDep, who: PageCaller, next: str | None = None
) -> HTMLResponse:
    """The sign-in form."""
    return page(request, settings, "sign_in.html", who, problem=None, next=_safe_next(next))


@pages.post("/sign-in", dependencies=[CheckedForm])
async def sign_in(
    request: Request,
    settings: SettingsDep,
    key: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = PREFIX,
) -> RedirectResponse:
    """Check the key as an API call's is (throttle, failures, audit); start a session."""
    request.state.next = next  # the form again after a refusal goes there too
    key = key.strip()
    if not key:
        raise ApiProblem(401, N_("enter your key"))
    who = await authenticate(request, key, None)
    key_id = who.key_id
    assert key_id is not None

    def start() -> str:
        with request.app.state.sessions() as session:
            return logins.start(session, key_id, settings.session_seconds)

    token = await run_in_threadpool(start)
    prefix, role, province = role_of(who)
    record(request, Event("sign-in", "ok", key_prefix=prefix, role=role, province=province,
                          status=303))  # fmt: skip
    response = _go(_safe_next(next))
    _set_cookie(response, request, logins.COOKIE, token)
    return response


@pages.post(
    "/sign-out",
    name="office_sign_out",
    status_code=303,  # what it answers, and what the audit records
    dependencies=[CheckedForm, Depends(audited("sign-out", caller=session_principal))],
)
def sign_out(request: Request, session: SessionDep, who: CallerDep) -> RedirectResponse:
    """End the session (the cookie stops working everywhere it was copied to)."""
    token = request.cookies.get(logins.COOKIE)
    if token:
        logins.end(session, token)
    response = _go(f"{PREFIX}/sign-in")
    response.delete_cookie(
        logins.COOKIE, path=PREFIX, httponly=True, samesite="strict", secure=_secure(request)
    )
    return response


@pages.post("/language", name="office_language", dependencies=[CheckedForm])
def choose_language(
    request: Request,
    lang: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=2000)] = PREFIX,
) -> RedirectResponse:
    """The language switch: remember the choice in a cookie, go back to the page."""
    chosen = i18n.normalize(lang)
    if chosen is None:
        raise ApiProblem(
            422,
            N_("language {lang!r}; expected one of {languages}"),
            lang=lang,
            languages=", ".join(i18n.LANGUAGES),
        )
    response = _go(_safe_next(next))
    _set_cookie(response, request, LANGUAGE_COOKIE, chosen, path="/")
    return response


ASSETS = frozenset(p.name for p in STATIC.iterdir() if p.suffix in _MEDIA and p.is_file())
"""The files ``/office/static/`` serves: the style sheet and the script, nothing else."""


@functools.cache
def _asset(name: str) -> bytes:
    return (STATIC / name).read_bytes()


@pages.get("/static/{name}", name="office_static")
def static_file(name: str) -> Response:
    """The pages' style sheet and script (no other file is served from here)."""
    if name not in ASSETS:
        raise ApiProblem(404, N_("no file {name!r}"), name=name)
    headers = {"Cache-Control": "public, max-age=3600"}
    return Response(_asset(name), media_type=_MEDIA[Path(name).suffix], headers=headers)


# --- the pages -------------------------------------------------------------------------------


@pages.get("", response_class=HTMLResponse, name="office_home")
def home(request: Request, session: SessionDep, settings: SettingsDep, who: CallerDep) -> Any:
    """The start page: the plans this key sees; for office keys also its scenarios and the
    upload form."""
    plans = [
        {
            "id": p.id,
            "scenario": s.name,
            "provinces": ", ".join(place_name(p) or p for p in sorted(store.provinces(s))),
            "stages": [_(STAGES.get(x, x)) for x in p.stages.split(",") if x],
            "created": local_time(p.created_at, settings.time_zone),
        }
        for p, s in store.list_plans(session, who)
    ]
    scenarios = (
        [_scenario_facts(r, settings.time_zone) for r in store.list_scenarios(session, who)]
        if who.writes
        else []
    )
    return page(request, settings, "home.html", who, plans=plans, scenarios=scenarios)


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


@pages.post("/scenarios", name="office_upload", status_code=303, dependencies=[CheckedForm])
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
        raise ApiProblem(422, N_("choose a scenario file (.zip or .xlsx) first"))
    archive = store.Upload(file.filename, file.content_type, file.file)
    stored = store.create_scenario(session, settings, who, archive, [])
    note.object_id = stored.row.id
    if stored.existing:  # the same file again: its scenario, saying so
        note.detail = "same upload"
        return _go(f"{PREFIX}/scenarios/{stored.row.id}?same=1")
    return _go(f"{PREFIX}/scenarios/{stored.row.id}")


@pages.get("/scenarios/{scenario_id}", response_class=HTMLResponse, name="office_scenario")
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
    row = store.get_scenario(session, who, scenario_id)
    jobs = [
        _job_facts(j, settings.time_zone)
        for j in store.list_jobs(session, who, scenario_id)
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
        jobs=jobs,
        plans=sum(1 for j in jobs if j["plan_id"]),
        time_limit=settings.job_time_limit,
        roads=[n.public() for n in networks(settings.roads_dir)],
    )


@pages.post(
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
        raise ApiProblem(422, N_("tick the box to confirm that the scenario and its plans go"))
    gone = store.delete_scenario(session, settings, who, scenario_id)
    note.detail = f"plans {gone.plans}, sweeps {gone.sweeps}, {gone.bytes} bytes"
    return _go(PREFIX)


@pages.post(
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
        raise ApiProblem(
            422,
            N_("time limit {value!r}; expected seconds, more than 0 and at most 86,400"),
            value=time_limit,
        ) from None
    job = store.create_job(
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
    return _go(f"{PREFIX}/jobs/{job.id}")


def _job_facts(job: Any, zone: str) -> dict[str, Any]:
    final = job.state in store.FINAL
    return {
        "id": job.id,
        "state": job.state,
        "state_text": _(STATES.get(job.state, job.state)),
        "stage_text": _(STAGES.get(job.stage, job.stage)),
        "progress": round(job.progress or 0.0),
        "final": final,
        "error": store.without_server_paths(job.error) if job.error else None,
        "plan_id": job.plan_id,
        "plan_url": f"{PREFIX}/plans/{job.plan_id}" if job.plan_id else None,
        "language": LANGUAGE_NAMES.get(job.language or "", ""),
        "created": local_time(job.created_at, zone),
    }


@pages.get("/jobs/{job_id}", response_class=HTMLResponse, name="office_job")
def job_page(
    job_id: str, request: Request, session: SessionDep, settings: SettingsDep, who: OfficeDep
) -> Any:
    """A plan job: its progress (the page polls it while it runs), then its plan."""
    job = store.get_job(session, who, job_id)
    row = store.get_scenario(session, who, job.scenario_id)
    return page(
        request,
        settings,
        "job.html",
        who,
        job=_job_facts(job, settings.time_zone),
        scenario=_scenario_facts(row, settings.time_zone),
        progress_url=f"{PREFIX}/jobs/{job.id}/progress",
    )


@pages.get("/jobs/{job_id}/progress", name="office_job_progress")
def job_progress(
    job_id: str, session: SessionDep, settings: SettingsDep, who: OfficeDep
) -> JSONResponse:
    """What the job page's script polls: state, stage and progress in the page's language."""
    return JSONResponse(_job_facts(store.get_job(session, who, job_id), settings.time_zone))


@pages.get("/plans/{plan_id}", response_class=HTMLResponse, name="office_plan_page")
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
    plan = store.get_plan(session, who, plan_id)
    row = session.get(ScenarioRow, plan.scenario_id)
    assert row is not None
    folder = store.plan_dir(settings, plan.id)
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
            "provinces": ", ".join(place_name(p) or p for p in sorted(store.provinces(row))),
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


@pages.get(
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


@pages.get(
    "/plans/{plan_id}/xlsx",
    name="office_xlsx",
    dependencies=[Depends(audited("download", "xlsx", caller=session_principal))],
)
def plan_xlsx(plan_id: str, session: SessionDep, settings: SettingsDep, who: OfficeDep) -> Any:
    """The plan's workbook ``plan.xlsx`` (as ``GET /api/v1/plans/{id}/xlsx``), named after
    the scenario and the day (``宁夏2026年西部计划-方案-2026-12-06.xlsx``)."""
    plan = store.plan_ref(session, who, plan_id)
    row = session.get(ScenarioRow, store.get_plan(session, who, plan_id).scenario_id)
    name = _(
        "{scenario}-plan-{date}.xlsx",
        scenario=row.name if row is not None else plan.id,
        date=local_date(None, settings.time_zone),
    )
    return xlsx_response(settings, plan, name)
