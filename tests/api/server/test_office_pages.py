"""The office pages (``/office``) in an in-process app: the session cookie, the forms' CSRF
tokens, the throttle and audit of sign-ins, what each role sees, the language switch, the
validation table in the page's language, and a plan written in the language of its page.

The whole flow in a real Chromium against ``planner serve`` is ``tests/api/server/test_office_browser.py``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from api.core.api_keys import create_key
from tests.support.api import XLSX, Browser, PlannedTiny, Service, planned_tiny
from tests.support.workbooks import break_cell, workbook_of

OWN, OTHER = "province:520000", "province:530000"
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class OfficeBooks:
    """The Guizhou office's tiny plan, the tiny scenario as a workbook, and a copy of it broken
    in one cell."""

    plan: PlannedTiny
    book: Path
    broken: Path
    cell: str
    """The broken cell, as Excel names it (``岗位!E4``)."""


@pytest.fixture(scope="module")
def office_books(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OfficeBooks]:
    """The tiny plan in a running service, and the workbooks an office uploads."""
    with planned_tiny(tmp_path_factory.mktemp("office")) as plan:
        book = workbook_of(plan.tiny, plan.tmp / "方案.xlsx")
        broken = workbook_of(plan.tiny, plan.tmp / "broken.xlsx")
        cell = break_cell(broken, "岗位", 4, "岗位数", -2)
        yield OfficeBooks(plan, book, broken, cell)


def _cookies(response: Any) -> dict[str, SimpleCookie]:
    out = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        out |= {name: jar for name in jar}
    return out


def _upload(browser: Browser, path: Path) -> Any:
    return browser.post("/office/scenarios", {}, {"file": (path.name, path.read_bytes(), XLSX)})


# --- the session and the forms -------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_session_cookie_is_httponly_strict_and_secure_over_https(
    office_books: OfficeBooks, scheme: str
) -> None:
    svc: Service = office_books.plan.svc
    browser = Browser(TestClient(svc.client.app, base_url=f"{scheme}://testserver"))  # type: ignore[attr-defined]
    page = browser.client.get("/office/sign-in")
    csrf = _cookies(page)["wp_csrf"]["wp_csrf"]
    r = browser.post("/office/sign-in", {"key": svc.keys[OWN], "next": "/office"})
    assert r.status_code == 303 and r.headers["location"] == "/office"
    session = _cookies(r)["wp_session"]["wp_session"]
    for cookie in (csrf, session):
        assert cookie["httponly"] is True
        assert cookie["samesite"].lower() == "strict"
        assert cookie["path"] == "/office"
        assert bool(cookie["secure"]) == (scheme == "https")
    assert svc.keys[OWN] not in r.headers.get("set-cookie", "")  # a token, never the key
    assert browser.client.get("/office", follow_redirects=False).status_code == 200


def test_a_page_without_a_session_sends_to_the_sign_in(office_books: OfficeBooks) -> None:
    browser = Browser.signed_in_as(office_books.plan.svc, None)
    r = browser.client.get(f"/office/plans/{office_books.plan.plan_id}", follow_redirects=False)
    assert r.status_code == 303
    assert (
        r.headers["location"]
        == f"/office/sign-in?next=%2Foffice%2Fplans%2F{office_books.plan.plan_id}"
    )
    # after signing in, the browser goes where it wanted to (a wrong key first: the form
    # again, still going there)
    wanted = f"/office/plans/{office_books.plan.plan_id}"
    r = browser.post("/office/sign-in", {"key": "wp_0badc0de_x", "next": wanted})
    assert r.status_code == 401 and f'name="next" value="{wanted}"' in r.text
    r = browser.post(
        "/office/sign-in",
        {
            "key": office_books.plan.svc.keys["viewer"],
            "next": f"/office/plans/{office_books.plan.plan_id}",
        },
    )
    assert r.headers["location"] == f"/office/plans/{office_books.plan.plan_id}"
    # never to another site
    for target in (
        "https://evil.example/office",
        "//evil.example/office",
        "/elsewhere",
        "/office/../api/v1/scenarios",
    ):
        r = browser.post("/office/language", {"lang": "en", "next": target})
        assert r.status_code == 303 and r.headers["location"] == "/office", target


def test_forms_without_their_token_are_refused(office_books: OfficeBooks) -> None:
    svc: Service = office_books.plan.svc
    office = Browser.signed_in_as(svc, OWN)
    other = Browser.signed_in_as(svc, OWN)
    before = svc.client.get("/api/v1/scenarios", headers=svc.headers("national")).json()
    book = {"file": ("方案.xlsx", office_books.book.read_bytes(), XLSX)}
    for form in ({}, {"csrf": ""}, {"csrf": other.token()}, {"csrf": "0" * 64}):
        r = office.client.post("/office/scenarios", data=form, files=book, follow_redirects=False)
        assert r.status_code == 403, (form, r.status_code)
        assert "security token" in r.text
    after = svc.client.get("/api/v1/scenarios", headers=svc.headers("national")).json()
    assert after == before  # nothing was stored
    for path, form in (
        ("/office/sign-out", {}),
        (f"/office/scenarios/{office_books.plan.scenario_id}/plans", {}),
        ("/office/language", {"lang": "zh-CN"}),
        ("/office/sign-in", {"key": svc.keys[OWN]}),
    ):
        r = office.client.post(path, data=form, follow_redirects=False)
        assert r.status_code == 403, path
    assert office.client.get("/office", follow_redirects=False).status_code == 200  # still in
    # the same forms with the page's token work
    assert _upload(office, office_books.book).status_code == 303


def test_a_wrong_key_is_throttled_and_audited(office_books: OfficeBooks) -> None:
    svc: Service = office_books.plan.svc
    guesser = Browser.signed_in_as(svc, None, address="127.0.3.1")
    codes = []
    for i in range(22):
        r = guesser.post("/office/sign-in", {"key": f"wp_{i:08x}_guess"})
        codes.append(r.status_code)
        if r.status_code == 401:
            assert "unknown or revoked API key" in r.text and 'name="key"' in r.text
    assert codes == [401] * 20 + [429] * 2
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert "too many failed authentications" in r.text
    # the right key from that address waits too; from another address it signs in
    assert guesser.post("/office/sign-in", {"key": svc.keys[OWN]}).status_code == 429
    assert Browser.signed_in_as(svc, OWN, address="127.0.3.2").signed_in
    events = svc.client.get(
        "/api/v1/audit", params={"since": "5m"}, headers=svc.headers("national")
    ).json()
    mine = [e for e in events if e["address"] == "127.0.3.1"]
    assert sum(e["action"] == "failed-auth" for e in mine) == 20
    throttled = [e for e in mine if e["action"] == "throttled"]
    assert sum(e["count"] for e in throttled) == 3 and len(throttled) <= 2  # a row per minute
    signed = [e for e in events if e["address"] == "127.0.3.2" and e["action"] == "sign-in"]
    assert signed and signed[0]["role"] == OWN and signed[0]["outcome"] == "ok"
    assert "guess" not in str(events) and svc.keys[OWN] not in str(events)


def test_sign_out_ends_the_session_wherever_it_was_copied(office_books: OfficeBooks) -> None:
    svc: Service = office_books.plan.svc
    browser = Browser.signed_in_as(svc, OWN)
    token = browser.client.cookies.get("wp_session")
    assert token
    copy = TestClient(svc.client.app, cookies={"wp_session": token})  # type: ignore[attr-defined]
    assert copy.get("/office", follow_redirects=False).status_code == 200
    r = browser.post("/office/sign-out", {})
    assert r.status_code == 303 and r.headers["location"] == "/office/sign-in"
    assert copy.get("/office", follow_redirects=False).status_code == 303
    assert browser.client.get("/office", follow_redirects=False).status_code == 303


def test_a_revoked_key_ends_its_sessions(office_books: OfficeBooks) -> None:
    svc: Service = office_books.plan.svc
    app = svc.client.app  # type: ignore[attr-defined]
    with app.state.sessions() as session:
        row, key = create_key(session, "national", "to revoke")
    svc.keys["revoked"] = key
    browser = Browser.signed_in_as(svc, "revoked")
    assert browser.client.get("/office", follow_redirects=False).status_code == 200
    with app.state.sessions() as session:
        from api.core.api_keys import revoke_key

        revoke_key(session, row.prefix)
    assert browser.client.get("/office", follow_redirects=False).status_code == 303


# --- who sees what -------------------------------------------------------------------------------


def test_a_province_sees_only_its_own_scenarios_and_plans(office_books: OfficeBooks) -> None:
    svc: Service = office_books.plan.svc
    sid, pid, jid = (
        office_books.plan.scenario_id,
        office_books.plan.plan_id,
        office_books.plan.job_id,
    )
    own = Browser.signed_in_as(svc, OWN)
    other = Browser.signed_in_as(svc, OTHER)
    assert sid in own.client.get("/office").text
    home = other.client.get("/office").text
    assert sid not in home and pid not in home
    for path in (
        f"/office/scenarios/{sid}",
        f"/office/jobs/{jid}",
        f"/office/plans/{pid}",
        f"/office/plans/{pid}/map",
        f"/office/plans/{pid}/xlsx",
    ):
        assert own.client.get(path).status_code == 200, path
        assert other.client.get(path).status_code == 404, path
    r = _upload(other, office_books.book)
    assert r.status_code == 403 and "520000" in r.text


def test_a_viewer_reads_plans_and_maps_only(office_books: OfficeBooks) -> None:
    svc: Service = office_books.plan.svc
    viewer = Browser.signed_in_as(svc, "viewer")
    pid = office_books.plan.plan_id
    home = viewer.client.get("/office").text
    assert pid in home and 'name="file"' not in home  # no upload form
    plan = viewer.client.get(f"/office/plans/{pid}")
    assert plan.status_code == 200 and "map-link" in plan.text and "xlsx-link" not in plan.text
    assert viewer.client.get(f"/office/plans/{pid}/map").status_code == 200
    for path in (f"/office/plans/{pid}/xlsx", f"/office/scenarios/{office_books.plan.scenario_id}"):
        r = viewer.client.get(path)
        assert r.status_code == 403 and "viewer" in r.text, path
    assert _upload(viewer, office_books.book).status_code == 403


# --- languages -----------------------------------------------------------------------------------


def test_the_language_follows_the_switch_then_the_browser(office_books: OfficeBooks) -> None:
    svc: Service = office_books.plan.svc
    english = Browser.signed_in_as(svc, OWN, language="en-GB,en;q=0.9")
    page = english.client.get("/office")
    assert '<html lang="en">' in page.text and "Sign out" in page.text
    assert page.headers["content-language"] == "en"
    r = english.post("/office/language", {"lang": "zh-CN", "next": "/office"})
    assert r.status_code == 303
    lang = _cookies(r)["wp_lang"]["wp_lang"]
    assert lang.value == "zh-CN" and lang["path"] == "/" and lang["samesite"].lower() == "strict"
    page = english.client.get("/office")  # the switch wins over Accept-Language
    assert '<html lang="zh-CN">' in page.text and "退出登录" in page.text
    chinese = Browser.signed_in_as(svc, OWN, language="zh-CN,zh;q=0.9")
    assert "退出登录" in chinese.client.get("/office").text
    r = chinese.post("/office/language", {"lang": "fr"})
    assert r.status_code == 422 and "fr" in r.text


@pytest.mark.parametrize(
    ("lang", "where", "found"),
    [("zh-CN", "位置", "填写的是 '-2'"), ("en", "Where", "found '-2'")],
)
def test_the_validation_table_names_the_cell_in_the_pages_language(
    office_books: OfficeBooks, lang: str, where: str, found: str
) -> None:
    browser = Browser.signed_in_as(office_books.plan.svc, OWN, language=lang)
    r = _upload(browser, office_books.broken)
    assert r.status_code == 422
    head = re.search(r"<thead>(.*?)</thead>", r.text, re.S)
    assert head and where in head.group(1)
    rows = re.findall(
        r'<tr class="error"><td>[^<]*</td><td class="where">([^<]*)</td><td><code>([^<]*)</code>'
        r"</td><td>([^<]*)</td>",
        r.text,
    )
    (row,) = [x for x in rows if x[0] == office_books.cell]
    assert row[1] == "bad-value" and found in row[2].replace("&#39;", "'")
    assert 'name="file"' in r.text  # the form again, to send the corrected file


def test_a_plan_started_from_a_page_speaks_its_language(office_books: OfficeBooks) -> None:
    svc: Service = office_books.plan.svc
    browser = Browser.signed_in_as(svc, OWN, language="zh-CN")
    r = _upload(browser, office_books.book)
    assert r.status_code == 303
    scenario = browser.client.get(r.headers["location"])
    assert scenario.status_code == 200 and "开始规划" in scenario.text
    where = r.headers["location"].split("?")[0]  # ?same=1 when the module uploaded it before
    r = browser.post(where + "/plans", {"time_limit": "30"})
    assert r.status_code == 303 and r.headers["location"].startswith("/office/jobs/")
    job_id = r.headers["location"].rsplit("/", 1)[1]
    job = svc.wait(job_id, OWN)
    assert job["state"] == "succeeded", job
    progress = browser.client.get(f"/office/jobs/{job_id}/progress").json()
    assert progress["final"] and progress["state_text"] == "已完成"
    assert progress["plan_url"] == f"/office/plans/{job['plan_id']}"
    xlsx = browser.client.get(f"/office/plans/{job['plan_id']}/xlsx")
    assert xlsx.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(xlsx.content)).sheetnames[0] == "汇总"
    plan = browser.client.get(f"/office/plans/{job['plan_id']}").text
    assert "已派遣 / 报名者" in plan and CJK.search(plan)
