"""The results an office reads: the plan page leads with placed against quota per county, relay
posts, budget and unplaced reasons, the optimiser's numbers folded; the who-goes-where table is
one query served as a page, a workbook and JSON (checked here against the plan's CSVs read
with the csv module)."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import openpyxl

from tests.support.api import (
    Browser,
    PlannedTiny,
    Service,
)

OWN = "province:520000"


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / f"{name}.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_the_plan_page_leads_with_what_an_office_decides(guizhou_plan: PlannedTiny) -> None:
    svc: Service = guizhou_plan.svc
    browser = Browser.signed_in_as(svc, OWN, language="zh-CN")
    text = browser.client.get(f"/office/plans/{guizhou_plan.plan_id}").text
    counties = text.index('id="counties"')
    technical = text.index('id="technical"')
    assert counties < technical and "<details" in text[technical - 20 : technical]
    assert "目标函数值" in text[technical:] and "目标函数值" not in text[:technical]
    # placed against quota per county, from the CSV: 南明区 3 -> 2 placed, unfilled first
    placed = Counter(r["county_code"] for r in _rows(guizhou_plan.plan_folder, "assignments"))
    table = text[counties : text.index("</table>", counties)]
    names = re.findall(
        r'<td title="(\d{6})"><a [^>]*>([^<]+)</a></td><td>(\d+)</td><td>(\d+)</td>', table
    )
    assert names[0][:2] == ("520102", "南明区") and int(names[0][3]) == placed["520102"]
    assert names[1][:2] == ("520103", "云岩区") and int(names[1][3]) == placed["520103"]
    assert [int(q) for _, _, q, _ in names] == [3, 1]  # the quotas of quotas.csv
    # the unplaced by reason, counted from unassigned.csv
    reasons = Counter(r["reason_code"] for r in _rows(guizhou_plan.plan_folder, "unassigned"))
    unplaced = text[text.index('id="unplaced"') :]
    for code, n in reasons.items():
        assert f"?reason={code}" in unplaced and f"<td>{n}</td>" in unplaced
    assert "planner " not in text
    sorted_page = browser.client.get(f"/office/plans/{guizhou_plan.plan_id}?sort=county").text
    assert sorted_page.index("南明区") < sorted_page.index("云岩区")


def _json(svc: Service, plan_id: str, **params: str) -> dict[str, Any]:
    r = svc.client.get(
        f"/api/v1/plans/{plan_id}/placements", params=params, headers=svc.headers(OWN)
    )
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def test_who_goes_where_as_json_page_and_workbook(guizhou_plan: PlannedTiny) -> None:
    svc: Service = guizhou_plan.svc
    plan_id, folder = guizhou_plan.plan_id, guizhou_plan.plan_folder
    assignments = _rows(folder, "assignments")
    unassigned = _rows(folder, "unassigned")
    everyone = _json(svc, plan_id)
    assert everyone["total"] == len(assignments) + len(unassigned)
    ids = {i["applicant_id"] for i in everyone["items"]}
    assert ids == {r["applicant_id"] for r in assignments + unassigned}
    facets = {f["value"]: f["count"] for f in everyone["facets"]["county"]}
    assert facets == dict(Counter(r["county_code"] for r in assignments))
    reasons = {f["value"]: f["count"] for f in everyone["facets"]["reason"]}
    assert reasons == {"placed": len(assignments)} | dict(
        Counter(r["reason_code"] for r in unassigned)
    )
    # search one applicant, by id; filter one county; search a county by its name
    one = _json(svc, plan_id, q=assignments[0]["applicant_id"].lower())
    assert [i["applicant_id"] for i in one["items"]] == [assignments[0]["applicant_id"]]
    county = _json(svc, plan_id, county="520102")
    assert county["total"] == sum(r["county_code"] == "520102" for r in assignments)
    assert _json(svc, plan_id, q="云岩")["total"] == sum(
        r["county_code"] == "520103" for r in assignments
    )
    unplaced = _json(svc, plan_id, reason=unassigned[0]["reason_code"])
    assert {i["applicant_id"] for i in unplaced["items"]} == {
        r["applicant_id"] for r in unassigned if r["reason_code"] == unassigned[0]["reason_code"]
    }
    assert all(i["reason"] for i in unplaced["items"])
    # paging on the server
    first = _json(svc, plan_id, size="2", page="1")
    second = _json(svc, plan_id, size="2", page="2")
    assert first["pages"] == (everyone["total"] + 1) // 2 and len(first["items"]) == 2
    assert not {i["applicant_id"] for i in first["items"]} & {
        i["applicant_id"] for i in second["items"]
    }
    # the page: the same rows, labels and names, facets with counts
    browser = Browser.signed_in_as(svc, OWN, language="zh-CN")
    page = browser.client.get(f"/office/plans/{plan_id}/placements?county=520102").text
    rows = re.findall(r'<tr class="(placed|unplaced)"><td>([^<]+)</td>', page)
    assert {r[1] for r in rows} == {i["applicant_id"] for i in county["items"]}
    assert "南明区" in page and "教育" in page and ">education<" not in page
    # the workbook of the filtered rows
    r = browser.client.get(f"/office/plans/{plan_id}/placements.xlsx?county=520102")
    assert r.status_code == 200
    name = unquote(re.search(r"filename\*=UTF-8''(.+)", r.headers["content-disposition"]).group(1))  # type: ignore[union-attr]
    assert name.startswith("tiny-人员去向-") and name.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    got = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(got) == sorted(i["applicant_id"] for i in county["items"])
    # a viewer may not; another province sees no such plan
    assert (
        svc.client.get(
            f"/api/v1/plans/{plan_id}/placements", headers=svc.headers("viewer")
        ).status_code
        == 403
    )


def test_the_workbook_download_is_named_after_the_scenario(guizhou_plan: PlannedTiny) -> None:
    svc: Service = guizhou_plan.svc
    browser = Browser.signed_in_as(svc, OWN, language="zh-CN")
    r = browser.client.get(f"/office/plans/{guizhou_plan.plan_id}/xlsx")
    header = r.headers["content-disposition"]
    name = unquote(re.search(r"filename\*=(?:UTF-8|utf-8)''(.+)", header).group(1))  # type: ignore[union-attr]
    assert re.fullmatch(r"tiny-方案-\d{4}-\d{2}-\d{2}\.xlsx", name), name


def test_assignments_keeps_its_shape_and_placements_is_the_searchable_table(
    guizhou_plan: PlannedTiny,
) -> None:
    """``/assignments`` is not an alias of who goes where (docs/api.md says why): it stays
    ``assignments.csv`` in pages of offset and limit, while ``/placements`` searches the placed
    and the unplaced; both agree on who is placed where."""
    svc: Service = guizhou_plan.svc
    h = svc.headers(OWN)
    base = f"/api/v1/plans/{guizhou_plan.plan_id}"
    table = svc.client.get(f"{base}/assignments", params={"limit": 1000}, headers=h).json()
    assert set(table) == {"total", "offset", "limit", "items"}
    found = svc.client.get(f"{base}/placements", params={"reason": "placed"}, headers=h).json()
    assert set(found) == {"total", "page", "pages", "size", "items", "facets"}
    assert found["total"] == table["total"] == len(_rows(guizhou_plan.plan_folder, "assignments"))
    pairs = {(r["applicant_id"], r["post_id"], r["county_code"]) for r in table["items"]}
    assert {(r["applicant_id"], r["post_id"], r["county_code"]) for r in found["items"]} == pairs
    # the schema keeps the two apart: search, facets and pages of numbers only on /placements
    paths = svc.client.get("/openapi.json").json()["paths"]
    named = {
        p: {q["name"] for q in paths[f"/api/v1/plans/{{plan_id}}/{p}"]["get"]["parameters"]}
        for p in ("assignments", "placements")
    }
    assert {"province", "format", "offset", "limit"} <= named["assignments"]
    assert not {"q", "category", "reason", "page"} & named["assignments"]
    assert {"q", "county", "category", "reason", "page", "size"} <= named["placements"]
