"""FastAPI dependencies as ``Annotated`` aliases: settings, database session, runner, caller.

A key travels as ``Authorization: Bearer KEY``, ``X-API-Key: KEY`` or (for browsers, which
prompt for it) HTTP Basic with the key as the password. The office pages (:mod:`api.server.pages`)
sign in with a key once and then carry a session cookie (:mod:`api.core.logins`); both end in the
same :class:`~api.core.api_keys.Principal` and the same role checks (:func:`require_office`,
:func:`require_national`), throttle and audit trail.

Forged requests: what a browser sends by itself (its saved Basic credentials, a cookie) could
be sent by any other site's page. So HTTP Basic authorises reads only (a write with it answers
403, whatever the request says of its origin), and a write carrying the office pages' session
answers 403 when the browser says it comes from another origin (``Sec-Fetch-Site``, else
``Origin``), on top of the forms' tokens. Bearer and X-API-Key, which a browser never adds by
itself to another site's request, are unaffected.

Routes of the routers made with :class:`AuthFirst` authenticate a write (and check its role)
before its body is read, so a request without a key or with a viewer's is refused without
reading the upload it announces.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import (
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.core import logins
from api.core.api_keys import Principal, principal_for
from api.core.audit import AuditLog, Event, outcome_of, role_of
from api.core.errors import Forbidden, ServiceError
from api.core.settings import Settings
from api.core.throttle import Throttle, key_prefix
from api.server.jobs import JobRunner
from api.server.problems import ApiProblem
from api.services.plans import PlanRef, cached_plan_ref, check_plan, plan_ref
from planner.i18n import N_

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer KEY")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: KEY")
_basic = HTTPBasic(auto_error=False, description="Browsers: any user name, the key as password")

# Dependencies that do no I/O are ``async def``: FastAPI runs them on the event loop instead
# of handing each to the thread pool (which costs more than the work under load).


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A database session for one request (it connects lazily, in the route's thread)."""
    session: Session = request.app.state.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():  # returning the connection may block: off the loop
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_runner(request: Request) -> JobRunner:
    """The app's job runner."""
    runner: JobRunner = request.app.state.runner
    return runner


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]


class KeyCache:
    """Key lookups reused for ``seconds`` (0 = always ask the database)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._hits: dict[str, tuple[float, Principal | None]] = {}

    def get(self, key: str) -> tuple[bool, Principal | None]:
        """(found, caller) from the cache, without I/O."""
        hit = self._hits.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def load(self, sessions: sessionmaker[Session], key: str) -> Principal | None:
        """Ask the database (blocking) and remember the answer."""
        with sessions() as session:
            who = principal_for(session, key)
        if self.seconds > 0:
            if len(self._hits) > 10_000:
                self._hits.clear()
            self._hits[key] = (time.monotonic() + self.seconds, who)
        return who


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Methods that change something: never authorised by what a browser sends by itself."""


async def optional_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> Principal | None:
    """The caller, None when no key was sent; 401 for an unknown or revoked key; 403 for a
    write authenticated by HTTP Basic (a browser sends saved credentials by itself, also in a
    request another site's page makes it send)."""
    known: Principal | None = getattr(request.state, "key_caller", None)
    if known is not None:  # checked before the body was read (:class:`AuthFirst`)
        return known
    key = (bearer.credentials if bearer else None) or header
    if not key and basic and basic.password:
        if request.method in UNSAFE_METHODS:
            raise ApiProblem(
                403,
                N_(
                    "HTTP Basic (a key the browser saved) is accepted for reading only, because "
                    "another site's page could make the browser send it; send the key as "
                    "Authorization: Bearer KEY or X-API-Key: KEY, or use the office pages at "
                    "/office"
                ),
                audit="HTTP Basic write refused",
            )
        key = basic.password
    if not key:
        return None
    who = await authenticate(request, key, _challenge())
    request.state.key_caller = who
    return who


async def key_caller(request: Request) -> Principal | None:
    """:func:`optional_principal` of a request, called outside FastAPI's dependency solving."""
    return await optional_principal(
        request, await _bearer(request), await _header(request), await _basic(request)
    )


def own_origin(request: Request) -> str:
    """The service's origin: that of ``PLANNER_BASE_URL``, else the one the request was sent
    to (used to compare with a browser's ``Origin`` only, never to build a link)."""
    settings: Settings = request.app.state.settings
    if settings.base_url:
        parts = urlsplit(settings.base_url)
        return f"{parts.scheme}://{parts.netloc}".lower()
    return f"{request.url.scheme}://{request.headers.get('host', '')}".lower()


def from_another_origin(request: Request) -> bool:
    """Whether the browser says the request comes from a page of another origin:
    ``Sec-Fetch-Site`` other than ``same-origin`` or ``none`` (another port of the same host is
    ``same-site``: another origin too), else an ``Origin`` other than the service's own. A
    request that says neither (not a browser, or ``Origin: null`` under the pages'
    ``Referrer-Policy``) is not taken as cross-origin; the forms' tokens cover it."""
    site = request.headers.get("sec-fetch-site")
    if site:
        return site.lower() not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return False
    return origin.lower() != own_origin(request)


def refuse_cross_origin_write(request: Request) -> None:
    """403 for a write that a browser says comes from another site's page."""
    if request.method in UNSAFE_METHODS and from_another_origin(request):
        raise ApiProblem(
            403,
            N_(
                "this request comes from another site's page and is refused; open this "
                "service's own page and send the form from there"
            ),
            audit="cross-origin write refused",
        )


async def authenticate(request: Request, key: str, headers: dict[str, str] | None) -> Principal:
    """The holder of ``key``: refused with 429 while its address or prefix is throttled, 401
    (counted and audited as a failed authentication) for an unknown or revoked key."""
    prefix = key_prefix(key)
    await refuse_if_throttled(request, prefix)
    cache: KeyCache = request.app.state.keys
    found, who = cache.get(key)
    if not found:
        who = await run_in_threadpool(cache.load, request.app.state.sessions, key)
    if who is None:
        await failed_auth(request, prefix, "unknown or revoked key")
        raise ApiProblem(401, N_("unknown or revoked API key"), headers=headers)
    return who


async def session_principal(request: Request) -> Principal | None:
    """The caller of an office page: the key signed in with the session cookie, None without
    a valid session (none, expired, signed out, or its key revoked); 403 for a write with the
    cookie that the browser says comes from another site's page."""
    token = request.cookies.get(logins.COOKIE)
    if not token:
        return None
    refuse_cross_origin_write(request)
    known: Principal | None = getattr(request.state, "session_caller", None)
    if known is not None:  # looked up before the body was read (:class:`AuthFirst`)
        return known

    def load() -> Principal | None:
        with request.app.state.sessions() as session:
            return logins.principal_of(session, token)

    who = await run_in_threadpool(load)
    request.state.session_caller = who
    return who


def client_address(request: Request) -> str | None:
    """The client's address as the server sees it (a trusted proxy's X-Forwarded-For
    applies: uvicorn's ``--forwarded-allow-ips``)."""
    return request.client.host if request.client else None


def record(request: Request, event: Event) -> None:
    """Keep an audit event of this request (written in the background)."""
    audit: AuditLog = request.app.state.audit
    event.address = event.address or client_address(request)
    audit.record(event)


async def refuse_if_throttled(request: Request, prefix: str | None) -> None:
    """429 with Retry-After while the client's address or the key prefix is throttled."""
    throttle: Throttle = request.app.state.throttle
    wait = await throttle.retry_after(client_address(request), prefix)
    if wait is not None:
        record(request, Event("throttled", "refused", key_prefix=prefix, status=429))
        raise ApiProblem(
            429,
            N_(
                "too many failed authentications from this address or with this key in the "
                "last minute; try again in {seconds} s"
            ),
            headers={"Retry-After": str(wait)},
            seconds=wait,
        )


async def failed_auth(request: Request, prefix: str | None, detail: str) -> None:
    """Count a failed authentication against the address and prefix, and audit it."""
    throttle: Throttle = request.app.state.throttle
    await throttle.failed(client_address(request), prefix)
    record(request, Event("failed-auth", "refused", key_prefix=prefix, detail=detail, status=401))


async def plan_for(request: Request, who: Principal | None, plan_id: str) -> PlanRef:
    """A plan's scope, from the cache or (in a thread) the database; not found when not
    visible."""
    ref = cached_plan_ref(plan_id)
    if ref is None:

        def load() -> PlanRef:
            with request.app.state.sessions() as session:
                return plan_ref(session, None, plan_id)

        ref = await run_in_threadpool(load)
    return check_plan(ref, who)


def _challenge() -> dict[str, str]:
    # Basic alone: Chromium gives up on a header that also names Bearer and never prompts
    return {"WWW-Authenticate": 'Basic realm="westplan"'}


async def principal(who: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    """The caller; 401 without a key."""
    if who is None:
        raise ApiProblem(
            401,
            N_("no API key: send Authorization: Bearer KEY or X-API-Key: KEY"),
            headers=_challenge(),
        )
    return who


def require_office(who: Principal) -> Principal:
    """``who`` if it may read everything in scope, upload and plan (not a viewer); else
    forbidden."""
    if not who.writes:
        raise Forbidden(N_("a viewer key reads plan summaries and maps only"))
    return who


def require_national(who: Principal) -> Principal:
    """``who`` if it is a national key; else forbidden."""
    if who.role != "national":
        raise Forbidden(N_("only a national key reads the audit trail"))
    return who


async def office(who: Annotated[Principal, Depends(principal)]) -> Principal:
    """A caller allowed to read everything in scope (not a viewer)."""
    return require_office(who)


MaybeCallerDep = Annotated[Principal | None, Depends(optional_principal)]
CallerDep = Annotated[Principal, Depends(principal)]
"""Any valid key, viewers included (summaries, maps, the index)."""


async def visible_plan(plan_id: str, request: Request, who: CallerDep) -> PlanRef:
    """The plan in the path, if the caller (viewers included) sees it."""
    return await plan_for(request, who, plan_id)


VisiblePlanDep = Annotated[PlanRef, Depends(visible_plan)]
OfficeDep = Annotated[Principal, Depends(office)]
"""National and province keys: read, upload, plan, cancel."""


async def national(who: CallerDep) -> Principal:
    """A national key (the audit trail)."""
    return require_national(who)


NationalDep = Annotated[Principal, Depends(national)]


class AuditNote:
    """What a route adds to its audit event: the object it made, a detail."""

    __slots__ = ("detail", "object_id")

    def __init__(self, object_id: str | None, detail: str | None) -> None:
        self.object_id = object_id
        self.detail = detail


_OBJECT_PARAMS = ("plan_id", "sweep_id", "job_id", "scenario_id")


def audited(action: str, detail: str | None = None, caller: Any = optional_principal) -> Any:
    """A dependency that audits the route's ``action`` with its outcome (refusals included).

    The object is the path's plan, job or scenario id unless the route sets
    ``note.object_id`` (e.g. the id of a new scenario). ``caller`` is the dependency that
    finds the caller: a key (the API), or the session cookie (the office pages:
    :func:`session_principal`).
    """

    async def dependency(
        request: Request,
        who: Principal | None = Depends(caller),  # noqa: B008 (a default: see below)
    ) -> AsyncIterator[AuditNote]:
        # ``Depends`` as the default, not in ``Annotated``: with postponed annotations FastAPI
        # could not resolve the closure's ``caller`` from the annotation's text
        params = request.path_params
        note = AuditNote(next((params[p] for p in _OBJECT_PARAMS if p in params), None), detail)
        prefix, role, province = role_of(who)
        if who is None and "signature" in request.query_params:
            role = "link"
        status = 200
        try:
            yield note
            status = getattr(request.scope.get("route"), "status_code", None) or 200
        except ApiProblem as exc:
            status = exc.status
            note.detail = exc.audit or note.detail
            raise
        except ServiceError as exc:
            status = ApiProblem.of(exc).status
            note.detail = exc.audit or note.detail
            raise
        except HTTPException as exc:
            status = exc.status_code
            raise
        except RequestValidationError:
            status = 422
            raise
        except Exception:
            status = 500
            raise
        finally:
            record(
                request,
                Event(
                    action,
                    outcome_of(status),
                    key_prefix=prefix,
                    role=role,
                    province=province,
                    object_id=note.object_id,
                    detail=note.detail,
                    status=status,
                ),
            )

    dependency.audit_action = action  # type: ignore[attr-defined]  # read by AuthFirst
    return dependency


# --- authenticate before the body ------------------------------------------------------------

Gate = Callable[[Request], Awaitable[Principal]]
_GATES: dict[Callable[..., Any], Gate] = {}
"""The caller dependencies that refuse (401/403), each with the same check runnable on a
request whose body has not been read; the strictest first (registration order)."""


def gate_of(dependency: Callable[..., Any]) -> Callable[[Gate], Gate]:
    """Register ``check`` as what ``dependency`` refuses, to run before a write's body."""

    def register(check: Gate) -> Gate:
        _GATES[dependency] = check
        return check

    return register


@gate_of(office)
async def _office_gate(request: Request) -> Principal:
    return require_office(await principal(await key_caller(request)))


@gate_of(national)
async def _national_gate(request: Request) -> Principal:
    return require_national(await principal(await key_caller(request)))


@gate_of(principal)
async def _caller_gate(request: Request) -> Principal:
    return await principal(await key_caller(request))


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


class AuthFirst(APIRoute):
    """A route whose writes authenticate the caller and check its role before the body is
    read: a request without a key, with a bad key or with a viewer's answers 401/403 without
    the server reading the (up to ``PLANNER_MAX_UPLOAD_BYTES``) body it announces. The check
    is the one the route's own caller dependency makes (:func:`gate_of`); a refusal is audited
    as the route's action."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not (self.methods or set()) & UNSAFE_METHODS:
            return handler
        calls = set(_calls(self.dependant))
        check = next((g for dep, g in _GATES.items() if dep in calls), None)
        if check is None:
            return handler
        action = next((c.audit_action for c in calls if hasattr(c, "audit_action")), None)

        async def authenticated_first(request: Request) -> Response:
            try:
                await check(request)
            except (ApiProblem, ServiceError) as error:
                exc = error if isinstance(error, ApiProblem) else ApiProblem.of(error)
                if action is not None and exc.status != 429:  # (a 429 is audited already)
                    object_id = next(
                        (
                            request.path_params[p]
                            for p in _OBJECT_PARAMS
                            if p in request.path_params
                        ),
                        None,
                    )
                    prefix, role, province = role_of(getattr(request.state, "key_caller", None))
                    record(
                        request,
                        Event(
                            action,
                            outcome_of(exc.status),
                            key_prefix=prefix,
                            role=role,
                            province=province,
                            object_id=object_id,
                            detail=exc.audit,
                            status=exc.status,
                        ),
                    )
                raise
            return await handler(request)

        return authenticated_first
