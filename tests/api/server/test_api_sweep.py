"""Sweeps as jobs of the HTTP service, against SQLite and against a real PostgreSQL.

``POST /api/v1/scenarios/{id}/sweeps`` -> poll the job -> read the sweep: its rows are the
plans the library makes of the same variants (the scenario's weights changed with
``dataclasses.replace``, no sweep code involved), its CSV is the same table, its page opens in
Chromium under the policy the service sends. Then who may do what, bad keys and values in
both languages, cancelling, a sweep job re-queued after its server went away, the Dask
scheduler, the audit trail and migration 0006.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import datetime as dt
import hashlib
import io
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

import planner
from api.core.settings import Settings
from api.db.models import JobRow, utcnow
from api.server.jobs import DEADLINE_FACTOR
from planner import i18n
from tests.support.api import (
    Service,
    alembic_config,
    database_url,
    running_service,
    zip_folder,
    zip_part,
)
from tests.support.browser import CSP_LISTENER, browser
from tests.support.scenario_files import write_tiny

AXES = {"weights.preference_rank": (5, 10), "weights.major_mismatch": (0, 7)}
VARY = [f"{key}={','.join(map(str, values))}" for key, values in AXES.items()]
"""Two weights of the tiny scenario, 4 variants and the base; the mismatch weight changes
the objective (the tiny plan places a volunteer outside their major), so a row given the
wrong variant's numbers shows."""
TIME_LIMIT = 30.0


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp(f"sweep-{request.param}")
    with database_url(request.param, tmp) as url:
        settings = Settings(
            data_dir=tmp / "data",
            database_url=url,
            poll_seconds=0.1,
            job_time_limit=TIME_LIMIT,
            max_sweep_variants=8,
        )
        yield settings, tmp, request.param


@pytest.fixture(scope="module")
def svc(env: Any) -> Iterator[Service]:
    with running_service(env[0]) as service:
        yield service


@pytest.fixture(scope="module")
def tiny(env: Any) -> Path:
    return write_tiny(env[1] / "tiny")


@pytest.fixture(scope="module")
def scenario_id(svc: Service, tiny: Path) -> str:
    h = svc.headers("national")
    r = svc.client.post("/api/v1/scenarios", files=zip_part(zip_folder(tiny)), headers=h)
    assert r.status_code == 201, r.text
    sid: str = r.json()["id"]
    return sid


@pytest.fixture(scope="module")
def swept(svc: Service, scenario_id: str) -> dict[str, Any]:
    """The tiny scenario swept over :data:`VARY` through the API (a Guizhou key)."""
    h = svc.headers("province:520000")
    r = svc.client.post(f"/api/v1/scenarios/{scenario_id}/sweeps", json={"vary": VARY}, headers=h)
    assert r.status_code == 202, r.text
    job = svc.wait(r.json()["job_id"], "province:520000")
    assert job["state"] == "succeeded", job
    sweep = svc.client.get(f"/api/v1/sweeps/{job['sweep_id']}", headers=h)
    assert sweep.status_code == 200, sweep.text
    return {"job": job, "sweep": sweep.json()}


def _changes(text: str) -> dict[str, int]:
    """``weights.a=5; weights.b=0`` -> {key: value}; the base ``(base)`` -> {}."""
    if text == "(base)":
        return {}
    pairs = (part.split("=") for part in text.split("; "))
    return {key: int(value) for key, value in pairs}


def test_a_sweep_job_finishes_and_names_its_sweep(swept: dict[str, Any]) -> None:
    job, sweep = swept["job"], swept["sweep"]
    assert job["kind"] == "sweep" and job["vary"] == VARY and job["plan_id"] is None
    assert job["stage"] == "done" and job["progress"] == 100.0 and job["attempt"] == 1
    assert any("stage sweep" in line for line in job["log"])
    assert sweep["id"] == job["sweep_id"] and sweep["job_id"] == job["id"]
    assert sweep["scenario_name"] == "tiny" and sweep["variants"] == 4
    assert sweep["vary"] == [{"key": k, "values": list(v)} for k, v in AXES.items()]
    assert sweep["time_limit"] == TIME_LIMIT and sweep["all_optimal"] is True
    assert set(sweep["links"]) == {"self", "csv", "page"}


def test_each_row_is_the_library_plan_of_its_variant(swept: dict[str, Any], tiny: Path) -> None:
    rows = swept["sweep"]["rows"]
    assert [r["variant"] for r in rows] == list(range(5))
    changes = [_changes(r["changes"]) for r in rows]
    assert changes[0] == {}
    expected = [dict(zip(AXES, combo, strict=True)) for combo in itertools.product(*AXES.values())]
    assert sorted(map(sorted, map(dict.items, changes[1:]))) == sorted(
        map(sorted, map(dict.items, expected))
    )
    base = planner.read_scenario(tiny)
    objectives = []
    for row, change in zip(rows, changes, strict=True):
        names = {k.removeprefix("weights."): v for k, v in change.items()}
        data = dataclasses.replace(
            base.data, weights=dataclasses.replace(base.data.weights, **names)
        )
        plan = planner.allocate(planner.Scenario(base.source, base.report, data))
        assert row["optimal"] is True and row["gap"] <= 1e-4, row
        assert row["objective"] == pytest.approx(plan.objective, abs=1e-6), (change, row)
        assert row["term_major_mismatch"] == pytest.approx(plan.terms.major_mismatch, abs=1e-6)
        assert row["term_preference"] == pytest.approx(plan.terms.preference, abs=1e-6)
        assert row["placed"] == len(plan.assignments)
        objectives.append(row["objective"])
    assert len(set(objectives)) > 1  # the variants differ: a row with another's numbers fails


def test_the_csv_is_the_table_of_the_json(svc: Service, swept: dict[str, Any]) -> None:
    r = svc.client.get(swept["sweep"]["links"]["csv"], headers=svc.headers("viewer"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    rows = swept["sweep"]["rows"]
    assert len(table) == len(rows) and list(table[0]) == list(rows[0])
    for line, row in zip(table, rows, strict=True):
        assert line["changes"] == row["changes"]
        assert float(line["objective"]) == pytest.approx(row["objective"], abs=1e-9)
        assert int(line["placed"]) == row["placed"]


@pytest.mark.needs("chromium")
def test_the_page_opens_in_chromium_under_the_policy_it_is_sent_with(
    env: Any, svc: Service, swept: dict[str, Any], tmp_path: Path
) -> None:
    if env[2] != "sqlite":
        pytest.skip("the page does not depend on the database: opened once, with SQLite")
    r = svc.client.get(swept["sweep"]["links"]["page"], headers=svc.headers("viewer"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    page = r.text
    # the policy lets the page's own inline code run, by hash, and nothing else
    inline = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert len(inline) == 3  # leaflet, polyline, the sweep's script
    for code in inline:
        digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    url = f"http://sweeps.test/api/v1/sweeps/{swept['sweep']['id']}/page"
    requests: list[str] = []
    with browser() as b:
        context = b.new_context()
        context.route(
            "**/*",
            lambda route: (
                route.fulfill(
                    status=200,
                    body=r.content,
                    headers={
                        "content-type": r.headers["content-type"],
                        "content-security-policy": policy,
                    },
                )
                if route.request.url == url
                else route.abort()
            ),
        )
        tab = context.new_page()
        tab.on("request", lambda q: requests.append(q.url) if q.url != url else None)
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.add_init_script(CSP_LISTENER)
        tab.goto(url, wait_until="load", timeout=30_000)
        tab.wait_for_function("window.westplan && window.westplan.ready", timeout=30_000)
        tab.select_option("#sweep-measure", "objective")
        tab.evaluate("new Promise(r => setTimeout(r, 300))")
        counts = tab.evaluate("window.westplan.counts")
        violations = tab.evaluate("window.__csp")
        tab.screenshot(path=str(tmp_path / "sweep-page.png"))
        # the policy is enforced: code the page does not hash is refused and reported
        tab.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.__injected = 1'; document.body.appendChild(s); }"
        )
        tab.evaluate("new Promise(r => setTimeout(r, 200))")
        injected = tab.evaluate("window.__injected")
        refused = tab.evaluate("window.__csp")
        context.close()
    assert violations == [] and errors == [] and requests == []
    assert counts["variants"] == 4 and counts["bars"] == 5 and counts["rows"] == 5
    assert injected is None and refused and all(v.startswith("script-src") for v in refused)


def test_who_may_sweep_and_read(svc: Service, scenario_id: str, swept: dict[str, Any]) -> None:
    sweep_id, job_id = swept["sweep"]["id"], swept["job"]["id"]
    start = f"/api/v1/scenarios/{scenario_id}/sweeps"
    reads = [f"/api/v1/sweeps/{sweep_id}", f"/api/v1/sweeps/{sweep_id}/csv"]
    reads.append(f"/api/v1/sweeps/{sweep_id}/page")
    body = {"vary": ["weights.preference_rank=5"]}
    # another province: nothing exists
    other = svc.headers("province:530000")
    assert svc.client.post(start, json=body, headers=other).status_code == 404
    assert all(svc.client.get(u, headers=other).status_code == 404 for u in reads)
    assert svc.client.get(f"/api/v1/jobs/{job_id}", headers=other).status_code == 404
    listed = svc.client.get("/api/v1/sweeps", headers=other).json()
    assert sweep_id not in [s["id"] for s in listed]
    # a viewer reads, never starts
    viewer = svc.headers("viewer")
    refused = svc.client.post(start, json=body, headers=viewer)
    assert refused.status_code == 403, refused.text
    assert all(svc.client.get(u, headers=viewer).status_code == 200 for u in reads)
    assert sweep_id in [s["id"] for s in svc.client.get("/api/v1/sweeps", headers=viewer).json()]
    # no key
    assert svc.client.post(start, json=body).status_code == 401
    assert all(svc.client.get(u).status_code == 401 for u in reads)
    # national starts too (then cancels: no CPU spent)
    r = svc.client.post(start, json=body, headers=svc.headers("national"))
    assert r.status_code == 202
    svc.client.post(f"/api/v1/jobs/{r.json()['job_id']}/cancel", headers=svc.headers("national"))
    assert svc.client.get("/api/v1/sweeps/nope", headers=viewer).status_code == 404


@pytest.mark.parametrize(
    ("lang", "unknown", "not_a_number"),
    [("en", "unknown key", "found 'x'"), ("zh-CN", "未知的键", "填写的是 'x'")],
)
def test_bad_keys_and_values_are_a_422_naming_each_in_the_request_language(
    svc: Service, scenario_id: str, lang: str, unknown: str, not_a_number: str
) -> None:
    h = svc.headers("national") | {"Accept-Language": lang}
    start = f"/api/v1/scenarios/{scenario_id}/sweeps"
    jobs_before = len(svc.client.get("/api/v1/jobs", headers=h).json())
    bad = ["rules.nonsense=1", "weights.preference_rank=5,x", "quota_scale.530000=1.1"]
    r = svc.client.post(start, json={"vary": bad}, headers=h)
    assert r.status_code == 422 and r.headers["content-language"] == lang
    detail = r.json()["detail"]
    assert "rules.nonsense" in detail and unknown in detail
    assert "weights.preference_rank" in detail and not_a_number in detail
    assert "quota_scale.530000" in detail and "520000" in detail  # the province it serves
    with i18n.speaking(lang):  # the message is the catalogue's, not a translation made here
        assert i18n._("the sweep cannot be planned: {problems}", problems="").rstrip() in detail
    # too many variants: 3 x 3 = 9 > PLANNER_MAX_SWEEP_VARIANTS (8 here)
    many = ["weights.preference_rank=1,2,3", "weights.major_mismatch=1,2,3"]
    r = svc.client.post(start, json={"vary": many}, headers=h)
    assert r.status_code == 422 and " 9 " in r.json()["detail"] and " 8 " in r.json()["detail"]
    assert "PLANNER_MAX_SWEEP_VARIANTS" in r.json()["detail"]
    twice = ["weights.preference_rank=1", "weights.preference_rank=2"]
    r = svc.client.post(start, json={"vary": twice}, headers=h)
    assert r.status_code == 422 and "weights.preference_rank" in r.json()["detail"]
    assert svc.client.post(start, json={"vary": []}, headers=h).status_code == 422
    assert len(svc.client.get("/api/v1/jobs", headers=h).json()) == jobs_before  # none queued


def test_cancel_kills_a_running_sweep(svc: Service, scenario_id: str) -> None:
    h = svc.headers("national")
    r = svc.client.post(
        f"/api/v1/scenarios/{scenario_id}/sweeps",
        json={"vary": VARY, "time_limit": 20},
        headers=h,
    )
    job_id = r.json()["job_id"]
    running = svc.running_worker(job_id)
    # the wall-time limit counts every plan of the sweep: the base and 4 variants
    assert running.limit == DEADLINE_FACTOR * 20 * 5 + svc.settings.job_grace_seconds
    r = svc.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert running.proc.wait(timeout=10) != 0  # killed, not finished
    job = svc.client.get(f"/api/v1/jobs/{job_id}", headers=h).json()
    assert job["state"] == "cancelled" and job["sweep_id"] is None
    assert job_id not in [s["job_id"] for s in svc.client.get("/api/v1/sweeps", headers=h).json()]
    assert svc.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=h).status_code == 409


def test_a_sweep_whose_server_went_away_is_requeued_and_finishes(
    svc: Service, scenario_id: str, swept: dict[str, Any]
) -> None:
    """A sweep job left ``running`` by a server that stopped renewing its lease: this server
    re-queues it once and runs it again (attempt 2), and its sweep is the same table."""
    app = svc.client.app  # type: ignore[attr-defined]
    stale = utcnow() - dt.timedelta(seconds=10 * svc.settings.job_lease_seconds)
    with app.state.sessions() as session:
        job = JobRow(
            id="sweep-of-a-gone-server",
            scenario_id=scenario_id,
            kind="sweep",
            options={"vary": VARY, "plans": 5},
            state="running",
            stage="sweep",
            progress=10.0,
            attempt=1,
            time_limit=TIME_LIMIT,
            started_at=stale,
            heartbeat_at=stale,
        )
        session.add(job)
        session.commit()
    app.state.runner.wake()
    done = svc.wait(job.id, timeout=90)
    assert done["state"] == "succeeded" and done["attempt"] == 2 and done["interruptions"] == 1
    assert any("re-queued once" in line for line in done["log"])
    again = svc.client.get(f"/api/v1/sweeps/{done['sweep_id']}", headers=svc.headers("national"))
    keys = ("changes", "objective", "placed")
    assert [{k: r[k] for k in keys} for r in again.json()["rows"]] == [
        {k: r[k] for k in keys} for r in swept["sweep"]["rows"]
    ]


def test_a_sweep_runs_its_variants_on_the_dask_scheduler_it_is_given(
    env: Any,
    svc: Service,
    scenario_id: str,
    swept: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if env[2] != "sqlite":
        pytest.skip("the scheduler does not depend on the database: run once, with SQLite")
    from distributed import get_task_stream

    from planner.cluster import DaskCluster
    from planner.workers import ENV

    with DaskCluster(workers=1) as cluster:
        client = cluster.client()
        address = client.scheduler.address
        monkeypatch.setenv(ENV, address)  # the server's environment, which its workers get
        with get_task_stream(client) as stream:
            r = svc.client.post(
                f"/api/v1/scenarios/{scenario_id}/sweeps",
                json={"vary": VARY},
                headers=svc.headers("national"),
            )
            job = svc.wait(r.json()["job_id"], timeout=120)
        workers = set(cluster.worker_pids())
    assert job["state"] == "succeeded", job
    assert any(f"Dask scheduler {address}" in line for line in job["log"])
    # the base and every variant ran as a task of the cluster: one batch of 5 tasks
    batches: dict[str, list[int]] = {}
    for task in stream.data:
        _, batch, index = str(task["key"]).rsplit("-", 2)
        assert task["worker"] in workers, task
        batches.setdefault(batch, []).append(int(index))
    assert sorted(sorted(b) for b in batches.values()) == [[0, 1, 2, 3, 4]], batches
    rows = svc.client.get(
        f"/api/v1/sweeps/{job['sweep_id']}", headers=svc.headers("national")
    ).json()["rows"]
    keys = ("changes", "objective", "placed")
    assert [{k: r[k] for k in keys} for r in rows] == [
        {k: r[k] for k in keys} for r in swept["sweep"]["rows"]
    ]


def test_sweeps_are_audited(svc: Service, swept: dict[str, Any]) -> None:
    events = svc.client.get(
        "/api/v1/audit", params={"since": "1h"}, headers=svc.headers("national")
    ).json()
    started = [e for e in events if e["action"] == "sweep" and e["outcome"] == "ok"]
    assert swept["job"]["id"] in [e["object_id"] for e in started]
    assert any(e["outcome"] == "refused" and e["status"] == 403 for e in events if
               e["action"] == "sweep")  # fmt: skip
    reads = {
        e["detail"]
        for e in events
        if e["action"] == "download" and e["object_id"] == swept["sweep"]["id"]
    }
    assert {"sweep", "sweep.csv", "sweep.html"} <= reads


# --- migration 0006 ----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migration_0006_makes_old_jobs_plan_jobs_and_goes_back(
    tmp_path: Path, backend: str
) -> None:
    with database_url(backend, tmp_path) as url:
        cfg = alembic_config(url.replace("%", "%%"))
        command.upgrade(cfg, "0005")
        engine = sa.create_engine(url)
        meta = sa.MetaData()
        scenarios = sa.Table("scenarios", meta, autoload_with=engine)
        jobs = sa.Table("jobs", meta, autoload_with=engine)
        when = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)
        job = {"scenario_id": "s1", "state": "succeeded", "progress": 100.0, "stage": "done"}
        job |= {"time_limit": 60.0, "attempt": 1, "interruptions": 0, "created_at": when}
        with engine.begin() as conn:
            conn.execute(
                scenarios.insert().values(
                    id="s1", name="old", year=2006, synthetic=False, filename="old.zip",
                    provinces="520000", tables={}, validation={"issues": []}, created_at=when,
                )
            )  # fmt: skip
            conn.execute(jobs.insert().values(id="old-plan", **job))
        command.upgrade(cfg, "head")
        now = sa.MetaData()
        jobs = sa.Table("jobs", now, autoload_with=engine)
        sweeps = sa.Table("sweeps", now, autoload_with=engine)
        with engine.begin() as conn:
            assert conn.execute(sa.select(jobs.c.kind, jobs.c.options)).all() == [("plan", None)]
            conn.execute(
                jobs.insert().values(id="new-sweep", kind="sweep", options={"vary": VARY}, **job)
            )
            conn.execute(
                sweeps.insert().values(
                    id="w1", scenario_id="s1", job_id="new-sweep", variants=4, created_at=when
                )
            )
        command.downgrade(cfg, "0005")
        with engine.connect() as conn:
            assert "sweeps" not in sa.inspect(conn).get_table_names()
            columns = {c["name"] for c in sa.inspect(conn).get_columns("jobs")}
            assert not columns & {"kind", "options", "sweep_id"}
            left = conn.execute(sa.text("SELECT id FROM jobs")).scalars().all()
        assert left == ["old-plan"]  # the sweep job went with the table that held its sweep
        engine.dispose()
