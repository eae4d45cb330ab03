"""What an office does from the pages without a shell: the template (pages and API), keys
made and revoked by a national key (audited, CSRF-checked), times in the office's zone,
provinces by name, and no page that tells anyone to type a ``planner`` command."""

from __future__ import annotations

import io
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import openpyxl
import pytest
from fastapi.testclient import TestClient

from api.core.settings import Settings
from api.server.times import local_time
from tests.support.api import (
    Browser,
    PlannedTiny,
    Service,
)

OWN = "province:520000"


def _filename(response: Any) -> str:
    header = response.headers["content-disposition"]
    found = re.search(r"filename\*=UTF-8''([^;]+)", header)
    assert found, header
    return unquote(found.group(1))


@pytest.mark.parametrize(("lang", "first", "name"), [
    ("zh-CN", "说明", "西部计划方案模板.xlsx"),
    ("en", "Instructions", "Western Plan scenario template.xlsx"),
])  # fmt: skip
def test_the_template_from_the_page_and_the_api(
    guizhou_plan: PlannedTiny, lang: str, first: str, name: str
) -> None:
    svc: Service = guizhou_plan.svc
    browser = Browser.signed_in_as(svc, OWN, language=lang)
    home = browser.client.get("/office").text
    assert 'href="/office/template"' in home
    r = browser.client.get("/office/template")
    assert r.status_code == 200 and _filename(r) == name
    assert openpyxl.load_workbook(io.BytesIO(r.content)).sheetnames[0] == first
    api = svc.client.get(f"/api/v1/template?lang={lang}", headers=svc.headers("viewer"))
    assert api.status_code == 200 and _filename(api) == name
    assert openpyxl.load_workbook(io.BytesIO(api.content)).sheetnames[0] == first
    assert svc.client.get("/api/v1/template").status_code == 401
    bad = svc.client.get("/api/v1/template?lang=fr", headers=svc.headers("viewer"))
    assert bad.status_code == 422


def test_a_national_key_makes_and_revokes_keys_in_the_pages(guizhou_plan: PlannedTiny) -> None:
    svc: Service = guizhou_plan.svc
    national = Browser.signed_in_as(svc, "national", language="zh-CN")
    page = national.client.get("/office/keys")
    assert page.status_code == 200 and "贵州省" in page.text
    # without the form's token nothing is made
    refused = national.client.post("/office/keys", data={"role": "viewer"}, follow_redirects=False)
    assert refused.status_code == 403
    made = national.post("/office/keys", {"role": "province", "province": "640000", "name": "宁夏"})
    assert made.status_code == 201
    found = re.search(r'id="new-key" value="(wp_([0-9a-f]+)_[^"]+)"', made.text)
    assert found, made.text[-2000:]
    key, prefix = found.group(1), found.group(2)
    # the new key works, for its province
    me = svc.client.get("/api/v1/scenarios", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200
    app = svc.client.app  # type: ignore[attr-defined]
    ningxia = Browser(TestClient(app, headers={"Accept-Language": "zh-CN"}))
    r = ningxia.post("/office/sign-in", {"key": key, "next": "/office"})
    assert r.status_code == 303
    assert "宁夏回族自治区" in ningxia.client.get("/office").text
    # it is listed (by its prefix, never whole) and shown nowhere again
    listing = national.client.get("/office/keys").text
    assert f"wp_{prefix}_" in listing and key not in listing
    # revoked: it stops working
    gone = national.post(f"/office/keys/{prefix}/revoke", {})
    assert gone.status_code == 303
    row = re.search(rf"wp_{prefix}_….*?</tr>", national.client.get("/office/keys").text, re.S)
    assert row and "北京时间" in row.group(0).split("</td>", 4)[-1]  # its revocation time
    for action in ("key-create", "key-revoke"):
        assert _audited(svc, action, prefix), action
    # a province key and a viewer may not
    for role in (OWN, "viewer"):
        other = Browser.signed_in_as(svc, role)
        assert other.client.get("/office/keys").status_code == 403
        assert other.post("/office/keys", {"role": "national"}).status_code == 403


def _audited(svc: Service, action: str, object_id: str) -> bool:
    """Whether the audit trail has ``action`` on ``object_id`` (written in batches)."""
    for _ in range(50):
        trail = svc.client.get(f"/api/v1/audit?action={action}", headers=svc.headers("national"))
        if any(e["object_id"] == object_id for e in trail.json()):
            return True
        time.sleep(0.1)
    return False


def test_no_page_tells_anyone_to_type_a_command(guizhou_plan: PlannedTiny) -> None:
    svc: Service = guizhou_plan.svc
    pages = ["/office/sign-in"]
    for role in ("national", OWN, "viewer"):
        for lang in ("zh-CN", "en"):
            browser = Browser.signed_in_as(svc, role, language=lang)
            for path in (
                pages[0],
                "/office",
                "/office/template",
                f"/office/plans/{guizhou_plan.plan_id}",
                f"/office/scenarios/{guizhou_plan.scenario_id}",
                "/office/keys",
            ):
                r = browser.client.get(path)
                if r.headers.get("content-type", "").startswith("text/html"):
                    assert "planner " not in r.text.replace("planner-", ""), (role, lang, path)


def test_times_are_shown_in_the_offices_zone() -> None:
    utc = datetime(2026, 12, 6, 9, 22, tzinfo=UTC)
    from planner import i18n

    with i18n.speaking("zh-CN"):
        assert local_time(utc) == "2026-12-06 17:22 北京时间"
        assert local_time(utc.replace(tzinfo=None)) == "2026-12-06 17:22 北京时间"
    with i18n.speaking("en"):
        assert local_time(utc, "UTC") == "2026-12-06 09:22 UTC"
        assert local_time(utc, "Asia/Urumqi") == "2026-12-06 15:22 Asia/Urumqi"
    with pytest.raises(ValueError, match="time zone"):
        Settings(data_dir=Path("unused"), time_zone="Mars/Olympus")


def test_the_start_page_shows_beijing_time_and_the_province_by_name(
    guizhou_plan: PlannedTiny,
) -> None:
    svc: Service = guizhou_plan.svc
    browser = Browser.signed_in_as(svc, OWN, language="zh-CN")
    text = browser.client.get("/office").text
    assert "北京时间" in text and "贵州省" in text
    assert "省份 520000" not in text
