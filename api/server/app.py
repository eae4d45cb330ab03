"""The FastAPI application: settings, database, job runner, routes, error answers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.db.session import make_engine, session_factory, upgrade
from api.server.deps import KeyCache
from api.server.jobs import JobRunner
from api.server.problems import ApiProblem
from api.server.routes import api, root
from api.settings import Settings
from planner import __version__

log = logging.getLogger(__name__)

DESCRIPTION = """\
Plans of the College Graduates Volunteer Service Western Plan (大学生志愿服务西部计划) over HTTP.

Send the key as `Authorization: Bearer KEY` or `X-API-Key: KEY`. Upload a scenario zip
(`POST /api/v1/scenarios`, field `file`), start a plan (`POST /api/v1/scenarios/{id}/plans`),
poll the job (`GET /api/v1/jobs/{job_id}`), then read the plan's results.
"""


class UploadLimit:
    """Refuse an oversized upload from its Content-Length before reading the body (pure ASGI,
    so other requests pay nothing)."""

    PATH = "/api/v1/scenarios"

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == self.PATH:
            length = dict(scope["headers"]).get(b"content-length", b"")
            if length.isdigit() and int(length) > self.limit + 64 * 1024:
                answer = JSONResponse(
                    {
                        "detail": f"upload of {int(length):,} bytes is larger than "
                        f"{self.limit:,} bytes (PLANNER_MAX_UPLOAD_BYTES)"
                    },
                    status_code=413,
                )
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(settings: Settings | None = None, run_jobs: bool = True) -> FastAPI:
    """Build the app.

    Parameters
    ----------
    settings
        Default: read from ``PLANNER_*`` environment variables.
    run_jobs
        Start the job runner (off for a read-only replica).
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.auto_migrate:
            upgrade(settings.url)
        engine = make_engine(settings.url)
        app.state.sessions = session_factory(engine)
        app.state.runner = JobRunner(settings, app.state.sessions)
        if run_jobs:
            app.state.runner.start()
        try:
            yield
        finally:
            app.state.runner.stop()
            engine.dispose()

    app = FastAPI(
        title="westplan",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.keys = KeyCache(settings.key_cache_seconds)
    app.include_router(root)
    app.include_router(api)

    @app.exception_handler(ApiProblem)
    async def _problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail, **exc.extra}, status_code=exc.status, headers=exc.headers
        )

    app.add_middleware(UploadLimit, limit=settings.max_upload_bytes)
    return app
