"""Pins, explanations and plan versions over the HTTP API (issue 25): ``pins`` in
``POST /scenarios/{id}/plans``, ``GET /plans/{id}/applicants/{aid}/explanation`` and
``GET /plans/{id}/diff/{other}``, scoped to the caller's province."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.core.settings import Settings
from tests.support.api import Service, database_url, running_service, zip_folder, zip_part
from tests.support.scenario_files import write_tiny

pytestmark = pytest.mark.slow  # a running service and its job workers


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("api-pins")
    with database_url("sqlite", tmp) as url:
        settings = Settings(
            data_dir=tmp / "data", database_url=url, poll_seconds=0.1, job_time_limit=30
        )
        with running_service(settings) as service:
            yield service


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def plans(svc: Service, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tiny = write_tiny(tmp_path_factory.mktemp("tiny") / "tiny")
    h = svc.headers("national")
    r = svc.client.post("/api/v1/scenarios", files=zip_part(zip_folder(tiny)), headers=h)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    job = svc.wait(svc.client.post(f"/api/v1/scenarios/{sid}/plans", headers=h).json()["job_id"])
    assert job["state"] == "succeeded", job
    base = job["plan_id"]
    placed = _rows(svc.settings.data_dir / "plans" / base / "assignments.csv")
    pins = [
        {"action": "close", "post_id": placed[0]["post_id"]},
        {"action": "exclude", "applicant_id": placed[1]["applicant_id"]},
    ]
    r = svc.client.post(
        f"/api/v1/scenarios/{sid}/plans", json={"pins": pins, "baseline_plan_id": base}, headers=h
    )
    assert r.status_code == 202, r.text
    job = svc.wait(r.json()["job_id"])
    assert job["state"] == "succeeded", job
    return {"scenario": sid, "base": base, "pinned": job["plan_id"], "pins": pins}


def test_pinned_plan_through_the_api(svc: Service, plans: dict[str, Any]) -> None:
    h = svc.headers("national")
    summary = svc.client.get(f"/api/v1/plans/{plans['pinned']}/summary", headers=h).json()
    base = svc.client.get(f"/api/v1/plans/{plans['base']}/summary", headers=h).json()
    assert summary["pins"] == {"assign": 0, "forbid": 0, "close": 1, "exclude": 1}
    assert summary["pins_cost"] == pytest.approx(summary["objective"] - base["objective"])
    folder = svc.settings.data_dir / "plans" / plans["pinned"]
    placed = _rows(folder / "assignments.csv")
    assert plans["pins"][0]["post_id"] not in {p["post_id"] for p in placed}
    assert plans["pins"][1]["applicant_id"] not in {p["applicant_id"] for p in placed}
    bad = svc.client.post(
        f"/api/v1/scenarios/{plans['scenario']}/plans",
        json={"pins": [{"action": "assign", "applicant_id": "A1"}]},
        headers=h,
    )
    assert bad.status_code == 422 and "post" in bad.text


def test_diff_and_explanation(svc: Service, plans: dict[str, Any]) -> None:
    h = svc.headers("national")
    r = svc.client.get(f"/api/v1/plans/{plans['pinned']}/diff/{plans['base']}", headers=h)
    assert r.status_code == 200, r.text
    d = r.json()
    gone = plans["pins"][1]["applicant_id"]
    assert {row["applicant_id"]: row["change"] for row in d["rows"]}[gone] == "unplaced"
    assert d["counts"]["unplaced"] >= 1
    aid = _rows(svc.settings.data_dir / "plans" / plans["base"] / "assignments.csv")[0][
        "applicant_id"
    ]
    r = svc.client.get(f"/api/v1/plans/{plans['base']}/applicants/{aid}/explanation", headers=h)
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["applicant_id"] == aid and e["alternatives"][-1]["choice"] == "unplaced"
    r = svc.client.get(f"/api/v1/plans/{plans['base']}/applicants/NOBODY/explanation", headers=h)
    assert r.status_code == 404
    # another province sees neither
    other = svc.headers("province:530000")
    r = svc.client.get(f"/api/v1/plans/{plans['pinned']}/diff/{plans['base']}", headers=other)
    assert r.status_code == 404
    r = svc.client.get(f"/api/v1/plans/{plans['base']}/applicants/{aid}/explanation", headers=other)
    assert r.status_code == 404
