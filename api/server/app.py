"""The FastAPI application: settings, database, job runner, routes, error answers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.core.audit import AuditLog
from api.core.errors import ServiceError
from api.core.settings import Settings
from api.core.throttle import Throttle
from api.db.session import make_engine, session_factory, upgrade
from api.server.decision_endpoints import decision_api
from api.server.decision_pages import decision_pages
from api.server.deps import KeyCache
from api.server.docs import docs
from api.server.endpoints import api, root
from api.server.jobs import JobRunner
from api.server.language import Language
from api.server.office import office, template_api
from api.server.pages import is_page, pages, problem_page
from api.server.placement_endpoints import placement_api, placement_pages
from api.server.plan_endpoints import plan_api
from api.server.plan_pages import plan_pages
from api.server.problems import ApiProblem
from api.server.roads_endpoints import roads_api
from api.server.security import BodyLimit, HeadAsGet, SecurityHeaders, ServerErrors, finite
from api.services import storage
from planner import __version__

log = logging.getLogger(__name__)

DESCRIPTION = """\
Plans of the College Graduates Volunteer Service Western Plan (大学生志愿服务西部计划) over HTTP.

Send the key as `Authorization: Bearer KEY` or `X-API-Key: KEY`. Upload a scenario zip or
.xlsx workbook (`POST /api/v1/scenarios`, field `file`), start a plan
(`POST /api/v1/scenarios/{id}/plans`), poll the job (`GET /api/v1/jobs/{job_id}`), then read
the plan's results. Messages (`detail`, a validation issue's `message`) are in the language of
`Accept-Language` (zh-CN or en), else the server's default; every other field is the same in
both. People use the office pages at `/office` instead.
"""

ROUTERS = (
    root,
    docs,
    api,
    plan_api,
    pages,
    plan_pages,
    office,
    template_api,
    placement_pages,
    placement_api,
    decision_api,
    roads_api,
    decision_pages,
)
"""The routers of the app, in the order their routes are matched (and documented)."""


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
        with storage.private_umask():  # applicant data: files 0600, folders 0700
            storage.make_private(settings)
            if settings.auto_migrate:
                upgrade(settings.url)
            engine = make_engine(settings.url)
            app.state.sessions = session_factory(engine)
            app.state.runner = JobRunner(settings, app.state.sessions)
            app.state.audit = AuditLog(app.state.sessions, settings.audit_flush_seconds)
            app.state.audit.start()
            if run_jobs:
                app.state.runner.start()
            try:
                yield
            finally:
                app.state.runner.stop()
                app.state.audit.stop()
                engine.dispose()

    app = FastAPI(
        title="westplan",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc from the service's own files (api.server.docs)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.throttle = Throttle(settings.auth_failures_per_minute, settings.throttle_storage)
    app.state.keys = KeyCache(settings.key_cache_seconds)
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(ApiProblem)
    async def _problem(request: Request, exc: ApiProblem) -> Response:
        # rendered in a worker thread: a page or report of a large upload must not stall
        # the event loop (and /healthz with it)
        if is_page(request.url.path):
            return await run_in_threadpool(problem_page, request, exc)
        body = await run_in_threadpool(exc.body)
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Response:
        # a service's domain error is answered as its HTTP problem (api.server.problems.STATUS)
        return await _problem(request, ApiProblem.of(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own answer, except that a NaN or infinite input (which JSON cannot carry)
        # is named by its text instead of failing the answer with a 500
        return JSONResponse({"detail": finite(jsonable_encoder(exc.errors()))}, status_code=422)

    app.add_middleware(
        BodyLimit, upload_limit=settings.max_upload_bytes, body_limit=settings.max_body_bytes
    )
    app.add_middleware(ServerErrors)  # inside the headers and the language: a 500 has both
    app.add_middleware(Language)  # the request's language, for everything inside it
    app.add_middleware(SecurityHeaders)  # outside the others: every answer has the headers
    app.add_middleware(HeadAsGet)  # outermost: the headers are those of the GET
    return app
