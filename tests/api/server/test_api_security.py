"""Security headers and Content-Security-Policy on every answer, throttled key guessing, the
request-body limit, and (in a real Chromium against a real server) pages that run under their
policy with zero violations.

The policies are checked against hashes computed here, from the page text, with hashlib.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from api.core.settings import Settings
from maps import csp
from maps.plan import MapInputError
from tests.support.api import (
    PlannedTiny,
    Server,
    Service,
    cli_key,
    planned_tiny,
    running_service,
    server_env,
    write_crewed_tiny,
    zip_folder,
    zip_part,
)
from tests.support.browser import CSP_LISTENER
from tests.support.csp import directives, inline_hashes

OWN = "province:520000"
ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@pytest.fixture(scope="module")
def small_body_plan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlannedTiny]:
    """The Guizhou office's tiny plan in a service that takes request bodies of 64 KiB at most."""
    with planned_tiny(tmp_path_factory.mktemp("security"), max_body_bytes=64 * 1024) as plan:
        yield plan


def check_page_policy(policy: str, page: str, frame_ancestors: bool = True) -> None:
    """``policy`` allows exactly the page's inline code, own assets and nothing inline else."""
    d = directives(policy)
    scripts, styles = inline_hashes(page)
    assert d["default-src"] == ["'none'"]
    assert set(d["script-src"]) == {"'self'"} | scripts
    assert set(d["style-src"]) == {"'self'"} | styles
    assert d["img-src"][:2] == ["'self'", "data:"]
    assert d["base-uri"] == ["'none'"] and d["form-action"] == ["'self'"]
    assert ("frame-ancestors" in d) == frame_ancestors
    if frame_ancestors:
        assert d["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy


# --- headers ---------------------------------------------------------------------------------


def test_every_answer_has_the_headers(small_body_plan: PlannedTiny) -> None:
    svc: Service = small_body_plan.svc
    pid = small_body_plan.plan_id
    answers = {
        "index": svc.client.get("/", headers=svc.headers("viewer")),
        "summary": svc.client.get(f"/api/v1/plans/{pid}/summary", headers=svc.headers("viewer")),
        "csv": svc.client.get(
            f"/api/v1/plans/{pid}/assignments?format=csv", headers=svc.headers(OWN)
        ),
        "no key": svc.client.get(f"/api/v1/plans/{pid}/summary"),
        "health": svc.client.get("/healthz"),
        "unknown path": svc.client.get("/nothing-here"),
    }
    for name, r in answers.items():
        for header, value in ALWAYS.items():
            assert r.headers.get(header) == value, (name, header, r.headers)
        assert r.headers["cache-control"] == "no-store", name
        assert "content-security-policy" in r.headers, name
    for name in ("summary", "csv", "no key", "health"):
        assert answers[name].headers["content-security-policy"] == csp_api()


def csp_api() -> str:
    return "default-src 'none'; frame-ancestors 'none'"


def test_index_policy_hashes_its_own_style(small_body_plan: PlannedTiny) -> None:
    svc: Service = small_body_plan.svc
    r = svc.client.get("/", headers=svc.headers("national"))
    assert r.status_code == 200 and "<style>" in r.text
    check_page_policy(r.headers["content-security-policy"], r.text)


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
def test_map_policy_header_matches_the_page(small_body_plan: PlannedTiny, gzip: bool) -> None:
    svc: Service = small_body_plan.svc
    accept = {"Accept-Encoding": "gzip" if gzip else "identity"}
    r = svc.client.get(
        f"/api/v1/plans/{small_body_plan.plan_id}/map", headers=svc.headers("viewer") | accept
    )
    assert r.status_code == 200
    assert (r.headers.get("content-encoding") == "gzip") == gzip
    page = r.text  # httpx decodes gzip
    header = r.headers["content-security-policy"]
    check_page_policy(header, page)
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert meta is not None and page.index(meta.group(0)) < page.index("<script")
    check_page_policy(meta.group(1), page, frame_ancestors=False)
    assert header == meta.group(1) + "; frame-ancestors 'none'"
    for name, value in ALWAYS.items():
        assert r.headers[name] == value


def test_signed_link_page_leaks_no_referrer(small_body_plan: PlannedTiny) -> None:
    svc: Service = small_body_plan.svc
    link = svc.client.post(
        f"/api/v1/plans/{small_body_plan.plan_id}/map-link", headers=svc.headers("viewer")
    ).json()["url"]
    r = svc.client.get(link)
    assert r.status_code == 200
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"
    check_page_policy(r.headers["content-security-policy"], r.text)


def test_tile_host_is_the_only_other_image_source(tmp_path: Path) -> None:
    assert csp.image_sources(None) == []
    assert csp.image_sources("https://{s}.tile.example.org/{z}/{x}/{y}.png") == [
        "https://*.tile.example.org"
    ]
    gaode = "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}"
    assert csp.image_sources(gaode) == ["https://*.is.autonavi.com"]
    for bad in ("file:///etc/passwd", "tiles/{z}/{x}/{y}.png", "https://a.{s}.example.org/{z}"):
        with pytest.raises(MapInputError, match="--tiles"):
            csp.image_sources(bad)
    page = "<html><head><meta charset='utf-8'><style>p{}</style></head><body></body></html>"
    out = csp.with_meta(page, csp.image_sources(gaode))
    meta = re.search(r'content="([^"]+)"', out)
    assert meta is not None
    assert directives(meta.group(1))["img-src"] == ["'self'", "data:", "https://*.is.autonavi.com"]
    assert csp.with_meta(out).count("Content-Security-Policy") == 1  # replaced, not added


def test_inline_attributes_are_refused() -> None:
    with pytest.raises(ValueError, match="onclick"):
        csp.policy('<html><head></head><body><a onclick="x()">x</a></body></html>')


# --- throttling ------------------------------------------------------------------------------


def _from(svc: Service, address: str) -> TestClient:
    app = svc.client.app  # type: ignore[attr-defined]
    return TestClient(app, client=(address, 40000))


def test_25_wrong_keys_give_429_from_the_21st(small_body_plan: PlannedTiny) -> None:
    svc: Service = small_body_plan.svc
    path = f"/api/v1/scenarios/{small_body_plan.scenario_id}"
    guesser = _from(svc, "127.0.0.21")
    codes = []
    for i in range(25):
        r = guesser.get(path, headers={"Authorization": f"Bearer wp_{i:08x}_not-a-key"})
        codes.append(r.status_code)
        if r.status_code == 429:
            assert 1 <= int(r.headers["retry-after"]) <= 60
            assert "too many failed authentications" in r.json()["detail"]
    assert codes == [401] * 20 + [429] * 5
    # a correct key from that address is refused too, until the window passes ...
    r = guesser.get(path, headers=svc.headers("national"))
    assert r.status_code == 429 and r.headers["retry-after"]
    # ... while the same key from another address works
    assert _from(svc, "127.0.0.22").get(path, headers=svc.headers("national")).status_code == 200
    # the audit trail lists all of them, with the address and no key
    events = svc.client.get(
        "/api/v1/audit", params={"since": "5m"}, headers=svc.headers("national")
    ).json()
    mine = [e for e in events if e["address"] == "127.0.0.21"]
    assert sum(e["action"] == "failed-auth" for e in mine) == 20
    throttled = [e for e in mine if e["action"] == "throttled"]
    assert sum(e["count"] for e in throttled) == 6 and len(throttled) <= 2  # a row per minute
    assert {e["status"] for e in mine} == {401, 429}
    assert {e["key_prefix"] for e in mine if e["action"] == "failed-auth"} == {
        f"{i:08x}" for i in range(20)
    }
    text = str(events)
    assert "not-a-key" not in text and svc.keys["national"] not in text


def test_one_key_prefix_guessed_from_many_addresses(small_body_plan: PlannedTiny) -> None:
    svc: Service = small_body_plan.svc
    path = f"/api/v1/scenarios/{small_body_plan.scenario_id}"
    codes = [
        _from(svc, f"127.0.1.{i}")
        .get(path, headers={"X-API-Key": f"wp_feedbeef_guess{i}"})
        .status_code
        for i in range(22)
    ]
    assert codes == [401] * 20 + [429] * 2
    # a key with another prefix from a fresh address is not affected
    assert _from(svc, "127.0.1.200").get(path, headers=svc.headers(OWN)).status_code == 200


def test_forged_map_links_are_throttled(small_body_plan: PlannedTiny) -> None:
    svc: Service = small_body_plan.svc
    forger = _from(svc, "127.0.0.23")
    path = f"/api/v1/plans/{small_body_plan.plan_id}/map"
    expires = int(time.time()) + 600
    codes = [
        forger.get(path, params={"expires": expires, "signature": f"{i:064x}"}).status_code
        for i in range(21)
    ]
    assert codes == [403] * 20 + [429]


# --- request bodies --------------------------------------------------------------------------


def test_large_bodies_are_refused_from_their_length(small_body_plan: PlannedTiny) -> None:
    svc: Service = small_body_plan.svc
    r = svc.client.post(
        f"/api/v1/scenarios/{small_body_plan.scenario_id}/plans",
        content=b"{" + b" " * (100 * 1024) + b"}",
        headers=svc.headers(OWN) | {"Content-Type": "application/json"},
    )
    assert r.status_code == 413 and "PLANNER_MAX_BODY_BYTES" in r.json()["detail"]
    assert r.headers["x-content-type-options"] == "nosniff"


def _chunked_post(url: str, path: str, key: str, chunks: int, size: int) -> bytes:
    """Send ``chunks`` chunks of ``size`` bytes without finishing the body, then read what the
    server answered (a server that waits for the whole body answers nothing: timeout)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
        s.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {key}\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
            ).encode()
        )
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.zip"\r\n'
        head += b"Content-Type: application/zip\r\n\r\nPK\x03\x04"
        s.sendall(f"{len(head):x}\r\n".encode() + head + b"\r\n")
        block = f"{size:x}\r\n".encode() + b"\0" * size + b"\r\n"
        try:
            for _ in range(chunks):
                s.sendall(block)
        except OSError:  # the server closed the connection after answering
            pass
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return answer


def test_streamed_upload_over_the_limit_is_refused_before_its_end(tmp_path: Path) -> None:
    env = server_env(tmp_path / "data", max_upload_bytes=str(1024**2))
    key = cli_key(env, "national")
    server = Server(env, tmp_path / "server.log")
    try:
        answer = _chunked_post(server.url, "/api/v1/scenarios", key, chunks=3, size=1024**2)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
        assert b"PLANNER_MAX_UPLOAD_BYTES" in answer
        # the service still answers afterwards
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    finally:
        server.stop()


# --- in a real browser, against a real server -------------------------------------------------


def _open(context: Any, url: str, ready: str | None) -> tuple[Any, Any]:
    page = context.new_page()
    page.add_init_script(CSP_LISTENER)
    response = page.goto(url, wait_until="load", timeout=30_000)
    if ready:
        page.wait_for_function(ready, timeout=30_000)
    page.evaluate("new Promise(r => setTimeout(r, 300))")  # let late violations arrive
    return page, response


@pytest.mark.slow
@pytest.mark.needs("chromium")
def test_pages_run_under_their_policy_in_chromium(tmp_path: Path) -> None:
    from tests.support.browser import browser

    env = server_env(tmp_path / "data")
    key = cli_key(env, "national")
    server = Server(env, tmp_path / "server.log")
    try:
        h = {"Authorization": f"Bearer {key}"}
        tiny = write_crewed_tiny(tmp_path / "tiny")
        sid = httpx.post(
            f"{server.url}/api/v1/scenarios", files=zip_part(zip_folder(tiny)), headers=h
        ).json()["id"]
        jid = httpx.post(f"{server.url}/api/v1/scenarios/{sid}/plans", headers=h).json()["job_id"]
        end = time.monotonic() + 120
        while (job := httpx.get(f"{server.url}/api/v1/jobs/{jid}", headers=h).json())["state"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() < end, job
            time.sleep(0.2)
        assert job["state"] == "succeeded", job
        pid = job["plan_id"]
        link = httpx.post(f"{server.url}/api/v1/plans/{pid}/map-link", headers=h).json()["url"]
        link = server.url + link  # links are relative unless PLANNER_BASE_URL is set
        ready = "window.westplan && window.westplan.ready"
        with browser() as b:
            keyed = b.new_context(http_credentials={"username": "office", "password": key})
            anonymous = b.new_context()
            seen = {}
            for name, context, url, wait in (
                ("index", keyed, f"{server.url}/", None),
                ("map", keyed, f"{server.url}/api/v1/plans/{pid}/map", ready),
                ("signed link", anonymous, link, ready),
            ):
                page, response = _open(context, url, wait)
                assert response.status == 200, name
                headers = response.headers
                assert "frame-ancestors 'none'" in headers["content-security-policy"], name
                assert headers["referrer-policy"] == "no-referrer", name
                assert page.evaluate("window.__csp") == [], name
                if wait:
                    counts = page.evaluate("window.westplan.counts")
                    assert counts["counties"] >= 1 and counts["posts"] >= 1, (name, counts)
                    page.screenshot(path=str(tmp_path / f"{name}.png"))
                # the policy is enforced: code the page does not hash is refused and reported
                page.evaluate(
                    "() => { const s = document.createElement('script');"
                    " s.textContent = 'window.__injected = 1'; document.body.appendChild(s); }"
                )
                page.evaluate("new Promise(r => setTimeout(r, 200))")
                assert page.evaluate("window.__injected") is None, name
                seen[name] = page.evaluate("window.__csp")
            anonymous.close()
            keyed.close()
        for name, violations in seen.items():  # one report per policy (a map has two)
            assert violations and all(v.startswith("script-src") for v in violations), (
                name,
                violations,
            )
    finally:
        server.stop()


# --- several servers, one Redis --------------------------------------------------------------


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server of its own on a free loopback port (Debian's redis-server)."""
    import shutil
    import subprocess

    from tests.support import deps
    from tests.support.api import free_port

    deps.require("redis-server")
    exe = shutil.which("redis-server")
    assert exe is not None
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        end = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < end, "redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_two_servers_count_together_in_redis(tmp_path: Path, redis_url: str) -> None:
    """Two apps on one database and one Redis: 10 failures on each, the 21st is refused by
    either; an app counting in memory would have let 20 more through."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    common = {"database_url": url, "throttle_storage": redis_url, "poll_seconds": 0.1}
    one = Settings(data_dir=tmp_path / "one", **common)  # type: ignore[arg-type]
    two = Settings(data_dir=tmp_path / "two", **common)  # type: ignore[arg-type]
    with running_service(one) as a, running_service(two) as b:
        path = "/api/v1/scenarios"
        codes = []
        for i in range(20):
            svc = a if i % 2 else b
            codes.append(svc.client.get(path, headers={"X-API-Key": f"wp_{i:08x}_x"}).status_code)
        assert codes == [401] * 20
        for svc in (a, b):
            r = svc.client.get(path, headers=svc.headers("national"))
            assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_head_shows_the_headers_of_get(small_body_plan: PlannedTiny) -> None:
    svc: Service = small_body_plan.svc
    h = svc.headers("viewer")
    for path in (
        "/",
        f"/api/v1/plans/{small_body_plan.plan_id}/map",
        f"/api/v1/plans/{small_body_plan.plan_id}/summary",
    ):
        got, head = svc.client.get(path, headers=h), svc.client.head(path, headers=h)
        assert head.status_code == got.status_code == 200
        assert head.content == b""
        for name in ("content-security-policy", "content-type", "content-length", *ALWAYS):
            assert head.headers.get(name) == got.headers.get(name), (path, name)
