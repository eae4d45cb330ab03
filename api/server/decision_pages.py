"""The office's decisions on the pages (issue 25): decide from the who-goes-where table,
re-plan with the decisions, compare versions, and explain an applicant's placement.

- ``POST /office/plans/{id}/decisions`` adds a decision (assign / forbid / close / exclude)
  to the plan's pending set, checked against the rules as it is added
  (:func:`api.services.decisions.add`); a refusal answers the decisions page naming the
  decision and the rule (422, or 409 for a decision taken already).
  ``POST .../decisions/{n}/remove`` takes one out; ``GET /office/plans/{id}/decisions`` lists
  them; ``POST /office/plans/{id}/replan`` ("按这些调整重新编制") starts the plan job with
  the pins and this plan as baseline (:func:`api.services.jobs.create_job`, as the API does).
- ``GET /office/scenarios/{id}/versions``: the scenario's plans in order with their decisions
  and prices; ``GET /office/scenarios/{id}/compare?before=&after=``: two of them side by side,
  and ``.../compare/map`` the map of the moves (:mod:`maps.moves`).
- ``GET /office/plans/{id}/applicants/{aid}``: "why not my first choice", from
  :meth:`planner.Plan.explain`.

Every form carries the CSRF token and is refused from another origin
(:func:`api.server.pages.checked_form`); every write is audited (``decide``, ``plan``).
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.core.api_keys import Principal
from api.core.audit import Event, outcome_of, role_of
from api.core.errors import Conflict, Invalid, ServiceError
from api.server.deps import (
    AuditNote,
    RunnerDep,
    SessionDep,
    SettingsDep,
    audited,
    record,
    session_principal,
)
from api.server.pages import PREFIX, CheckedForm, OfficeDep, _safe_next, page
from api.server.problems import STATUS as HTTP_STATUS
from api.server.times import local_time
from api.services import decisions, jobs, plans, scope, storage
from geodata.shown import place_name
from planner import i18n
from planner.i18n import _
from planner.labels import PIN_ACTION, STATUS, VERSION_CHANGE

decision_pages = APIRouter(prefix=PREFIX, include_in_schema=False)

Id = Annotated[str, Form(max_length=64)]
ROWS_SHOWN = 1000
"""Rows of a comparison shown on the page (all are counted)."""


def pending_rows(session: Any, who: Principal, plan_id: str) -> list[dict[str, Any]]:
    """The plan's pending decisions for a page: id, words, action label."""
    return [
        {"id": d.id, "text": d.text.render(), "action": PIN_ACTION.label(d.pin.action)}
        for d in decisions.pending(session, who, plan_id)
    ]


def _audit(request: Request, who: Principal, plan_id: str, status: int, detail: str) -> None:
    prefix, role, province = role_of(who)
    record(request, Event("decide", outcome_of(status), key_prefix=prefix, role=role,
                          province=province, object_id=plan_id, detail=detail[:200],
                          status=status))  # fmt: skip


def _decisions_page(
    request: Request,
    session: Any,
    settings: Any,
    who: Principal,
    plan_id: str,
    refusal: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    _, scenario = plans.get_plan(session, who, plan_id)
    folder = decisions.allocation_folder(settings, plan_id)
    return page(
        request,
        settings,
        "decisions.html",
        who,
        status=status,
        plan_id=plan_id,
        scenario={"id": scenario.id, "name": scenario.name},
        pending=pending_rows(session, who, plan_id),
        carried=[decisions.pin_text(p).render() for p in decisions.own_pins(folder)],
        actions=[(code, PIN_ACTION.label(code)) for code in PIN_ACTION.codes],
        refusal=refusal,
    )


@decision_pages.get(
    "/plans/{plan_id}/decisions", response_class=HTMLResponse, name="office_decisions"
)
def decisions_page(
    plan_id: str, request: Request, session: SessionDep, settings: SettingsDep, who: OfficeDep
) -> HTMLResponse:
    """The plan's pending decisions, those it was made under, a form to add one, the
    re-plan button."""
    return _decisions_page(request, session, settings, who, plan_id)


@decision_pages.post("/plans/{plan_id}/decisions", dependencies=[CheckedForm])
def add_decision(
    plan_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    who: OfficeDep,
    action: Annotated[str, Form(max_length=40)] = "",
    applicant_id: Id = "",
    post_id: Id = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Add a decision once it keeps the rules; back to ``next`` (the table), else the
    decisions page naming the refusal and its rule."""
    try:
        plans.get_plan(session, who, plan_id)  # the scope before the form's content
        pin = decisions.parse(action, applicant_id, post_id)
        decisions.add(session, settings, who, plan_id, pin)
    except ServiceError as exc:
        status = HTTP_STATUS.get(type(exc), 422)
        _audit(request, who, plan_id, status, exc.audit or "refused")
        if not isinstance(exc, Invalid | Conflict):
            raise
        rule = exc.extra.get("rule", "")
        refusal = {
            "message": exc.detail,
            "rule": rule,
            "rule_name": decisions.rule_text(rule).render() if rule else "",
        }
        return _decisions_page(request, session, settings, who, plan_id, refusal, status)
    _audit(request, who, plan_id, 303, f"add {pin.describe()}")
    target = _safe_next(next) if next else f"{PREFIX}/plans/{plan_id}/decisions"
    return RedirectResponse(target, status_code=303)


@decision_pages.post("/plans/{plan_id}/decisions/{decision_id}/remove", dependencies=[CheckedForm])
def remove_decision(
    plan_id: str,
    decision_id: int,
    request: Request,
    session: SessionDep,
    who: OfficeDep,
    next: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """Take a decision out of the pending set."""
    gone = decisions.remove(session, who, plan_id, decision_id)
    _audit(request, who, plan_id, 303, f"remove {gone.pin.describe()}")
    target = _safe_next(next) if next else f"{PREFIX}/plans/{plan_id}/decisions"
    return RedirectResponse(target, status_code=303)


@decision_pages.post(
    "/plans/{plan_id}/replan", name="office_replan", status_code=303, dependencies=[CheckedForm]
)
def replan(
    plan_id: str,
    note: Annotated[AuditNote, Depends(audited("plan", caller=session_principal))],
    session: SessionDep,
    settings: SettingsDep,
    runner: RunnerDep,
    who: OfficeDep,
) -> RedirectResponse:
    """Start the plan job with the plan's decisions (its own and the pending ones) and this
    plan as the baseline, as ``POST /api/v1/scenarios/{id}/plans`` does; the pending set
    goes into the job (and empties)."""
    _, scenario = plans.get_plan(session, who, plan_id)
    pins = decisions.replan_pins(session, settings, who, plan_id)
    job = jobs.create_job(
        session, settings, who, scenario.id, None, None, i18n.language(), pins, plan_id
    )
    decisions.clear(session, plan_id)
    runner.wake()
    note.object_id, note.detail = job.id, f"scenario {scenario.id}, {len(pins)} pins on {plan_id}"
    return RedirectResponse(f"{PREFIX}/jobs/{job.id}", status_code=303)


# --- versions and comparison ---------------------------------------------------------------


def _money(value: float | None, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


@decision_pages.get("/plans/{plan_id}/versions", name="office_plan_versions")
def plan_versions(plan_id: str, session: SessionDep, who: OfficeDep) -> RedirectResponse:
    """The versions page of the plan's scenario."""
    _, scenario = plans.get_plan(session, who, plan_id)
    return RedirectResponse(f"{PREFIX}/scenarios/{scenario.id}/versions", status_code=303)


@decision_pages.get(
    "/scenarios/{scenario_id}/versions", response_class=HTMLResponse, name="office_versions"
)
def versions_page(
    scenario_id: str, request: Request, session: SessionDep, settings: SettingsDep, who: OfficeDep
) -> HTMLResponse:
    """The scenario's plans in order: their decisions, the plan they were set on, objective
    and the price of the decisions; a form to compare any two."""
    scenario = scope.get_scenario(session, who, scenario_id)
    found = decisions.versions(session, settings, who, scenario_id)
    number = {v.plan_id: v.number for v in found}
    rows = [
        {
            "number": v.number,
            "plan_id": v.plan_id,
            "created": local_time(v.created_at, settings.time_zone),
            "baseline": number.get(v.baseline_id or ""),
            "pins": [decisions.pin_text(p).render() for p in v.pins],
            "objective": _money(v.objective),
            "pins_cost": _money(v.pins_cost, signed=True),
            "placed": v.placed if v.placed is not None else "",
            "status": STATUS.label(v.status) if v.status else "",
        }
        for v in found
    ]
    return page(
        request,
        settings,
        "versions.html",
        who,
        scenario={"id": scenario.id, "name": scenario.name},
        versions=rows,
        before=rows[-2]["plan_id"] if len(rows) > 1 else "",
        after=rows[-1]["plan_id"] if rows else "",
    )


def _place(post: str, county: str, towns: dict[str, tuple[str, str]]) -> str:
    """``county township (post)`` of a post (its own county, whatever ``county`` says)."""
    if not post:
        return ""
    county, town = towns.get(post, (county, ""))
    return f"{place_name(county) or county} {town} ({post})".replace("  ", " ")


CODE = re.compile(r"(?<![\d（(])(\d{6})(?![\d）)])")
"""A six-digit area code in a text, not already in brackets after its name."""


def named(text: str) -> str:
    """``text`` with each area code it names bare shown as ``name（code）``."""

    def name(m: re.Match[str]) -> str:
        found = place_name(m[1])
        return _("{name} ({code})", name=found, code=m[1]) if found else m[1]

    return CODE.sub(name, text)


PlanQ = Annotated[str, Query(max_length=40)]


@decision_pages.get(
    "/scenarios/{scenario_id}/compare", response_class=HTMLResponse, name="office_compare"
)
def compare_page(
    scenario_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    who: OfficeDep,
    before: PlanQ = "",
    after: PlanQ = "",
) -> HTMLResponse:
    """Two versions side by side: the counts, who moved, who is newly placed, who is no
    longer placed, the counties whose numbers changed, and the link to the map."""
    scenario = scope.get_scenario(session, who, scenario_id)
    found = decisions.versions(session, settings, who, scenario_id)
    before, after = _pair(found, before, after)
    c = decisions.compare(session, settings, who, after, before)
    number = {v.plan_id: v.number for v in found}
    towns = _townships(settings, before) | _townships(settings, after)
    rows = [
        {
            "applicant_id": str(r["applicant_id"]),
            "change": str(r["change"]),
            "change_text": VERSION_CHANGE.label(str(r["change"])),
            "before": _place(str(r["before_post"]), str(r["before_county"]), towns),
            "after": _place(str(r["after_post"]), str(r["after_county"]), towns),
        }
        for r in c.rows.head(ROWS_SHOWN).to_dict(orient="records")
    ]
    counties = [
        {
            "code": str(r["county_code"]),
            "name": place_name(r["county_code"]) or str(r["county_code"]),
            "before": int(r["before"]),
            "after": int(r["after"]),
            "change": f"{int(r['after']) - int(r['before']):+d}",
        }
        for r in c.counties.to_dict(orient="records")
    ]
    return page(
        request,
        settings,
        "compare.html",
        who,
        scenario={"id": scenario.id, "name": scenario.name},
        before={"id": before, "number": number.get(before)},
        after={"id": after, "number": number.get(after)},
        counts=[(k, VERSION_CHANGE.label(k), n) for k, n in c.counts.items()],
        rows=rows,
        more=max(0, len(c.rows) - ROWS_SHOWN),
        counties=counties,
        map_url=f"{PREFIX}/scenarios/{scenario.id}/compare/map?before={before}&after={after}",
    )


def _pair(found: list[decisions.Version], before: str, after: str) -> tuple[str, str]:
    """The plans to compare: those asked for, else the newest version and the one it was set
    on (else the one before it; a single version against itself)."""
    if after and before:
        return before, after
    if not found:
        return before, after
    newest = next((v for v in found if v.plan_id == after), found[-1])
    earlier = [v.plan_id for v in found if v.number < newest.number]
    default = newest.baseline_id or (earlier[-1] if earlier else newest.plan_id)
    return before or default, newest.plan_id


def _townships(settings: Any, plan_id: str) -> dict[str, tuple[str, str]]:
    """Post id -> (county code, township name) of a plan's posts."""
    from api.services import results

    seats = results.table(storage.plan_dir(settings, plan_id), "seats", limit=1 << 40).frame
    return {
        str(p): (str(c), str(t))
        for p, c, t in zip(
            seats["post_id"], seats["county_code"], seats["township_name"], strict=True
        )
    }


@decision_pages.get(
    "/scenarios/{scenario_id}/compare/map",
    name="office_compare_map",
    dependencies=[Depends(audited("download", "moves map", caller=session_principal))],
)
async def compare_map(
    scenario_id: str,
    request: Request,
    settings: SettingsDep,
    who: OfficeDep,
    before: PlanQ = "",
    after: PlanQ = "",
) -> Response:
    """The map of the moves from ``before`` to ``after`` (drawn once per language)."""
    from api.server.common import page_file_response

    lang = i18n.language()

    def draw() -> Any:
        from maps.moves import write_moves

        nonlocal before, after
        with request.app.state.sessions() as session:
            scope.get_scenario(session, who, scenario_id)
            found = decisions.versions(session, settings, who, scenario_id)
            before, after = _pair(found, before, after)
            decisions.compare(session, settings, who, after, before)  # scope, same scenario
        folder = decisions.allocation_folder(settings, after)
        path = folder / f"moves-{before}-{lang}.html"
        if not path.is_file():
            old = decisions.loaded_plan(decisions.allocation_folder(settings, before))
            new = decisions.loaded_plan(folder)
            with i18n.speaking(lang):
                write_moves(old, new, path)
        return path

    return await page_file_response(request, await run_in_threadpool(draw))


# --- an applicant's explanation ------------------------------------------------------------


@decision_pages.get(
    "/plans/{plan_id}/applicants/{applicant_id}",
    response_class=HTMLResponse,
    name="office_explanation",
    dependencies=[Depends(audited("download", "explanation", caller=session_principal))],
)
def explanation_page(
    plan_id: str,
    applicant_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    who: OfficeDep,
) -> HTMLResponse:
    """Why an applicant is where the plan put him, and why not his first choice: per
    preference whether it is feasible, the reason, the exact extra cost."""
    e = decisions.explanation(session, settings, who, plan_id, applicant_id)
    towns = _townships(settings, plan_id)
    rows = []
    for r in e.alternatives.to_dict(orient="records"):
        extra = r["extra_cost"]
        rows.append(
            {
                "choice": _choice(str(r["choice"])),
                "county": place_name(r["county_code"]) or r["county_code"],
                "post": _place(str(r["post_id"]), str(r["county_code"]), towns),
                "feasible": _("yes") if r["feasible"] else _("no"),
                "extra": _money(extra, signed=True) if extra == extra else "",
                "reason": named(str(r["reason"])),
                "code": r["reason_code"],
            }
        )
    first = next((r for r in rows if r["choice"] == _choice("pref_1")), None)
    return page(
        request,
        settings,
        "explanation.html",
        who,
        plan_id=plan_id,
        applicant_id=applicant_id,
        placed=_place(e.post_id, e.county_code, towns),
        rank=e.preference_rank,
        cost=_money(e.cost),
        unplaced=e.unplaced_reason,
        first=first,
        rows=rows,
    )


def _choice(code: str) -> str:
    if code.startswith("pref_"):
        return _("preference {n}", n=int(code.removeprefix("pref_")))
    return _("not placed at all")


__all__ = ["decision_pages", "pending_rows"]
