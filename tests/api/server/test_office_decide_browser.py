"""Deciding with the optimiser in a real browser, in zh-CN (issue 25): from the who-goes-where
table keep one applicant on his post and close another post, re-plan with these decisions,
open the versions, the comparison and its map of the moves, and an applicant's "why not my
first choice" page.

Playwright drives Debian's Chromium against a fresh ``planner serve``; what the pages show is
checked against the plan folders the server wrote, read here (the pinned applicant is on the
pinned post in the new ``assignments.csv``, the closed post has nobody, the comparison's
moved count is counted here from both ``assignments.csv``). Screenshots at 1366x768 go to
``docs/img/office/decide-*.png`` (shown in ``docs/office.md``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import Server, cli_key, server_env, zip_folder
from tests.support.office_day import DOCS, Day
from tests.support.scenario_files import write_spread_tiny

pytestmark = pytest.mark.slow  # a server, two plans, explanations and a map in Chromium

OWN = "province:520000"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("office-decide")
    env = server_env(tmp / "data", job_time_limit="60")
    key = cli_key(env, OWN)
    scenario = write_spread_tiny(tmp / "tiny")
    upload = tmp / "贵州2026年西部计划.zip"
    upload.write_bytes(zip_folder(scenario, "贵州2026年西部计划"))
    server = Server(env, tmp / "server.log")
    try:
        yield {"url": server.url, "key": key, "data": tmp / "data", "zip": upload,
               "scenario": scenario}  # fmt: skip
    finally:
        server.stop()


def _row(page: Any, applicant: str) -> Any:
    """An applicant's row of the table, its menu of decisions opened."""
    row = page.locator(f"#placements tbody tr:has(td:first-child:text-is('{applicant}'))")
    row.locator("details.decide-menu summary").click()
    return row


def _plan_and_wait(page: Any) -> str:
    """On a job page: wait for the plan, open it; its id."""
    assert "/office/jobs/" in page.url
    page.wait_for_selector("#plan-link", timeout=180_000)
    assert page.locator("#job-state").get_attribute("data-state") == "succeeded"
    page.click("#plan-link")
    return str(page.url.rstrip("/").rsplit("/", 1)[1])


def _decide(page: Any, day: Day, placed: list[dict[str, str]]) -> tuple[dict[str, str], ...]:
    """On the base plan's table: keep one applicant on his post, close another post, and see
    a contradicting decision refused; the two decisions taken."""
    keep = placed[-1]
    closed = next(p for p in placed if p["post_id"] != keep["post_id"])
    _row(page, keep["applicant_id"]).locator("button.decide-assign").click()
    _row(page, closed["applicant_id"]).locator("button.decide-close").click()
    pending = page.locator("#pending-decisions td.decision").all_inner_texts()
    assert pending == [
        f"将 {keep['applicant_id']} 留在岗位 {keep['post_id']}",
        f"关闭岗位 {closed['post_id']}",
    ], pending
    _row(page, keep["applicant_id"])  # its menu open in the picture
    day.step("table", full_page=True)

    # a decision that breaks a rule is refused, naming it (the pending set unchanged)
    _row(page, closed["applicant_id"]).locator("button.decide-assign").click()
    assert page.locator("#refusal-rule code").inner_text() == "pin-conflict"
    assert "相互矛盾" in page.locator("#refusal").inner_text()
    assert page.locator("#pending-decisions td.decision").count() == 2
    day.step("refused")
    return keep, closed


def _compare(page: Any, day: Day, new: str, closed: dict[str, str], moved: list[str]) -> None:
    """From the new plan's page: the versions, the comparison and the map of the moves."""
    page.click("#versions-link")
    versions = page.locator("#versions tbody tr")
    assert versions.count() == 2
    assert versions.nth(1).get_attribute("data-plan") == new
    assert f"关闭岗位 {closed['post_id']}" in versions.nth(1).inner_text()
    day.step("versions")

    page.click("#compare")
    shown = page.locator("#change-counts tr[data-change=moved] td").inner_text()
    assert int(shown) == len(moved)
    movers = page.locator("#changes tr[data-change=moved] td:first-child").all_inner_texts()
    assert sorted(movers) == moved
    day.step("compare", full_page=True)

    # the map of the moves, offline
    page.click("#moves-map-link")
    page.wait_for_selector("#moves-legend")
    page.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length > 0")
    day.step("moves-map")


def _explain(page: Any, day: Day, served: dict[str, Any], new: str, moved: list[str]) -> None:
    """Why not the first choice: an applicant not placed in the new plan, from his row."""
    unplaced = _rows(served["data"] / "plans" / new / "unassigned.csv")
    who = unplaced[0] if unplaced else {"applicant_id": moved[0], "reason": ""}
    page.goto(f"{served['url']}/office/plans/{new}/placements")
    _row(page, who["applicant_id"]).locator("a.why").click()
    assert "为什么没有安排到第一志愿" in page.locator("h1").inner_text()
    wishes = next(a for a in _rows(served["scenario"] / "applicants.csv")
                  if a["applicant_id"] == who["applicant_id"])  # fmt: skip
    wanted = [wishes[f"pref_{k}"] for k in range(1, 6) if wishes[f"pref_{k}"]]
    rows = page.locator("#alternatives tbody tr")
    assert rows.count() == len(wanted) + 1
    if who["reason"]:
        assert f"{who['applicant_id']} 未被安排" in page.locator("#where").inner_text()
        assert rows.last.locator("td").last.inner_text() == who["reason"]
    assert page.locator("#answer").inner_text().startswith("第一志愿")
    day.step("explanation")


def test_decide_replan_compare_and_explain(served: dict[str, Any]) -> None:
    from tests.support.browser import browser

    url, data = served["url"], served["data"]
    with browser() as chromium:
        context = chromium.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768},
                                       timezone_id="Asia/Shanghai")  # fmt: skip
        day = Day(context.new_page(), "zh-CN", "decide-")
        page = day.page
        page.set_default_timeout(60_000)
        page.goto(f"{url}/office")
        page.fill("#key", served["key"])
        page.click("#sign-in")
        page.set_input_files("#scenario-file", str(served["zip"]))
        page.click("#upload")
        page.click("#start-plan")
        base = _plan_and_wait(page)
        page.click("#placements-link")
        placed = _rows(data / "plans" / base / "assignments.csv")
        keep, closed = _decide(page, day, placed)

        # re-plan with the decisions: the pinned applicant on his post, the closed post empty
        page.click("#replan")
        new = _plan_and_wait(page)
        after = {
            a["applicant_id"]: a["post_id"] for a in _rows(data / "plans" / new / "assignments.csv")
        }
        assert after[keep["applicant_id"]] == keep["post_id"]
        assert closed["post_id"] not in after.values()
        before = {p["applicant_id"]: p["post_id"] for p in placed}
        moved = sorted(a for a, p in after.items() if a in before and before[a] != p)
        _compare(page, day, new, closed, moved)
        _explain(page, day, served, new, moved)
        context.close()

    assert all(v == [] for v in day.csp.values()), day.csp
    assert day.words == {}, day.words
    assert day.commands == {}, day.commands
    guide = (DOCS / "office.md").read_text(encoding="utf-8")
    shots = sorted((DOCS / "img" / "office").glob("decide-*.png"))
    assert shots and all(f"img/office/{p.name}" in guide for p in shots)
