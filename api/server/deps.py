"""FastAPI dependencies as ``Annotated`` aliases: settings, database session, runner, caller.

A key travels as ``Authorization: Bearer KEY``, ``X-API-Key: KEY`` or (for browsers, which
prompt for it) HTTP Basic with the key as the password. The office pages (:mod:`api.server.pages`)
sign in with a key once and then carry a session cookie (:mod:`api.sessions`); both end in the
same :class:`~api.keys.Principal` and the same role checks (:func:`require_office`,
:func:`require_national`), throttle and audit trail.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import (
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api import sessions as web_sessions
from api.audit import AuditLog, Event, outcome_of, role_of
from api.keys import Principal, principal_for
from api.server import store
from api.server.jobs import JobRunner
from api.server.problems import ApiProblem
from api.settings import Settings
from api.throttle import Throttle, key_prefix
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


async def optional_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> Principal | None:
    """The caller, None when no key was sent; 401 for an unknown or revoked key."""
    key = (
        (bearer.credentials if bearer else None)
        or header
        or (basic.password if basic and basic.password else None)
    )
    if not key:
        return None
    return await authenticate(request, key, _challenge())


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
    a valid session (none, expired, signed out, or its key revoked)."""
    token = request.cookies.get(web_sessions.COOKIE)
    if not token:
        return None

    def load() -> Principal | None:
        with request.app.state.sessions() as session:
            return web_sessions.principal_of(session, token)

    return await run_in_threadpool(load)


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


async def plan_for(request: Request, who: Principal | None, plan_id: str) -> store.PlanRef:
    """A plan's scope, from the cache or (in a thread) the database; 404 when not visible."""
    ref = store.cached_plan_ref(plan_id)
    if ref is None:

        def load() -> store.PlanRef:
            with request.app.state.sessions() as session:
                return store.plan_ref(session, None, plan_id)

        ref = await run_in_threadpool(load)
    return store.check_plan(ref, who)


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
    """``who`` if it may read everything in scope, upload and plan (not a viewer); else 403."""
    if not who.writes:
        raise ApiProblem(403, N_("a viewer key reads plan summaries and maps only"))
    return who


def require_national(who: Principal) -> Principal:
    """``who`` if it is a national key; else 403."""
    if who.role != "national":
        raise ApiProblem(403, N_("only a national key reads the audit trail"))
    return who


async def office(who: Annotated[Principal, Depends(principal)]) -> Principal:
    """A caller allowed to read everything in scope (not a viewer)."""
    return require_office(who)


MaybeCallerDep = Annotated[Principal | None, Depends(optional_principal)]
CallerDep = Annotated[Principal, Depends(principal)]
"""Any valid key, viewers included (summaries, maps, the index)."""


async def visible_plan(plan_id: str, request: Request, who: CallerDep) -> store.PlanRef:
    """The plan in the path, if the caller (viewers included) sees it."""
    return await plan_for(request, who, plan_id)


VisiblePlanDep = Annotated[store.PlanRef, Depends(visible_plan)]
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

    return dependency
