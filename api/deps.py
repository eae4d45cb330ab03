"""FastAPI dependencies as ``Annotated`` aliases: settings, database session, runner, caller.

A key travels as ``Authorization: Bearer KEY``, ``X-API-Key: KEY`` or (for browsers, which
prompt for it) HTTP Basic with the key as the password.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import (
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from sqlalchemy.orm import Session

from api.jobs import JobRunner
from api.keys import Principal, principal_for
from api.server.problems import ApiProblem
from api.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer KEY")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: KEY")
_basic = HTTPBasic(auto_error=False, description="Browsers: any user name, the key as password")


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A database session for one request."""
    with request.app.state.sessions() as session:
        yield session


def get_runner(request: Request) -> JobRunner:
    """The app's job runner."""
    runner: JobRunner = request.app.state.runner
    return runner


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]


def optional_principal(
    session: SessionDep,
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
    who = principal_for(session, key)
    if who is None:
        raise ApiProblem(401, "unknown or revoked API key", headers=_challenge())
    return who


def _challenge() -> dict[str, str]:
    return {"WWW-Authenticate": 'Bearer, Basic realm="westplan"'}


def principal(who: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    """The caller; 401 without a key."""
    if who is None:
        raise ApiProblem(
            401,
            "no API key: send Authorization: Bearer KEY or X-API-Key: KEY",
            headers=_challenge(),
        )
    return who


def office(who: Annotated[Principal, Depends(principal)]) -> Principal:
    """A caller allowed to read everything in scope (not a viewer)."""
    if not who.writes:
        raise ApiProblem(403, "a viewer key reads plan summaries and maps only")
    return who


MaybeCallerDep = Annotated[Principal | None, Depends(optional_principal)]
CallerDep = Annotated[Principal, Depends(principal)]
"""Any valid key, viewers included (summaries, maps, the index)."""
OfficeDep = Annotated[Principal, Depends(office)]
"""National and province keys: read, upload, plan, cancel."""
