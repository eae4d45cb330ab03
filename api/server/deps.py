"""FastAPI dependencies as ``Annotated`` aliases: settings, database session, runner, caller.

A key travels as ``Authorization: Bearer KEY``, ``X-API-Key: KEY`` or (for browsers, which
prompt for it) HTTP Basic with the key as the password.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import (
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.keys import Principal, principal_for
from api.server import store
from api.server.jobs import JobRunner
from api.server.problems import ApiProblem
from api.settings import Settings

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
    cache: KeyCache = request.app.state.keys
    found, who = cache.get(key)
    if not found:
        who = await run_in_threadpool(cache.load, request.app.state.sessions, key)
    if who is None:
        raise ApiProblem(401, "unknown or revoked API key", headers=_challenge())
    return who


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
    return {"WWW-Authenticate": 'Bearer, Basic realm="westplan"'}


async def principal(who: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    """The caller; 401 without a key."""
    if who is None:
        raise ApiProblem(
            401,
            "no API key: send Authorization: Bearer KEY or X-API-Key: KEY",
            headers=_challenge(),
        )
    return who


async def office(who: Annotated[Principal, Depends(principal)]) -> Principal:
    """A caller allowed to read everything in scope (not a viewer)."""
    if not who.writes:
        raise ApiProblem(403, "a viewer key reads plan summaries and maps only")
    return who


MaybeCallerDep = Annotated[Principal | None, Depends(optional_principal)]
CallerDep = Annotated[Principal, Depends(principal)]
"""Any valid key, viewers included (summaries, maps, the index)."""


async def visible_plan(plan_id: str, request: Request, who: CallerDep) -> store.PlanRef:
    """The plan in the path, if the caller (viewers included) sees it."""
    return await plan_for(request, who, plan_id)


VisiblePlanDep = Annotated[store.PlanRef, Depends(visible_plan)]
OfficeDep = Annotated[Principal, Depends(office)]
"""National and province keys: read, upload, plan, cancel."""
