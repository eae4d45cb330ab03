"""The office pages' frame: sign in with a key, the session, the forms' tokens, the language
switch, rendering a page and a problem as a page, in zh-CN or en. The pages themselves are
:mod:`api.server.plan_pages` (scenarios, plan jobs, plans), :mod:`api.server.office`
(template, keys) and :mod:`api.server.placement_endpoints` (who goes where).

Server-rendered HTML (Jinja2 templates in ``api/server/templates``, one style sheet and one
small script served from ``api/server/static``; nothing inline, nothing from elsewhere, so the
pages run under the same hash-based Content-Security-Policy as every page of the service).

- **Sign-in**: a form takes the key; the key is checked exactly as an API call's is
  (:func:`~api.server.deps.authenticate`: throttle, failed-authentication count, audit) and
  a session starts (:mod:`api.core.logins`): an HttpOnly, SameSite=Strict cookie, Secure when the
  page is served over HTTPS. Every page then acts as that key: the same services of
  :mod:`api.services` and the same role checks as the JSON API
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
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.core import logins
from api.core.api_keys import Principal
from api.core.audit import Event, role_of
from api.core.errors import Invalid, NotFound
from api.core.settings import Settings
from api.server.deps import (
    AuthFirst,
    SessionDep,
    SettingsDep,
    audited,
    authenticate,
    gate_of,
    record,
    refuse_cross_origin_write,
    require_office,
    session_principal,
)
from api.server.language import COOKIE as LANGUAGE_COOKIE
from api.server.problems import ApiProblem
from api.server.templating import render_template
from geodata.shown import place_name
from planner import i18n
from planner.i18n import N_, _
from planner.issues import Report, Severity

PREFIX = "/office"
CSRF_COOKIE = "wp_csrf"
"""A random value of the browser's, the base of the forms' tokens (HttpOnly, SameSite=Strict)."""
CSRF_FIELD = "csrf"
STATIC = Path(__file__).parent / "static"
_MEDIA = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

pages = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=AuthFirst)

SEVERITIES = {Severity.ERROR: N_("error"), Severity.WARNING: N_("warning")}
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


def go(target: str) -> RedirectResponse:
    """A redirect to ``target`` after a form (303: the browser fetches it with ``GET``)."""
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
        return go(f"{PREFIX}/sign-in?{urlencode({'next': _here(request)})}")
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
    response = go(_safe_next(next))
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
    response = go(f"{PREFIX}/sign-in")
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
        raise Invalid(
            N_("language {lang!r}; expected one of {languages}"),
            lang=lang,
            languages=", ".join(i18n.LANGUAGES),
        )
    response = go(_safe_next(next))
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
        raise NotFound(N_("no file {name!r}"), name=name)
    headers = {"Cache-Control": "public, max-age=3600"}
    return Response(_asset(name), media_type=_MEDIA[Path(name).suffix], headers=headers)
