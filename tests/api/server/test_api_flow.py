"""The admin-system flow over HTTP, against SQLite and against a real PostgreSQL.

Upload -> validation report -> start a plan -> poll -> read every result, checked against a
plan made directly with the library (:func:`tests.support.scenario_files.plan_directly`) and read with the csv module;
then the limits and bad uploads, cancelling, the wall-time limit and a restart of the app.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from api.core.settings import Settings
from tests.support.api import (
    Service,
    database_url,
    running_service,
    write_crewed_tiny,
    zip_folder,
    zip_part,
)
from tests.support.scenario_files import plan_directly, write_tiny
from tests.support.zoo import CASES

pytestmark = pytest.mark.slow  # the whole module runs only in `make test`


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp(f"api-{request.param}")
    with database_url(request.param, tmp) as url:
        settings = Settings(
            data_dir=tmp / "data", database_url=url, poll_seconds=0.1, job_time_limit=30
        )
        yield settings, tmp, request.param


@pytest.fixture(scope="module")
def svc(env: Any) -> Iterator[Service]:
    settings = env[0]
    with running_service(settings) as service:
        yield service


@pytest.fixture(scope="module")
def tiny(env: Any) -> Path:
    return write_tiny(env[1] / "tiny")


@pytest.fixture(scope="module")
def expected(env: Any, tiny: Path) -> Path:
    """The same scenario planned directly, without the service."""
    out = env[1] / "direct"
    return plan_directly(tiny, out, time_limit=30)


@pytest.fixture(scope="module")
def crewed(env: Any) -> Path:
    return write_crewed_tiny(env[1] / "crewed")


@pytest.fixture(scope="module")
def finished(svc: Service, tiny: Path) -> dict[str, Any]:
    """The tiny scenario uploaded and planned through the API."""
    h = svc.headers("national")
    r = svc.client.post("/api/v1/scenarios", files=zip_part(zip_folder(tiny)), headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    r = svc.client.post(f"/api/v1/scenarios/{created['id']}/plans", headers=h)
    assert r.status_code == 202, r.text
    job = svc.wait(r.json()["job_id"])
    assert job["state"] == "succeeded", job
    return {"scenario": created, "job": job, "plan_id": job["plan_id"]}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_upload_answers_id_and_validation(finished: dict[str, Any], svc: Service) -> None:
    created = finished["scenario"]
    assert set(created) >= {"id", "validation"}
    assert created["validation"]["ok"] is True
    assert created["validation"]["errors"] == 0
    r = svc.client.get(f"/api/v1/scenarios/{created['id']}", headers=svc.headers("national"))
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "tiny"
    assert body["provinces"] == ["520000"]
    assert body["tables"]["posts"] == 5
    listed = svc.client.get("/api/v1/scenarios", headers=svc.headers("national")).json()
    assert created["id"] in [s["id"] for s in listed]


def test_job_reports_state_progress_stage_log(finished: dict[str, Any]) -> None:
    job = finished["job"]
    assert job["progress"] == 100.0
    assert job["stage"] == "done"
    assert job["error"] is None
    assert job["attempt"] == 1
    assert any("stage allocation" in line for line in job["log"])


def test_assignments_match_a_direct_plan(
    finished: dict[str, Any], svc: Service, expected: Path
) -> None:
    h = svc.headers("national")
    base = f"/api/v1/plans/{finished['plan_id']}"
    want = _rows(expected / "assignments.csv")
    page = svc.client.get(f"{base}/assignments", params={"limit": 1000}, headers=h).json()
    assert page["total"] == len(want)
    got = [{k: str(v) for k, v in row.items()} for row in page["items"]]
    assert [r["applicant_id"] for r in got] == [r["applicant_id"] for r in want]
    assert [r["post_id"] for r in got] == [r["post_id"] for r in want]
    assert [r["county_code"] for r in got] == [r["county_code"] for r in want]
    # pages: offset and limit cut the same sequence
    second = svc.client.get(f"{base}/assignments", params={"offset": 1, "limit": 1}, headers=h)
    assert second.json()["items"][0]["applicant_id"] == want[1]["applicant_id"]
    # filters, counted independently
    county = want[0]["county_code"]
    by_county = svc.client.get(f"{base}/assignments", params={"county": county}, headers=h)
    assert by_county.json()["total"] == sum(r["county_code"] == county for r in want)
    by_province = svc.client.get(f"{base}/assignments", params={"province": "520000"}, headers=h)
    assert by_province.json()["total"] == sum(r["county_code"][:2] == "52" for r in want)
    other = svc.client.get(f"{base}/assignments", params={"province": "530000"}, headers=h)
    assert other.json()["total"] == 0
    # CSV: the same rows as the direct plan's file
    text = svc.client.get(f"{base}/assignments", params={"format": "csv"}, headers=h)
    assert text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert [(r["applicant_id"], r["post_id"]) for r in rows] == [
        (r["applicant_id"], r["post_id"]) for r in want
    ]


def test_other_tables_summary_budget_xlsx(
    finished: dict[str, Any], svc: Service, expected: Path, tmp_path: Path
) -> None:
    h = svc.headers("national")
    base = f"/api/v1/plans/{finished['plan_id']}"
    for name in ("unassigned", "seats"):
        page = svc.client.get(f"{base}/{name}", headers=h).json()
        want = _rows(expected / f"{name}.csv")
        assert page["total"] == len(want), name
        assert [str(r[next(iter(want[0]))]) for r in page["items"]] == [
            r[next(iter(want[0]))] for r in want
        ]
    filt = svc.client.get(f"{base}/unassigned", params={"province": "520000"}, headers=h)
    assert filt.status_code == 400
    assert "county_code" in filt.json()["detail"]
    summary = svc.client.get(f"{base}/summary", headers=h).json()
    direct = json.loads((expected / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective"] == pytest.approx(direct["objective"])
    assert summary["counts"] == direct["counts"]
    budget = svc.client.get(f"{base}/budget", headers=h).json()
    assert budget["total"] == sum(budget["by_service_province"].values())
    assert budget == direct["budget_cny"]
    x = svc.client.get(f"{base}/xlsx", headers=h)
    assert x.status_code == 200
    (tmp_path / "p.xlsx").write_bytes(x.content)
    wb = openpyxl.load_workbook(tmp_path / "p.xlsx", read_only=True)
    assert wb.sheetnames[:2] == ["Summary", "520000 贵州省"]
    plan = svc.client.get(base, headers=h).json()
    assert plan["stages"][0] == "allocation"
    assert set(plan["links"]) >= {"summary", "assignments", "map", "xlsx"}


def test_routes_and_coverage_match_a_direct_routing(
    svc: Service, crewed: Path, tmp_path: Path
) -> None:
    h = svc.headers("national")
    r = svc.client.post("/api/v1/scenarios", files=zip_part(zip_folder(crewed)), headers=h)
    job = svc.wait(
        svc.client.post(f"/api/v1/scenarios/{r.json()['id']}/plans", headers=h).json()["job_id"]
    )
    assert job["state"] == "succeeded", job
    base = f"/api/v1/plans/{job['plan_id']}"
    assert svc.client.get(base, headers=h).json()["stages"] == ["allocation", "routing"]
    direct = tmp_path / "direct"
    plan_directly(crewed, direct, time_limit=30, routing=True)
    routes = svc.client.get(f"{base}/routes", headers=h)
    assert routes.headers["content-type"] == "application/geo+json"
    got = routes.json()
    want = json.loads((direct / "routes.geojson").read_text(encoding="utf-8"))
    assert got["type"] == "FeatureCollection"
    assert len(got["features"]) == len(_rows(direct / "routes.csv")) > 0
    assert got["features"] == want["features"]
    coverage = svc.client.get(f"{base}/coverage", params={"limit": 1000}, headers=h).json()
    want_cov = _rows(direct / "coverage.csv")
    assert coverage["total"] == len(want_cov) > 0
    assert [{k: str(v) for k, v in row.items()} for row in coverage["items"]] == [
        {k: v for k, v in row.items()} for row in want_cov
    ]
    summary = svc.client.get(f"{base}/summary", headers=h).json()
    assert summary["routing"]["routes"] == len(want["features"])
    page = svc.client.get(f"{base}/map", headers=h)  # the worker drew it, routes included
    assert page.status_code == 200, page.text[:500]
    folder = svc.settings.data_dir / "plans" / job["plan_id"]
    assert page.content == (folder / "map.html").read_bytes()


def test_a_plan_without_routing_says_so(svc: Service, tiny: Path, tmp_path: Path) -> None:
    h = svc.headers("national")
    folder = tmp_path / "alloc-only"
    shutil.copytree(tiny, folder)
    toml = (folder / "scenario.toml").read_text(encoding="utf-8")
    toml = toml.replace('stations = "stations.csv"\n', "").replace('stops = "stops.csv"\n', "")
    (folder / "scenario.toml").write_text(toml, encoding="utf-8")
    (folder / "stations.csv").unlink()
    (folder / "stops.csv").unlink()
    r = svc.client.post("/api/v1/scenarios", files=zip_part(zip_folder(folder)), headers=h)
    assert r.status_code == 201, r.text
    job = svc.wait(
        svc.client.post(f"/api/v1/scenarios/{r.json()['id']}/plans", headers=h).json()["job_id"]
    )
    assert job["state"] == "succeeded", job
    base = f"/api/v1/plans/{job['plan_id']}"
    for path in ("routes", "coverage"):
        missing = svc.client.get(f"{base}/{path}", headers=h)
        assert missing.status_code == 404
        assert "routing" in missing.json()["detail"]


def test_map_pages(finished: dict[str, Any], svc: Service) -> None:
    h = svc.headers("viewer")
    base = f"/api/v1/plans/{finished['plan_id']}/map"
    plain = svc.client.get(base, headers={**h, "Accept-Encoding": "identity"})
    assert plain.status_code == 200, plain.text
    assert plain.headers["content-type"].startswith("text/html")
    assert "content-encoding" not in plain.headers
    assert "<html" in plain.text.lower()
    packed = svc.client.get(base, headers={**h, "Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.text == plain.text  # httpx decompresses
    one = svc.client.get(base, params={"province": "520000"}, headers=h)
    assert one.status_code == 200 and one.text != plain.text
    folder = svc.settings.data_dir / "plans" / finished["plan_id"]
    assert (folder / "map.html").is_file() and (folder / "map-520000.html").is_file()
    bad = svc.client.get(base, params={"province": "52"}, headers=h)
    assert bad.status_code == 422


def test_bad_uploads_name_the_problem(svc: Service, tiny: Path, tmp_path: Path) -> None:
    h = svc.headers("national")
    post = svc.client.post
    r = post("/api/v1/scenarios", files=zip_part(b"name,seats\n", "x.csv", "text/csv"), headers=h)
    assert r.status_code == 415 and "expected a .zip" in r.json()["detail"]
    r = post("/api/v1/scenarios", files=zip_part(b"not a zip at all"), headers=h)
    assert r.status_code == 415 and "not a zip" in r.json()["detail"]
    cases = {c.name: c for c in CASES}
    for name, status, words in (
        ("zip-slip", 400, "'..'"),
        ("zip-bomb", 400, "uncompressed"),
    ):
        path = cases[name].breaks(write_tiny(tmp_path / name / "tiny"))
        r = post("/api/v1/scenarios", files=zip_part(path.read_bytes()), headers=h)
        assert r.status_code == status, (name, r.text)
        assert words in r.json()["detail"], (name, r.json())
    broken = cases["unknown-county"].breaks(write_tiny(tmp_path / "bad" / "tiny"))
    r = post("/api/v1/scenarios", files=zip_part(zip_folder(broken)), headers=h)
    assert r.status_code == 422
    report = r.json()["validation"]
    assert report["errors"] >= 1
    hit = [i for i in report["issues"] if i["rule"] == "unknown-county"]
    assert hit and hit[0]["file"] == "quotas.csv" and hit[0]["line"] == 3
    assert "quotas.csv" in r.json()["detail"]
    r = post("/api/v1/scenarios", headers=h)
    assert r.status_code == 422
    # the contract's files one by one
    files = [("files", (p.name, p.read_bytes(), "text/plain")) for p in sorted(tiny.iterdir())]
    r = post("/api/v1/scenarios", files=files, headers=h)
    assert r.status_code == 201, r.text


def test_limits(env: Any, tiny: Path) -> None:
    settings, tmp, _ = env
    small = settings.model_copy(
        update={"max_upload_bytes": 2000, "max_rows": 3, "data_dir": tmp / "limits"}
    )
    with running_service(small) as svc:
        h = svc.headers("national")
        data = zip_folder(tiny)
        assert len(data) > 2000
        r = svc.client.post("/api/v1/scenarios", files=zip_part(data), headers=h)
        assert r.status_code == 413
        assert "larger than 2,000 bytes" in r.json()["detail"]
        # refused from Content-Length alone, before the body is read
        big = zip_part(b"PK\x03\x04" + bytes(100_000))
        r = svc.client.post("/api/v1/scenarios", files=big, headers=h)
        assert r.status_code == 413
        assert r.json()["detail"].startswith("upload of ")
    roomy = small.model_copy(update={"max_upload_bytes": 10**7})
    with running_service(roomy) as svc:
        r = svc.client.post(
            "/api/v1/scenarios", files=zip_part(zip_folder(tiny)), headers=svc.headers("national")
        )
        assert r.status_code == 413
        assert "data rows; at most 3" in r.json()["detail"]


def test_replan_from_a_previous_plan(
    svc: Service, finished: dict[str, Any], tiny: Path, expected: Path
) -> None:
    h = svc.headers("national")
    sid, pid = finished["scenario"]["id"], finished["plan_id"]
    r = svc.client.post(f"/api/v1/scenarios/{sid}/plans", json={"previous_plan_id": pid}, headers=h)
    assert r.status_code == 202
    job = svc.wait(r.json()["job_id"])
    assert job["state"] == "succeeded" and job["previous_plan_id"] == pid
    folder = svc.settings.data_dir / "plans" / job["plan_id"]
    moves = _rows(folder / "moves.csv")
    # same scenario, same solver: every volunteer of the previous plan keeps the post
    assert moves and {m["change"] for m in moves} == {"kept"}
    assert len(moves) == len(_rows(expected / "assignments.csv"))
    unknown = svc.client.post(
        f"/api/v1/scenarios/{sid}/plans", json={"previous_plan_id": "x" * 32}, headers=h
    )
    assert unknown.status_code == 404


def test_cancel_kills_the_running_worker(svc: Service, finished: dict[str, Any]) -> None:
    h = svc.headers("national")
    sid = finished["scenario"]["id"]
    job_id = svc.client.post(f"/api/v1/scenarios/{sid}/plans", headers=h).json()["job_id"]
    proc = svc.running_worker(job_id).proc
    r = svc.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert proc.wait(timeout=10) != 0  # killed, not finished
    job = svc.client.get(f"/api/v1/jobs/{job_id}", headers=h).json()
    assert job["state"] == "cancelled" and job["plan_id"] is None
    again = svc.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=h)
    assert again.status_code == 409


def test_wall_time_limit_kills_a_job(env: Any, tiny: Path) -> None:
    settings, tmp, backend = env
    # its own database: the module's service must not claim this job
    with (
        database_url(backend, tmp / "strict") as url,
        running_service(
            settings.model_copy(
                update={"job_grace_seconds": 0.0, "data_dir": tmp / "strict", "database_url": url}
            )
        ) as svc,
    ):
        h = svc.headers("national")
        r = svc.client.post("/api/v1/scenarios", files=zip_part(zip_folder(tiny)), headers=h)
        sid = r.json()["id"]
        r = svc.client.post(f"/api/v1/scenarios/{sid}/plans", json={"time_limit": 0.2}, headers=h)
        job = svc.wait(r.json()["job_id"])
    assert job["state"] == "failed"
    assert "wall-time limit" in job["error"]


def test_nothing_is_lost_across_a_restart(env: Any, svc: Service, finished: dict[str, Any]) -> None:
    settings, _, _ = env
    before = svc.client.get(
        f"/api/v1/plans/{finished['plan_id']}/summary", headers=svc.headers("national")
    ).json()
    with running_service(settings) as again:
        h = again.headers("national")
        ids = [s["id"] for s in again.client.get("/api/v1/scenarios", headers=h).json()]
        assert finished["scenario"]["id"] in ids
        after = again.client.get(f"/api/v1/plans/{finished['plan_id']}/summary", headers=h)
        assert after.json() == before
        job = again.client.get(f"/api/v1/jobs/{finished['job']['id']}", headers=h).json()
        assert job["state"] == "succeeded"


def test_health(svc: Service) -> None:
    assert svc.client.get("/healthz").json() == {"status": "ok", "checks": {}}
    ready = svc.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "data_dir": "ok", "job_runner": "ok"}
