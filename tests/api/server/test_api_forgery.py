"""Forged requests, errors, links and proxies (issue 22, the HTTP side).

- Cross-site request forgery through what a browser sends by itself: HTTP Basic never
  authorises a write of the JSON API; an office page's form from another origin is refused
  even with a valid token; Bearer and X-API-Key clients are unaffected. The same attack from a
  real page on a second loopback origin, in Chromium, against a browser holding Basic
  credentials and an office session, creates nothing.
- ``NaN``/``Infinity`` in a job's options answer 422; any unhandled exception answers a JSON
  problem 500 with the security headers and no traceback.
- Signed map links die with their key; minting is audited; the default lifetime is 24 h; the
  index page mints nothing.
- ``planner serve`` trusts ``X-Forwarded-For`` only from a proxy the operator names.
- An unauthenticated or viewer upload or plan is refused before its body is read.
- No server path in any answer; links never come from the request's ``Host``.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.core.api_keys import revoke_key
from api.core.settings import Settings
from api.server.app import create_app
from api.server.security import API_POLICY
from tests.support.api import (
    CSRF,
    PLANNER,
    Browser,
    PlannedTiny,
    Server,
    Service,
    cli_key,
    free_port,
    server_env,
    zip_folder,
    zip_part,
)
from tests.support.scenario_files import write_tiny

OWN = "province:520000"
ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "content-security-policy": API_POLICY,
}
ATTACKER = "http://127.0.0.1:9"
"""The origin of another site's page (what its browser sends as ``Origin``)."""
CROSS_SITE = {"Origin": ATTACKER, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}


def _counts(svc: Service) -> tuple[int, int]:
    """(scenarios, jobs) as a national key sees them."""
    h = svc.headers("national")
    scenarios = svc.client.get("/api/v1/scenarios", headers=h).json()
    jobs = svc.client.get("/api/v1/jobs", params={"limit": 1000}, headers=h).json()
    return len(scenarios), len(jobs)


def _basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"office:{key}".encode()).decode()}


# --- item 2: forged writes -----------------------------------------------------------------


@pytest.mark.parametrize("origin", [CROSS_SITE, {}, {"Sec-Fetch-Site": "same-origin"}])
def test_basic_never_writes(guizhou_plan: PlannedTiny, origin: dict[str, str]) -> None:
    """An empty form to /plans and a multipart upload with Basic credentials: 403 whatever the
    browser says of its origin (Basic is for reading in a browser), nothing created."""
    svc: Service = guizhou_plan.svc
    before = _counts(svc)
    h = _basic(svc.keys["national"]) | origin
    c = svc.client
    r = c.post(f"/api/v1/scenarios/{guizhou_plan.scenario_id}/plans", data={}, headers=h)
    assert r.status_code == 403, r.text
    assert "Bearer" in r.json()["detail"]
    r = c.post("/api/v1/scenarios", files=zip_part(zip_folder(guizhou_plan.tiny)), headers=h)
    assert r.status_code == 403, r.text
    sweep = c.post(
        f"/api/v1/scenarios/{guizhou_plan.scenario_id}/sweeps",
        content=json.dumps({"vary": ["weights.preference_rank=5,10"]}),
        headers=h | {"Content-Type": "text/plain"},
    )
    assert sweep.status_code == 403, sweep.text
    assert _counts(svc) == before
    # reading with Basic (the index, a map) still works
    assert c.get("/", headers=h).status_code == 200
    assert c.get(f"/api/v1/plans/{guizhou_plan.plan_id}/map", headers=h).status_code == 200
    # and the refusal is in the audit trail
    events = c.get(
        "/api/v1/audit", params={"since": "1h", "action": "upload"}, headers=svc.headers("national")
    ).json()
    assert any(e["status"] == 403 and "Basic" in (e["detail"] or "") for e in events), events


def test_bearer_and_api_key_clients_are_unaffected(guizhou_plan: PlannedTiny) -> None:
    """Admin systems send their key in a header a browser never adds by itself: their writes
    work whatever Origin or Sec-Fetch-Site they carry."""
    svc: Service = guizhou_plan.svc
    c, key = svc.client, svc.keys["national"]
    for n, h in enumerate(({"Authorization": f"Bearer {key}"}, {"X-API-Key": key})):
        data = zip_folder(guizhou_plan.tiny, top=f"tiny-{n}")  # bytes of its own: a new scenario
        r = c.post("/api/v1/scenarios", files=zip_part(data), headers=h)
        assert r.status_code == 201, r.text
        r = c.post(f"/api/v1/scenarios/{r.json()['id']}/plans", headers=h | CROSS_SITE)
        assert r.status_code == 202, r.text
        c.post(f"/api/v1/jobs/{r.json()['job_id']}/cancel", headers=h)


def test_office_form_from_another_origin_is_refused(guizhou_plan: PlannedTiny) -> None:
    """A signed-in browser: a form of another origin is refused (403) even if it carried a
    valid token; the same form from the page itself (Chromium sends ``Origin: null`` under
    ``Referrer-Policy: no-referrer``) still works."""
    svc: Service = guizhou_plan.svc
    browser = Browser.signed_in_as(svc, OWN)
    path = f"/office/scenarios/{guizhou_plan.scenario_id}/plans"
    before = _counts(svc)
    for forged in (
        CROSS_SITE,
        {"Sec-Fetch-Site": "same-site"},  # another port of the same host
        {"Origin": ATTACKER},  # a browser without Sec-Fetch-*
    ):
        form = {"csrf": browser.token(), "time_limit": "5"}
        r = browser.client.post(path, data=form, headers=forged, follow_redirects=False)
        assert r.status_code == 403, (forged, r.status_code)
        assert "another site" in r.text or "其他网站" in r.text
    assert _counts(svc) == before
    own = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    form = {"csrf": browser.token(), "time_limit": "5"}
    r = browser.client.post(path, data=form, headers=own, follow_redirects=False)
    assert r.status_code == 303, r.text
    job = r.headers["location"].rsplit("/", 1)[1]
    svc.client.post(f"/api/v1/jobs/{job}/cancel", headers=svc.headers("national"))
    # the origin named in PLANNER_BASE_URL counts as the service's own
    same = {"Origin": "http://testserver"}
    form = {"csrf": browser.token(), "time_limit": "5"}
    r = browser.client.post(path, data=form, headers=same, follow_redirects=False)
    assert r.status_code == 303, r.text
    job = r.headers["location"].rsplit("/", 1)[1]
    svc.client.post(f"/api/v1/jobs/{job}/cancel", headers=svc.headers("national"))


# --- item 6: NaN, Infinity and every 500 -----------------------------------------------------


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("what", ["plans", "sweeps"])
def test_non_finite_time_limit_is_422(guizhou_plan: PlannedTiny, value: str, what: str) -> None:
    svc: Service = guizhou_plan.svc
    before = _counts(svc)
    body = f'{{"time_limit": {value}, "vary": ["weights.preference_rank=5,10"]}}'
    r = svc.client.post(
        f"/api/v1/scenarios/{guizhou_plan.scenario_id}/{what}",
        content=body,
        headers=svc.headers("national") | {"Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/json"
    assert {k: r.headers.get(k) for k in ALWAYS} == ALWAYS
    problem = r.json()
    assert any(e["loc"][-1] == "time_limit" for e in problem["detail"]), problem
    assert _counts(svc) == before


def test_every_500_is_a_json_problem_with_the_headers(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data"))

    def boom() -> None:
        raise RuntimeError(f"secret detail at {tmp_path}")

    app.add_api_route("/api/v1/boom", boom)
    app.add_api_route("/office/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ("/api/v1/boom", "/office/boom"):
            for lang, words in (("en", "unexpected error"), ("zh-CN", "意外错误")):
                r = client.get(path, headers={"Accept-Language": lang})
                assert r.status_code == 500
                assert r.headers["content-type"] == "application/json"
                assert {k: r.headers.get(k) for k in ALWAYS} == ALWAYS
                assert words in r.json()["detail"]
                assert "Traceback" not in r.text and "secret detail" not in r.text
                assert str(tmp_path) not in r.text


# --- item 8: signed map links ----------------------------------------------------------------


def test_map_links_die_with_their_key_and_are_audited(guizhou_plan: PlannedTiny) -> None:
    svc: Service = guizhou_plan.svc
    c, pid = svc.client, guizhou_plan.plan_id
    with c.app.state.sessions() as session:  # type: ignore[attr-defined]
        from api.core.api_keys import create_key

        _row, key = create_key(session, "viewer", name="press office")
    prefix = key.split("_")[1]
    made = c.post(f"/api/v1/plans/{pid}/map-link", headers={"Authorization": f"Bearer {key}"})
    assert made.status_code == 200, made.text
    link = made.json()
    assert abs(link["expires"] - time.time() - 24 * 3600) < 60  # the default lifetime
    assert c.get(link["url"]).status_code == 200
    events = c.get(
        "/api/v1/audit",
        params={"since": "1h", "action": "map-link"},
        headers=svc.headers("national"),
    ).json()
    assert any(e["key_prefix"] == prefix and e["object_id"] == pid for e in events), events
    with c.app.state.sessions() as session:  # type: ignore[attr-defined]
        revoke_key(session, prefix)
    dead = c.get(link["url"])
    assert dead.status_code == 410, dead.text
    assert "revoked" in dead.json()["detail"]
    # a link whose key part was swapped for another key's is a forgery
    other = svc.keys["national"].split("_")[1]
    assert c.get(link["url"].replace(f"key={prefix}", f"key={other}")).status_code == 403


def test_the_index_mints_no_links(guizhou_plan: PlannedTiny) -> None:
    svc: Service = guizhou_plan.svc
    c = svc.client
    h = svc.headers("national")

    def mints() -> int:
        events = c.get(
            "/api/v1/audit", params={"since": "1h", "action": "map-link"}, headers=h
        ).json()
        return len(events)

    before = mints()
    page = c.get("/", headers=svc.headers("viewer"))
    assert page.status_code == 200
    assert "signature=" not in page.text
    assert f"/api/v1/plans/{guizhou_plan.plan_id}/map" in page.text
    assert mints() == before


# --- item 10: authenticate before reading a body ---------------------------------------------


def _answer_before_body(url: str, path: str, headers: dict[str, str], length: int) -> bytes:
    """Send a request's headers announcing ``length`` bytes and none of them; the answer."""
    host, port = url.removeprefix("http://").split(":")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {length}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        s.settimeout(10)
        try:
            return s.recv(65536)
        except TimeoutError:
            return b"(no answer in 10 s: the server waits for the body)"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real ``planner serve`` with default settings, a national and a viewer key."""
    tmp = tmp_path_factory.mktemp("forgery-server")
    env = server_env(tmp / "data")
    keys = {role: cli_key(env, role) for role in ("national", "viewer")}
    srv = Server(env, tmp / "server.log")
    try:
        yield {"url": srv.url, "keys": keys, "env": env, "tmp": tmp}
    finally:
        srv.stop()


def test_refused_before_the_body_is_read(server: dict[str, Any]) -> None:
    url, keys = server["url"], server["keys"]
    multipart = {"Content-Type": "multipart/form-data; boundary=x"}
    json_body = {"Content-Type": "application/json"}
    viewer = {"Authorization": f"Bearer {keys['viewer']}"}
    big = 150 * 1024**2
    for path, headers, length, status in (
        ("/api/v1/scenarios", multipart, big, b"401"),
        ("/api/v1/scenarios", multipart | viewer, big, b"403"),
        ("/api/v1/scenarios", multipart | _basic(keys["national"]), big, b"403"),
        ("/api/v1/scenarios/x/plans", json_body, 1000, b"401"),
        ("/api/v1/scenarios/x/plans", json_body | viewer, 1000, b"403"),
        ("/api/v1/scenarios/x/sweeps", json_body | viewer, 1000, b"403"),
        ("/office/scenarios", multipart, big, b"303"),  # to the sign-in
    ):
        answer = _answer_before_body(url, path, headers, length)
        assert answer.startswith(b"HTTP/1.1 " + status), (path, headers, answer[:200])
    # a signed-in viewer's upload on the office pages: 403 before the body
    with httpx.Client(base_url=url) as browser:
        token = CSRF.search(browser.get("/office/sign-in").text)
        assert token is not None
        r = browser.post(
            "/office/sign-in",
            data={"csrf": token.group(1), "key": keys["viewer"], "next": "/office"},
        )
        assert r.status_code == 303, r.text
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    answer = _answer_before_body(url, "/office/scenarios", multipart | {"Cookie": cookie}, big)
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]


# --- item 9: forwarded headers -----------------------------------------------------------------


def test_forwarded_for_is_not_trusted_by_default(server: dict[str, Any]) -> None:
    """Rotating X-Forwarded-For neither escapes the 429 nor writes a forged address."""
    url, keys = server["url"], server["keys"]
    statuses = []
    for i in range(25):
        forged = {"X-Forwarded-For": f"203.0.113.{i}", "X-Forwarded-Proto": "https"}
        r = httpx.get(
            f"{url}/api/v1/plans", headers=forged | {"Authorization": f"Bearer wp_{i:08x}_bad"}
        )
        statuses.append(r.status_code)
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}, statuses
    # the right key from this address is throttled too: read the trail as the operator does
    assert (
        httpx.get(
            f"{url}/api/v1/plans", headers={"Authorization": f"Bearer {keys['national']}"}
        ).status_code
        == 429
    )
    time.sleep(1.0)  # the server writes its audit events in batches
    events = _operator_audit(server["env"])
    addresses = {e["address"] for e in events if e["action"] in ("failed-auth", "throttled")}
    assert addresses == {"127.0.0.1"}, addresses


def _operator_audit(env: dict[str, str]) -> list[dict[str, Any]]:
    """``planner audit --json`` on the server's machine."""
    out = subprocess.run(
        [PLANNER, "audit", "--since", "1h", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_forwarded_for_from_a_named_proxy(tmp_path: Path) -> None:
    """Naming the proxy (PLANNER_TRUSTED_PROXIES) makes its X-Forwarded-For the address."""
    env = server_env(tmp_path / "data", trusted_proxies="127.0.0.1")
    key = cli_key(env, "national")
    srv = Server(env, tmp_path / "server.log")
    try:
        bad = {"Authorization": "Bearer wp_00000000_bad", "X-Forwarded-For": "203.0.113.7"}
        assert httpx.get(f"{srv.url}/api/v1/plans", headers=bad).status_code == 401
        h = {"Authorization": f"Bearer {key}"}
        events = httpx.get(f"{srv.url}/api/v1/audit", params={"since": "1h"}, headers=h).json()
        assert {e["address"] for e in events if e["action"] == "failed-auth"} == {"203.0.113.7"}
    finally:
        srv.stop()


# --- item 11: no server paths, no links from Host ----------------------------------------------


def _all_strings(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for v in data.values():
            yield from _all_strings(v)
    elif isinstance(data, list):
        for v in data:
            yield from _all_strings(v)
    elif isinstance(data, str):
        yield data


def test_no_server_path_in_answers(guizhou_plan: PlannedTiny) -> None:
    svc: Service = guizhou_plan.svc
    c, pid = svc.client, guizhou_plan.plan_id
    data_dir = str(svc.settings.data_dir.resolve())
    for role in ("viewer", "national"):
        r = c.get(f"/api/v1/plans/{pid}/summary", headers=svc.headers(role))
        assert r.status_code == 200
        assert data_dir not in r.text
        assert not any(s.startswith("/") for s in _all_strings(r.json())), r.json()["scenario"]
    h = svc.headers("national")
    for path in (f"/api/v1/plans/{pid}", "/api/v1/plans", f"/api/v1/jobs/{guizhou_plan.job_id}"):
        assert data_dir not in c.get(path, headers=h).text, path


def test_links_never_come_from_the_host_header(guizhou_plan: PlannedTiny, tmp_path: Path) -> None:
    svc: Service = guizhou_plan.svc
    c, pid = svc.client, guizhou_plan.plan_id
    forged = {"Host": "evil.example"}
    h = svc.headers("national") | forged
    answers = [
        c.get("/api/v1/plans", headers=h).text,
        c.get(f"/api/v1/plans/{pid}", headers=h).text,
        c.post(f"/api/v1/plans/{pid}/map-link", headers=h).text,
        c.get("/", headers=h).text,
    ]
    for text in answers:
        assert "evil.example" not in text
    link = c.post(f"/api/v1/plans/{pid}/map-link", headers=h).json()["url"]
    assert link.startswith(f"/api/v1/plans/{pid}/map?"), link
    # with a configured base URL every link starts with it
    settings = svc.settings.model_copy(update={"base_url": "https://plans.example.gov.cn/west/"})
    with TestClient(create_app(settings)) as other:
        link = other.post(f"/api/v1/plans/{pid}/map-link", headers=h).json()["url"]
        assert link.startswith(f"https://plans.example.gov.cn/west/api/v1/plans/{pid}/map?")
        links = other.get(f"/api/v1/plans/{pid}", headers=h).json()["links"]
        assert all(u.startswith("https://plans.example.gov.cn/west/") for u in links.values())


# --- item 2 in a real browser --------------------------------------------------------------------

ATTACK_PAGE = """<!doctype html><html><body>
<iframe name="a"></iframe><iframe name="b"></iframe><iframe name="c"></iframe>
<iframe name="d"></iframe>
<form id="plan" method="POST" action="{svc}/api/v1/scenarios/{sid}/plans" target="a"></form>
<form id="sweep" method="POST" enctype="text/plain" target="b"
      action="{svc}/api/v1/scenarios/{sid}/sweeps">
  <input name='{{"vary": ["weights.preference_rank=5,10"], "x": "' value='"}}'>
</form>
<form id="office" method="POST" action="{svc}/office/scenarios/{sid}/plans" target="c">
  <input name="time_limit" value="5">
</form>
<form id="officeup" method="POST" enctype="multipart/form-data" target="d"
      action="{svc}/office/scenarios"><input name="x" value="y"></form>
<script>
const zip = Uint8Array.from(atob("{zip}"), c => c.charCodeAt(0));
async function attack() {{
  for (const id of ["plan", "sweep", "office", "officeup"]) document.getElementById(id).submit();
  for (const path of ["/api/v1/scenarios", "/office/scenarios"]) {{
    const form = new FormData();
    form.append("file", new Blob([zip], {{type: "application/zip"}}), "tiny.zip");
    await fetch("{svc}" + path, {{method: "POST", body: form, credentials: "include",
                                  mode: "no-cors"}}).catch(() => null);
  }}
  const plan = new FormData();
  await fetch("{svc}/api/v1/scenarios/{sid}/plans", {{method: "POST", body: plan,
              credentials: "include", mode: "no-cors"}}).catch(() => null);
  window.done = true;
}}
attack();
</script></body></html>"""


@pytest.mark.slow
def test_another_origin_cannot_write_in_chromium(tmp_path: Path) -> None:
    from tests.support.browser import browser

    env = server_env(tmp_path / "data")
    key = cli_key(env, "national")
    srv = Server(env, tmp_path / "server.log")
    h = {"Authorization": f"Bearer {key}"}
    tiny = write_tiny(tmp_path / "tiny")
    zipped = zip_folder(tiny)
    attacker = None
    api = httpx.Client(timeout=60)
    try:
        sid = api.post(f"{srv.url}/api/v1/scenarios", files=zip_part(zipped), headers=h).json()[
            "id"
        ]
        page_html = ATTACK_PAGE.format(
            svc=srv.url, sid=sid, zip=base64.b64encode(zipped).decode()
        ).encode()

        class Attacker(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page_html)))
                self.end_headers()
                self.wfile.write(page_html)

            def log_message(self, *args: Any) -> None:
                pass

        attacker = ThreadingHTTPServer(("127.0.0.1", free_port()), Attacker)
        Thread(target=attacker.serve_forever, daemon=True).start()
        evil = f"http://127.0.0.1:{attacker.server_address[1]}/"

        def counts() -> tuple[int, int]:
            scenarios = api.get(f"{srv.url}/api/v1/scenarios", headers=h).json()
            jobs = api.get(f"{srv.url}/api/v1/jobs", headers=h).json()
            return len(scenarios), len(jobs)

        before = counts()
        with browser() as b:
            context = b.new_context(
                http_credentials={
                    "username": "office",
                    "password": key,
                    "origin": srv.url,
                    "send": "always",
                }
            )
            page = context.new_page()
            # the browser holds Basic credentials: the index and a write of its own work
            assert page.goto(f"{srv.url}/").status == 200
            # and a signed-in office session
            page.goto(f"{srv.url}/office/sign-in")
            page.fill("input[name=key]", key)
            page.click("form.sign-in button[type=submit], form.sign-in input[type=submit]")
            page.wait_for_url(f"{srv.url}/office")
            assert any(c["name"] == "wp_session" for c in context.cookies())
            page.goto(evil)
            page.wait_for_function("window.done === true", timeout=30_000)
            page.wait_for_timeout(2000)  # the forms' requests land
            context.close()
        time.sleep(1)
        assert counts() == before
        events = api.get(f"{srv.url}/api/v1/audit", params={"since": "1h"}, headers=h).json()
        writes = [
            (e["action"], e["status"], e["detail"])
            for e in reversed(events)
            if e["action"] in ("plan", "sweep", "upload")
        ]
        # the first is this test's own upload (Bearer); every forged write reached the server
        # and was refused: 4 through the API (Basic), 3 through the office pages (their
        # session, from another origin)
        assert writes[0][:2] == ("upload", 201), writes
        tried = writes[1:]
        assert len(tried) == 7 and {status for _a, status, _d in tried} == {403}, tried
    finally:
        if attacker is not None:
            attacker.shutdown()
        api.close()
        srv.stop()
