"""The same upload twice is recognised by its bytes (SHA-256) and answered with the scenario
the key already has: the API says so (200, ``existing``), the page opens that scenario with a
note; nothing is stored twice. Other bytes, or a key that may not see the first scenario, make
a new upload as before."""

from __future__ import annotations

from pathlib import Path

from tests.support.api import (
    XLSX,
    Browser,
    TinyService,
    zip_folder,
    zip_part,
)
from tests.support.workbooks import workbook_of

OWN = "province:520000"


def test_the_api_answers_the_existing_scenario(fresh_service: TinyService) -> None:
    svc = fresh_service.svc
    data = zip_folder(fresh_service.tiny)
    h = svc.headers(OWN)
    first = svc.client.post("/api/v1/scenarios", files=zip_part(data), headers=h)
    assert first.status_code == 201, first.text
    assert first.json()["existing"] is False
    again = svc.client.post("/api/v1/scenarios", files=zip_part(data, "renamed.zip"), headers=h)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["existing"] is True
    assert again.json()["validation"] == first.json()["validation"]
    # the national key sees the province's scenario: the same answer
    national = svc.client.post(
        "/api/v1/scenarios", files=zip_part(data), headers=svc.headers("national")
    )
    assert national.status_code == 200 and national.json()["id"] == first.json()["id"]
    ids = [s["id"] for s in svc.client.get("/api/v1/scenarios", headers=h).json()]
    assert ids.count(first.json()["id"]) == 1
    # other bytes: a new scenario
    other = zip_folder(fresh_service.tiny, top="other")
    new = svc.client.post("/api/v1/scenarios", files=zip_part(other), headers=h)
    assert new.status_code == 201 and new.json()["id"] != first.json()["id"]
    # another province's key is not offered a scenario it may not see: refused as before
    refused = svc.client.post(
        "/api/v1/scenarios", files=zip_part(data), headers=svc.headers("province:530000")
    )
    assert refused.status_code == 403, refused.text


def test_the_page_opens_the_existing_scenario(fresh_service: TinyService) -> None:
    svc = fresh_service.svc
    book = workbook_of(fresh_service.tiny, Path(fresh_service.tmp) / "方案.xlsx")
    browser = Browser.signed_in_as(svc, OWN, "zh-CN")
    sent = book.read_bytes()
    first = browser.post("/office/scenarios", {}, files={"file": ("方案.xlsx", sent, XLSX)})
    assert first.status_code == 303, first.text[-500:]
    again = browser.post("/office/scenarios", {}, files={"file": ("方案(1).xlsx", sent, XLSX)})
    assert again.status_code == 303
    assert again.headers["location"] == first.headers["location"] + "?same=1"
    page = browser.client.get(again.headers["location"])
    assert 'id="same-upload"' in page.text and "上传过" in page.text
    assert 'id="same-upload"' not in browser.client.get(first.headers["location"]).text
