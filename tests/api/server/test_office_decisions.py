"""The office's decisions on the pages over plain HTTP (issue 25): the pending set kept in the
database (across a restart of the service), refusals naming the rule, scopes, the forms'
token and origin, the audit trail, and the re-plan, versions, comparison and explanation
pages checked against the plan folders read here."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.core.settings import Settings
from api.server.app import create_app
from tests.support.api import Browser, PlannedTiny, Service, running_service, service_settings
from tests.support.scenario_files import write_spread_tiny

pytestmark = pytest.mark.slow  # a running service and its job workers

OWN = "province:520000"


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def spread_plan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlannedTiny]:
    """The Guizhou office's plan of the tiny scenario with 乙镇 moved away from 甲镇
    (:func:`write_spread_tiny`: a move between them is a line on the map)."""
    tmp = tmp_path_factory.mktemp("decisions")
    tiny = write_spread_tiny(tmp / "tiny")
    with running_service(service_settings(tmp)) as svc:
        yield PlannedTiny(svc, tmp, tiny, **svc.upload_and_plan(tiny, OWN))


def _decide(browser: Browser, plan_id: str, **form: str) -> Any:
    return browser.post(f"/office/plans/{plan_id}/decisions", form)


def _pending(browser: Browser, plan_id: str) -> list[str]:
    page = browser.client.get(f"/office/plans/{plan_id}/decisions").text
    return re.findall(r'<td class="decision">([^<]*)</td>', page)


def test_a_decision_breaking_a_rule_is_refused_naming_the_rule(spread_plan: PlannedTiny) -> None:
    office = Browser.signed_in_as(spread_plan.svc, OWN, language="zh-CN")
    plan = spread_plan.plan_id
    # from the scenario's own files: a post requiring a degree an applicant lacks
    order = ["junior_college", "bachelor", "master", "doctor"]
    posts = rows_of(spread_plan.tiny / "posts.csv")
    people = rows_of(spread_plan.tiny / "applicants.csv")
    post = next(p for p in posts if p["min_degree"])
    low = next(a for a in people if order.index(a["degree"]) < order.index(post["min_degree"]))
    r = _decide(office, plan, action="assign", applicant_id=low["applicant_id"],
                post_id=post["post_id"])  # fmt: skip
    assert r.status_code == 422, r.text[-800:]
    refusal = re.search(r'id="refusal">(.*?)</div>', r.text, re.S)
    assert refusal is not None
    text = refusal.group(1)
    assert "<code>A5</code>" in text and "学历" in text  # the rule, and its words in Chinese
    assert low["applicant_id"] in text and post["post_id"] in text
    assert _pending(office, plan) == []  # nothing was added

    # two decisions that contradict each other: the second names the first
    placed = rows_of(spread_plan.svc.settings.data_dir / "plans" / plan / "assignments.csv")[0]
    assert _decide(office, plan, action="close", post_id=placed["post_id"]).status_code == 303
    r = _decide(office, plan, action="assign", applicant_id=placed["applicant_id"],
                post_id=placed["post_id"])  # fmt: skip
    assert r.status_code == 422 and "<code>pin-conflict</code>" in r.text
    assert f"关闭岗位 {placed['post_id']}" in r.text  # the other decision, in words
    # the same decision twice: 409
    assert _decide(office, plan, action="close", post_id=placed["post_id"]).status_code == 409
    # an unknown action or a missing post: 422 naming what is expected
    r = _decide(office, plan, action="promote", applicant_id="A1", post_id="PA1")
    assert r.status_code == 422 and "指定" not in r.text and "关闭岗位" in r.text
    assert _decide(office, plan, action="assign", applicant_id="A1").status_code == 422
    assert _pending(office, plan) == [f"关闭岗位 {placed['post_id']}"]
    for d in re.findall(r"/decisions/(\d+)/remove", office.client.get(
            f"/office/plans/{plan}/decisions").text):  # fmt: skip
        assert office.post(f"/office/plans/{plan}/decisions/{d}/remove", {}).status_code == 303
    assert _pending(office, plan) == []


def test_scopes_roles_tokens_and_origins(spread_plan: PlannedTiny) -> None:
    svc: Service = spread_plan.svc
    plan, scenario = spread_plan.plan_id, spread_plan.scenario_id
    other = Browser.signed_in_as(svc, "province:530000")
    for path in (
        f"/office/plans/{plan}/decisions",
        f"/office/scenarios/{scenario}/versions",
        f"/office/plans/{plan}/applicants/A1",
        f"/office/scenarios/{scenario}/compare?before={plan}&after={plan}",
    ):
        assert other.client.get(path).status_code == 404, path
    assert _decide(other, plan, action="exclude", applicant_id="A1").status_code == 404
    assert other.post(f"/office/plans/{plan}/replan", {}).status_code == 404
    viewer = Browser.signed_in_as(svc, "viewer")
    assert _decide(viewer, plan, action="exclude", applicant_id="A1").status_code == 403
    office = Browser.signed_in_as(svc, OWN)
    form = {"action": "exclude", "applicant_id": "A1"}
    path = f"/office/plans/{plan}/decisions"
    for token in ("", "0" * 64, Browser.signed_in_as(svc, OWN).token()):
        r = office.client.post(path, data={**form, "csrf": token}, follow_redirects=False)
        assert r.status_code == 403, token
    r = office.client.post(
        path,
        data={**form, "csrf": office.token()},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert _pending(office, plan) == []
    events = svc.client.get(
        "/api/v1/audit", params={"since": "5m", "action": "decide"}, headers=svc.headers("national")
    ).json()
    assert any(e["role"] == "province:530000" and e["status"] == 404 for e in events), events


def test_pending_decisions_survive_a_restart_and_go_into_the_replan(
    spread_plan: PlannedTiny,
) -> None:
    svc: Service = spread_plan.svc
    settings: Settings = spread_plan.svc.settings
    plan = spread_plan.plan_id
    office = Browser.signed_in_as(svc, OWN, language="zh-CN")
    base = rows_of(settings.data_dir / "plans" / plan / "assignments.csv")
    keep, closed = base[-1], base[0]
    assert keep["post_id"] != closed["post_id"]
    assert _decide(office, plan, action="assign", applicant_id=keep["applicant_id"],
                   post_id=keep["post_id"], next=f"/office/plans/{plan}/placements"
                   ).headers["location"] == f"/office/plans/{plan}/placements"  # fmt: skip
    assert _decide(office, plan, action="close", post_id=closed["post_id"]).status_code == 303
    table = office.client.get(f"/office/plans/{plan}/placements").text
    assert "按这些调整重新编制" in table and f"关闭岗位 {closed['post_id']}" in table

    # a second service on the same database and folders (a restart) sees the same set
    app = create_app(settings, run_jobs=False)
    with TestClient(app, headers={"Accept-Language": "zh-CN"}) as again:
        again.cookies.update(office.client.cookies)
        page = again.get(f"/office/plans/{plan}/decisions").text
    assert sorted(re.findall(r'<td class="decision">([^<]*)</td>', page)) == sorted(
        [f"关闭岗位 {closed['post_id']}", f"将 {keep['applicant_id']} 留在岗位 {keep['post_id']}"]
    )

    r = office.post(f"/office/plans/{plan}/replan", {})
    assert r.status_code == 303 and r.headers["location"].startswith("/office/jobs/")
    job = svc.wait(r.headers["location"].rsplit("/", 1)[1])
    assert job["state"] == "succeeded", job
    new = job["plan_id"]
    assert _pending(office, plan) == []  # the set went into the job
    after = rows_of(settings.data_dir / "plans" / new / "assignments.csv")
    where = {a["applicant_id"]: a["post_id"] for a in after}
    assert where[keep["applicant_id"]] == keep["post_id"]
    assert closed["post_id"] not in where.values()
    pins = rows_of(settings.data_dir / "plans" / new / "pins.csv")
    assert {(p["action"], p["applicant_id"], p["post_id"]) for p in pins} == {
        ("assign", keep["applicant_id"], keep["post_id"]),
        ("close", "", closed["post_id"]),
    }
    # the versions page: both plans, the second set on the first, priced exactly
    versions = office.client.get(f"/office/scenarios/{spread_plan.scenario_id}/versions").text
    assert versions.index(plan) < versions.index(new)
    objective = [_objective(settings, p) for p in (plan, new)]
    assert f"{objective[1] - objective[0]:+,.2f}" in versions
    # the comparison: the moved count as counted here from both assignments.csv
    before = {a["applicant_id"]: a["post_id"] for a in base}
    moved = sum(1 for a, p in where.items() if a in before and before[a] != p)
    page = office.client.get(
        f"/office/scenarios/{spread_plan.scenario_id}/compare",
        params={"before": plan, "after": new},
    ).text
    count = re.search(r'<tr data-change="moved"><th>[^<]*</th><td class="number">(\d+)<', page)
    assert count is not None and int(count.group(1)) == moved
    assert page.count('data-change="moved"') == moved + 1  # the count's row and one per mover
    m = office.client.get(
        f"/office/scenarios/{spread_plan.scenario_id}/compare/map",
        params={"before": plan, "after": new},
    )
    assert m.status_code == 200 and "moves-legend" in m.text and "sha256-" in m.headers[
        "content-security-policy"]  # fmt: skip


def _objective(settings: Settings, plan_id: str) -> float:
    import json

    summary = json.loads((settings.data_dir / "plans" / plan_id / "summary.json").read_text())
    return float(summary["objective"])


def test_the_explanation_page_in_chinese(spread_plan: PlannedTiny) -> None:
    office = Browser.signed_in_as(spread_plan.svc, OWN, language="zh-CN")
    plan = spread_plan.plan_id
    unplaced = rows_of(spread_plan.svc.settings.data_dir / "plans" / plan / "unassigned.csv")[0]
    r = office.client.get(f"/office/plans/{plan}/applicants/{unplaced['applicant_id']}")
    assert r.status_code == 200, r.text[-500:]
    assert "为什么没有安排到第一志愿" in r.text
    assert f"{unplaced['applicant_id']} 未被安排" in r.text
    preferences = next(
        a for a in rows_of(spread_plan.tiny / "applicants.csv")
        if a["applicant_id"] == unplaced["applicant_id"]
    )  # fmt: skip
    wanted = sum(1 for k in range(1, 6) if preferences[f"pref_{k}"])
    rows = re.findall(r'<tr data-reason="([^"]*)">', r.text)
    assert len(rows) == wanted + 1  # each preference and "not placed at all"
    assert office.client.get(f"/office/plans/{plan}/applicants/NOBODY").status_code == 404
