"""What the service keeps on disk and how it is removed (issue 22, items 7 and 12): an upload
keeps only the files the scenario names, a per-key quota (507), ``DELETE
/api/v1/scenarios/{id}`` and the office page's delete button, half-written result folders
cleaned at start, sign-outs audited as the 303 they answer, 429s counted per address and
minute, and files private (0600/0700) under any umask. SQLite, and PostgreSQL when
``PLANNER_TEST_POSTGRES_URL`` is set."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api.core.settings import Settings
from api.db.models import AuditRow, JobRow, PlanRow, ScenarioRow, utcnow
from tests.support.api import (
    Browser,
    Service,
    database_url,
    padded_zip,
    running_service,
    zip_folder,
    zip_part,
)
from tests.support.scenario_files import write_tiny

OWN, OTHER = "province:520000", "province:530000"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp(f"storage-{request.param}")
    with database_url(request.param, tmp) as url:
        yield tmp, url, request.param


@pytest.fixture(scope="module")
def svc(env: Any) -> Iterator[Service]:
    tmp, url, _backend = env
    settings = Settings(
        data_dir=tmp / "data", database_url=url, poll_seconds=0.1, job_time_limit=30
    )
    with running_service(settings) as service:
        yield service


@pytest.fixture(scope="module")
def tiny(env: Any) -> Path:
    return write_tiny(env[0] / "tiny")


def _upload(svc: Service, data: bytes, role: str = "national") -> Any:
    return svc.client.post("/api/v1/scenarios", files=zip_part(data), headers=svc.headers(role))


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _audit(svc: Service, action: str) -> list[dict[str, Any]]:
    r = svc.client.get(
        "/api/v1/audit", params={"action": action, "since": "1h"}, headers=svc.headers("national")
    )
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()
    return events


# --- item 7: what an upload keeps, the quota, delete -----------------------------------------


def test_an_upload_keeps_only_the_files_the_scenario_names(svc: Service, tiny: Path) -> None:
    data = padded_zip(tiny, 20)  # the tables and a 20 MiB member nobody reads
    extra = io.BytesIO(data)
    with zipfile.ZipFile(extra, "a") as zf:
        zf.writestr("tiny/docs/README.txt", "notes")
        zf.writestr("tiny/.hidden/copy.csv", "a,b\n1,2\n")
    r = _upload(svc, extra.getvalue())
    assert r.status_code == 201, r.text
    folder = svc.settings.data_dir / "scenarios" / r.json()["id"]
    named = {p.name for p in tiny.iterdir()}
    assert _files(folder) == named  # scenario.toml and the tables it names, nothing else
    kept = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert kept == sum(p.stat().st_size for p in tiny.iterdir())
    assert kept < len(data)  # no longer 190 times the zip
    with svc.client.app.state.sessions() as s:  # type: ignore[attr-defined]
        assert s.get(ScenarioRow, r.json()["id"]).stored_bytes == kept


def test_a_shapefile_is_kept_with_its_parts_and_nothing_else(tmp_path: Path) -> None:
    from geodata.scenario import files_used

    root = tmp_path / "s"
    root.mkdir()
    (root / "scenario.toml").write_text(
        '[files]\ncounties = "gis/c.shp"\nposts = "posts.csv"\nquotas = "../x.csv"\n',
        encoding="utf-8",
    )
    (root / "gis").mkdir()
    for part in ("c.shp", "c.shx", "c.dbf", "c.prj", "c.cpg", "c.qmd", "d.shp"):
        (root / "gis" / part).write_text("x")
    (root / "posts.csv").write_text("x")
    (tmp_path / "x.csv").write_text("outside")
    used = {p.relative_to(root.resolve()).as_posix() for p in files_used(root)}
    assert used == {
        "scenario.toml",
        "posts.csv",
        "gis/c.shp",
        "gis/c.shx",
        "gis/c.dbf",
        "gis/c.prj",
        "gis/c.cpg",
    }


def test_an_upload_over_the_keys_quota_answers_507_naming_quota_and_usage(
    env: Any, tiny: Path
) -> None:
    tmp, _url, backend = env
    size = sum(p.stat().st_size for p in tiny.iterdir())
    with (
        database_url(backend, tmp / "quota") as url,
        running_service(
            Settings(
                data_dir=tmp / "quota", database_url=url, storage_quota_bytes=size * 2 + size // 2
            )
        ) as svc,
    ):
        settings = svc.settings
        # each upload its own bytes (the same bytes again would be the same scenario)
        data, second, third, fourth, fifth = (zip_folder(tiny, top=f"tiny-{n}") for n in range(5))
        first = _upload(svc, data)
        assert first.status_code == 201
        assert _upload(svc, second).status_code == 201
        r = _upload(svc, third)
        assert r.status_code == 507, r.text
        body = r.json()
        assert body["quota_bytes"] == settings.storage_quota_bytes
        assert body["usage_bytes"] == 2 * size and body["upload_bytes"] == size
        assert f"{settings.storage_quota_bytes:,}" in body["detail"]
        assert f"{2 * size:,}" in body["detail"] and "PLANNER_STORAGE_QUOTA_BYTES" in body["detail"]
        zh = svc.client.post(
            "/api/v1/scenarios",
            files=zip_part(third),
            headers={**svc.headers("national"), "Accept-Language": "zh-CN"},
        )
        assert zh.status_code == 507 and "配额" in zh.json()["detail"]
        # the quota is the key's: another key still uploads; nothing of the refused is kept
        assert _upload(svc, fourth, OWN).status_code == 201
        assert len(list((settings.data_dir / "scenarios").iterdir())) == 3
        # deleting one of its scenarios makes room again
        sid = first.json()["id"]
        assert (
            svc.client.delete(f"/api/v1/scenarios/{sid}", headers=svc.headers("national"))
        ).status_code == 200
        assert _upload(svc, fifth).status_code == 201


def test_delete_removes_the_scenario_its_plans_and_files_and_is_audited(
    svc: Service, tiny: Path
) -> None:
    ids = svc.upload_and_plan(tiny, OWN)
    sid, pid, jid = ids["scenario_id"], ids["plan_id"], ids["job_id"]
    data_dir = svc.settings.data_dir
    h = svc.headers(OWN)
    assert svc.client.get(f"/api/v1/plans/{pid}/summary", headers=h).status_code == 200
    assert svc.client.get(f"/api/v1/plans/{pid}/map", headers=h).status_code == 200
    # who may not: a viewer 403, another province 404, no key 401; nothing removed
    assert (
        svc.client.delete(f"/api/v1/scenarios/{sid}", headers=svc.headers("viewer")).status_code
        == 403
    )
    assert (
        svc.client.delete(f"/api/v1/scenarios/{sid}", headers=svc.headers(OTHER)).status_code == 404
    )
    assert svc.client.delete(f"/api/v1/scenarios/{sid}").status_code == 401
    assert (data_dir / "scenarios" / sid).is_dir() and (data_dir / "plans" / pid).is_dir()
    r = svc.client.delete(f"/api/v1/scenarios/{sid}", headers=h)
    assert r.status_code == 200, r.text
    gone = r.json()
    assert gone["id"] == sid and gone["plans"] == 1 and gone["jobs"] == 1 and gone["bytes"] > 0
    assert not (data_dir / "scenarios" / sid).exists()
    assert not (data_dir / "plans" / pid).exists()
    assert not (data_dir / "jobs" / f"{jid}.log").exists()
    for path in (f"/api/v1/scenarios/{sid}", f"/api/v1/plans/{pid}", f"/api/v1/jobs/{jid}"):
        assert svc.client.get(path, headers=h).status_code == 404, path
    # the summary and map were served from memory before: not any more
    assert svc.client.get(f"/api/v1/plans/{pid}/summary", headers=h).status_code == 404
    assert svc.client.get(f"/api/v1/plans/{pid}/map", headers=h).status_code == 404
    assert svc.client.delete(f"/api/v1/scenarios/{sid}", headers=h).status_code == 404
    with svc.client.app.state.sessions() as s:  # type: ignore[attr-defined]
        for table in (ScenarioRow, JobRow, PlanRow):
            assert s.scalar(select(func.count()).select_from(table).where(
                (table.id == sid) | (table.id == jid) | (table.id == pid))) == 0  # fmt: skip
    events = [e for e in _audit(svc, "delete") if e["object_id"] == sid]
    assert {(e["role"], e["status"], e["outcome"]) for e in events} == {
        ("viewer", 403, "refused"),
        (OTHER, 404, "refused"),
        (None, 401, "refused"),
        (OWN, 200, "ok"),
        (OWN, 404, "refused"),
    }
    assert any(e["detail"] and "plans 1" in e["detail"] for e in events)


def test_delete_is_refused_while_a_job_of_it_is_queued_or_running(svc: Service, tiny: Path) -> None:
    h = svc.headers("national")
    sid = _upload(svc, zip_folder(tiny)).json()["id"]
    runner = svc.client.app.state.runner  # type: ignore[attr-defined]
    runner.stop()  # nothing starts: the job stays queued
    try:
        jid = svc.client.post(f"/api/v1/scenarios/{sid}/plans", headers=h).json()["job_id"]
        r = svc.client.delete(f"/api/v1/scenarios/{sid}", headers=h)
        assert r.status_code == 409 and jid in r.json()["detail"]
        with svc.client.app.state.sessions() as s:  # type: ignore[attr-defined]
            s.get(JobRow, jid).state = "running"
            s.commit()
        r = svc.client.delete(f"/api/v1/scenarios/{sid}", headers=h)
        assert r.status_code == 409 and "running" in r.json()["detail"]
        assert (svc.settings.data_dir / "scenarios" / sid).is_dir()
        assert svc.client.post(f"/api/v1/jobs/{jid}/cancel", headers=h).status_code == 200
        assert svc.client.delete(f"/api/v1/scenarios/{sid}", headers=h).status_code == 200
    finally:
        runner._stop.clear()
        runner.start()
    assert [e["status"] for e in _audit(svc, "delete") if e["object_id"] == sid] == [
        200,
        409,
        409,
    ]


def test_the_office_page_deletes_with_the_token_and_the_box_ticked(
    svc: Service, tiny: Path
) -> None:
    ids = svc.upload_and_plan(tiny, OWN)
    sid, pid = ids["scenario_id"], ids["plan_id"]
    browser = Browser.signed_in_as(svc, OWN, language="zh-CN")
    page = browser.client.get(f"/office/scenarios/{sid}")
    assert page.status_code == 200
    assert f'action="/office/scenarios/{sid}/delete"' in page.text
    assert "删除" in page.text and 'name="confirm"' in page.text
    path = f"/office/scenarios/{sid}/delete"
    # without the token, or with the box left empty: nothing is deleted
    bare = browser.client.post(path, data={"confirm": "yes"}, follow_redirects=False)
    assert bare.status_code == 403
    unticked = browser.post(path, {})
    assert unticked.status_code == 422 and "勾选" in unticked.text
    other = Browser.signed_in_as(svc, OTHER).post(path, {"confirm": "yes"})
    assert other.status_code == 404
    viewer = Browser.signed_in_as(svc, "viewer").post(path, {"confirm": "yes"})
    assert viewer.status_code == 403
    assert (svc.settings.data_dir / "scenarios" / sid).is_dir()
    done = browser.post(path, {"confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"] == "/office"
    assert not (svc.settings.data_dir / "scenarios" / sid).exists()
    assert not (svc.settings.data_dir / "plans" / pid).exists()
    assert browser.client.get(f"/office/scenarios/{sid}").status_code == 404
    events = [e for e in _audit(svc, "delete") if e["object_id"] == sid]
    assert (OWN, 303) in {(e["role"], e["status"]) for e in events}


# --- item 12: housekeeping -------------------------------------------------------------------


def test_half_written_result_folders_are_removed_at_start(env: Any, tiny: Path) -> None:
    tmp, _url, backend = env
    with database_url(backend, tmp / "partials") as url:
        _leave_partials(
            Settings(data_dir=tmp / "partials", database_url=url, poll_seconds=0.1), tiny
        )


def _leave_partials(settings: Settings, tiny: Path) -> None:
    from api.services.storage import partial_dir

    plans = settings.data_dir / "plans"
    with running_service(settings) as svc:
        sid = _upload(svc, zip_folder(tiny)).json()["id"]
        runner = svc.client.app.state.runner  # type: ignore[attr-defined]
        runner.stop()
        h = svc.headers("national")
        left = svc.client.post(f"/api/v1/scenarios/{sid}/plans", headers=h).json()["job_id"]
        alive = svc.client.post(f"/api/v1/scenarios/{sid}/plans", headers=h).json()["job_id"]
        with svc.client.app.state.sessions() as s:  # type: ignore[attr-defined]
            s.get(JobRow, left).state = "failed"  # its worker was killed
            s.get(JobRow, alive).state = "running"  # another server runs it right now
            s.get(JobRow, alive).heartbeat_at = utcnow()
            s.commit()
    # what kill -9 leaves: an empty folder of the old naming, and this naming's folders
    old_empty = plans / "0123.partial"
    old_full = plans / "4567.partial"
    of_left = partial_dir(plans / "89ab", left)
    of_alive = partial_dir(plans / "cdef", alive)
    for folder in (old_empty, old_full, of_left, of_alive):
        folder.mkdir(parents=True)
    for folder in (old_full, of_left, of_alive):
        (folder / "summary.json").write_text("{}")
    settings = settings.model_copy(update={"job_lease_seconds": 3600.0})
    with running_service(settings):
        pass
    assert not old_empty.exists() and not of_left.exists()
    assert old_full.is_dir()  # an old folder with files: whose it is cannot be told
    assert of_alive.is_dir()  # the other server's job keeps its folder


def test_sign_out_is_audited_with_the_303_it_answers(svc: Service) -> None:
    browser = Browser.signed_in_as(svc, OWN, address="127.0.9.1")
    r = browser.post("/office/sign-out", {})
    assert r.status_code == 303
    mine = [e for e in _audit(svc, "sign-out") if e["address"] == "127.0.9.1"]
    assert [e["status"] for e in mine] == [303]


def test_429s_are_one_row_per_address_and_minute_with_a_count(svc: Service) -> None:
    app = svc.client.app  # type: ignore[attr-defined]
    from fastapi.testclient import TestClient

    guesser = TestClient(app, client=("127.0.9.2", 40000))
    codes = [
        guesser.get("/api/v1/scenarios", headers={"X-API-Key": f"wp_{i:08x}_guess"}).status_code
        for i in range(20 + 60)
    ]
    assert codes == [401] * 20 + [429] * 60
    app.state.audit.flush()
    with app.state.sessions() as s:
        rows = s.scalars(
            select(AuditRow).where(AuditRow.address == "127.0.9.2", AuditRow.action == "throttled")
        ).all()
    assert 1 <= len(rows) <= 2  # one per minute (two when the minute turned meanwhile)
    assert sum(r.count for r in rows) == 60
    assert all(r.at.second == 0 and r.at.microsecond == 0 for r in rows)
    events = [e for e in _audit(svc, "throttled") if e["address"] == "127.0.9.2"]
    assert sum(e["count"] for e in events) == 60
    # more refusals in the same minute grow the count, not the table
    for i in range(5):
        guesser.get("/api/v1/scenarios", headers={"X-API-Key": f"wp_{i:08x}_again"})
    app.state.audit.flush()
    with app.state.sessions() as s:
        total = s.scalar(
            select(func.sum(AuditRow.count)).where(
                AuditRow.address == "127.0.9.2", AuditRow.action == "throttled"
            )
        )
        n = s.scalar(
            select(func.count())
            .select_from(AuditRow)
            .where(AuditRow.address == "127.0.9.2", AuditRow.action == "throttled")
        )
    assert total == 65 and n <= 2


def _loose(root: Path) -> list[str]:
    """Files or folders under ``root`` that someone else on the machine could read or enter."""
    found = []
    for p in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(p.lstat().st_mode)
        if not p.is_symlink() and mode & 0o077:
            found.append(f"{p.relative_to(root.parent)} {mode:o}")
    return found


def test_data_files_are_private_under_a_permissive_umask(tmp_path: Path, tiny: Path) -> None:
    old = os.umask(0)  # the most permissive: everything would be 0666 / 0777
    try:
        settings = Settings(data_dir=tmp_path / "data", poll_seconds=0.1, job_time_limit=30)
        with running_service(settings) as svc:
            ids = svc.upload_and_plan(tiny, "national")
            h = svc.headers("national")
            assert (
                svc.client.get(f"/api/v1/plans/{ids['plan_id']}/map", headers=h).status_code == 200
            )
            svc.client.app.state.audit.flush()  # type: ignore[attr-defined]
            # a scenario that is still written to by the service: its database and data
            assert _loose(settings.data_dir) == []
        assert stat.S_IMODE((settings.data_dir / "planner.db").stat().st_mode) == 0o600
        assert stat.S_IMODE(settings.data_dir.stat().st_mode) == 0o700
        assert _loose(settings.data_dir) == []
        assert os.umask(0) == 0  # the service gave the umask back
    finally:
        os.umask(old)


def test_an_existing_data_folder_and_database_are_made_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "planner.db").touch()
    (data / "planner.db").chmod(0o644)
    with running_service(Settings(data_dir=data, poll_seconds=0.1)):
        pass
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "planner.db").stat().st_mode) == 0o600
