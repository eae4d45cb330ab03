"""What the JSON API and the office pages answer alike: a scenario's public fields, links
under ``PLANNER_BASE_URL``, downloads, a plan's workbook and map, a page the service wrote.

Both :mod:`api.server.endpoints` and :mod:`api.server.pages` import from here; neither
imports the other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Query, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from api.core.settings import Settings
from api.db.models import ScenarioRow
from api.server import security
from api.server.schemas import Problem
from api.services import results
from api.services.plans import PlanRef, plan_folder, plan_language
from api.services.scope import provinces

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No key, or an unknown or revoked key."},
    403: {"model": Problem, "description": "The key's role does not allow this."},
    404: {"model": Problem, "description": "Unknown, or outside the key's province."},
}
"""The refusals every route of ``/api/v1`` documents."""
ProvinceQ = Annotated[
    str | None, Query(pattern=r"^\d{2}0000$", description="Province code, e.g. 520000.")
]
CountyQ = Annotated[str | None, Query(pattern=r"^\d{6}$", description="County code.")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` for a download named ``filename`` (RFC 6266 and RFC 5987:
    an ASCII fallback, and the UTF-8 name that browsers use)."""
    fallback = "".join(ch if ch.isascii() and ch not in '"\\;' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def scenario_public(row: ScenarioRow) -> dict[str, Any]:
    """A stored scenario's fields (:class:`~api.server.schemas.ScenarioPublic`)."""
    return {
        "id": row.id,
        "name": row.name,
        "year": row.year,
        "synthetic": row.synthetic,
        "filename": row.filename,
        "provinces": sorted(provinces(row)),
        "tables": row.tables,
        "created_at": row.created_at,
    }


def link(request: Request, name: str, **params: str) -> str:
    """The link to the route ``name``: under ``PLANNER_BASE_URL`` when it is set, else
    relative to the server's root; never from the request's ``Host`` header, which the client
    chooses."""
    settings: Settings = request.app.state.settings
    return settings.link(str(request.app.url_path_for(name, **params)))


def xlsx_response(settings: Settings, plan: PlanRef, filename: str | None = None) -> FileResponse:
    """A plan's ``plan.xlsx`` as a download (the API's and the office pages', which name it
    after the scenario and the date)."""
    path = results.xlsx_file(plan_folder(settings, plan))
    return FileResponse(path, media_type=XLSX, filename=filename or f"plan-{plan.id}.xlsx")


async def map_response(
    request: Request, settings: Settings, plan: PlanRef, province: str | None
) -> Response:
    """A plan's map page (the API's and the office pages'): drawn once in the plan's language,
    then served from the file (gzip when the client accepts it) with the policy it carries."""
    folder = plan_folder(settings, plan)
    path = results.cached_map(folder, province)
    if path is None:  # render once, off the event loop

        def draw() -> Path:
            with request.app.state.sessions() as session:
                language = plan_language(session, plan.id)
            return results.map_html(folder, province, language)

        path = await run_in_threadpool(draw)
    return await page_file_response(request, path)


async def page_file_response(request: Request, path: Path) -> Response:
    """A page the service wrote (a map, a sweep's page), written once and never changed:
    from memory or the file, gzip when the client accepts it, with the policy it carries."""
    headers = {"Vary": "Accept-Encoding", "Content-Security-Policy": security.page_policy(path)}
    if "gzip" in request.headers.get("accept-encoding", ""):
        gz = path.with_name(path.name + ".gz")
        path = gz if gz.is_file() else await run_in_threadpool(results.gzipped, path)
        headers["Content-Encoding"] = "gzip"
    body = results.cached_bytes(path) or await run_in_threadpool(results.load_bytes, path)
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)
