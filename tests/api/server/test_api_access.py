"""The access matrix: every endpoint with a national key, the scenario's own province's key,
another province's key, a viewer key and no key; plus signed map links and revoked keys."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from api.core.api_keys import revoke_key
from api.core.settings import Settings
from tests.support.api import (
    PlannedTiny,
    Service,
    planned_tiny,
    zip_folder,
    zip_part,
)

OWN, OTHER = "province:520000", "province:530000"
CALLERS = ("national", OWN, OTHER, "viewer", None)


@pytest.fixture(scope="module")
def short_cache_plan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlannedTiny]:
    """The Guizhou office's tiny plan in a service that caches keys for 1 s only (a revoked key
    stops working within the test)."""
    with planned_tiny(tmp_path_factory.mktemp("access"), key_cache_seconds=1.0) as plan:
        yield plan


def _endpoints(plan: PlannedTiny) -> list[tuple[str, str, bool, int]]:
    """(method, path, viewer may call it, status for an allowed caller)."""
    sid, jid, pid = plan.scenario_id, plan.job_id, plan.plan_id
    read = plan.svc.client.get(f"/api/v1/plans/{pid}", headers=plan.svc.headers(OWN)).json()
    assert read["stages"] == ["allocation", "routing"]
    routed = mapped = 200
    p = f"/api/v1/plans/{pid}"
    return [
        ("GET", f"/api/v1/scenarios/{sid}", False, 200),
        ("GET", f"/api/v1/jobs/{jid}", False, 200),
        ("POST", f"/api/v1/jobs/{jid}/cancel", False, 409),
        ("GET", p, False, 200),
        ("GET", f"{p}/summary", True, 200),
        ("GET", f"{p}/budget", False, 200),
        ("GET", f"{p}/assignments", False, 200),
        ("GET", f"{p}/assignments?format=csv", False, 200),
        ("GET", f"{p}/unassigned", False, 200),
        ("GET", f"{p}/seats", False, 200),
        ("GET", f"{p}/routes", False, routed),
        ("GET", f"{p}/coverage", False, routed),
        ("GET", f"{p}/xlsx", False, 200),
        ("GET", f"{p}/map", True, mapped),
        ("GET", f"{p}/map?province=520000", True, mapped),
        ("POST", f"{p}/map-link", True, 200),
    ]


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: str(c))
def test_resource_endpoints(short_cache_plan: PlannedTiny, caller: str | None) -> None:
    svc: Service = short_cache_plan.svc
    failures = []
    for method, path, viewer_ok, allowed in _endpoints(short_cache_plan):
        if caller is None:
            want = 401
        elif caller == OTHER:
            want = 404
        elif caller == "viewer" and not viewer_ok:
            want = 403
        else:
            want = allowed
        got = svc.client.request(method, path, headers=svc.headers(caller)).status_code
        if got != want:
            failures.append(f"{method} {path}: {got}, expected {want}")
    assert not failures, failures


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: str(c))
def test_lists_show_only_what_the_key_sees(
    short_cache_plan: PlannedTiny, caller: str | None
) -> None:
    svc: Service = short_cache_plan.svc
    h = svc.headers(caller)
    sees = caller in ("national", OWN, "viewer")
    for path, key, value, viewer_ok in (
        ("/api/v1/scenarios", "id", short_cache_plan.scenario_id, False),
        ("/api/v1/jobs", "id", short_cache_plan.job_id, False),
        ("/api/v1/plans", "id", short_cache_plan.plan_id, True),
    ):
        r = svc.client.get(path, headers=h)
        if caller is None:
            assert r.status_code == 401
        elif caller == "viewer" and not viewer_ok:
            assert r.status_code == 403
        else:
            assert r.status_code == 200
            assert (value in [x[key] for x in r.json()]) == sees, (caller, path)
    page = svc.client.get("/", headers=h)
    if caller is None:
        assert page.status_code == 401
        assert "Basic" in page.headers["www-authenticate"]
    else:
        assert page.status_code == 200
        assert (short_cache_plan.plan_id in page.text) == sees
        assert ("<h2>Scenarios</h2>" in page.text) == (caller != "viewer")


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: str(c))
def test_writes(short_cache_plan: PlannedTiny, caller: str | None) -> None:
    svc: Service = short_cache_plan.svc
    h = svc.headers(caller)
    up = svc.client.post(
        "/api/v1/scenarios", files=zip_part(zip_folder(short_cache_plan.tiny)), headers=h
    )
    start = svc.client.post(f"/api/v1/scenarios/{short_cache_plan.scenario_id}/plans", headers=h)
    want_up, want_start = {
        None: (401, 401),
        "viewer": (403, 403),
        OTHER: (403, 404),
        OWN: (200, 202),  # the same bytes as the fixture's scenario: answered with it
        "national": (200, 202),
    }[caller]
    assert (up.status_code, start.status_code) == (want_up, want_start), (up.text, start.text)
    if up.status_code == 200:
        assert up.json()["existing"] is True and up.json()["id"] == short_cache_plan.scenario_id
    if caller == OTHER:
        assert "520000" in up.json()["detail"]
    if start.status_code == 202:  # do not spend the CPU: cancel it
        jid = start.json()["job_id"]
        r = svc.client.post(f"/api/v1/jobs/{jid}/cancel", headers=h)
        assert r.status_code in (200, 409)


def test_both_key_headers_and_basic_auth(short_cache_plan: PlannedTiny) -> None:
    svc: Service = short_cache_plan.svc
    key = svc.keys["national"]
    path = f"/api/v1/scenarios/{short_cache_plan.scenario_id}"
    assert svc.client.get(path, headers={"X-API-Key": key}).status_code == 200
    assert svc.client.get(path, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert svc.client.get(path, auth=("anyone", key)).status_code == 200
    bad = svc.client.get(path, headers={"X-API-Key": key + "x"})
    assert bad.status_code == 401 and "unknown" in bad.json()["detail"]


def test_revoked_key_stops_working(short_cache_plan: PlannedTiny) -> None:
    svc: Service = short_cache_plan.svc
    from api.core.api_keys import create_key

    app = svc.client.app  # type: ignore[attr-defined]
    with app.state.sessions() as session:
        row, key = create_key(session, "national")
        path = f"/api/v1/scenarios/{short_cache_plan.scenario_id}"
        assert svc.client.get(path, headers={"X-API-Key": key}).status_code == 200
        revoke_key(session, row.prefix)
    time.sleep(1.1)  # key lookups are cached for key_cache_seconds
    assert svc.client.get(path, headers={"X-API-Key": key}).status_code == 401


def test_signed_map_link(short_cache_plan: PlannedTiny, tmp_path: Path) -> None:
    svc: Service = short_cache_plan.svc
    pid = short_cache_plan.plan_id
    link = svc.client.post(
        f"/api/v1/plans/{pid}/map-link",
        params={"province": "520000", "seconds": 60},
        headers=svc.headers("viewer"),
    ).json()
    assert link["expires"] == pytest.approx(time.time() + 60, abs=5)
    url = urlsplit(link["url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["province"] == "520000"
    page = svc.client.get(url.path, params=query)  # no key needed
    assert page.status_code == 200 and "<html" in page.text.lower()
    for tamper in (
        {"province": "530000"},
        {"expires": str(int(query["expires"]) + 1)},
        {"signature": "0" * 64},
    ):
        r = svc.client.get(url.path, params={**query, **tamper})
        assert r.status_code == 403, tamper
    other = svc.client.get(f"/api/v1/plans/{'f' * 32}/map", params=query)
    assert other.status_code == 403
    assert svc.client.get(url.path).status_code == 401
    # an expired link, signed with the service's own key
    from api.services.results import sign_map

    settings: Settings = svc.settings
    expires, sig = sign_map(settings.secret(), pid, None, -10, query["key"])
    r = svc.client.get(url.path, params={"expires": expires, "key": query["key"], "signature": sig})
    assert r.status_code == 403 and "expired" in r.json()["detail"]
