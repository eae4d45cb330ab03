"""The access matrix, generated from the app's route table: every route, called by every role
(no key, viewer, national, the scenario's own province, another province), answers the
status its rule expects. A route without a rule fails the test, so a new endpoint cannot
ship without one; the table in ``docs/security.md`` is generated from the same rules and must
be current (``python -m tests.api.server.test_api_access_matrix`` rewrites it).

The office pages (``/office``) are called as a browser calls them: signed in with the role's
key (a session cookie; "no key" = not signed in) and, for a form, with the page's CSRF token.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from api.core.api_keys import create_key
from api.core.settings import Settings
from api.server.app import create_app
from tests.support.api import (
    XLSX,
    Browser,
    PlannedTiny,
    Service,
    planned_tiny,
    zip_folder,
    zip_part,
)
from tests.support.paths import REPO
from tests.support.workbooks import workbook_of

OWN, OTHER = "province:520000", "province:530000"
ROLES: tuple[tuple[str, str | None], ...] = (
    ("no key", None),
    ("viewer", "viewer"),
    ("national", "national"),
    ("own province", OWN),
    ("other province", OTHER),
)
DOC = REPO / "docs" / "security.md"
SWEEP = ["weights.preference_rank=5"]
"""The sweep of the matrix: the base and one variant."""
START, END = "<!-- access-matrix:start -->", "<!-- access-matrix:end -->"


@dataclass(frozen=True)
class Rule:
    """Who may call a route and what an allowed call answers.

    ``who``: ``public`` (no key needed), ``any`` (any key, viewers too), ``office`` (national
    and province keys), ``national``. ``scoped``: the route names a scenario, job or plan,
    which does not exist for another province's key (404). ``other`` overrides the answer
    to another province's key (an upload of a scenario outside its province: 403). ``anon``
    overrides the answer without a key (an office page sends the browser to the sign-in:
    303).
    """

    who: str
    ok: int = 200
    scoped: bool = False
    other: int | None = None
    anon: int | None = None
    note: str = ""

    def expect(self, role: str | None) -> int:
        """The status ``role`` gets."""
        if role is None and self.anon is not None:
            return self.anon
        if self.who == "public":
            return self.ok
        if role is None:
            return 401
        if self.who == "national":
            return self.ok if role == "national" else 403
        if self.who == "office" and role == "viewer":
            return 403
        if role == OTHER:
            if self.other is not None:
                return self.other
            if self.scoped:
                return 404
        return self.ok


P = "/api/v1/plans/{plan_id}"
RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/openapi.json"): Rule("public"),
    ("GET", "/docs"): Rule("public"),
    ("GET", "/docs/oauth2-redirect"): Rule("public"),
    ("GET", "/docs/assets/{asset}"): Rule(
        "public", note="the docs pages' bundles, from make assets"
    ),
    ("GET", "/redoc"): Rule("public"),
    ("GET", "/healthz"): Rule("public"),
    ("GET", "/readyz"): Rule("public"),
    ("GET", "/"): Rule("any", note="lists only what the key sees"),
    ("POST", "/api/v1/scenarios"): Rule(
        "office", 201, other=403, note="a Guizhou scenario; other provinces 403 naming it"
    ),
    ("GET", "/api/v1/scenarios"): Rule("office", note="lists only what the key sees"),
    ("GET", "/api/v1/roads"): Rule("office", note="the server's road networks, by name"),
    ("GET", "/api/v1/scenarios/{scenario_id}"): Rule("office", scoped=True),
    ("DELETE", "/api/v1/scenarios/{scenario_id}"): Rule(
        "office", scoped=True, note="with its plans; a Guizhou scenario uploaded for the call"
    ),
    ("POST", "/api/v1/scenarios/{scenario_id}/plans"): Rule("office", 202, scoped=True),
    ("POST", "/api/v1/scenarios/{scenario_id}/sweeps"): Rule("office", 202, scoped=True),
    ("GET", "/api/v1/jobs"): Rule("office", note="lists only what the key sees"),
    ("GET", "/api/v1/jobs/{job_id}"): Rule("office", scoped=True),
    ("POST", "/api/v1/jobs/{job_id}/cancel"): Rule(
        "office", 409, scoped=True, note="409: the job has finished"
    ),
    ("GET", "/api/v1/plans"): Rule("any", note="lists only what the key sees"),
    ("GET", P): Rule("office", scoped=True),
    ("GET", f"{P}/summary"): Rule("any", scoped=True),
    ("GET", f"{P}/budget"): Rule("office", scoped=True),
    ("GET", f"{P}/assignments"): Rule("office", scoped=True),
    ("GET", f"{P}/unassigned"): Rule("office", scoped=True),
    ("GET", f"{P}/seats"): Rule("office", scoped=True),
    ("GET", f"{P}/coverage"): Rule("office", scoped=True),
    ("GET", f"{P}/routes"): Rule("office", scoped=True),
    ("GET", f"{P}/xlsx"): Rule("office", scoped=True),
    ("GET", f"{P}/map"): Rule("any", scoped=True, note="or, without a key, a signed link"),
    ("POST", f"{P}/map-link"): Rule("any", scoped=True),
    ("GET", "/api/v1/sweeps"): Rule("any", note="lists only what the key sees"),
    ("GET", "/api/v1/sweeps/{sweep_id}"): Rule("any", scoped=True),
    ("GET", "/api/v1/sweeps/{sweep_id}/csv"): Rule("any", scoped=True),
    ("GET", "/api/v1/sweeps/{sweep_id}/page"): Rule("any", scoped=True),
    ("GET", "/api/v1/audit"): Rule("national"),
}
OFFICE = "/office"
SIGN_IN = "303: to the sign-in page"
RULES |= {
    ("GET", f"{OFFICE}/sign-in"): Rule("public", note="the sign-in form"),
    ("POST", f"{OFFICE}/sign-in"): Rule(
        "public", 303, anon=401, note="303 into the pages with a valid key; else 401 and the form"
    ),
    ("POST", f"{OFFICE}/sign-out"): Rule("any", 303, anon=303),
    ("POST", f"{OFFICE}/language"): Rule("public", 303, note="the language switch (a cookie)"),
    ("GET", f"{OFFICE}/static/{{name}}"): Rule("public", note="the pages' CSS and script"),
    ("GET", OFFICE): Rule("any", anon=303, note=f"lists only what the key sees; {SIGN_IN}"),
    ("POST", f"{OFFICE}/scenarios"): Rule(
        "office", 303, other=403, anon=303, note="the upload form (a Guizhou workbook)"
    ),
    ("GET", f"{OFFICE}/scenarios/{{scenario_id}}"): Rule("office", scoped=True, anon=303),
    ("POST", f"{OFFICE}/scenarios/{{scenario_id}}/delete"): Rule(
        "office", 303, scoped=True, anon=303, note="the delete button (box ticked), as the API's"
    ),
    ("POST", f"{OFFICE}/scenarios/{{scenario_id}}/plans"): Rule(
        "office", 303, scoped=True, anon=303, note="303 to the job's page"
    ),
    ("GET", f"{OFFICE}/jobs/{{job_id}}"): Rule("office", scoped=True, anon=303),
    ("GET", f"{OFFICE}/jobs/{{job_id}}/progress"): Rule("office", scoped=True, anon=303),
    ("GET", f"{OFFICE}/plans/{{plan_id}}"): Rule("any", scoped=True, anon=303),
    ("GET", f"{OFFICE}/plans/{{plan_id}}/map"): Rule("any", scoped=True, anon=303),
    ("GET", f"{OFFICE}/plans/{{plan_id}}/xlsx"): Rule("office", scoped=True, anon=303),
    ("GET", f"{OFFICE}/template"): Rule("any", anon=303, note="the empty scenario workbook"),
    ("GET", f"{OFFICE}/keys"): Rule("national", anon=303, note="the keys and their forms"),
    ("POST", f"{OFFICE}/keys"): Rule("national", 201, anon=303, note="makes a key, shown once"),
    ("POST", f"{OFFICE}/keys/{{prefix}}/revoke"): Rule(
        "national", 303, anon=303, note="a spare key of the matrix"
    ),
    ("GET", "/api/v1/template"): Rule("any", note="the empty scenario workbook"),
    ("GET", f"{OFFICE}/plans/{{plan_id}}/placements"): Rule("office", scoped=True, anon=303),
    ("GET", f"{OFFICE}/plans/{{plan_id}}/placements.xlsx"): Rule("office", scoped=True, anon=303),
    ("GET", f"{P}/placements"): Rule("office", scoped=True, note="who goes where, JSON pages"),
    ("GET", f"{P}/applicants/{{applicant_id}}/explanation"): Rule(
        "office", scoped=True, note="exact price of each preference"
    ),
    ("GET", f"{P}/diff/{{other_id}}"): Rule("office", scoped=True, note="two plans side by side"),
    ("GET", f"{OFFICE}/plans/{{plan_id}}/decisions"): Rule("office", scoped=True, anon=303),
    ("POST", f"{OFFICE}/plans/{{plan_id}}/decisions"): Rule(
        "office", 422, scoped=True, anon=303, note="422: a form without a decision"
    ),
    ("POST", f"{OFFICE}/plans/{{plan_id}}/decisions/{{decision_id}}/remove"): Rule(
        "office", 404, scoped=True, anon=303, note="404: no such decision"
    ),
    ("POST", f"{OFFICE}/plans/{{plan_id}}/replan"): Rule(
        "office", 422, scoped=True, anon=303, note="422: no decision pending"
    ),
    ("GET", f"{OFFICE}/plans/{{plan_id}}/versions"): Rule(
        "office", 303, scoped=True, anon=303, note="303 to its scenario's versions"
    ),
    ("GET", f"{OFFICE}/scenarios/{{scenario_id}}/versions"): Rule("office", scoped=True, anon=303),
    ("GET", f"{OFFICE}/scenarios/{{scenario_id}}/compare"): Rule(
        "office", scoped=True, anon=303, note="the newest version and the one before"
    ),
    ("GET", f"{OFFICE}/scenarios/{{scenario_id}}/compare/map"): Rule(
        "office", scoped=True, anon=303, note="the map of the moves"
    ),
    ("GET", f"{OFFICE}/plans/{{plan_id}}/applicants/{{applicant_id}}"): Rule(
        "office", scoped=True, anon=303, note="why not the first choice"
    ),
}


def app_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves, HEAD aside, from its route table."""
    found = []
    for route in app.routes:
        # FastAPI >= 0.120 keeps included routers as one entry with effective route contexts
        expand = getattr(route, "effective_route_contexts", None)
        for r in expand() if expand else [route]:
            methods = getattr(r, "methods", None)
            if methods is None:
                raise AssertionError(f"route {r!r} is not a plain route; give it a rule here")
            found += [(m, r.path) for m in sorted(methods - {"HEAD"})]
    return found


def matrix_markdown(routes: list[tuple[str, str]]) -> str:
    """The table of ``docs/security.md``."""
    lines = [
        "| method | path | " + " | ".join(name for name, _ in ROLES) + " | note |",
        "| --- | --- | " + " | ".join("---" for _ in ROLES) + " | --- |",
    ]
    for method, path in routes:
        rule = RULES[(method, path)]
        cells = " | ".join(str(rule.expect(role)) for _, role in ROLES)
        lines.append(f"| {method} | `{path}` | {cells} | {rule.note} |")
    return "\n".join(lines)


def _bare_routes() -> list[tuple[str, str]]:
    return app_routes(create_app(Settings(data_dir=Path("unused"))))


def test_every_route_has_a_rule() -> None:
    routes = _bare_routes()
    missing = [r for r in routes if r not in RULES]
    assert not missing, f"routes without an access rule (add them to RULES): {missing}"
    stale = [r for r in RULES if r not in routes]
    assert not stale, f"rules for routes that no longer exist: {stale}"


def test_a_new_route_without_a_rule_is_found() -> None:
    from fastapi import APIRouter

    app = create_app(Settings(data_dir=Path("unused")))
    extra = APIRouter(prefix="/api/v1")
    extra.add_api_route("/secrets", lambda: {}, methods=["GET", "DELETE"])
    app.include_router(extra)
    app.add_api_route("/top", lambda: {}, methods=["GET"])
    missing = [r for r in app_routes(app) if r not in RULES]
    assert sorted(missing) == [("DELETE", "/api/v1/secrets"), ("GET", "/api/v1/secrets"),
                               ("GET", "/top")]  # fmt: skip


def test_the_documented_matrix_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(re.escape(START) + r"\n(.*?)\n" + re.escape(END), text, flags=re.S)
    assert found, f"{DOC} has no {START} ... {END} section"
    assert found.group(1) == matrix_markdown(_bare_routes()), (
        "docs/security.md is out of date: run `.venv/bin/python -m tests.api.server.test_api_access_matrix`"
    )


@dataclass(frozen=True)
class MatrixService:
    """The Guizhou office's tiny plan and every id a route may name (its scenario, job, plan, a
    sweep, an applicant, a spare key, an asset), the scenario as a workbook, and each role's
    browser, signed in once and kept."""

    plan: PlannedTiny
    book: Path
    ids: Mapping[str, str]
    browsers: dict[str | None, Browser] = field(default_factory=dict)


@pytest.fixture(scope="module")
def swept_plan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MatrixService]:
    """The tiny plan, swept once, with a spare viewer key: a value for every id of a route."""
    with planned_tiny(tmp_path_factory.mktemp("matrix")) as plan:
        svc = plan.svc
        ids = {
            "scenario_id": plan.scenario_id,
            "job_id": plan.job_id,
            "plan_id": plan.plan_id,
            "name": "office.css",
            "asset": "favicon.png",
        }
        ids["sweep_id"] = svc.sweep(plan.scenario_id, SWEEP, OWN)
        ids["other_id"] = plan.plan_id  # a plan against itself
        ids["decision_id"] = "0"  # no such pending decision
        placed = (plan.plan_folder / "assignments.csv").read_text(encoding="utf-8-sig")
        ids["applicant_id"] = placed.splitlines()[1].split(",")[0]
        with svc.client.app.state.sessions() as session:  # type: ignore[attr-defined]
            ids["prefix"] = create_key(session, "viewer", name="spare")[0].prefix
        yield MatrixService(plan, workbook_of(plan.tiny, plan.tmp / "tiny.xlsx", "zh-CN"), ids)


def _browser(w: MatrixService, role: str | None) -> Browser:
    """The role's browser, signed in with its key (none for no key)."""
    found: Browser | None = w.browsers.get(role)
    if found is None or not found.signed_in:
        found = Browser.signed_in_as(w.plan.svc, role)
        w.browsers[role] = found
    return found


def _ids(w: MatrixService, method: str, path: str) -> dict[str, str]:
    """The ids a call names: a deletion gets a Guizhou scenario of its own, uploaded for it."""
    if method != "DELETE" and not path.endswith("/delete"):
        return dict(w.ids)
    svc: Service = w.plan.svc
    data = zip_folder(w.plan.tiny, top=f"tiny-{uuid.uuid4().hex[:8]}")  # bytes of its own
    r = svc.client.post("/api/v1/scenarios", files=zip_part(data), headers=svc.headers(OWN))
    assert r.status_code == 201, r.text
    return {**w.ids, "scenario_id": r.json()["id"]}


def _call_page(w: MatrixService, method: str, path: str, role: str | None) -> int:
    svc: Service = w.plan.svc
    browser = _browser(w, role)
    url = path.format(**_ids(w, method, path))
    if method == "GET":
        return browser.client.get(url, follow_redirects=False).status_code
    data: dict[str, str] = {}
    files: dict[str, Any] | None = None
    if path == f"{OFFICE}/sign-in":
        data = {"key": "" if role is None else svc.keys[role]}
    elif path == f"{OFFICE}/language":
        data = {"lang": "en"}
    elif path == f"{OFFICE}/keys":
        data = {"role": "viewer", "name": "matrix"}
    elif path == f"{OFFICE}/scenarios":
        files = {"file": ("tiny.xlsx", w.book.read_bytes(), XLSX)}
    elif path.endswith("/delete"):
        data = {"confirm": "yes"}
    r = browser.post(url, data, files)
    location = r.headers.get("location", "")
    if location.startswith(f"{OFFICE}/jobs/"):  # spend no CPU on the queued job
        job = location.rsplit("/", 1)[1]
        svc.client.post(f"/api/v1/jobs/{job}/cancel", headers=svc.headers("national"))
    if path == f"{OFFICE}/sign-out":
        browser.signed_in = False
    return r.status_code


def _call(w: MatrixService, method: str, path: str, role: str | None) -> int:
    if path == OFFICE or path.startswith(f"{OFFICE}/"):
        return _call_page(w, method, path, role)
    svc: Service = w.plan.svc
    url = path.format(**_ids(w, method, path))
    kwargs: dict[str, Any] = {"headers": svc.headers(role)}
    if (method, path) == ("POST", "/api/v1/scenarios"):
        # bytes of its own per call: the same bytes again would answer the stored one (200)
        kwargs["files"] = zip_part(zip_folder(w.plan.tiny, top=f"tiny-{uuid.uuid4().hex[:8]}"))
    if (method, path) == ("POST", "/api/v1/scenarios/{scenario_id}/sweeps"):
        kwargs["json"] = {"vary": SWEEP}
    r = svc.client.request(method, url, **kwargs)
    if r.status_code == 202 and "job_id" in r.json():  # spend no CPU on the queued job
        svc.client.post(f"/api/v1/jobs/{r.json()['job_id']}/cancel", headers=svc.headers(role))
    return r.status_code


@pytest.mark.parametrize(("name", "role"), ROLES, ids=[n for n, _ in ROLES])
def test_every_route_answers_as_its_rule_says(
    swept_plan: MatrixService, name: str, role: str | None
) -> None:
    svc: Service = swept_plan.plan.svc
    routes = app_routes(svc.client.app)  # type: ignore[attr-defined]
    failures = []
    for method, path in routes:
        rule = RULES.get((method, path))
        if rule is None:
            failures.append(f"{method} {path}: no rule")
            continue
        got, want = _call(swept_plan, method, path, role), rule.expect(role)
        if got != want:
            failures.append(f"{method} {path}: {got}, expected {want}")
    assert not failures, f"{name}: {failures}"


def write_doc() -> None:
    """Rewrite the matrix section of ``docs/security.md``."""
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(START) + len(START), text.index(END)
    DOC.write_text(text[:start] + "\n" + matrix_markdown(_bare_routes()) + "\n" + text[end:])
    sys.stdout.write(f"wrote the access matrix into {DOC}\n")


if __name__ == "__main__":
    write_doc()
