"""The interactive API docs from the service's own files: Swagger UI at ``/docs``, ReDoc at
``/redoc``.

FastAPI's pages load Swagger UI and ReDoc from a CDN, which an intranet cannot reach (the page
stays blank) and which the Content-Security-Policy of every other page would not allow. Here
the same pages (``get_swagger_ui_html`` / ``get_redoc_html``) name the bundles that
``make assets`` installs, pinned and hash-checked, next to the map assets
(``maps/assets/package-lock.json``: ``swagger-ui-dist`` and ``redoc``'s standalone bundle),
and ``/docs/assets/{name}`` serves those files and nothing else. The pages' one inline
start-up script is hashed into their policy like any other page's
(:class:`api.server.security.SecurityHeaders`), so they run under the same policy as the
rest of the service: their own code and assets only.
"""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, Response

from api.core.errors import NotFound, Unavailable
from maps import csp, offline
from planner.i18n import N_

docs = APIRouter(include_in_schema=False)

DOCS = "/docs"
ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "favicon.png": "swagger-ui-dist/favicon-32x32.png",
    "redoc.standalone.js": "redoc/bundles/redoc.standalone.js",
}
"""What ``/docs/assets/`` serves: name -> path in the installed npm packages."""
_MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".png": "image/png"}  # fmt: skip
SWAGGER_PARAMETERS = {"validatorUrl": None}
"""Swagger UI would otherwise show a badge image from ``validator.swagger.io`` (a request that
leaves the intranet and that the policy refuses)."""


REDOC_STYLES = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
)
"""The style elements ``redoc.standalone.js`` 2.5.4 inserts as it starts, by hash: the empty
sheets its styled-components fill through the CSSOM, and perfect-scrollbar's fixed style
sheet. They are part of the pinned, hash-checked bundle; another ReDoc version may insert
other texts (``tests/api/server/test_api_docs.py`` opens the page in Chromium and names any style the
policy refuses)."""
REDOC_OPTIONS = b'disable-search="true"'
"""ReDoc's search runs in a worker made from a ``blob:`` URL, which the policy (no
``worker-src``, so ``script-src 'self'``) refuses; the search is off instead."""
PATCHES: dict[str, tuple[tuple[bytes, bytes], ...]] = {
    "redoc.standalone.js": (
        (
            b'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"',
            b"src:\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E\"",
        ),
    ),
}
"""Served bundles differ from the installed files only here: ReDoc's sidebar always shows a
logo from ``cdn.redoc.ly`` (no option turns it off), a request that leaves the intranet and
that the policy refuses; it is served as an empty ``data:`` image instead."""


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    if data.count(old) != 1:
        raise RuntimeError(
            f"expected {old!r} once in the docs page or bundle; the version changed?"
        )
    return data.replace(old, new)


@functools.lru_cache(maxsize=8)
def _read(name: str, path: Path, mtime_ns: int) -> bytes:
    data = path.read_bytes()
    for old, new in PATCHES.get(name, ()):
        data = _replace_once(data, old, new)
    return data


def _asset(name: str) -> bytes:
    try:
        path = offline.assets_dir() / ASSETS[name]
        return _read(name, path, path.stat().st_mtime_ns)
    except (offline.AssetsMissing, FileNotFoundError) as error:
        raise Unavailable(
            N_(
                "the docs' file {name!r} is not installed on the server "
                "(make assets installs it): {error}"
            ),
            name=name,
            error=str(error),
        ) from error


def _url(request: Request, route: str, **params: str) -> str:
    """A path of this app, under the root path the server is mounted at (as FastAPI's own
    docs pages build their links)."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return root + request.app.url_path_for(route, **params)


@docs.get(DOCS + "/assets/{asset}", name="docs_asset")
def docs_asset(asset: str) -> Response:
    """The bundles and the icon of the docs pages (no other file is served from here)."""
    if asset not in ASSETS:
        raise NotFound(N_("no file {name!r}"), name=asset)
    headers = {"Cache-Control": "public, max-age=3600"}
    return Response(_asset(asset), media_type=_MEDIA[Path(asset).suffix], headers=headers)


@docs.get(DOCS, name="swagger_ui_html")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI: every operation of ``/openapi.json``, to read and try out."""
    return get_swagger_ui_html(
        openapi_url=_url(request, "openapi"),
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=_url(request, "docs_asset", asset="swagger-ui-bundle.js"),
        swagger_css_url=_url(request, "docs_asset", asset="swagger-ui.css"),
        swagger_favicon_url=_url(request, "docs_asset", asset="favicon.png"),
        oauth2_redirect_url=_url(request, "swagger_ui_redirect"),
        swagger_ui_parameters=SWAGGER_PARAMETERS,
    )


@docs.get(DOCS + "/oauth2-redirect", name="swagger_ui_redirect")
def swagger_ui_redirect() -> HTMLResponse:
    """Swagger UI's OAuth2 redirect page (as FastAPI serves it)."""
    return get_swagger_ui_oauth2_redirect_html()


@docs.get("/redoc", name="redoc_html")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc: the same schema as one readable page (its search off: see :data:`REDOC_OPTIONS`)."""
    page = get_redoc_html(
        openapi_url=_url(request, "openapi"),
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=_url(request, "docs_asset", asset="redoc.standalone.js"),
        redoc_favicon_url=_url(request, "docs_asset", asset="favicon.png"),
        with_google_fonts=False,
    )
    body = _replace_once(
        bytes(page.body), b"<redoc spec-url=", b"<redoc " + REDOC_OPTIONS + b" spec-url="
    )
    rule = csp.policy(body.decode("utf-8"), runtime_styles=REDOC_STYLES)
    return HTMLResponse(body, headers={"Content-Security-Policy": rule})
