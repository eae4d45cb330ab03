"""The audit trail: a province office's uploads, plans, cancels and downloads are recorded with
its key's prefix and address; only national keys read them; no key or secret is stored;
``planner audit`` lists the same events; keys made and revoked on the command line appear."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app as cli
from api.core.settings import Settings
from api.db.models import AuditRow
from tests.support.api import PlannedTiny, Service, planned_tiny, running_service

OWN, OTHER = "province:520000", "province:530000"


@dataclass(frozen=True)
class AuditedDay:
    """The Guizhou office's tiny plan, and the second plan job it started and cancelled."""

    plan: PlannedTiny
    second_job: str


@pytest.fixture(scope="module")
def audited_day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditedDay]:
    """A Guizhou office uploads, plans, reads results, makes a map link and cancels a job;
    another province and a viewer are refused."""
    with planned_tiny(tmp_path_factory.mktemp("audit")) as plan:
        svc, c, h = plan.svc, plan.svc.client, plan.svc.headers(OWN)
        sid, pid = plan.scenario_id, plan.plan_id
        assert c.get(f"/api/v1/plans/{pid}/assignments?format=csv", headers=h).status_code == 200
        assert c.get(f"/api/v1/plans/{pid}/xlsx", headers=h).status_code == 200
        assert c.post(f"/api/v1/plans/{pid}/map-link", headers=h).status_code == 200
        second = c.post(f"/api/v1/scenarios/{sid}/plans", headers=h).json()["job_id"]
        assert c.post(f"/api/v1/jobs/{second}/cancel", headers=h).status_code in (200, 409)
        # refusals: another province asks for the plan, a viewer for a table
        assert c.get(f"/api/v1/plans/{pid}/seats", headers=svc.headers(OTHER)).status_code == 404
        assert c.get(f"/api/v1/plans/{pid}/seats", headers=svc.headers("viewer")).status_code == 403
        yield AuditedDay(plan, second)


def _audit(svc: Service, role: str | None = "national", **params: Any) -> Any:
    return svc.client.get("/api/v1/audit", params=params, headers=svc.headers(role))


def test_a_province_offices_actions_appear(audited_day: AuditedDay) -> None:
    svc: Service = audited_day.plan.svc
    r = _audit(svc, province="520000", since="1h")
    assert r.status_code == 200
    events = r.json()
    assert all(e["role"] == OWN and e["province"] == "520000" for e in events)
    prefix = svc.keys[OWN].split("_")[1]
    assert {e["key_prefix"] for e in events} == {prefix}
    assert {e["address"] for e in events} == {"testclient"}
    done = {(e["action"], e["object_id"], e["detail"], e["outcome"]) for e in events}
    pid, sid = audited_day.plan.plan_id, audited_day.plan.scenario_id
    for expected in (
        ("upload", sid, None, "ok"),
        ("plan", audited_day.plan.job_id, f"scenario {sid}", "ok"),
        ("download", pid, "assignments", "ok"),
        ("download", pid, "xlsx", "ok"),
    ):
        assert expected in done, (expected, done)
    # a map link's event says until when it works
    (link,) = [e for e in events if e["action"] == "map-link"]
    assert (link["object_id"], link["outcome"]) == (pid, "ok")
    assert link["detail"].startswith("until 20"), link
    cancels = [e for e in events if e["action"] == "cancel"]
    assert [e["object_id"] for e in cancels] == [audited_day.second_job]
    assert cancels[0]["status"] in (200, 409)
    times = [e["at"] for e in events]
    assert times == sorted(times, reverse=True)


def test_refusals_are_recorded_as_refused(audited_day: AuditedDay) -> None:
    svc: Service = audited_day.plan.svc
    events = _audit(svc, action="download", since="1h").json()
    refused = {(e["role"], e["status"]) for e in events if e["outcome"] == "refused"}
    assert (OTHER, 404) in refused and ("viewer", 403) in refused


@pytest.mark.parametrize(
    ("role", "status"), [(OWN, 403), (OTHER, 403), ("viewer", 403), (None, 401)]
)
def test_only_national_keys_read_the_trail(
    audited_day: AuditedDay, role: str | None, status: int
) -> None:
    r = _audit(audited_day.plan.svc, role, province="520000")
    assert r.status_code == status
    assert audited_day.plan.scenario_id not in r.text


def test_filters(audited_day: AuditedDay) -> None:
    svc: Service = audited_day.plan.svc
    uploads = _audit(svc, action="upload").json()
    assert uploads and {e["action"] for e in uploads} == {"upload"}
    assert _audit(svc, province="530000", action="upload").json() == []
    future = _audit(svc, since="2099-01-01T00:00:00+08:00").json()
    assert future == []
    assert len(_audit(svc, limit=2).json()) == 2
    bad = _audit(svc, since="yesterday")
    assert bad.status_code == 422 and "30m, 12h, 1d" in bad.json()["detail"]
    assert _audit(svc, action="nonsense").status_code == 422


def test_no_key_or_secret_is_stored(audited_day: AuditedDay) -> None:
    svc: Service = audited_day.plan.svc
    svc.client.app.state.audit.flush()  # type: ignore[attr-defined]
    with svc.client.app.state.sessions() as session:  # type: ignore[attr-defined]
        rows = session.scalars(select(AuditRow)).all()
    text = json.dumps([[getattr(r, c.name) for c in AuditRow.__table__.columns] for r in rows],
                      default=str)  # fmt: skip
    assert rows
    for key in svc.keys.values():
        assert key not in text and key.split("_", 2)[2] not in text
    secret = svc.settings.secret().decode()
    assert secret not in text


def test_cli_lists_the_trail_and_key_changes(
    audited_day: AuditedDay, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc: Service = audited_day.plan.svc
    svc.client.app.state.audit.flush()  # type: ignore[attr-defined]
    monkeypatch.setenv("PLANNER_DATA_DIR", str(svc.settings.data_dir))
    runner = CliRunner()
    made = runner.invoke(cli, ["keys", "create", "--role", "viewer", "--name", "press"])
    assert made.exit_code == 0, made.output
    prefix = made.output.strip().splitlines()[-1].split("_")[1]
    assert runner.invoke(cli, ["keys", "revoke", prefix]).exit_code == 0
    out = runner.invoke(cli, ["audit", "--since", "1d", "--json"])
    assert out.exit_code == 0, out.output
    events = [json.loads(line) for line in out.output.splitlines()]
    actions = [(e["action"], e["object_id"]) for e in events]
    assert actions[:2] == [("key-revoke", prefix), ("key-create", prefix)]
    assert ("upload", audited_day.plan.scenario_id) in actions
    assert events[1]["role"] == "cli" and "role viewer" in events[1]["detail"]
    table = runner.invoke(cli, ["audit", "--since", "1d", "--province", "520000"])
    assert table.exit_code == 0 and "upload" in table.output and "key-create" not in table.output
    bad = runner.invoke(cli, ["audit", "--since", "soon"])
    assert bad.exit_code == 2 and "expected a span" in bad.output


def test_events_are_written_at_shutdown(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", audit_flush_seconds=3600)
    with running_service(settings) as svc:
        assert (
            svc.client.get("/api/v1/scenarios", headers={"X-API-Key": "wp_0badc0de_x"}).status_code
            == 401
        )
        app = svc.client.app  # type: ignore[attr-defined]
    with app.state.sessions() as session:
        rows = session.scalars(select(AuditRow)).all()
    assert [(r.action, r.key_prefix) for r in rows] == [("failed-auth", "0badc0de")]
