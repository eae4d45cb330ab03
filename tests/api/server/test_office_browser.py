"""The office flow in a real browser: Playwright drives Debian's Chromium against a real
``planner serve`` on loopback, once in zh-CN and once in en.

Sign in -> upload a broken workbook -> the validation table names the cell, in the page's
language -> upload the good workbook -> start a plan -> the page follows the job to its end
(its script polls) -> open the map -> download plan.xlsx (its first sheet named in that
language) -> sign out. Every page is checked for Content-Security-Policy violations (none).
The zh-CN run takes its language from the browser's ``Accept-Language``; the en run starts in
a Chinese browser and uses the page's language switch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.support.api import Server, cli_key, server_env
from tests.support.browser import CSP_LISTENER
from tests.support.scenario_files import write_tiny
from tests.support.workbooks import break_cell, workbook_of

pytestmark = pytest.mark.slow  # about 30 s: a server, two plans and two maps in Chromium

OWN = "province:520000"
WORDS = {
    "zh-CN": {
        "Where": "位置",
        "Upload": "上传方案数据",
        "Sign in": "登录",
        "state": "已完成",
        "summary": "汇总",
    },
    "en": {
        "Where": "Where",
        "Upload": "Upload a scenario",
        "Sign in": "Sign in",
        "state": "succeeded",
        "summary": "Summary",
    },
}
"""What the pages say in each language (written here, not read from the catalogue)."""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("office-browser")
    env = server_env(tmp / "data")
    key = cli_key(env, OWN)
    server = Server(env, tmp / "server.log")
    tiny = write_tiny(tmp / "tiny")
    good = workbook_of(tiny, tmp / "方案.xlsx")
    broken = workbook_of(tiny, tmp / "有错误的方案.xlsx")
    cell = break_cell(broken, "岗位", 4, "岗位数", -2)
    try:
        yield {"url": server.url, "key": key, "good": good, "broken": broken, "cell": cell}
    finally:
        server.stop()


class Visit:
    """One browser tab that checks every page it lands on for policy violations."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.seen: dict[str, list[str]] = {}
        page.add_init_script(CSP_LISTENER)

    def check(self, name: str) -> None:
        """Record the violations of the page now shown (after late ones had time to come)."""
        self.page.wait_for_load_state("load")
        self.page.evaluate("new Promise(r => setTimeout(r, 150))")
        self.seen[name] = self.page.evaluate("window.__csp || ['no listener']")


@pytest.mark.needs("chromium")
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_office_flow_in_chromium(served: dict[str, Any], lang: str, tmp_path: Path) -> None:
    from tests.support.browser import browser

    words = WORDS[lang]
    url = served["url"]
    with browser() as b:
        context = b.new_context(locale="zh-CN", accept_downloads=True)
        visit = Visit(context.new_page())
        page = visit.page
        page.set_default_timeout(30_000)

        # sign in (the pages send a browser without a session to the sign-in form)
        page.goto(f"{url}/office")
        assert page.url.startswith(f"{url}/office/sign-in")
        visit.check("sign-in")
        if lang == "en":  # the switch on the page wins over the browser's Chinese
            page.click("form.languages button[value=en]")
            visit.check("sign-in after the switch")
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("h1").inner_text() == words["Sign in"]
        page.fill("#key", served["key"])
        page.click("#sign-in")
        assert page.url == f"{url}/office"
        assert page.locator("h1").first.inner_text() == words["Upload"]
        visit.check("start page")

        # a broken workbook: the validation table names the cell, in the page's language
        page.set_input_files("#scenario-file", str(served["broken"]))
        page.click("#upload")
        visit.check("validation table")
        header = page.locator("#validation thead th").all_inner_texts()
        assert words["Where"] in header
        where = page.locator("#validation td.where").all_inner_texts()
        assert served["cell"] in where

        # the corrected workbook, from the form on the same page
        page.set_input_files("#scenario-file", str(served["good"]))
        page.click("#upload")
        assert "/office/scenarios/" in page.url
        visit.check("scenario")

        # a plan: the job page follows the job (its script polls, then reloads when done)
        page.click("#start-plan")
        assert "/office/jobs/" in page.url
        visit.check("job (running)")
        page.wait_for_selector("#plan-link", timeout=120_000)
        assert page.locator("#job-state").inner_text() == words["state"]
        assert page.locator("#job-state").get_attribute("data-state") == "succeeded"
        visit.check("job (done)")
        page.click("#plan-link")
        visit.check("plan")

        # the workbook, in the language of the page the plan was started from
        with page.expect_download() as download:
            page.click("#xlsx-link")
        saved = tmp_path / "plan.xlsx"
        download.value.save_as(saved)
        assert openpyxl.load_workbook(saved, read_only=True).sheetnames[0] == words["summary"]

        # the map
        page.click("#map-link")
        page.wait_for_function("window.westplan && window.westplan.ready", timeout=60_000)
        counts = page.evaluate("window.westplan.counts")
        assert counts["counties"] >= 1 and counts["posts"] >= 1, counts
        visit.check("map")
        page.go_back()

        # sign out: the pages need a sign-in again
        page.click("#sign-out")
        assert page.url.startswith(f"{url}/office/sign-in")
        visit.check("signed out")
        page.goto(f"{url}/office")
        assert page.url.startswith(f"{url}/office/sign-in")
        context.close()
    assert len(visit.seen) >= 9
    assert all(v == [] for v in visit.seen.values()), visit.seen
