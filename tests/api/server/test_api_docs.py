"""The interactive docs (``/docs`` Swagger UI, ``/redoc`` ReDoc) from the service's own files.

The pages name only the app's own paths; ``/docs/assets/`` serves the installed, hash-checked
bundles (the pinned lock's) and nothing else; each page's policy hashes its own inline code
(computed here with hashlib) and adds no other host; in headless Chromium, every request
that does not go to the server refused, both pages render with zero policy violations and no
failed request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.core.settings import Settings
from api.server.app import create_app
from api.server.docs import ASSETS, REDOC_STYLES
from maps import offline
from tests.support.api import Server, server_env
from tests.support.browser import CSP_LISTENER
from tests.support.csp import directives, inline_hashes
from tests.support.paths import REPO

LOCK = REPO / "maps" / "assets" / "package-lock.json"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("docs") / "data")
    with TestClient(create_app(settings, run_jobs=False)) as c:
        yield c


def _links(page: str) -> list[str]:
    return re.findall(r"""(?:src|href|url|spec-url)\s*[=:]\s*['"]([^'"]+)['"]""", page)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_pages_name_only_local_assets(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    links = _links(r.text)
    assert "/openapi.json" in links
    assert any(link.startswith("/docs/assets/") for link in links)
    assert all(link.startswith("/") for link in links), links
    assert "http://" not in r.text and "https://" not in r.text
    assert "cdn" not in r.text.lower() and "fonts.googleapis" not in r.text


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_policy_hashes_the_page_and_names_no_other_host(client: TestClient, path: str) -> None:
    r = client.get(path)
    policy = r.headers["content-security-policy"]
    d = directives(policy)
    scripts, styles = inline_hashes(r.text)
    assert scripts or path == "/redoc"  # Swagger UI's start-up script is inline
    assert set(d["script-src"]) == {"'self'"} | scripts
    extra = set(REDOC_STYLES) if path == "/redoc" else set()
    assert set(d["style-src"]) == {"'self'"} | styles | extra
    assert d["img-src"] == ["'self'", "data:"] and d["connect-src"] == ["'self'"]
    assert d["default-src"] == ["'none'"] and d["frame-ancestors"] == ["'none'"]
    assert "http" not in policy and "unsafe" not in policy and "blob:" not in policy


def test_assets_are_the_installed_files(client: TestClient) -> None:
    folder = offline.assets_dir()
    lock = json.loads(LOCK.read_text(encoding="utf-8"))["packages"]
    for name, rel in ASSETS.items():
        package = rel.split("/")[0]
        assert f"node_modules/{package}" in lock, package  # pinned, with an integrity hash
        assert lock[f"node_modules/{package}"]["integrity"].startswith("sha512-")
        r = client.get(f"/docs/assets/{name}")
        assert r.status_code == 200, name
        assert r.headers["x-content-type-options"] == "nosniff"
        kind = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
        assert r.headers["content-type"].startswith(kind[Path(name).suffix]), name
        installed = (folder / rel).read_bytes()
        if name == "redoc.standalone.js":  # the one change: its CDN logo is an empty image
            assert b"cdn.redoc.ly/redoc/logo-mini.svg" in installed
            assert b"cdn.redoc.ly" not in r.content
            assert len(r.content) - len(installed) < 100
        else:
            assert r.content == installed, name
    assert client.get("/docs/assets/index.html").status_code == 404
    assert client.get("/docs/assets/..%2Fpackage.json").status_code == 404


def test_redoc_page_turns_its_worker_search_off(client: TestClient) -> None:
    assert '<redoc disable-search="true" spec-url="/openapi.json">' in client.get("/redoc").text


@pytest.mark.slow
def test_pages_render_offline_in_chromium(tmp_path: Path) -> None:
    from tests.support.browser import browser

    server = Server(server_env(tmp_path / "data"), tmp_path / "server.log")
    try:
        operations = sum(
            len(item) for item in json.loads(_get(server.url + "/openapi.json"))["paths"].values()
        )
        with browser() as b:
            for path, rendered in (("/docs", ".opblock"), ("/redoc", "li[data-item-id]")):
                context = b.new_context()
                refused: list[str] = []

                def local_only(route: Any, refused: list[str] = refused) -> None:
                    if route.request.url.startswith(server.url + "/"):
                        route.continue_()
                    else:
                        refused.append(route.request.url)
                        route.abort()

                context.route("**/*", local_only)  # the network is off: only the server
                page = context.new_page()
                failed: list[str] = []
                errors: list[str] = []
                page.on("requestfailed", lambda q, failed=failed: failed.append(q.url))
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.add_init_script(CSP_LISTENER)
                response = page.goto(server.url + path, wait_until="load", timeout=30_000)
                assert response is not None and response.status == 200
                page.wait_for_selector(rendered, timeout=30_000)
                page.evaluate("() => new Promise(r => setTimeout(r, 1000))")  # late requests
                shown = page.locator(rendered).count()
                page.screenshot(path=str(tmp_path / f"{path.strip('/')}.png"))
                assert page.evaluate("() => window.__csp") == [], path
                assert refused == [] and failed == [] and errors == [], (path, refused, failed)
                if path == "/docs":  # every operation of the schema is listed
                    assert shown == operations, (shown, operations)
                else:
                    assert shown >= 5
                context.close()
    finally:
        server.stop()


def _get(url: str) -> str:
    import httpx

    return httpx.get(url, timeout=10).text
